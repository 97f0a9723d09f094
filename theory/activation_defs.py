"""The activations' evaluators checked against their one definition.

:mod:`factmlp.activations` defines each activation once (a SymPy expression
in ``z``) and derives a float evaluator (used by ``factmlp.mlp`` and the
verifier) and an mpmath interval evaluator (used by the interval witnesses of
:mod:`theory.measure_zero`).  This module checks that they are what they
claim to be:

* silu's overflow-free float form ``z * (1/(1+e))`` (``z >= 0``) and
  ``z * (e/(1+e))`` (``z < 0``), ``e = exp(-|z|)``, equals the definition on
  each half-line (``simplify`` after ``z = u`` resp. ``z = -u``, ``u > 0``;
  the falsifier samples the original relation with ``z = 0`` included);
* :class:`IntervalEnclosesDefinition`: at fixed and seeded sample points
  ``z`` (float64 numbers, taken exactly), the interval evaluator's enclosure
  at 200 bits contains the definition's value (SymPy, 100 digits, up to its
  decimal rounding ``10**-95`` relative), and the
  float evaluator ``factmlp.mlp.activation_fn(name)`` lies within
  ``factmlp.verify.activation_error_bound`` of that enclosure.  A wrong
  interval formula (e.g. silu as ``z/(1+e^z)``) or a wrong float formula
  fails here.

Sample points make this a check at those points, not a proof over R; it ties
the three evaluators to one definition so that a witness computed with the
interval evaluator is about the activation the MLPs use.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import sympy as sp

from .derivation import FAILED, PROVED, Claim, Derivation, Equality, Step, StepResult
from .symbols import u

__all__ = ["SAMPLE_POINTS", "IntervalEnclosesDefinition", "activation_evaluators_derivation"]

#: fixed points (around 0, the silu/gelu extremes of the derivative, large |z|) plus seeded draws
SAMPLE_POINTS: tuple[float, ...] = tuple(
    [-40.0, -12.5, -3.0, -1.0, -0.5, -1e-3, 0.0, 1e-3, 0.3, 1.0, 2.3994, 5.0, 12.5, 40.0]
    + [float(v) for v in np.random.default_rng(20261202).uniform(-20.0, 20.0, size=18)]
)


class IntervalEnclosesDefinition(Step):
    """At each sample point: definition value in the interval enclosure; float value within its error bound of it."""

    method = "interval-vs-definition"

    def __init__(self, activation: str, points: tuple[float, ...] = SAMPLE_POINTS, prec: int = 200) -> None:
        desc = (
            f"{activation}: interval evaluator encloses the definition, float evaluator within its error "
            f"bound, at {len(points)} points"
        )
        super().__init__(desc, sp.Symbol("act"), "==", sp.Symbol("act"), [])
        self.activation, self.points, self.prec = activation, tuple(points), int(prec)

    def relation(self) -> Claim:
        """The claim named by the description."""
        return Claim(self.description)

    def latex(self) -> str:
        return r"\text{" + self.activation + r"}_{\mathrm{iv}}(z) \ni \text{" + self.activation + r"}(z)"

    def check(self) -> StepResult:
        import mpmath
        from mpmath import iv

        from factmlp import activations as acts
        from factmlp.mlp import activation_fn
        from factmlp.verify import activation_error_bound

        fn_iv = acts.interval_fn(self.activation)
        zs = np.array(self.points, dtype=np.float64)
        fl = activation_fn(self.activation)(zs)
        err = activation_error_bound(self.activation, zs, fl)
        old = iv.prec
        iv.prec = self.prec
        try:
            for zf, fv, ev in zip(zs, fl, err, strict=True):
                zq = sp.Rational(float(zf))  # the float, exactly
                enc = fn_iv(iv.mpf(float(zf)))
                if not hasattr(enc, "a"):
                    enc = iv.mpf(enc)
                digits = (self.prec + 100) // 3  # well beyond the enclosure's ~prec/3.3 digits
                with mpmath.workprec(self.prec + 200):
                    exact = mpmath.mpf(str(sp.N(acts.symbolic(self.activation, zq), digits)))
                    lo, hi = mpmath.mpf(enc.a), mpmath.mpf(enc.b)
                    slack = abs(exact) * mpmath.mpf(10) ** (5 - digits)  # decimal rounding of the reference value
                    inside = bool(lo - slack <= exact <= hi + slack)
                if not inside:
                    return StepResult(
                        FAILED,
                        f"z = {float(zf)!r}: the definition's value {mpmath.nstr(exact, 17)} "
                        f"is outside the interval enclosure [{mpmath.nstr(lo, 17)}, "
                        f"{mpmath.nstr(hi, 17)}]",
                    )
                if not (lo - float(ev) <= float(fv) <= hi + float(ev)):
                    return StepResult(
                        FAILED,
                        f"z = {float(zf)!r}: float value {float(fv)!r} is not within "
                        f"{float(ev):.3g} of the enclosure [{mpmath.nstr(lo, 17)}, "
                        f"{mpmath.nstr(hi, 17)}]",
                    )
        finally:
            iv.prec = old
        return StepResult(
            PROVED,
            f"definition in the enclosure and float within its error bound at all "
            f"{len(self.points)} points (prec {self.prec} bits)",
        )


def _branch_steps() -> list[Step]:
    """silu's float branches equal the definition on each half-line."""
    from factmlp import activations as acts

    z = acts.Z
    out: list[Step] = []
    for name, (pre, pos, neg) in acts.FLOAT_BRANCHES.items():
        out.append(
            Equality(
                f"{name}: float branch for z >= 0 equals the definition",
                pre * pos,
                acts.DEFINITIONS[name],
                subs={z: u},
                conditions=[z >= 0],
            )
        )
        out.append(
            Equality(
                f"{name}: float branch for z < 0 equals the definition",
                pre * neg,
                acts.DEFINITIONS[name],
                subs={z: -u},
                conditions=[z < 0],
            )
        )
    return out


@functools.cache
def activation_evaluators_derivation() -> Derivation:
    """Float branches = definition (symbolic); interval and float evaluators agree with it at sample points."""
    from factmlp import activations as acts

    z = acts.Z
    steps: list[Step] = _branch_steps()
    steps += [IntervalEnclosesDefinition(name) for name in acts.NAMES]
    goals: list[Any] = []
    for st in steps:
        if isinstance(st, IntervalEnclosesDefinition):
            goals.append(st.relation())
        else:
            goals.append(sp.Implies(st.conditions[0], st.relation()))
    return Derivation(
        name="activations: float and interval evaluators of the one definition",
        statement=sp.And(*goals),
        symbols=[z],
        assumptions=(
            "factmlp.activations.DEFINITIONS holds the one definition of each activation; the float evaluator "
            "(factmlp.mlp.activation_fn) and the interval evaluator (used by the interval witnesses) are generated "
            "from it. The interval checks hold at the listed sample points (float64 numbers taken exactly); "
            "gelu's enclosure trusts mpmath's erf to prec + 30 bits."
        ),
        steps=steps,
        references=["factmlp/activations.py"],
    )
