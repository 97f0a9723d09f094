"""verify_storage: soundness of the float64 bound, exact / interval recomputation, inputs."""

from __future__ import annotations

import math
import warnings
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from factmlp import xp as xpmod
from factmlp.errors import InvalidInputError, NonFiniteError, ShapeError
from factmlp.factset import FactSet
from factmlp.mlp import ACTIVATIONS, GatedMLP, activation_fn
from factmlp.verify import (
    ACTIVATION_BOUNDS,
    RecomputationCapWarning,
    StorageReport,
    activation_error_bound,
    verify_storage,
)

F32 = np.float32


# --------------------------------------------------------------------------- references
def _exact_margins(mlp: GatedMLP, fs: FactSet) -> list[Fraction]:
    """True margins in Fraction arithmetic (identity / relu only), written independently."""
    assert mlp.activation in ("identity", "relu")
    fr = np.vectorize(Fraction, otypes=[object])
    g, u, dn = (
        fr(np.asarray(mlp.gate_proj, float)),
        fr(np.asarray(mlp.up_proj, float)),
        fr(np.asarray(mlp.down_proj, float)),
    )
    keys, vals = fr(np.asarray(fs.keys, float)), fr(np.asarray(fs.values, float))
    out = []
    for i in range(fs.n_facts):
        x = keys[i]
        a = [sum(g[k, j] * x[j] for j in range(fs.dim)) for k in range(mlp.hidden)]
        b = [sum(u[k, j] * x[j] for j in range(fs.dim)) for k in range(mlp.hidden)]
        if mlp.activation == "relu":
            a = [max(v, Fraction(0)) for v in a]
        p = [a[k] * b[k] for k in range(mlp.hidden)]
        y = [sum(dn[r, k] * p[k] for k in range(mlp.hidden)) for r in range(fs.dim)]
        t = int(fs.mapping[i])
        zs = [sum(y[r] * vals[j, r] for r in range(fs.dim)) for j in range(fs.n_values)]
        out.append(min(zs[t] - zs[j] for j in range(fs.n_values) if j != t))
    return out


def _mp_margins(mlp: GatedMLP, fs: FactSet, dps: int = 60) -> list[mpmath.mpf]:
    """High-precision reference margins for any activation (mpmath at ``dps`` digits)."""
    mp = mpmath.mp
    acts = {
        "identity": lambda z: z,
        "relu": lambda z: max(z, 0),
        "silu": lambda z: z / (1 + mpmath.exp(-z)),
        "gelu": lambda z: z * mpmath.erfc(-z / mpmath.sqrt(2)) / 2,
    }
    act = acts[mlp.activation]
    cv = np.vectorize(lambda v: mp.mpf(float(v)), otypes=[object])
    with mpmath.workdps(dps):
        g, u, dn = cv(mlp.gate_proj), cv(mlp.up_proj), cv(mlp.down_proj)
        keys, vals = cv(fs.keys), cv(fs.values)
        out = []
        for i in range(fs.n_facts):
            x = keys[i]
            p = [act(mpmath.fsum(g[k] * x)) * mpmath.fsum(u[k] * x) for k in range(mlp.hidden)]
            y = [mpmath.fsum(dn[r] * np.array(p, dtype=object)) for r in range(fs.dim)]
            zs = [mpmath.fsum(np.array(y, dtype=object) * vals[j]) for j in range(fs.n_values)]
            t = int(fs.mapping[i])
            out.append(min(zs[t] - zs[j] for j in range(fs.n_values) if j != t))
    return out


def _brute_float_margins(mlp: GatedMLP, fs: FactSet) -> np.ndarray:
    z = mlp(np.asarray(fs.keys, float)) @ np.asarray(fs.values, float).T
    out = np.empty(fs.n_facts)
    for i, t in enumerate(fs.mapping):
        out[i] = min(z[i, t] - z[i, j] for j in range(fs.n_values) if j != t)
    return out


