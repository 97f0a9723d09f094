"""``.npz`` archives read header-first and written byte-deterministically.

Reading (:func:`read_npz`): the file must be a zip archive (an ``.npy`` file
or anything else is refused by its signature, never handed to a pickle
loader).  For each requested member ``name.npy`` the ``.npy`` header is
parsed first: dtype ``t`` (object dtypes are refused: factmlp never loads
pickles) and shape ``(s_1, ..., s_k)``.  The member must hold exactly
``prod(s) * itemsize(t)`` data bytes after its header, and that many bytes
must fit in ``max_bytes`` (default: the machine's physical memory); only
then is the array allocated and read.  Every failure is a
:class:`~factmlp.errors.FileFormatError` naming the file and the member.

Writing (:func:`npz_bytes`): an uncompressed zip of ``.npy`` members in the
given order with a fixed timestamp (1980-01-01), so the same arrays give the
same bytes; :func:`numpy.load` reads it.
"""

from __future__ import annotations

import io
import math
import os
import zipfile
from collections.abc import Sequence

import numpy as np

from .errors import FileFormatError

__all__ = ["physical_memory_bytes", "human_bytes", "read_npz", "npz_bytes"]

_NPY_MAGIC = b"\x93NUMPY"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def physical_memory_bytes() -> int | None:
    """Bytes of physical memory of this machine, or ``None`` when unknown."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, OSError, ValueError):
        return None


def human_bytes(n: float) -> str:
    """``n`` bytes as ``12.3 GiB`` (binary prefixes)."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024.0
    return f"{n:.1f} PiB"  # pragma: no cover


def _read_member(path: str, zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int | None) -> np.ndarray:
    where = f"{path}: member {info.filename}"
    with zf.open(info) as fh:
        try:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
            elif version in ((2, 0), (3, 0)):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
            else:
                raise FileFormatError(f"{where}: unsupported .npy format version {version}")
        except FileFormatError:
            raise
        except (ValueError, EOFError, OSError) as exc:
            raise FileFormatError(f"{where}: not a valid .npy header ({exc})") from exc
        if dtype.hasobject:
            raise FileFormatError(f"{where}: holds Python objects (dtype {dtype}); factmlp never loads pickled data")
        if any(int(s) < 0 for s in shape):
            raise FileFormatError(f"{where}: negative size in the declared shape {shape}")
        nbytes = math.prod(int(s) for s in shape) * int(dtype.itemsize)
        header = fh.tell()
        present = int(info.file_size) - header
        if nbytes != present:
            raise FileFormatError(
                f"{where}: declares shape {tuple(shape)} of {dtype} ({human_bytes(nbytes)}) "
                f"but holds {human_bytes(max(present, 0))} of data"
            )
        if budget is not None and nbytes > budget:
            raise FileFormatError(
                f"{where}: declares shape {tuple(shape)} of {dtype} ({human_bytes(nbytes)}), "
                f"more than this machine's {human_bytes(budget)} of memory"
            )
        data = fh.read(nbytes)
    if len(data) != nbytes:
        raise FileFormatError(f"{where}: truncated, {len(data)} of {nbytes} data bytes")
    arr = np.frombuffer(data, dtype=dtype)
    return arr.reshape(shape, order="F" if fortran else "C").copy()


def read_npz(
    path: str | os.PathLike, names: Sequence[str], *, max_bytes: int | None = None, what: str = "an .npz archive"
) -> dict[str, np.ndarray]:
    """Arrays ``names`` of the ``.npz`` archive at ``path`` (see the module docstring).

    ``max_bytes`` caps the total size of the arrays (default: physical
    memory).  Raises :class:`FileFormatError` for a missing, unreadable or
    non-zip file (an ``.npy`` file is named as such), a missing member, an
    object dtype, or a declared shape that does not match the data or the cap.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileFormatError(f"{path}: no such file")
    if os.path.isdir(path):
        raise FileFormatError(f"{path}: is a directory, not {what}")
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(_NPY_MAGIC))
    except OSError as exc:
        raise FileFormatError(f"{path}: cannot read ({exc.strerror})") from exc
    if head == _NPY_MAGIC:
        raise FileFormatError(f"{path}: is an .npy file (one array), not {what} with arrays {list(names)}")
    if not zipfile.is_zipfile(path):
        raise FileFormatError(f"{path}: not {what} (no zip archive signature)")
    budget = physical_memory_bytes() if max_bytes is None else int(max_bytes)
    try:
        with zipfile.ZipFile(path) as zf:
            members = {i.filename[:-4]: i for i in zf.infolist() if i.filename.endswith(".npy")}
            missing = [n for n in names if n not in members]
            if missing:
                raise FileFormatError(f"{path}: missing array(s) {missing} (found {sorted(members)})")
            out = {}
            for n in names:
                out[n] = _read_member(path, zf, members[n], budget)
                if budget is not None:
                    budget -= out[n].nbytes
            return out
    except FileFormatError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError, NotImplementedError) as exc:
        raise FileFormatError(f"{path}: damaged .npz archive ({type(exc).__name__}: {exc})") from exc


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An uncompressed ``.npz`` of ``arrays`` (member order as given, fixed timestamps)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, arr in arrays.items():
            info = zipfile.ZipInfo(name + ".npy", date_time=_ZIP_DATE)
            info.external_attr = 0o644 << 16
            with zf.open(info, "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, np.asarray(arr), allow_pickle=False)
    return buf.getvalue()
