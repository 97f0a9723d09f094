"""Capacity vs usability of encdec as the whitening strength s goes from 0 to 1.

``construct(fs, "encdec", whiten=s)`` composes the decoder projection with
``Sigma^{-s/2}`` of the values' covariance.  For three fact sets:

* ``spiked``: ``make_factset("spiked", d=32, facts=256, seed=0, beta=1.5)``
  (F = N = 256, anisotropic keys and values);
* ``condition30``: ``make_factset("condition", d=32, facts=256, seed=0,
  condition=30)`` (covariance spectrum geometric from 1 to 1/30);
* ``transformer``: the keys/values of the frozen 1-layer Transformer of
  ``bench_transformer.py`` at its small size (vocab 128, d = 32, F = 256
  queries; values = the 128 embedding rows);

and for s in {0, 0.25, 0.5, 0.75, 1} it records

* capacity: ``rho_projected`` (rho of the whitened used values, from
  ``construct(..., whiten=s).info``) and ``h*`` / facts per parameter from
  ``min_width(fs, "encdec", seed=0, whiten=s, projection="pca")``;
* usability: ``lipschitz_bounds`` (lower = max Jacobian norm over the keys,
  upper = spectral bound on the keys' ball) of the MLP at the default width,
  and recall under Gaussian noise at the MLP input.  For the Transformer this
  is ``recall_under_noise`` (keys have rms 1, noise ``sigma N(0, I)``).  For
  the spiked set (no model) the same rule is applied directly: answer =
  ``argmax_j <g(k_i + sigma * rms(K) * xi_i), v_j>``, with ``rms(K)`` the
  keys' per-coordinate rms so that sigma is again a noise-to-signal ratio.

Writes ``tradeoff.csv`` and ``tradeoff.png`` / ``.pdf`` (facts per parameter
at h* against the Lipschitz lower bound, log scale, points labelled by s).
torch runs on one thread.

    python benchmarks/bench_tradeoff.py            # about 3 minutes on 2 shared cores
    python benchmarks/bench_tradeoff.py --plot-only  # redraw the figure from tradeoff.csv
"""

from __future__ import annotations

import argparse
import csv
import os
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from _results import write_csv  # noqa: E402

from factmlp import plot_style as ps  # noqa: E402
from factmlp.capacity import min_width  # noqa: E402
from factmlp.constructions import construct  # noqa: E402
from factmlp.decodability import rho as rho_of  # noqa: E402
from factmlp.families import make_factset  # noqa: E402
from factmlp.transformer import (  # noqa: E402
    OneLayerTransformer,
    fact_keys_values,
    lipschitz_bounds,
    make_fact_queries,
    recall,
    recall_under_noise,
)

STRENGTHS = (0.0, 0.25, 0.5, 0.75, 1.0)
SIGMAS = (1e-3, 1e-2)
TRIALS = 2


def _noise_recall_factset(mlp, fs, sigma: float, seed: int, trials: int = TRIALS) -> float:
    """Fraction of facts with ``argmax_j <g(k_i + sigma rms(K) xi_i), v_j> = f(i)``, averaged over trials."""
    K = np.asarray(fs.keys, dtype=np.float64)
    V = np.asarray(fs.values, dtype=np.float64)
    f = np.asarray(fs.mapping)
    scale = float(np.sqrt(np.mean(K * K)))
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(trials):
        out = np.asarray(mlp(K + sigma * scale * rng.standard_normal(K.shape)))
        hits += int(((out @ V.T).argmax(axis=1) == f).sum())
    return hits / (trials * K.shape[0])


def _sweep(name: str, fs, seed: int, noise_fn) -> list[dict]:
    rows = []
    rho0 = float(rho_of(fs.values, fs.used_values))
    for s in STRENGTHS:
        t0 = time.perf_counter()
        c = construct(fs, "encdec", seed=seed, whiten=s)
        lb = lipschitz_bounds(c.mlp, fs.keys)
        cap = min_width(fs, "encdec", seed=seed, whiten=s, projection="pca", rho=rho0)
        row = {
            "set": name,
            "d": fs.dim,
            "facts": fs.n_facts,
            "values": fs.n_values,
            "seed": seed,
            "whiten": s,
            "rho_values": rho0,
            "rho_whitened": c.info["rho_projected"],
            "hidden_default": c.hidden,
            "params_default": c.params,
            "h_star": cap.h_star,
            "params_h_star": cap.params,
            "facts_per_param": cap.facts_per_param,
            "bits_per_param": cap.bits_per_param,
            "capacity_status": cap.status,
            "lipschitz_lower": lb["lower"],
            "lipschitz_upper": lb["upper"],
        }
        row.update(noise_fn(c.mlp))
        row["seconds"] = time.perf_counter() - t0
        rows.append(row)
        print({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}, flush=True)
    return rows


