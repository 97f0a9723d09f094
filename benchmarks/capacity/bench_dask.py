"""Dask speed-up of a capacity sweep: the same runs serially and on a LocalCluster.

Each mode sweeps into a fresh temporary directory (no cache hits), so every
mode runs every configuration.  Modes:

* ``serial``: in-process, one run after another;
* ``dask_cold``: ``run_sweep(..., workers=W)``, timing includes starting and
  stopping the LocalCluster (what ``factmlp capacity --workers W`` costs);
* ``dask_warm``: a LocalCluster started beforehand, timing only the sweep.

Writes one CSV row per mode: mode, workers, n_runs, seconds, ratio to serial,
errors, and provenance.  The issue's target is ratio <= 0.6 for 100 runs on
2 workers; report what comes out, without tuning.  Timings on a shared
machine are contended: say so when quoting them.

    python benchmarks/capacity/bench_dask.py --methods hebbian,encdec --d 16 \\
        --alphas 1/8,1/4,1/2,1,2 --seeds 10 --workers 2 --out benchmarks/capacity/bench_dask.csv
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import tempfile
import time

from factmlp.provenance import provenance
from factmlp.sweep import grid_configs, run_sweep


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--family", default="spherical")
    ap.add_argument("--methods", default="hebbian,encdec")
    ap.add_argument("--d", default="16")
    ap.add_argument("--alphas", default="1/8,1/4,1/2,1,2")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-rho", action="store_true")
    ap.add_argument("--out", default="benchmarks/capacity/bench_dask.csv")
    args = ap.parse_args(argv)

    configs = grid_configs(
        [args.family],
        [int(x) for x in args.d.split(",")],
        args.alphas.split(","),
        args.methods.split(","),
        args.seeds,
        rho=not args.no_rho,
    )
    results = []

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        rep = run_sweep(configs, os.path.join(tmp, "serial"), progress=False)
        serial = time.perf_counter() - t0
        results.append(("serial", 1, serial, rep.n_errors))

        t0 = time.perf_counter()
        rep = run_sweep(configs, os.path.join(tmp, "cold"), workers=args.workers, progress=False)
        results.append(("dask_cold", args.workers, time.perf_counter() - t0, rep.n_errors))

        from dask.distributed import Client, LocalCluster

        with (
            LocalCluster(
                n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            Client(cluster) as client,
        ):
            client.wait_for_workers(args.workers)
            t0 = time.perf_counter()
            rep = run_sweep(configs, os.path.join(tmp, "warm"), client=client, progress=False)
            results.append(("dask_warm", args.workers, time.perf_counter() - t0, rep.n_errors))

    prov = json.dumps(provenance(), sort_keys=True)
    with open(args.out, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["mode", "workers", "n_runs", "seconds", "ratio_to_serial", "errors", "configs", "provenance"])
        desc = f"{args.family} d={args.d} alphas={args.alphas} methods={args.methods} seeds={args.seeds}"
        for mode, workers, sec, errs in results:
            w.writerow([mode, workers, len(configs), f"{sec:.3f}", f"{sec / serial:.3f}", errs, desc, prov])
    for mode, workers, sec, errs in results:
        print(f"{mode:10s} workers={workers} runs={len(configs)} {sec:8.2f} s  ratio {sec / serial:.3f}  errors {errs}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