def _random(act: str, seed: int, h=6, d=4, n=5, f=12, dtype=np.float64):
    rng = np.random.default_rng(seed)
    mlp = GatedMLP(
        rng.standard_normal((h, d)).astype(dtype),
        rng.standard_normal((h, d)).astype(dtype),
        rng.standard_normal((d, h)).astype(dtype),
        act,
    )
    fs = FactSet(
        rng.standard_normal((f, d)).astype(dtype), rng.standard_normal((n, d)).astype(dtype), rng.integers(0, n, f)
    )
    return mlp, fs


def _diag_mlp(s, b, act="identity", dtype=np.float64):
    """Key e_1 -> hidden r: act(s_r) * b_r -> output r (D = I): y_r = act(s_r) b_r."""
    h = len(s)
    gate = np.zeros((h, h), dtype=dtype)
    up = np.zeros((h, h), dtype=dtype)
    gate[:, 0] = s
    up[:, 0] = b
    return GatedMLP(gate, up, np.eye(h, dtype=dtype), act)


# --------------------------------------------------------------------------- margins and bounds
@pytest.mark.parametrize("act", ACTIVATIONS)
def test_margins_agree_with_brute_force_and_bound_is_sound(act):
    mlp, fs = _random(act, seed=3)
    rep = verify_storage(mlp, fs)
    assert isinstance(rep, StorageReport) and rep.total == fs.n_facts
    brute = _brute_float_margins(mlp, fs)
    np.testing.assert_allclose(rep.margins, brute, rtol=0, atol=1e-9)
    true = _mp_margins(mlp, fs)
    for i in range(fs.n_facts):
        assert abs(mpmath.mpf(rep.margins[i]) - true[i]) <= rep.error_bounds[i], i
    # the bound is a float64 rounding bound: far below the margins' scale
    assert np.all(rep.error_bounds < 1e-11 * max(1.0, float(np.max(np.abs(brute)))))
    # the verdict is the sign of the true margin whenever that sign is clear
    for i in range(fs.n_facts):
        assert (i not in set(rep.failing.tolist())) == (true[i] > 0)
    assert rep.stored == fs.n_facts - rep.failing.size
    assert rep.certified == (rep.stored == rep.total)
    assert rep.min_margin == float(np.min(rep.margins))
    assert set(rep.argmax_wrong.tolist()) == {i for i in range(fs.n_facts) if true[i] < 0}


def test_float32_weights_are_upcast_exactly():
    mlp, fs = _random("relu", seed=5, dtype=F32)
    rep = verify_storage(mlp, fs)
    exact = _exact_margins(mlp, fs)
    for i, q in enumerate(exact):
        assert abs(Fraction(rep.margins[i]) - q) <= Fraction(rep.error_bounds[i])
        assert (i in set(rep.failing.tolist())) == (q <= 0)


def test_obviously_stored_permutation_is_certified():
    # one-hot keys, G = U = I: hidden = x * x = e_i; W_down a permutation: g(e_i) = e_{f(i)}
    d = 6
    f = np.array([3, 0, 5, 1, 4, 2])
    down = np.eye(d)[:, :][f].T  # column i is e_{f(i)}
    fs = FactSet(np.eye(d), np.eye(d), f)
    for act, scale in (
        ("identity", 1.0),
        ("relu", 1.0),
        ("silu", 1 / (1 + math.exp(-1))),
        ("gelu", 0.5 * (1 + math.erf(1 / math.sqrt(2)))),
    ):
        mlp = GatedMLP(np.eye(d), np.eye(d), down, act)
        rep = verify_storage(mlp, fs)
        assert rep.certified and rep.stored == d and rep.failing.size == 0
        np.testing.assert_allclose(rep.margins, scale, rtol=1e-14)
    # a wrong map is caught: swap two targets
    wrong = GatedMLP(np.eye(d), np.eye(d), down[:, [1, 0, 2, 3, 4, 5]], "relu")
    rep = verify_storage(wrong, fs)
    assert rep.failing.tolist() == [0, 1] and rep.argmax_wrong.tolist() == [0, 1]
    assert not rep.certified and rep.stored == d - 2


