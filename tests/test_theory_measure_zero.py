"""Measure-zero conditions: numeric/symbolic twins, exact witnesses, degenerate examples."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from factmlp.errors import ShapeError
from theory import measure_zero as mz


@pytest.mark.parametrize("act", ["identity", "relu", "silu", "gelu"])
def test_numeric_matches_symbolic(act):
    rng = np.random.default_rng(0)
    K = sp.Matrix(4, 3, [sp.Rational(int(v), 5) for v in rng.integers(-6, 7, 12)])
    G = sp.Matrix(2, 3, [sp.Rational(int(v), 5) for v in rng.integers(-6, 7, 6)])
    num = mz.system_matrix(np.array(K.tolist(), dtype=float), np.array(G.tolist(), dtype=float), act)
    sym = np.array(mz.system_matrix_symbolic(K, G, act).evalf(30).tolist(), dtype=float)
    assert num.shape == (4, 6)
    np.testing.assert_allclose(num, sym, rtol=1e-12, atol=1e-14)


def test_ntk_and_hebbian_numeric_match_symbolic():
    rng = np.random.default_rng(1)

    def rat(r, c):
        return sp.Matrix(r, c, [sp.Rational(int(v), 3) for v in rng.integers(-5, 6, r * c)])

    K, G, D = rat(3, 2), rat(4, 2), rat(2, 4)

    def f(M):
        return np.array(M.tolist(), dtype=float)

    np.testing.assert_allclose(
        mz.ntk_system_matrix(f(K), f(G), f(D), "relu"), f(mz.ntk_system_matrix_symbolic(K, G, D, "relu")), atol=1e-12
    )
    A0, A1 = rat(5, 2), rat(5, 2)
    np.testing.assert_allclose(
        mz.hebbian_system_matrix(f(K), f(A0), f(A1)), f(mz.hebbian_system_matrix_symbolic(K, A0, A1)), atol=1e-12
    )


def test_shape_errors():
    with pytest.raises(ShapeError):
        mz.system_matrix(np.ones((3, 2)), np.ones((2, 3)))


@pytest.mark.parametrize(
    "Fn,dn,rn,act", [(6, 3, 2, "identity"), (5, 3, 2, "identity"), (12, 4, 3, "relu"), (9, 3, 3, "relu")]
)
def test_rational_witness_exact_and_full_rank(Fn, dn, rn, act):
    wit = mz.rational_witness(Fn, dn, rn, act, seed=Fn * 7 + dn)
    assert all(v.is_Rational for v in wit["keys"]) and all(v.is_Rational for v in wit["gates"])
    Phi = mz.system_matrix_symbolic(wit["keys"], wit["gates"], act)
    assert all(v.is_Rational for v in Phi)
    assert wit["rank"] == wit["target"] == mz.generic_rank(Fn, dn, rn, act) == mz.exact_rank(Phi)
    if wit["rank"] == Fn:  # a nonzero maximal minor, exactly
        cols = [c for c in range(Phi.cols)]
        rref_pivots = Phi.rref()[1]
        minor = Phi.extract(list(range(Fn)), list(rref_pivots[:Fn]))
        assert minor.det() != 0 and minor.det().is_Rational
        assert len(cols) >= Fn


def test_identity_rank_cap_matches_numeric_rank():
    rng = np.random.default_rng(5)
    for dn, rn in [(4, 2), (5, 3), (4, 4), (3, 5)]:
        Fn = dn * rn
        K, G = rng.standard_normal((Fn, dn)), rng.standard_normal((rn, dn))
        assert np.linalg.matrix_rank(mz.system_matrix(K, G, "identity")) == mz.generic_rank(Fn, dn, rn, "identity")
        assert np.linalg.matrix_rank(mz.system_matrix(K, G, "silu")) == min(Fn, rn * dn)


def test_interval_witness_silu():
    rng = np.random.default_rng(9)
    K = sp.Matrix(8, 4, [sp.Rational(int(v), 7) for v in rng.integers(-9, 10, 32)])
    G = sp.Matrix(2, 4, [sp.Rational(int(v), 7) for v in rng.integers(-9, 10, 8)])
    res = mz.interval_full_rank(K, G, "silu")
    assert res["nonzero"] and len(res["columns"]) == 8
    # repeated keys: every maximal minor vanishes, so the enclosure must contain 0
    K2 = K.copy()
    K2[1, :] = K2[0, :]
    assert not mz.interval_full_rank(K2, G, "silu")["nonzero"]


@pytest.mark.parametrize("ex", mz.degenerate_examples(), ids=lambda e: e["name"])
def test_degenerate_examples_are_singular(ex):
    n_eq = ex["keys"].rows * (ex["keys"].cols if ex["system"] == "ntk" else 1)
    rank = mz.degenerate_rank(ex)
    assert rank <= ex["rank_bound"] < n_eq
    assert all(v.is_Rational for v in ex["keys"])


def test_degenerate_perturbation_restores_rank():
    # the same configurations, slightly perturbed into general position, are full rank (when F fits)
    ex = {e["name"]: e for e in mz.degenerate_examples()}["repeated_keys"]
    K = ex["keys"].copy()
    K[1, 0] += sp.Rational(1, 3)
    assert mz.exact_rank(mz.system_matrix_symbolic(K, ex["gates"], "relu")) == 3


def test_symbolic_minor_of_repeated_keys_is_zero_polynomial():
    ks = sp.symbols("a b c e", real=True)
    K = sp.Matrix([[ks[0], ks[1]], [ks[0], ks[1]], [ks[2], ks[3]]])
    G = sp.Matrix([[1, sp.Rational(1, 2)], [sp.Rational(-1, 3), 2]])
    step = mz.NonzeroPolynomial("repeated keys", mz.system_matrix_symbolic(K, G, "identity")[:, :3].det(), ks)
    assert step.check().status == "failed"


def test_kernel_step_can_fail():
    gs = sp.Matrix(2, 3, sp.symbols("g1:7", real=True))
    K = sp.Matrix(2, 3, sp.symbols("k1:7", real=True))
    Phi = mz.system_matrix_symbolic(K, gs, "identity")
    good = sp.Matrix(list(gs.row(1)) + list(-gs.row(0)))
    bad = sp.Matrix(list(gs.row(1)) + list(gs.row(0)))
    assert mz.KernelContains("ok", Phi, good).check().status == "proved"
    assert mz.KernelContains("bad", Phi, bad).check().status == "failed"
