r"""C2 (genericity): the encoder-decoder stores every generic feasible fact set at width ``m ceil(F/d)``,
for m = d and for code dimensions m < d (JL projection and re-optimised codes).

The construction reduces to the linear system ``Phi X = C`` with
``Phi`` (``F x r d``) whose rows ``kron(act(G k_i), k_i)`` are analytic in the
keys; :mod:`theory.measure_zero` proves a maximal minor is not identically
zero, so the system is singular only on a Lebesgue-null set of keys.

With ``m < d`` the decoder projects the values, ``Z = V Q^T`` (Q a random
Gaussian m x d), and re-optimises the codes on ``Z``: every fact whose code
is fitted exactly is stored as soon as the projected values are vertices,
``rho(Z) > 0``; so for generic keys the statement needs ``rho(Z) > 0``, which
the construction reports (``rho_projected``) and the verifier certifies.

Numeric side, at explicit widths (independent of any method's default width):

* uncompressed: for random fact sets of several embedding families (each a
  generic draw, d = 16), ``construct(fs, method, hidden=d ceil(F/d))``
  (``ctx.method`` or ``encdec``) must be certified by
  :func:`factmlp.verify.verify_storage` to store all ``F`` facts;
* compressed (the JL regime, d >= 128): for fact sets of ``COMPRESSED_FAMILIES``
  and each code dimension m in ``code_dims`` (all < d),
  ``construct(fs, method, hidden=m ceil(F/d))`` must be certified to store all
  ``F`` facts (for encdec this width means m code coordinates and a random
  projection; the layout it used, ``m``, ``projection``, ``rho_projected``, is
  recorded).

On degenerate
sets -- two identical keys mapped to different values, which no function can
store -- the construction must fail visibly: a typed
:class:`~factmlp.errors.FactMLPError` or an uncertified result, never
"stored".  Keys confined to a 2-dimensional subspace (a degeneracy the
measure-zero argument excludes, but not an impossible set) are run and
reported without entering the decision.

Decision rule, fixed before running: pass iff every generic set, uncompressed
and compressed, is certified stored at its width, and no conflicting-duplicate
set is reported stored (and the symbolic side is checked).  A construction
that cannot use a code dimension below d (m = d forced) has no storing MLP at
``m ceil(F/d) < d ceil(F/d)`` and fails.

Evidence kind: the genericity is proved (:mod:`theory.measure_zero`, symbolic);
storage is exact (certified) at the listed sizes and seeds.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from ..framework import Claim, ClaimContext, register
from ._common import DEFAULT_METHOD, profile_sizes, storage_outcome, subseed, symbolic_summary

FAMILIES = ("spherical", "gaussian", "uniform", "kaiming", "spiked", "condition", "tied")

COMPRESSED_FAMILIES = ("spherical", "gaussian", "spiked")

SIZES = {
    "quick": {
        "d": 16,
        "F": 96,
        "N": 96,
        "per_family": 2,
        "degenerate": 4,
        "duplicate_pairs": 2,
        "compressed": {"d": 128, "F": 192, "N": 192, "code_dims": (32, 64)},
    },
    "full": {
        "d": 32,
        "F": 256,
        "N": 256,
        "per_family": 3,
        "degenerate": 6,
        "duplicate_pairs": 3,
        "compressed": {"d": 256, "F": 512, "N": 512, "code_dims": (32, 64, 128)},
    },
}


def statement() -> str:
    from theory.param_counts import WIDTH

    return (
        r"\text{for almost every } K \in \mathbb{R}^{F\times d}:\ \operatorname{rank}\Phi(K) = F,\ "
        r"\text{so } g_{\mathrm{encdec}} \text{ stores every feasible } (K, V, f) \text{ with } "
        r"\rho(V Q^\top) > 0 \text{ at } h = " + sp.latex(WIDTH["encdec"]) + r",\ r = \lceil F/d\rceil,\ m \le d"
    )


def symbolic() -> dict:
    from theory import measure_zero as mz

    return symbolic_summary(
        [
            mz.encoder_symbolic_derivation(),
            mz.encoder_witness_derivation(),
            mz.identity_rank_bound_derivation(),
            mz.ntk_derivation(),
            mz.hebbian_derivation(),
        ]
    )


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


def compressed_outcome(fs, method: str, code_dim: int, seed: int) -> dict:
    """``storage_outcome`` at the explicit width ``h = code_dim * ceil(F/d)`` plus the layout the method used.

    For encdec that width is ``m = code_dim`` code coordinates of ``r = ceil(F/d)`` units each
    (:func:`factmlp.constructions.encdec.encdec_layout`); ``m_used``, ``projection`` and
    ``rho_projected`` come from the construction's info (``None`` for methods without them).
    """
    h = code_dim * math.ceil(fs.n_facts / fs.dim)
    out = storage_outcome(fs, method, seed=seed, hidden=h)
    info = out.get("info", {})
    return {
        "code_dim": int(code_dim),
        "width": int(h),
        "m_used": info.get("m"),
        "projection": info.get("projection"),
        "rho_projected": info.get("rho_projected"),
        **out,
    }


def run(ctx: ClaimContext) -> tuple[bool, dict]:
    """Generic sets (m = d and m < d) must be certified stored; conflicting duplicates never."""
    from factmlp.families import make_factset

    cfg = profile_sizes(ctx, SIZES)
    method = ctx.method or DEFAULT_METHOD
    width = cfg["d"] * math.ceil(cfg["F"] / cfg["d"])  # m = d: the uncompressed encoder
    generic, degenerate, low_rank, compressed = [], [], [], []
    base_sets = []
    for fam in FAMILIES:
        for k in range(cfg["per_family"]):
            seed = subseed(ctx.seed, "C2-generic", FAMILIES.index(fam), k)
            fs = make_factset(fam, d=cfg["d"], facts=cfg["F"], values=cfg["N"], seed=seed)
            ctx.record_input(fs, seed)
            out = storage_outcome(
                fs, method, seed=subseed(ctx.seed, "C2-construct", FAMILIES.index(fam), k), hidden=width
            )
            generic.append({"family": fam, "seed": seed, **out})
            base_sets.append(fs)
    for k in range(cfg["degenerate"]):
        base = base_sets[(k * cfg["per_family"]) % len(base_sets)]  # first draw of family k, k+1, ...
        seed = subseed(ctx.seed, "C2-degenerate", k)
        fs, pairs = conflicting_duplicates(base, cfg["duplicate_pairs"], seed)
        ctx.record_input(fs, seed)
        out = storage_outcome(fs, method, seed=seed, hidden=width)
        degenerate.append({"family": base.meta.get("family"), "seed": seed, "pairs": pairs, **out})
        lr_seed = subseed(ctx.seed, "C2-lowrank", k)
        fl = low_rank_keys(base, 2, lr_seed)
        ctx.record_input(fl, lr_seed)
        low_rank.append(
            {
                "family": base.meta.get("family"),
                "seed": lr_seed,
                **storage_outcome(fl, method, seed=lr_seed, hidden=width),
            }
        )
    cc = cfg["compressed"]
    for fi, fam in enumerate(COMPRESSED_FAMILIES):
        seed = subseed(ctx.seed, "C2-compressed", fi)
        fs = make_factset(fam, d=cc["d"], facts=cc["F"], values=cc["N"], seed=seed)
        ctx.record_input(fs, seed)
        for m in cc["code_dims"]:
            out = compressed_outcome(fs, method, m, subseed(ctx.seed, "C2-compressed-construct", fi, m))
            compressed.append({"family": fam, "seed": seed, **out})
    n_gen_ok = sum(g["outcome"] == "stored" for g in generic)
    n_cmp_ok = sum(g["outcome"] == "stored" for g in compressed)
    n_deg_stored = sum(g["outcome"] == "stored" for g in degenerate)
    passed = n_gen_ok == len(generic) and n_cmp_ok == len(compressed) and n_deg_stored == 0
    numbers = {
        "headline": ["method", "generic_stored", "compressed_stored", "degenerate_reported_stored"],
        "method": method,
        "generic_stored": n_gen_ok,
        "generic_total": len(generic),
        "compressed_stored": n_cmp_ok,
        "compressed_total": len(compressed),
        "compressed_min_rho_projected": min(
            (g["rho_projected"] for g in compressed if g.get("rho_projected") is not None), default=None
        ),
        "degenerate_reported_stored": n_deg_stored,
        "degenerate_total": len(degenerate),
        "degenerate_typed_errors": sum(g["outcome"] == "error" for g in degenerate),
        "degenerate_uncertified": sum(g["outcome"] == "not_stored" for g in degenerate),
        "low_rank_outcomes": {o: sum(g["outcome"] == o for g in low_rank) for o in ("stored", "not_stored", "error")},
        "sizes": {k: cfg[k] for k in ("d", "F", "N")},
        "width": width,
        "compressed_sizes": {"d": cc["d"], "F": cc["F"], "N": cc["N"], "code_dims": list(cc["code_dims"])},
        "evidence": "genericity proved symbolically (theory.measure_zero); storage exact (certified) at the "
        "listed sizes and seeds",
        "generic": generic,
        "compressed": compressed,
        "degenerate": degenerate,
        "low_rank": low_rank,
    }
    return passed, numbers


CLAIM = register(
    Claim(
        id="C2",
        title="Genericity: stores every generic feasible set",
        statement=statement,
        run=run,
        symbolic=symbolic,
        doc=__doc__ or "",
    )
)
