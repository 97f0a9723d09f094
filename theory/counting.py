"""Counting (information-theoretic) lower bounds on fact storage.

* An arbitrary map ``f: [F] -> [N]`` is one of ``N**F`` maps: ``F log2 N`` bits.
* A permutation of ``[F]`` is one of ``F!``: ``log2 F!`` bits, with the
  elementary Stirling bounds, for every integer ``F >= 1``,
  ``F ln F - F + 1 <= ln F! <= (F + 1) ln(F + 1) - F``
  (proved by induction on F; each increment reduces to ``ln(1+x) <= x`` or
  ``ln(1+y) >= y/(1+y)``, proved by monotonicity), hence
  ``log2 F! ~ F log2 F``.
* A scheme whose ``P`` parameters hold ``b`` bits each takes at most
  ``2**(b P)`` states; storing every map needs ``2**(b P) >= N**F``, so
  ``P >= F log2 N / b``.

Each expression below is the single source of its number: the numeric twins
(``map_bits`` ...) are ``lambdify`` of the same objects.
"""

from __future__ import annotations

import functools
import math

import sympy as sp

from .derivation import Derivation, Equality, Induction, Inequality, Limit, Monotone
from .symbols import F, N, P, b, t, x, y

__all__ = [
    "MAP_BITS",
    "PERM_BITS",
    "LN_FACT_LOWER",
    "LN_FACT_UPPER",
    "PARAM_LOWER_BOUND",
    "PERM_PARAM_LOWER_BOUND",
    "map_bits",
    "permutation_bits",
    "permutation_bits_bounds",
    "param_lower_bound",
    "map_bits_derivation",
    "permutation_bits_derivation",
    "param_lower_bound_derivation",
]

#: bits of an arbitrary map [F] -> [N]
MAP_BITS = F * sp.log(N) / sp.log(2)
#: bits of a permutation of [F]
PERM_BITS = sp.log(sp.factorial(F)) / sp.log(2)
#: Stirling bounds on ln F! (F >= 1 integer)
LN_FACT_LOWER = F * sp.log(F) - F + 1
LN_FACT_UPPER = (F + 1) * sp.log(F + 1) - F
#: parameter lower bounds with b bits per parameter
PARAM_LOWER_BOUND = MAP_BITS / b
PERM_PARAM_LOWER_BOUND = PERM_BITS / b

_map_bits = sp.lambdify((F, N), MAP_BITS, modules="math")
_perm_bits = sp.lambdify((F,), PERM_BITS, modules="math")
_lnfact_lo = sp.lambdify((F,), LN_FACT_LOWER, modules="math")
_lnfact_hi = sp.lambdify((F,), LN_FACT_UPPER, modules="math")
_plb = sp.lambdify((F, N, b), PARAM_LOWER_BOUND, modules="math")
_perm_plb = sp.lambdify((F, b), PERM_PARAM_LOWER_BOUND, modules="math")


def _pos_int(value, name: str) -> int:
    from factmlp.errors import InvalidInputError

    if isinstance(value, bool) or not isinstance(value, (int,)) and not hasattr(value, "__index__"):
        raise InvalidInputError(f"{name}: expected a positive integer, got {value!r}")
    value = int(value)
    if value < 1:
        raise InvalidInputError(f"{name}: expected a positive integer, got {value}")
    return value


def _pos_real(value, name: str) -> float:
    from factmlp.errors import InvalidInputError

    try:
        v = float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{name}: expected a positive number, got {value!r}") from exc
    if not (v > 0 and math.isfinite(v)):
        raise InvalidInputError(f"{name}: expected a positive finite number, got {value!r}")
    return v


def map_bits(n_facts: int, n_values: int) -> float:
    """``F log2 N``: bits of an arbitrary map [F] -> [N] (numeric twin of ``MAP_BITS``)."""
    return float(_map_bits(_pos_int(n_facts, "n_facts"), _pos_int(n_values, "n_values")))


def permutation_bits(n_facts: int) -> float:
    """``log2 F!``: bits of a permutation of [F] (numeric twin of ``PERM_BITS``)."""
    return float(_perm_bits(_pos_int(n_facts, "n_facts")))


def permutation_bits_bounds(n_facts: int) -> tuple[float, float]:
    """Stirling bounds ``((F ln F - F + 1)/ln 2, ((F+1) ln(F+1) - F)/ln 2)`` on ``log2 F!``."""
    f = _pos_int(n_facts, "n_facts")
    return float(_lnfact_lo(f)) / math.log(2), float(_lnfact_hi(f)) / math.log(2)


