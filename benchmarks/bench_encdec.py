"""Benchmark of the encoder-decoder construction at scale.

For spherical values, F = N = alpha d^2 (default d = 128, alpha = 1: F = 16384),
fact-set seed 0, construction seed 0, records: the decodability/feasibility
solve time, the construction time (at the default, guarantee width), the
verifier time, stored/F (certified), the parameter counts (folded and
factored) and their ratio to the counting bound F log2 N / 32, and the
provenance.  One CSV row per size.

    python benchmarks/bench_encdec.py --sizes 128x16384 --out benchmarks/results/encdec_scale.csv

Timings on a shared machine are contended; report them with that caveat.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time

from _results import write_csv

from factmlp.constructions import construct
from factmlp.constructions.registry import feasibility
from factmlp.families import make_factset
from factmlp.provenance import provenance
from factmlp.verify import verify_storage


def run(d: int, F: int, seed: int) -> dict:
    fs = make_factset("spherical", d, F, F, seed=seed)
    t0 = time.perf_counter()
    res = feasibility(fs)
    t_rho = time.perf_counter() - t0
    t0 = time.perf_counter()
    c = construct(fs, "encdec", seed=seed)
    t_con = time.perf_counter() - t0
    t0 = time.perf_counter()
    rep = verify_storage(c.mlp, fs)
    t_ver = time.perf_counter() - t0
    bound = F * math.log2(F) / 32.0
    return {
        "d": d,
        "F": F,
        "N": F,
        "seed": seed,
        "rho": float(res.rho),
        "rho_seconds": t_rho,
        "construct_seconds": t_con,
        "build_seconds": c.seconds,
        "verify_seconds": t_ver,
        "hidden": c.hidden,
        "params": c.params,
        "params_factored": c.params_factored,
        "param_bound": c.param_bound,
        "counting_bound_fp32": bound,
        "ratio_counting": c.params / bound,
        "ratio_counting_factored": c.params_factored / bound,
        "stored": rep.stored,
        "total": rep.total,
        "certified": rep.certified,
        "min_margin": rep.min_margin,
        "relative_residual": c.info["relative_residual"],
        "threads": os.cpu_count(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", default=["128x16384"], help="d x F, e.g. 64x4096")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="benchmarks/results/encdec_scale.csv")
    args = ap.parse_args()
    rows = []
    for text in args.sizes:
        d, F = (int(x) for x in text.lower().split("x"))
        row = run(d, F, args.seed)
        print(json.dumps(row), flush=True)
        rows.append(row)
    write_csv(args.out, rows, {"provenance": json.dumps(provenance(), sort_keys=True)})


if __name__ == "__main__":
    main()
