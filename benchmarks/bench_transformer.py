"""Constructed MLPs inside the frozen 1-layer Transformer: recall per method, noise, Lipschitz, editing.

Writes three CSVs (default directory ``benchmarks/results``):

* ``transformer_recall.csv``: per size and method, the MLP width, parameters,
  recall of the no-bypass model, recall of the bypass model with the MLP
  unscaled and scaled by ``bypass_scale``, build/training seconds, and the
  error when a method raised.  Methods: every registered construction except
  ``gd`` (``ntk`` only at the small size: its dense solve took > 290 s at
  F = 512, d = 64 here), plus GD (``train_gd``, SiLU, Adam lr 1e-2, at most
  ``--gd-steps`` steps, stopping on its float storage check) at the
  construction's width and at F/8.
* ``transformer_noise.csv``: recall under Gaussian noise sigma * N(0, I) at
  the MLP input (keys have rms 1), with the Lipschitz lower bound (max
  Jacobian norm over the keys) and the spectral upper bound on the keys' ball;
  encdec with and without ``whiten=True``, hebbian, and the GD MLP.
* ``transformer_editing.csv``: edit success, retention and seconds for edits
  of 1%, 10%, 50% of the facts by MLP swap (encdec), fine-tuning (300 Adam
  steps, lr 1e-3; all facts or only edited ones in the loss) and ROME-style
  rank-one edits (covariance over the facts, or over random 2-token prompts).

torch runs on one thread (``torch.set_num_threads(1)``): the machine is
shared, and one thread was faster than two under contention.

    python benchmarks/bench_transformer.py            # about 5 minutes on 2 shared cores
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch
from _results import write_csv

from factmlp.constructions import METHODS, construct
from factmlp.editing import choose_edits, run_edit
from factmlp.train import train_gd
from factmlp.transformer import (
    OneLayerTransformer,
    bypass_scale,
    fact_keys_values,
    lipschitz_bounds,
    make_fact_queries,
    recall,
    recall_under_noise,
)

SIZES = [  # (vocab, d, facts, methods)
    (128, 32, 256, ("encdec", "hebbian", "ntk")),
    (256, 64, 512, ("encdec", "hebbian")),
]
SIGMAS = (0.0, 1e-3, 1e-2, 1e-1, 0.3)
FRACTIONS = (0.01, 0.10, 0.50)


def _bypass(vocab, d, seed, mlp, facts) -> tuple[float, float | None]:
    m = OneLayerTransformer(vocab, d, seed=seed, residual_mlp=True)
    m.set_mlp(mlp)
    raw = recall(m, facts)
    try:
        c = bypass_scale(m, mlp, facts)
    except Exception:
        return raw, None
    m.set_mlp(mlp, c)
    return raw, recall(m, facts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out-dir", default=os.path.join(os.path.dirname(__file__), "results"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--gd-steps", type=int, default=2000)
    args = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(args.out_dir, exist_ok=True)
    seed = args.seed
    recall_rows, noise_rows, edit_rows = [], [], []
    for vocab, d, n_facts, methods in SIZES:
        model = OneLayerTransformer(vocab, d, seed=seed)
        facts = make_fact_queries(vocab, n_facts, seed=seed + 1)
        fs = fact_keys_values(model, facts)
        base = {"vocab": vocab, "d": d, "facts": n_facts, "seed": seed}
        mlps = {}
        for name in [m for m in methods if m in METHODS]:
            for whiten in (False, True) if name == "encdec" else (False,):
                label = name + ("+whiten" if whiten else "")
                row = dict(base, method=label)
                t0 = time.perf_counter()
                try:
                    c = construct(fs, name, seed=seed, **({"whiten": True} if whiten else {}))
                except Exception as exc:
                    row.update(error=f"{type(exc).__name__}: {exc}"[:200], seconds=time.perf_counter() - t0)
                    recall_rows.append(row)
                    print(row, flush=True)
                    continue
                model.set_mlp(c.mlp)
                raw, scaled = _bypass(vocab, d, seed, c.mlp, facts)
                row.update(
                    hidden=c.hidden,
                    params=c.params,
                    recall=recall(model, facts),
                    bypass_recall_unscaled=raw,
                    bypass_recall_scaled=scaled,
                    seconds=c.seconds,
                    error="",
                )
                recall_rows.append(row)
                mlps[label] = c.mlp
                print(row, flush=True)
        h_c = mlps["encdec"].hidden if "encdec" in mlps else n_facts
        for h in (h_c, max(1, n_facts // 8)):
            row = dict(base, method=f"gd(h={h})")
            mlp, info = train_gd(fs, h, seed, steps=args.gd_steps, verify=False, dtype="float64")
            model.set_mlp(mlp)
            raw, scaled = _bypass(vocab, d, seed, mlp, facts)
            row.update(
                hidden=h,
                params=3 * d * h,
                recall=recall(model, facts),
                bypass_recall_unscaled=raw,
                bypass_recall_scaled=scaled,
                seconds=info["seconds"],
                steps=info["steps"],
                error="",
            )
            recall_rows.append(row)
            mlps[f"gd(h={h})"] = mlp
            print(row, flush=True)
        for label, mlp in mlps.items():
            lb = lipschitz_bounds(mlp, fs.keys)
            model.set_mlp(mlp)
            for s in SIGMAS:
                noise_rows.append(
                    dict(
                        base,
                        method=label,
                        sigma=s,
                        recall=recall_under_noise(model, facts, s, seed=seed + 7, trials=2),
                        lipschitz_lower=lb["lower"],
                        lipschitz_upper=lb["upper"],
                    )
                )
            print(label, "noise done", flush=True)
        if (vocab, d, n_facts) == SIZES[-1][:3] and "encdec" in mlps:
            model.set_mlp(mlps["encdec"])
            generic = np.random.default_rng(seed + 3).integers(0, vocab, size=(4 * n_facts, 2))
            runs = [
                ("swap", "swap", {"method": "encdec", "seed": seed}),
                ("finetune_all", "finetune", {"loss_on": "all"}),
                ("finetune_edited", "finetune", {"loss_on": "edited"}),
                ("rome_facts", "rome", {}),
                ("rome_generic", "rome", {"covariance_prompts": generic}),
            ]
            for frac in FRACTIONS:
                after, idx = choose_edits(facts, frac, seed=seed + 2)
                for label, how, kw in runs:
                    o = run_edit(model, facts, after, idx, how, **kw)
                    edit_rows.append(
                        dict(
                            base,
                            fraction=frac,
                            edited=o.n_edited,
                            method=label,
                            edit_success=o.edit_success,
                            retention=o.retention,
                            recall_before=o.recall_before,
                            seconds=o.seconds,
                        )
                    )
                    print(edit_rows[-1], flush=True)
    write_csv(os.path.join(args.out_dir, "transformer_recall.csv"), recall_rows)
    write_csv(os.path.join(args.out_dir, "transformer_noise.csv"), noise_rows)
    write_csv(os.path.join(args.out_dir, "transformer_editing.csv"), edit_rows)


if __name__ == "__main__":
    main()
