"""Byte-deterministic safetensors serialisation.

The safetensors layout is: an unsigned 64-bit little-endian length ``n``,
then ``n`` bytes of a JSON header (padded with spaces to a multiple of 8),
then the tensor data.  The header maps each tensor name to ``{"dtype",
"shape", "data_offsets": [begin, end]}`` (offsets into the data part) and
``"__metadata__"`` to a string -> string dict.

:func:`safetensors_bytes` writes the header with sorted keys and no
whitespace, tensors in the order (itemsize descending, name), each as
little-endian C-order bytes: equal tensors and metadata give equal bytes
(the reference writer emits metadata in hash-map order, which differs from
run to run).  The result is read by ``safetensors.safe_open``.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping

import numpy as np

from .errors import InvalidInputError

__all__ = ["safetensors_bytes"]

_DTYPE_CODES = {
    "float64": "F64",
    "float32": "F32",
    "float16": "F16",
    "int64": "I64",
    "int32": "I32",
    "int16": "I16",
    "int8": "I8",
    "uint64": "U64",
    "uint32": "U32",
    "uint16": "U16",
    "uint8": "U8",
    "bool": "BOOL",
}


def safetensors_bytes(tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str] | None = None) -> bytes:
    """The safetensors file holding ``tensors`` and string ``metadata`` (see the module docstring).

    Raises :class:`InvalidInputError` for a dtype safetensors cannot hold or
    a non-string metadata entry.
    """
    meta = {}
    for k, v in (metadata or {}).items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise InvalidInputError(f"safetensors metadata must map str to str, got {k!r}: {v!r}")
        meta[k] = v
    arrays = {}
    for name, a in tensors.items():
        a = np.asarray(a)
        code = _DTYPE_CODES.get(a.dtype.name)
        if code is None:
            raise InvalidInputError(f"tensor {name!r}: dtype {a.dtype} cannot be stored in safetensors")
        arrays[name] = (code, np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<")))
    order = sorted(arrays, key=lambda n: (-arrays[n][1].dtype.itemsize, n))
    header: dict = {"__metadata__": meta} if meta else {}
    offset = 0
    for name in order:
        code, a = arrays[name]
        header[name] = {"dtype": code, "shape": [int(s) for s in a.shape], "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    text = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return b"".join([struct.pack("<Q", len(text)), text] + [arrays[n][1].tobytes() for n in order])
