"""Mutants for the regime claims C2, C4, C6, C7, C8 and C10 (``kind="verify"``).

Importing this module registers them in :data:`proofs_checks.mutants.MUTANTS`.
Each ``patch()`` replaces one piece of the product in-process and restores it
on exit:

* ``encdec_m_equals_d``: the JL projection removed from encdec: the code
  dimension is forced to m = d (default width ``d ceil(F/d)``; an explicit
  width ``h`` gets ``r = h // d`` gate rows, and ``h < d`` is rejected as too
  small).  Caught by C2 (no storing MLP at ``m ceil(F/d)`` with m < d), C4
  (code dimension d, ratio growing like F / ln F) and C6 (no MLP at the JL
  width ``M_DECODER ceil(F/d)``).
* ``encdec_misstores_one_fact``: encdec builds its MLP for a fact set in which
  one fact (the first whose value can be changed) points at another used
  value: one fact mis-stored.  Caught by C7 (certified storage of all F) and
  C8 (the old MLP is not certified; retention must be exact).
* ``jl_decoder_constant_wrong``: ``theory.jl.m_decoder`` with the constant 6
  instead of 48 (m too small by a factor 8).  Caught by C6: its power
  statement puts the detectable factor for the decoder event at 4.
* ``whitening_disabled``: encdec's whitening map is the identity at every
  strength.  Caught by C10 (the Lipschitz bound no longer rises with s).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Iterator

import numpy as np

from .mutants import Mutant, register_mutant

__all__ = ["REGIME_MUTANTS"]


@contextlib.contextmanager
def _setattrs(module, **values) -> Iterator[None]:
    """Set module attributes for the block; the originals are restored on exit."""
    saved = {k: getattr(module, k) for k in values}
    for k, v in values.items():
        setattr(module, k, v)
    try:
        yield
    finally:
        for k, v in saved.items():
            setattr(module, k, v)


@contextlib.contextmanager
def encdec_m_equals_d() -> Iterator[None]:
    """encdec with m = d forced (no JL projection)."""
    from factmlp.constructions import encdec
    from factmlp.errors import InvalidInputError

    def layout(n_facts, dim, hidden, code_dim=None):
        if hidden < dim:
            raise InvalidInputError(f"hidden={hidden} is below d = {dim} (m = d code coordinates)")
        return dim, hidden // dim

    with _setattrs(encdec, encdec_layout=layout, _theory_code_dim=lambda factset, opts: factset.dim):
        yield


@contextlib.contextmanager
def encdec_misstores_one_fact() -> Iterator[None]:
    """encdec storing one fact with a wrong (but used, so decodable) value."""
    from factmlp.constructions.registry import METHODS
    from factmlp.factset import FactSet

    original = METHODS["encdec"]

    def builder(factset, hidden, seed=0, **options):
        f = np.array(factset.mapping)
        other = np.flatnonzero(f != f[0])
        if other.size:
            f[0] = f[other[0]]
        wrong = FactSet(factset.keys, factset.values, f, meta=dict(factset.meta))
        return original.builder(wrong, hidden, seed, **options)

    METHODS["encdec"] = dataclasses.replace(original, builder=builder)
    try:
        yield
    finally:
        METHODS["encdec"] = original


@contextlib.contextmanager
def jl_decoder_constant_wrong() -> Iterator[None]:
    """``M_DECODER`` with 6 in place of 48."""
    from theory import jl

    original = jl.m_decoder

    def m_decoder(rho_, n_values, delta_):
        return max(1, math.ceil(original(rho_, n_values, delta_) / 8))

    with _setattrs(jl, m_decoder=m_decoder):
        yield


@contextlib.contextmanager
def whitening_disabled() -> Iterator[None]:
    """encdec's ``Sigma^{-s/2}`` replaced by the identity."""
    from factmlp.constructions import encdec

    with _setattrs(encdec, _whitening=lambda values, strength=1.0: np.eye(values.shape[1])):
        yield


REGIME_MUTANTS = tuple(
    register_mutant(m)
    for m in (
        Mutant(
            "encdec_m_equals_d",
            "encdec without the JL projection: code dimension m = d forced",
            "verify",
            encdec_m_equals_d,
            ("C2", "C4", "C6"),
        ),
        Mutant(
            "encdec_misstores_one_fact",
            "encdec stores one fact with a wrong value",
            "verify",
            encdec_misstores_one_fact,
            ("C7", "C8"),
        ),
        Mutant(
            "jl_decoder_constant_wrong",
            "M_DECODER computed with constant 6 instead of 48",
            "verify",
            jl_decoder_constant_wrong,
            ("C6",),
        ),
        Mutant(
            "whitening_disabled",
            "encdec whitening is the identity at every strength",
            "verify",
            whitening_disabled,
            ("C10",),
        ),
    )
)
