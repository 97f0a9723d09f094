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
is in), written atomically (:mod:`factmlp._atomic`).  A rerun skips every
cached run whose status is not ``error`` (errored runs are retried); a
damaged entry (not JSON, not a record) is rerun with a
:class:`DamagedCacheWarning`.  ``OUT/results.csv`` is rebuilt from the whole
cache after every sweep, sorted by configuration.  ``OUT`` and ``OUT/cache``
are created only when the first run finishes, so a sweep that fails before
any work (an unreachable scheduler) leaves no directory behind.

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
import io
import json
import math
import os
import time
import traceback
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from .errors import FactMLPError, FileFormatError, InvalidInputError

__all__ = [
    "COLUMNS",
    "TIMING_COLUMNS",
    "DaskUnavailableError",
    "DamagedCacheWarning",
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
    "family",
    "d",
    "alpha",
    "F",
    "N",
    "method",
    "seed",
    "factset_seed",
    "factset",
    "h_star",
    "params",
    "params_factored",
    "facts_per_param",
    "bits_per_param",
    "counting_bound",
    "ratio_counting",
    "rho",
    "n_probes",
    "probes",
    "seconds",
    "construct_seconds",
    "rho_seconds",
    "status",
    "error",
    "config_hash",
    "git_revision",
    "factmlp_version",
    "numpy_version",
    "torch_version",
    "python_version",
)
#: columns that depend on the machine's speed, not on the configuration
TIMING_COLUMNS = ("seconds", "construct_seconds", "rho_seconds")

_INT_COLUMNS = ("d", "F", "N", "seed", "factset_seed", "h_star", "params", "params_factored", "n_probes")
_FLOAT_COLUMNS = (
    "facts_per_param",
    "bits_per_param",
    "counting_bound",
    "ratio_counting",
    "rho",
    "seconds",
    "construct_seconds",
    "rho_seconds",
)


class DaskUnavailableError(FactMLPError, ImportError):
    """Dask distributed is needed (``pip install 'factmlp[dist]'``) but not installed."""


class DamagedCacheWarning(UserWarning):
    """A cache entry could not be read as a run record; the run is done again."""


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
                        out.append(
                            {
                                "family": fam,
                                "d": int(d),
                                "alpha": str(alpha),
                                "F": F,
                                "N": F,
                                "method": m,
                                "seed": s,
                                "factset_seed": int(factset_seed),
                                "factset": None,
                                "factset_sha256": None,
                                "options": dict(options.get(m, {})),
                                "rho": bool(rho),
                            }
                        )
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
                out.append(
                    {
                        "family": "file:" + os.path.basename(path),
                        "d": fs.dim,
                        "alpha": str(alpha),
                        "F": fs.n_facts,
                        "N": fs.n_values,
                        "method": m,
                        "seed": s,
                        "factset_seed": None,
                        "factset": os.path.abspath(path),
                        "factset_sha256": fs.fingerprint(),
                        "options": dict(options.get(m, {})),
                        "rho": bool(rho),
                    }
                )
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

    return (
        s(row.get("family")),
        num(row.get("d")),
        num(row.get("alpha")),
        s(row.get("method")),
        num(row.get("seed")),
        s(row.get("factset")),
        s(row.get("config_hash")),
    )


# ------------------------------------------------------------------- runs ----


