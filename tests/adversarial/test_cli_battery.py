"""CLI battery: every bad-input class of the soundness issue, through the command line.

For each case the test asserts the exit code (2), exactly one line on
stderr of the form ``factmlp: error: ...``, no traceback, and that the
directory the command was pointed at holds exactly what it held before (no
partial or temporary files).  Most cases run in-process through click's
``CliRunner`` (stderr captured separately); a handful run the installed
``factmlp`` entry point in a subprocess.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from click.testing import CliRunner

from factmlp.cli import main
from factmlp.errors import ConvergenceError, InvalidInputError

# --------------------------------------------------------------- fixtures ----


def _rng():
    return np.random.default_rng(0)


def _weights(d=4, h=8, scale=1.0, extra=None):
    rng = _rng()
    t = {
        "gate_proj.weight": rng.standard_normal((h, d)) * scale,
        "up_proj.weight": rng.standard_normal((h, d)),
        "down_proj.weight": rng.standard_normal((d, h)),
    }
    t.update(extra or {})
    return t


def _save_st(path, tensors, activation="silu"):
    from safetensors.numpy import save_file

    save_file(tensors, str(path), metadata={"activation": activation})


def _npy_bytes(arr) -> bytes:
    b = io.BytesIO()
    np.save(b, arr, allow_pickle=True)
    return b.getvalue()


def _weights_header(path, shape, length):
    """A safetensors file whose header declares ``gate_proj.weight`` of ``shape`` over 64 data bytes
    (and, if ``length`` is given, a header length of ``length`` bytes)."""
    import struct

    header = {
        "__metadata__": {"activation": "silu"},
        "gate_proj.weight": {"dtype": "F64", "shape": shape, "data_offsets": [0, 64]},
        "up_proj.weight": {"dtype": "F64", "shape": [2, 4], "data_offsets": [64, 128]},
        "down_proj.weight": {"dtype": "F64", "shape": [4, 2], "data_offsets": [128, 192]},
    }
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(struct.pack("<Q", len(text) if length is None else length) + text + b"\0" * 192)


@pytest.fixture()
def inp(tmp_path_factory):
    """A directory of inputs (good and bad) that the commands read but never write."""
    d = tmp_path_factory.mktemp("inputs")
    rng = _rng()
    keys = rng.standard_normal((8, 4))
    values = rng.standard_normal((8, 4))
    values /= np.linalg.norm(values, axis=1, keepdims=True)  # on the sphere: every value a vertex
    np.savez(d / "fs.npz", keys=keys, values=values, mapping=np.arange(8))
    np.save(d / "a.npy", keys)
    # an npz member whose header declares shape (10^12, 4) but holds 64 bytes
    hdr = io.BytesIO()
    np.lib.format.write_array_header_1_0(hdr, {"descr": "<f8", "fortran_order": False, "shape": (10**12, 4)})
    with zipfile.ZipFile(d / "huge.npz", "w") as z:
        z.writestr("keys.npy", hdr.getvalue() + b"\0" * 64)
        z.writestr("values.npy", _npy_bytes(values))
        z.writestr("mapping.npy", _npy_bytes(np.arange(8)))
    with zipfile.ZipFile(d / "pickled.npz", "w") as z:  # an object member: a pickle inside
        z.writestr("keys.npy", _npy_bytes(np.array([{"x": 1}, None], dtype=object)))
        z.writestr("values.npy", _npy_bytes(values))
        z.writestr("mapping.npy", _npy_bytes(np.arange(8)))
    import pickle

    (d / "pickle.npz").write_bytes(pickle.dumps({"keys": keys}))
    (d / "text.npz").write_text("hello, not an archive\n" * 10)
    _save_st(d / "w.safetensors", _weights())
    _save_st(d / "down_bias.safetensors", _weights(extra={"down_proj.bias": np.zeros(4)}))
    _save_st(d / "gate_bias.safetensors", _weights(extra={"gate_proj.bias": np.zeros(8)}))
    _save_st(d / "unknown.safetensors", _weights(extra={"lm_head.weight": np.zeros((2, 4))}))
    _save_st(d / "big.safetensors", _weights(scale=1e300))
    _weights_header(d / "huge.safetensors", shape=[10**12, 4], length=None)
    _weights_header(d / "header_lie.safetensors", shape=[8, 4], length=10**15)
    (d / "binary.csv").write_bytes(bytes(range(256)) * 8)
    (d / "nul.csv").write_bytes(b"family,method,F,status\nspherical,encdec,\0,ok\n")
    (d / "nonnumeric.csv").write_text(
        "family,d,alpha,F,N,method,seed,status,h_star,facts_per_param\nspherical,abc,1/4,xyz,4,encdec,0,ok,3,0.1\n"
    )
    (d / "nocols.csv").write_text("a,b\n1,2\n")
    (d / "afile").write_text("a regular file\n")
    return d


def _tree(root) -> set[str]:
    out = set()
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            out.add(os.path.relpath(os.path.join(dirpath, n), root))
    return out


def _invoke(args, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


def _assert_one_line_error(res, code=2):
    assert res.exit_code == code, (res.exit_code, res.output, res.exception)
    lines = res.stderr.splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("factmlp: error: "), lines[0]
    assert "Traceback" not in res.output
    assert isinstance(res.exception, SystemExit), repr(res.exception)
    return lines[0]


# ----------------------------------------------------------- the battery ----

# (id, args with {i} = input dir and {o} = output dir, words the message must hold)
CASES = [
    # files that are not what they claim
    ("npy-as-npz-rho", ["rho", "{i}/a.npy"], [".npy file"]),
    ("npy-as-npz-check", ["check-weights", "{i}/a.npy", "{i}/w.safetensors"], [".npy file"]),
    ("npy-as-npz-construct", ["construct", "{i}/a.npy", "--out", "{o}/w.safetensors"], [".npy file"]),
    ("huge-declared-shape", ["rho", "{i}/huge.npz"], ["(1000000000000, 4)"]),
    ("object-member", ["rho", "{i}/pickled.npz"], ["pickled"]),
    ("pickle-file", ["rho", "{i}/pickle.npz"], ["not a fact set"]),
    ("text-file", ["check-weights", "{i}/text.npz", "{i}/w.safetensors"], ["not a fact set"]),
    ("missing-file", ["rho", "{i}/nope.npz"], ["no such file"]),
    ("directory-as-npz", ["rho", "{i}"], ["directory"]),
    ("weights-declared-shape-1e12", ["check-weights", "{i}/fs.npz", "{i}/huge.safetensors"], ["safetensors"]),
    ("weights-header-length-lie", ["check-weights", "{i}/fs.npz", "{i}/header_lie.safetensors"], ["safetensors"]),
    (
        "capacity-factset-npy",
        ["capacity", "--factset", "{i}/a.npy", "--methods", "encdec", "--no-progress", "--out", "{o}/cap"],
        [".npy file"],
    ),
    ("npz-as-weights", ["check-weights", "{i}/fs.npz", "{i}/fs.npz"], ["safetensors"]),
    # bad numbers
    (
        "seed-negative-make",
        ["make-factset", "--d", "4", "--facts", "4", "--seed", "-1", "--out", "{o}/fs.npz"],
        ["seed", "-1"],
    ),
    ("seed-negative-demo", ["demo", "--d", "4", "--facts", "4", "--seed", "-1"], ["seed", "-1"]),
    (
        "seed-negative-construct",
        ["construct", "{i}/fs.npz", "--seed", "-1", "--out", "{o}/w.safetensors"],
        ["seed", "-1"],
    ),
    (
        "condition-inf",
        [
            "make-factset",
            "--family",
            "condition",
            "--d",
            "4",
            "--facts",
            "4",
            "--condition",
            "inf",
            "--out",
            "{o}/fs.npz",
        ],
        ["--condition", "finite"],
    ),
    (
        "condition-nan",
        [
            "make-factset",
            "--family",
            "condition",
            "--d",
            "4",
            "--facts",
            "4",
            "--condition",
            "nan",
            "--out",
            "{o}/fs.npz",
        ],
        ["--condition"],
    ),
    (
        "condition-below-1",
        [
            "make-factset",
            "--family",
            "condition",
            "--d",
            "4",
            "--facts",
            "4",
            "--condition",
            "0.5",
            "--out",
            "{o}/fs.npz",
        ],
        ["--condition"],
    ),
    (
        "beta-inf",
        ["make-factset", "--family", "spiked", "--d", "4", "--facts", "4", "--beta", "-inf", "--out", "{o}/fs.npz"],
        ["--beta"],
    ),
    ("hidden-zero", ["construct", "{i}/fs.npz", "--hidden", "0", "--out", "{o}/w.safetensors"], ["--hidden"]),
    # sizes that cannot be allocated
    (
        "facts-1e12-make",
        ["make-factset", "--d", "4", "--facts", str(10**12), "--out", "{o}/fs.npz"],
        ["--facts", "memory"],
    ),
    ("facts-1e12-demo", ["demo", "--d", "4", "--facts", str(10**12)], ["--facts", "memory"]),
    (
        "hidden-1e10",
        ["construct", "{i}/fs.npz", "--hidden", str(10**10), "--out", "{o}/w.safetensors"],
        ["--hidden", "memory"],
    ),
    ("vocab-1e9", ["transformer-demo", "--vocab", str(10**9)], ["--vocab", "memory"]),
    (
        "capacity-d-1e5",
        ["capacity", "--d", str(10**5), "--alpha", "1", "--methods", "encdec", "--no-progress", "--out", "{o}/cap"],
        ["F=10000000000", "memory"],
    ),
    ("seed-negative-verify", ["verify", "--claims", "C1", "--seed", "-1", "--out", "{o}/rep"], ["--seed"]),
    (
        "seed-negative-capacity",
        ["capacity", "--d", "3", "--alpha", "1/3", "--methods", "encdec", "--factset-seed", "-1", "--out", "{o}/cap"],
        ["--factset-seed"],
    ),
    # outputs that cannot be written
    ("make-out-under-file", ["make-factset", "--d", "4", "--facts", "4", "--out", "{i}/afile/fs.npz"], ["afile"]),
    ("export-out-under-file", ["export", "{i}/w.safetensors", "--to", "hf", "{i}/afile/hf"], ["afile"]),
    (
        "capacity-out-under-file",
        [
            "capacity",
            "--d",
            "3",
            "--alpha",
            "1/3",
            "--methods",
            "encdec",
            "--no-rho",
            "--no-progress",
            "--out",
            "{i}/afile/cap",
        ],
        ["afile"],
    ),
    ("verify-out-under-file", ["verify", "--claims", "C1", "--out", "{i}/afile/rep"], ["afile"]),
    ("verify-out-is-file", ["verify", "--claims", "C1", "--out", "{i}/afile"], ["afile"]),
    ("construct-out-under-file", ["construct", "{i}/fs.npz", "--out", "{i}/afile/w.safetensors"], ["afile"]),
    ("plot-out-under-file", ["plot", "{i}/nonnumeric.csv", "--out", "{i}/afile/figs"], ["afile"]),
    ("construct-missing-dir", ["construct", "{i}/fs.npz", "--out", "{o}/missing/w.safetensors"], ["does not exist"]),
    ("make-out-is-dir", ["make-factset", "--d", "4", "--facts", "4", "--out", "{o}"], []),
    # CSVs that are not capacity results
    ("plot-binary-csv", ["plot", "{i}/binary.csv", "--out", "{o}/figs"], ["not a text CSV"]),
    ("plot-nul-csv", ["plot", "{i}/nul.csv", "--out", "{o}/figs"], ["NUL"]),
    ("plot-non-numeric-csv", ["plot", "{i}/nonnumeric.csv", "--out", "{o}/figs"], ["line 2", "not a number"]),
    ("plot-no-columns", ["plot", "{i}/nocols.csv", "--out", "{o}/figs"], ["missing column"]),
    # selections that select nothing
    ("claims-comma", ["verify", "--claims", ",", "--out", "{o}/rep"], ["selects no claim"]),
    ("claims-empty", ["verify", "--claims", "", "--out", "{o}/rep"], ["selects no claim"]),
    ("claims-unknown", ["verify", "--claims", "C99", "--out", "{o}/rep"], ["C99"]),
    # tensors that change the function
    ("down-bias-check", ["check-weights", "{i}/fs.npz", "{i}/down_bias.safetensors"], ["down_proj.bias"]),
    ("gate-bias-check", ["check-weights", "{i}/fs.npz", "{i}/gate_bias.safetensors"], ["gate_proj.bias"]),
    ("unknown-tensor-check", ["check-weights", "{i}/fs.npz", "{i}/unknown.safetensors"], ["lm_head.weight"]),
    ("down-bias-export", ["export", "{i}/down_bias.safetensors", "--to", "hf", "{o}/hf"], ["down_proj.bias"]),
    ("gate-bias-export", ["export", "{i}/gate_bias.safetensors", "--to", "hf", "{o}/hf"], ["gate_proj.bias"]),
    (
        "float32-overflow-export",
        ["export", "{i}/big.safetensors", "--to", "hf", "{o}/hf", "--dtype", "float32"],
        ["gate_proj.weight", "max |w|"],
    ),
    # usage errors are one line too
    ("unknown-option", ["rho", "{i}/fs.npz", "--bogus"], ["--bogus"]),
    ("unknown-command", ["frobnicate"], ["frobnicate"]),
    ("missing-argument", ["check-weights", "{i}/fs.npz"], ["WEIGHTS"]),
    ("bad-choice", ["export", "{i}/w.safetensors", "--to", "onnx", "{o}/hf"], ["onnx"]),
]


@pytest.mark.parametrize("case, args, words", CASES, ids=[c[0] for c in CASES])
def test_bad_input_exits_2_with_one_line(inp, tmp_path, case, args, words):
    out = tmp_path / "out"
    out.mkdir()
    before_in, before_out = _tree(inp), _tree(out)
    res = _invoke([a.format(i=inp, o=out) for a in args])
    line = _assert_one_line_error(res)
    for w in words:
        assert w in line, (w, line)
    assert "allow_pickle" not in line
    assert _tree(out) == before_out, "a failing command left files behind"
    assert _tree(inp) == before_in, "a failing command wrote next to its inputs"


def _readonly_dir(tmp_path):
    """A directory this process cannot create files in (skip when there is none, e.g. as root)."""
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    for cand in (str(ro), "/sys"):
        try:
            fd = os.open(os.path.join(cand, ".factmlp-probe"), os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
        except OSError:
            return cand
        os.close(fd)
        os.remove(os.path.join(cand, ".factmlp-probe"))
    pytest.skip("no read-only directory available to this user")


@pytest.mark.parametrize(
    "command",
    [
        ["construct", "{i}/fs.npz", "--out", "{ro}/w.safetensors"],
        ["make-factset", "--d", "4", "--facts", "4", "--out", "{ro}/fs.npz"],
        ["verify", "--claims", "C1", "--out", "{ro}/report"],
        ["capacity", "--d", "3", "--alpha", "1/3", "--methods", "encdec", "--no-rho", "--out", "{ro}/cap"],
    ],
    ids=["construct", "make-factset", "verify", "capacity"],
)
def test_read_only_output_dir(inp, tmp_path, command):
    ro = _readonly_dir(tmp_path)
    before = set(os.listdir(ro))
    res = _invoke([a.format(i=inp, ro=ro) for a in command])
    line = _assert_one_line_error(res)
    assert "cannot write" in line
    assert set(os.listdir(ro)) == before


@pytest.mark.parametrize(
    "command",
    [
        ["make-factset", "--d", "4", "--facts", "4", "--out"],
        ["construct", "{i}/fs.npz", "--out"],
    ],
)
@pytest.mark.parametrize("kind", ["symlink", "dangling-symlink", "fifo"])
def test_links_and_special_files_are_never_replaced(inp, tmp_path, command, kind):
    target = tmp_path / "target.txt"
    target.write_text("keep me\n")
    out = tmp_path / "out.bin"
    if kind == "symlink":
        out.symlink_to(target)
    elif kind == "dangling-symlink":
        out.symlink_to(tmp_path / "nowhere")
    else:
        os.mkfifo(out)
    before = _tree(tmp_path)
    res = _invoke([a.format(i=inp) for a in command] + [str(out)])
    line = _assert_one_line_error(res)
    assert ("symbolic link" in line) if "symlink" in kind else ("FIFO" in line)
    assert os.path.islink(out) == ("symlink" in kind)
    assert target.read_text() == "keep me\n"
    assert _tree(tmp_path) == before


def test_export_stages_both_files(inp, tmp_path):
    """config.json is a directory: the export refuses before writing model.safetensors."""
    out = tmp_path / "hf"
    (out / "config.json").mkdir(parents=True)
    res = _invoke(["export", inp / "w.safetensors", "--to", "hf", out])
    line = _assert_one_line_error(res)
    assert "config.json" in line
    assert sorted(os.listdir(out)) == ["config.json"]


def test_capacity_unreachable_scheduler_leaves_nothing(tmp_path, monkeypatch):
    import factmlp.sweep as sweep

    def unreachable(scheduler, workers):
        raise InvalidInputError(f"cannot connect to the Dask scheduler {scheduler!r}: timed out")

    monkeypatch.setattr(sweep, "_dask_client", unreachable)
    out = tmp_path / "cap"
    res = _invoke(
        [
            "capacity",
            "--d",
            "3",
            "--alpha",
            "1/3",
            "--methods",
            "encdec",
            "--no-rho",
            "--no-progress",
            "--scheduler",
            "tcp://127.0.0.1:1",
            "--out",
            out,
        ]
    )
    assert "scheduler" in _assert_one_line_error(res)
    assert not out.exists()


def test_capacity_bad_scheduler_address_leaves_nothing(tmp_path):
    pytest.importorskip("dask.distributed")
    out = tmp_path / "cap"
    res = _invoke(
        [
            "capacity",
            "--d",
            "3",
            "--alpha",
            "1/3",
            "--methods",
            "encdec",
            "--no-rho",
            "--no-progress",
            "--scheduler",
            "bogus-scheme://nowhere:1",
            "--out",
            out,
        ]
    )
    _assert_one_line_error(res)
    assert not out.exists()


@pytest.mark.parametrize("damage", [b"\xd6\x01garbage", b"[1, 2]", b'{"row": 5}', b"{not json"])
def test_damaged_capacity_cache_entry_is_rerun_with_a_warning(tmp_path, damage):
    out = tmp_path / "cap"
    args = [
        "capacity",
        "--d",
        "3",
        "--alpha",
        "1/3",
        "--methods",
        "encdec",
        "--no-rho",
        "--no-progress",
        "--json",
        "--out",
        out,
    ]
    first = _invoke(args)
    assert first.exit_code == 0, first.output
    (entry,) = list((out / "cache").iterdir())
    entry.write_bytes(damage)
    res = _invoke(args)
    assert res.exit_code == 0, (res.output, res.exception)
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("factmlp: warning: ") and "damaged" in lines[0], res.stderr
    summary = json.loads(res.stdout)
    assert summary["ran"] == 1 and summary["cached"] == 0 and summary["ok"] == 1
    assert len(summary["warnings"]) == 1 and "damaged" in summary["warnings"][0]
    assert json.loads(entry.read_text())["row"]["status"] == "ok"  # rewritten whole
    assert not [n for n in os.listdir(out / "cache") if n.startswith(".")]


def test_solver_failure_is_exit_2_and_says_so(inp, tmp_path):
    from factmlp.constructions import METHODS, register_method

    name = "_battery_nonconverging"

    def builder(factset, hidden, seed=0, **_):
        raise ConvergenceError("CG stopped after 5 iterations, residual 1e-3 > 1e-10", indices=[0])

    if name not in METHODS:
        register_method(name, builder, default_hidden=4)
    try:
        out = tmp_path / "w.safetensors"
        res = _invoke(["construct", inp / "fs.npz", "--method", name, "--out", out])
        line = _assert_one_line_error(res)
        assert "solver failure" in line and "CG stopped" in line
        assert not out.exists() and list(tmp_path.iterdir()) == []
    finally:
        METHODS.pop(name, None)


@pytest.mark.parametrize(
    "exc, words",
    [
        (MemoryError("Unable to allocate 74.5 GiB"), ["out of memory", "74.5 GiB"]),
        (OSError(28, "No space left on device", "/x/y"), ["/x/y", "No space left"]),
        (TypeError("a bug\nspanning lines"), ["unexpected TypeError", "a bug spanning lines", "--debug"]),
        (ValueError("Geometric sequence cannot include zero"), ["unexpected ValueError"]),
        (KeyboardInterrupt(), ["interrupted"]),
    ],
)
def test_every_exception_is_one_line_and_debug_reraises(tmp_path, monkeypatch, exc, words):
    import factmlp.cli.make_factset as mf

    def boom(*a, **k):
        raise exc

    monkeypatch.setattr(mf, "make_factset", boom)
    args = ["make-factset", "--d", "4", "--facts", "4", "--out", tmp_path / "fs.npz"]
    line = _assert_one_line_error(_invoke(args))
    for w in words:
        assert w in line, (w, line)
    if isinstance(exc, KeyboardInterrupt):
        return  # CliRunner itself turns a KeyboardInterrupt under --debug into exit 1
    for res in (_invoke(["--debug", *args]), _invoke(args, env={"FACTMLP_DEBUG": "1"})):
        assert res.exception is exc
    assert list(tmp_path.iterdir()) == []


def test_success_and_negative_answers_keep_their_codes(inp, tmp_path):
    ok = _invoke(["make-factset", "--d", "4", "--facts", "4", "--out", tmp_path / "fs.npz", "--json"])
    assert ok.exit_code == 0 and ok.stderr == "" and json.loads(ok.stdout)["facts"] == 4
    # random weights do not store the facts: a negative answer, exit 1, nothing on stderr
    neg = _invoke(["check-weights", inp / "fs.npz", inp / "w.safetensors"])
    assert neg.exit_code == 1 and neg.stderr == "", neg.output
    assert _invoke(["--help"]).exit_code == 0
    assert _invoke([]).exit_code == 0


# ------------------------------------------------- the real entry point ----

_EXE = shutil.which("factmlp")


@pytest.mark.skipif(_EXE is None, reason="the factmlp entry point is not installed")
@pytest.mark.parametrize(
    "args",
    [
        ["rho", "{i}/a.npy"],
        ["make-factset", "--d", "4", "--facts", "4", "--seed", "-1", "--out", "{o}/fs.npz"],
        ["plot", "{i}/binary.csv", "--out", "{o}/figs"],
        ["export", "{i}/down_bias.safetensors", "--to", "hf", "{o}/hf"],
    ],
    ids=["npy", "seed", "csv", "bias"],
)
def test_entry_point_subprocess(inp, tmp_path, args):
    out = tmp_path / "out"
    out.mkdir()
    p = subprocess.run(
        [_EXE, *[a.format(i=inp, o=out) for a in args]],
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k != "FACTMLP_DEBUG"},
    )
    assert p.returncode == 2, p
    assert len(p.stderr.splitlines()) == 1 and p.stderr.startswith("factmlp: error: "), p.stderr
    assert "Traceback" not in p.stderr and p.stdout == ""
    assert list(out.iterdir()) == []


@pytest.mark.skipif(_EXE is None, reason="the factmlp entry point is not installed")
def test_entry_point_debug_shows_the_traceback(inp):
    p = subprocess.run([_EXE, "--debug", "rho", str(inp / "a.npy")], capture_output=True, text=True, timeout=120)
    assert p.returncode != 0 and "Traceback" in p.stderr and "FileFormatError" in p.stderr
    env = dict(os.environ, FACTMLP_DEBUG="1")
    p = subprocess.run(
        [sys.executable, "-m", "factmlp", "rho", str(inp / "a.npy")],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert p.returncode != 0 and "Traceback" in p.stderr
