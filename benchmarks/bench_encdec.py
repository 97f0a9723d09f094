"""Benchmark of the encoder-decoder construction at scale.

For spherical values, F = N = alpha d^2 (default d = 128, alpha = 1: F = 16384),
fact-set seed 0, construction seed 0, records: the decodability/feasibility
solve time, the construction time (at the default, guarantee width), the
verifier time, stored/F (certified), the parameter counts (folded and
factored) and their ratio to the counting bound F log2 N / 32, and the
provenance.  Per stage (feasibility = rho, construction, verification):
wall seconds, CPU seconds (``time.process_time``) and the process's peak
RSS after the stage (``ru_maxrss``, MiB; a running maximum; the forked rho workers' own memory is not
included).  ``--workers K`` runs the exact rho solves on K processes
(:func:`factmlp.parallel`).  ``--real``
draws keys and values from all-MiniLM-L6-v2's token embeddings (d = 384,
:func:`factmlp.real.factset_from_embeddings`) instead.  One CSV row per size.

    python benchmarks/bench_encdec.py --sizes 128x16384 --out benchmarks/results/encdec_scale.csv

Timings on a shared machine are contended; report them with that caveat.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import time

from _results import write_csv

from factmlp.constructions import construct
from factmlp.constructions.registry import feasibility
from factmlp.families import make_factset
from factmlp.provenance import provenance
from factmlp.verify import verify_storage
from factmlp.workers import parallel


def _stage(fn, *args, **kw):
    """``(result, wall seconds, CPU seconds, peak RSS MiB so far)`` of ``fn(*args, **kw)``."""
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn(*args, **kw)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    w, c = time.perf_counter() - w0, time.process_time() - c0
    load = open("/proc/loadavg").read().split()[:3]
    print(f"stage {fn.__name__}: {w:.2f} s wall, {c:.2f} s CPU, peak RSS {rss:.0f} MiB, load {load}", flush=True)
    return out, time.perf_counter() - w0, time.process_time() - c0, rss


def _factset(d: int, F: int, seed: int, real: bool):
    if not real:
        return make_factset("spherical", d, F, F, seed=seed)
    from factmlp.real import MINILM_TENSOR, factset_from_embeddings, minilm_checkpoint

    ck = minilm_checkpoint()
    return factset_from_embeddings(ck.safetensors, MINILM_TENSOR, facts=F, values_count=F, seed=seed)


def run(d: int, F: int, seed: int, real: bool = False, workers: int = 1) -> dict:
    fs = _factset(d, F, seed, real)
    d = fs.values.shape[1]
    with parallel(workers):
        res, t_rho, c_rho, m_rho = _stage(feasibility, fs)
        c, t_con, c_con, m_con = _stage(construct, fs, "encdec", seed=seed)
        rep, t_ver, c_ver, m_ver = _stage(verify_storage, c.mlp, fs)
    loadavg = open("/proc/loadavg").read().split()[:3]
    bound = F * math.log2(F) / 32.0
    return {
        "family": "minilm" if real else "spherical",
        "d": d,
        "F": F,
        "N": F,
        "seed": seed,
        "rho": float(res.rho),
        "rho_seconds": t_rho,
        "construct_seconds": t_con,
        "build_seconds": c.seconds,
        "verify_seconds": t_ver,
        "rho_cpu": c_rho,
        "construct_cpu": c_con,
        "verify_cpu": c_ver,
        "rho_peak_rss_mib": m_rho,
        "construct_peak_rss_mib": m_con,
        "verify_peak_rss_mib": m_ver,
        "total_seconds": t_rho + t_con + t_ver,
        "loadavg_after": " ".join(loadavg),
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
        "workers": workers,
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS", ""),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", default=["128x16384"], help="d x F, e.g. 64x4096")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--real", action="store_true", help="MiniLM token embeddings (d = 384; d in --sizes ignored)")
    ap.add_argument("--workers", type=int, default=1, help="processes for the exact rho solves (factmlp.parallel)")
    ap.add_argument("--out", default="benchmarks/results/encdec_scale.csv")
    args = ap.parse_args()
    rows = []
    for text in args.sizes:
        d, F = (int(x) for x in text.lower().split("x"))
        row = run(d, F, args.seed, args.real, args.workers)
        print(json.dumps(row), flush=True)
        rows.append(row)
    write_csv(args.out, rows, {"provenance": json.dumps(provenance(), sort_keys=True)})


if __name__ == "__main__":
    main()
