r"""C2 (genericity): the encoder-decoder stores every generic feasible fact set at its default width.

The construction reduces to the linear system ``Phi X = C`` with
``Phi`` (``F x r d``) whose rows ``kron(act(G k_i), k_i)`` are analytic in the
keys; :mod:`theory.measure_zero` proves a maximal minor is not identically
zero, so the system is singular only on a Lebesgue-null set of keys.

Numeric side: for random fact sets of several embedding families (each a
generic draw), ``construct(fs, method)`` at the method's default width
(``ctx.method`` or ``encdec``) must be certified by
:func:`factmlp.verify.verify_storage` to store all ``F`` facts.  On degenerate
sets -- two identical keys mapped to different values, which no function can
store -- the construction must fail visibly: a typed
:class:`~factmlp.errors.FactMLPError` or an uncertified result, never
"stored".  Keys confined to a 2-dimensional subspace (a degeneracy the
measure-zero argument excludes, but not an impossible set) are run and
reported without entering the decision.

Decision rule: pass iff every generic set is certified stored and no
conflicting-duplicate set is reported stored (and the symbolic side is checked).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..framework import Claim, ClaimContext, register
from ._common import DEFAULT_METHOD, profile_sizes, storage_outcome, subseed, symbolic_summary

FAMILIES = ("spherical", "gaussian", "uniform", "kaiming", "spiked", "condition", "tied")

SIZES = {
    "quick": {"d": 16, "F": 96, "N": 96, "per_family": 2, "degenerate": 4, "duplicate_pairs": 2},
    "full": {"d": 32, "F": 256, "N": 256, "per_family": 3, "degenerate": 6, "duplicate_pairs": 3},
}


def statement() -> str:
    from theory.param_counts import WIDTH

    return (r"\text{for almost every } K \in \mathbb{R}^{F\times d}:\ \operatorname{rank}\Phi(K) = F,\ "
            r"\text{so } g_{\mathrm{encdec}} \text{ stores every feasible } (K, V, f) \text{ at } h = "
            + sp.latex(WIDTH["encdec"]) + r",\ r = \lceil F/d\rceil")


def symbolic() -> dict:
    from theory import measure_zero as mz

    return symbolic_summary([mz.encoder_symbolic_derivation(), mz.encoder_witness_derivation(),
                             mz.identity_rank_bound_derivation(), mz.ntk_derivation(), mz.hebbian_derivation()])


def conflicting_duplicates(fs, pairs: int, seed: int):
    """``fs`` with ``pairs`` keys overwritten by other keys of a different target value.

    Returns ``(factset, [(source, copy), ...])``: ``k_copy := k_source`` with
    ``f(copy) != f(source)``, so no function stores both facts.
    """
    from factmlp.factset import FactSet

    rng = np.random.default_rng(seed)
    keys = np.array(fs.keys)
    f = np.asarray(fs.mapping)
    done: list = []
    used: set = set()
    for _ in range(pairs):
        src = int(rng.choice([i for i in range(fs.n_facts) if i not in used]))
        cand = [i for i in range(fs.n_facts) if i not in used and i != src and f[i] != f[src]]
        dst = int(rng.choice(cand))
        keys[dst] = keys[src]
        used.update((src, dst))
        done.append((src, dst))
    return FactSet(keys, fs.values, f, meta=dict(fs.meta, degenerate="conflicting_duplicates")), done


def low_rank_keys(fs, rank: int, seed: int):
    """``fs`` with keys projected onto a random ``rank``-dimensional subspace (values unchanged)."""
    from factmlp.factset import FactSet

    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((fs.dim, rank)))
    keys = np.asarray(fs.keys) @ q @ q.T
    return FactSet(keys, fs.values, fs.mapping, meta=dict(fs.meta, degenerate=f"keys_rank_{rank}"))


def run(ctx: ClaimContext) -> tuple[bool, dict]:
    """Generic sets must be certified stored; conflicting duplicates never."""
    from factmlp.families import make_factset

    cfg = profile_sizes(ctx, SIZES)
    method = ctx.method or DEFAULT_METHOD
    generic, degenerate, low_rank = [], [], []
    base_sets = []
    for fam in FAMILIES:
        for k in range(cfg["per_family"]):
            seed = subseed(ctx.seed, "C2-generic", FAMILIES.index(fam), k)
            fs = make_factset(fam, d=cfg["d"], facts=cfg["F"], values=cfg["N"], seed=seed)
            ctx.record_input(fs, seed)
            out = storage_outcome(fs, method, seed=subseed(ctx.seed, "C2-construct", FAMILIES.index(fam), k))
            generic.append({"family": fam, "seed": seed, **out})
            base_sets.append(fs)
    for k in range(cfg["degenerate"]):
        base = base_sets[(k * cfg["per_family"]) % len(base_sets)]  # first draw of family k, k+1, ...
        seed = subseed(ctx.seed, "C2-degenerate", k)
        fs, pairs = conflicting_duplicates(base, cfg["duplicate_pairs"], seed)
        ctx.record_input(fs, seed)
        out = storage_outcome(fs, method, seed=seed)
        degenerate.append({"family": base.meta.get("family"), "seed": seed, "pairs": pairs, **out})
        lr_seed = subseed(ctx.seed, "C2-lowrank", k)
        fl = low_rank_keys(base, 2, lr_seed)
        ctx.record_input(fl, lr_seed)
        low_rank.append({"family": base.meta.get("family"), "seed": lr_seed,
                         **storage_outcome(fl, method, seed=lr_seed)})
    n_gen_ok = sum(g["outcome"] == "stored" for g in generic)
    n_deg_stored = sum(g["outcome"] == "stored" for g in degenerate)
    passed = n_gen_ok == len(generic) and n_deg_stored == 0
    numbers = {
        "headline": ["method", "generic_stored", "generic_total", "degenerate_reported_stored"],
        "method": method,
        "generic_stored": n_gen_ok,
        "generic_total": len(generic),
        "degenerate_reported_stored": n_deg_stored,
        "degenerate_total": len(degenerate),
        "degenerate_typed_errors": sum(g["outcome"] == "error" for g in degenerate),
        "degenerate_uncertified": sum(g["outcome"] == "not_stored" for g in degenerate),
        "low_rank_outcomes": {o: sum(g["outcome"] == o for g in low_rank) for o in ("stored", "not_stored", "error")},
        "sizes": {k: cfg[k] for k in ("d", "F", "N")},
        "generic": generic,
        "degenerate": degenerate,
        "low_rank": low_rank,
    }
    return passed, numbers


CLAIM = register(Claim(
    id="C2",
    title="Genericity: stores every generic feasible set",
    statement=statement,
    run=run,
    symbolic=symbolic,
    doc=__doc__ or "",
))
