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
never counted as a pass) or ``"failed"`` (disproved).  Every step, proved or
not, is also tested at seeded random rational points of its *original*
relation (before any reparametrization ``subs``) over its whole domain (symbol
assumptions plus the step's ``conditions``), evaluated to 50 significant
digits; a violation there makes the step ``"failed"`` even when a symbolic
argument "proved" it (so a substitution that covers only part of the domain
cannot hide a false relation).  Undecided and unviolated: ``"unchecked"``.

A derivation is ``"checked"`` iff every step is proved **and its statement
follows from the steps** (:func:`statement_follows`): the statement is split
into goals (``And`` into conjuncts, ``Implies(H, C)`` into ``C`` under the
hypotheses ``H``, ``|X| <= Y`` into ``X <= Y`` and ``-Y <= X``); each goal
must be implied by one step's relation (same sides, or the same difference
``rhs - lhs``, simplified) or by a chain ``a0 R1 a1 R2 ... ak`` of step
relations (``<=``, ``<``, ``==``; strict if a link is strict).  A step whose
relation holds only under ``conditions`` can be used only where each
condition is a hypothesis of the goal, a declared ``domain`` condition of the
derivation, or the relation of another usable step.  The statement itself is
also falsified at random points of its whole domain (``domain`` plus the
goal's hypotheses).  ``"failed"`` iff a step failed or the statement is
violated at a point; ``"unchecked"`` otherwise.  Propositions that are not
numeric relations (a minor is a nonzero polynomial, an exact rank) are
:class:`Claim` atoms: they match only themselves and are not sampled.

Premises that are cited rather than derived (Markov's inequality, the
chi-square moment generating function, ...) are listed in the derivation's
``assumptions`` text, not hidden in steps.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import mpmath
import sympy as sp

__all__ = [
    "Claim",
    "statement_follows",
    "falsify_statement",
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

_RELS = {"==": sp.Eq, "<=": sp.Le, "<": sp.Lt, ">=": sp.Ge, ">": sp.Gt, "!=": sp.Ne}
_N_SAMPLES = 40
_DIGITS = 50
_SPECIAL = [
    sp.Rational(v)
    for v in ("1/1000", "1/100", "1/10", "1/3", "1/2", "2/3", "9/10", "99/100", "1", "3/2", "2", "10", "100")
]


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
        return sp.Integer(
            rng.choice([lo, lo + 1, lo + 2, rng.randint(lo, 40), rng.randint(lo, 40), rng.randint(lo, 1000)])
        )
    if rng.random() < 0.5:
        val = rng.choice(_SPECIAL)
    else:
        val = sp.Rational(rng.randint(1, 400), rng.choice([1, 7, 40, 400]))
    if sym.is_positive or sym.is_nonnegative:
        return val
    return val if rng.random() < 0.5 else -val


@functools.lru_cache(maxsize=8192)
def _compiled(expr: sp.Expr, syms: tuple) -> Callable | None:
    """``expr`` as an mpmath function of ``syms`` (None when lambdify cannot translate it)."""
    try:
        return sp.lambdify(syms, expr, modules="mpmath")
    except Exception:  # pragma: no cover - printer gaps
        return None


def _to_mpf(v: sp.Basic) -> Any:
    if isinstance(v, sp.Rational):
        return mpmath.mpf(int(v.p)) / int(v.q)
    return mpmath.mpf(str(sp.N(v, _DIGITS + 10)))


def _num_fast(expr: Any, pt: dict) -> Any:
    """``expr`` at ``pt`` in mpmath at 50 digits (mpf), or None when not a finite real number.

    A screen only: a violation it finds is confirmed by the exact path :func:`_num`.
    """
    expr = sp.sympify(expr)
    syms = tuple(sorted(expr.free_symbols, key=lambda v: v.name))
    if any(v not in pt for v in syms):
        return None
    fn = _compiled(expr, syms)
    if fn is None:
        val = _num(expr, pt)
        return None if val is None else _to_mpf(val)
    with mpmath.workdps(_DIGITS):
        try:
            val = fn(*[_to_mpf(pt[v]) for v in syms])
        except (TypeError, ValueError, ZeroDivisionError, OverflowError, AttributeError, NameError):
            return None
        if isinstance(val, mpmath.mpc):
            if abs(val.imag) > mpmath.mpf(10) ** (-(_DIGITS - 10)) * (1 + abs(val)):
                return None
            val = val.real
        try:
            val = mpmath.mpf(val)
        except (TypeError, ValueError):
            return None
        if not mpmath.isfinite(val):
            return None
    return val


def _condition_holds(cond: Any, pt: dict, exact: bool) -> bool:
    """Whether ``cond`` holds at ``pt``: exactly (SymPy ``subs``) or by the mpmath screen."""
    c = sp.sympify(cond)
    nm = None if exact else _rel_diff(c)
    if nm is None:
        try:
            val = c.subs(pt)
        except (TypeError, ValueError, ZeroDivisionError):
            return False
        if val is sp.true:
            return True
        try:
            return bool(val)
        except TypeError:
            return False
    diff, op = nm
    v = _num_fast(diff, pt)
    if v is None:
        return False
    return bool(v == 0) if op == "==" else bool(v >= 0) if op == "<=" else bool(v > 0)


def _rel_diff(c: Any) -> tuple[sp.Expr, str] | None:
    """``(diff, op)`` with the relation equivalent to ``diff op 0`` (``op`` in ==, <= meaning >=, <)."""
    if isinstance(c, sp.Equality):
        return c.lhs - c.rhs, "=="
    if isinstance(c, (sp.LessThan, sp.StrictLessThan)):
        return c.rhs - c.lhs, "<=" if isinstance(c, sp.LessThan) else "<"
    if isinstance(c, (sp.GreaterThan, sp.StrictGreaterThan)):
        return c.lhs - c.rhs, "<=" if isinstance(c, sp.GreaterThan) else "<"
    return None


def _sample_points(
    symbols: Sequence[sp.Symbol],
    conditions: Sequence[Any],
    seed: int,
    count: int = _N_SAMPLES,
    exact: bool = True,
) -> list[dict]:
    """Up to ``count`` random rational points satisfying every condition (rejection sampling)."""
    rng = random.Random(seed)
    pts: list[dict] = []
    for it in range(count * 12):
        if len(pts) >= count:
            break
        scale = rng.choice(_SPECIAL) if it % 2 else None
        pt = {s: _sample_value(s, rng, scale) for s in symbols}
        if all(_condition_holds(c, pt, exact) for c in conditions):
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


def _violation(diff: sp.Expr, rel: str, pt: dict, fast: bool = False) -> bool:
    """True when ``diff`` (= rhs - lhs for <=, lhs - rhs for ==) provably violates ``rel`` at ``pt``."""
    if fast:
        val = _num_fast(diff, pt)
        if val is None:
            return False
        tol = mpmath.mpf(10) ** (-(_DIGITS - 15)) * (1 + abs(val))
    else:
        val = _num(diff, pt)
        if val is None:
            return False
        tol = sp.Float(10) ** (-(_DIGITS - 15)) * (1 + abs(val))
    if rel == "==":
        return bool(abs(val) > tol)
    return bool(val < -tol)  # <=, and strict: only a clearly negative value disproves


def _apply_subs(expr: Any, subs: dict) -> sp.Expr:
    """Apply the substitutions one after another, in the dict's order."""
    out = sp.sympify(expr)
    for old, new in subs.items():
        out = out.subs(old, new)
    return out


def _free(expr: Any) -> list[sp.Symbol]:
    return sorted(sp.sympify(expr).free_symbols, key=lambda s: s.name)


def _falsify(diff: sp.Expr, rel: str, conditions: Sequence[Any], seed: int, count: int = _N_SAMPLES) -> dict | None:
    """A sample point (of every symbol of ``diff`` and ``conditions``) where the relation fails, or None."""
    pt = _falsify_memo(sp.sympify(diff), rel, tuple(sp.sympify(c) for c in conditions), seed, count)
    return None if pt is None else dict(pt)


@functools.lru_cache(maxsize=4096)
def _falsify_memo(diff: sp.Expr, rel: str, conditions: tuple, seed: int, count: int) -> dict | None:
    """Memoized :func:`_falsify` (a pure function of the exact expressions and the seed)."""
    syms = set(sp.sympify(diff).free_symbols)
    for c in conditions:
        syms |= sp.sympify(c).free_symbols
    for pt in _sample_points(sorted(syms, key=lambda v: v.name), conditions, seed, count, exact=False):
        # screen in mpmath, confirm exactly (conditions by SymPy, the relation by sympy.N at 50 digits)
        if (
            _violation(diff, rel, pt, fast=True)
            and _violation(diff, rel, pt)
            and all(_condition_holds(c, pt, True) for c in conditions)
        ):
            return pt
    return None


@functools.lru_cache(maxsize=4096)
def _decide_nonneg(expr: sp.Expr, strict: bool) -> bool | None:
    """SymPy's assumption system on ``expr`` and a few simplified forms of it."""
    forms = [expr]
    for f in (
        sp.simplify,
        sp.factor,
        sp.cancel,
        sp.together,
        sp.expand,
        lambda e: sp.simplify(sp.expand_log(e, force=True)),
    ):
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


@functools.lru_cache(maxsize=4096)
def _simplifies_to_zero(diff: sp.Expr) -> bool:
    """``diff`` reduces to 0 under one of a few simplification strategies (memoized; pure in ``diff``)."""
    for f in (
        sp.simplify,
        lambda e: sp.simplify(sp.expand_log(sp.expand(e), force=False)),
        sp.combsimp,
        lambda e: sp.simplify(sp.powsimp(sp.expand_power_base(e), force=False)),
    ):
        try:
            if f(diff) == 0:
                return True
        except Exception:  # pragma: no cover
            pass
    return False


@functools.lru_cache(maxsize=1024)
def _simplified(expr: sp.Expr) -> sp.Expr:
    """``sympy.simplify(expr)`` (memoized)."""
    return sp.simplify(expr)


@functools.lru_cache(maxsize=256)
def _limit(expr: sp.Expr, var: sp.Symbol, point: Any) -> Any:
    """``sympy.limit(expr, var, point)`` (memoized); the exception's type name when it raises."""
    try:
        return sp.limit(expr, var, point)
    except Exception as exc:  # pragma: no cover - sympy internals
        return type(exc).__name__


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

    def domain(self) -> list:
        """Conditions under which the relation is claimed (the falsifier samples there)."""
        return list(self.conditions)

    def facts(self) -> list[tuple[Any, list]]:
        """``[(relation, conditions)]`` this step establishes when proved (used by :func:`statement_follows`)."""
        return [(self.relation(), self.domain())]

    def _counterexample(self) -> dict | None:
        """A point of the step's domain where the ORIGINAL relation (no ``subs``) is violated, or None."""
        diff, rel = self._oriented_diff(self.lhs, self.rhs)
        return _falsify(diff, rel, self.domain(), self._seed())

    def _confirm(self, proof: StepResult) -> StepResult:
        """A symbolic proof stands only if the original relation survives the falsifier on its whole domain."""
        pt = self._counterexample()
        if pt is not None:
            return StepResult(
                FAILED,
                f"{proof.detail}, but the original relation is violated at {pt} "
                "(the reparametrization does not cover the domain)",
            )
        return proof


@dataclass
class Equality(Step):
    """``lhs == rhs`` proved by ``simplify`` after the reparametrization ``subs``."""

    subs: dict = field(default_factory=dict)
    method = "simplify"

    def __init__(
        self, description: str, lhs: Any, rhs: Any, subs: dict | None = None, conditions: list | None = None
    ) -> None:
        super().__init__(description, lhs, "==", rhs, list(conditions or []))
        self.subs = dict(subs or {})

    def check(self) -> StepResult:
        diff = _apply_subs(sp.sympify(self.lhs) - sp.sympify(self.rhs), self.subs)
        if _simplifies_to_zero(diff):
            return self._confirm(StepResult(PROVED, "simplify(lhs - rhs) == 0"))
        pt = self._counterexample()
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

    def __init__(
        self,
        description: str,
        lhs: Any,
        rel: str,
        rhs: Any,
        subs: dict | None = None,
        certificate: Any = None,
        conditions: list | None = None,
    ) -> None:
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
            same = _simplifies_to_zero(reparam - cert)
            if same and _decide_nonneg(cert, strict):
                return self._confirm(StepResult(PROVED, "difference equals the certificate, whose sign SymPy decides"))
        elif _decide_nonneg(reparam, strict):
            return self._confirm(StepResult(PROVED, "sign of the (reparametrized) difference decided by SymPy"))
        pt = self._counterexample()
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

    def __init__(
        self,
        description: str,
        lhs: Any,
        rel: str,
        rhs: Any,
        var: sp.Symbol,
        x0: Any = 0,
        subs: dict | None = None,
        conditions: list | None = None,
    ) -> None:
        if rel not in (">=", "<="):
            raise ValueError(f"Monotone: relation must be >= or <=; got {rel!r}")
        super().__init__(description, lhs, rel, rhs, list(conditions or []))
        self.var, self.x0, self.subs = var, sp.sympify(x0), dict(subs or {})

    def domain(self) -> list:
        """The step's conditions and ``var >= x0``."""
        return list(self.conditions) + [sp.Ge(self.var, self.x0)]

    def check(self) -> StepResult:
        diff, _ = self._oriented_diff(self.lhs, self.rhs)  # claim: diff >= 0
        base = _simplified(diff.subs(self.var, self.x0))
        if base.free_symbols:
            base_ok = _decide_nonneg(base, False)
        else:
            base_ok = True if base == 0 else _decide_nonneg(base, False)
        deriv = _apply_subs(sp.diff(diff, self.var), self.subs)
        deriv_ok = _decide_nonneg(deriv, False)
        if base_ok and deriv_ok:
            return self._confirm(StepResult(PROVED, "f(x0) >= 0 and f' >= 0 decided by SymPy"))
        pt = self._counterexample()
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
        got = _limit(self.expr, self.var, sp.sympify(self.point))
        if isinstance(got, str):  # pragma: no cover - sympy internals
            return StepResult(UNCHECKED, f"sympy.limit raised {got}")
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

    def __init__(
        self, description: str, lhs: Any, rel: str, rhs: Any, points: Sequence[dict], exhaustive: bool = False
    ) -> None:
        super().__init__(description, lhs, rel, rhs, [])
        self.points, self.exhaustive = [dict(p) for p in points], exhaustive

    def facts(self) -> list[tuple[Any, list]]:
        """The relation at each point (only these instances are established)."""
        return [
            (_RELS[self.rel](sp.sympify(self.lhs).subs(pt), sp.sympify(self.rhs).subs(pt), evaluate=False), [])
            for pt in self.points or [{}]
        ]

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

    def __init__(
        self,
        description: str,
        lhs: Any,
        rel: str,
        rhs: Any,
        var: sp.Symbol,
        n0: int,
        increment: Step,
        increment_subs: dict | None = None,
        increment_factor: Any = 1,
    ) -> None:
        if rel not in ("<=", ">="):
            raise ValueError(f"Induction: relation must be <= or >=; got {rel!r}")
        super().__init__(description, lhs, rel, rhs, [])
        self.var, self.n0, self.increment = var, int(n0), increment
        self.increment_subs = dict(increment_subs or {})
        self.increment_factor = sp.sympify(increment_factor)

    def domain(self) -> list:
        """Integers ``var >= n0``."""
        return [sp.Ge(self.var, self.n0)]

    def _increment_matches(self, diff: sp.Expr) -> bool:
        """``diff(n+1) - diff(n) == increment_factor * (sub-step difference)`` and the factor is positive."""
        claimed, _ = self.increment._oriented_diff(self.increment.lhs, self.increment.rhs)
        scaled = self.increment_factor * sp.sympify(claimed).subs(self.increment_subs)
        return _increment_match(diff, self.var, scaled) and bool(_decide_nonneg(self.increment_factor, True))

    def check(self) -> StepResult:
        diff, _ = self._oriented_diff(self.lhs, self.rhs)
        base = sp.simplify(diff.subs(self.var, self.n0))
        base_ok = base == 0 or _decide_nonneg(base, False)
        if base_ok is False or (base.is_number and base.is_negative):
            return StepResult(FAILED, f"base case fails at {self.var} = {self.n0}")
        matches = self._increment_matches(diff)
        sub = self.increment.check()
        if sub.status == FAILED:
            return StepResult(FAILED, f"increment step failed: {sub.detail}")
        if base_ok and matches and sub.status == PROVED:
            return self._confirm(
                StepResult(PROVED, "base case exact; increment proved and matches diff(n+1) - diff(n)")
            )
        pt = self._counterexample()
        if pt is not None:
            return StepResult(FAILED, f"relation violated at {pt}")
        if not matches:
            return StepResult(UNCHECKED, "the increment sub-step does not match diff(n+1) - diff(n)")
        return StepResult(UNCHECKED, f"increment step: {sub.detail}")


@functools.lru_cache(maxsize=256)
def _increment_match(diff: sp.Expr, var: sp.Symbol, scaled: sp.Expr) -> bool:
    """``diff(var + 1) - diff(var) == scaled`` by ``simplify`` (memoized; pure in its arguments)."""
    inc = sp.expand_func(diff.subs(var, var + 1)) - diff
    inc = sp.simplify(sp.expand_log(inc, force=True))
    return bool(sp.simplify(sp.expand_log(inc - scaled, force=True)) == 0)


# --------------------------------------------------------------------- entailment
class Claim(sp.Symbol):
    """A proposition that is not a numeric relation (e.g. "this minor is a nonzero polynomial").

    Used as a Boolean atom: a step establishes it, a statement conjunct names
    it; it matches only itself and is never sampled by the falsifier.
    """

    def _latex(self, printer: Any) -> str:
        return r"\text{" + _tex_escape(self.name) + "}"


_Norm = tuple  # (a, op, b) with op in ==, <=, <, != ; or (claim, "claim", None)


def _norm(rel: Any) -> _Norm | None:
    """``a op b`` with ``>=``/``>`` flipped to ``<=``/``<``; a :class:`Claim` atom as ``(c, "claim", None)``."""
    if isinstance(rel, Claim):
        return (rel, "claim", None)
    if isinstance(rel, sp.Equality):
        return (rel.lhs, "==", rel.rhs)
    if isinstance(rel, sp.Unequality):
        return (rel.lhs, "!=", rel.rhs)
    if isinstance(rel, sp.LessThan):
        return (rel.lhs, "<=", rel.rhs)
    if isinstance(rel, sp.StrictLessThan):
        return (rel.lhs, "<", rel.rhs)
    if isinstance(rel, sp.GreaterThan):
        return (rel.rhs, "<=", rel.lhs)
    if isinstance(rel, sp.StrictGreaterThan):
        return (rel.rhs, "<", rel.lhs)
    return None


def _conjuncts(expr: Any) -> list:
    expr = sp.sympify(expr)
    if isinstance(expr, sp.And):
        return [c for a in expr.args for c in _conjuncts(a)]
    return [expr]


def _goals(statement: Any, hyps: tuple = ()) -> list[tuple[tuple, Any]]:
    """Split a statement into ``(hypotheses, relation)`` goals (see the module docstring)."""
    out: list = []
    for part in _conjuncts(statement):
        if isinstance(part, sp.Implies):
            h, c = part.args
            out += _goals(c, hyps + tuple(_conjuncts(h)))
            continue
        nm = _norm(part)
        if nm is not None and nm[1] in ("<=", "<") and isinstance(nm[0], sp.Abs):
            x, y = nm[0].args[0], nm[2]
            out += [(hyps, _RELS[nm[1]](x, y, evaluate=False)), (hyps, _RELS[nm[1]](-y, x, evaluate=False))]
            continue
        out.append((hyps, part))
    return out


def _apart_somewhere(a: sp.Expr, b: sp.Expr, tries: int = 3) -> bool:
    """True when ``a`` and ``b`` differ clearly at a random point of their symbols' declared domain.

    Then ``simplify(a - b) == 0`` cannot hold, so the (slow) simplify is skipped.
    """
    syms = sorted(a.free_symbols | b.free_symbols, key=lambda v: v.name)
    if any(isinstance(v, Claim) for v in syms):
        return False
    rng = random.Random(4242)
    for _ in range(tries):
        pt = {v: _sample_value(v, rng) for v in syms}
        va, vb = _num_fast(a, pt), _num_fast(b, pt)
        if va is not None and vb is not None and abs(va - vb) > mpmath.mpf(10) ** -30 * (1 + abs(va) + abs(vb)):
            return True
    return False


@functools.lru_cache(maxsize=8192)
def _same_memo(a: sp.Expr, b: sp.Expr) -> bool:
    """``simplify(a - b) == 0`` unless a limit is involved or a random point tells them apart (memoized)."""
    if a.has(sp.Limit) or b.has(sp.Limit) or _apart_somewhere(a, b):
        return False  # limits: structural match only; numerically different: not the same
    try:
        return bool(sp.simplify(a - b) == 0)
    except Exception:  # pragma: no cover - sympy internals
        return False


class _Entailment:
    """Decides whether goals follow from known relations (memoized ``simplify``)."""

    def same(self, a: Any, b: Any) -> bool:
        """``a == b`` structurally or ``simplify(a - b) == 0``."""
        a, b = sp.sympify(a), sp.sympify(b)
        if a == b:
            return True
        return _same_memo(a, b)

    def implies(self, fact: _Norm, goal: _Norm) -> bool:
        """One known relation implies the goal (same sides, or the same difference)."""
        a, op, b = fact
        c, gop, d = goal
        if op == "claim" or gop == "claim":
            return op == gop and a == c
        sides = self.same(a, c) and self.same(b, d)
        swapped = self.same(a, d) and self.same(b, c)
        if gop == "==":
            return op == "==" and (sides or swapped or self.same(a - b, c - d) or self.same(a - b, d - c))
        if gop == "!=":
            if op == "!=":
                return sides or swapped or self.same(a - b, c - d) or self.same(a - b, d - c)
            return op == "<" and (sides or swapped or self.same(b - a, d - c) or self.same(b - a, c - d))
        if gop == "<=":
            if op in ("<=", "<"):
                return sides or self.same(b - a, d - c)
            return op == "==" and (sides or swapped or self.same(b - a, d - c) or self.same(a - b, d - c))
        if gop == "<":
            return op == "<" and (sides or self.same(b - a, d - c))
        return False

    def chain(self, known: list[_Norm], goal: _Norm) -> bool:
        """A chain ``c = a0 R1 a1 ... Rk ak = d`` of known relations proves ``goal`` (c, op, d)."""
        c, gop, d = goal
        if gop not in ("==", "<=", "<"):
            return False
        edges = []
        for a, op, b in known:
            if op in ("<=", "<"):
                edges.append((a, b, op == "<", False))
            elif op == "==":
                edges += [(a, b, False, True), (b, a, False, True)]
        frontier = [(sp.sympify(c), False, True)]  # (node, strict so far, all equalities so far)
        seen: list = []
        for _ in range(len(edges) + 1):
            nxt = []
            for node, strict, alleq in frontier:
                for a, b, st, eq in edges:
                    if not self.same(node, a):
                        continue
                    state = (sp.sympify(b), strict or st, alleq and eq)
                    if self.same(state[0], d) and (
                        gop == "<=" or (gop == "<" and state[1]) or (gop == "==" and state[2])
                    ):
                        return True
                    if not any(self.same(state[0], s0) and state[1:] == s1 for s0, s1 in seen):
                        seen.append((state[0], state[1:]))
                        nxt.append(state)
            frontier = nxt
            if not frontier:
                break
        return False

    def holds(self, known: list[_Norm], rel: Any) -> bool:
        """``rel`` is true (SymPy evaluates it to True) or follows from ``known``."""
        rel = sp.sympify(rel)
        if rel is sp.true:
            return True
        goal = _norm(rel)
        if goal is None:
            return False
        return any(self.implies(k, goal) for k in known) or self.chain(known, goal)


def statement_follows(
    statement: Any, facts: Sequence[tuple[Any, Sequence[Any]]], domain: Sequence[Any] = ()
) -> tuple[bool, str]:
    """Whether ``statement`` follows from proved ``facts`` ``[(relation, conditions)]``.

    Each goal of the statement (hypotheses ``H``, relation ``R``) must follow
    from the relations usable under ``H`` and ``domain``: a fact is usable when
    each of its conditions holds in that context (iterated to a fixpoint).
    Returns ``(ok, detail)``; ``detail`` names the first goal that does not follow.
    """
    ent = _Entailment()
    goals = _goals(statement)
    if not goals:
        return False, "the statement has no goals"
    for hyps, rel in goals:
        if sp.sympify(rel) in (sp.true, sp.false):
            return False, f"a goal of the statement evaluates to {rel}: it says nothing checkable"
        if _norm(rel) is None:
            return False, f"goal {rel} is not a relation or Claim the checker can match"
        known = [n for n in (_norm(h) for h in list(hyps) + list(domain)) if n is not None]
        pending = list(facts)
        progress = True
        while progress:
            progress = False
            for item in list(pending):
                rel_f, conds = item
                if all(ent.holds(known, cd) for cd in conds):
                    nf = _norm(rel_f)
                    if nf is not None:
                        known.append(nf)
                    pending.remove(item)
                    progress = True
        if not ent.holds(known, rel):
            where = f" under {list(hyps)}" if hyps else ""
            return False, f"goal {rel}{where} does not follow from the steps"
    return True, f"all {len(goals)} goal(s) follow from the steps"


def _not_sampled(expr: Any) -> bool:
    e = sp.sympify(expr)
    return (
        any(isinstance(v, Claim) for v in e.free_symbols)
        or e.has(sp.Limit)
        or bool(e.atoms(sp.core.function.AppliedUndef))
    )


def falsify_statement(
    statement: Any, domain: Sequence[Any] = (), seed: int = 0, count: int = _N_SAMPLES
) -> tuple[dict | None, Any, int]:
    """Sample the ORIGINAL statement over its whole domain: ``(point, goal, n_goals_sampled)``.

    Each goal's relation is tested at ``count`` random points satisfying the
    symbols' assumptions, ``domain`` and the goal's hypotheses; ``point`` is
    the first violation (None when none).  Goals holding :class:`Claim` atoms
    or limits are not sampled.
    """
    sampled = 0
    for i, (hyps, rel) in enumerate(_goals(statement)):
        nm = _norm(rel)
        if nm is None or nm[1] in ("claim", "!=") or _not_sampled(rel) or any(_not_sampled(h) for h in hyps):
            continue
        a, op, b = nm
        diff = a - b if op == "==" else b - a
        sampled += 1
        pt = _falsify(diff, op, list(domain) + list(hyps), seed + 101 * i, count)
        if pt is not None:
            return pt, rel, sampled
    return None, None, sampled


# --------------------------------------------------------------------- derivation
@dataclass
class Derivation:
    """A named statement with its checked steps.

    ``statement`` is a SymPy relational (or ``And``/``Implies`` of relations
    and :class:`Claim` atoms); ``symbols`` the symbols it uses (their
    assumptions are part of the claim); ``domain`` further conditions of the
    claim (relations, e.g. ``eps < 1``); ``assumptions`` the hypotheses and
    cited premises in words; ``steps`` the checked relations; ``references``
    the sources followed.  ``checked`` means: every step proved, the statement
    follows from the steps, and no sample point of the statement's domain
    violates it.
    """

    name: str
    statement: Any
    symbols: list
    assumptions: str
    steps: list
    references: list = field(default_factory=list)
    domain: list = field(default_factory=list)
    _results: list | None = field(default=None, repr=False)
    _statement_result: dict | None = field(default=None, repr=False)

    def check(self, force: bool = False) -> str:
        """Run every step and the statement checks (cached); return "checked", "unchecked" or "failed"."""
        if self._results is None or force:
            self._results = [s.check() for s in self.steps]
            self._statement_result = self._check_statement()
        statuses = [r.status for r in self._results]
        st = self._statement_result or {}
        if FAILED in statuses or st.get("counterexample") is not None:
            return "failed"
        if all(s == PROVED for s in statuses) and st.get("follows"):
            return "checked"
        return "unchecked"

    def _check_statement(self) -> dict:
        facts = [
            f
            for step, res in zip(self.steps, self._results or [], strict=True)
            if res.status == PROVED
            for f in step.facts()
        ]
        follows, detail = statement_follows(self.statement, facts, self.domain)
        seed = sum(ord(c) for c in self.name)
        pt, goal, n_sampled = falsify_statement(self.statement, self.domain, seed)
        return {
            "follows": follows,
            "detail": detail,
            "counterexample": None if pt is None else {str(k): str(v) for k, v in pt.items()},
            "violated_goal": None if goal is None else str(goal),
            "goals_sampled": n_sampled,
        }

    @property
    def step_results(self) -> list[StepResult]:
        """Per-step results (runs :meth:`check` if needed)."""
        self.check()
        return list(self._results or [])

    @property
    def statement_result(self) -> dict:
        """``{"follows", "detail", "counterexample", "violated_goal", "goals_sampled"}`` (runs :meth:`check`)."""
        self.check()
        return dict(self._statement_result or {})

    def reason(self) -> str:
        """Why the derivation is not checked ('' when it is)."""
        status = self.check()
        if status == "checked":
            return ""
        st = self.statement_result
        if st.get("counterexample") is not None:
            return f"statement goal {st['violated_goal']} violated at {st['counterexample']}"
        for step, res in zip(self.steps, self.step_results, strict=True):
            if res.status != PROVED:
                return f"step '{step.description}' {res.status}: {res.detail}"
        return f"statement does not follow: {st.get('detail')}"

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
        for step, res in zip(self.steps, self.step_results, strict=True):
            lines.append(f"\\item {_tex_escape(step.description)}: $ {step.latex()} $ [{step.method}: {res.status}]")
        lines.append("\\end{enumerate}")
        if self.references:
            lines.append("\\textbf{References.} " + _tex_escape("; ".join(self.references)))
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """``{"name", "status", "reason", "statement_latex", "statement", "assumptions", "steps", "references"}``."""
        status = self.check()
        return {
            "name": self.name,
            "status": status,
            "reason": self.reason(),
            "statement_latex": self.statement_latex(),
            "statement": self.statement_result,
            "assumptions": self.assumptions,
            "steps": [
                {"description": s.description, "method": s.method, "latex": s.latex(), **r.to_dict()}
                for s, r in zip(self.steps, self.step_results, strict=True)
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
