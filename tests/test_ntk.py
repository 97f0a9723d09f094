"""The NTK / prior construction (factmlp.constructions.ntk)."""

from __future__ import annotations

import numpy as np
import pytest

from factmlp import make_factset
from factmlp.constructions import METHODS, construct
from factmlp.constructions.ntk import kernel_apply
from factmlp.constructions.registry import feasibility
from factmlp.errors import ConvergenceError, DegenerateKeysError, InvalidInputError
from factmlp.factset import FactSet
from factmlp.mlp import activation_fn
from factmlp.testing import float_margins
from theory.measure_zero import ntk_system_matrix


def _targets(fs: FactSet) -> np.ndarray:
    return feasibility(fs).directions[fs.mapping]


def _weights(c):
    return c.mlp.gate_proj, c.mlp.up_proj, c.mlp.down_proj


def test_default_width_shape_and_counts():
    fs = make_factset("spherical", d=10, facts=40, seed=1)
    c = construct(fs, "ntk", seed=0)
    assert c.hidden == 40 == c.theory_hidden
    assert c.mlp.activation == "silu"
    assert c.mlp.gate_proj.shape == (40, 10) and c.mlp.up_proj.shape == (40, 10)
    assert c.mlp.down_proj.shape == (10, 40)
    np.testing.assert_allclose(np.linalg.norm(c.mlp.down_proj, axis=0), 1.0, rtol=1e-12)
    assert c.params == 3 * 10 * 40 == c.param_bound
    assert c.info["exact_system"] and c.info["relative_residual"] <= 1e-6


def test_fit_hits_the_readout_directions():
    fs = make_factset("gaussian", d=12, facts=48, seed=2)
    c = construct(fs, "ntk", seed=0)
    T = _targets(fs)
    R = c.mlp(fs.keys) - T
    resid = np.linalg.norm(R) / np.linalg.norm(T)
    assert c.info["relative_residual"] == pytest.approx(resid, rel=1e-6)
    assert c.info["max_key_residual"] == pytest.approx(np.linalg.norm(R, axis=1).max(), rel=1e-6)
    assert resid < 1e-6


def test_kernel_operator_matches_the_system_matrix():
    """K = Phi Phi^T with Phi = theory.measure_zero.ntk_system_matrix (row (i, c))."""
    rng = np.random.default_rng(3)
    F, d, h = 7, 4, 9
    K, G, D = rng.standard_normal((F, d)), rng.standard_normal((h, d)), rng.standard_normal((d, h))
    S = activation_fn("gelu")(K @ G.T)
    Phi = ntk_system_matrix(K, G, D, "gelu")
    Y = rng.standard_normal((F, d))
    np.testing.assert_allclose(
        kernel_apply(Y, S, D, K @ K.T).ravel(), Phi @ (Phi.T @ Y.ravel()), rtol=1e-10, atol=1e-12
    )


@pytest.mark.parametrize("activation", ["silu", "gelu", "relu"])
def test_up_weights_are_the_minimum_norm_solution(activation):
    """With h > F the system is underdetermined: A equals pinv(Phi) t."""
    fs = make_factset("spherical", d=6, facts=16, seed=4)
    c = construct(fs, "ntk", hidden=24, seed=1, activation=activation)
    Phi = ntk_system_matrix(fs.keys, c.mlp.gate_proj, c.mlp.down_proj, activation)
    a = np.linalg.lstsq(Phi, _targets(fs).ravel(), rcond=None)[0]
    np.testing.assert_allclose(c.mlp.up_proj.ravel(), a, rtol=0, atol=1e-6 * np.abs(a).max())


def test_cg_agrees_with_dense():
    fs = make_factset("spherical", d=8, facts=32, seed=5)
    dense = construct(fs, "ntk", hidden=40, seed=2)
    cg = construct(fs, "ntk", hidden=40, seed=2, dense_max=0)
    assert dense.info["solver"] == "dense" and cg.info["solver"] == "cg" and cg.info["cg_converged"]
    assert np.array_equal(dense.mlp.gate_proj, cg.mlp.gate_proj)
    up = dense.mlp.up_proj
    np.testing.assert_allclose(cg.mlp.up_proj, up, rtol=0, atol=1e-5 * np.abs(up).max())


