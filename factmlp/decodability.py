"""Exact decodability rho of value embeddings, with certificates.

For values ``V`` (N x d) and a value ``j`` let, for every ``l != j``,
``w_l = (v_j - v_l) / ||v_j - v_l||`` (unit differences).  Then

    rho_j = max_{||u|| <= 1} min_{l != j} <w_l, u>,      rho(V) = min_{j in J} rho_j

over the requested indices ``J``.  By minimax duality (the max-min of
linear functions over the unit ball against the simplex),
``rho_j = dist(0, conv{w_l}) = min_{lambda in simplex} ||W^T lambda||``
when the origin is not in the hull, and ``rho_j = 0`` otherwise; the
maximiser is ``u*_j = W^T lambda* / ||W^T lambda*||``.  ``rho_j > 0`` iff
``v_j`` is a vertex of ``conv(V)`` distinct from every other value.

Certificate per value: a unit-ball ``u`` gives the lower bound
``min_l <w_l, u>`` (over all ``l``), a simplex ``lambda`` the upper bound
``||W^T lambda||`` (weak duality), both evaluated with a rigorous
floating-point allowance (see ``docs/decodability.md``).

Algorithm: Wolfe's min-norm-point algorithm (:mod:`factmlp._minnorm`) on a
candidate set of near neighbours, checked against all ``N - 1`` differences
in batched matrix products (through the ``xp`` namespace), violators added
and the problem re-solved from a warm start until the bracket closes.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._fpenv import check_subnormals
from ._minnorm import wolfe_gram
from .errors import (
    DTypeError,
    EmptyInputError,
    InvalidInputError,
    MappingRangeError,
    ShapeError,
    ValueRangeError,
    format_indices,
)
from .validation import check_matrix, check_positive_int
from .workers import default_workers
from .xp import namespace, to_numpy

__all__ = ["DecodabilityResult", "decodability", "rho", "find_duplicates"]

_EPS = 2.0**-53  # unit roundoff of float64
_ZERO_NORM = 1e-13  # ||x|| below this: the origin is in the hull up to rounding
_SMALL_SQ = 2.0**-900  # squared difference norms below this are recomputed after exact rescaling
MIN_SHARE = 1024  # values per process below which the default worker count does not split (fork ~0.3 s)
_UNDERFLOW = 2.0**-100  # allowance for underflow in scores / norms of rescaled differences (d < 2**70)


def _gamma(n: int) -> float:
    """Higham's ``gamma_n = n u / (1 - n u)`` for float64."""
    return n * _EPS / (1.0 - n * _EPS)


@dataclass(frozen=True)
class DecodabilityResult:
    """Decodability of every requested value, with certificates.

    Arrays have length N (the number of values); entries of values not
    requested are NaN (``rho_per_value``, ``lower``, ``upper``), zero rows
    (``directions``) or False (``vertex``).

    ``rho_per_value[j]`` is the solver's value of ``rho_j`` for certified
    vertices (it lies in ``[lower[j], upper[j]]``) and 0.0 for values that are
    not certified vertices; ``rho`` is the minimum over ``indices`` (0.0 if any
    requested value is not a certified vertex).
    """

    rho: float
    rho_per_value: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    directions: np.ndarray
    vertex: np.ndarray
    duplicate_of: np.ndarray
    indices: np.ndarray
    tol: float
    support: tuple = field(default=(), repr=False)
    weights: tuple = field(default=(), repr=False)

    def _check_requested(self, j: int) -> int:
        j = int(j)
        n = self.rho_per_value.shape[0]
        if not 0 <= j < n:
            raise MappingRangeError(f"value index {j} outside [0, {n})", indices=[j])
        pos = np.searchsorted(self.indices, j)
        if pos >= len(self.indices) or self.indices[pos] != j:
            raise InvalidInputError(f"value {j} was not among the requested indices", indices=[j])
        return j

    def certificate(self, j: int) -> dict:
        """The certificate of value ``j``.

        ``{"value": j, "u": list (d,), "lower": float, "upper": float,
        "support": [l...], "weights": [lambda_l...]}``: ``min_l <w_l, u>``
        over all ``l != j`` is at least ``lower`` (u in the unit ball), and
        ``||sum_l lambda_l w_l||`` is at most ``upper`` (lambda in the simplex).
        For a duplicate value the support is the duplicate and bounds are 0.
        """
        j = self._check_requested(j)
        return {
            "value": j,
            "u": self.directions[j].tolist(),
            "lower": float(self.lower[j]),
            "upper": float(self.upper[j]),
            "support": [int(i) for i in self.support[j]],
            "weights": [float(w) for w in self.weights[j]],
        }

    def non_vertices(self) -> np.ndarray:
        """Requested indices that are not certified vertices (``lower <= 0``)."""
        return self.indices[~self.vertex[self.indices]]


