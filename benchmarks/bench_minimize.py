"""Benchmark of :func:`factmlp.minimize.minimize`: the smallest certified width, and how long finding it takes.

Cases (spherical fact sets, F = N, fact-set seed 0, construction seed 0):

* ``encdec`` at d = 64, F = 512 -- issue 13 target: under 30 s on 2 cores
  (wall time of the whole search, the fact set's feasibility solve included);
* ``margin`` at d = 32, F = 512.

Per case: seconds, hidden, params = 3 d h, bits per parameter F log2 N /
params, stored/total (certified; minimize re-verifies), the probes
(``width:stored``), the 1-minute load average before and after, the target
verdict where there is one, and the provenance.  A row is written as soon as
its case finishes, so a cut-off run keeps the finished rows.

    python benchmarks/bench_minimize.py --out benchmarks/results/minimize.csv

The machine is shared: read the times with the recorded load.
"""

from __future__ import annotations

import argparse
import json
import os
import time

from _results import write_csv

from factmlp.families import make_factset
from factmlp.minimize import minimize
from factmlp.provenance import provenance

CASES = (("encdec", 64, 512, 30.0), ("margin", 32, 512, None))


def _load() -> float:
    with open("/proc/loadavg") as fh:
        return float(fh.read().split()[0])


def run(method: str, d: int, F: int, seed: int, target_s: float | None) -> dict:
    fs = make_factset("spherical", d, F, F, seed=0)
    load0 = _load()
    t0 = time.perf_counter()
    res = minimize(fs, method, seed=seed)
    wall = time.perf_counter() - t0
    row = {
        "method": res.method,
        "family": "spherical",
        "d": d,
        "F": F,
        "N": F,
        "seed": seed,
        "factset_seed": 0,
        "hidden": res.hidden,
        "params": res.params,
        "bits_per_param": res.bits_per_param,
        "stored": res.stored,
        "total": res.total,
        "seconds": wall,
        "n_probes": len(res.probes),
        "probes": " ".join(f"{p.hidden}:{int(p.stored)}" for p in res.probes),
        "probe_seconds": " ".join(f"{p.seconds:.2f}" for p in res.probes),
        "loadavg_before": load0,
        "loadavg_after": _load(),
        "omp_threads": os.environ.get("OMP_NUM_THREADS", ""),
        "target_seconds": "" if target_s is None else target_s,
        "target_met": "" if target_s is None else bool(wall < target_s),
    }
    print(json.dumps({k: row[k] for k in ("method", "d", "F", "hidden", "params", "bits_per_param", "seconds")}))
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="benchmarks/results/minimize.csv")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--methods", default=",".join(c[0] for c in CASES))
    args = ap.parse_args()
    chosen = set(args.methods.split(","))
    prov = json.dumps(provenance(), sort_keys=True)
    rows = []
    for method, d, F, target in CASES:
        if method not in chosen:
            continue
        rows.append(run(method, d, F, args.seed, target))
        write_csv(args.out, rows, {"provenance": prov})


if __name__ == "__main__":
    main()
