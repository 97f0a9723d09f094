"""Helpers shared by the claim modules: seeds, sizes, symbolic summaries, storage checks."""

from __future__ import annotations

import zlib
from typing import Any, Iterable

import numpy as np

__all__ = ["subseed", "profile_sizes", "symbolic_summary", "storage_outcome", "have_torch", "DEFAULT_METHOD"]

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
        rows.append({
            "name": dv.name,
            "status": status,
            "statement_latex": dv.statement_latex(),
            "steps": len(steps),
            "steps_proved": sum(r.status == "proved" for r in steps),
        })
    statuses = [r["status"] for r in rows]
    overall = "failed" if "failed" in statuses else ("checked" if all(s == "checked" for s in statuses) else "unchecked")
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
        return {"outcome": "error", "error_type": type(exc).__name__, "message": str(exc)[:300],
                "indices": [int(i) for i in list(exc.indices)[:20]]}
    rep = verify_storage(c.mlp, factset)
    certified = bool(rep.certified) and int(rep.stored) == int(rep.total)
    return {"outcome": "stored" if certified else "not_stored", "stored": int(rep.stored), "total": int(rep.total),
            "min_margin": float(rep.min_margin), "hidden": int(c.hidden), "params": int(c.params),
            "params_factored": None if c.params_factored is None else int(c.params_factored),
            "param_bound": None if c.param_bound is None else int(c.param_bound),
            "info": {k: v for k, v in c.info.items() if isinstance(v, (bool, int, float, str))}}
