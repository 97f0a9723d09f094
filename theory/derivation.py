"""A small framework for checkable derivations.

A :class:`Derivation` is a statement (a SymPy relational or expression) plus a
list of :class:`Step` objects.  Each step is one equality or inequality with a
*method* that a program runs when :meth:`Derivation.check` is called:

=============  ==============================================================
step class     what ``check`` does
=============  ==============================================================
Equality       ``simplify(lhs - rhs) == 0`` (after an optional
               reparametrization ``subs``): proved.
Inequality     sign argument: ``d = rhs - lhs`` (for ``<=``/``<``), simplified
               after the reparametrization ``subs``; SymPy's assumption system
               must decide ``d.is_nonnegative`` (``is_positive`` for strict).
               An optional ``certificate`` expression must equal ``d``
               (checked by ``simplify``) and be decided nonnegative.
Monotone       ``f(x) >= 0`` for ``x >= x0``: ``f(x0)`` is decided
               nonnegative (exactly) and ``f'(x)`` by a sign argument.
Limit          ``limit(expr, var, point) == value`` by ``sympy.limit`` and
               ``simplify`` of the difference.
Induction      ``lhs(n) REL rhs(n)`` for integers ``n >= n0``: the base case
               exactly, and the increment inequality by a sign or monotone
               sub-step.
ExactAt        the relation at explicit rational points, evaluated exactly
               (``exhaustive=True`` only when those points are the whole claim,
               e.g. a witness; otherwise the step can at best be "unchecked").
=============  ==============================================================

Outcomes of a step: ``"proved"``, ``"unchecked"`` (the method could not decide;
never counted as a pass) or ``"failed"`` (disproved).  When a symbolic method
cannot decide, the step is tested at random rational sample points of its
domain (symbol assumptions plus the step's ``conditions``), evaluated to 50
significant digits; a violation there makes the step ``"failed"``, otherwise it
stays ``"unchecked"``.  A derivation is ``"checked"`` iff every step is proved,
``"failed"`` iff some step failed, and ``"unchecked"`` otherwise.

Premises that are cited rather than derived (Markov's inequality, the
chi-square moment generating function, ...) are listed in the derivation's
``assumptions`` text, not hidden in steps.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Sequence

import sympy as sp

__all__ = [
    "StepResult",
    "Step",
    "Equality",
    "Inequality",
    "Monotone",
    "Limit",
    "Induction",
    "ExactAt",
    "Derivation",
    "PROVED",
    "UNCHECKED",
    "FAILED",
]

PROVED = "proved"
UNCHECKED = "unchecked"
FAILED = "failed"

_RELS = {"==": sp.Eq, "<=": sp.Le, "<": sp.Lt, ">=": sp.Ge, ">": sp.Gt}
_N_SAMPLES = 40
_DIGITS = 50
_SPECIAL = [sp.Rational(v) for v in ("1/1000", "1/100", "1/10", "1/3", "1/2", "2/3", "9/10", "99/100",
                                     "1", "3/2", "2", "10", "100")]


@dataclass
class StepResult:
    """Outcome of one step: ``status`` in {proved, unchecked, failed} and a reason."""

    status: str
    detail: str

    def to_dict(self) -> dict:
        return {"status": self.status, "detail": self.detail}


# --------------------------------------------------------------------- sampling
_MULT = [sp.Rational(v) for v in ("1/10", "1/2", "3/4", "1", "2")]


def _sample_value(sym: sp.Symbol, rng: random.Random, scale: sp.Rational | None = None) -> sp.Rational:
    """A random rational compatible with ``sym``'s declared assumptions.

    With ``scale`` (grid mode), real symbols take ``scale`` times a small
    multiplier, so that symbols tied by conditions like ``|a| <= eps`` can
    reach their extremes together.
    """
    if scale is not None and not sym.is_integer:
        val = scale * rng.choice(_MULT)
        if sym.is_positive or sym.is_nonnegative:
            return val
        return val if rng.random() < 0.5 else -val
    if sym.is_integer:
        lo = 1 if sym.is_positive else (0 if sym.is_nonnegative else -20)
        return sp.Integer(rng.choice([lo, lo + 1, lo + 2, rng.randint(lo, 40)]))
    if rng.random() < 0.5:
        val = rng.choice(_SPECIAL)
    else:
        val = sp.Rational(rng.randint(1, 400), rng.choice([1, 7, 40, 400]))
    if sym.is_positive or sym.is_nonnegative:
        return val
    return val if rng.random() < 0.5 else -val


def _sample_points(
    symbols: Sequence[sp.Symbol], conditions: Sequence[Any], seed: int, count: int = _N_SAMPLES
) -> list[dict]:
    """Up to ``count`` random rational points satisfying every condition (rejection sampling)."""
    rng = random.Random(seed)
    pts: list[dict] = []
    for it in range(count * 40):
        if len(pts) >= count:
            break
        scale = rng.choice(_SPECIAL) if it % 2 else None
        pt = {s: _sample_value(s, rng, scale) for s in symbols}
        ok = True
        for c in conditions:
            val = sp.sympify(c).subs(pt)
            if val is not sp.true:
                try:
                    ok = bool(val)
                except TypeError:
                    ok = False
            if not ok:
                break
        if ok:
            pts.append(pt)
    return pts


def _num(expr: sp.Expr, pt: dict) -> sp.Float | None:
    """``expr`` at ``pt`` to 50 digits, or None when not a finite real number."""
    try:
        val = sp.N(sp.sympify(expr).subs(pt), _DIGITS)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not val.is_real or not val.is_finite or val.has(sp.nan, sp.zoo):
        return None
    return val


def _violation(diff: sp.Expr, rel: str, pt: dict) -> bool:
    """True when ``diff`` (= rhs - lhs for <=, lhs - rhs for ==) provably violates ``rel`` at ``pt``."""
    val = _num(diff, pt)
    if val is None:
        return False
    tol = sp.Float(10) ** (-(_DIGITS - 15)) * (1 + abs(val))
    if rel == "==":
        return abs(val) > tol
    if rel in ("<=", ">="):
        return val < -tol
    return val < -tol  # strict: only a clearly negative value disproves


def _apply_subs(expr: Any, subs: dict) -> sp.Expr:
    """Apply the substitutions one after another, in the dict's order."""
    out = sp.sympify(expr)
    for old, new in subs.items():
        out = out.subs(old, new)
    return out


