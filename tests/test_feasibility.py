"""check_feasible: every used non-decodable value is listed with its reason; unused ones are ignored."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from factmlp.errors import InfeasibleFactSetError, InvalidInputError, MappingRangeError
from factmlp.factset import FactSet
from factmlp.feasibility import check_feasible, is_vertex_lp


def _values():
    # 0..3: square corners (vertices); 4: centre (inside); 5: duplicate of 1;
    # 6: edge midpoint (inside, on the boundary); 7: interior, unused below
    return np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.5, 0.5], [1.0, 0.0], [0.5, 0.0], [0.2, 0.3]])


def _fs(mapping):
    v = _values()
    keys = np.random.default_rng(0).standard_normal((len(mapping), 2))
    return FactSet(keys, v, np.asarray(mapping, dtype=np.int64))


def test_lists_every_offending_used_value_with_reason():
    fs = _fs([0, 2, 4, 5, 6, 1, 3])  # value 7 unused
    with pytest.raises(InfeasibleFactSetError) as info:
        check_feasible(fs)
    probs = {p["value"]: p for p in info.value.problems}
    assert set(probs) == {1, 4, 5, 6}
    assert probs[1]["reason"] == "duplicate" and probs[1]["duplicate_of"] == 5
    assert probs[5]["reason"] == "duplicate" and probs[5]["duplicate_of"] == 1
    for j in (4, 6):
        assert probs[j]["reason"] == "inside_hull" and probs[j]["duplicate_of"] is None
        assert probs[j]["rho_upper"] <= 1e-12
    assert sorted(info.value.indices) == [1, 4, 5, 6]
    assert "value 4" in str(info.value) and "duplicates value" in str(info.value)


def test_unused_bad_values_are_ignored():
    fs = _fs([0, 2, 3, 2, 0])  # 1 used by none, 4..7 bad but unused
    res = check_feasible(fs)
    assert res.indices.tolist() == [0, 2, 3]
    assert res.rho > 0 and np.all(res.vertex[[0, 2, 3]])
    assert np.isnan(res.rho_per_value[4])


def test_near_degenerate_but_certified_vertex_is_feasible():
    v = np.vstack([_values()[:4], [[0.5, -1e-7]]])
    fs = FactSet(np.eye(2)[[0, 1, 0]], v, np.array([4, 0, 2]))
    res = check_feasible(fs)
    assert res.vertex[4] and res.lower[4] > 0


@given(seed=st.integers(0, 2**31), n=st.integers(3, 10), d=st.integers(2, 4))
def test_feasible_iff_lp_says_all_used_are_vertices(seed, n, d):
    rng = np.random.default_rng(seed)
    v = rng.standard_normal((n, d))
    v = np.vstack([v, rng.dirichlet(np.ones(n)) @ v])  # one interior value
    mapping = rng.integers(0, n + 1, size=6)
    fs = FactSet(rng.standard_normal((6, d)), v, mapping)
    bad = [j for j in np.unique(mapping) if not is_vertex_lp(v, j)]
    if bad:
        with pytest.raises(InfeasibleFactSetError) as info:
            check_feasible(fs)
        assert sorted(info.value.indices) == sorted(int(j) for j in bad)
    else:
        assert check_feasible(fs).rho > 0


def test_typed_errors():
    with pytest.raises(InvalidInputError):
        check_feasible(np.eye(3))
    with pytest.raises(MappingRangeError):
        is_vertex_lp(np.eye(3), 3)
