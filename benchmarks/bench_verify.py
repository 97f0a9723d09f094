"""Benchmark of :func:`factmlp.verify.verify_storage`: wall time and peak memory.

A random fact set (spherical keys and values, float32, random map) and a
random gated MLP (Gaussian weights scaled by 1/sqrt(fan-in), float32); most
facts are not stored, which does not matter: the point is that the float64
pass runs in batches with memory O(batch (N + h)), independent of F.

Per size: wall seconds, batch size, the verifier's peak traced memory
(``tracemalloc``: NumPy allocations made during the call; the fact set and
MLP exist before it), the growth of the process's max RSS during the call,
stored / total, recomputed facts, the largest error bound.

    python benchmarks/bench_verify.py --sizes 1000000x4096 --d 64 --h 256 --out benchmarks/results/verify_memory.csv

Timings on a shared machine are contended; report them with that caveat.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
import tracemalloc

import numpy as np
from _results import write_csv

from factmlp.factset import FactSet
from factmlp.mlp import GatedMLP
from factmlp.provenance import provenance
from factmlp.verify import DEFAULT_MEMORY_BUDGET, verify_storage


def _size(text: str) -> tuple[int, int]:
    f, n = text.lower().split("x")
    return int(float(f)), int(float(n))


def _sphere(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    out = np.empty((n, d), dtype=np.float32)
    for lo in range(0, n, 65536):  # in chunks: no float64 copy of all keys
        g = rng.standard_normal((min(n, lo + 65536) - lo, d))
        out[lo : lo + g.shape[0]] = g / np.linalg.norm(g, axis=1, keepdims=True)
    return out


def _maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--sizes", nargs="+", type=_size, default=[(10**5, 4096), (10**6, 4096)], help="F x N pairs, e.g. 1000000x4096"
    )
    ap.add_argument("--d", type=int, default=64)
    ap.add_argument("--h", type=int, default=256)
    ap.add_argument("--activation", default="silu")
    ap.add_argument("--memory-budget", type=int, default=DEFAULT_MEMORY_BUDGET)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="benchmarks/results/verify_memory.csv")
    args = ap.parse_args(argv)

    prov = json.dumps(provenance(), sort_keys=True, default=str)
    rows = []
    for f, n in args.sizes:
        rng = np.random.default_rng(args.seed)
        d, h = args.d, args.h
        fs = FactSet(_sphere(rng, f, d), _sphere(rng, n, d), rng.integers(0, n, f))
        mlp = GatedMLP(
            (rng.standard_normal((h, d)) / np.sqrt(d)).astype(np.float32),
            (rng.standard_normal((h, d)) / np.sqrt(d)).astype(np.float32),
            (rng.standard_normal((d, h)) / np.sqrt(h)).astype(np.float32),
            args.activation,
        )
        rss0 = _maxrss_mib()
        tracemalloc.start()
        t0 = time.perf_counter()
        rep = verify_storage(mlp, fs, memory_budget=args.memory_budget)
        sec = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss1 = _maxrss_mib()
        row = {
            "F": f,
            "N": n,
            "d": d,
            "h": h,
            "activation": args.activation,
            "seconds": round(sec, 2),
            "batch_size": rep.batch_size,
            "memory_budget_mib": round(args.memory_budget / 2**20, 1),
            "peak_traced_mib": round(peak / 2**20, 1),
            "maxrss_growth_mib": round(rss1 - rss0, 1),
            "keys_mib": round(fs.keys.nbytes / 2**20, 1),
            "stored": rep.stored,
            "total": rep.total,
            "recomputed": int(rep.recomputed.size),
            "max_error_bound": float(np.max(rep.error_bounds)),
            "min_margin": rep.min_margin,
            "seed": args.seed,
            "cpu_count": os.cpu_count(),
            "provenance": prov,
        }
        rows.append(row)
        print(
            f"F={f} N={n} d={d} h={h}: {sec:.1f} s, batch {rep.batch_size}, peak traced "
            f"{row['peak_traced_mib']} MiB, maxrss +{row['maxrss_growth_mib']} MiB "
            f"(keys {row['keys_mib']} MiB), stored {rep.stored}/{rep.total}, "
            f"recomputed {rep.recomputed.size}, max bound {row['max_error_bound']:.2e}",
            flush=True,
        )
        del fs, mlp, rep
    write_csv(args.out, rows)


if __name__ == "__main__":
    main()
