"""File I/O helpers: atomic all-or-nothing writes, header-first npz reading, deterministic safetensors."""

from __future__ import annotations

import io
import os
import zipfile

import numpy as np
import pytest

from factmlp._atomic import check_target, make_dirs, remove_dirs, write_bytes, write_files
from factmlp._npz import npz_bytes, read_npz
from factmlp._safetensors import safetensors_bytes
from factmlp.errors import FileFormatError, InvalidInputError, OutputPathError
from factmlp.factset import FactSet


def _listing(d) -> list[str]:
    return sorted(os.listdir(d))


def test_write_replaces_a_regular_file_with_umask_permissions(tmp_path):
    p = tmp_path / "f.bin"
    p.write_bytes(b"old")
    write_bytes(p, b"new")
    assert p.read_bytes() == b"new" and _listing(tmp_path) == ["f.bin"]
    mask = os.umask(0)
    os.umask(mask)
    assert (os.stat(p).st_mode & 0o777) == (0o666 & ~mask)


@pytest.mark.parametrize("kind", ["symlink", "dangling", "fifo", "dir", "missing-parent", "parent-is-file"])
def test_unsafe_targets_are_refused(tmp_path, kind):
    (tmp_path / "real").write_text("keep")
    p = tmp_path / "t"
    if kind == "symlink":
        p.symlink_to(tmp_path / "real")
    elif kind == "dangling":
        p.symlink_to(tmp_path / "nowhere")
    elif kind == "fifo":
        os.mkfifo(p)
    elif kind == "dir":
        p.mkdir()
    elif kind == "missing-parent":
        p = tmp_path / "no" / "t"
    else:
        p = tmp_path / "real" / "t"
    before = _listing(tmp_path)
    with pytest.raises(OutputPathError):
        check_target(p)
    with pytest.raises(OutputPathError):
        write_bytes(p, b"x")
    assert _listing(tmp_path) == before and (tmp_path / "real").read_text() == "keep"


def test_write_files_is_all_or_nothing(tmp_path):
    (tmp_path / "b").mkdir()  # the second target is a directory: refused before anything is written
    with pytest.raises(OutputPathError):
        write_files({tmp_path / "a": b"1", tmp_path / "b": b"2"})
    assert _listing(tmp_path) == ["b"]

    def broken(fh):
        fh.write(b"half")
        raise OSError(28, "No space left on device")

    (tmp_path / "a").write_bytes(b"old")
    with pytest.raises(OSError):
        write_files({tmp_path / "a": b"new", tmp_path / "c": broken})
    assert _listing(tmp_path) == ["a", "b"] and (tmp_path / "a").read_bytes() == b"old"
    write_files({tmp_path / "a": b"new", tmp_path / "c": lambda fh: fh.write(b"whole")})
    assert (tmp_path / "a").read_bytes() == b"new" and (tmp_path / "c").read_bytes() == b"whole"


def test_make_dirs_reports_what_it_created(tmp_path):
    created = make_dirs(tmp_path / "x" / "y")
    assert created == [str(tmp_path / "x"), str(tmp_path / "x" / "y")]
    assert make_dirs(tmp_path / "x" / "y") == []
    remove_dirs(created)
    assert _listing(tmp_path) == []
    (tmp_path / "f").write_text("")
    with pytest.raises(OutputPathError):
        make_dirs(tmp_path / "f" / "z")


def _zip(path, members: dict[str, bytes]):
    with zipfile.ZipFile(path, "w") as z:
        for k, v in members.items():
            z.writestr(k, v)


def _npy(arr) -> bytes:
    b = io.BytesIO()
    np.save(b, arr, allow_pickle=True)
    return b.getvalue()


def test_read_npz_checks_headers_before_allocating(tmp_path):
    a = np.arange(12.0).reshape(3, 4)
    _zip(tmp_path / "ok.npz", {"a.npy": _npy(a)})
    assert np.array_equal(read_npz(tmp_path / "ok.npz", ["a"])["a"], a)
    with pytest.raises(FileFormatError, match="more than"):  # real data, over the budget
        read_npz(tmp_path / "ok.npz", ["a"], max_bytes=95)
    _zip(tmp_path / "trunc.npz", {"a.npy": _npy(a)[:-8]})
    with pytest.raises(FileFormatError, match="holds"):
        read_npz(tmp_path / "trunc.npz", ["a"])
    _zip(tmp_path / "obj.npz", {"a.npy": _npy(np.array([None, 1], dtype=object))})
    with pytest.raises(FileFormatError, match="pickled"):
        read_npz(tmp_path / "obj.npz", ["a"])
    with pytest.raises(FileFormatError, match="missing array"):
        read_npz(tmp_path / "ok.npz", ["b"])


@pytest.mark.parametrize(
    "arr",
    [
        np.arange(6, dtype=">f8").reshape(2, 3),
        np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        np.zeros((0, 3)),
        np.arange(5, dtype=np.int32),
    ],
)
def test_read_npz_matches_numpy(tmp_path, arr):
    np.savez_compressed(tmp_path / "c.npz", a=arr)
    got = read_npz(tmp_path / "c.npz", ["a"])["a"]
    assert got.dtype == arr.dtype and np.array_equal(got, arr)
    (tmp_path / "d.npz").write_bytes(npz_bytes({"a": arr}))
    with np.load(tmp_path / "d.npz") as z:
        assert np.array_equal(z["a"], arr)


def test_factset_files_are_deterministic_and_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    fs = FactSet(rng.standard_normal((5, 3)), rng.standard_normal((4, 3)), [0, 1, 2, 3, 0])
    fs.save(tmp_path / "a.npz")
    fs.save(tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    assert FactSet.load(tmp_path / "a.npz") == fs
    np.savez(tmp_path / "np.npz", keys=fs.keys, values=fs.values, mapping=fs.mapping)  # numpy's own writer
    assert FactSet.load(tmp_path / "np.npz") == fs


def test_safetensors_bytes_are_canonical_and_readable():
    from safetensors.numpy import load

    t = {"b": np.arange(6.0).reshape(2, 3), "a": np.ones(3, np.float32), "h": np.ones(2, np.float16)}
    m = {"z": "1", "activation": "silu", "m": "x"}
    b1 = safetensors_bytes(t, m)
    b2 = safetensors_bytes(dict(reversed(list(t.items()))), dict(reversed(list(m.items()))))
    assert b1 == b2
    back = load(b1)
    assert set(back) == set(t) and all(back[k].dtype == t[k].dtype and np.array_equal(back[k], t[k]) for k in t)
    with pytest.raises(InvalidInputError):
        safetensors_bytes({"c": np.ones(2, np.complex128)})


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="no /dev/null")
def test_device_nodes_are_refused():
    # check_target only inspects (lstat); nothing is written here even if it regressed
    with pytest.raises(OutputPathError, match="device node"):
        check_target("/dev/null")
