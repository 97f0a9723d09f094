"""Benchmark of the exact decodability solver on spherical values.

Writes a CSV with one row per (N, d): N, d, seconds, rho, max relative gap
``max_j (upper_j - lower_j) / upper_j``, certified vertices, largest support,
seed, threads, and the provenance (factmlp.provenance.provenance()) as JSON.

    python benchmarks/bench_decodability.py --sizes 4096x128 --seed 0 --out bench_decodability.csv

Timings on a shared machine are contended; report them with that caveat.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
from _results import write_csv

from factmlp.decodability import decodability
from factmlp.families import make_embeddings
from factmlp.provenance import provenance


def _size(text: str) -> tuple[int, int]:
    n, d = text.lower().split("x")
    return int(n), int(d)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--sizes",
        nargs="+",
        type=_size,
        default=[(1024, 64), (4096, 64), (4096, 128)],
        help="N x d pairs, e.g. 4096x128",
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tol", type=float, default=1e-9)
    ap.add_argument("--backend", default="numpy")
    ap.add_argument("--out", default="bench_decodability.csv")
    args = ap.parse_args(argv)

    prov = json.dumps(provenance(), sort_keys=True, default=str)
    rows = []
    for n, d in args.sizes:
        v = make_embeddings("spherical", n, d, args.seed)
        t0, c0 = time.perf_counter(), time.process_time()
        res = decodability(v, tol=args.tol, backend=args.backend)
        sec, cpu = time.perf_counter() - t0, time.process_time() - c0
        gap = float(np.max((res.upper - res.lower) / res.upper))
        row = {
            "N": n,
            "d": d,
            "seconds": round(sec, 3),
            "rho": res.rho,
            "max_rel_gap": gap,
            "vertices": int(res.vertex.sum()),
            "max_support": max(len(s) for s in res.support),
            "seed": args.seed,
            "tol": args.tol,
            "backend": args.backend,
            "cpu_count": os.cpu_count(),
            "provenance": prov,
        }
        rows.append(row)
        row["loadavg_after"] = " ".join(open("/proc/loadavg").read().split()[:3])
        row["cpu_seconds"] = round(cpu, 3)
        print(f"N={n} d={d}: {sec:.2f} s ({cpu:.2f} s CPU), rho={res.rho:.6f}, max rel gap={gap:.2e}", flush=True)
        write_csv(args.out, rows)  # after every size: a cut-off run keeps its rows


if __name__ == "__main__":
    main()
