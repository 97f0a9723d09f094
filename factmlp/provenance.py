"""Provenance of results: package versions, git revision, platform, date.

Every result factmlp writes (certificates, sweep rows, benchmark CSVs)
records :func:`provenance` next to its seeds, so a reader can rerun it.
"""

from __future__ import annotations

import datetime as _dt
import functools
import os
import platform
import subprocess
import sys
from importlib import metadata

__all__ = ["provenance", "git_revision", "package_versions", "blas_info", "source_hash"]

_PACKAGES = (
    "factmlp",
    "numpy",
    "scipy",
    "sympy",
    "mpmath",
    "hypothesis",
    "safetensors",
    "torch",
    "cupy",
    "dask",
    "threadpoolctl",
    "numba",  # factmlp._jit compiles the min-norm solver when it is installed
)
#: environment variables that set BLAS / OpenMP thread counts
_THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


def package_versions(packages: tuple[str, ...] = _PACKAGES) -> dict[str, str | None]:
    """Installed version of each package (``None`` when not installed)."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in packages:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


@functools.lru_cache(maxsize=1)
def git_revision() -> str | None:
    """The git commit of the factmlp source tree (with ``-dirty`` if modified), or ``None``."""
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        rev = subprocess.run(["git", "-C", here, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
        if rev.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "-C", here, "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
        )
        return rev.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


@functools.lru_cache(maxsize=1)
def source_hash() -> str:
    """SHA-256 over the installed ``factmlp`` sources (``*.py`` and ``*.json``, sorted relative paths and bytes).

    Identifies the code that ran where git cannot (a non-editable install).
    """
    import hashlib

    root = os.path.dirname(os.path.abspath(__file__))
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            if name.endswith((".py", ".json")):
                path = os.path.join(dirpath, name)
                h.update(os.path.relpath(path, root).replace(os.sep, "/").encode() + b"\0")
                with open(path, "rb") as fh:
                    h.update(fh.read())
                h.update(b"\0")
    return h.hexdigest()


def blas_info() -> dict:
    """BLAS libraries and thread settings: threadpoolctl's report when installed, else the env variables.

    ``{"source": "threadpoolctl" | "environment", "threadpools": [...] | None,
    "env": {VAR: value or None}, "numpy_blas": name or None}``.
    """
    env = {k: os.environ.get(k) for k in _THREAD_VARS}
    pools = None
    source = "environment"
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        pass
    else:
        source = "threadpoolctl"
        pools = [
            {k: p.get(k) for k in ("user_api", "internal_api", "num_threads", "version", "filepath")}
            for p in threadpool_info()
        ]
    numpy_blas = None
    try:
        import numpy as np

        cfg = np.show_config(mode="dicts")  # numpy >= 1.25
        numpy_blas = cfg.get("Build Dependencies", {}).get("blas", {}).get("name")
    except Exception:  # older numpy or an unusual build: the env variables still say the threads
        numpy_blas = None
    return {"source": source, "threadpools": pools, "env": env, "numpy_blas": numpy_blas}


def provenance() -> dict:
    """Versions, git revision (or installed-source hash), BLAS/threads, argv, CPUs, platform, UTC date."""
    rev = git_revision()
    return {
        "versions": package_versions(),
        "git_revision": rev,
        "package": {
            "name": "factmlp",
            "version": package_versions(("factmlp",)).get("factmlp"),
            "source_sha256": source_hash() if rev is None else None,
        },
        "mpmath": package_versions(("mpmath",)).get("mpmath"),
        "blas": blas_info(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "argv": list(sys.argv),
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
