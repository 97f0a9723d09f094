"""Property: ``construct`` at its default width on generic sets with F >= 4 d is below plain interpolation.

Plain interpolation is one hidden unit per fact, ``3 d F`` parameters.  The
generic families here are those with rho well above 0 at these sizes
(gaussian and condition are excluded, as in tests/test_encdec.py and
docs/constructions.md: their feasible sets have rho ~ 1e-2 and need m = d).

**Not met below d = 10** (measured, the issue 13 target "every generic set with
F >= 4 d" fails there): kaiming and uniform sets at d = 8, 9 get code
dimension m = 8, so h = m ceil(F/d) >= F just above F = 4 d (e.g. kaiming,
d = 9, F = 37, seed 9: m = 8, r = 5, h = 40 > 37, 1,080 > 999 parameters).
Hypothesis found that counterexample on d in 8..10; it is kept below as a
strict xfail, and the property is stated for d in 12..16.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factmlp import construct, make_factset, verify_storage
from factmlp.testing import fact_sets


@st.composite
def generic_sets(draw):
    d = draw(st.integers(12, 16))
    family = draw(st.sampled_from(["spherical", "kaiming", "uniform", "spiked"]))
    return draw(fact_sets(family=family, d=d, facts=st.integers(4 * d, 5 * d), min_rho=0.05))


@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
@given(fs=generic_sets(), seed=st.integers(0, 3))
def test_default_width_has_fewer_params_than_interpolation(fs, seed):
    d, F = fs.dim, fs.n_facts
    c = construct(fs, "encdec", seed=seed)
    assert c.params < 3 * d * F, (c.hidden, c.info.get("m"), c.info.get("r"))
    assert verify_storage(c.mlp, fs).certified


@pytest.mark.xfail(
    strict=True, reason="issue 13 target not met at small d: encdec's m = 8 at d = 9 gives h = 40 > F = 37"
)
def test_counterexample_small_d():
    fs = make_factset("kaiming", d=9, facts=37, seed=9)
    c = construct(fs, "encdec", seed=0)
    assert c.params < 3 * 9 * 37, (c.hidden, c.info.get("m"), c.info.get("r"))
