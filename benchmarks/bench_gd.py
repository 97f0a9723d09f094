"""Gradient-descent baseline: minimum hidden width and training time (THEORY_NOTES section 6).

Default: a random permutation of F = N = 512 spherical facts in d = 32; a
gated SiLU MLP trained with Adam (lr 1e-2, full batch, cross-entropy on
10 * logits, at most 5000 steps per width, storage checked every 50 steps and
certified by factmlp.verify.verify_storage); exponential then binary search
over the hidden width (factmlp.train.min_width_gd).  ``--widths 16,19,24``
trains just those widths instead.

One CSV row per trained width: sizes, seeds, width, parameters, stored /
total, certified, steps, seconds, loss, min margin, the search's h* and bits
per parameter at h* (F log2 N / 3 d h*), torch threads, and the provenance
(factmlp.provenance.provenance()) as JSON.  Timings on a shared machine are
contended: read them as upper bounds.

    python benchmarks/bench_gd.py --seeds 0,1,2 --out benchmarks/bench_gd.csv
    python benchmarks/bench_gd.py --widths 16,18,19,20,24 --seeds 0,1,2 --out benchmarks/bench_gd_widths.csv
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time

from _results import write_csv

from factmlp.families import make_factset
from factmlp.provenance import provenance
from factmlp.train import min_width_gd, train_gd

_RUN_KEYS = ("hidden", "stored", "total", "certified", "steps", "seconds", "loss", "min_margin")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--family", default="spherical")
    ap.add_argument("--d", type=int, default=32)
    ap.add_argument("--facts", type=int, default=512)
    ap.add_argument("--values", type=int, default=None, help="N (default: F, a random permutation)")
    ap.add_argument("--data-seed", type=int, default=0, help="seed of the fact set")
    ap.add_argument("--seeds", default="0", help="comma-separated training seeds (init, shuffling); one search each")
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--steps", type=int, default=5000)
    ap.add_argument("--logit-scale", type=float, default=10.0)
    ap.add_argument("--check-every", type=int, default=50)
    ap.add_argument("--batch-size", type=int, default=None)
    ap.add_argument("--activation", default="silu")
    ap.add_argument("--widths", default=None, help="comma-separated widths to train instead of the search")
    ap.add_argument("--out", default="bench_gd.csv")
    args = ap.parse_args(argv)

    import torch

    fs = make_factset(args.family, d=args.d, facts=args.facts, values=args.values, seed=args.data_seed)
    kw = dict(
        lr=args.lr,
        steps=args.steps,
        logit_scale=args.logit_scale,
        check_every=args.check_every,
        batch_size=args.batch_size,
        activation=args.activation,
    )
    prov = json.dumps(provenance(), sort_keys=True, default=str)
    bits = fs.n_facts * math.log2(fs.n_values)
    rows, summary = [], []
    for seed in (int(x) for x in args.seeds.split(",")):
        t0 = time.perf_counter()
        if args.widths:
            runs = []
            for h in (int(w) for w in args.widths.split(",")):
                _, info = train_gd(fs, h, seed, **kw)
                runs.append({k: info[k] for k in _RUN_KEYS})
            mode, h_star = "widths", None
        else:
            res = min_width_gd(fs, seed, **kw)
            runs, mode, h_star = res["runs"], "search", res["hidden"]
        total_seconds = time.perf_counter() - t0
        summary.append((seed, mode, h_star, total_seconds))
        for r in runs:
            rows.append(
                {
                    "mode": mode,
                    "family": args.family,
                    "d": fs.dim,
                    "F": fs.n_facts,
                    "N": fs.n_values,
                    "data_seed": args.data_seed,
                    "seed": seed,
                    "activation": args.activation,
                    "lr": args.lr,
                    "steps_budget": args.steps,
                    "batch_size": args.batch_size,
                    "logit_scale": args.logit_scale,
                    "check_every": args.check_every,
                    **{k: r[k] for k in _RUN_KEYS},
                    "params": 3 * fs.dim * r["hidden"],
                    "h_star": h_star,
                    "params_h_star": None if h_star is None else 3 * fs.dim * h_star,
                    "bits_per_param_h_star": None if h_star is None else bits / (3 * fs.dim * h_star),
                    "interpolation_params": 3 * fs.dim * fs.n_facts,
                    "search_seconds": total_seconds,
                    "torch_threads": torch.get_num_threads(),
                    "cpu_count": os.cpu_count(),
                    "provenance": prov,
                }
            )
    write_csv(args.out, rows)

    for r in rows:
        print(
            f"seed={r['seed']} h={r['hidden']:4d} params={r['params']:6d} stored={r['stored']}/{r['total']} "
            f"certified={r['certified']} steps={r['steps']} {r['seconds']:.2f}s loss={r['loss']:.4f}"
        )
    for seed, mode, h_star, secs in summary:
        if mode != "search":
            continue
        if h_star is None:
            print(f"seed {seed}: no storing width found up to F = {fs.n_facts}")
        else:
            print(
                f"seed {seed}: h* = {h_star}: {3 * fs.dim * h_star} params, "
                f"{bits / (3 * fs.dim * h_star):.2f} bits/param (interpolation {3 * fs.dim * fs.n_facts}); "
                f"search {secs:.1f}s (contended shared machine)"
            )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