# --------------------------------------------------------------------------- near-ties
# float32 weights whose products round so that y1 - y2 - y3 = 2**-22 in float32 (every
# summation order is exact: partial sums are representable), while the true value is < 0.
_S = [float.fromhex("0x1.f62f2ap+0"), float.fromhex("0x1.46280ap+0"), float.fromhex("0x1.e2b174p+0")]
_B = [float.fromhex("0x1.e6179ap+0"), float.fromhex("0x1.934b26p+0"), float.fromhex("0x1.d26dd8p-1")]


@pytest.mark.parametrize("act", ["identity", "relu"])
def test_float32_near_tie_naively_stored_is_not_certified(act):
    mlp = _diag_mlp(np.array(_S, F32), np.array(_B, F32), act, dtype=F32)
    keys = np.array([[1, 0, 0]], F32)
    values = np.array([[1, -1, -1], [0, 0, 0]], F32)
    fs = FactSet(keys, values, np.array([0]))
    assert fs.keys.dtype == F32 and mlp.dtype == F32
    # naive float32 evaluation: stored
    z = mlp(keys) @ values.T
    assert z.dtype == F32
    naive = float(z[0, 0] - z[0, 1])
    assert naive > 0
    # exact: the true margin is negative
    (true,) = _exact_margins(mlp, fs)
    assert true < 0
    rep = verify_storage(mlp, fs)
    assert rep.stored == 0 and not rep.certified and rep.failing.tolist() == [0]
    assert rep.argmax_wrong.tolist() == [0]
    assert abs(Fraction(rep.margins[0]) - true) <= Fraction(rep.error_bounds[0])


def _f64_near_ties(seed: int, count: int):
    """float64 analogues: y1 - y2 - y3 with y3 picked so the float64 margin is within rounding of 0."""
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < count:
        s1, b1, s2, b2, s3 = rng.uniform(1, 2, 5)
        c = s1 * b1 - s2 * b2  # rounded: the exact difference is off by a few ulps
        b3 = c / s3
        if not (0.5 < b3 < 4):
            continue
        out.append(([s1, s2, s3], [b1, b2, b3]))
    return out


@pytest.mark.parametrize("act", ["identity", "relu"])
def test_exact_path_decides_float64_near_ties(act):
    for s, b in _f64_near_ties(seed=7, count=8):
        mlp = _diag_mlp(np.array(s), np.array(b), act)
        fs = FactSet(np.array([[1.0, 0, 0]]), np.array([[1.0, -1, -1], [0, 0, 0]]), np.array([0]))
        (true,) = _exact_margins(mlp, fs)
        rep = verify_storage(mlp, fs)
        assert rep.recomputed.tolist() == [0], (s, b)  # |float margin| was within its bound
        assert (rep.stored == 1) == (true > 0)
        assert (rep.argmax_wrong.tolist() == [0]) == (true < 0)
        # exact path: margin is the nearest float of the exact one
        assert abs(Fraction(rep.margins[0]) - true) <= Fraction(rep.error_bounds[0])
        assert Fraction(rep.error_bounds[0]) <= abs(true) * Fraction(2) ** -52


@pytest.mark.parametrize("act", ["silu", "gelu"])
def test_interval_path_decides_transcendental_near_ties(act):
    # y = (act(a), act(a')) with a' the next float above a > 0: act is increasing there, so
    # <y, (1, -1)> < 0 and <y, (-1, 1)> > 0 by ~1e-16, below the float64 error bound.
    rng = np.random.default_rng(11)
    for a in rng.uniform(0.3, 3.0, 4):
        a2 = np.nextafter(a, 2 * a)
        mlp = _diag_mlp(np.array([a, a2]), np.array([1.0, 1.0]), act)
        values = np.array([[1.0, -1.0], [-1.0, 1.0]])
        fs = FactSet(np.array([[1.0, 0.0], [1.0, 0.0]]), values, np.array([0, 1]))
        rep = verify_storage(mlp, fs)
        assert rep.recomputed.tolist() == [0, 1]
        assert rep.failing.tolist() == [0] and rep.argmax_wrong.tolist() == [0]
        assert rep.stored == 1 and rep.margins[1] > 0 and rep.margins[0] < 0
        ref = _mp_margins(mlp, fs)
        for i in range(2):
            assert abs(mpmath.mpf(rep.margins[i]) - ref[i]) <= rep.error_bounds[i]


