"""Known-bad variants that the claims of ``factmlp verify`` must catch (``kind="verify"``).

Importing this module registers them in :data:`proofs_checks.mutants.MUTANTS`,
named ``claims.<name>`` (theory mutants are ``theory.<name>``).
Each ``patch()`` swaps one piece of the product in-process and restores it on
exit:

* ``claims.encdec_misstores_one_fact``: the encoder-decoder is built for the fact set
  with fact 0 mapped to another value, so it stores F - 1 of F facts
  (caught by C3's certified-storage checks and C5's capacity searches);
* ``claims.encdec_exceeds_declared_bound``: the encoder-decoder's default width is
  twice the theory's width while its declared parameter bound stays (C3);
* ``claims.lenient_verifier``: :func:`factmlp.verify.verify_storage` reports every
  fact stored (C3 and C5, through their verifier controls on MLPs known not
  to store: the zero MLP and a random MLP);
* ``claims.counting_bound_b_1e-6``: C3's counting bound with b = 1e-6 bits per
  parameter (C3: the bound then exceeds every measured count);
* ``claims.decodability_rejects_small_rho``: the decodability solver declares every
  true vertex with rho_j < 5e-3 a non-vertex (C1, through its near-degenerate
  vertices);
* ``claims.encdec_no_projection``: the encoder-decoder with the JL projection removed,
  code dimension m = d forced in width, bound and build (expected: C4, a claim
  of the asymptotic parameter count where m < d; C2 and C6 may catch it too).
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .mutants import Mutant, register_mutant

__all__ = ["patch_everywhere", "replace_method"]

SMALL_RHO = 5e-3  # the lenient decodability mutant rejects true vertices below this rho_j
BAD_BITS = 1e-6  # bits per parameter of the wrong counting bound


@contextlib.contextmanager
def patch_everywhere(
    original: Any, replacement: Any, prefixes: tuple[str, ...] = ("factmlp", "proofs_checks")
) -> Iterator[None]:
    """Replace every module-level reference to ``original`` in loaded ``prefixes`` modules by ``replacement``.

    Catches ``from x import f`` copies as well as the defining module; every
    reference is restored on exit.
    """
    hits = []
    for name, mod in list(sys.modules.items()):
        if mod is None or not name.startswith(prefixes):
            continue
        for attr, value in list(vars(mod).items()):
            if value is original:
                hits.append((mod, attr))
    for mod, attr in hits:
        setattr(mod, attr, replacement)
    try:
        yield
    finally:
        for mod, attr in hits:
            setattr(mod, attr, original)


@contextlib.contextmanager
def replace_method(name: str, **changes: Any) -> Iterator[None]:
    """Swap the registered :class:`~factmlp.constructions.Method` ``name`` for a copy with ``changes``."""
    from factmlp.constructions import METHODS

    original = METHODS[name]
    METHODS[name] = dataclasses.replace(original, **changes)
    try:
        yield
    finally:
        METHODS[name] = original


def _misstore_patch() -> contextlib.AbstractContextManager:
    from factmlp.constructions import METHODS

    builder = METHODS["encdec"].builder

    def build(factset, hidden, seed=0, **options):
        mapping = np.array(factset.mapping, copy=True)
        mapping[0] = (mapping[0] + 1) % factset.n_values  # fact 0 now points at another value
        return builder(factset.with_mapping(mapping), hidden, seed, **options)

    return replace_method("encdec", builder=build)


def _exceeds_bound_patch() -> contextlib.AbstractContextManager:
    from factmlp.constructions import METHODS

    default = METHODS["encdec"].default_hidden
    # twice the theory's width: the declared bound is the theory's count, so this exceeds it
    # (doubling the compressed default would stay below that bound)
    return replace_method(
        "encdec", default_hidden=lambda factset, **o: 2 * default(factset, **{**o, "code_dim": "theory"})
    )


def _lenient_verifier_patch() -> contextlib.AbstractContextManager:
    from factmlp import verify as verify_mod

    real = verify_mod.verify_storage

    def lenient(mlp, factset, **kwargs):
        rep = real(mlp, factset, **kwargs)
        empty = np.zeros(0, dtype=np.int64)
        return dataclasses.replace(
            rep, stored=int(rep.total), certified=True, failing=empty, argmax_wrong=empty, undecided=empty
        )

    return patch_everywhere(real, lenient)


@contextlib.contextmanager
def _bad_bits_patch() -> Iterator[None]:
    from .claims import c3_parameter_bound as c3

    old = c3.BITS
    c3.BITS = BAD_BITS
    try:
        yield
    finally:
        c3.BITS = old


def _small_rho_patch() -> contextlib.AbstractContextManager:
    import importlib

    importlib.import_module("factmlp.decodability")
    mod = sys.modules["factmlp.decodability"]  # the attribute factmlp.decodability is the function
    real = mod.decodability

    def rejecting(values, indices=None, **kwargs):
        res = real(values, indices, **kwargs)
        bad = np.asarray(res.vertex, bool) & (np.nan_to_num(res.rho_per_value, nan=np.inf) < SMALL_RHO)
        if not bad.any():
            return res
        vertex = np.asarray(res.vertex, bool) & ~bad
        rpv = np.where(bad, 0.0, res.rho_per_value)
        rho = float(np.min(rpv[res.indices])) if len(res.indices) else res.rho
        return dataclasses.replace(res, vertex=vertex, rho_per_value=rpv, rho=rho)

    return patch_everywhere(real, rejecting)


def _no_projection_patch() -> contextlib.AbstractContextManager:
    from factmlp.constructions import METHODS

    meth = METHODS["encdec"]

    def forced(fn: Callable) -> Callable:
        def wrapped(factset, *args, **options):
            return fn(factset, *args, **{**options, "code_dim": factset.dim})

        return wrapped

    return replace_method(
        "encdec",
        builder=forced(meth.builder),
        default_hidden=forced(meth.default_hidden),
        param_bound=None if meth.param_bound is None else forced(meth.param_bound),
    )


for _m in (
    Mutant(
        "claims.encdec_misstores_one_fact",
        "encdec stores fact 0 as another value (F - 1 of F stored)",
        "verify",
        _misstore_patch,
        ("C3", "C5"),
    ),
    Mutant(
        "claims.encdec_exceeds_declared_bound",
        "encdec's default width set to twice the theory's width, declared parameter bound unchanged",
        "verify",
        _exceeds_bound_patch,
        ("C3",),
    ),
    Mutant(
        "claims.lenient_verifier",
        "verify_storage reports every fact stored",
        "verify",
        _lenient_verifier_patch,
        ("C3", "C5"),
    ),
    Mutant(
        "claims.counting_bound_b_1e-6",
        "C3's counting bound F log2 N / b with b = 1e-6 bits per parameter",
        "verify",
        _bad_bits_patch,
        ("C3",),
    ),
    Mutant(
        "claims.decodability_rejects_small_rho",
        f"decodability declares true vertices with rho_j < {SMALL_RHO} non-vertices",
        "verify",
        _small_rho_patch,
        ("C1",),
    ),
    Mutant(
        "claims.encdec_no_projection",
        "encdec without the JL projection: code dimension m = d forced",
        "verify",
        _no_projection_patch,
        ("C4",),
    ),
):
    register_mutant(_m)
