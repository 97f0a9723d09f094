"""The derivation framework: steps prove, fail on wrong claims, stay unchecked when undecidable."""

from __future__ import annotations

import sympy as sp

from theory.derivation import (
    Derivation,
    Equality,
    ExactAt,
    Induction,
    Inequality,
    Limit,
    Monotone,
)
from theory.symbols import F, eps, rho, u, x, y


def _der(*steps):
    return Derivation(name="t", statement=sp.Eq(x, x, evaluate=False), symbols=[x], assumptions="", steps=list(steps))


def test_equality_proved_and_failed():
    assert Equality("ok", (x + 1) ** 2, x**2 + 2 * x + 1).check().status == "proved"
    assert Equality("wrong constant", (x + 1) ** 2, x**2 + 3 * x + 1).check().status == "failed"


def test_inequality_sign_with_reparametrization():
    ok = Inequality(
        "eps < rho => rho - eps > 0", 0, "<", rho - eps, subs={eps: rho * u / (1 + u)}, conditions=[eps < rho]
    )
    assert ok.check().status == "proved"
    # the same reparametrization without the condition: the original relation is false (eps > rho), and the
    # falsifier on the unsubstituted relation must say so although the substituted form is positive
    undeclared = Inequality("rho - eps > 0 (domain not declared)", 0, "<", rho - eps, subs={eps: rho * u / (1 + u)})
    assert undeclared.check().status == "failed"
    bad = Inequality("x^2 >= x is false on (0, 1)", x, "<=", x**2)
    assert bad.check().status == "failed"


def test_unprovable_true_step_is_unchecked_not_passed():
    # x log x >= x - 1 holds for x > 0 but SymPy's assumptions cannot decide it
    step = Inequality("x log x >= x - 1", x * sp.log(x), ">=", x - 1)
    res = step.check()
    assert res.status == "unchecked"
    assert _der(step).check() == "unchecked"


def test_monotone_and_mutation():
    assert Monotone("ln(1+x) <= x", x, ">=", sp.log(1 + x), var=x).check().status == "proved"
    wrong = Monotone(
        "eps - ln(1+eps) >= eps^2/2 - eps^3/4 (false near 0)",
        eps - sp.log(1 + eps),
        ">=",
        eps**2 / 2 - eps**3 / 4,
        var=eps,
    )
    assert wrong.check().status == "failed"


def test_limit_step():
    assert Limit("x/(x+1)", x / (x + 1), x, sp.oo, 1).check().status == "proved"
    assert Limit("wrong", x / (x + 1), x, sp.oo, 2).check().status == "failed"


def test_exact_at_needs_exhaustive_for_proof():
    pts = [{x: sp.Rational(1, 2)}, {x: 3}]
    assert ExactAt("finite", x**2 + 1, ">", x, pts, exhaustive=True).check().status == "proved"
    assert ExactAt("sampled", x**2 + 1, ">", x, pts, exhaustive=False).check().status == "unchecked"
    assert ExactAt("false", x**2, ">", x, pts, exhaustive=True).check().status == "failed"


def test_induction_base_failure():
    inc = Monotone("ln(1+y) >= y/(1+y)", sp.log(1 + y), ">=", y / (1 + y), var=y)
    bad = Induction(
        "wrong upper bound",
        sp.log(sp.factorial(F)),
        "<=",
        (F + 1) * sp.log(F + 1) - F - 1,
        var=F,
        n0=1,
        increment=inc,
        increment_subs={y: 1 / (F + 1)},
        increment_factor=F + 2,
    )
    assert bad.check().status == "failed"


def test_statuses_and_latex_and_dict():
    d_ok = _der(Equality("a", x, x))
    d_fail = _der(Equality("a", x, x), Equality("b", x, 2 * x))
    assert d_ok.check() == "checked"
    assert d_fail.check() == "failed"
    dd = d_fail.to_dict()
    assert dd["status"] == "failed" and [s["status"] for s in dd["steps"]] == ["proved", "failed"]
    tex = d_ok.latex()
    assert tex.count("\\begin{enumerate}") == tex.count("\\end{enumerate}") == 1
    assert tex.count("{") == tex.count("}")
