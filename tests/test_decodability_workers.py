"""``decodability(..., workers=k)``: the values split over processes give the single-process result."""

from __future__ import annotations

import numpy as np
import pytest

from factmlp.decodability import decodability
from factmlp.errors import InvalidInputError


def test_two_workers_match_one_process():
    rng = np.random.default_rng(0)
    v = rng.standard_normal((300, 12))
    v[7] = 0.25 * v[3] + 0.75 * v[5]  # a non-vertex: rho = 0 overall
    v[11] = v[2]  # a duplicate
    one = decodability(v)
    two = decodability(v, workers=2)
    assert two.rho == one.rho == 0.0
    np.testing.assert_array_equal(two.vertex, one.vertex)
    np.testing.assert_array_equal(two.duplicate_of, one.duplicate_of)
    np.testing.assert_allclose(two.rho_per_value, one.rho_per_value, rtol=1e-12, atol=0)
    assert np.all(two.lower <= two.upper)
    for j in (0, 7, 11, 299):
        assert two.certificate(j)["support"] == one.certificate(j)["support"]


def test_workers_on_requested_indices():
    rng = np.random.default_rng(1)
    v = rng.standard_normal((200, 8))
    J = np.array([3, 50, 51, 120, 199])
    one, three = decodability(v, J), decodability(v, J, workers=3)
    assert three.rho == pytest.approx(one.rho, rel=1e-12)
    assert np.all(np.isnan(three.rho_per_value[np.setdiff1d(np.arange(200), J)]))


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_bad_workers_rejected(bad):
    with pytest.raises(InvalidInputError, match="workers"):
        decodability(np.eye(3), workers=bad)
