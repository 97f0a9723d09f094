"""Wolfe solver compiled by numba vs interpreted: decodability time, compile time, test-suite time.

Every measurement runs in a fresh subprocess (``OMP_NUM_THREADS=1``), so the
path is chosen by the environment: ``path=jit`` (numba), ``path=nojit``
(``FACTMLP_NO_JIT=1``, the same source interpreted) and, with
``--baseline DIR``, ``path=baseline`` (the package imported from another
checkout, e.g. the commit before the change).  Rows (one CSV, written after
each measurement so a cut-off run keeps its rows):

* ``kind=decodability``: ``decodability`` of spherical values (unit rows,
  ``make_embeddings("spherical", N, d, seed)``), wall and CPU seconds of the
  call (the solver compiled or loaded from cache beforehand), rho;
* ``kind=compile``: the first ``wolfe_gram`` call in a process with an empty
  numba cache (``NUMBA_CACHE_DIR`` a fresh folder) and again with that cache
  filled (``cache=warm``), including the import of ``factmlp._minnorm``;
* ``kind=pytest``: wall seconds of ``pytest -q tests/test_decodability.py``.

Each row records ``cat /proc/loadavg`` before and after, and the provenance.

    python benchmarks/scale/bench_jit.py --sizes 4096x128 16384x128 --baseline /path/to/old/checkout \
        --out benchmarks/results/scale_jit.csv
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))  # benchmarks/: _results
sys.path.insert(0, ROOT)

from _results import write_csv  # noqa: E402

from factmlp.provenance import provenance  # noqa: E402

_DECODE = """
import json, sys, time
import numpy as np
import factmlp
from factmlp._minnorm import wolfe_gram
from factmlp.decodability import decodability
from factmlp.families import make_embeddings
wolfe_gram(np.eye(2))  # compile / load the cache outside the timing
n, d, seed = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
v = make_embeddings("spherical", n, d, seed)
t0, c0 = time.perf_counter(), time.process_time()
res = decodability(v)
print(json.dumps({"seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0,
                  "rho": res.rho, "vertices": int(res.vertex.sum()), "imported": factmlp.__file__}))
"""

_COMPILE = """
import json, time
t0, c0 = time.perf_counter(), time.process_time()
import numpy as np
from factmlp._minnorm import wolfe_gram
wolfe_gram(np.eye(2))
print(json.dumps({"seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0}))
"""


def _load() -> str:
    with open("/proc/loadavg") as fh:
        return " ".join(fh.read().split()[:3])


def _env(path: str, src: str, cache_dir: str | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("FACTMLP_NO_JIT", "NUMBA_CACHE_DIR")}
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONPATH=src)
    if path == "nojit":
        env["FACTMLP_NO_JIT"] = "1"
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = cache_dir
    return env


def _child(code: str, args: list[str], env: dict) -> dict:
    # cwd = the imported checkout: ``python -c`` puts the working directory first on sys.path
    cmd = [sys.executable, "-c", code, *args]
    out = subprocess.run(cmd, env=env, cwd=env["PYTHONPATH"], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", default=["4096x128"], help="N x d pairs, e.g. 4096x128")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--paths", nargs="+", default=["jit", "nojit"], choices=["jit", "nojit", "baseline"])
    ap.add_argument("--baseline", default=None, help="checkout imported for path=baseline")
    ap.add_argument("--kinds", nargs="+", default=["compile", "pytest", "decodability"])
    ap.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results", "scale_jit.csv"))
    args = ap.parse_args(argv)
    paths = list(args.paths) + (["baseline"] if args.baseline and "baseline" not in args.paths else [])
    src = {p: (args.baseline if p == "baseline" else ROOT) for p in paths}
    const = {"seed": args.seed, "provenance": json.dumps(provenance(), sort_keys=True, default=str)}
    rows: list[dict] = []

    def record(row: dict) -> None:
        rows.append(row)
        print(json.dumps(row), flush=True)
        write_csv(args.out, rows, const)

    if "compile" in args.kinds and "jit" in paths:
        with tempfile.TemporaryDirectory() as cache:
            for state in ("empty", "warm"):
                before = _load()
                r = _child(_COMPILE, [], _env("jit", ROOT, cache))
                record(
                    {
                        "kind": "compile",
                        "path": "jit",
                        "cache": state,
                        **r,
                        "load_before": before,
                        "load_after": _load(),
                    }
                )
    if "pytest" in args.kinds:
        for p in paths:
            before = _load()
            t0 = time.perf_counter()
            cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_decodability.py"]
            rc = subprocess.run(cmd, env=_env(p, src[p]), cwd=src[p], capture_output=True).returncode
            sec = time.perf_counter() - t0
            record(
                {"kind": "pytest", "path": p, "seconds": sec, "rc": rc, "load_before": before, "load_after": _load()}
            )
    if "decodability" in args.kinds:
        for size in args.sizes:
            n, d = (int(t) for t in size.lower().split("x"))
            for p in paths:
                before = _load()
                r = _child(_DECODE, [str(n), str(d), str(args.seed)], _env(p, src[p]))
                record(
                    {
                        "kind": "decodability",
                        "path": p,
                        "N": n,
                        "d": d,
                        **r,
                        "load_before": before,
                        "load_after": _load(),
                    }
                )


if __name__ == "__main__":
    main()
