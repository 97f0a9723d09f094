"""All registered derivations, in the order they are reported."""

from __future__ import annotations

from .derivation import Derivation

__all__ = ["all_derivations", "check_all", "builders", "clear_caches"]


def builders() -> list:
    """The functions that build the registered derivations (each cached by ``functools.lru_cache``)."""
    from . import activation_defs, counting, jl, measure_zero, param_counts

    return [
        counting.map_bits_derivation,
        counting.permutation_bits_derivation,
        counting.param_lower_bound_derivation,
        jl.jl_vectors_derivation,
        jl.jl_points_derivation,
        jl.inner_product_derivation,
        jl.decoder_margin_derivation,
        param_counts.encdec_bound_derivation,
        param_counts.ratio_limit_derivation,
        activation_defs.activation_evaluators_derivation,
        measure_zero.encoder_symbolic_derivation,
        measure_zero.encoder_witness_derivation,
        measure_zero.identity_rank_bound_derivation,
        measure_zero.ntk_derivation,
        measure_zero.hebbian_derivation,
    ]


def all_derivations() -> list[Derivation]:
    """Every derivation of ``theory/`` (each built once and cached by its module)."""
    return [build() for build in builders()]


def clear_caches() -> None:
    """Forget every built derivation (and its check results).

    The next call then rebuilds them from the modules' current objects.
    """
    for build in builders():
        clear = getattr(build, "cache_clear", None)
        if clear is not None:
            clear()


def check_all() -> dict[str, str]:
    """``{name: status}`` for every derivation."""
    return {dv.name: dv.check() for dv in all_derivations()}