def param_lower_bound(n_facts: int, n_values: int, bits_per_param: float, permutation: bool = False) -> float:
    """``F log2 N / b`` (or ``log2 F! / b`` for a permutation, which needs N = F)."""
    f = _pos_int(n_facts, "n_facts")
    bb = _pos_real(bits_per_param, "bits_per_param")
    if permutation:
        return float(_perm_plb(f, bb))
    return float(_plb(f, _pos_int(n_values, "n_values"), bb))


@functools.cache
def map_bits_derivation() -> Derivation:
    """``log2(#maps [F]->[N]) = F log2 N``."""
    return Derivation(
        name="counting: bits of a map [F] -> [N]",
        statement=sp.Eq(sp.log(N**F, 2), MAP_BITS, evaluate=False),
        symbols=[F, N],
        assumptions="F, N positive integers. The maps [F] -> [N] number N^F (each fact picks one of N values).",
        steps=[Equality("log2 of the number of maps", sp.log(N**F) / sp.log(2), MAP_BITS)],
        references=["elementary counting"],
    )


@functools.cache
def permutation_bits_derivation() -> Derivation:
    """Stirling bounds on ``ln F!`` by induction, and both bounds ``~ F ln F`` (so ``log2 F! ~ F log2 F``)."""
    lower_inc = Monotone("ln(1+x) <= x for x >= 0", x, ">=", sp.log(1 + x), var=x, x0=0)
    upper_inc = Monotone("ln(1+y) >= y/(1+y) for y >= 0", sp.log(1 + y), ">=", y / (1 + y), var=y, x0=0)
    return Derivation(
        name="counting: bits of a permutation (Stirling bounds)",
        statement=sp.And(
            sp.Le(LN_FACT_LOWER, sp.log(sp.factorial(F))),
            sp.Le(sp.log(sp.factorial(F)), LN_FACT_UPPER),
            sp.Eq(sp.Limit(LN_FACT_LOWER / (F * sp.log(F)), F, sp.oo), 1, evaluate=False),
            sp.Eq(sp.Limit(LN_FACT_UPPER / (F * sp.log(F)), F, sp.oo), 1, evaluate=False),
        ),
        symbols=[F],
        assumptions=(
            "F a positive integer; log2 F! = ln F!/ln 2 bits. Induction on F: (F+1)! = (F+1) F!; "
            "the increments reduce to ln(1+x) <= x with x = 1/F and ln(1+y) >= y/(1+y) with y = 1/(F+1)."
        ),
        steps=[
            Induction(
                "lower Stirling bound, induction on F",
                LN_FACT_LOWER,
                "<=",
                sp.log(sp.factorial(F)),
                var=F,
                n0=1,
                increment=lower_inc,
                increment_subs={x: 1 / F},
                increment_factor=F,
            ),
            Induction(
                "upper Stirling bound, induction on F",
                sp.log(sp.factorial(F)),
                "<=",
                LN_FACT_UPPER,
                var=F,
                n0=1,
                increment=upper_inc,
                increment_subs={y: 1 / (F + 1)},
                increment_factor=F + 2,
            ),
            Limit("lower bound / (F ln F) -> 1", LN_FACT_LOWER / (F * sp.log(F)), F, sp.oo, 1),
            Limit(
                "upper bound / (F ln F) -> 1 (squeeze: ln F! ~ F ln F)", LN_FACT_UPPER / (F * sp.log(F)), F, sp.oo, 1
            ),
        ],
        references=["elementary Stirling bounds; e.g. Robbins (1955) for the sharper form"],
    )


@functools.cache
def param_lower_bound_derivation() -> Derivation:
    """``2**(b P) >= N**F  =>  P >= F log2 N / b``."""
    states_enough = sp.Ge(2 ** (b * P), N**F)
    return Derivation(
        name="counting: parameter lower bound F log2 N / b",
        statement=sp.Implies(states_enough, sp.Ge(P, PARAM_LOWER_BOUND)),
        symbols=[F, N, P, b],
        assumptions=(
            "A scheme with P parameters of b bits each has at most 2^(bP) states; to store every map "
            "[F] -> [N] distinct maps need distinct states, so 2^(bP) >= N^F (pigeonhole), the hypothesis. "
            "Write 2^(bP) = N^F (1 + t), t >= 0."
        ),
        steps=[
            Equality("log2 of the number of states", sp.log(2 ** (b * P)) / sp.log(2), b * P),
            Inequality(
                "log2 is increasing: 2^(bP) >= N^F gives b P >= F log2 N",
                MAP_BITS,
                "<=",
                b * P,
                subs={P: sp.log(N**F * (1 + t)) / sp.log(2) / b},
                conditions=[states_enough],
            ),
            Inequality(
                "divide by b > 0",
                PARAM_LOWER_BOUND,
                "<=",
                P,
                subs={P: (MAP_BITS + t) / b},
                conditions=[sp.Le(MAP_BITS, b * P)],
            ),
        ],
        references=["pigeonhole / counting argument"],
    )
