"""The margin construction: certified or a ConvergenceError, convex blocks, bounded active sets."""

from __future__ import annotations

import numpy as np
import pytest

from factmlp import construct, make_factset, verify_storage
from factmlp.constructions import METHODS
from factmlp.constructions.margin import MarginProblem, init_weights
from factmlp.errors import ConvergenceError, DegenerateKeysError, InvalidInputError
from factmlp.factset import FactSet
from factmlp.testing import check_construction


def test_margin_passes_the_suite_with_storage_required():
    """margin claims no theorem (guarantee=False), so storage is demanded explicitly: every
    default-width build on every family must be certified (or the check fails)."""
    assert "margin" in METHODS
    report = check_construction("margin", seed=0, require_storage=True)
    assert report.passed, str(report)
    assert all(c.outcome == "passed" for c in report.checks), str(report)


def test_margin_stores_below_interpolation_and_reports_certified():
    fs = make_factset("spherical", d=16, facts=128, seed=3)
    c = construct(fs, "margin", hidden=16, seed=0)
    rep = verify_storage(c.mlp, fs)
    assert rep.certified and rep.stored == 128
    assert c.info["certified"] and c.info["stored"] == 128
    assert c.params < 3 * 16 * 128 // 4  # a quarter of plain interpolation (h = F)


def test_too_small_width_raises_convergence_error_naming_facts():
    fs = make_factset("spherical", d=8, facts=64, seed=1)
    with pytest.raises(ConvergenceError, match=r"hidden = 1 certified \d+/64") as err:
        construct(fs, "margin", hidden=1, seed=0, joint_iters=100)
    failing = err.value.indices
    assert failing and all(0 <= i < 64 for i in failing)
    # partial=True hands back the same uncertified MLP, marked as such
    c = construct(fs, "margin", hidden=1, seed=0, joint_iters=100, partial=True)
    rep = verify_storage(c.mlp, fs)
    assert not c.info["certified"] and c.info["stored"] == rep.stored < 64
    assert sorted(failing) == sorted(np.asarray(rep.failing).tolist())


def test_same_seed_same_weights_different_seed_different():
    fs = make_factset("gaussian", d=8, facts=24, seed=2)
    a, b = (construct(fs, "margin", hidden=8, seed=5) for _ in range(2))
    c = construct(fs, "margin", hidden=8, seed=6)
    assert a.mlp.up_proj.tobytes() == b.mlp.up_proj.tobytes()
    assert a.mlp.down_proj.tobytes() == b.mlp.down_proj.tobytes()
    assert a.mlp.gate_proj.tobytes() != c.mlp.gate_proj.tobytes()


@pytest.mark.parametrize("hidden", [5, 9])  # h <= d: scores through V D; h > d: through V
@pytest.mark.parametrize("blocks", [("down",), ("up",), ("gate", "up", "down")])
def test_loss_gradient_matches_finite_differences(blocks, hidden):
    fs = make_factset("spherical", d=6, facts=20, values=10, seed=0)
    W = init_weights(fs, hidden, np.random.default_rng(0))
    prob = MarginProblem(fs, "silu", active=4)
    prob.refresh(W["gate"], W["up"], W["down"])
    _, grads = prob.loss_grad(W["gate"], W["up"], W["down"], blocks)
    rng = np.random.default_rng(1)
    for b in blocks:
        E = rng.standard_normal(W[b].shape)
        eps = 1e-6
        hi = dict(W, **{b: W[b] + eps * E})
        lo = dict(W, **{b: W[b] - eps * E})
        num = (
            prob.loss_grad(hi["gate"], hi["up"], hi["down"], ())[0]
            - prob.loss_grad(lo["gate"], lo["up"], lo["down"], ())[0]
        ) / (2 * eps)
        assert num == pytest.approx(float(np.sum(grads[b] * E)), rel=1e-5, abs=1e-8)


@pytest.mark.parametrize("hidden", [5, 9])
@pytest.mark.parametrize("blocks", [("down",), ("up",), ("gate", "up", "down")])
def test_loss_matches_direct_margins_and_cache_is_safe(blocks, hidden):
    """L equals sum max(0, 1 - <o_i, v_f(i) - v_j>)^2 over the active sets, with or without the block cache."""
    fs = make_factset("gaussian", d=6, facts=30, values=12, seed=3)
    rng = np.random.default_rng(4)
    W = init_weights(fs, hidden, rng)
    prob = MarginProblem(fs, "silu", active=5)
    prob.refresh(W["gate"], W["up"], W["down"])

    def direct(w):
        out = prob.outputs(w["gate"], w["up"], w["down"])
        diff = fs.values[fs.mapping][:, None, :] - fs.values[prob.idx]
        m = np.einsum("fkd,fd->fk", diff, out)
        return float(np.sum((np.maximum(1.0 - m, 0.0) * prob.mask) ** 2))

    cache: dict = {}
    for _ in range(3):  # moving blocks change between calls; the fixed ones come from the cache
        W = dict(W, **{b: W[b] + 0.3 * rng.standard_normal(W[b].shape) for b in blocks})
        loss, _ = prob.loss_grad(W["gate"], W["up"], W["down"], blocks, cache)
        assert loss == pytest.approx(direct(W), rel=1e-12, abs=1e-12)
        assert loss > 0


def test_blocks_are_convex_along_a_segment():
    """Given gate and down, the loss is convex in up (and vice versa): midpoint below the chord."""
    fs = make_factset("spherical", d=6, facts=20, values=10, seed=4)
    rng = np.random.default_rng(2)
    W = init_weights(fs, 5, rng)
    prob = MarginProblem(fs, "silu", active=4)
    prob.refresh(W["gate"], W["up"], W["down"])
    for b in ("up", "down"):
        A = dict(W, **{b: 3 * rng.standard_normal(W[b].shape)})
        B = dict(W, **{b: 3 * rng.standard_normal(W[b].shape)})
        M = dict(W, **{b: (A[b] + B[b]) / 2})
        f = lambda w: prob.loss_grad(w["gate"], w["up"], w["down"], ())[0]  # noqa: E731
        assert f(M) <= (f(A) + f(B)) / 2 + 1e-9


def test_active_sets_stay_bounded_for_many_values():
    fs = make_factset("spherical", d=8, facts=64, values=2048, seed=0)
    W = init_weights(fs, 8, np.random.default_rng(0))
    prob = MarginProblem(fs, "silu", active=16)
    for _ in range(10):
        prob.refresh(W["gate"], W["up"], W["down"])
        assert prob.idx.shape[1] <= prob.cap < fs.n_values - 1
        W = dict(W, down=W["down"] + 0.5 * np.random.default_rng(len(W)).standard_normal(W["down"].shape))


def test_conflicting_duplicate_keys_and_bad_options_are_refused():
    fs = make_factset("spherical", d=6, facts=10, values=10, seed=0)
    keys = fs.keys.copy()
    keys[7] = keys[2]
    mapping = fs.mapping.copy()
    mapping[7] = (mapping[2] + 1) % 10
    bad = FactSet(keys, fs.values, mapping)
    with pytest.raises(DegenerateKeysError, match=r"\[2, 7\]"):
        construct(bad, "margin", seed=0)
    with pytest.raises(InvalidInputError, match="solver"):
        construct(fs, "margin", seed=0, solver="newton")
    with pytest.raises(InvalidInputError, match="unknown option"):
        construct(fs, "margin", seed=0, lr=0.1)
