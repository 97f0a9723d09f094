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

__all__ = ["provenance", "git_revision", "package_versions"]

_PACKAGES = ("factmlp", "numpy", "scipy", "sympy", "hypothesis", "safetensors", "torch", "cupy", "dask")


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
        rev = subprocess.run(
            ["git", "-C", here, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5
        )
        if rev.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "-C", here, "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=5,
        )
        return rev.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def provenance() -> dict:
    """Versions, git revision, platform and UTC date as a JSON-ready dict."""
    return {
        "versions": package_versions(),
        "git_revision": git_revision(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "argv": list(sys.argv),
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
