"""factmlp: a theory-first verification library for fact-storing MLPs.

The public API, importable without torch or CuPy:

* :class:`FactSet`, :func:`make_factset`, :func:`load_factset` - fact sets;
* :func:`decodability`, :func:`check_feasible` - exact decodability rho with
  certificates, and feasibility;
* :class:`GatedMLP`, :func:`load_mlp` - gated MLPs in the LlamaMLP layout;
* :func:`verify_storage` - the sound verifier of stored facts;
* :func:`construct` - every construction behind one entry point.

Names are resolved lazily, so ``import factmlp`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    # fact sets
    "FactSet": "factmlp.factset",
    "load_factset": "factmlp.factset",
    "make_factset": "factmlp.families",
    "make_embeddings": "factmlp.families",
    "FAMILIES": "factmlp.families",
    "factset_from_embeddings": "factmlp.real",
    # decodability and feasibility
    "decodability": "factmlp.decodability",
    "DecodabilityResult": "factmlp.decodability",
    "check_feasible": "factmlp.feasibility",
    "parallel": "factmlp.workers",
    # MLPs
    "GatedMLP": "factmlp.mlp",
    "load_mlp": "factmlp.mlp",
    # verification
    "verify_storage": "factmlp.verify",
    "StorageReport": "factmlp.verify",
    # constructions
    "construct": "factmlp.constructions",
    "Construction": "factmlp.constructions",
    "register_method": "factmlp.constructions",
    "METHODS": "factmlp.constructions",
    # errors
    "FactMLPError": "factmlp.errors",
    "InvalidInputError": "factmlp.errors",
    "InfeasibleFactSetError": "factmlp.errors",
    "DegenerateKeysError": "factmlp.errors",
    "ConvergenceError": "factmlp.errors",
    "NoCertifiedWidthError": "factmlp.errors",
    "polish": "factmlp.polish",
    "minimize": "factmlp.minimize",
    "MinimizeResult": "factmlp.minimize",
}

__all__ = sorted(_LAZY) + ["__version__"]

# ``decodability`` names both a submodule and its main function.  Once the
# submodule is imported, Python binds the package attribute to the module, so
# the function is bound here eagerly (after the submodule has loaded) and the
# public name always means the function.
from .decodability import decodability as decodability  # noqa: E402
from .minimize import minimize as minimize  # noqa: E402  (same reason)
from .polish import polish as polish  # noqa: E402  (same reason: the function, not the submodule)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'factmlp' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
