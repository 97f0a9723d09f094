"""The sound checker: a derivation is checked only when its statement follows from its proved steps."""

from __future__ import annotations

import sympy as sp

from theory import jl
from theory.derivation import (
    Claim,
    Derivation,
    Equality,
    Induction,
    Inequality,
    Monotone,
    falsify_statement,
    statement_follows,
)
from theory.symbols import F, eps, rho, u, x, y


def _der(statement, *steps, domain=()):
    return Derivation(
        name="t", statement=statement, symbols=[x], assumptions="", steps=list(steps), domain=list(domain)
    )


def test_statement_must_be_a_step_relation_or_follow_from_them():
    step = Equality("square", (x + 1) ** 2, x**2 + 2 * x + 1)
    assert _der(sp.Eq((x + 1) ** 2, x**2 + 2 * x + 1, evaluate=False), step).check() == "checked"
    # same sides up to simplification, and the same relation written the other way round
    assert _der(sp.Eq(x**2 + 2 * x + 1, (1 + x) ** 2, evaluate=False), step).check() == "checked"
    # a true statement the step does not prove
    dv = _der(sp.Ge((x + 1) ** 2, 0), step)
    assert dv.check() == "unchecked"
    assert "does not follow" in dv.reason()


def test_chaining_respects_strictness():
    s1 = Inequality("x <= x + 1", x, "<=", x + 1)
    s2 = Inequality("x + 1 < x + 2", x + 1, "<", x + 2)
    s3 = Equality("x + 2 = 2 + x", x + 2, 2 + x)
    lt = sp.Lt(x, x + 2, evaluate=False)
    assert _der(lt, s1, s2, s3).check() == "checked"
    weak = Inequality("x + 1 <= x + 2", x + 1, "<=", x + 2)
    assert _der(sp.Le(x, x + 2, evaluate=False), s1, weak).check() == "checked"
    assert _der(lt, s1, weak).check() == "unchecked"  # no strict link
    # a statement SymPy evaluates to True at construction says nothing: never "checked"
    assert _der(sp.Lt(x, x + 2), s1, s2).check() == "unchecked"


def test_abs_statement_needs_both_sides():
    z = sp.Symbol("z", real=True)
    half = sp.Rational(1, 2)
    up = Inequality("z/(1+z^2) <= 1/2", z / (1 + z**2), "<=", half, certificate=(z - 1) ** 2 / (2 * (1 + z**2)))
    lo = Inequality("z/(1+z^2) >= -1/2", z / (1 + z**2), ">=", -half, certificate=(z + 1) ** 2 / (2 * (1 + z**2)))
    stmt = sp.Le(sp.Abs(z / (1 + z**2), evaluate=False), half)
    assert _der(stmt, up, lo).check() == "checked"
    assert _der(stmt, up).check() == "unchecked"


def test_step_conditions_must_be_hypotheses_or_domain():
    step = Monotone("ln(1+x) <= x (claimed for x <= 5 only)", x, ">=", sp.log(1 + x), var=x, conditions=[x <= 5])
    goal = sp.Ge(x, sp.log(1 + x))
    assert step.check().status == "proved"
    assert _der(goal, step).check() == "unchecked"  # the condition x <= 5 is nowhere stated
    assert _der(sp.Implies(x <= 5, goal), step).check() == "checked"
    assert _der(goal, step, domain=[x <= 5]).check() == "checked"
    assert _der(sp.Implies(x <= 6, goal), step).check() == "unchecked"  # a weaker hypothesis does not discharge it
    # a false statement whose step needs an unstated condition: the statement falsifier fails it
    pos = Inequality(
        "eps < rho => rho - eps > 0", 0, "<", rho - eps, subs={eps: rho * u / (1 + u)}, conditions=[eps < rho]
    )
    dv = _der(sp.Lt(0, rho - eps), pos)
    assert dv.check() == "failed" and dv.statement_result["counterexample"] is not None
    assert _der(sp.Implies(eps < rho, sp.Lt(0, rho - eps)), pos).check() == "checked"


def test_jl_statement_with_a_quarter_does_not_follow_even_without_the_falsifier():
    dv = jl.jl_vectors_derivation()
    facts = [f for st, res in zip(dv.steps, dv.step_results, strict=True) if res.status == "proved" for f in st.facts()]
    ok, _ = statement_follows(dv.statement, facts, dv.domain)
    assert ok
    quarter = sp.Implies(sp.Ge(jl.m, jl.M_VEC / 4), sp.Le(jl.n * jl.FAIL_ONE, jl.delta))
    ok, detail = statement_follows(quarter, facts, dv.domain)
    assert not ok and "does not follow" in detail


def test_half_domain_substitution_cannot_hide_a_false_relation():
    # 1/rho^2 * 120 >= 288/(rho^2 (3 - rho)) holds for rho < 3/5 only; the substitution covers (0, 1/2)
    lim = 288 / (rho**2 * (3 - rho))
    step = Inequality("false bound", lim, "<=", 120 / rho**2, subs={rho: 1 / (2 * (1 + u))}, conditions=[rho <= 1])
    res = step.check()
    assert res.status == "failed" and "does not cover" in res.detail
    # and the statement falsifier finds it on its own, over the whole stated domain
    pt, goal, n = falsify_statement(sp.Le(lim, 120 / rho**2), [rho <= 1], seed=3)
    assert pt is not None and n == 1 and sp.Rational(pt[rho]) > sp.Rational(3, 5)


def test_statement_falsifier_runs_after_a_proof():
    # every step proved, the statement follows syntactically... from a step whose domain was left out
    step = Inequality("x^2 >= x (only for x >= 1)", x, "<=", x**2, subs={x: 1 + u}, conditions=[x >= 1])
    dv = _der(sp.Le(x, x**2), step, domain=[x >= 1])
    assert dv.check() == "checked"
    bad = _der(sp.Le(x, x**2), step, domain=[x >= 1])
    bad.domain = []  # the statement now claims x <= x^2 for every x > 0
    assert bad.check(force=True) in ("failed", "unchecked")
    assert bad.statement_result["counterexample"] is not None


def test_induction_without_the_increment_match_is_caught_by_the_falsifier(monkeypatch):
    inc = Monotone("ln(1+y) >= y/(1+y)", sp.log(1 + y), ">=", y / (1 + y), var=y)
    false_upper = F * sp.log(F) - F + 2  # ln F! exceeds it for F >= 9; base case F = 1 holds
    step = Induction(
        "false upper bound",
        sp.log(sp.factorial(F)),
        "<=",
        false_upper,
        var=F,
        n0=1,
        increment=inc,
        increment_subs={y: 1 / (F + 1)},
        increment_factor=F + 2,
    )
    assert step.check().status in ("failed", "unchecked")
    monkeypatch.setattr(Induction, "_increment_matches", lambda self, diff: True)
    assert step.check().status == "failed"


def test_claims_match_only_themselves_and_are_not_sampled():
    from theory.measure_zero import RankAtLeast

    st = RankAtLeast("rank of [[1,0],[0,1]] >= 2", sp.Matrix([[1, 0], [0, 1]]), 2)
    assert isinstance(st.relation(), Claim)
    assert _der(st.relation(), st).check() == "checked"
    assert _der(Claim("rank of [[1,0],[0,1]] >= 3"), st).check() == "unchecked"
    assert falsify_statement(st.relation())[2] == 0
