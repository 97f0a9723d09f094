"""Symbolic derivations (SymPy) of factmlp's bounds and measure-zero conditions.

Modules: :mod:`theory.derivation` (the checkable-derivation framework),
:mod:`theory.counting` (counting lower bounds), :mod:`theory.jl`
(Johnson-Lindenstrauss with explicit constants, decoder margin),
:mod:`theory.param_counts` (parameter counts and the ratio to the counting
bound), :mod:`theory.measure_zero` (genericity of the linear systems),
:mod:`theory.registry` (``all_derivations()``).  See docs/theory.md.
"""

from __future__ import annotations

__all__ = ["all_derivations"]


def all_derivations():
    """Every registered :class:`theory.derivation.Derivation` (see :mod:`theory.registry`)."""
    from .registry import all_derivations as _all

    return _all()