def _plot(rows: list[dict], path_png: str) -> None:
    sets = list(dict.fromkeys(r["set"] for r in rows))
    styles = ps.series_styles(sets)
    with ps.style():
        fig, axes = plt.subplots(1, 2, figsize=(ps.TEXT_WIDTH * 0.85, 2.6))
        for st in sets:
            rs = sorted((r for r in rows if r["set"] == st), key=lambda r: float(r["whiten"]))
            for ax, key, lab in (
                (axes[0], "facts_per_param", "facts per parameter at h*"),
                (axes[1], "rho_whitened", "rho of whitened used values"),
            ):
                x = [float(r["lipschitz_lower"]) for r in rs]
                y = [float(r[key]) for r in rs]
                ax.plot(x, y, label=st, **styles[st])
                # s grows along each line: label its two ends only (inner points often coincide)
                for r, xi, yi in ((rs[0], x[0], y[0]), (rs[-1], x[-1], y[-1])):
                    ax.annotate(
                        f"s={float(r['whiten']):g}", (xi, yi), textcoords="offset points", xytext=(3, 3), fontsize=6
                    )
                ax.set_xlabel("Lipschitz lower bound at default width")
                ax.set_ylabel(lab)
        for ax in axes:
            ps.log_ticks(ax, "x", [float(r["lipschitz_lower"]) for r in rows], max_fixed=0)
        axes[0].set_title("capacity vs usability (encdec, whiten = s)")
        axes[1].set_title("decodability vs usability")
        fig.tight_layout()
        ps.legend_outside(fig)
    stem = os.path.splitext(path_png)[0]
    paths = ps.save(fig, os.path.dirname(stem) or ".", os.path.basename(stem))
    plt.close(fig)
    print("wrote " + ", ".join(paths))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out-dir", default=os.path.join(os.path.dirname(__file__), "results"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--plot-only", action="store_true", help="redraw tradeoff.png/.pdf from tradeoff.csv")
    args = ap.parse_args()
    if args.plot_only:
        with open(os.path.join(args.out_dir, "tradeoff.csv"), newline="") as fh:
            _plot(list(csv.DictReader(fh)), os.path.join(args.out_dir, "tradeoff.png"))
        return
    torch.set_num_threads(1)
    os.makedirs(args.out_dir, exist_ok=True)
    seed = args.seed
    rows: list[dict] = []

    fs = make_factset("spiked", d=32, facts=256, seed=seed, beta=1.5)
    rows += _sweep(
        "spiked",
        fs,
        seed,
        lambda mlp: {f"recall_sigma_{sg:g}": _noise_recall_factset(mlp, fs, sg, seed + 7) for sg in (0.0,) + SIGMAS},
    )
    fc = make_factset("condition", d=32, facts=256, seed=seed, condition=30.0)
    rows += _sweep(
        "condition30",
        fc,
        seed,
        lambda mlp: {f"recall_sigma_{sg:g}": _noise_recall_factset(mlp, fc, sg, seed + 7) for sg in (0.0,) + SIGMAS},
    )

    vocab, d, n_facts = 128, 32, 256  # bench_transformer's small size
    model = OneLayerTransformer(vocab, d, seed=seed)
    facts = make_fact_queries(vocab, n_facts, seed=seed + 1)
    tfs = fact_keys_values(model, facts)

    def tr_noise(mlp) -> dict:
        model.set_mlp(mlp)
        out = {"recall_sigma_0": recall(model, facts)}
        for sg in SIGMAS:
            out[f"recall_sigma_{sg:g}"] = recall_under_noise(model, facts, sg, seed=seed + 7, trials=TRIALS)
        return out

    rows += _sweep("transformer", tfs, seed, tr_noise)

    path = os.path.join(args.out_dir, "tradeoff.csv")
    write_csv(path, rows)
    _plot(rows, os.path.join(args.out_dir, "tradeoff.png"))


if __name__ == "__main__":
    main()