def test_deterministic_under_a_seed():
    fs = make_factset("gaussian", d=8, facts=30, seed=6)
    a, b = construct(fs, "ntk", seed=7), construct(fs, "ntk", seed=7)
    assert all(np.array_equal(x, y) for x, y in zip(_weights(a), _weights(b), strict=True))
    g1 = construct(fs, "ntk", seed=np.random.default_rng(3))
    g2 = construct(fs, "ntk", seed=np.random.default_rng(3))
    assert all(np.array_equal(x, y) for x, y in zip(_weights(g1), _weights(g2), strict=True))
    assert not np.array_equal(construct(fs, "ntk", seed=8).mlp.gate_proj, a.mlp.gate_proj)


def test_guarantee_by_activation():
    fs = make_factset("spherical", d=8, facts=20, seed=0)
    meth = METHODS["ntk"]
    assert meth.guarantees(fs) and meth.guarantees(fs, activation="gelu")
    assert not meth.guarantees(fs, activation="relu") and not meth.guarantees(fs, activation="identity")


CASES = [
    ("spherical", 8, 40, 0, "silu"),
    ("gaussian", 12, 40, 1, "silu"),
    ("spherical", 12, 64, 2, "gelu"),
    ("gaussian", 16, 48, 3, "gelu"),
    ("spherical", 16, 64, 4, "silu"),
]


@pytest.mark.parametrize("family, d, F, seed, activation", CASES)
def test_stores_every_fact_at_default_width_float(family, d, F, seed, activation):
    fs = make_factset(family, d=d, facts=F, seed=seed)
    c = construct(fs, "ntk", seed=seed, activation=activation)
    assert c.hidden == F
    assert np.all(float_margins(c.mlp(fs.keys), fs) > 0)


@pytest.mark.parametrize("family, d, F, seed, activation", CASES)
def test_stores_every_fact_at_default_width_certified(family, d, F, seed, activation):
    verify = pytest.importorskip("factmlp.verify")
    fs = make_factset(family, d=d, facts=F, seed=seed)
    c = construct(fs, "ntk", seed=seed, activation=activation)
    rep = verify.verify_storage(c.mlp, fs)
    assert rep.certified and rep.stored == rep.total == F
    assert rep.min_margin > 0 and len(rep.failing) == 0


def test_narrow_width_reports_instead_of_raising():
    fs = make_factset("spherical", d=8, facts=40, seed=9)
    c = construct(fs, "ntk", hidden=12, seed=0)
    assert c.hidden == 12 and not c.info["exact_system"]
    R = c.mlp(fs.keys) - _targets(fs)
    assert c.info["relative_residual"] == pytest.approx(np.linalg.norm(R) / np.linalg.norm(_targets(fs)), rel=1e-6)
    assert c.info["relative_residual"] > 1e-3  # 40 d equations, 12 d unknowns: no exact fit


def test_cg_stopped_at_maxiter_is_a_convergence_error_not_a_verdict_on_the_keys():
    # the same generic keys are fitted densely; only the capped CG fails
    fs = make_factset("spherical", d=8, facts=24, seed=10)
    assert construct(fs, "ntk", seed=0).info["solver"] == "dense"
    with pytest.raises(ConvergenceError) as exc:
        construct(fs, "ntk", seed=0, dense_max=0, maxiter=2)
    assert not isinstance(exc.value, DegenerateKeysError)
    assert exc.value.indices and all(0 <= i < 24 for i in exc.value.indices)
    msg = str(exc.value)
    assert "2 iterations" in msg and "dense_max >= 192" in msg and "residual" in msg


def test_cg_iterations_are_capped_by_default():
    from factmlp.constructions.ntk import CG_MAXITER

    fs = make_factset("spherical", d=8, facts=24, seed=10)
    try:
        c = construct(fs, "ntk", seed=0, dense_max=0)
        assert c.info["cg_iterations"] <= CG_MAXITER
    except ConvergenceError as exc:
        assert f"{CG_MAXITER} iterations" in str(exc)


def _with_keys(fs: FactSet, keys: np.ndarray) -> FactSet:
    return FactSet(keys, fs.values, fs.mapping)


