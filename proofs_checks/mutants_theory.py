"""Theory mutants: known-bad variants of ``theory/`` that ``factmlp theory`` must catch.

Each :class:`~proofs_checks.mutants.Mutant` here has ``kind="theory"``; its
``patch()`` monkeypatches one object in-process (a constant, a derivation
builder, a checker method, an evaluator), clears the derivation caches on
entry and on exit (:func:`theory.registry.clear_caches`) and restores the
original object on exit.  :func:`run_theory_mutant` applies one and runs
:func:`theory.registry.check_all`, the function behind ``factmlp theory``;
the mutant is caught when some derivation is ``failed`` or ``unchecked``
(``factmlp theory`` would exit 1).

=================================  ==================================================================
mutant                             the false result
=================================  ==================================================================
m_jl_n_vectors                     ``M_JL`` uses the n vectors instead of the n(n-1)/2 pairs
jl_statement_quarter               the JL derivation's statement says ``m >= M_VEC/4`` suffices
theta_bound_half_domain            the Theta upper bound replaced by ``<= 120 b ln2 / rho^2`` (false for
                                   rho > 3/5), "proved" by a substitution covering only rho in (0, 1/2)
induction_match_off_false_stirling the Induction increment-match check disabled and the Stirling upper
                                   bound replaced by the false ``F ln F - F + 2``
interval_silu_wrong                the interval silu is ``z/(1+e^z)``
float_silu_wrong                   the float silu (``factmlp.mlp.activation_fn``) is ``z/(1+e^z)``
counting_bound_doubled             the counting lower bound ``PARAM_LOWER_BOUND`` doubled
decoder_constant_halved            ``M_DECODER`` with 24 instead of 48
statement_not_from_steps           the Stirling statement replaced by the true ``ln F! <= F ln F``,
                                   which its steps do not prove
=================================  ==================================================================
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import sympy as sp

from .mutants import MUTANTS, Mutant, register_mutant

__all__ = ["THEORY_MUTANTS", "theory_mutants", "run_theory_mutant", "run_all_theory_mutants"]


@contextlib.contextmanager
def _swapped(*swaps: tuple[Any, str, Any]) -> Iterator[None]:
    """Set ``obj.attr = value`` for each ``(obj, attr, value)``; clear derivation caches; restore on exit."""
    from theory.registry import clear_caches

    saved = [(obj, attr, getattr(obj, attr)) for obj, attr, _ in swaps]
    clear_caches()
    try:
        for obj, attr, value in swaps:
            setattr(obj, attr, value)
        clear_caches()
        yield
    finally:
        for obj, attr, value in reversed(saved):
            setattr(obj, attr, value)
        clear_caches()


def _rebuilt(builder: Callable[[], Any], edit: Callable[[Any], None]) -> Callable[[], Any]:
    """A derivation builder that builds afresh (bypassing the cache) and applies ``edit`` to the result."""
    raw = getattr(builder, "__wrapped__", builder)

    def build() -> Any:
        dv = raw()
        edit(dv)
        dv._results = None
        return dv

    build.__name__ = getattr(raw, "__name__", "build")
    return build


# ------------------------------------------------------------------ the mutants
def _m_jl_n_vectors():
    from theory import jl

    wrong = jl.M_VEC  # n vectors, not the n(n-1)/2 differences
    return _swapped((jl, "M_JL", wrong), (jl, "_m_jl", sp.lambdify((jl.eps, jl.n, jl.delta), wrong, modules="math")))


def _jl_statement_quarter():
    from theory import jl

    def edit(dv: Any) -> None:
        dv.statement = sp.Implies(sp.Ge(jl.m, jl.M_VEC / 4), sp.Le(jl.n * jl.FAIL_ONE, jl.delta))

    return _swapped((jl, "jl_vectors_derivation", _rebuilt(jl.jl_vectors_derivation, edit)))


def _theta_bound_half_domain():
    from theory import param_counts as pc
    from theory.derivation import Inequality
    from theory.symbols import b, rho, u

    false_hi = 120 * b * sp.log(2) / rho**2

    def edit(dv: Any) -> None:
        idx = next(i for i, st in enumerate(dv.steps) if st.description.startswith("Theta(rho^-2), upper"))
        old_goal = dv.steps[idx].relation()
        dv.steps[idx] = Inequality(
            "Theta(rho^-2), upper: limit <= 120 b ln2 / rho^2",
            pc.RATIO_LIMIT,
            "<=",
            false_hi,
            subs={rho: 1 / (2 * (1 + u))},
            conditions=[rho <= 1],
        )
        goals = [sp.Le(pc.RATIO_LIMIT, false_hi) if g == old_goal else g for g in dv.statement.args]
        if sp.Le(pc.RATIO_LIMIT, false_hi) not in goals:
            raise RuntimeError("theta_bound_half_domain: the statement has no conjunct for the upper Theta bound")
        dv.statement = sp.And(*goals)  # the statement says what the (false) step says

    return _swapped((pc, "ratio_limit_derivation", _rebuilt(pc.ratio_limit_derivation, edit)))


def _induction_match_off_false_stirling():
    from theory import counting
    from theory.derivation import Induction
    from theory.symbols import F

    return _swapped(
        (Induction, "_increment_matches", lambda self, diff: True), (counting, "LN_FACT_UPPER", F * sp.log(F) - F + 2)
    )


def _wrong_silu(kind: str):
    from factmlp import activations as acts

    if kind == "interval":
        from mpmath import iv

        orig = acts.interval_fn

        def interval_fn(name: str) -> Callable[[Any], Any]:
            return (lambda z: z / (1 + iv.exp(z))) if name == "silu" else orig(name)

        return _swapped((acts, "interval_fn", interval_fn))
    orig_f = acts.float_fn

    def float_fn(name: str) -> Callable[[Any], Any]:
        if name != "silu":
            return orig_f(name)

        def silu(x: Any) -> Any:
            from factmlp import xp as _xp

            xpm = _xp.get_namespace(x)
            return x / (1 + xpm.exp(xpm.clip(x, -700, 700)))

        return silu

    return _swapped((acts, "float_fn", float_fn))


def _counting_bound_doubled():
    from theory import counting

    wrong = 2 * counting.MAP_BITS / counting.b
    return _swapped(
        (counting, "PARAM_LOWER_BOUND", wrong),
        (counting, "_plb", sp.lambdify((counting.F, counting.N, counting.b), wrong, modules="math")),
    )


def _decoder_constant_halved():
    from theory import jl

    wrong = jl.M_DECODER / 2
    return _swapped(
        (jl, "M_DECODER", wrong), (jl, "_m_dec", sp.lambdify((jl.rho, jl.N, jl.delta), wrong, modules="math"))
    )


def _statement_not_from_steps():
    from theory import counting
    from theory.symbols import F

    def edit(dv: Any) -> None:
        # true for every integer F >= 1 (F! <= F^F), but none of the steps proves it
        dv.statement = sp.And(
            sp.Le(counting.LN_FACT_LOWER, sp.log(sp.factorial(F))), sp.Le(sp.log(sp.factorial(F)), F * sp.log(F))
        )

    return _swapped((counting, "permutation_bits_derivation", _rebuilt(counting.permutation_bits_derivation, edit)))


_JL_VEC = "JL: n fixed vectors (Dasgupta-Gupta constants)"
_STIRLING = "counting: bits of a permutation (Stirling bounds)"
_ACTS = "activations: float and interval evaluators of the one definition"

THEORY_MUTANTS: tuple[Mutant, ...] = tuple(
    register_mutant(m) if m.name not in MUTANTS else MUTANTS[m.name]
    for m in (
        Mutant(
            "theory.m_jl_n_vectors",
            "M_JL uses n vectors instead of the n(n-1)/2 pairs",
            "theory",
            _m_jl_n_vectors,
            ("JL: n points, all pairwise distances",),
        ),
        Mutant(
            "theory.jl_statement_quarter",
            "the JL derivation's statement changed to m >= M_VEC/4 (steps unchanged)",
            "theory",
            _jl_statement_quarter,
            (_JL_VEC,),
        ),
        Mutant(
            "theory.theta_bound_half_domain",
            "Theta upper bound replaced by <= 120 b ln2 / rho^2 (false at rho = 1), with a substitution covering only "
            "rho in (0, 1/2)",
            "theory",
            _theta_bound_half_domain,
            ("params: encoder-decoder ratio to the counting bound, F -> oo",),
        ),
        Mutant(
            "theory.induction_match_off_false_stirling",
            "Induction increment-match check disabled and the Stirling upper bound replaced by F ln F - F + 2 (false "
            "for F >= 9)",
            "theory",
            _induction_match_off_false_stirling,
            (_STIRLING,),
        ),
        Mutant(
            "theory.interval_silu_wrong",
            "the interval silu replaced by z/(1+e^z)",
            "theory",
            lambda: _wrong_silu("interval"),
            (_ACTS, "measure zero: encoder full row rank witnesses"),
        ),
        Mutant(
            "theory.float_silu_wrong",
            "the float silu (factmlp.mlp.activation_fn) replaced by z/(1+e^z)",
            "theory",
            lambda: _wrong_silu("float"),
            (_ACTS,),
        ),
        Mutant(
            "theory.counting_bound_doubled",
            "the counting lower bound PARAM_LOWER_BOUND doubled (2 F log2 N / b)",
            "theory",
            _counting_bound_doubled,
            ("counting: parameter lower bound F log2 N / b",),
        ),
        Mutant(
            "theory.decoder_constant_halved",
            "M_DECODER with constant 24 instead of 48",
            "theory",
            _decoder_constant_halved,
            ("JL: decoder margin corollary (eps < rho)",),
        ),
        Mutant(
            "theory.statement_not_from_steps",
            "the Stirling derivation's statement replaced by the true ln F! <= F ln F, which its steps do not prove",
            "theory",
            _statement_not_from_steps,
            (_STIRLING,),
        ),
    )
)


def theory_mutants() -> list[Mutant]:
    """Every registered mutant of kind ``"theory"`` (this module's and any other registered one)."""
    return [m for m in MUTANTS.values() if m.kind == "theory"]


def run_theory_mutant(mutant: Mutant) -> dict:
    """Apply ``mutant`` and run :func:`theory.registry.check_all` (what ``factmlp theory`` runs).

    Returns ``{"name", "caught", "caught_by", "statuses", "expected", "expected_caught"}``:
    ``caught_by`` lists the derivations whose status is ``failed`` or
    ``unchecked`` under the patch, ``statuses`` their statuses,
    ``expected_caught`` whether every expected derivation is among them.
    """
    from theory.registry import check_all

    with mutant.patch():
        statuses = check_all()
    caught = {name: st for name, st in statuses.items() if st in ("failed", "unchecked")}
    return {
        "name": mutant.name,
        "caught": bool(caught),
        "caught_by": list(caught),
        "statuses": caught,
        "expected": list(mutant.expected),
        "expected_caught": all(name in caught for name in mutant.expected),
    }


def run_all_theory_mutants() -> list[dict]:
    """:func:`run_theory_mutant` for every theory mutant, in registration order."""
    return [run_theory_mutant(m) for m in theory_mutants()]
