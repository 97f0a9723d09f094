"""Exact and interval recomputation of margins, on the host (used by :mod:`factmlp.verify`).

Every finite float is a dyadic rational ``M * 2**e`` with an integer M.  A
matrix of floats is held here as Python integers over one common power of
two, ``A = A_int * 2**e_A`` (:func:`dyadic`), so sums and products of such
matrices are exact integer arithmetic: this *is* rational arithmetic on
dyadic rationals (what ``fractions.Fraction`` would do, without the gcds).

For an MLP ``g(x) = W_down (act(W_gate x) * (W_up x))`` and a key ``x``:

* ``a = W_gate x``, ``b = W_up x`` are computed exactly;
* ``act(a)`` is exact for ``identity`` and ``relu``; for ``silu`` it is
  enclosed with ``mpmath.iv`` interval arithmetic (``x / (1 + exp(-x))``, exp
  by ``iv.exp``) and for ``gelu`` by mpmath's ``erfc`` at working precision
  with a padded enclosure (see :func:`activation_enclosure`);
* each enclosure ``[lo, hi]`` is written as a midpoint-radius ball
  ``mid +- rad`` with dyadic (exact) mid and rad, and carried exactly through
  ``p = act(a) * b``, ``y = W_down p`` and ``mu_j = <y, v_t - v_j>``:
  ``mid(mu_j) = <W_down (mid * b), v_t - v_j>`` and
  ``rad(mu_j) = <|W_down| (rad * |b|), |v_t - v_j|>``, exact integers.

The true ``mu_j`` then lies in ``[mid - rad, mid + rad]`` (radius 0 for the
exact activations).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["dyadic", "ExactMLP", "activation_enclosure", "GELU_PAD_BITS", "MAX_BITS"]

# The enclosure of gelu pads mpmath's result by 2**-(prec - GELU_PAD_BITS), relative.
GELU_PAD_BITS = 24
# Digit cap: an activation enclosure whose integers would exceed this many bits is given up (undecided).
MAX_BITS = 1 << 16


def dyadic(a: np.ndarray) -> tuple[np.ndarray, int]:
    """Exact integer form of a float array: ``a == A_int * 2**e`` elementwise.

    Returns ``(A_int, e)`` with ``A_int`` an object array of Python ints of the
    shape of ``a`` and ``e`` the common exponent (trailing zero bits removed
    first, so the integers stay small).  ``a`` must be finite.
    """
    a = np.asarray(a, dtype=np.float64)
    frac, ex = np.frexp(a)
    man = (frac * 2.0**53).astype(np.int64)  # exact: |frac| < 1 has 53 bits
    exp = ex.astype(np.int64) - 53
    nz = man != 0
    if not nz.any():
        return np.zeros(a.shape, dtype=object), 0
    low = man[nz] & -man[nz]  # lowest set bit of |man|
    tz = np.rint(np.log2(low.astype(np.float64))).astype(np.int64)
    man[nz] >>= tz
    exp[nz] += tz
    e0 = int(exp[nz].min())
    exp[~nz] = e0
    out = man.astype(object) << (exp - e0).astype(object)
    return out, e0


def _obj_abs(a: np.ndarray) -> np.ndarray:
    return np.abs(a).astype(object)


def _mpf_int_exp(t: tuple) -> tuple[int, int] | None:
    """``(sign, man, exp, bc)`` mpf tuple -> ``(m, e)`` with value ``m * 2**e``; None if inf/nan."""
    sign, man, exp, bc = t
    if man == 0:
        if bc == 0 and exp == 0:
            return 0, 0  # zero
        return None  # inf / nan
    return (-man if sign else man), int(exp)


def _bits_exp(m: int, e: int) -> float:
    """An upper bound ``log2 |m 2**e| <= result`` (``-inf`` for 0): ``bitlen(m) + e``."""
    return float("-inf") if m == 0 else m.bit_length() + e if m > 0 else (-m).bit_length() + e


def _floor_div_pow2(m: int, e: int, f: int) -> int:
    """``floor(m 2**e / 2**f)`` without forming huge shifts."""
    if e >= f:
        return m << (e - f)
    s = f - e
    if s > abs(m).bit_length() + 1:
        return 0 if m >= 0 else -1
    return m >> s


# An endpoint is (m, e, t): the number m 2**e - 2**t (t None: m 2**e), t a (possibly huge) negative exponent.
_Endpoint = tuple


def _endpoint_mag(p: _Endpoint) -> float:
    m, e, t = p
    return max(_bits_exp(m, e), float("-inf") if t is None else t + 1)


def _round_down(p: _Endpoint, f: int) -> int:
    """``floor(p / 2**f)`` for an endpoint ``p``."""
    m, e, t = p
    if t is None:
        return _floor_div_pow2(m, e, f)
    if t < f:  # 0 < 2**t < 2**f: one grid step down covers it
        return _floor_div_pow2(m, e, f) - 1
    e0 = min(e, t)
    return _floor_div_pow2((m << (e - e0)) - (1 << (t - e0)), e0, f)


def _round_up(p: _Endpoint, f: int) -> int:
    m, e, t = p
    assert t is None  # upper endpoints never carry a subtracted tail
    return -_floor_div_pow2(-m, e, f)


def _abs_floor(e_a: int, prec: int) -> int:
    """Absolute grid floor ``min(e_a, 0) - 2 prec - 64 - 6144`` of activation enclosures.

    Below every exact silu / gelu value of a non-tail argument that matters
    for identity-like scales (``|silu(a)| >= 2**-5920`` for ``-2**12 < a``
    not tiny; ``|act(a)| ~ |a| / 2`` for tiny ``a >= 2**e_a``), it keeps the
    exponents, hence the Fractions built from them, bounded even when
    ``act(a)`` is ``2**-(10**20)``.
    """
    return min(e_a, 0) - 2 * prec - 64 - 6144


def _tail_limits(name: str, prec: int) -> tuple[int, int]:
    """``(T_pos, T_neg)``: ``a >= T_pos`` and ``a <= -T_neg`` use the analytic tail enclosures.

    At ``T_pos`` the tail term is below ``2**-(2 prec)`` relative, so nothing is lost
    against the ``prec``-bit evaluation; ``T_neg = 2**12`` keeps mpmath away from
    results below ``2**-5900`` (silu) or ``2**-(1.2e7)`` (gelu).
    """
    if name == "silu":
        return 2 * prec, 1 << 12
    return math.isqrt(3 * prec) + 2, 1 << 12


def _tail_enclosure(name: str, m: int, e: int) -> tuple[_Endpoint, _Endpoint]:
    """Enclosure of ``act(a)``, ``a = m 2**e`` with ``|a| >= 2``, from tail bounds only.

    With ``n = floor(|a|) >= 2``:

    * silu, ``a > 0``: ``silu(a) = a - a e^-a / (1 + e^-a)`` lies in
      ``[a - n' e^-n', a]`` where ``x e^-x`` decreases for ``x > 1``, and
      ``n e^-n <= 2**(bitlen(n) - floor(1.4426 n))`` (``1.4426 < log2 e``);
    * silu, ``a < 0``: ``silu(a) = a e^a / (1 + e^a)`` lies in ``[a e^a, 0]``,
      the same bound;
    * gelu, ``a > 0``: ``gelu(a) = a - a Phi(-a)`` in ``[a - phi(a), a]``
      (Mills: ``a Phi(-a) <= phi(a)``), ``phi(a) <= e^{-n^2/2} <=
      2**-floor(0.7213 n^2)`` (``0.7213 < log2(e) / 2``);
    * gelu, ``a < 0``: ``gelu(a) = -|a| Phi(-|a|)`` in ``[-phi(a), 0]``.

    No exponential is evaluated: the bounds are integer exponents.
    """
    n = _floor_div_pow2(abs(m), e, 0)
    if name == "silu":
        t = n.bit_length() - (n * 14426) // 10000
    else:
        t = -((n * n * 7213) // 10000)
    t = max(t, -(1 << 40))  # a weaker bound, still far below every grid floor; keeps t a float-sized int
    if m > 0:
        return (m, e, t), (m, e, None)
    return (0, 0, t), (0, 0, None)


def activation_enclosure(
    name: str, a_int: np.ndarray, e_a: int, prec: int, weight_exp: Sequence[float] | None = None
) -> tuple[np.ndarray, np.ndarray, int] | None:
    """Enclose ``act(a)`` for exact ``a = a_int * 2**e_a`` as balls ``mid +- rad``.

    Returns ``(mid_int, rad_int, e)`` (object arrays of ints, common exponent
    ``e``) with ``|act(a) - mid_int * 2**e| <= rad_int * 2**e`` elementwise,
    or None if an endpoint is not finite or the integers would exceed
    :data:`MAX_BITS` bits.

    identity, relu: exact (rad = 0).  silu: ``x / (1 + exp(-x))`` in
    ``mpmath.iv`` at ``prec`` bits (outward rounding; exact input converted
    outward).  gelu: ``x * erfc(-x / sqrt 2) / 2`` in mpmath at ``prec`` bits
    at the nearest ``prec``-bit float ``x'`` to ``a``; the enclosure radius
    ``2**-(prec - GELU_PAD_BITS) * (|x'| + |gelu(x')|)`` covers
    ``|gelu(a) - gelu(x')| <= 1.13 |a - x'| <= 1.13 * 2**-prec |x'|`` (gelu is
    1.13-Lipschitz) and the error of mpmath's result, *assumed* below
    ``2**-(prec - 8)`` relative (mpmath evaluates erfc to full working
    precision; we assume at most 8 lost bits).  Tails (``a >= T_pos`` or
    ``a <= -T_neg``, :func:`_tail_limits`) use analytic bounds instead
    (:func:`_tail_enclosure`), so no huge exponential is expanded.

    Bounded size: each endpoint is rounded outward to a multiple of
    ``2**f_k``, ``f_k = max(mag_k - (prec + 8), F - c_k)`` where ``mag_k``
    bounds ``log2 |act(a_k)|``, ``c_k = weight_exp[k]`` the log2 of what
    multiplies element k downstream (0 when not given) and
    ``F = max_k (mag_k + c_k) - (2 prec + 64 + bitlen(n))``: every element
    keeps ``prec + 8`` bits relative to itself unless its weighted size is
    ``2**-(2 prec + 64)`` below the largest, and ``f_k`` is at least the
    absolute floor :func:`_abs_floor`, so integers and exponents stay
    bounded (a few thousand bits) whatever the exponents of ``act(a)``.
    """
    if name == "identity":
        return a_int, np.zeros(a_int.shape, dtype=object), e_a
    if name == "relu":
        mid = np.where(a_int > 0, a_int, 0).astype(object)
        return mid, np.zeros(a_int.shape, dtype=object), e_a
    import mpmath
    from mpmath import iv, mp

    flat = a_int.ravel()
    t_pos, t_neg = _tail_limits(name, prec)
    ends: list[tuple[_Endpoint, _Endpoint]] = []
    mode = "silu" if name == "silu" else "gelu"
    if mode not in ("silu", "gelu"):  # pragma: no cover - names are validated by GatedMLP
        raise ValueError(f"unknown activation {name!r}")
    old = iv.prec
    iv.prec = prec
    try:
        with mpmath.workprec(prec):
            scale = iv.ldexp(iv.mpf(1), e_a)
            rt2 = mp.sqrt(2)
            pad = mp.ldexp(mp.mpf(1), -(prec - GELU_PAD_BITS))
            for v in flat:
                v = int(v)
                n = _floor_div_pow2(abs(v), e_a, 0)
                if (v > 0 and n >= t_pos) or (v < 0 and n >= t_neg):
                    ends.append(_tail_enclosure(name, v, e_a))
                    continue
                if mode == "silu":
                    x = iv.mpf(v) * scale
                    r = x / (1 + iv.exp(-x))
                    lo_t, hi_t = r._mpi_
                    lo, hi = _mpf_int_exp(lo_t), _mpf_int_exp(hi_t)
                    if lo is None or hi is None:
                        return None
                    ends.append(((lo[0], lo[1], None), (hi[0], hi[1], None)))
                else:
                    x = mp.ldexp(mp.mpf(v), e_a)
                    g = x * mp.erfc(-x / rt2) / 2
                    rad = (abs(x) + abs(g)) * pad
                    gm = _mpf_int_exp(g._mpf_)
                    rm = _mpf_int_exp(rad._mpf_)
                    if gm is None or rm is None:
                        return None
                    e = min(gm[1], rm[1])
                    gi, ri = gm[0] << (gm[1] - e), rm[0] << (rm[1] - e)
                    ends.append(((gi - ri, e, None), (gi + ri, e, None)))
    finally:
        iv.prec = old
    n_el = len(ends)
    c = [0.0] * n_el if weight_exp is None else [float(w) for w in weight_exp]
    mags = [max(_endpoint_mag(lo), _endpoint_mag(hi)) for lo, hi in ends]
    finite = [mg + ck for mg, ck in zip(mags, c, strict=True) if mg != float("-inf")]
    if not finite:
        z = np.zeros(a_int.shape, dtype=object)
        return z, z.copy(), 0
    big = max(finite) - (2 * prec + 64 + n_el.bit_length())
    keep = prec + 8
    floors = [int(max(mg - keep, big - ck, _abs_floor(e_a, prec))) for mg, ck in zip(mags, c, strict=True)]
    e_c = min(floors)
    lo_i, hi_i = [], []
    for (lo, hi), f in zip(ends, floors, strict=True):
        lo_i.append(_round_down(lo, f) << (f - e_c))
        hi_i.append(_round_up(hi, f) << (f - e_c))
    if max(max(abs(q).bit_length() for q in lo_i), max(abs(q).bit_length() for q in hi_i)) > MAX_BITS:
        return None
    lo_a = np.array(lo_i + [0], dtype=object)[:-1].reshape(a_int.shape)
    hi_a = np.array(hi_i + [0], dtype=object)[:-1].reshape(a_int.shape)
    # mid = (lo + hi) / 2, rad = (hi - lo) / 2: one more bit of scale keeps them integers
    return lo_a + hi_a, hi_a - lo_a, e_c - 1


@dataclass
class _Ball:
    """Per fact: min over the candidates J of the lower and upper ends of mu_j, as ints * 2**scale."""

    lo: int
    hi: int
    scale: int


class ExactMLP:
    """Integer (dyadic) copies of a gated MLP's weights and the value matrix.

    ``gate, up`` (h, d), ``down`` (d, h), ``values`` (N, d): float arrays on the host.
    """

    def __init__(self, gate: np.ndarray, up: np.ndarray, down: np.ndarray, values: np.ndarray, activation: str) -> None:
        self.activation = activation
        self.g, self.eg = dyadic(gate)
        self.u, self.eu = dyadic(up)
        self.d, self.ed = dyadic(down)
        self.d_abs = _obj_abs(self.d)
        # log2 upper bound of max_i |W_down[i, k]| per hidden unit k (-inf for a zero column)
        self.col_exp = [_bits_exp(int(max(col)), self.ed) if len(col) else float("-inf") for col in self.d_abs.T]
        self.v, self.ev = dyadic(values)

    def margins(
        self,
        keys: np.ndarray,
        targets: np.ndarray,
        candidates: Sequence[np.ndarray],
        prec: int = 256,
        deadline: float | None = None,
    ) -> list[_Ball | None]:
        """Enclose ``min_{j in J_r} mu_j`` for each key row r.

        ``mu_j = <g(x_r), v_{t_r} - v_j>`` for the exact MLP, ``J_r = candidates[r]``
        (non-empty int arrays).  Returns per row a :class:`_Ball` with
        ``lo * 2**scale <= min_J mu_j <= hi * 2**scale``, both exact
        (``lo == hi``) for identity/relu; None where an enclosure is not finite,
        exceeds the digit cap, or ``time.monotonic()`` passed ``deadline``
        before the row was started.

        Rows are enclosed one at a time; the activation enclosure of row r is
        rounded relative to ``c_k = log2(|b_rk| max_i |W_down[i, k]|)``, what
        multiplies hidden unit k on the way to the margin.
        """
        x, ex = dyadic(keys)
        a = x @ self.g.T  # (n, h), scale ex + eg
        b = x @ self.u.T  # (n, h), scale ex + eu
        out: list[_Ball | None] = []
        for r, (t, cand) in enumerate(zip(targets, candidates, strict=True)):
            if deadline is not None and time.monotonic() > deadline:
                out.append(None)
                continue
            b_r = b[r]
            c_r = [_bits_exp(int(bk), ex + self.eu) + dk for bk, dk in zip(b_r, self.col_exp, strict=True)]
            fin = [cv for cv in c_r if cv != float("-inf")]
            floor_c = min(fin) if fin else 0.0
            c_r = [cv if cv != float("-inf") else floor_c for cv in c_r]
            enc = activation_enclosure(self.activation, a[r], ex + self.eg, prec, weight_exp=c_r)
            if enc is None:
                out.append(None)
                continue
            s_mid, s_rad, es = enc
            y_mid = self.d @ (s_mid * b_r)  # (d,), scale es + ex + eu + ed
            exact = not any(q != 0 for q in s_rad)
            scale = es + ex + self.eu + self.ed + self.ev
            diff = self.v[int(t)][None, :] - self.v[np.asarray(cand, dtype=np.int64)]  # (|J|, d)
            mu = diff @ y_mid
            if exact:
                m = min(mu)
                out.append(_Ball(int(m), int(m), scale))
            else:
                y_rad = self.d_abs @ (s_rad * _obj_abs(b_r))
                rad = _obj_abs(diff) @ y_rad
                out.append(_Ball(int(min(mu - rad)), int(min(mu + rad)), scale))
        return out
