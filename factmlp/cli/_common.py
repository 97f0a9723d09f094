"""Shared plumbing of the CLI commands: the one exception -> exit code map, JSON output, guards.

Exit codes (every command):

* 0 (:data:`EXIT_OK`): success;
* 1 (:data:`EXIT_NEGATIVE`): a negative answer (facts not stored, infeasible,
  a claim failing) -- set by the command itself;
* 2 (:data:`EXIT_BAD_INPUT`): bad input or a failure, with exactly one line
  ``factmlp: error: ...`` on stderr and no traceback.

:func:`error_message` is the single table from exceptions to that line:
factmlp's typed errors (a solver's :class:`~factmlp.errors.ConvergenceError`
is labelled a solver failure, not bad input), click's usage errors,
``OSError`` (files), ``MemoryError`` and any other exception.  With
``factmlp --debug`` or ``FACTMLP_DEBUG=1`` the exception is re-raised so its
traceback shows.
"""

from __future__ import annotations

import functools
import json
import math
import os
import sys
from collections.abc import Callable
from typing import Any

import click
import numpy as np

from ..errors import ConvergenceError, FactMLPError, InvalidInputError

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


def one_line(message: Any) -> str:
    """``message`` with every run of whitespace (newlines included) collapsed to one space."""
    return " ".join(str(message).split())


def fail(message: str, code: int = EXIT_BAD_INPUT) -> None:
    """Print ``factmlp: error: <message>`` on one line of stderr and exit with ``code``."""
    click.echo(f"factmlp: error: {one_line(message)}", err=True)
    sys.exit(code)


def warn(message: str) -> None:
    """Print ``factmlp: warning: <message>`` on one line of stderr (the command goes on)."""
    click.echo(f"factmlp: warning: {one_line(message)}", err=True)


def debug_enabled() -> bool:
    """True under ``factmlp --debug`` or with the environment variable ``FACTMLP_DEBUG=1``."""
    if os.environ.get("FACTMLP_DEBUG", "").strip() not in ("", "0"):
        return True
    ctx = click.get_current_context(silent=True)
    while ctx is not None:
        if ctx.params.get("debug"):
            return True
        ctx = ctx.parent
    return False


def _os_message(exc: OSError) -> str:
    where = exc.filename if exc.filename is not None else None
    if exc.filename2 is not None:
        where = f"{exc.filename} -> {exc.filename2}"
    text = exc.strerror or str(exc)
    return f"{where}: {text}" if where else text


def error_message(exc: BaseException) -> str:
    """The one-line message for ``exc`` (the exit code is always :data:`EXIT_BAD_INPUT`)."""
    if isinstance(exc, ConvergenceError):
        return f"solver failure (the input may be fine): {exc}"
    if isinstance(exc, FactMLPError):
        return str(exc)
    if isinstance(exc, click.UsageError):
        hint = ""
        if exc.ctx is not None:
            hint = f" (see '{exc.ctx.command_path} --help')"
        return exc.format_message() + hint
    if isinstance(exc, click.ClickException):
        return exc.format_message()
    if isinstance(exc, (click.Abort, KeyboardInterrupt)):
        return "interrupted"
    if isinstance(exc, MemoryError):
        detail = str(exc) or "an allocation failed"
        return f"out of memory: {detail}; choose smaller sizes"
    if isinstance(exc, OSError):
        return _os_message(exc)
    text = str(exc)
    return (
        f"unexpected {type(exc).__name__}"
        + (f": {text}" if text else "")
        + " (rerun with factmlp --debug for the traceback)"
    )


def handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Run a command body under :func:`error_message`: any exception -> one line, exit 2.

    ``SystemExit`` (a command's own exit code) and click's control-flow
    exceptions pass through; under :func:`debug_enabled` everything else is
    re-raised.  The ``factmlp`` group applies the same map, so this also
    covers errors raised while click parses the arguments.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (SystemExit, click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - the CLI's single error map
            if debug_enabled():
                raise
            fail(error_message(exc), EXIT_BAD_INPUT)

    return wrapper


# ----------------------------------------------------------------- guards ----


def require_memory(nbytes: float, what: str) -> None:
    """Refuse up front (:class:`InvalidInputError`) a job whose arrays need more than physical memory.

    ``nbytes`` is a lower estimate of the bytes the job allocates; ``what``
    names the sizes that set it (e.g. ``"--facts 10^12 with --d 64"``).
    """
    from .._npz import human_bytes, physical_memory_bytes

    ram = physical_memory_bytes()
    if ram is not None and nbytes > ram:
        raise InvalidInputError(
            f"{what} needs at least {human_bytes(nbytes)} of memory, more than this machine's {human_bytes(ram)}"
        )


def check_out_file(path: str) -> str:
    """Check ``--out PATH`` before any work: a regular file or nothing, in a writable directory.

    Raises :class:`~factmlp.errors.OutputPathError` (exit 2) otherwise.
    """
    from .._atomic import check_target, probe_writable

    check_target(path)
    probe_writable(os.path.dirname(os.path.abspath(path)))
    return path


def check_out_dir(path: str) -> str:
    """Check ``--out DIR`` before any work: an existing directory or one that can be created there.

    The directory itself (or, when it does not exist yet, its nearest
    existing ancestor) must accept a new file.
    """
    from .._atomic import check_output_dir, probe_writable

    check_output_dir(path)
    existing = os.path.abspath(path)
    while not os.path.isdir(existing):
        existing = os.path.dirname(existing)
    probe_writable(existing)
    return path


class FiniteFloat(click.ParamType):
    """A finite float (``inf`` and ``nan`` are refused), optionally ``>= min``."""

    name = "float"

    def __init__(self, min: float | None = None) -> None:  # noqa: A002 - click's spelling
        self.min = min

    def convert(self, value: Any, param: Any, ctx: Any) -> float:
        try:
            x = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not math.isfinite(x):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        if self.min is not None and x < self.min:
            self.fail(f"{value!r} is below the minimum {self.min}", param, ctx)
        return x


__all__ = [
    "EXIT_OK",
    "EXIT_NEGATIVE",
    "EXIT_BAD_INPUT",
    "json_option",
    "dumps",
    "one_line",
    "fail",
    "warn",
    "debug_enabled",
    "error_message",
    "handle_errors",
    "require_memory",
    "check_out_file",
    "check_out_dir",
    "FiniteFloat",
]
