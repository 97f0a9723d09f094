"""CuPy vs NumPy: rho, encdec construction and verification on spherical fact sets (F = N, d = 128).

For each size and backend, one row: the seconds of ``decodability(V, backend=...)``
(the batched candidate checks and certificates run in the backend; Wolfe's
small min-norm solves stay on the host), of ``construct(fs, "encdec")``
(NumPy only: the construction has no CuPy path, so it is built once per
size and both backends' rows carry that time) and of ``verify_storage(mlp, fs, backend=...)``;
plus rho, stored/total, and the parity of the CuPy results with NumPy's
(rho within the certified brackets, the same facts certified).  Rows are
appended to the CSV as soon as they are measured, so a run cut short by
its time limit keeps what it finished; a size is skipped once
``--budget`` seconds have passed.

    python benchmarks/gpu/bench.py --sizes 4096,16384 --out "$OUT/gpu_bench.csv"
"""

from __future__ import annotations

import argparse
import csv
import os
import time

import numpy as np

import factmlp
from factmlp.xp import cupy_available

COLUMNS = (
    "d",
    "F",
    "N",
    "backend",
    "rho",
    "rho_seconds",
    "construct_seconds",
    "construct_backend",
    "verify_seconds",
    "stored",
    "total",
    "certified",
    "verify_backend",
    "parity",
)


def _append(path: str, row: dict) -> None:
    new = not os.path.exists(path)
    with open(path, "a", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS, restval="")
        if new:
            w.writeheader()
        w.writerow(row)
    print(row, flush=True)


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def measure(F: int, d: int, backends: list[str], have_cupy: bool, out: str) -> None:
    """One row per backend for the spherical set (F = N, d, seed 0); one NumPy construction shared by all."""
    fs = factmlp.make_factset("spherical", d, F, F, seed=0)
    c, t_con = _timed(lambda: factmlp.construct(fs, "encdec", seed=0))
    ref = None
    for backend in backends:
        if backend == "cupy" and not have_cupy:
            _append(out, {"d": d, "F": F, "N": F, "backend": "cupy", "parity": "skipped: no CUDA device/CuPy"})
            continue
        res, t_rho = _timed(lambda b=backend: factmlp.decodability(fs.values, fs.used_values, backend=b))
        rep, t_ver = _timed(lambda b=backend: factmlp.verify_storage(c.mlp, fs, backend=b))
        row = {
            "d": d,
            "F": F,
            "N": F,
            "backend": backend,
            "rho": res.rho,
            "rho_seconds": t_rho,
            "construct_seconds": t_con,
            "construct_backend": "numpy (no CuPy path; one build per size)",
            "verify_seconds": t_ver,
            "stored": rep.stored,
            "total": rep.total,
            "certified": rep.certified,
            "verify_backend": rep.backend,
            "parity": "",
        }
        u = fs.used_values
        if ref is None:
            ref = (res, rep)
        else:
            r0, p0 = ref
            ok_rho = bool(np.all(res.lower[u] <= r0.upper[u]) and np.all(r0.lower[u] <= res.upper[u]))
            ok_ver = bool(np.array_equal(rep.failing, p0.failing)) and rep.stored == p0.stored
            row["parity"] = "ok" if (ok_rho and ok_ver) else f"MISMATCH rho_brackets={ok_rho} failing={ok_ver}"
        _append(out, row)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="4096,16384")
    ap.add_argument("--d", type=int, default=128)
    ap.add_argument("--backends", default="numpy,cupy")
    ap.add_argument("--budget", type=float, default=360.0, help="seconds after which no new size starts")
    ap.add_argument("--out", default="gpu_bench.csv")
    args = ap.parse_args()
    t0 = time.perf_counter()
    have_cupy = cupy_available()
    for F in (int(x) for x in args.sizes.split(",")):
        if time.perf_counter() - t0 > args.budget:
            _append(
                args.out,
                {"d": args.d, "F": F, "N": F, "backend": "-", "parity": f"skipped: budget {args.budget} s spent"},
            )
            continue
        measure(F, args.d, args.backends.split(","), have_cupy, args.out)
    print(f"total {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