@pytest.mark.parametrize("activation", ["silu", "relu", "identity"])
def test_duplicate_keys_with_conflicting_values_are_named(activation):
    fs = make_factset("spherical", d=8, facts=20, values=20, seed=11)
    K = fs.keys.copy()
    K[17] = K[6]
    with pytest.raises(DegenerateKeysError) as exc:
        construct(_with_keys(fs, K), "ntk", seed=0, activation=activation)
    assert exc.value.indices == [6, 17]


def test_antipodal_keys_conflict_only_for_identity_gates():
    fs = make_factset("spherical", d=8, facts=20, values=20, seed=12)
    K = fs.keys.copy()
    K[11] = -K[1]
    with pytest.raises(DegenerateKeysError) as exc:
        construct(_with_keys(fs, K), "ntk", seed=0, activation="identity")
    assert exc.value.indices == [1, 11]
    c = construct(_with_keys(fs, K), "ntk", seed=0, activation="silu")
    assert np.all(float_margins(c.mlp(K), _with_keys(fs, K)) > 0)


def test_consistent_duplicate_keys_share_one_equation():
    # storage of such sets is tested for every method in test_degenerate_keys.py
    fs = make_factset("spherical", d=8, facts=24, values=24, seed=13)
    K, f = fs.keys.copy(), fs.mapping.copy()
    K[20], f[20] = K[2], f[2]
    c = construct(FactSet(K, fs.values, f), "ntk", seed=0)
    assert c.info["distinct_keys"] == 23


@pytest.mark.parametrize(
    "options",
    [
        {"activation": "tanh"},
        {"dense_max": -1},
        {"dense_max": 1.5},
        {"rtol": 0},
        {"tol": float("inf")},
        {"lam": -1e-3},
        {"maxiter": "many"},
        {"solver": "cg"},
    ],
)
def test_bad_options(options):
    fs = make_factset("spherical", d=8, facts=10, seed=16)
    with pytest.raises(InvalidInputError):
        construct(fs, "ntk", seed=0, **options)


@pytest.mark.parametrize("n, block", [(40, 7), (33, 33), (50, 64), (64, 16)])
def test_blocked_cholesky_matches_lapack(n, block):
    from factmlp._linalg import cho_solve_blocked as _cho_solve_blocked
    from factmlp._linalg import cholesky_blocked as _cholesky_blocked

    rng = np.random.default_rng(n)
    B = rng.standard_normal((n, n + 2))
    M = B @ B.T
    b = rng.standard_normal(n)
    L = _cholesky_blocked(M.copy(), block)
    np.testing.assert_allclose(np.tril(L), np.linalg.cholesky(M), atol=1e-10)
    np.testing.assert_allclose(M @ _cho_solve_blocked(L, b, block), b, atol=1e-8)


def test_blocked_dense_path_equals_single_block():
    fs = make_factset("spherical", d=6, facts=20, seed=17)
    from factmlp.constructions import ntk

    one = construct(fs, "ntk", seed=0)
    orig = ntk.BLOCK
    try:
        ntk.BLOCK = 25  # F d = 120: five blocks
        many = construct(fs, "ntk", seed=0)
    finally:
        ntk.BLOCK = orig
    up = one.mlp.up_proj
    np.testing.assert_allclose(many.mlp.up_proj, up, rtol=0, atol=1e-6 * np.abs(up).max())


@pytest.mark.parametrize("activation", ["silu", "relu", "identity"])
def test_keys_in_a_low_dimensional_subspace_are_degenerate(activation):
    """A k_i only sees the keys' span: 3 h unknowns < F d equations, no exact fit at h = F."""
    fs = make_factset("spherical", d=8, facts=20, seed=18)
    K = fs.keys.copy()
    K[:, 3:] = 0.0
    K /= np.linalg.norm(K, axis=1, keepdims=True)
    with pytest.raises(DegenerateKeysError) as exc:
        construct(_with_keys(fs, K), "ntk", seed=0, activation=activation)
    assert exc.value.indices and all(0 <= i < 20 for i in exc.value.indices)
    assert "rank 3" in str(exc.value)
