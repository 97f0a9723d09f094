"""Every dtype the API accepts is handled exactly or refused (issue 12, item 1).

factmlp computes in float64.  A wider float (``longdouble``: 80-bit extended
on x86, binary128 elsewhere) is accepted only when every entry is a float64
exactly; otherwise a :class:`DTypeError` names the rows, because rounding
would certify the margin of other numbers than the caller's.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from click.testing import CliRunner
from safetensors.numpy import save_file

from factmlp import FactSet, GatedMLP, decodability, verify_storage
from factmlp.cli import main
from factmlp.errors import DTypeError
from factmlp.validation import check_matrix

LD = np.longdouble
wide = pytest.mark.skipif(np.finfo(LD).nmant <= 52, reason="longdouble is float64 on this platform")


def _t(k: int) -> np.longdouble:
    return LD(2) ** k


@wide
def test_float128_keys_through_cli_are_refused_not_certified(tmp_path):
    """The issue's reproduction: exact margin of the stored numbers -1.09e-16, was exit 0 "certified"."""
    keys = np.array([[1 + _t(-53) + _t(-62), 1 + _t(-52) + _t(-53) - _t(-62), 1 - _t(-54) - _t(-62)]], dtype=LD)
    assert not np.all(keys.astype(np.float64).astype(LD) == keys)  # the keys are not float64 numbers
    np.savez(tmp_path / "fs.npz", keys=keys, values=np.array([[1.0, 0, 0], [-1.0, 0, 0]]), mapping=np.array([0]))
    save_file(
        {
            "gate_proj.weight": np.array([[1.0, 0, 0], [0, 1, 0]]),
            "up_proj.weight": np.array([[1.0, 0, 0], [0, 0, 1]]),
            "down_proj.weight": np.array([[1.0, -1], [0, 0], [0, 0]]),
        },
        str(tmp_path / "w.safetensors"),
        metadata={"activation": "identity"},
    )
    res = CliRunner().invoke(
        main, ["check-weights", str(tmp_path / "fs.npz"), str(tmp_path / "w.safetensors"), "--json"]
    )
    assert res.exit_code == 2, res.output
    assert "certified" not in res.stdout
    assert "not exactly representable in float64" in res.output and "rows [0]" in res.output
    # the exact margin of the long-double data is negative: a certificate would have been wrong
    k = [Fraction(int(x * LD(2) ** 64)) / 2**64 for x in keys[0]]
    y0 = k[0] * k[0] - k[1] * k[2]  # W_down (gate x * up x), first output
    assert 2 * y0 < 0


@wide
def test_float128_weights_with_a_negative_exact_margin_are_refused():
    """Weights that round to an MLP with margin +2^-69 while their exact margin is -2^-61 + 2^-69."""
    gate = np.array([[1 + _t(-62)], [1], [_t(-70)]], dtype=LD)
    up = np.ones((3, 1), dtype=LD)
    down = np.array([[-1, 1, 1]], dtype=LD)
    fs = FactSet(np.array([[1.0]]), np.array([[1.0], [-1.0]]), np.array([0]))
    rounded = GatedMLP(gate.astype(np.float64), up.astype(np.float64), down.astype(np.float64), "identity")
    assert verify_storage(rounded, fs).certified  # what the old code certified (after rounding)
    with pytest.raises(DTypeError, match=r"gate_proj.weight.*rows \[0\]") as exc:
        GatedMLP(gate, up, down, "identity")
    assert exc.value.indices == [0]


@wide
def test_rho_of_distinct_float128_values_is_refused_not_called_duplicates():
    v = np.array([[1], [1 + _t(-60)], [3]], dtype=LD)
    with pytest.raises(DTypeError, match=r"rows \[1\]") as exc:
        decodability(v)
    assert exc.value.indices == [1]


def test_longdouble_that_is_exactly_float64_is_accepted_unchanged():
    rng = np.random.default_rng(0)
    k64, v64 = rng.standard_normal((5, 3)), rng.standard_normal((4, 3))
    fs = FactSet(k64.astype(LD), v64.astype(LD), np.array([0, 1, 2, 3, 0]))
    assert fs.keys.dtype == np.float64 and np.array_equal(fs.keys, k64) and np.array_equal(fs.values, v64)
    res, ref = decodability(v64.astype(LD)), decodability(v64)
    assert res.rho == ref.rho and np.array_equal(res.lower, ref.lower)
    w = rng.standard_normal((2, 3))
    mlp = GatedMLP(w.astype(LD), w.astype(LD), w.T.astype(LD), "relu")
    assert mlp.gate_proj.dtype == np.float64 and np.array_equal(mlp.gate_proj, w)


@wide
def test_longdouble_beyond_the_float64_range_is_refused():
    big = np.array([[LD(2) ** 2000, 1.0], [1.0, 1.0]], dtype=LD)
    with pytest.raises(DTypeError, match=r"rows \[0\]"):
        check_matrix(big, "keys")


@pytest.mark.parametrize("dtype", [np.complex128, np.int64, np.bool_, object])
def test_non_real_float_dtypes_are_refused(dtype):
    with pytest.raises(DTypeError):
        check_matrix(np.ones((2, 2), dtype=dtype), "keys")


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_narrow_floats_are_upcast_exactly(dtype):
    rng = np.random.default_rng(1)
    w = rng.standard_normal((3, 2)).astype(dtype)
    mlp = GatedMLP(w, w, w.T, "silu")
    assert np.array_equal(mlp.gate_proj.astype(np.float64), w.astype(np.float64))


def test_gated_mlp_owns_read_only_copies_of_the_weights():
    gate, up, down = np.eye(2), np.eye(2), np.eye(2)
    mlp = GatedMLP(gate, up, down, "relu")
    gate[0, 0] = up[1, 1] = down[0, 1] = 7.0  # the caller changes its arrays afterwards
    assert np.array_equal(mlp.gate_proj, np.eye(2)) and np.array_equal(mlp.up_proj, np.eye(2))
    assert np.array_equal(mlp.down_proj, np.eye(2))
    for w in (mlp.gate_proj, mlp.up_proj, mlp.down_proj):
        assert not w.flags.writeable
        with pytest.raises(ValueError):
            w[0, 0] = 1.0
    again = GatedMLP(mlp.gate_proj, mlp.up_proj, mlp.down_proj, "relu")
    assert not np.shares_memory(again.gate_proj, mlp.gate_proj)


@wide
def test_mutant_that_rounds_wide_floats_is_caught(monkeypatch):
    """The known-bad variant (round long doubles silently, as before) certifies a negative exact margin."""
    import factmlp.validation as validation

    monkeypatch.setattr(validation, "_exact_float64", lambda arr, name: arr.astype(np.float64))
    gate = np.array([[1 + _t(-62)], [1], [_t(-70)]], dtype=LD)
    mlp = GatedMLP(gate, np.ones((3, 1), dtype=LD), np.array([[-1, 1, 1]], dtype=LD), "identity")
    fs = FactSet(np.array([[1.0]]), np.array([[1.0], [-1.0]]), np.array([0]))
    assert verify_storage(mlp, fs).certified  # wrong: the exact margin is 2 (-2^-62 + 2^-70) < 0
