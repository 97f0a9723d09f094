"""Capacity sweeps: configurations, a resumable on-disk cache, serial or Dask execution.

A **run** is a pure function of its configuration (a JSON-ready dict)::

    {"family": "spherical", "d": 32, "alpha": "1/8", "F": 128, "N": 128,
     "method": "encdec", "seed": 0, "factset_seed": 0, "factset": null,
     "factset_sha256": null, "options": {}, "rho": true}

For a family, ``F = round(alpha d^2)`` (half up, exact in fractions), ``N = F``
and the map is a random permutation drawn with ``factset_seed`` (the fact
set is the same for every method and construction seed).  The run computes
:func:`factmlp.capacity.min_width` and returns one tidy row (:data:`COLUMNS`).

Cache: ``OUT/cache/<sha256 of the canonical config JSON>.json`` (sorted keys,
no spaces; the path of a user fact set is left out of the hash, its SHA-256
is in), written atomically (temporary file + rename).  A rerun skips every
cached run whose status is not ``error`` (errored runs are retried);
``OUT/results.csv`` is rebuilt from the whole cache after every sweep, sorted
by configuration.

Execution: serial in-process, a Dask ``LocalCluster`` (``workers > 1``), or
an existing Dask scheduler (``scheduler="tcp://host:port"``); each run is one
task, results stream back (``as_completed``) and the client writes the cache,
so workers need no shared file system.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import importlib
import json
import math
import os
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Iterable, Sequence

from .errors import FactMLPError, InvalidInputError

__all__ = [
    "COLUMNS",
    "TIMING_COLUMNS",
    "DaskUnavailableError",
    "SweepReport",
    "parse_fraction",
    "facts_for",
    "grid_configs",
    "factset_configs",
    "config_hash",
    "run_one",
    "run_sweep",
    "rebuild_csv",
    "read_results",
]

#: columns of results.csv, in order
COLUMNS = (
    "family", "d", "alpha", "F", "N", "method", "seed", "factset_seed", "factset",
    "h_star", "params", "params_factored", "facts_per_param", "bits_per_param",
    "counting_bound", "ratio_counting", "rho", "n_probes", "probes",
    "seconds", "construct_seconds", "rho_seconds", "status", "error",
    "config_hash", "git_revision", "factmlp_version", "numpy_version", "torch_version",
    "python_version",
)
#: columns that depend on the machine's speed, not on the configuration
TIMING_COLUMNS = ("seconds", "construct_seconds", "rho_seconds")

_INT_COLUMNS = ("d", "F", "N", "seed", "factset_seed", "h_star", "params", "params_factored", "n_probes")
_FLOAT_COLUMNS = ("facts_per_param", "bits_per_param", "counting_bound", "ratio_counting", "rho",
                  "seconds", "construct_seconds", "rho_seconds")


class DaskUnavailableError(FactMLPError, ImportError):
    """Dask distributed is needed (``pip install 'factmlp[dist]'``) but not installed."""


# ---------------------------------------------------------------- configs ----

def parse_fraction(text: Any) -> Fraction:
    """An exact positive fraction from ``"1/8"``, ``"0.25"``, ``3`` or a Fraction."""
    try:
        f = Fraction(str(text).strip()) if not isinstance(text, Fraction) else text
    except (ValueError, ZeroDivisionError) as exc:
        raise InvalidInputError(f"alpha: cannot read {text!r} as a fraction (e.g. 1/8, 0.25)") from exc
    if f <= 0:
        raise InvalidInputError(f"alpha: must be positive, got {text!r}")
    return f


def facts_for(alpha: Fraction, d: int) -> int:
    """``F = round(alpha d^2)``, rounding halves up (exact rational arithmetic)."""
    return int(math.floor(Fraction(alpha) * d * d + Fraction(1, 2)))


def grid_configs(
    families: Sequence[str],
    dims: Sequence[int],
    alphas: Sequence[Any],
    methods: Sequence[str],
    seeds: Sequence[int] | int,
    *,
    factset_seed: int = 0,
    options: dict[str, dict] | None = None,
    rho: bool = True,
) -> list[dict]:
    """Every configuration of the grid family x d x alpha x method x seed.

    ``seeds`` is a list of construction seeds or a count (``range(seeds)``).
    ``options`` maps a method name to its construction/search options.
    Raises :class:`InvalidInputError` for an unknown family, d < 1, a
    non-positive alpha, or F < 2.
    """
    from .families import FAMILIES

    bad = [f for f in families if f not in FAMILIES]
    if bad:
        raise InvalidInputError(f"unknown family(ies) {bad}; expected some of {list(FAMILIES)}")
    seeds = list(range(seeds)) if isinstance(seeds, int) else [int(s) for s in seeds]
    options = options or {}
    out = []
    for fam in families:
        for d in dims:
            if int(d) < 1:
                raise InvalidInputError(f"d must be >= 1, got {d}")
            for a in alphas:
                alpha = parse_fraction(a)
                F = facts_for(alpha, int(d))
                if F < 2:
                    raise InvalidInputError(f"alpha={alpha} with d={d} gives F={F} facts; need F >= 2")
                for m in methods:
                    for s in seeds:
                        out.append({
                            "family": fam, "d": int(d), "alpha": str(alpha), "F": F, "N": F,
                            "method": m, "seed": s, "factset_seed": int(factset_seed),
                            "factset": None, "factset_sha256": None,
                            "options": dict(options.get(m, {})), "rho": bool(rho),
                        })
    return out


def _factset_files(paths: Sequence[str]) -> list[str]:
    files: list[str] = []
    for p in paths:
        if os.path.isdir(p):
            found = sorted(os.path.join(p, n) for n in os.listdir(p) if n.endswith(".npz"))
            if not found:
                raise InvalidInputError(f"{p}: directory holds no .npz fact set")
            files += found
        elif os.path.exists(p):
            files.append(p)
        else:
            raise InvalidInputError(f"{p}: no such fact set file or directory")
    return files


def factset_configs(
    paths: Sequence[str],
    methods: Sequence[str],
    seeds: Sequence[int] | int,
    *,
    options: dict[str, dict] | None = None,
    rho: bool = True,
) -> list[dict]:
    """Configurations for user fact sets (``.npz`` files, or directories of them).

    The configuration records the file's path and its SHA-256 fingerprint; the
    cache key uses the fingerprint, so a moved file keeps its cache.
    """
    from .factset import FactSet

    seeds = list(range(seeds)) if isinstance(seeds, int) else [int(s) for s in seeds]
    options = options or {}
    out = []
    for path in _factset_files(paths):
        fs = FactSet.load(path)
        alpha = Fraction(fs.n_facts, fs.dim * fs.dim)
        for m in methods:
            for s in seeds:
                out.append({
                    "family": "file:" + os.path.basename(path), "d": fs.dim, "alpha": str(alpha),
                    "F": fs.n_facts, "N": fs.n_values, "method": m, "seed": s, "factset_seed": None,
                    "factset": os.path.abspath(path), "factset_sha256": fs.fingerprint(),
                    "options": dict(options.get(m, {})), "rho": bool(rho),
                })
    return out


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys and no whitespace: the form that is hashed."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


def config_hash(config: dict) -> str:
    """SHA-256 (hex) of the canonical JSON of ``config`` without the fact-set path."""
    keyed = {k: v for k, v in config.items() if k != "factset"}
    return hashlib.sha256(canonical_json(keyed).encode()).hexdigest()


def _sort_key(row: dict) -> tuple:
    def s(v: Any) -> str:
        return "" if v is None else str(v)

    def num(v: Any) -> float:
        try:
            return float(Fraction(str(v)))
        except (ValueError, ZeroDivisionError):
            return -1.0

    return (s(row.get("family")), num(row.get("d")), num(row.get("alpha")), s(row.get("method")),
            num(row.get("seed")), s(row.get("factset")), s(row.get("config_hash")))


# ------------------------------------------------------------------- runs ----

@functools.lru_cache(maxsize=1)
def _versions() -> dict:
    from .provenance import git_revision, package_versions

    v = package_versions(("factmlp", "numpy", "torch"))
    return {
        "git_revision": git_revision(), "factmlp_version": v.get("factmlp"),
        "numpy_version": v.get("numpy"), "torch_version": v.get("torch"),
        "python_version": v.get("python"),
    }


@functools.lru_cache(maxsize=8)
def _factset(family: str, d: int, F: int, N: int, factset_seed: int | None, path: str | None):
    from .factset import FactSet
    from .families import make_factset

    if path is not None:
        return FactSet.load(path)
    return make_factset(family, d, F, N, factset_seed)


_RHO_MEMO: dict[str, float] = {}


def _rho_of(fs: Any) -> tuple[float, float]:
    """(rho of the used values, seconds), memoised per process by fingerprint."""
    key = fs.fingerprint()
    if key in _RHO_MEMO:
        return _RHO_MEMO[key], 0.0
    from .decodability import rho

    t0 = time.perf_counter()
    r = float(rho(fs.values, fs.used_values))
    _RHO_MEMO[key] = r
    return r, time.perf_counter() - t0


def run_one(config: dict) -> dict:
    """Run one configuration; return ``{"row": <one CSV row>, "probes": [...], "config": config}``.

    Never raises for a failing run: the row then has ``status == "error"`` and
    the exception in ``error`` (the traceback in the record's ``traceback``).
    """
    t0 = time.perf_counter()
    row: dict[str, Any] = {k: None for k in COLUMNS}
    for k in ("family", "d", "alpha", "F", "N", "method", "seed", "factset_seed", "factset"):
        row[k] = config.get(k)
    row["config_hash"] = config_hash(config)
    row.update(_versions())
    record: dict[str, Any] = {"config": config, "row": row, "probes": []}
    try:
        from .capacity import min_width

        fs = _factset(config["family"], config["d"], config["F"], config["N"],
                      config.get("factset_seed"), config.get("factset"))
        if config.get("factset_sha256") and fs.fingerprint() != config["factset_sha256"]:
            raise InvalidInputError(f"{config['factset']}: file changed since the sweep was configured (SHA-256 differs)")
        if config.get("rho", True):
            rho_val, row["rho_seconds"] = _rho_of(fs)
        else:
            rho_val, row["rho_seconds"] = float("nan"), 0.0
        res = min_width(fs, config["method"], config["seed"], rho=rho_val, **dict(config.get("options") or {}))
        row.update({
            "h_star": res.h_star, "params": res.params, "params_factored": res.params_factored,
            "facts_per_param": res.facts_per_param, "bits_per_param": res.bits_per_param,
            "counting_bound": res.counting_bound, "ratio_counting": res.ratio_counting, "rho": res.rho,
            "n_probes": len(res.probes),
            "probes": " ".join(f"{p.hidden}:{int(p.stored)}" for p in res.probes),
            "construct_seconds": res.construct_seconds, "status": res.status,
        })
        record["probes"] = [vars(p).copy() for p in res.probes]
    except Exception as exc:  # noqa: BLE001 - a sweep records failures and goes on
        row["status"] = "error"
        row["error"] = " ".join(f"{type(exc).__name__}: {exc}".split())[:500]
        record["traceback"] = traceback.format_exc()
    row["seconds"] = time.perf_counter() - t0
    return record


def _run_task(config: dict, preload: Sequence[str] = ()) -> dict:
    """Worker entry point: import ``preload`` modules (which may register methods), then run."""
    for mod in preload:
        importlib.import_module(mod)
    return run_one(config)


# ------------------------------------------------------------------ cache ----

def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if hasattr(obj, "item") and not isinstance(obj, (str, bytes)):
        try:
            return _jsonable(obj.item())
        except (TypeError, ValueError):
            return str(obj)
    return obj


def _write_atomic(path: str, text: str) -> None:
    d = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _cache_dir(out: str) -> str:
    return os.path.join(out, "cache")


def _cache_path(out: str, h: str) -> str:
    return os.path.join(_cache_dir(out), h + ".json")


def _load_cached(out: str, h: str) -> dict | None:
    path = _cache_path(out, h)
    try:
        with open(path) as fh:
            return json.load(fh)
    except FileNotFoundError:
        return None
    except (OSError, json.JSONDecodeError):
        return None  # a damaged entry is simply rerun


def _store(out: str, record: dict) -> None:
    h = record["row"]["config_hash"]
    _write_atomic(_cache_path(out, h), json.dumps(_jsonable(record), indent=1, sort_keys=True))


def _csv_value(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else "nan"
    return v


def rebuild_csv(out: str) -> str:
    """Rewrite ``OUT/results.csv`` from every cache entry, sorted by configuration; return its path."""
    rows = []
    cdir = _cache_dir(out)
    if os.path.isdir(cdir):
        for name in sorted(os.listdir(cdir)):
            if name.endswith(".json") and not name.startswith("."):
                try:
                    with open(os.path.join(cdir, name)) as fh:
                        rows.append(json.load(fh)["row"])
                except (OSError, json.JSONDecodeError, KeyError):
                    continue
    rows.sort(key=_sort_key)
    path = os.path.join(out, "results.csv")
    fd, tmp = tempfile.mkstemp(dir=out, prefix=".tmp-", suffix=".csv")
    try:
        with os.fdopen(fd, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(COLUMNS), extrasaction="ignore")
            w.writeheader()
            for r in rows:
                w.writerow({k: _csv_value(r.get(k)) for k in COLUMNS})
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def read_results(path: str) -> list[dict]:
    """Rows of a ``results.csv`` (or of ``DIR/results.csv``) with numeric columns typed."""
    if os.path.isdir(path):
        path = os.path.join(path, "results.csv")
    if not os.path.exists(path):
        raise InvalidInputError(f"{path}: no such results file")
    rows = []
    with open(path, newline="") as fh:
        for r in csv.DictReader(fh):
            out: dict[str, Any] = dict(r)
            for k in _INT_COLUMNS:
                if k in out:
                    out[k] = int(out[k]) if out[k] not in ("", None) else None
            for k in _FLOAT_COLUMNS:
                if k in out:
                    out[k] = float(out[k]) if out[k] not in ("", None) else float("nan")
            for k, v in list(out.items()):
                if v == "":
                    out[k] = None
            rows.append(out)
    return rows


# ------------------------------------------------------------------ sweep ----

@dataclass
class SweepReport:
    """What :func:`run_sweep` did: every row (cached and new), counts, wall time, CSV path."""

    rows: list[dict]
    n_cached: int
    n_run: int
    n_errors: int
    seconds: float
    csv_path: str
    errors: list[str] = field(default_factory=list)


def _dask_client(scheduler: str | None, workers: int):
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:
        raise DaskUnavailableError(
            "running on Dask needs dask.distributed: pip install 'factmlp[dist]'"
        ) from exc
    if scheduler:
        try:
            return Client(scheduler, timeout="20s"), None
        except (OSError, TimeoutError, ValueError) as exc:
            raise InvalidInputError(f"cannot connect to the Dask scheduler {scheduler!r}: {exc}") from exc
    cluster = LocalCluster(n_workers=int(workers), threads_per_worker=1, processes=True,
                           dashboard_address=None)
    return Client(cluster), cluster


def _progress(enabled: bool, total: int):
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)

    return Progress(TextColumn("capacity sweep"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                    console=Console(stderr=True), disable=not enabled, transient=False)


def run_sweep(
    configs: Iterable[dict],
    out: str,
    *,
    scheduler: str | None = None,
    workers: int = 1,
    client: Any = None,
    preload: Sequence[str] = (),
    progress: bool = True,
) -> SweepReport:
    """Run every configuration not yet cached under ``out``; rebuild ``out/results.csv``.

    Execution: ``client`` (an existing ``dask.distributed.Client``) if given,
    else ``scheduler`` (address of a running Dask scheduler), else a
    ``LocalCluster`` of ``workers`` single-threaded processes when
    ``workers > 1``, else serially in this process.  ``preload`` names
    modules every worker imports before running (to register custom
    methods).  Rows come back in completion order and are cached as they
    arrive; the returned rows are sorted by configuration.
    """
    t0 = time.perf_counter()
    configs = list(configs)
    os.makedirs(_cache_dir(out), exist_ok=True)
    rows: dict[str, dict] = {}
    todo: list[tuple[str, dict]] = []
    seen: set[str] = set()
    for c in configs:
        h = config_hash(c)
        if h in seen:
            continue
        seen.add(h)
        cached = _load_cached(out, h)
        if cached is not None and cached.get("row", {}).get("status") != "error":
            rows[h] = cached["row"]
        else:
            todo.append((h, c))
    n_cached = len(rows)
    errors: list[str] = []

    def accept(h: str, record: dict) -> None:
        _store(out, record)
        rows[h] = record["row"]
        if record["row"].get("status") == "error":
            errors.append(f"{h[:12]} {record['row'].get('method')}: {record['row'].get('error')}")

    with _progress(progress, len(configs)) as bar:
        task = bar.add_task("runs", total=len(configs), completed=n_cached)
        if todo and (client is not None or scheduler or workers > 1):
            own_client, cluster = (client, None) if client is not None else _dask_client(scheduler, workers)
            try:
                from dask.distributed import as_completed

                futures = {own_client.submit(_run_task, c, tuple(preload), pure=False, key=f"factmlp-run-{h}"): h
                           for h, c in todo}
                for fut in as_completed(futures):
                    h = futures[fut]
                    try:
                        record = fut.result()
                    except Exception as exc:  # noqa: BLE001 - a lost worker, not a failed run
                        errors.append(f"{h[:12]}: task failed ({type(exc).__name__}: {exc})")
                    else:
                        accept(h, record)
                    bar.advance(task)
            finally:
                if client is None:
                    own_client.close()
                    if cluster is not None:
                        cluster.close()
        else:
            for mod in preload:
                importlib.import_module(mod)
            for h, c in todo:
                accept(h, run_one(c))
                bar.advance(task)
    csv_path = rebuild_csv(out)
    ordered = sorted(rows.values(), key=_sort_key)
    return SweepReport(rows=ordered, n_cached=n_cached, n_run=len(todo), n_errors=len(errors),
                       seconds=time.perf_counter() - t0, csv_path=csv_path, errors=errors)