def _free(expr: Any) -> list[sp.Symbol]:
    return sorted(sp.sympify(expr).free_symbols, key=lambda s: s.name)


def _falsify(diff: sp.Expr, rel: str, conditions: Sequence[Any], seed: int) -> dict | None:
    """A sample point where the relation fails, or None."""
    for pt in _sample_points(_free(diff), conditions, seed):
        if _violation(diff, rel, pt):
            return pt
    return None


def _decide_nonneg(expr: sp.Expr, strict: bool) -> bool | None:
    """SymPy's assumption system on ``expr`` and a few simplified forms of it."""
    forms = [expr]
    for f in (sp.simplify, sp.factor, sp.cancel, sp.together, sp.expand,
              lambda e: sp.simplify(sp.expand_log(e, force=True))):
        try:
            forms.append(f(expr))
        except Exception:  # pragma: no cover - sympy internals
            pass
    for g in forms:
        v = g.is_positive if strict else g.is_nonnegative
        if v is True:
            return True
    for g in forms:
        v = g.is_positive if strict else g.is_nonnegative
        if v is False and not g.free_symbols:
            return False
    return None


# --------------------------------------------------------------------- steps
@dataclass
class Step:
    """Base class: one claimed relation ``lhs REL rhs`` with a description."""

    description: str
    lhs: Any
    rel: str
    rhs: Any
    conditions: list = field(default_factory=list)  # extra domain constraints (relationals)

    method = "abstract"

    def relation(self) -> sp.Basic:
        """The SymPy relational ``lhs REL rhs`` (unevaluated)."""
        return _RELS[self.rel](sp.sympify(self.lhs), sp.sympify(self.rhs), evaluate=False)

    def check(self) -> StepResult:  # pragma: no cover - abstract
        raise NotImplementedError

    def latex(self) -> str:
        """LaTeX of the relation."""
        return sp.latex(self.relation())

    def _oriented_diff(self, lhs: Any, rhs: Any) -> tuple[sp.Expr, str]:
        """``(rhs - lhs, '<=')`` style normal form: claim is diff >= 0 (or > 0, or == 0)."""
        lhs, rhs = sp.sympify(lhs), sp.sympify(rhs)
        if self.rel == "==":
            return lhs - rhs, "=="
        if self.rel in ("<=", "<"):
            return rhs - lhs, self.rel
        return lhs - rhs, {">=": "<=", ">": "<"}[self.rel]

    def _seed(self) -> int:
        return sum(ord(c) for c in self.description) + 7919


