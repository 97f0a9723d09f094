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


def test_parallel_block_and_environment_set_the_default(monkeypatch):
    import sys

    import factmlp
    import factmlp.decodability as _unused  # noqa: F401

    dec_module = sys.modules["factmlp.decodability"]
    from factmlp.workers import ENV, default_workers

    monkeypatch.delenv(ENV, raising=False)
    assert default_workers() == 1
    monkeypatch.setenv(ENV, "3")
    assert default_workers() == 3
    with factmlp.parallel(2):
        assert default_workers() == 2
        with factmlp.parallel(1):
            assert default_workers() == 1
        assert default_workers() == 2
    assert default_workers() == 3
    monkeypatch.setenv(ENV, "two")
    with pytest.raises(InvalidInputError, match=ENV):
        default_workers()
    with pytest.raises(InvalidInputError, match="workers"):
        with factmlp.parallel(0):
            pass

    seen = []  # the split is taken exactly when the default asks for it, and the shares do not split again
    real_split = dec_module._decodability_split
    monkeypatch.setattr(dec_module, "_decodability_split", lambda *a: seen.append(a[-1]) or real_split(*a))
    monkeypatch.delenv(ENV, raising=False)
    v = np.random.default_rng(2).standard_normal((40, 5))
    one = decodability(v)
    with factmlp.parallel(2):
        small = decodability(v)  # 40 values < 2 MIN_SHARE: not worth a second process
        assert seen == []
        monkeypatch.setattr(dec_module, "MIN_SHARE", 10)
        two = decodability(v)
        three = decodability(v, workers=3)  # an explicit count is taken as given
    assert seen == [2, 3]
    assert two.rho == small.rho == pytest.approx(one.rho, rel=1e-12)
    assert three.rho == pytest.approx(one.rho, rel=1e-12)