def find_duplicates(values: np.ndarray) -> np.ndarray:
    """``dup[j]`` = the smallest other index whose row equals row ``j`` exactly, else -1.

    Rows are compared as real numbers (``-0.0 == 0.0``). Shape (N,) int64.
    """
    v = np.asarray(values, dtype=np.float64) + 0.0  # turns -0.0 into +0.0
    n = v.shape[0]
    dup = np.full(n, -1, dtype=np.int64)
    order = np.lexsort(v.T[::-1])
    sv = v[order]
    same = np.all(sv[1:] == sv[:-1], axis=1)
    i = 0
    while i < n:
        e = i
        while e + 1 < n and same[e]:
            e += 1
        if e > i:
            members = np.sort(order[i : e + 1])
            first, second = members[0], members[1]
            dup[members] = first
            dup[first] = second
        i = e + 1
    return dup


def _check_indices(indices: Any, n: int) -> np.ndarray:
    if indices is None:
        return np.arange(n, dtype=np.int64)
    try:
        arr = np.asarray(indices)
    except Exception as exc:  # pragma: no cover - ragged input
        raise ShapeError(f"indices: cannot be read as an array ({exc})") from exc
    if arr.size == 0:
        raise EmptyInputError("indices: at least one value index is required")
    if arr.dtype.kind not in "iu":
        raise DTypeError(f"indices: expected integers, got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise ShapeError(f"indices: expected a 1-D array, got shape {arr.shape}")
    arr = arr.astype(np.int64)
    bad = np.flatnonzero((arr < 0) | (arr >= n))
    if bad.size:
        raise MappingRangeError(
            f"indices: entries {format_indices(arr[bad].tolist())} outside [0, {n})", indices=arr[bad].tolist()
        )
    return np.unique(arr)


def unit_scale(values: np.ndarray, name: str = "values") -> tuple[np.ndarray, int]:
    """``(V * 2**-e, e)`` with ``max |V * 2**-e|`` in ``[1, 2)``, exactly.

    rho is scale-invariant and scaling by a power of two is exact (no
    rounding) unless an entry becomes subnormal and loses bits, so the
    scaled values have exactly the rho of ``V`` and every quantity computed
    from them is the same for ``V * 2**k`` as for ``V``.  Raises
    :class:`ValueRangeError` naming the rows that would lose bits (entries
    below about ``2**-1022`` times the largest entry, with low-order bits
    set), and returns ``(V, 0)`` for an all-zero ``V``.
    """
    amax = float(np.max(np.abs(values)))
    if amax == 0.0:
        return values, 0
    e = int(np.frexp(amax)[1]) - 1
    with np.errstate(under="ignore"):
        scaled = np.ldexp(values, -e)
        if e > 0:  # scaling down can round entries that become subnormal
            bad = ~(np.ldexp(scaled, e) == values).all(axis=1)
            if bad.any():
                rows = np.flatnonzero(bad).tolist()
                raise ValueRangeError(
                    f"{name}: rows {format_indices(rows)} hold entries more than about 2^1022 times smaller "
                    f"than the largest entry ({amax:.3g}); rescaled to unit size they are not float64 numbers "
                    f"exactly, so rho cannot be certified (round these entries to 0 first)",
                    indices=rows,
                )
    return scaled, e


def _unit_rows(dv: np.ndarray) -> np.ndarray:
    """Rows ``dv_l / ||dv_l||`` (no row may be 0), each row prescaled by a power of two.

    ``dv_l * 2**(1 - e_l)`` has max-abs in ``[1, 2)``, hence its squared norm
    is >= 1 and cannot underflow or overflow.  The scaling is exact except
    that a subnormal component may lose its last bit when ``|dv| >= 2``
    (scaled down by 2): an absolute ``2**-1075`` against a norm >= 1, inside
    the ``_UNDERFLOW`` allowance.
    """
    e = np.frexp(np.max(np.abs(dv), axis=1))[1]
    with np.errstate(under="ignore"):
        ds = np.ldexp(dv, (1 - e)[:, None])
        return ds / np.sqrt(np.einsum("ld,ld->l", ds, ds))[:, None]


def _unit_diffs(v: np.ndarray, j: int, idx: np.ndarray) -> np.ndarray:
    """Rows ``(v_j - v_l) / ||v_j - v_l||`` for ``l`` in ``idx`` (none may equal ``j``'s row)."""
    return _unit_rows(v[j] - v[idx])


def _explicit_pair_scores(v: np.ndarray, jrows: np.ndarray, lcols: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``q_k = <v_{j_k} - v_{l_k}, u_k> / ||v_{j_k} - v_{l_k}||`` by explicit differences (host).

    Pairs with ``v_l == v_j`` get +inf.  Each finite score is within
    ``2 gamma_{d+6} max(1, ||u||)`` of the true ``<w_l, u>`` (the allowance of
    :func:`_lower_bound`); differences whose plain squared norm is below
    ``2**-900`` are rescaled exactly first (:func:`_unit_rows`).
    """
    d = v.shape[1]
    out = np.empty(len(jrows))
    step = max(1, (1 << 22) // max(1, d))
    for s in range(0, len(jrows), step):
        diff = v[jrows[s : s + step]] - v[lcols[s : s + step]]
        ub = u[s : s + step]
        num = np.einsum("kd,kd->k", diff, ub)
        den2 = np.einsum("kd,kd->k", diff, diff)
        den = np.sqrt(den2)
        q = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.inf)
        small = np.flatnonzero(den2 < _SMALL_SQ)
        if small.size:
            nz = small[np.any(diff[small] != 0, axis=1)]
            if nz.size:
                q[nz] = np.einsum("kd,kd->k", _unit_rows(diff[nz]), ub[nz])
        out[s : s + step] = q
    return out


_BLOCK_ENTRIES = 1 << 20  # (B, N) entries per batched check: 8 MiB per float64 block (measured: 1 << 18..22)
_TINY = 2.0**-1000  # absolute allowance for underflow in a length-d dot product (d 2**-1074 <= 2**-1000)


def _num_d2(xp, vx, sq, js: np.ndarray, ux):
    """Gram-trick ``num[b, l] = <v_j, u_b> - <v_l, u_b>`` and ``d2[b, l] = ||v_j||^2 + ||v_l||^2 - 2 <v_j, v_l>``.

    ``xp`` arrays of shape (B, N), ``j = js[b]``; computed in place (two
    products, four elementwise passes).
    """
    jx = xp.asarray(js)
    vj = vx[jx]
    num = ux @ vx.T
    xp.subtract(xp.sum(vj * ux, axis=1)[:, None], num, out=num)
    d2 = vj @ vx.T
    d2 *= -2.0
    d2 += sq[None, :]
    d2 += sq[jx][:, None]
    return num, d2


def _gram_clears(xp, vx, sq, js: np.ndarray, ux, thr: np.ndarray) -> np.ndarray:
    """Host bool (B, N): True where ``<w_l, u_b> >= thr[b]`` is proved through the Gram trick (``thr[b] > 0``).

    With ``A >= max_l ||v_l||``, ``a_j >= ||v_j||`` and ``U_b >= ||u_b||``
    (computed upper bounds), the computed numerator ``num`` is within
    ``E_num = gamma_{d+2} (a_j + A) U_b + 4 t`` of ``<v_j - v_l, u_b>`` and the
    computed ``d2`` within ``E_d2 = gamma_{d+3} (a_j + A)^2 + 8 t`` of
    ``||v_j - v_l||^2`` (standard model, any summation order, ``t = 2**-1000``
    for underflow).  So ``n = fl(num - E_num) >= 0`` and
    ``n^2 >= thr^2 (d2 + E_d2) (1 + 16 u)`` prove ``<w_l, u_b> >= thr`` (the
    factor covers the roundings of the test itself).  Column ``l = j`` and
    duplicates of ``v_j`` never clear (their ``d2`` is about 0 and ``n < 0``).
    """
    d = vx.shape[1]
    jx = xp.asarray(js)
    a = xp.sqrt(sq + _TINY) * (1 + _gamma(d + 4))
    aj_max = a[jx] + xp.max(a)
    unorm = xp.sqrt(xp.sum(ux * ux, axis=1) + _TINY) * (1 + _gamma(d + 4))
    e_num = (_gamma(d + 2) * aj_max * unorm + 4 * _TINY) * (1 + 8 * _EPS)
    e_d2 = (_gamma(d + 3) * aj_max * aj_max + 8 * _TINY) * (1 + 8 * _EPS)
    t2 = xp.asarray(thr) ** 2 * (1 + 16 * _EPS)
    num, d2 = _num_d2(xp, vx, sq, js, ux)
    num -= e_num[:, None]
    d2 += e_d2[:, None]
    d2 *= t2[:, None]
    ok = num >= 0
    num *= num
    ok &= num >= d2
    return to_numpy(ok)


def _certified_scores(xp, vx, v: np.ndarray, sq, js: np.ndarray, u: np.ndarray, thr: np.ndarray) -> np.ndarray:
    """Lower bounds ``q[b, l]`` for the certificate of ``j = js[b]`` with direction ``u[b]`` (host, (B, N)).

    Where :func:`_gram_clears` proves ``<w_l, u_b> >= thr[b]``, ``q[b, l] =
    thr[b]`` (a rigorous lower bound); everywhere else ``q[b, l]`` is the
    explicit-difference score (:func:`_explicit_pair_scores`, within the
    allowance of :func:`_lower_bound`).  Hence ``min_l q[b, l] - allowance``
    is a rigorous lower bound on ``min_l <w_l, u_b>``, and with ``thr[b] =
    ||x_b||`` (the solver's value, never below the true minimum score) it is
    the bound from explicit differences over all pairs.  A row with
    ``thr[b] <= 0`` (the origin in the hull: no bound wanted) is ``-inf``.
    Cost: two ``(B, N)`` products plus ``O(d)`` per explicit pair.
    """
    q = np.full((len(js), v.shape[0]), -np.inf)
    rows = np.flatnonzero(thr > 0)
    if rows.size:
        clear = _gram_clears(xp, vx, sq, js[rows], xp.asarray(u[rows]), thr[rows])
        q[rows] = thr[rows][:, None]
        rb, rn = np.nonzero(~clear)
        if rb.size:
            q[rows[rb], rn] = _explicit_pair_scores(v, js[rows[rb]], rn, u[rows[rb]])
    return q


def _approx_violators(xp, vx, sq, js: np.ndarray, ux, thr: np.ndarray):
    """Pairs with ``<w_l, u_b> < thr[b]`` by the Gram trick (fast, not rigorous; ``l = j`` excluded).

    Returns host ``(rows, cols, scores)``: ``num < 0`` or ``num^2 < thr^2 d2``
    (:func:`_num_d2`), with the approximate score ``num / sqrt(d2)`` of each.
    """
    num, d2 = _num_d2(xp, vx, sq, js, ux)
    t2 = xp.asarray(thr) ** 2
    bad = num < 0
    bad |= num * num < d2 * t2[:, None]
    bad[xp.arange(len(js)), xp.asarray(js)] = False
    rb, rn = (to_numpy(x) for x in xp.nonzero(bad))
    nb, db = to_numpy(num[bad]), to_numpy(d2[bad])
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(db > 0, nb / np.sqrt(np.maximum(db, 0.0)), -np.inf)
    return rb, rn, q


class _State:
    """Per-value solver state: candidate indices, support positions, weights."""

    __slots__ = ("cand", "supp", "lam", "x", "nx", "done")

    def __init__(self, cand: np.ndarray) -> None:
        self.cand = cand
        self.supp: np.ndarray | None = None
        self.lam: np.ndarray | None = None
        self.x: np.ndarray = np.zeros(0)  # the min-norm point, set by _solve
        self.nx = np.nan
        self.done = False


def _solve(v: np.ndarray, j: int, st: _State) -> None:
    wc = _unit_diffs(v, j, st.cand)
    g = wc @ wc.T
    supp, lam, _ = wolfe_gram(g, st.supp, st.lam)
    st.supp, st.lam = supp, lam
    x = lam @ wc[supp]
    st.x = x
    st.nx = float(np.sqrt(x @ x))


def _add_candidates(st: _State, new: np.ndarray) -> bool:
    new = np.setdiff1d(new, st.cand, assume_unique=False)
    if new.size == 0:
        return False
    st.cand = np.concatenate([st.cand, new])
    return True


def _upper_bound(v: np.ndarray, j: int, gidx: np.ndarray, lam: np.ndarray) -> float:
    """Rigorous upper bound on ``||sum_l lambda_l w_l|| / sum_l lambda_l`` (true reals).

    Computed ``w_l`` is within ``gamma_{d+4}`` of the true unit vector in norm;
    the weighted sum adds ``gamma_s`` times ``sum lambda``; the norm and the
    weight sum each a relative ``gamma``.  Capped at 1 (a single ``w_l``).
    """
    d = v.shape[1]
    s = max(len(gidx), 1)
    w = _unit_diffs(v, j, gidx)
    x = lam @ w
    nx = float(np.sqrt(x @ x))
    tot = float(lam.sum())
    ub = (nx * (1 + _gamma(d + 2)) + tot * (_gamma(d + 4) + 2 * _gamma(s) + _UNDERFLOW)) / (tot * (1 - _gamma(s)))
    ub *= 1 + 8 * _EPS
    return min(ub, 1.0)


def _lower_bound(qmin: float, d: int, unorm: float) -> float:
    """Rigorous lower bound on ``max_{||u||<=1} min_l <w_l, u>`` from computed scores.

    Each computed score ``fl(<fl(v_j - v_l), u>) / fl(||fl(v_j - v_l)||)`` is
    within ``2 gamma_{d+6} max(1, ||u||)`` of the true ``<w_l, u>``; ``u`` is
    scaled into the unit ball by its norm, bounded above by
    ``unorm (1 + gamma_{d+2})``.  ``u = 0`` gives 0, so the bound is >= 0.
    """
    allowance = (2 * _gamma(d + 6) + _UNDERFLOW) * max(1.0, unorm * (1 + _gamma(d + 2)))
    val = qmin - allowance
    if val <= 0:
        return 0.0
    val = val / (unorm * (1 + _gamma(d + 2)) if unorm > 0 else 1.0)
    return max(0.0, val * (1 - 4 * _EPS))


def decodability(
    values: Any, indices: Any = None, *, tol: float = 1e-9, backend: str = "numpy", workers: int | None = None
) -> DecodabilityResult:
    """Exact decodability ``rho_j`` of the requested values, with certificates.

    Parameters
    ----------
    values : (N, d) real floating array (float32 accepted; computed in float64), N >= 2.
    indices : value indices ``J`` to evaluate (default: all); ``rho = min_{j in J} rho_j``.
    tol : relative width of the certified bracket, ``upper - lower <= tol * upper``
        (met for every certified vertex unless ``rho_j`` is so small that the
        float64 rounding allowance, about ``(d+6) 2^-52``, exceeds it).
    backend : array namespace of the batched checks (``"numpy"``, ``"cupy"``, ``"auto"``).
    workers : processes to split ``J`` over (``rho_j`` is independent per value; each
        process solves a contiguous share of ``J`` against all N values and the
        results are merged).  1 runs in this process; ``None`` (default) takes
        :func:`factmlp.workers.default_workers` (a ``factmlp.parallel(n)``
        block, else ``$FACTMLP_WORKERS``, else 1), capped so that every
        process gets at least ``MIN_SHARE`` values.

    Returns
    -------
    :class:`DecodabilityResult`.

    Math: ``rho_j = max_{||u||<=1} min_{l != j} <w_l, u> = dist(0, conv{w_l})``
    (0 when the origin is in the hull), ``w_l = (v_j - v_l)/||v_j - v_l||``.
    """
    v = check_matrix(values, "values", min_rows=2, dtype=np.float64)
    check_subnormals("decodability")
    if not isinstance(tol, (int, float, np.floating, np.integer)) or isinstance(tol, bool) or not (0 < float(tol) < 1):
        raise InvalidInputError(f"tol must be a number in (0, 1), got {tol!r}")
    tol = float(tol)
    n, d = v.shape
    idx = _check_indices(indices, n)
    if workers is None:  # the library-wide default: split only shares worth a process start (~0.3 s)
        workers = max(1, min(default_workers(), idx.size // MIN_SHARE))
    workers = check_positive_int(workers, "workers")
    if workers > 1 and idx.size > 1:
        return _decodability_split(v, idx, tol, backend, min(workers, idx.size))
    xp = namespace(backend)

    dup = find_duplicates(v)
    v, _ = unit_scale(v)  # exact: the same rho, and identical numbers for V * 2**k
    rho_pv = np.full(n, np.nan)
    lower = np.full(n, np.nan)
    upper = np.full(n, np.nan)
    dirs = np.zeros((n, d))
    vertex = np.zeros(n, dtype=bool)
    support: list = [np.zeros(0, dtype=np.int64) for _ in range(n)]
    weights: list = [np.zeros(0) for _ in range(n)]

    for j in idx[dup[idx] >= 0]:
        rho_pv[j] = lower[j] = upper[j] = 0.0
        support[j] = np.array([dup[j]], dtype=np.int64)
        weights[j] = np.ones(1)

    active = idx[dup[idx] < 0]
    if active.size:
        vx = xp.asarray(v)
        sq = xp.sum(vx * vx, axis=1)
        k0 = min(n - 1, max(32, (d + 1) // 4))
        n_add = max(d + 1, 16)
        states: dict[int, _State] = {}
        block = max(1, _BLOCK_ENTRIES // n)
        for s in range(0, active.size, block):
            js = active[s : s + block]
            jx = xp.asarray(js)
            d2 = to_numpy(sq[jx][:, None] + sq[None, :] - 2.0 * (vx[jx] @ vx.T))
            d2[np.arange(len(js)), js] = np.inf
            if k0 < n - 1:
                part = np.argpartition(d2, k0, axis=1)[:, :k0]
            else:
                part = np.tile(np.arange(n), (len(js), 1))
            for b, j in enumerate(js):
                c = part[b]
                c = c[c != j]
                states[int(j)] = _State(np.sort(c).astype(np.int64))

        open_js = active.copy()
        for _outer in range(6):
            # inner rounds: solve, cheap batched check, add violators
            for _round in range(20):
                for j in open_js:
                    _solve(v, int(j), states[int(j)])
                chk = np.array([j for j in open_js if states[int(j)].nx > _ZERO_NORM], dtype=np.int64)
                nxt = []
                cb = max(1, _BLOCK_ENTRIES // n)
                for s in range(0, chk.size, cb):
                    js = chk[s : s + cb]
                    u = np.stack([states[int(j)].x / states[int(j)].nx for j in js])
                    thr = np.array([states[int(j)].nx * (1 - tol / 4) for j in js])
                    rb, rn, qv = _approx_violators(xp, vx, sq, js, xp.asarray(u), thr)
                    starts = np.searchsorted(rb, np.arange(len(js) + 1))
                    for b, j in enumerate(js):
                        lo, hi = starts[b], starts[b + 1]
                        if hi > lo:
                            bad = rn[lo:hi][np.argsort(qv[lo:hi], kind="stable")[:n_add]]
                            if _add_candidates(states[int(j)], bad):
                                nxt.append(int(j))
                open_js = np.array(nxt, dtype=np.int64)
                if open_js.size == 0:
                    break
            # rigorous certificate for every active value not yet final
            todo = np.array([j for j in active if not states[int(j)].done], dtype=np.int64)
            reopen = []
            cert_rows = max(1, _BLOCK_ENTRIES // n)
            for s in range(0, todo.size, cert_rows):
                js = todo[s : s + cert_rows]
                u = np.zeros((len(js), d))
                for b, j in enumerate(js):
                    st = states[int(j)]
                    if st.nx > _ZERO_NORM:
                        u[b] = st.x / st.nx
                below = np.array([states[int(j)].nx if states[int(j)].nx > _ZERO_NORM else -np.inf for j in js])
                q = _certified_scores(xp, vx, v, sq, js, u, below)
                for b, j in enumerate(js):
                    j = int(j)
                    st = states[j]
                    assert st.lam is not None  # every active value was solved in the first inner round
                    gidx = st.cand[st.supp]
                    ub = _upper_bound(v, j, gidx, st.lam)
                    zero = st.nx <= _ZERO_NORM
                    unorm = float(np.sqrt(u[b] @ u[b]))
                    lb = 0.0 if zero else _lower_bound(float(np.min(q[b])), d, unorm)
                    lb = min(lb, ub)
                    lower[j], upper[j] = lb, ub
                    support[j], weights[j] = gidx, st.lam / st.lam.sum()
                    if lb > 0:
                        vertex[j] = True
                        dirs[j] = u[b]
                        rho_pv[j] = min(max(st.nx, lb), ub)
                    else:
                        rho_pv[j] = 0.0
                    closed = (ub - lb) <= tol * ub
                    if closed or zero:
                        st.done = True
                    else:
                        bad = np.flatnonzero(q[b] < st.nx * (1 - tol / 4))
                        bad = bad[np.argsort(q[b, bad])[:n_add]]
                        if _outer >= 4:  # last resort: every difference
                            bad = np.setdiff1d(np.arange(n), np.concatenate([[j], np.flatnonzero(dup == j)]))
                        if _add_candidates(st, bad):
                            reopen.append(j)
                        else:
                            st.done = True  # nothing left to add: floating-point limit
            open_js = np.array(reopen, dtype=np.int64)
            if open_js.size == 0:
                break

    return _result(rho_pv, lower, upper, dirs, vertex, dup, idx, tol, support, weights)


def _result(rho_pv, lower, upper, dirs, vertex, dup, idx, tol, support, weights) -> DecodabilityResult:
    """The result from per-value arrays: ``rho = min_{j in J} rho_j``, 0.0 unless every ``j`` is a certified vertex."""
    rho_val = float(np.min(rho_pv[idx])) if np.all(vertex[idx]) else 0.0
    return DecodabilityResult(
        rho=rho_val,
        rho_per_value=rho_pv,
        lower=lower,
        upper=upper,
        directions=dirs,
        vertex=vertex,
        duplicate_of=dup,
        indices=idx,
        tol=tol,
        support=tuple(support),
        weights=tuple(weights),
    )


def _decodability_split(v: np.ndarray, idx: np.ndarray, tol: float, backend: str, workers: int) -> DecodabilityResult:
    """:func:`decodability` of ``J = idx`` split into ``workers`` contiguous shares, one process each.

    Processes are forked where the platform can (so a script needs no
    ``if __name__ == "__main__"`` guard), spawned elsewhere; each runs at most
    ``cpu_count // workers`` BLAS threads (when threadpoolctl is installed).

    Every share is solved against all N values, so each ``rho_j`` and its
    certificate are those of a single-process run on that share; the per-value
    arrays are merged and ``rho = min_{j in J} rho_j`` (0.0 unless every
    requested value is a certified vertex).
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    shares = np.array_split(idx, workers)
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method)) as pool:
        blas = max(1, (os.cpu_count() or 1) // workers)
        parts = list(pool.map(_share, [(v, sh, tol, backend, blas) for sh in shares]))
    first = parts[0]
    rho_pv, lower, upper = first.rho_per_value.copy(), first.lower.copy(), first.upper.copy()
    dirs, vertex = first.directions.copy(), first.vertex.copy()
    support, weights = list(first.support), list(first.weights)
    for sh, part in zip(shares[1:], parts[1:], strict=True):
        for arr, src in ((rho_pv, part.rho_per_value), (lower, part.lower), (upper, part.upper), (vertex, part.vertex)):
            arr[sh] = src[sh]
        dirs[sh] = part.directions[sh]
        for j in sh:
            support[j], weights[j] = part.support[j], part.weights[j]
    return _result(rho_pv, lower, upper, dirs, vertex, first.duplicate_of, idx, tol, support, weights)


def _share(args: tuple) -> DecodabilityResult:
    """One share, with at most ``blas`` BLAS threads (the cores divided among the workers; threadpoolctl)."""
    v, share, tol, backend, blas = args
    try:
        from threadpoolctl import threadpool_limits

        limit: Any = threadpool_limits(limits=blas, user_api="blas")
    except ImportError:  # without threadpoolctl the BLAS keeps its own thread count
        limit = contextlib.nullcontext()
    with limit:
        return decodability(v, share, tol=tol, backend=backend, workers=1)


def rho(values: Any, indices: Any = None, *, tol: float = 1e-9) -> float:
    """``rho(V) = min_{j in J} rho_j(V)`` (0.0 if some requested value is not a certified vertex)."""
    return decodability(values, indices, tol=tol).rho
