"""Helpers shared by the claim modules: seeds, sizes, symbolic summaries, storage checks."""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = [
    "subseed",
    "profile_sizes",
    "symbolic_summary",
    "storage_outcome",
    "have_torch",
    "DEFAULT_METHOD",
    "capacity_cached",
    "verifier_controls",
    "slope_interval",
    "grid_factset",
    "grid_construct_seed",
]

#: the construction the claims exercise unless ``ctx.method`` overrides it
DEFAULT_METHOD = "encdec"


def subseed(seed: int, tag: str, *index: int) -> int:
    """A derived seed in ``[0, 2^31)`` for the random choice named ``tag`` (and ``index``).

    ``SeedSequence([seed, crc32(tag), *index])``: independent streams for the
    different random choices of one claim, all fixed by the base seed.
    """
    entropy = [int(seed), zlib.crc32(tag.encode())] + [int(i) for i in index]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0] >> 1)


def have_torch() -> bool:
    """Whether PyTorch is importable (torch-based methods run only then)."""
    import importlib.util

    return importlib.util.find_spec("torch") is not None


def profile_sizes(ctx: Any, table: dict) -> dict:
    """``table[ctx.profile]`` (a dict of sizes); unknown profiles raise ``KeyError`` naming the known ones."""
    try:
        return dict(table[ctx.profile])
    except KeyError:
        raise KeyError(f"profile {ctx.profile!r} has no sizes; known: {sorted(table)}") from None


def symbolic_summary(derivations: Iterable[Any]) -> dict:
    """Run ``.check()`` on each derivation; ``status`` is checked / unchecked / failed overall.

    ``checked`` iff every derivation is checked, ``failed`` iff one failed.
    """
    rows = []
    for dv in derivations:
        status = dv.check()
        steps = dv.step_results
        rows.append(
            {
                "name": dv.name,
                "status": status,
                "statement_latex": dv.statement_latex(),
                "steps": len(steps),
                "steps_proved": sum(r.status == "proved" for r in steps),
            }
        )
    statuses = [r["status"] for r in rows]
    overall = (
        "failed" if "failed" in statuses else ("checked" if all(s == "checked" for s in statuses) else "unchecked")
    )
    return {"status": overall, "derivations": rows}


def storage_outcome(factset: Any, method: str, *, seed: int, hidden: int | None = None) -> dict:
    """Construct with ``method`` and verify: ``{"outcome": "stored" | "not_stored" | "error", ...}``.

    ``stored`` means :func:`factmlp.verify.verify_storage` certified all F facts.
    A :class:`~factmlp.errors.FactMLPError` from the construction is recorded
    as ``error`` with its type, message and indices; other exceptions propagate.
    """
    from factmlp.constructions import construct
    from factmlp.errors import FactMLPError
    from factmlp.verify import verify_storage

    try:
        c = construct(factset, method, hidden=hidden, seed=seed)
    except FactMLPError as exc:
        return {
            "outcome": "error",
            "error_type": type(exc).__name__,
            "message": str(exc)[:300],
            "indices": [int(i) for i in list(exc.indices)[:20]],
        }
    rep = verify_storage(c.mlp, factset)
    certified = bool(rep.certified) and int(rep.stored) == int(rep.total)
    return {
        "outcome": "stored" if certified else "not_stored",
        "stored": int(rep.stored),
        "total": int(rep.total),
        "min_margin": float(rep.min_margin),
        "hidden": int(c.hidden),
        "params": int(c.params),
        "params_factored": None if c.params_factored is None else int(c.params_factored),
        "param_bound": None if c.param_bound is None else int(c.param_bound),
        "info": {k: v for k, v in c.info.items() if isinstance(v, (bool, int, float, str))},
    }