@dataclass
class Equality(Step):
    """``lhs == rhs`` proved by ``simplify`` after the reparametrization ``subs``."""

    subs: dict = field(default_factory=dict)
    method = "simplify"

    def __init__(self, description: str, lhs: Any, rhs: Any, subs: dict | None = None,
                 conditions: list | None = None) -> None:
        super().__init__(description, lhs, "==", rhs, list(conditions or []))
        self.subs = dict(subs or {})

    def check(self) -> StepResult:
        diff = _apply_subs(sp.sympify(self.lhs) - sp.sympify(self.rhs), self.subs)
        for f in (sp.simplify, lambda e: sp.simplify(sp.expand_log(sp.expand(e), force=False)),
                  sp.combsimp, lambda e: sp.simplify(sp.powsimp(sp.expand_power_base(e), force=False))):
            try:
                if f(diff) == 0:
                    return StepResult(PROVED, "simplify(lhs - rhs) == 0")
            except Exception:  # pragma: no cover
                pass
        pt = _falsify(diff, "==", self.conditions, self._seed())
        if pt is not None:
            return StepResult(FAILED, f"lhs != rhs at {pt}")
        return StepResult(UNCHECKED, "simplify did not reduce lhs - rhs to 0; no counterexample found")


@dataclass
class Inequality(Step):
    """``lhs REL rhs`` (REL in <=, <, >=, >) by a sign argument.

    ``subs`` reparametrizes constrained variables by free ones with declared
    assumptions (e.g. ``eps -> rho*u/(1+u)`` with ``u > 0`` for ``0 < eps < rho``);
    ``certificate``, if given, is an expression claimed equal to the difference
    (checked by simplify) whose sign SymPy decides.
    """

    subs: dict = field(default_factory=dict)
    certificate: Any = None
    method = "sign"

    def __init__(self, description: str, lhs: Any, rel: str, rhs: Any, subs: dict | None = None,
                 certificate: Any = None, conditions: list | None = None) -> None:
        if rel not in ("<=", "<", ">=", ">"):
            raise ValueError(f"Inequality: relation must be one of <=, <, >=, >; got {rel!r}")
        super().__init__(description, lhs, rel, rhs, list(conditions or []))
        self.subs = dict(subs or {})
        self.certificate = certificate

    def check(self) -> StepResult:
        diff, rel = self._oriented_diff(self.lhs, self.rhs)
        strict = rel == "<"
        reparam = _apply_subs(diff, self.subs)
        if self.certificate is not None:
            cert = sp.sympify(self.certificate)
            same = sp.simplify(reparam - cert) == 0
            if same and _decide_nonneg(cert, strict):
                return StepResult(PROVED, "difference equals the certificate, whose sign SymPy decides")
        elif _decide_nonneg(reparam, strict):
            return StepResult(PROVED, "sign of the (reparametrized) difference decided by SymPy")
        pt = _falsify(diff, rel, self.conditions, self._seed())
        if pt is not None:
            return StepResult(FAILED, f"relation violated at {pt}")
        return StepResult(UNCHECKED, "sign not decided symbolically; no counterexample found")


@dataclass
class Monotone(Step):
    """``lhs >= rhs`` for ``var >= x0`` via ``f = lhs - rhs``: ``f(x0) >= 0`` and ``f' >= 0``.

    ``subs`` reparametrizes ``var`` for the derivative's sign (e.g. for
    ``0 < var < 1`` use ``{var: 1/(1+u)}``, u > 0).  ``var`` must be declared
    positive (the claim covers x0 <= var, x0 >= 0).
    """

    var: Any = None
    x0: Any = 0
    subs: dict = field(default_factory=dict)
    method = "monotone"

    def __init__(self, description: str, lhs: Any, rel: str, rhs: Any, var: sp.Symbol, x0: Any = 0,
                 subs: dict | None = None, conditions: list | None = None) -> None:
        if rel not in (">=", "<="):
            raise ValueError(f"Monotone: relation must be >= or <=; got {rel!r}")
        super().__init__(description, lhs, rel, rhs, list(conditions or []))
        self.var, self.x0, self.subs = var, sp.sympify(x0), dict(subs or {})

    def check(self) -> StepResult:
        diff, _ = self._oriented_diff(self.lhs, self.rhs)  # claim: diff >= 0
        base = sp.simplify(diff.subs(self.var, self.x0))
        if base.free_symbols:
            base_ok = _decide_nonneg(base, False)
        else:
            base_ok = True if base == 0 else _decide_nonneg(base, False)
        deriv = _apply_subs(sp.diff(diff, self.var), self.subs)
        deriv_ok = _decide_nonneg(deriv, False)
        if base_ok and deriv_ok:
            return StepResult(PROVED, "f(x0) >= 0 and f' >= 0 decided by SymPy")
        pt = _falsify(diff, "<=", self.conditions, self._seed())
        if pt is not None or base_ok is False:
            return StepResult(FAILED, f"relation violated at {pt if pt is not None else {self.var: self.x0}}")
        return StepResult(UNCHECKED, f"base case decided: {bool(base_ok)}, derivative sign decided: {bool(deriv_ok)}")


