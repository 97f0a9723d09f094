"""Atomic file output: every file factmlp writes goes through here.

A target ``P`` is written as a temporary file in ``P``'s own directory,
flushed and ``fsync``-ed, then renamed onto ``P`` with :func:`os.replace`
(atomic on POSIX within one file system), and the directory is ``fsync``-ed.
A failure at any point removes the temporary file, so a reader sees either
the old file, or no file, or the complete new one: never a partial one.

Targets are checked first (:func:`check_target`): the parent directory must
exist and be a directory, and an existing ``P`` must be a regular file.  A
symbolic link, directory, FIFO, socket or device node at ``P`` is refused
with :class:`~factmlp.errors.OutputPathError` (it is never replaced or
written through).  :func:`write_files` stages several files and renames them
only after all of them were written, so a failure while writing any of them
leaves none of them behind.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable, Mapping
from typing import IO, TypeVar

from .errors import OutputPathError

# a path type: Mapping is invariant in its keys, so write_files takes any one path type, not only the union
_Path = TypeVar("_Path", bound=str | os.PathLike)

__all__ = [
    "check_target",
    "check_output_dir",
    "probe_writable",
    "write_bytes",
    "write_text",
    "write_files",
    "make_dirs",
    "remove_dirs",
]


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device node"
    return "not a regular file"


def _first_non_directory_ancestor(path: str) -> str | None:
    """The nearest existing ancestor of ``path`` that is not a directory, if any."""
    parent = os.path.dirname(os.path.abspath(path))
    while True:
        if os.path.lexists(parent):
            return None if os.path.isdir(parent) else parent
        up = os.path.dirname(parent)
        if up == parent:
            return None
        parent = up


def check_target(path: str | os.PathLike) -> str:
    """Check that ``path`` can be replaced by a regular file; return it as a string.

    Raises :class:`OutputPathError` when ``path`` is a symbolic link (even a
    dangling one), a directory, a FIFO, socket or device node, or when its
    parent directory is missing or is not a directory.
    """
    path = os.fspath(path)
    if not path:
        raise OutputPathError("output path is empty")
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    except NotADirectoryError:
        st = None
    except OSError as exc:
        raise OutputPathError(f"{path}: cannot inspect the output path ({exc.strerror})") from exc
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise OutputPathError(
            f"{path}: is {_kind(st.st_mode)}; factmlp writes only regular files and never replaces one"
        )
    parent = os.path.dirname(path) or "."
    if not os.path.isdir(parent):
        bad = _first_non_directory_ancestor(path)
        if bad is not None:
            raise OutputPathError(f"{path}: cannot write there, {bad} is a file, not a directory")
        raise OutputPathError(f"{path}: the directory {parent} does not exist")
    return path


def check_output_dir(path: str | os.PathLike) -> str:
    """Check that ``path`` is an existing directory or can be created as one.

    Raises :class:`OutputPathError` when ``path`` exists and is not a
    directory, or when an existing ancestor of it is a file.
    """
    path = os.fspath(path)
    if not path:
        raise OutputPathError("output directory is empty")
    if os.path.lexists(path) and not os.path.isdir(path):
        st = os.lstat(path)
        raise OutputPathError(
            f"{path}: is {_kind(st.st_mode) if not stat.S_ISREG(st.st_mode) else 'a file'}, not a directory"
        )
    if not os.path.isdir(path):
        bad = _first_non_directory_ancestor(path)
        if bad is not None:
            raise OutputPathError(f"{path}: cannot create the directory, {bad} is a file, not a directory")
    return path


def probe_writable(directory: str | os.PathLike) -> None:
    """Create and remove a temporary file in ``directory``: a write test that also
    holds for privileged users and read-only file systems.

    Raises :class:`OutputPathError` naming the directory when it fails.
    """
    directory = os.fspath(directory) or "."
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".factmlp-probe-")
    except OSError as exc:
        raise OutputPathError(f"{directory}: cannot write in this directory ({exc.strerror})") from exc
    os.close(fd)
    os.remove(tmp)


def make_dirs(path: str | os.PathLike) -> list[str]:
    """``mkdir -p path``; return the directories this call created (outermost first),
    so a caller can remove them again when its work fails."""
    path = os.path.abspath(os.fspath(path))
    check_output_dir(path)
    missing: list[str] = []
    p = path
    while not os.path.isdir(p):
        missing.append(p)
        p = os.path.dirname(p)
    missing.reverse()
    created: list[str] = []
    try:
        for m in missing:
            os.mkdir(m)
            created.append(m)
    except OSError:
        remove_dirs(created)
        raise
    return created


def remove_dirs(created: list[str]) -> None:
    """Remove the directories :func:`make_dirs` created, innermost first, if they are empty."""
    for d in reversed(created):
        with contextlib.suppress(OSError):
            os.rmdir(d)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _stage(path: str, write: Callable[[IO[bytes]], None]) -> str:
    """Write a temporary sibling of ``path`` with ``write(fh)``; fsync it; return its name."""
    directory = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    return tmp


def write_bytes(path: str | os.PathLike, data: bytes) -> str:
    """Write ``data`` to ``path`` atomically (see the module docstring); return the path."""
    return write_files({path: data})[0]


def write_text(path: str | os.PathLike, text: str) -> str:
    """Write ``text`` (UTF-8) to ``path`` atomically; return the path."""
    return write_bytes(path, text.encode("utf-8"))


def write_files(files: Mapping[_Path, bytes | Callable[[IO[bytes]], None]]) -> list[str]:
    """Write several files all-or-nothing: check every target, stage every file, then rename.

    Each value is the file's bytes or a function ``write(fh)`` that writes
    them.  No target is touched until every file has been written and
    fsync-ed; a failure before that removes every staged file.  Returns the
    target paths in order.
    """
    targets = [check_target(p) for p in files]
    if len(set(map(os.path.abspath, targets))) != len(targets):
        raise OutputPathError(f"the same output path is given twice among {targets}")
    staged: list[str] = []
    try:
        for target, content in zip(targets, files.values(), strict=True):
            write = content if callable(content) else (lambda fh, b=content: fh.write(b))
            staged.append(_stage(target, write))
        for target in targets:
            check_target(target)
        for tmp, target in zip(staged, targets, strict=True):
            os.replace(tmp, target)
    except BaseException:
        for tmp in staged:
            with contextlib.suppress(OSError):
                os.remove(tmp)
        raise
    for directory in {os.path.dirname(t) or "." for t in targets}:
        _fsync_dir(directory)
    return targets