@pytest.mark.parametrize("act", ACTIVATIONS)
def test_exact_ties_are_not_stored(act):
    # two identical hidden units (identical outputs) and values (1, -1) vs (-1, 1): margin exactly 0
    mlp = _diag_mlp(np.array([0.7, 0.7]), np.array([1.3, 1.3]), act)
    fs = FactSet(np.array([[1.0, 0.0]]), np.array([[1.0, -1.0], [-1.0, 1.0]]), np.array([0]))
    rep = verify_storage(mlp, fs)
    assert rep.stored == 0 and rep.failing.tolist() == [0] and rep.argmax_wrong.size == 0
    if act in ("identity", "relu"):
        assert rep.recomputed.tolist() == [0] and rep.margins[0] == 0.0 and rep.error_bounds[0] == 0.0
    else:  # an interval around an exact 0 cannot decide: undecided, never stored
        assert rep.undecided.tolist() == [0]
    # duplicate competing value: a competitor's score equals the target's, for every key
    mlp, fs = _random(act, seed=2, n=4)
    t0 = int(fs.mapping[0])
    j = (t0 + 1) % 4
    v = np.array(fs.values)
    v[j] = v[t0]
    rep = verify_storage(mlp, FactSet(fs.keys, v, fs.mapping))
    hit = {i for i in range(fs.n_facts) if int(fs.mapping[i]) in (t0, j)}
    assert 0 in hit and hit <= set(rep.failing.tolist())
    assert rep.stored == fs.n_facts - len(set(rep.failing.tolist()))


def test_recomputation_cap_leaves_facts_uncertified():
    a = 1.1
    mlp = _diag_mlp(np.array([a, np.nextafter(a, 2.0)]), np.array([1.0, 1.0]), "relu")
    fs = FactSet(np.array([[1.0, 0.0]] * 3), np.array([[-1.0, 1.0], [1.0, -1.0]]), np.array([0, 0, 0]))
    full = verify_storage(mlp, fs)
    assert full.stored == 3 and full.recomputed.tolist() == [0, 1, 2]
    with pytest.warns(RecomputationCapWarning):
        capped = verify_storage(mlp, fs, max_recompute=1)
    assert capped.stored == 1 and capped.capped == 2
    assert capped.failing.tolist() == [1, 2] and capped.undecided.tolist() == [1, 2]
    assert capped.argmax_wrong.size == 0
    with pytest.warns(RecomputationCapWarning):
        none = verify_storage(mlp, fs, max_recompute=0)
    assert none.stored == 0 and not none.certified


def test_batch_size_does_not_change_result():
    mlp, fs = _random("silu", seed=8, f=40)
    reps = [verify_storage(mlp, fs, batch_size=b) for b in (1, 3, 40, 1000)]
    reps.append(verify_storage(mlp, fs, memory_budget=1))
    for r in reps[1:]:
        assert r.failing.tolist() == reps[0].failing.tolist() and r.stored == reps[0].stored
        assert np.all(np.abs(r.margins - reps[0].margins) <= r.error_bounds + reps[0].error_bounds)
    assert reps[-1].batch_size == 1 and reps[2].batch_size == 40


def test_automatic_batch_respects_memory_budget():
    mlp, fs = _random("relu", seed=1, f=50, n=20, h=10, d=4)
    rep = verify_storage(mlp, fs, memory_budget=8 * (2 * 20 + 14 * 10 + 12 * 4) * 7)
    assert rep.batch_size == 7


