"""The sound verifier of stored facts: :func:`verify_storage`.

An MLP ``g`` stores fact ``i`` (key ``k_i``, target value ``v_{f(i)}``) iff its
margin

    m_i = min_{j != f(i)} <g(k_i), v_{f(i)} - v_j>

is > 0 (dot-product decoding).  "True margin" is the margin of the
real-arithmetic function defined by the exact float weights, keys and values.
The verifier must never say "stored" wrongly, so:

1. every margin is evaluated in float64, in batches of keys, together with a
   rigorous bound ``E_i >= |computed m_i - true m_i|`` (Higham's
   ``gamma_n = n u / (1 - n u)`` bounds on every dot product, the activation's
   documented library error and Lipschitz constant; see ``docs/verify.md``);
2. a fact is certified stored when ``computed m_i > E_i``, certified not
   stored when ``computed m_i < -E_i``;
3. facts with ``|computed m_i| <= E_i`` are recomputed on the host, exactly
   (identity, relu) or with interval arithmetic (silu, gelu) by
   :mod:`factmlp._exact`; a fact whose sign stays undecided, or whose true
   margin is <= 0 (ties included), is not stored.  At most ``max_recompute``
   facts are recomputed per call; the others stay uncertified (a
   :class:`RecomputationCapWarning` says so).
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field
from fractions import Fraction
from types import ModuleType
from typing import Any

import numpy as np

from . import xp as _xp
from ._exact import ExactMLP
from ._fpenv import check_subnormals
from .errors import InvalidInputError, NonFiniteError, ShapeError, format_indices
from .factset import FactSet
from .mlp import GatedMLP, activation_fn

__all__ = [
    "verify_storage",
    "StorageReport",
    "RecomputationCapWarning",
    "ACTIVATION_BOUNDS",
    "activation_error_bound",
    "UNIT_ROUNDOFF",
]

UNIT_ROUNDOFF = 2.0**-53  # u for float64, round to nearest
_U = UNIT_ROUNDOFF
_TINY = 2.0**-1060  # absolute floor per operation: covers underflow (each <= 2**-1075)
_SAFETY = 1.0 + 2.0**-30  # covers rounding of the bound arithmetic itself (depth < 2**21)
_MAX_DEPTH = 2**21
DEFAULT_MEMORY_BUDGET = 256 * 2**20
DEFAULT_MAX_RECOMPUTE = 10_000
_CHUNK = 64  # ambiguous facts recomputed together
_PRECISIONS = (256, 1024)  # interval precisions (bits) tried in turn for silu / gelu
_SECONDS_PER_FACT = 10.0  # time budget of one recomputation pass, per fact (a backstop: sizes are capped)

# activation -> Lipschitz constant L (an upper bound of sup |act'|)
ACTIVATION_BOUNDS = {
    "identity": 1.0,
    "relu": 1.0,
    "silu": 1.1,  # sup silu' = 1.0998... at x = 2.3994
    "gelu": 1.13,  # sup gelu' = Phi(sqrt 2) + sqrt 2 phi(sqrt 2) = 1.1289...
}


class RecomputationCapWarning(UserWarning):
    """More facts needed exact recomputation than ``max_recompute``; the rest stay uncertified."""


def _gamma(n: int) -> float:
    """An upper bound of ``gamma_n = n u / (1 - n u)``, exact in float: ``n u (1 + 2**-6)``."""
    if n * _U > 2.0**-8:
        raise InvalidInputError(f"dimension {n} too large for the floating-point error bound")
    return float(n * 65) * 2.0**-59


def _floor(n: int) -> float:
    """``(n + 2) * 2**-1060``: absolute error floor of a length-n dot product (underflow)."""
    return float(n + 2) * _TINY


def activation_error_bound(name: str, a_hat: Any, s_hat: Any) -> Any:
    """Bound on ``|act_lib(a_hat) - act(a_hat)|``: the library activation's own error.

    ``a_hat`` are the computed arguments, ``s_hat = act_lib(a_hat)`` the
    computed values (float64, any namespace).  Assumed (``docs/verify.md``):
    IEEE round-to-nearest ``+ - * /``, library ``exp`` within 4 ulp and
    ``erf`` within 8 u absolute.  Then

    * identity, relu: 0 (exact);
    * silu (``x * sig``, ``sig = 1/(1+e)`` or ``e/(1+e)``, ``e = exp(-|x|)``):
      ``40 u |s_hat| + (1 + |a_hat|) 2**-1060``;
    * gelu (``0.5 x (1 + erf(x / sqrt 2))``):
      ``u |a_hat| (16 + |a_hat|) + 2**-1060``.
    """
    xp = _xp.get_namespace(a_hat)
    if name in ("identity", "relu"):
        return xp.zeros_like(a_hat)
    if name == "silu":
        return (40.0 * _U) * xp.abs(s_hat) + (1.0 + xp.abs(a_hat)) * _TINY
    if name == "gelu":
        aa = xp.abs(a_hat)
        return _U * aa * (16.0 + aa) + _TINY
    raise InvalidInputError(f"unknown activation {name!r}")  # pragma: no cover


@dataclass(frozen=True, eq=False)
class StorageReport:
    """What :func:`verify_storage` certified.

    stored : number of facts certified stored (true margin > 0, proven)
    total : F
    certified : ``stored == total``
    min_margin : minimum of ``margins``
    failing : sorted int64 indices of the facts not certified stored
    margins : float64 (F,): the float64 margins; for recomputed facts the
        midpoint of the enclosure of the true margin
    error_bounds : float64 (F,): rigorous bounds on ``|margins - true margin|``
    recomputed : int64 indices of the facts whose sign was decided by
        exact / interval recomputation
    argmax_wrong : int64 indices of the facts whose true margin is proven
        < 0 (a competing value strictly beats the target)
    undecided : int64 indices of the facts whose sign was not decided (interval
        containing 0, or beyond the recomputation cap); never counted stored
    capped : number of facts left uncertified because of ``max_recompute``
    activation, batch_size, backend : how the check ran
    """

    stored: int
    total: int
    certified: bool
    min_margin: float
    failing: np.ndarray
    margins: np.ndarray
    error_bounds: np.ndarray
    recomputed: np.ndarray
    argmax_wrong: np.ndarray
    undecided: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    capped: int = 0
    activation: str = ""
    batch_size: int = 0
    backend: str = "numpy"

    def to_dict(self, extra: bool = False) -> dict:
        """JSON-ready ``{"stored", "total", "min_margin", "certified", "failing"}``.

        With ``extra``, also ``n_failing``, ``recomputed``, ``undecided``,
        ``argmax_wrong`` (counts), ``capped``, ``max_error_bound``, ``activation``.
        """
        mm = float(self.min_margin)
        out: dict[str, Any] = {
            "stored": int(self.stored),
            "total": int(self.total),
            "min_margin": mm if math.isfinite(mm) else None,
            "certified": bool(self.certified),
            "failing": [int(i) for i in self.failing],
        }
        if extra:
            eb = float(np.max(self.error_bounds)) if self.error_bounds.size else 0.0
            out.update(
                n_failing=int(self.failing.size),
                recomputed=int(self.recomputed.size),
                undecided=int(self.undecided.size),
                argmax_wrong=int(self.argmax_wrong.size),
                capped=int(self.capped),
                max_error_bound=eb if math.isfinite(eb) else None,
                activation=self.activation,
            )
        return out


# ---------------------------------------------------------------------------
# float64 evaluation with rigorous error bounds
# ---------------------------------------------------------------------------
class _FloatEvaluator:
    """Float64 margins of ``g`` on batches of keys, with bounds ``E >= |computed - true|``."""

    def __init__(self, mlp: GatedMLP, values: np.ndarray, xp: ModuleType) -> None:
        self.xp = xp
        f64 = np.float64
        gate = _xp.asarray(mlp.gate_proj, xp, dtype=f64)
        up = _xp.asarray(mlp.up_proj, xp, dtype=f64)
        down = _xp.asarray(mlp.down_proj, xp, dtype=f64)
        self.h, self.d = (int(s) for s in gate.shape)
        self.gt, self.gat = gate.T, xp.abs(gate).T  # (d, h)
        self.ut, self.uat = up.T, xp.abs(up).T  # (d, h)
        self.dt, self.dat = down.T, xp.abs(down).T  # (h, d)
        v = np.asarray(values, dtype=f64)
        self.vt = xp.asarray(v.T)  # (d, N)
        self.n_values = int(v.shape[0])
        self.name = mlp.activation
        self.act = activation_fn(mlp.activation)
        self.lip = ACTIVATION_BOUNDS[mlp.activation]
        d, h = self.d, self.h
        if 2 * d + h + 64 > _MAX_DEPTH:
            raise InvalidInputError(f"sizes d={d}, h={h} too large for the floating-point error bound")
        self.g_d, self.g_h = _gamma(d), _gamma(h)
        self.f_d, self.f_h, self.f_1 = _floor(d), _floor(h), _floor(1)
        # max_j ||v_j||_2, from V scaled exactly by a power of two to max-abs in [1, 2) so the squares
        # cannot overflow (its rounding is covered by _SAFETY, underflow by f_d); inf beyond the float range
        amax = float(np.max(np.abs(v)))
        ev = int(np.frexp(amax)[1]) - 1 if amax > 0 else 0
        with np.errstate(under="ignore", over="ignore"):
            vs = np.ldexp(v, -ev)
            self.vmax = float(np.ldexp(np.sqrt(np.max(np.sum(vs * vs, axis=1)) + self.f_d), ev))
        if ev < 0:  # scaled up: add the floor on the original scale too (subnormal entries lost nothing)
            self.vmax += self.f_d

    def _outputs(self, x: Any) -> tuple[Any, Any]:
        """``(Y, e)``: computed ``g(X)`` (n, d) and a bound ``e_r`` such that
        ``|computed <g(x_r), v_j> - <g(x_r), v_j>| <= e_r`` for every j (before _SAFETY)."""
        xp = self.xp
        xa = xp.abs(x)
        a = x @ self.gt
        alpha = self.g_d * (xa @ self.gat) + self.f_d  # >= |a_hat - a|
        s = self.act(a)
        sigma = activation_error_bound(self.name, a, s) + self.lip * alpha  # >= |s_hat - act(a)|
        del alpha
        b = x @ self.ut
        beta = self.g_d * (xa @ self.uat) + self.f_d  # >= |b_hat - b|
        del xa
        p = s * b
        sa, ba = xp.abs(s), xp.abs(b)
        pi = _U * sa * ba + sigma * ba + (sa + sigma) * beta + self.f_1  # >= |p_hat - p|
        del a, s, b, sa, ba, sigma, beta
        y = p @ self.dt
        psi = self.g_h * (xp.abs(p) @ self.dat) + pi @ self.dat + self.f_h  # >= |y_hat - y|
        del p, pi
        ynorm = xp.sqrt(xp.sum(y * y, axis=1) + self.f_d)
        psinorm = xp.sqrt(xp.sum(psi * psi, axis=1) + self.f_d)
        # |z_hat_j - <y, v_j>| <= gamma_d |y_hat|.|v_j| + psi.|v_j| + floor
        e = (self.g_d * ynorm + psinorm) * self.vmax + self.f_d
        return y, e

    def margins(self, x: Any, t: Any) -> tuple[np.ndarray, np.ndarray]:
        """Computed margins ``m_hat`` (n,) and bounds ``E`` (n,) on the host.

        ``m_hat = z_t - max_{j != t} z_j`` (one rounding, monotone, so equal to
        ``min_j fl(z_t - z_j)``); ``E = (2 u |m_hat| + 2 e) * (1 + 2**-30)``;
        ``E = inf`` where anything is not finite.
        """
        xp = self.xp
        y, e = self._outputs(x)
        z = y @ self.vt  # (n, N)
        del y
        rows = xp.arange(z.shape[0])
        zt = z[rows, t].copy()
        z[rows, t] = -xp.inf
        m = zt - xp.max(z, axis=1)
        del z
        bound = (2.0 * _U * xp.abs(m) + 2.0 * e) * _SAFETY
        bad = ~(xp.isfinite(m) & xp.isfinite(bound))
        bound = xp.where(bad, xp.inf, bound)
        return _xp.to_numpy(m), _xp.to_numpy(bound)

    def differences(self, x: Any, t: Any) -> tuple[np.ndarray, np.ndarray]:
        """Per competitor: ``dhat[r, j] = fl(z_t - z_j)`` and bounds ``E[r, j]`` (host, (n, N)).

        ``dhat[r, t] = +inf`` and ``E[r, t] = 0`` mark the target itself.
        """
        xp = self.xp
        y, e = self._outputs(x)
        z = y @ self.vt
        rows = xp.arange(z.shape[0])
        dh = z[rows, t][:, None] - z
        dh[rows, t] = 0.0
        bound = (2.0 * _U * xp.abs(dh) + 2.0 * e[:, None]) * _SAFETY
        bound = xp.where(xp.isfinite(bound), bound, xp.inf)
        dh[rows, t] = xp.inf
        bound[rows, t] = 0.0
        return _xp.to_numpy(dh), _xp.to_numpy(bound)


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
def _frac(v: float) -> Fraction:
    return Fraction(v)


def _ball_bounds(lo: int, hi: int, scale: int) -> tuple[Fraction, Fraction]:
    two = Fraction(2) ** scale
    return lo * two, hi * two


def _float_up(q: Fraction) -> float:
    """The smallest float >= q (q >= 0); inf beyond the float range."""
    try:
        f = float(q)
    except OverflowError:
        return math.inf
    if Fraction(f) < q:
        f = math.nextafter(f, math.inf)
    return f


def _summarize(lower: Fraction, upper: Fraction) -> tuple[float, float]:
    """Float midpoint of ``[lower, upper]`` (sign kept) and a rigorous radius about it."""
    mid = (lower + upper) / 2
    try:
        f = float(mid)
    except OverflowError:  # beyond the float range: keep the sign, no finite radius
        return (math.inf if mid > 0 else -math.inf), math.inf
    if mid > 0 and f <= 0.0:
        f = math.nextafter(0.0, 1.0)
    elif mid < 0 and f >= 0.0:
        f = -math.nextafter(0.0, 1.0)
    rad = (upper - lower) / 2 + abs(Fraction(f) - mid)
    return f, _float_up(rad)


def _check_finite(name: str, arr: Any) -> None:
    a = _xp.to_numpy(arr)
    bad = ~np.isfinite(a).all(axis=1)
    if bad.any():
        rows = np.flatnonzero(bad).tolist()
        raise NonFiniteError(f"{name}: rows {format_indices(rows)} hold NaN or infinity", indices=rows)


def _auto_batch(n_facts: int, n_values: int, hidden: int, dim: int, budget: int) -> int:
    """Rows per batch so the float64 working set ``8 (2N + 14h + 12d)`` bytes/row fits ``budget``."""
    per_row = 8 * (2 * n_values + 14 * hidden + 12 * dim)
    return int(max(1, min(n_facts, budget // per_row)))


def _check_positive_int(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or int(value) < minimum:
        raise InvalidInputError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


# ---------------------------------------------------------------------------
# the verifier
# ---------------------------------------------------------------------------
def verify_storage(
    mlp: GatedMLP,
    factset: FactSet,
    *,
    batch_size: int | None = None,
    backend: str | None = None,
    max_recompute: int = DEFAULT_MAX_RECOMPUTE,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
) -> StorageReport:
    """Certify which facts of ``factset`` the MLP stores.

    For keys ``K`` (F, d), values ``V`` (N, d), map ``f`` and
    ``g(x) = W_down (act(W_gate x) * (W_up x))`` with ``W_gate, W_up`` (h, d),
    ``W_down`` (d, h): fact i is stored iff the true margin
    ``m_i = min_{j != f(i)} <g(k_i), v_{f(i)} - v_j>`` is > 0.  A fact is
    counted stored only when that is proven: ``m_hat_i > E_i`` for the float64
    margin ``m_hat_i`` and its rigorous error bound ``E_i``, or by exact
    (identity, relu) / interval (silu, gelu) recomputation when
    ``|m_hat_i| <= E_i``.

    Parameters
    ----------
    mlp : GatedMLP (NumPy or CuPy arrays)
    factset : FactSet with ``factset.dim == mlp.dim``
    batch_size : keys per float64 batch; default from ``memory_budget`` so the
        working memory is O(batch (N + h))
    backend : ``"numpy"``, ``"cupy"``, ``"auto"`` or None (the MLP's namespace)
        for the float64 evaluation; recomputation always runs on the host
    max_recompute : at most this many facts are recomputed; the others with
        ``|m_hat| <= E`` stay uncertified (:class:`RecomputationCapWarning`)
    memory_budget : bytes for the float64 working set when ``batch_size`` is None

    Raises
    ------
    InvalidInputError : ``mlp`` is not a GatedMLP, ``factset`` not a FactSet,
        bad ``batch_size`` / ``max_recompute``
    ShapeError : ``mlp.dim != factset.dim``
    NonFiniteError : a weight is NaN or infinite
    FloatingPointEnvironmentError : float64 arithmetic flushes subnormals
        (FTZ / DAZ on, e.g. after ``torch.set_flush_denormal(True)``): the
        error bounds would not hold, so nothing is certified
    """
    if not isinstance(mlp, GatedMLP):
        raise InvalidInputError(f"mlp must be a factmlp.GatedMLP, got {type(mlp).__name__}")
    if not isinstance(factset, FactSet):
        raise InvalidInputError(f"factset must be a factmlp.FactSet, got {type(factset).__name__}")
    if mlp.dim != factset.dim:
        raise ShapeError(
            f"dimension mismatch: the MLP has model dimension d={mlp.dim}, "
            f"the fact set has embedding dimension d={factset.dim}"
        )
    for name, arr in (
        ("gate_proj.weight", mlp.gate_proj),
        ("up_proj.weight", mlp.up_proj),
        ("down_proj.weight", mlp.down_proj),
    ):
        _check_finite(name, arr)
    max_recompute = _check_positive_int(max_recompute, "max_recompute", 0)
    check_subnormals("verify_storage")
    n_facts = factset.n_facts
    if batch_size is None:
        batch_size = _auto_batch(
            n_facts, factset.n_values, mlp.hidden, mlp.dim, _check_positive_int(memory_budget, "memory_budget", 1)
        )
    else:
        batch_size = _check_positive_int(batch_size, "batch_size", 1)

    if backend is None:
        xp = _xp.get_namespace(mlp.gate_proj, mlp.up_proj, mlp.down_proj)
    else:
        try:
            xp = _xp.namespace(backend)
        except ValueError as exc:
            raise InvalidInputError(str(exc)) from exc
    ev = _FloatEvaluator(mlp, factset.values, xp)
    keys, mapping = factset.keys, factset.mapping

    margins = np.empty(n_facts, dtype=np.float64)
    bounds = np.empty(n_facts, dtype=np.float64)
    with np.errstate(all="ignore"):  # overflow / NaN are handled: their bound is inf
        for lo in range(0, n_facts, batch_size):
            hi = min(n_facts, lo + batch_size)
            x = xp.asarray(keys[lo:hi], dtype=np.float64)
            t = xp.asarray(mapping[lo:hi])
            margins[lo:hi], bounds[lo:hi] = ev.margins(x, t)

    stored = margins > bounds
    negative = margins < -bounds
    ambiguous = np.flatnonzero(~stored & ~negative)
    capped = np.zeros(0, dtype=np.int64)
    if ambiguous.size > max_recompute:
        capped = ambiguous[max_recompute:]
        ambiguous = ambiguous[:max_recompute]
        warnings.warn(
            RecomputationCapWarning(
                f"{ambiguous.size + capped.size} facts have |margin| within the float64 error bound; "
                f"recomputed {ambiguous.size} (max_recompute), left {capped.size} uncertified: "
                f"{format_indices(capped.tolist())}"
            ),
            stacklevel=2,
        )
    recomputed: list[int] = []
    undecided: list[int] = []
    if ambiguous.size:
        exact = ExactMLP(
            _xp.to_numpy(mlp.gate_proj),
            _xp.to_numpy(mlp.up_proj),
            _xp.to_numpy(mlp.down_proj),
            factset.values,
            mlp.activation,
        )
        for c0 in range(0, ambiguous.size, _CHUNK):
            idx = ambiguous[c0 : c0 + _CHUNK]
            _recompute(
                ev, exact, keys[idx], mapping[idx], idx, margins, bounds, stored, negative, recomputed, undecided
            )
    undecided_all = np.union1d(np.asarray(undecided, dtype=np.int64), capped)
    argmax_wrong = np.flatnonzero(negative)
    failing = np.flatnonzero(~stored)
    n_stored = int(stored.sum())
    for a in (margins, bounds, failing, argmax_wrong, undecided_all):
        a.setflags(write=False)
    rec = np.array(sorted(recomputed), dtype=np.int64)
    rec.setflags(write=False)
    return StorageReport(
        stored=n_stored,
        total=n_facts,
        certified=n_stored == n_facts,
        min_margin=float(np.min(margins)),
        failing=failing,
        margins=margins,
        error_bounds=bounds,
        recomputed=rec,
        argmax_wrong=argmax_wrong,
        undecided=undecided_all,
        capped=int(capped.size),
        activation=mlp.activation,
        batch_size=batch_size,
        backend=xp.__name__,
    )


def _recompute(
    ev: _FloatEvaluator,
    exact: ExactMLP,
    keys: np.ndarray,
    targets: np.ndarray,
    idx: np.ndarray,
    margins: np.ndarray,
    bounds: np.ndarray,
    stored: np.ndarray,
    negative: np.ndarray,
    recomputed: list[int],
    undecided: list[int],
) -> None:
    """Decide the facts ``idx`` exactly / by intervals; update the arrays in place.

    A fresh float64 pass gives ``dhat_j`` and ``E_j`` per competitor; ``j`` with
    ``dhat_j > E_j`` are certified positive (``mu_j >= dhat_j - E_j > 0``); the
    others (the candidates J) are recomputed.  The true margin then lies in
    ``[min(lo_J, L_out), min(hi_J, U_out)]``, ``L_out, U_out = min_{j not in J}
    (dhat_j -+ E_j)``.
    """
    xp = ev.xp
    with np.errstate(all="ignore"):
        dh, eb = ev.differences(xp.asarray(keys, dtype=np.float64), xp.asarray(targets))
    cand = [np.flatnonzero(~(dh[r] > eb[r])) for r in range(len(idx))]
    out_lo: list[Fraction | None] = []
    out_hi: list[Fraction | None] = []
    for r in range(len(idx)):
        outside = np.isfinite(dh[r]) & (dh[r] > eb[r])
        if outside.any():
            j = int(np.flatnonzero(outside)[np.argmin(dh[r][outside])])  # dhat -+ E increase with dhat
            out_lo.append(_frac(dh[r, j]) - _frac(eb[r, j]))
            out_hi.append(_frac(dh[r, j]) + _frac(eb[r, j]))
        else:
            out_lo.append(None)
            out_hi.append(None)
    need = [r for r in range(len(idx)) if cand[r].size]
    balls: dict[int, tuple[Fraction, Fraction] | None] = {r: None for r in need}
    precisions = _PRECISIONS if exact.activation in ("silu", "gelu") else _PRECISIONS[:1]
    todo = need
    for prec in precisions:
        if not todo:
            break
        deadline = time.monotonic() + _SECONDS_PER_FACT * len(todo)
        res = exact.margins(keys[todo], targets[todo], [cand[r] for r in todo], prec=prec, deadline=deadline)
        still = []
        for r, enc in zip(todo, res, strict=True):
            if enc is not None:
                balls[r] = _ball_bounds(enc.lo, enc.hi, enc.scale)
            bounds_r = balls[r]
            if bounds_r is None or not (bounds_r[0] > 0 or bounds_r[1] <= 0):
                still.append(r)
        todo = still
    for r, i in enumerate(idx):
        i = int(i)
        ball = balls.get(r)
        if cand[r].size and ball is None:
            undecided.append(i)  # enclosure not finite: margins / bounds stay the float ones
            continue
        lows = [q for q in (out_lo[r], ball[0] if ball else None) if q is not None]
        highs = [q for q in (out_hi[r], ball[1] if ball else None) if q is not None]
        lower, upper = min(lows), min(highs)
        margins[i], bounds[i] = _summarize(lower, upper)
        if lower > 0:
            stored[i] = True
            recomputed.append(i)
        elif upper <= 0:
            negative[i] = upper < 0
            recomputed.append(i)
        else:
            undecided.append(i)
