"""FactSet validation, immutability, save/load round trips, and the families."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from factmlp import FAMILIES, FactSet, load_factset, make_factset
from factmlp.errors import (
    DTypeError,
    EmptyInputError,
    FileFormatError,
    InvalidInputError,
    MappingRangeError,
    NonFiniteError,
    ShapeError,
)


def _arrays(F=5, N=4, d=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((F, d)), rng.standard_normal((N, d)), rng.integers(0, N, F)


def test_valid_factset_sizes_and_targets():
    k, v, f = _arrays()
    fs = FactSet(k, v, f)
    assert (fs.n_facts, fs.n_values, fs.dim) == (5, 4, 3)
    np.testing.assert_array_equal(fs.targets, v[f])
    np.testing.assert_array_equal(fs.used_values, np.unique(f))


def test_factset_is_immutable_and_copies_input():
    k, v, f = _arrays()
    fs = FactSet(k, v, f)
    k[0, 0] = 123.0
    assert fs.keys[0, 0] != 123.0
    with pytest.raises(ValueError):
        fs.keys[0, 0] = 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        fs.keys = k  # frozen dataclass


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_rows_are_named(bad):
    k, v, f = _arrays()
    k[3, 1] = bad
    with pytest.raises(NonFiniteError) as info:
        FactSet(k, v, f)
    assert info.value.indices == [3]
    assert "3" in str(info.value) and "keys" in str(info.value)
    k, v, f = _arrays()
    v[1, 0] = bad
    v[2, 2] = bad
    with pytest.raises(NonFiniteError) as info:
        FactSet(k, v, f)
    assert info.value.indices == [1, 2]


def test_shape_errors():
    k, v, f = _arrays()
    with pytest.raises(ShapeError):
        FactSet(k[:, :2], v, f)  # dimension mismatch
    with pytest.raises(ShapeError):
        FactSet(k[0], v, f)  # 1-D keys
    with pytest.raises(ShapeError):
        FactSet(k, v, f[:3])  # mapping length
    with pytest.raises(ShapeError):
        FactSet(k, v, f[:, None])


def test_empty_inputs():
    k, v, f = _arrays()
    with pytest.raises(EmptyInputError):
        FactSet(k[:0], v, f[:0])
    with pytest.raises(EmptyInputError):
        FactSet(k, v[:1], np.zeros(5, dtype=int))  # a single value cannot be decoded against anything
    with pytest.raises(EmptyInputError):
        FactSet(np.zeros((5, 0)), np.zeros((4, 0)), f)


def test_dtype_errors():
    k, v, f = _arrays()
    with pytest.raises(DTypeError):
        FactSet(k.astype(int), v, f)
    with pytest.raises(DTypeError):
        FactSet(k, v.astype(complex), f)
    with pytest.raises(DTypeError):
        FactSet(k, v, f.astype(float))
    with pytest.raises(DTypeError):
        FactSet(k, v, f.astype(bool))
    with pytest.raises(InvalidInputError):
        FactSet(k, v, ["a"] * 5)


def test_mapping_out_of_range_is_named():
    k, v, f = _arrays()
    f = f.copy()
    f[[1, 4]] = [4, -1]
    with pytest.raises(MappingRangeError) as info:
        FactSet(k, v, f)
    assert info.value.indices == [1, 4]


def test_float32_kept_float64_promoted():
    k, v, f = _arrays()
    assert FactSet(k.astype(np.float32), v.astype(np.float32), f).keys.dtype == np.float32
    assert FactSet(k.astype(np.float32), v, f).keys.dtype == np.float64


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_save_load_round_trip_is_exact(tmp_path, dtype):
    fs = make_factset("spiked", 7, 20, 11, seed=3, dtype=dtype)
    path = tmp_path / "fs.npz"
    fs.save(path)
    back = load_factset(path)
    assert back == fs
    assert back.keys.dtype == dtype
    with np.load(path) as data:
        assert sorted(data.files) == ["keys", "mapping", "values"]
    assert back.fingerprint() == fs.fingerprint()


def test_load_errors(tmp_path):
    with pytest.raises(FileFormatError):
        load_factset(tmp_path / "missing.npz")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip file")
    with pytest.raises(FileFormatError):
        load_factset(junk)
    partial = tmp_path / "partial.npz"
    np.savez(partial, keys=np.ones((2, 2)), values=np.ones((2, 2)))
    with pytest.raises(FileFormatError, match="mapping"):
        load_factset(partial)
    nan = tmp_path / "nan.npz"
    k, v, f = _arrays()
    k[2, 0] = np.nan
    np.savez(nan, keys=k, values=v, mapping=f)
    with pytest.raises(NonFiniteError) as info:
        load_factset(nan)
    assert info.value.indices == [2]


@pytest.mark.parametrize("family", FAMILIES)
def test_families_are_seeded_and_shaped(family):
    a = make_factset(family, 6, 12, 15, seed=5)
    b = make_factset(family, 6, 12, 15, seed=5)
    c = make_factset(family, 6, 12, 15, seed=6)
    assert a == b
    assert not (a == c)
    assert a.keys.shape == (12, 6) and a.values.shape == (15, 6)
    assert a.meta["family"] == family


def test_generator_seed_accepted_and_none_refused():
    rng = np.random.default_rng(1)
    make_factset("gaussian", 4, 8, seed=rng)
    with pytest.raises(TypeError):
        make_factset("gaussian", 4, 8, seed=None)


def test_permutation_when_n_equals_f():
    fs = make_factset("spherical", 5, 40, seed=0)
    assert sorted(fs.mapping.tolist()) == list(range(40))


def test_tied_keys_are_value_rows():
    fs = make_factset("tied", 5, 10, 20, seed=0)
    vals = {tuple(r) for r in fs.values}
    assert all(tuple(r) in vals for r in fs.keys)
    with pytest.raises(InvalidInputError):
        make_factset("tied", 5, 30, 20, seed=0)


def test_spherical_rows_unit_norm():
    fs = make_factset("spherical", 9, 30, seed=2)
    np.testing.assert_allclose(np.linalg.norm(fs.values, axis=1), 1.0)


def test_condition_family_has_prescribed_condition_number():
    # The shared map R diag(s) R^T has condition number kappa: recover it from
    # the keys' distribution by pushing many samples through and comparing to the base.
    from factmlp.families import _shared_transform

    t = _shared_transform("condition", 8, np.random.default_rng(0), 1.5, 25.0)
    assert np.linalg.cond(t) == pytest.approx(25.0, rel=1e-9)
    t = _shared_transform("spiked", 8, np.random.default_rng(0), 1.5, 25.0)
    assert np.linalg.cond(t) == pytest.approx(2.5, rel=1e-9)


def test_unknown_family():
    with pytest.raises(InvalidInputError, match="unknown embedding family"):
        make_factset("banana", 4, 4)


@given(st.integers(1, 6), st.integers(1, 20), st.integers(2, 20), st.integers(0, 2**31))
def test_with_mapping_and_subset(d, F, N, seed):
    fs = make_factset("gaussian", d, F, N, seed=seed)
    sub = fs.subset([0])
    assert sub.n_facts == 1 and sub.n_values == N
    again = fs.with_mapping(fs.mapping)
    assert again == fs