def test_nonfinite_float_results_are_recomputed_exactly():
    # weights near the float64 limit overflow the float64 pass; the exact path still decides
    big = 2.0**600
    mlp = GatedMLP(np.array([[big, 0.0]]), np.array([[big, 0.0]]), np.array([[1.0], [0.0]]), "identity")
    fs = FactSet(np.array([[1.0, 0.0], [-1.0, 0.0]]), np.array([[1.0, 0.0], [-1.0, 0.0]]), np.array([0, 1]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # overflow in the float64 pass is expected and silent
        rep = verify_storage(mlp, fs)
    # g(k) = big^2 k_1^2 e_1 > 0 for both keys: fact 0 (target +e1) stored, fact 1 not
    assert rep.recomputed.tolist() == [0, 1]
    assert rep.failing.tolist() == [1] and rep.argmax_wrong.tolist() == [1]


# --------------------------------------------------------------------------- activation model
@pytest.mark.parametrize("act", ["silu", "gelu"])
def test_activation_library_error_model_holds(act):
    rng = np.random.default_rng(0)
    x = np.concatenate(
        [
            rng.standard_normal(400) * 3,
            rng.uniform(-40, 40, 200),
            [0.0, 1e-300, -1e-300, 5e-324, 700.0, -700.0, -745.0, 1e6, -1e6, -30.0, 30.0],
        ]
    )
    lib = activation_fn(act)(x)
    bound = activation_error_bound(act, x, lib)
    f = {"silu": lambda z: z / (1 + mpmath.exp(-z)), "gelu": lambda z: z * mpmath.erfc(-z / mpmath.sqrt(2)) / 2}[act]
    with mpmath.workdps(50):
        for xi, li, bi in zip(x, lib, bound, strict=True):
            assert abs(mpmath.mpf(float(li)) - f(mpmath.mpf(float(xi)))) <= bi, xi


@pytest.mark.parametrize("act", ["silu", "gelu"])
def test_lipschitz_constants_bound_the_derivative(act):
    f = {"silu": lambda z: z / (1 + mpmath.exp(-z)), "gelu": lambda z: z * mpmath.erfc(-z / mpmath.sqrt(2)) / 2}[act]
    grid = np.linspace(-8, 8, 1601)
    top = max(abs(mpmath.diff(f, mpmath.mpf(float(z)))) for z in grid)
    assert 1.05 < top < ACTIVATION_BOUNDS[act]
    # the maximizer is interior: the derivative decays towards 1 (or 0) in the tails
    assert abs(mpmath.diff(f, 50)) <= 1.0 + 1e-9 and abs(mpmath.diff(f, -50)) < 1e-9


# --------------------------------------------------------------------------- inputs
def test_bad_inputs_get_typed_errors():
    mlp, fs = _random("relu", seed=0)
    with pytest.raises(InvalidInputError, match="GatedMLP"):
        verify_storage("not an mlp", fs)
    with pytest.raises(InvalidInputError, match="FactSet"):
        verify_storage(mlp, {"keys": fs.keys})
    other = FactSet(np.ones((3, 7)), np.eye(7)[:2], np.array([0, 1, 0]))
    with pytest.raises(ShapeError, match=r"d=4.*d=7"):
        verify_storage(mlp, other)
    bad = GatedMLP(np.array(mlp.gate_proj), np.array(mlp.up_proj), np.array(mlp.down_proj), "relu")
    with pytest.raises(ValueError):  # the weights are read-only copies
        bad.up_proj[2, 1] = np.nan
    bad.up_proj.setflags(write=True)  # a determined caller can still change them: the verifier re-checks
    bad.up_proj[2, 1] = np.nan
    with pytest.raises(NonFiniteError, match="up_proj") as exc:
        verify_storage(bad, fs)
    assert exc.value.indices == [2]
    for kw in ({"batch_size": 0}, {"batch_size": 2.5}, {"max_recompute": -1}, {"backend": "jax"}, {"batch_size": True}):
        with pytest.raises(InvalidInputError):
            verify_storage(mlp, fs, **kw)


def test_report_to_dict_is_json_ready():
    import json

    mlp, fs = _random("gelu", seed=4)
    rep = verify_storage(mlp, fs)
    d = rep.to_dict()
    assert list(d) == ["stored", "total", "min_margin", "certified", "failing"]
    assert d["failing"] == rep.failing.tolist() and all(type(i) is int for i in d["failing"])
    assert json.loads(json.dumps(d)) == d
    ext = rep.to_dict(extra=True)
    assert ext["n_failing"] == rep.failing.size and ext["activation"] == "gelu"
    with pytest.raises(ValueError):
        rep.margins[0] = 1.0  # read-only


# --------------------------------------------------------------------------- property
_DYADIC = st.sampled_from([-2.0, -1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 1.0, 2.0, 3.0, 0.1, -0.3])


@settings(deadline=None)  # example count from the profile (ci: 15)
@given(st.data())
def test_property_stored_never_exceeds_exact_positive(data):
    d = data.draw(st.integers(1, 3))
    h = data.draw(st.integers(1, 3))
    n = data.draw(st.integers(2, 3))
    f = data.draw(st.integers(1, 4))

    def arr(r, c):
        return np.array(data.draw(st.lists(_DYADIC, min_size=r * c, max_size=r * c))).reshape(r, c)

    mlp = GatedMLP(arr(h, d), arr(h, d), arr(d, h), data.draw(st.sampled_from(["identity", "relu"])))
    fs = FactSet(arr(f, d), arr(n, d), np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=f, max_size=f))))
    rep = verify_storage(mlp, fs, batch_size=data.draw(st.integers(1, 4)))
    exact = _exact_margins(mlp, fs)
    positive = {i for i, q in enumerate(exact) if q > 0}
    assert rep.stored <= len(positive)
    assert set(range(f)) - set(rep.failing.tolist()) <= positive
    # identity / relu recomputation is exact, so nothing is left undecided
    assert set(range(f)) - set(rep.failing.tolist()) == positive
    for i, q in enumerate(exact):
        assert abs(Fraction(rep.margins[i]) - q) <= Fraction(rep.error_bounds[i])