@functools.lru_cache(maxsize=1)
def _versions() -> dict:
    from .provenance import git_revision, package_versions

    v = package_versions(("factmlp", "numpy", "torch"))
    return {
        "git_revision": git_revision(),
        "factmlp_version": v.get("factmlp"),
        "numpy_version": v.get("numpy"),
        "torch_version": v.get("torch"),
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

        fs = _factset(
            config["family"], config["d"], config["F"], config["N"], config.get("factset_seed"), config.get("factset")
        )
        if config.get("factset_sha256") and fs.fingerprint() != config["factset_sha256"]:
            raise InvalidInputError(
                f"{config['factset']}: file changed since the sweep was configured (SHA-256 differs)"
            )
        if config.get("rho", True):
            rho_val, row["rho_seconds"] = _rho_of(fs)
        else:
            rho_val, row["rho_seconds"] = float("nan"), 0.0
        res = min_width(fs, config["method"], config["seed"], rho=rho_val, **dict(config.get("options") or {}))
        row.update(
            {
                "h_star": res.h_star,
                "params": res.params,
                "params_factored": res.params_factored,
                "facts_per_param": res.facts_per_param,
                "bits_per_param": res.bits_per_param,
                "counting_bound": res.counting_bound,
                "ratio_counting": res.ratio_counting,
                "rho": res.rho,
                "n_probes": len(res.probes),
                "probes": " ".join(f"{p.hidden}:{int(p.stored)}" for p in res.probes),
                "construct_seconds": res.construct_seconds,
                "status": res.status,
            }
        )
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


def _cache_dir(out: str) -> str:
    return os.path.join(out, "cache")


def _cache_path(out: str, h: str) -> str:
    return os.path.join(_cache_dir(out), h + ".json")


def _read_record(path: str) -> dict:
    """The run record in cache file ``path``; ``ValueError`` naming what is wrong when it is damaged."""
    try:
        with open(path, "rb") as fh:
            record = json.loads(fh.read().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ValueError("not UTF-8 text") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(record, dict) or not isinstance(record.get("row"), dict):
        raise ValueError("not a run record (no 'row' object)")
    if not isinstance(record["row"].get("status"), str):
        raise ValueError("the row has no status")
    return record


def _load_cached(out: str, h: str) -> dict | None:
    """The cached record of run ``h``, or ``None`` (absent, or damaged: then a
    :class:`DamagedCacheWarning` says it is rerun)."""
    path = _cache_path(out, h)
    if not os.path.lexists(path):
        return None
    try:
        return _read_record(path)
    except (OSError, ValueError) as exc:
        warnings.warn(f"cache entry {path} is damaged ({exc}); running it again", DamagedCacheWarning, stacklevel=2)
        return None


def _store(out: str, record: dict) -> None:
    from ._atomic import make_dirs, write_text

    make_dirs(_cache_dir(out))
    h = record["row"]["config_hash"]
    write_text(_cache_path(out, h), json.dumps(_jsonable(record), indent=1, sort_keys=True))


def _csv_value(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else "nan"
    return v


def rebuild_csv(out: str) -> str:
    """Rewrite ``OUT/results.csv`` from every cache entry, sorted by configuration; return its path."""
    from ._atomic import make_dirs, write_text

    rows = []
    cdir = _cache_dir(out)
    if os.path.isdir(cdir):
        for name in sorted(os.listdir(cdir)):
            if name.endswith(".json") and not name.startswith("."):
                try:
                    rows.append(_read_record(os.path.join(cdir, name))["row"])
                except (OSError, ValueError):
                    continue  # damaged: warned about (and rerun) when its configuration is swept
    rows.sort(key=_sort_key)
    path = os.path.join(out, "results.csv")
    buf = io.StringIO(newline="")
    w = csv.DictWriter(buf, fieldnames=list(COLUMNS), extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow({k: _csv_value(r.get(k)) for k in COLUMNS})
    make_dirs(out)
    write_text(path, buf.getvalue())
    return path


def read_results(path: str) -> list[dict]:
    """Rows of a ``results.csv`` (or of ``DIR/results.csv``) with numeric columns typed."""
    if os.path.isdir(path):
        path = os.path.join(path, "results.csv")
    if not os.path.exists(path):
        raise InvalidInputError(f"{path}: no such results file")
    if not os.path.isfile(path):
        raise FileFormatError(f"{path}: not a regular file")
    try:
        with open(path, "rb") as fh:
            text = fh.read().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileFormatError(f"{path}: not a text CSV file (byte {exc.start} is not UTF-8)") from exc
    if "\0" in text:
        raise FileFormatError(f"{path}: not a text CSV file (holds NUL bytes)")
    try:
        header = next(csv.reader(io.StringIO(text, newline="")), [])
        records = list(csv.DictReader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise FileFormatError(f"{path}: not a readable CSV file ({exc})") from exc
    missing = [c for c in ("family", "method", "F", "status") if c not in header]
    if missing:
        raise FileFormatError(f"{path}: not a capacity results file, missing column(s) {missing}")
    rows = []
    for line, r in enumerate(records, start=2):
        out: dict[str, Any] = dict(r)
        if None in out:
            raise FileFormatError(f"{path}: line {line} has more fields than the header")
        for k in _INT_COLUMNS + _FLOAT_COLUMNS:
            if k not in out:
                continue
            v = out[k]
            try:
                if k in _INT_COLUMNS:
                    out[k] = int(v) if v not in ("", None) else None
                else:
                    out[k] = float(v) if v not in ("", None) else float("nan")
            except ValueError as exc:
                raise FileFormatError(f"{path}: line {line}, column {k!r}: {v!r} is not a number") from exc
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
        raise DaskUnavailableError("running on Dask needs dask.distributed: pip install 'factmlp[dist]'") from exc
    if scheduler:
        try:
            return Client(scheduler, timeout="20s"), None
        except (OSError, TimeoutError, ValueError) as exc:
            raise InvalidInputError(f"cannot connect to the Dask scheduler {scheduler!r}: {exc}") from exc
    cluster = LocalCluster(n_workers=int(workers), threads_per_worker=1, processes=True, dashboard_address=None)
    return Client(cluster), cluster


def _progress(enabled: bool, total: int):
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("capacity sweep"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not enabled,
        transient=False,
    )


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
    from ._atomic import check_output_dir

    t0 = time.perf_counter()
    configs = list(configs)
    check_output_dir(out)
    check_output_dir(_cache_dir(out))
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

                futures = {
                    own_client.submit(_run_task, c, tuple(preload), pure=False, key=f"factmlp-run-{h}"): h
                    for h, c in todo
                }
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
    return SweepReport(
        rows=ordered,
        n_cached=n_cached,
        n_run=len(todo),
        n_errors=len(errors),
        seconds=time.perf_counter() - t0,
        csv_path=csv_path,
        errors=errors,
    )
