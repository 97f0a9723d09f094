"""Construction time against GD training time to 100% storage, on the same fact set, in one run.

Spherical values, d = 32, F = N = 512, fact-set seed 0 (the small capacity
sweep's largest size).  GD is trained at its capacity width from the sweep
(``--gd-hidden``, default 19) until every fact is certified stored; encdec is
built at its guarantee width and at its capacity width (``--encdec-hidden``,
default 240).  One CSV row per method with seconds, params, stored/F, and the
ratio GD seconds / method seconds.

    python benchmarks/bench_construct_vs_gd.py --out benchmarks/results/construct_vs_gd.csv
"""

from __future__ import annotations

import argparse
import json
import time

from _results import write_csv

from factmlp.constructions import construct
from factmlp.constructions.registry import feasibility
from factmlp.families import make_factset
from factmlp.provenance import provenance
from factmlp.verify import verify_storage


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--d", type=int, default=32)
    ap.add_argument("--facts", type=int, default=512)
    ap.add_argument("--gd-hidden", type=int, default=19)
    ap.add_argument("--encdec-hidden", type=int, default=240)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="benchmarks/results/construct_vs_gd.csv")
    args = ap.parse_args()
    fs = make_factset("spherical", args.d, args.facts, seed=args.seed)
    t0 = time.perf_counter()
    feasibility(fs)
    rho_s = time.perf_counter() - t0
    runs = [("gd", args.gd_hidden, {}), ("encdec", None, {}), ("encdec", args.encdec_hidden, {"projection": "random"})]
    rows = []
    for method, hidden, opts in runs:
        t0 = time.perf_counter()
        c = construct(fs, method, hidden=hidden, seed=args.seed, **opts)
        sec = time.perf_counter() - t0
        rep = verify_storage(c.mlp, fs)
        rows.append(
            {
                "method": method,
                "hidden": c.hidden,
                "params": c.params,
                "seconds": sec,
                "stored": rep.stored,
                "total": rep.total,
                "certified": rep.certified,
                "rho_seconds_shared": rho_s,
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    gd_sec = rows[0]["seconds"]
    for r in rows:
        r["gd_seconds_over_method_seconds"] = gd_sec / r["seconds"]
    write_csv(args.out, rows, {"provenance": json.dumps(provenance(), sort_keys=True)})


if __name__ == "__main__":
    main()