@dataclass
class Limit(Step):
    """``limit(expr, var -> point) == value`` by ``sympy.limit``."""

    var: Any = None
    point: Any = sp.oo
    method = "limit"

    def __init__(self, description: str, expr: Any, var: sp.Symbol, point: Any, value: Any) -> None:
        super().__init__(description, sp.Limit(expr, var, point), "==", value, [])
        self.var, self.point = var, point
        self.expr = sp.sympify(expr)

    def check(self) -> StepResult:
        try:
            got = sp.limit(self.expr, self.var, self.point)
        except Exception as exc:  # pragma: no cover - sympy internals
            return StepResult(UNCHECKED, f"sympy.limit raised {type(exc).__name__}")
        if isinstance(got, sp.Limit) or got.has(sp.Limit):
            return StepResult(UNCHECKED, "sympy.limit returned an unevaluated limit")
        diff = sp.simplify(got - sp.sympify(self.rhs))
        if diff == 0:
            return StepResult(PROVED, f"sympy.limit = {got}")
        return StepResult(FAILED, f"sympy.limit = {got}, claimed {self.rhs}")


@dataclass
class ExactAt(Step):
    """The relation at explicit rational points, evaluated exactly.

    ``exhaustive`` says the points are the whole claim (a witness, a base case);
    only then can the step be "proved".  Otherwise passing gives "unchecked".
    """

    points: list = field(default_factory=list)
    exhaustive: bool = False
    method = "exact"

    def __init__(self, description: str, lhs: Any, rel: str, rhs: Any, points: Sequence[dict],
                 exhaustive: bool = False) -> None:
        super().__init__(description, lhs, rel, rhs, [])
        self.points, self.exhaustive = [dict(p) for p in points], exhaustive

    def check(self) -> StepResult:
        for pt in self.points or [{}]:
            val = _RELS[self.rel](sp.sympify(self.lhs).subs(pt), sp.sympify(self.rhs).subs(pt))
            if val is sp.false:
                return StepResult(FAILED, f"relation false at {pt}")
            if val is not sp.true:
                return StepResult(UNCHECKED, f"relation not decided exactly at {pt}")
        if self.exhaustive:
            return StepResult(PROVED, f"exact at all {len(self.points or [{}])} point(s), which are the whole claim")
        return StepResult(UNCHECKED, f"exact at {len(self.points)} point(s) only (not a proof of the general claim)")


