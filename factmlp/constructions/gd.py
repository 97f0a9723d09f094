"""Gradient descent as a construction method (``method="gd"``, needs torch).

The builder is :func:`factmlp.train.train_gd`: a gated MLP ``g(x) = W_down
(act(W_gate x) * (W_up x))`` of width ``h`` trained with Adam on the
cross-entropy of the logits ``s V g(k_i)`` until every fact is certified
stored or the step budget ends.  GD promises nothing beyond "within its step
budget", so ``guarantee=False``; the parameter count is ``3 d h``.

Default width: the width whose ``3 d h`` parameters are twice the counting
bound at 2 bits per parameter (about what GD-trained networks reach,
Allen-Zhu and Li, "Physics of Language Models 3.3"; THEORY_NOTES section 6
measured 2.5 bits/param at best):

    h = max(4, ceil(2 * (F log2 N / 2) / (3 d))) = max(4, ceil(F log2 N / (3 d))),

i.e. about 1 bit per parameter: a factor-2 slack over what GD stores at its
best, so the default run usually succeeds within the default budget, while
staying far below interpolation (``h = F``).  The minimum 4 keeps tiny sets
trainable.

torch is imported only inside the builder (through :mod:`factmlp.train`):
importing this module never needs it; building without torch raises
:class:`~factmlp.errors.TorchUnavailableError`.
"""

from __future__ import annotations

import inspect
import math
from typing import Any

from ..errors import InvalidInputError
from ..factset import FactSet
from .registry import Built, register_method

__all__ = ["build_gd", "gd_default_hidden", "gd_param_bound", "GD_BITS_PER_PARAM", "GD_SLACK", "GD_MIN_WIDTH"]

GD_BITS_PER_PARAM = 2.0  # bits per parameter GD is credited with
GD_SLACK = 2.0  # parameters = GD_SLACK x the counting bound at GD_BITS_PER_PARAM
GD_MIN_WIDTH = 4


def _train_options() -> set[str]:
    from ..train import train_gd

    params = inspect.signature(train_gd).parameters
    return {n for n, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}


def _check_options(options: dict) -> None:
    unknown = sorted(set(options) - _train_options())
    if unknown:
        raise InvalidInputError(
            f"unknown option(s) {unknown} for method 'gd'; expected some of {sorted(_train_options())}"
        )


def build_gd(factset: FactSet, hidden: int, seed: Any = 0, **options: Any) -> Built:
    """Train a gated MLP of width ``hidden`` on ``factset`` with :func:`factmlp.train.train_gd`.

    ``options`` are ``train_gd``'s keyword settings (``activation``, ``lr``,
    ``steps``, ``batch_size``, ``logit_scale``, ``check_every``,
    ``init_scale``, ``dtype``, ``verify``); unknown names raise
    :class:`InvalidInputError`.  Returns ``Built(mlp, info=train_info)``
    (``info`` has ``steps``, ``stored``, ``certified``, ``loss``, ...).
    """
    _check_options(options)
    from ..train import train_gd  # imports torch lazily; TorchUnavailableError without it

    mlp, info = train_gd(factset, hidden, seed=seed, **options)
    return Built(mlp, info=info)


def gd_default_hidden(factset: FactSet, **options: Any) -> int:
    """``h = max(4, ceil(GD_SLACK * (F log2 N / GD_BITS_PER_PARAM) / (3 d)))`` (see the module docstring)."""
    from theory.counting import param_lower_bound

    _check_options(options)
    bound = param_lower_bound(factset.n_facts, factset.n_values, GD_BITS_PER_PARAM)
    return max(GD_MIN_WIDTH, math.ceil(GD_SLACK * bound / (3 * factset.dim) - 1e-9))


def gd_param_bound(factset: FactSet, hidden: int, **options: Any) -> int:
    """``3 d h`` at the width used (a trained MLP has no smaller theoretical count)."""
    from theory.param_counts import param_count

    return param_count("gd", "folded", d=factset.dim, h=int(hidden))


register_method(
    "gd",
    build_gd,
    default_hidden=gd_default_hidden,
    guarantee=False,
    param_bound=gd_param_bound,
    needs_torch=True,
    description="gradient descent: Adam on the cross-entropy of V g(k_i), stopped at certified storage",
)
