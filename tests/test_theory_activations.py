"""factmlp.activations: one definition; the float and interval evaluators agree with it."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import erf

from factmlp import activations as acts
from factmlp.errors import InvalidInputError
from factmlp.mlp import ACTIVATIONS, activation_fn
from factmlp.verify import activation_error_bound
from theory.activation_defs import IntervalEnclosesDefinition


def test_names_agree_with_mlp():
    assert tuple(acts.NAMES) == tuple(ACTIVATIONS) == tuple(acts.DEFINITIONS)


def test_float_evaluators_match_the_previous_closed_forms():
    x = np.concatenate([np.linspace(-800.0, 800.0, 20001), [0.0, -0.0, np.nan]])
    e = np.exp(-np.abs(x[:-1]))
    silu_ref = x[:-1] * np.where(x[:-1] >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    out = activation_fn("silu")(x)
    assert np.array_equal(out[:-1], silu_ref) and np.isnan(out[-1])  # bit-identical, NaN propagates
    g = activation_fn("gelu")(x[:-1])
    g_ref = 0.5 * x[:-1] * (1.0 + erf(x[:-1] / np.sqrt(2.0)))
    # z/sqrt(2) is now computed as (sqrt(2)/2) z: both roundings lie within the verifier's gelu error bound
    assert np.all(np.abs(g - g_ref) <= 2 * activation_error_bound("gelu", x[:-1], g))
    assert np.array_equal(activation_fn("relu")(x[:-1]), np.maximum(x[:-1], 0))
    assert activation_fn("identity")(x) is x


def test_unknown_activation_is_rejected():
    with pytest.raises(InvalidInputError, match="tanh"):
        acts.float_fn("tanh")
    with pytest.raises(InvalidInputError, match="tanh"):
        acts.interval_fn("tanh")
    with pytest.raises(InvalidInputError, match="tanh"):
        activation_fn("tanh")


@settings(max_examples=25, deadline=None)
@given(
    st.sampled_from(["silu", "gelu", "relu", "identity"]), st.floats(min_value=-60.0, max_value=60.0, allow_nan=False)
)
def test_interval_encloses_definition_and_float(name, z):
    step = IntervalEnclosesDefinition(name, points=(z,), prec=120)
    assert step.check().status == "proved"


def test_a_wrong_interval_silu_is_caught(monkeypatch):
    from mpmath import iv

    orig = acts.interval_fn
    monkeypatch.setattr(
        acts, "interval_fn", lambda name: (lambda z: z / (1 + iv.exp(z))) if name == "silu" else orig(name)
    )
    res = IntervalEnclosesDefinition("silu").check()
    assert res.status == "failed" and "outside the interval enclosure" in res.detail


def test_silu_branches_equal_the_definition_symbolically():
    pre, pos, neg = acts.FLOAT_BRANCHES["silu"]
    v = sp.Symbol("v", positive=True)
    assert sp.simplify((pre * pos - acts.DEFINITIONS["silu"]).subs(acts.Z, v)) == 0
    assert sp.simplify((pre * neg - acts.DEFINITIONS["silu"]).subs(acts.Z, -v)) == 0