@dataclass
class Induction(Step):
    """``lhs(n) REL rhs(n)`` for integer ``n >= n0`` (REL in <=, >=).

    Base case: exact at ``n0``.  Step: ``increment`` is a sub-step proving
    ``(rhs - lhs)(n+1) - (rhs - lhs)(n) >= 0`` (for <=) in a form of the
    author's choice; it is checked to match that difference by ``simplify`` of
    ``increment.lhs - increment.rhs`` against ``diff(n+1) - diff(n)``
    (for ``>=`` steps written as ``a >= b``: ``a - b`` must equal the increment).
    ``increment_subs`` maps the sub-step's variable to an expression in ``n``
    and ``increment_factor`` (proved positive) scales it: the increment must
    equal ``increment_factor * (sub-step difference)``.
    """

    var: Any = None
    n0: int = 1
    increment: Any = None
    method = "induction"

    def __init__(self, description: str, lhs: Any, rel: str, rhs: Any, var: sp.Symbol, n0: int,
                 increment: Step, increment_subs: dict | None = None, increment_factor: Any = 1) -> None:
        if rel not in ("<=", ">="):
            raise ValueError(f"Induction: relation must be <= or >=; got {rel!r}")
        super().__init__(description, lhs, rel, rhs, [])
        self.var, self.n0, self.increment = var, int(n0), increment
        self.increment_subs = dict(increment_subs or {})
        self.increment_factor = sp.sympify(increment_factor)

    def check(self) -> StepResult:
        diff, _ = self._oriented_diff(self.lhs, self.rhs)
        base = sp.simplify(diff.subs(self.var, self.n0))
        base_ok = base == 0 or _decide_nonneg(base, False)
        if base_ok is False or (base.is_number and base.is_negative):
            return StepResult(FAILED, f"base case fails at {self.var} = {self.n0}")
        inc = sp.expand_func(diff.subs(self.var, self.var + 1)) - diff
        inc = sp.simplify(sp.expand_log(inc, force=True))
        claimed, _ = self.increment._oriented_diff(self.increment.lhs, self.increment.rhs)
        scaled = self.increment_factor * sp.sympify(claimed).subs(self.increment_subs)
        matches = sp.simplify(sp.expand_log(inc - scaled, force=True)) == 0
        matches = matches and bool(_decide_nonneg(self.increment_factor, True))
        sub = self.increment.check()
        if sub.status == FAILED:
            return StepResult(FAILED, f"increment step failed: {sub.detail}")
        if base_ok and matches and sub.status == PROVED:
            return StepResult(PROVED, "base case exact; increment proved and matches diff(n+1) - diff(n)")
        pt = _falsify(diff, "<=", [self.var >= self.n0], self._seed())
        if pt is not None:
            return StepResult(FAILED, f"relation violated at {pt}")
        if not matches:
            return StepResult(UNCHECKED, "the increment sub-step does not match diff(n+1) - diff(n)")
        return StepResult(UNCHECKED, f"increment step: {sub.detail}")


# --------------------------------------------------------------------- derivation
@dataclass
class Derivation:
    """A named statement with its checked steps.

    ``statement`` is a SymPy relational or expression; ``symbols`` the symbols
    it uses (their assumptions are part of the claim); ``assumptions`` the
    hypotheses and cited premises in words; ``steps`` the checked relations;
    ``references`` the sources followed.
    """

    name: str
    statement: Any
    symbols: list
    assumptions: str
    steps: list
    references: list = field(default_factory=list)
    _results: list | None = field(default=None, repr=False)

    def check(self, force: bool = False) -> str:
        """Run every step (cached); return "checked", "unchecked" or "failed"."""
        if self._results is None or force:
            self._results = [s.check() for s in self.steps]
        statuses = [r.status for r in self._results]
        if FAILED in statuses:
            return "failed"
        if all(s == PROVED for s in statuses):
            return "checked"
        return "unchecked"

    @property
    def step_results(self) -> list[StepResult]:
        """Per-step results (runs :meth:`check` if needed)."""
        self.check()
        return list(self._results or [])

    def statement_latex(self) -> str:
        """LaTeX of the statement."""
        return sp.latex(self.statement)

    def latex(self) -> str:
        """A LaTeX fragment: statement, assumptions, numbered steps with their status."""
        status = self.check()
        lines = [
            f"\\subsection*{{{_tex_escape(self.name)}}}",
            f"\\textbf{{Statement.}} $ {self.statement_latex()} $ \\quad (status: {status})\\\\",
            f"\\textbf{{Assumptions.}} {_tex_escape(self.assumptions)}",
            "\\begin{enumerate}",
        ]
        for step, res in zip(self.steps, self.step_results):
            lines.append(
                f"\\item {_tex_escape(step.description)}: $ {step.latex()} $ "
                f"[{step.method}: {res.status}]"
            )
        lines.append("\\end{enumerate}")
        if self.references:
            lines.append("\\textbf{References.} " + _tex_escape("; ".join(self.references)))
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """``{"name", "status", "statement_latex", "assumptions", "steps": [...], "references"}``."""
        status = self.check()
        return {
            "name": self.name,
            "status": status,
            "statement_latex": self.statement_latex(),
            "assumptions": self.assumptions,
            "steps": [
                {"description": s.description, "method": s.method, "latex": s.latex(), **r.to_dict()}
                for s, r in zip(self.steps, self.step_results)
            ],
            "references": list(self.references),
        }


def _tex_escape(text: str) -> str:
    """Escape LaTeX specials in prose (not in math)."""
    out = []
    for ch in text:
        if ch in "&%#_{}":
            out.append("\\" + ch)
        elif ch == "~":
            out.append("\\textasciitilde{}")
        elif ch == "^":
            out.append("\\textasciicircum{}")
        elif ch == "\\":
            out.append("\\textbackslash{}")
        else:
            out.append(ch)
    return "".join(out)
