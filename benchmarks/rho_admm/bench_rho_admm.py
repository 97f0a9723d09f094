"""ADMM (hebbian-mlps, 300 fixed iterations) vs factmlp's exact certified rho at d = 128.

The baseline is the public repository HazyResearch/hebbian-mlps, unpacked
outside this tree (default ``/tmp/hebbian-mlps``) and imported BY PATH: its
``src/hebbian/metrics/value_separability.py`` (``_build_constraint_batch``,
``_fit_separator_batch``: ADMM with ``num_iters=300``, penalty ``rho=1``, no
convergence test).  Nothing of it is committed; its commit hash is recorded.

Per value ``j`` both solve ``rho_j = max_{||u||<=1} min_{l!=j} <w_l, u>``,
``w_l = (v_j - v_l)/||v_j - v_l||``.  Columns per (N, value):
``admm`` = ADMM's returned margin variable, ``admm_realised`` =
``min_l <w_l, u/||u||>`` of its returned ``u`` (a true lower bound),
``lower``/``upper``/``exact`` = factmlp's certified bracket and value.
An over-claim is ``admm > upper`` (ADMM says more than is provably true).

Values: spherical rows (``factmlp.families``), seed 0.  For N = 4,096 both
run on the same seeded subset of 256 values (one ADMM batch; each value still
against all N - 1 others) and the times for all N are extrapolated linearly
(``*_all_N`` columns, ``admm_subset`` says so).
ADMM runs in float32, the dtype of their code's callers (torch default);
factmlp in float64.

Run: ``OMP_NUM_THREADS=1 python benchmarks/rho_admm/bench_rho_admm.py [--hebbian /tmp/hebbian-mlps]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
import types

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from _results import write_csv  # noqa: E402

from factmlp.decodability import decodability  # noqa: E402
from factmlp.families import make_embeddings  # noqa: E402
from factmlp.provenance import provenance  # noqa: E402

D = 128
SIZES = (1024, 4096)
SUBSET = 256
SEED = 0


def load_admm(root: str):
    """Their value_separability module, loaded from its file (tqdm stubbed if absent: only a progress bar)."""
    if importlib.util.find_spec("tqdm") is None:
        stub = types.ModuleType("tqdm")
        stub.tqdm = lambda it, **_: it  # type: ignore[attr-defined]
        sys.modules["tqdm"] = stub
    path = os.path.join(root, "src", "hebbian", "metrics", "value_separability.py")
    spec = importlib.util.spec_from_file_location("hebbian_value_separability", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def commit_of(root: str) -> str:
    """Commit hash recorded next to the unpacked tree (``COMMIT`` file) or 'unknown'."""
    f = os.path.join(root, "COMMIT")
    return open(f).read().strip() if os.path.isfile(f) else "unknown"


def realised(V: np.ndarray, j: np.ndarray, U: np.ndarray) -> np.ndarray:
    """``min_{l != j} <w_l, u/||u||>`` in float64 for each requested value (a valid lower bound on rho_j)."""
    out = np.empty(len(j))
    for k, (jj, u) in enumerate(zip(j, U, strict=True)):
        nu = np.linalg.norm(u)
        if nu == 0:
            out[k] = -np.inf
            continue
        diff = V[jj] - np.delete(V, jj, axis=0)
        W = diff / np.linalg.norm(diff, axis=1, keepdims=True)
        out[k] = float(np.min(W @ (u / nu)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hebbian", default="/tmp/hebbian-mlps")
    ap.add_argument("--out", default=os.path.join(HERE, "rho_admm.csv"))
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)))
    a = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    mod = load_admm(a.hebbian)
    base = {"hebbian_commit": commit_of(a.hebbian), "d": D, "seed": SEED, "admm_iters": 300, "admm_dtype": "float32"}
    summary, per_value = [], []
    for N in [int(s) for s in a.sizes.split(",")]:
        V = make_embeddings("spherical", N, D, SEED)
        load0 = open("/proc/loadavg").read().split()[0]
        rng = np.random.default_rng(SEED)
        idx = np.arange(N) if N <= 1024 else np.sort(rng.choice(N, SUBSET, replace=False))
        t0 = time.perf_counter()
        res = decodability(V, idx)  # each value still checked against all N - 1 differences
        t_exact = time.perf_counter() - t0
        Vt = torch.tensor(V, dtype=torch.float32)
        t0 = time.perf_counter()
        U_parts, m_parts = [], []
        for s in range(0, len(idx), 256):
            cons = mod._build_constraint_batch(Vt, torch.tensor(idx[s : s + 256]))
            u, m = mod._fit_separator_batch(cons, rho=1.0, num_iters=300)
            U_parts.append(u.numpy().astype(np.float64))
            m_parts.append(m.numpy().astype(np.float64))
        t_admm = time.perf_counter() - t0
        U, m = np.concatenate(U_parts), np.concatenate(m_parts)
        real = realised(V, idx, U)
        ex, lo, up = res.rho_per_value[idx], res.lower[idx], res.upper[idx]
        over = m > up
        err = m - ex
        for k, j in enumerate(idx):
            per_value.append(
                {
                    "N": N,
                    "value": int(j),
                    "exact": ex[k],
                    "lower": lo[k],
                    "upper": up[k],
                    "admm": m[k],
                    "admm_realised": real[k],
                    "over_claim": bool(over[k]),
                }
            )
        subset = len(idx) < N
        summary.append(
            {
                **base,
                "N": N,
                "n_admm_values": len(idx),
                "admm_subset": subset,
                "exact_seconds_measured": t_exact,
                "exact_seconds_all_N": t_exact * (N / len(idx)),
                "admm_seconds_measured": t_admm,
                "admm_seconds_all_N": t_admm * (N / len(idx)),
                "admm_all_N_extrapolated": subset,
                "rho_exact_on_subset": float(np.min(ex)),
                "rho_admm_on_subset": float(np.min(m)),
                "rho_admm_realised_on_subset": float(np.min(real)),
                "abs_err_median": float(np.median(np.abs(err))),
                "abs_err_max": float(np.max(np.abs(err))),
                "rel_err_median": float(np.median(np.abs(err) / ex)),
                "n_over_claim": int(over.sum()),
                "frac_over_claim": float(over.mean()),
                "max_over_claim": float(np.max(m - up)),
                "n_realised_below_lower": int((real < lo).sum()),
                "loadavg_start": load0,
                "loadavg_end": open("/proc/loadavg").read().split()[0],
            }
        )
        print(json.dumps(summary[-1]), flush=True)
        write_csv(a.out, summary, {"provenance": json.dumps(provenance())})
        write_csv(a.out.replace(".csv", "_per_value.csv"), per_value)


if __name__ == "__main__":
    main()
