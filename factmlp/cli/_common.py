"""Shared plumbing of the CLI commands: error mapping, JSON output, exit codes."""

from __future__ import annotations

import functools
import json
import math
import sys
from typing import Any, Callable

import click
import numpy as np

from ..errors import FactMLPError

EXIT_OK = 0
EXIT_NEGATIVE = 1
EXIT_BAD_INPUT = 2

json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON on stdout.")


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        f = float(obj)
        return f if math.isfinite(f) else None
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def dumps(obj: Any) -> str:
    """JSON text for ``obj`` (NumPy scalars/arrays converted; NaN/inf become null)."""
    return json.dumps(_jsonable(obj), indent=None, sort_keys=False)


def fail(message: str, code: int = EXIT_BAD_INPUT) -> None:
    """Print ``factmlp: error: <message>`` on one line of stderr and exit with ``code``."""
    one_line = " ".join(str(message).split())
    click.echo(f"factmlp: error: {one_line}", err=True)
    sys.exit(code)


def handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Map factmlp's typed errors (and unreadable files) to exit 2 with one line."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except FactMLPError as exc:
            fail(str(exc), EXIT_BAD_INPUT)
        except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
            fail(f"{exc.filename}: {exc.strerror}", EXIT_BAD_INPUT)

    return wrapper