def capacity_cached(ctx: Any, factset: Any, method: str, *, seed: int, rho: float | None = None, **options: Any) -> Any:
    """:func:`factmlp.capacity.min_width` of ``(factset, method, seed, options)``, cached in ``ctx.cache``.

    The key is the fact set's fingerprint, the method, the construction seed
    and the options, so two claims of one run (C3 and C9 share GD's searches)
    reuse a result only for the same computation.  Contexts without a
    ``cache`` attribute compute every time.
    """
    from factmlp.capacity import min_width

    key = ("min_width", factset.fingerprint(), method, int(seed), tuple(sorted(options.items())))
    cache = getattr(ctx, "cache", None)
    if cache is not None and key in cache:
        return cache[key]
    res = min_width(factset, method, seed=seed, rho=rho, **options)
    if cache is not None:
        cache[key] = res
    return res


def verifier_controls(factset: Any, *, seed: int) -> dict:
    """Run the verifier on two MLPs known not to store ``factset``: every capacity result rests on it.

    * zero weights (``g = 0``): every margin is exactly 0, so no fact is
      stored; the verifier must report ``stored == 0``;
    * random weights of width ``h = F`` (i.i.d. N(0, 1), ``seed``): it
      ignores the facts; the verifier must not certify all F.

    Returns ``{"ok": bool, "zero_stored": int, "random_stored": int, "total": F}``.
    A verifier that says "stored" too easily fails here, whatever the construction.
    """
    from factmlp.mlp import GatedMLP
    from factmlp.verify import verify_storage

    d, F = factset.dim, factset.n_facts
    zero = GatedMLP(np.zeros((1, d)), np.zeros((1, d)), np.zeros((d, 1)), "silu")
    rng = np.random.default_rng(seed)
    rand = GatedMLP(rng.standard_normal((F, d)), rng.standard_normal((F, d)), rng.standard_normal((d, F)), "silu")
    z = verify_storage(zero, factset)
    r = verify_storage(rand, factset)
    ok = int(z.stored) == 0 and not bool(z.certified) and not (bool(r.certified) and int(r.stored) == F)
    return {"ok": bool(ok), "zero_stored": int(z.stored), "random_stored": int(r.stored), "total": int(F)}


def slope_interval(x: Any, y: Any, level: float = 0.95) -> dict:
    """OLS slope of ``y`` on ``x`` with its two-sided ``level`` t-interval (n - 2 degrees of freedom).

    ``slope = sum (x - xbar)(y - ybar) / sum (x - xbar)^2``,
    ``se = sqrt(RSS / (n - 2) / sum (x - xbar)^2)``, interval
    ``slope +- t_{(1+level)/2, n-2} se``.  Needs n >= 3 and two distinct x.
    """
    from scipy import stats

    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = x.size
    xc = x - x.mean()
    sxx = float(xc @ xc)
    if n < 3 or not sxx > 0:
        raise ValueError(f"slope interval needs >= 3 points and two distinct x, got n={n}")
    slope = float(xc @ (y - y.mean()) / sxx)
    resid = y - (y.mean() + slope * xc)
    se = float(np.sqrt(resid @ resid / (n - 2) / sxx))
    tq = float(stats.t.ppf(0.5 + level / 2, n - 2))
    return {
        "slope": slope,
        "se": se,
        "ci_low": slope - tq * se,
        "ci_high": slope + tq * se,
        "level": level,
        "n": int(n),
        "intercept": float(y.mean() - slope * x.mean()),
    }


def grid_factset(ctx: Any, family: str, d: int, n_facts: int, k: int) -> tuple[Any, int]:
    """The ``k``-th fact set of the shared capacity grid: ``make_factset(family, d, F, N = F)``.

    Seeded by ``subseed(ctx.seed, "capacity-grid", d, F, k)`` (and the family),
    so C3 and C9 build bit-identical sets where their designs overlap and
    share capacity searches through :func:`capacity_cached`.  Returns
    ``(factset, seed)``.
    """
    from factmlp.families import make_factset

    seed = subseed(ctx.seed, "capacity-grid:" + family, int(d), int(n_facts), int(k))
    return make_factset(family, d=int(d), facts=int(n_facts), values=int(n_facts), seed=seed), seed


def grid_construct_seed(ctx: Any, family: str, d: int, n_facts: int, k: int) -> int:
    """Construction seed of the ``k``-th grid set (shared like :func:`grid_factset`)."""
    return subseed(ctx.seed, "capacity-construct:" + family, int(d), int(n_facts), int(k))