# --------------------------------------------------------------------------- CuPy parity
@pytest.mark.gpu
def test_numpy_cupy_parity():
    pytest.importorskip("cupy")
    if not xpmod.cupy_available():
        pytest.skip("no CUDA device")
    for act in ACTIVATIONS:
        mlp, fs = _random(act, seed=6, f=30)
        cpu = verify_storage(mlp, fs)
        gpu = verify_storage(mlp.to("cupy"), fs)
        assert gpu.backend == "cupy"
        assert gpu.failing.tolist() == cpu.failing.tolist() and gpu.stored == cpu.stored
        assert np.all(np.abs(gpu.margins - cpu.margins) <= gpu.error_bounds + cpu.error_bounds)
        also = verify_storage(mlp, fs, backend="cupy")
        assert also.failing.tolist() == cpu.failing.tolist()


@pytest.mark.parametrize("act", ["silu", "gelu"])
def test_activation_enclosure_contains_true_value(act):
    from factmlp._exact import activation_enclosure, dyadic

    rng = np.random.default_rng(1)
    a = np.concatenate([rng.standard_normal(30) * 4, [0.0, -60.0, 60.0, 1e-30]])
    a_int, e_a = dyadic(a)
    assert all(Fraction(int(ai)) * Fraction(2) ** e_a == Fraction(float(x)) for ai, x in zip(a_int, a, strict=True))
    mid, rad, e = activation_enclosure(act, a_int, e_a, prec=128)
    f = {"silu": lambda z: z / (1 + mpmath.exp(-z)), "gelu": lambda z: z * mpmath.erfc(-z / mpmath.sqrt(2)) / 2}[act]
    with mpmath.workdps(120):
        for x, m, r in zip(a, mid, rad, strict=True):
            true = f(mpmath.mpf(float(x)))
            c, w = mpmath.ldexp(int(m), e), mpmath.ldexp(int(r), e)
            assert c - w <= true <= c + w, x
            assert w <= mpmath.ldexp(abs(true) + abs(x), -90)  # tight: ~128-bit precision
            assert (w > 0) == (x != 0)
