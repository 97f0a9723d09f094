"""The public strategies of factmlp.testing draw what they promise."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from factmlp.decodability import rho
from factmlp.errors import FactMLPError, InfeasibleFactSetError, InvalidInputError, NonFiniteError
from factmlp.factset import FactSet
from factmlp.families import FAMILIES
from factmlp.feasibility import check_feasible, is_vertex_lp
from factmlp.testing import DEGENERATE_KINDS, DegenerateCase, degenerate_fact_sets, embeddings, fact_sets

FEW = settings(max_examples=10, deadline=None)


# ---- embeddings -------------------------------------------------------------------
@FEW
@given(st.data())
def test_embeddings_shape_dtype_family(data):
    fam = data.draw(st.sampled_from(FAMILIES))
    dtype = data.draw(st.sampled_from([np.float32, np.float64]))
    e = data.draw(embeddings(st.integers(1, 9), st.integers(1, 5), family=fam, dtype=dtype))
    assert e.ndim == 2 and 1 <= e.shape[0] <= 9 and 1 <= e.shape[1] <= 5
    assert e.dtype == dtype and np.isfinite(e).all()
    if fam in ("spherical", "tied"):
        np.testing.assert_allclose(np.linalg.norm(e.astype(np.float64), axis=1), 1.0, rtol=1e-6)
    if fam == "kaiming":
        assert np.abs(e).max() <= 1.0 / np.sqrt(e.shape[1]) + 1e-7


@FEW
@given(embeddings(7, 3, family="uniform"))
def test_embeddings_fixed_sizes(e):
    assert e.shape == (7, 3)
    assert np.abs(e).max() <= np.sqrt(3.0 / 3) + 1e-12


def test_embeddings_rejects_bad_parameters():
    with pytest.raises(InvalidInputError, match="family"):
        embeddings(3, 2, family="banana")
    with pytest.raises(InvalidInputError, match="n must be"):
        embeddings(0, 2)


# ---- fact sets --------------------------------------------------------------------
@FEW
@given(st.data())
def test_fact_sets_sizes_and_family(data):
    fam = data.draw(st.sampled_from(FAMILIES))
    d, f = data.draw(st.integers(2, 6)), data.draw(st.integers(2, 10))
    n = data.draw(st.integers(max(f, 2) if fam == "tied" else 2, 12))
    fs = data.draw(fact_sets(family=fam, d=d, facts=f, values=n))
    assert isinstance(fs, FactSet)
    assert (fs.n_facts, fs.n_values, fs.dim) == (f, n, d)
    assert fs.meta["family"] == fam and isinstance(fs.meta["seed"], int)
    if f == n:
        assert sorted(fs.mapping.tolist()) == list(range(n))  # a permutation
    if fam == "tied":  # every key is a value row
        for k in fs.keys:
            assert np.any(np.all(fs.values == k, axis=1))


@FEW
@given(
    fact_sets(
        family=st.sampled_from(["spherical", "gaussian"]),
        d=st.integers(3, 6),
        facts=st.integers(2, 12),
        dtype=np.float32,
    )
)
def test_fact_sets_default_values_and_dtype(fs):
    assert fs.n_values == max(fs.n_facts, 2)
    assert fs.keys.dtype == fs.values.dtype == np.float32


@FEW
@given(fact_sets(family=st.sampled_from(FAMILIES), d=4, facts=8, values=st.integers(8, 10), min_rho=0.05))
def test_fact_sets_min_rho_respected(fs):
    r = rho(fs.values, fs.used_values)
    assert r >= 0.05
    assert fs.meta["rho"] == pytest.approx(r)
    res = check_feasible(fs)  # feasible: raises otherwise
    assert res.rho >= 0.05


@FEW
@given(fact_sets(family="tied", d=3, facts=st.integers(2, 9), values=st.integers(2, 9)))
def test_fact_sets_tied_never_draws_more_facts_than_values(fs):
    assert fs.n_facts <= fs.n_values


def test_fact_sets_rejects_bad_parameters():
    with pytest.raises(InvalidInputError, match="family"):
        fact_sets(family="banana")
    with pytest.raises(InvalidInputError, match="tied"):
        fact_sets(family="tied", facts=5, values=3)
    with pytest.raises(InvalidInputError, match="values"):
        fact_sets(values=1)
    with pytest.raises(InvalidInputError, match="min_rho"):
        fact_sets(min_rho=float("nan"))


# ---- degenerate fact sets -----------------------------------------------------------
@settings(max_examples=8, deadline=None)
@given(degenerate_fact_sets("duplicate_keys_conflicting"))
def test_duplicate_keys_conflicting_is_degenerate(case):
    assert isinstance(case, DegenerateCase) and case.kind == "duplicate_keys_conflicting"
    a, b = case.offending
    assert a != b
    assert np.array_equal(case.keys[a], case.keys[b])
    assert case.mapping[a] != case.mapping[b]
    assert case.storable is False and case.expected_error is None and case.index_kind == "facts"
    check_feasible(case.factset)  # the values are fine: only the keys are degenerate


@settings(max_examples=8, deadline=None)
@given(degenerate_fact_sets("duplicate_values"))
def test_duplicate_values_are_infeasible(case):
    assert case.expected_error is InfeasibleFactSetError and case.index_kind == "values"
    assert len(case.offending) >= 1
    j = case.offending[0]
    assert j in case.factset.used_values
    assert (np.all(case.values == case.values[j], axis=1).sum()) == 2  # j and its copy
    with pytest.raises(InfeasibleFactSetError) as err:
        check_feasible(case.factset)
    assert set(case.offending) <= set(err.value.indices)
    assert all(p["reason"] == "duplicate" for p in err.value.problems if p["value"] in case.offending)


@settings(max_examples=8, deadline=None)
@given(degenerate_fact_sets("interior_value", d=st.integers(2, 6)))
def test_interior_value_is_infeasible(case):
    (j,) = case.offending
    assert case.expected_error is InfeasibleFactSetError and j in case.factset.used_values
    assert not is_vertex_lp(case.values, j)  # independent LP check: v_j is in the hull of the others
    with pytest.raises(InfeasibleFactSetError) as err:
        check_feasible(case.factset)
    assert err.value.indices == [j]  # exactly the interior value, the others stay vertices
    assert f"value {j}" in str(err.value)


@settings(max_examples=8, deadline=None)
@given(degenerate_fact_sets("nonfinite"))
def test_nonfinite_cannot_be_a_factset(case):
    assert case.factset is None and case.expected_error is NonFiniteError
    (row,) = case.offending
    arr = case.keys if case.index_kind == "key rows" else case.values
    assert not np.isfinite(arr[row]).all()
    assert np.isfinite(np.delete(arr, row, axis=0)).all()
    with pytest.raises(NonFiniteError) as err:
        FactSet(case.keys, case.values, case.mapping)
    assert err.value.indices == [row]


@settings(max_examples=8, deadline=None)
@given(degenerate_fact_sets("keys_in_subspace", d=st.integers(2, 6), facts=st.integers(6, 10)))
def test_keys_in_subspace_have_low_rank(case):
    d = case.keys.shape[1]
    assert np.linalg.matrix_rank(case.keys) < min(d, case.keys.shape[0])
    np.testing.assert_allclose(np.linalg.norm(case.keys, axis=1), 1.0, rtol=1e-9)
    check_feasible(case.factset)  # values untouched


@settings(max_examples=15, deadline=None)
@given(degenerate_fact_sets())
def test_every_kind_reports_its_expectation(case):
    assert case.kind in DEGENERATE_KINDS
    assert case.allowed_error is (case.expected_error or FactMLPError)
    assert str(case.seed) in repr(case) and case.kind in repr(case)
    assert case.keys.shape[0] == case.mapping.shape[0] and case.keys.shape[1] == case.values.shape[1]


def test_degenerate_rejects_bad_parameters():
    with pytest.raises(InvalidInputError, match="kind"):
        degenerate_fact_sets("banana")
    with pytest.raises(InvalidInputError, match="values"):
        degenerate_fact_sets("interior_value", values=2)
