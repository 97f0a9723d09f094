"""Every construction behind one entry point: :func:`construct`.

Built-in methods (each in its own module, registered on import):

* ``encdec``  -- encoder-decoder (:mod:`factmlp.constructions.encdec`);
* ``hebbian`` -- Hebbian / bilinear features (:mod:`factmlp.constructions.hebbian`);
* ``ntk``     -- the earlier kernel-solve baseline (:mod:`factmlp.constructions.ntk`);
* ``gd``      -- gradient descent, needs torch (:mod:`factmlp.constructions.gd`);
* ``margin``  -- convex squared-hinge margin solves (:mod:`factmlp.constructions.margin`).

A new method is a builder ``builder(factset, hidden, seed, **options)``
returning a :class:`~factmlp.mlp.GatedMLP` (or a :class:`Built`) and one call
to :func:`register_method`; a spec ``"M+polish"`` (:data:`POLISH_SUFFIX`)
runs ``M`` then :func:`factmlp.polish.polish`.  It then runs through ``construct``, the capacity
search, the sweeps and :func:`factmlp.testing.check_construction`.
"""

from __future__ import annotations

import importlib

from .registry import (
    METHODS,
    POLISH_SUFFIX,
    Built,
    Construction,
    Method,
    construct,
    get_method,
    method_label,
    register_method,
    resolve_method,
)

__all__ = [
    "METHODS",
    "POLISH_SUFFIX",
    "Built",
    "Construction",
    "Method",
    "construct",
    "get_method",
    "method_label",
    "register_method",
    "resolve_method",
]

_BUILTIN = ("encdec", "hebbian", "ntk", "gd", "margin")

for _name in _BUILTIN:
    try:
        importlib.import_module(f"{__name__}.{_name}")
    except ModuleNotFoundError as _exc:  # a method module not written yet is absent
        if _exc.name != f"{__name__}.{_name}":
            raise
