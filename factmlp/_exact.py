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

from dataclasses import dataclass
from typing import Sequence

import numpy as np

__all__ = ["dyadic", "ExactMLP", "activation_enclosure", "GELU_PAD_BITS"]

# The enclosure of gelu pads mpmath's result by 2**-(prec - GELU_PAD_BITS), relative.
GELU_PAD_BITS = 24


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


def activation_enclosure(name: str, a_int: np.ndarray, e_a: int, prec: int) -> tuple[np.ndarray, np.ndarray, int] | None:
    """Enclose ``act(a)`` for exact ``a = a_int * 2**e_a`` as balls ``mid +- rad``.

    Returns ``(mid_int, rad_int, e)`` (object arrays of ints, common exponent
    ``e``) with ``|act(a) - mid_int * 2**e| <= rad_int * 2**e`` elementwise,
    or None if an endpoint is not finite.

    identity, relu: exact (rad = 0).  silu: ``x / (1 + exp(-x))`` in
    ``mpmath.iv`` at ``prec`` bits (outward rounding; exact input converted
    outward).  gelu: ``x * erfc(-x / sqrt 2) / 2`` in mpmath at ``prec`` bits
    at the nearest ``prec``-bit float ``x'`` to ``a``; the enclosure radius
    ``2**-(prec - GELU_PAD_BITS) * (|x'| + |gelu(x')|)`` covers
    ``|gelu(a) - gelu(x')| <= 1.13 |a - x'| <= 1.13 * 2**-prec |x'|`` (gelu is
    1.13-Lipschitz) and the error of mpmath's result, *assumed* below
    ``2**-(prec - 8)`` relative (mpmath evaluates erfc to full working
    precision; we assume at most 8 lost bits).
    """
    if name == "identity":
        return a_int, np.zeros(a_int.shape, dtype=object), e_a
    if name == "relu":
        mid = np.where(a_int > 0, a_int, 0).astype(object)
        return mid, np.zeros(a_int.shape, dtype=object), e_a
    import mpmath
    from mpmath import iv, mp

    flat = a_int.ravel()
    ends: list[tuple[int, int] | None] = []
    if name == "silu":
        old = iv.prec
        iv.prec = prec
        try:
            scale = iv.ldexp(iv.mpf(1), e_a)
            for v in flat:
                x = iv.mpf(int(v)) * scale
                r = x / (1 + iv.exp(-x))
                lo_t, hi_t = r._mpi_
                ends.append(_mpf_int_exp(lo_t))
                ends.append(_mpf_int_exp(hi_t))
        finally:
            iv.prec = old
    elif name == "gelu":
        with mpmath.workprec(prec):
            rt2 = mp.sqrt(2)
            pad = mp.ldexp(mp.mpf(1), -(prec - GELU_PAD_BITS))
            for v in flat:
                x = mp.ldexp(mp.mpf(int(v)), e_a)
                g = x * mp.erfc(-x / rt2) / 2
                rad = (abs(x) + abs(g)) * pad
                gm = _mpf_int_exp(g._mpf_)
                rm = _mpf_int_exp(rad._mpf_)
                if gm is None or rm is None:
                    return None
                e = min(gm[1], rm[1])
                gi, ri = gm[0] << (gm[1] - e), rm[0] << (rm[1] - e)
                ends.append((gi - ri, e))
                ends.append((gi + ri, e))
    else:  # pragma: no cover - names are validated by GatedMLP
        raise ValueError(f"unknown activation {name!r}")
    if any(t is None for t in ends):
        return None
    e_c = min(t[1] for t in ends if t[0] != 0) if any(t[0] != 0 for t in ends) else 0
    ints = [t[0] << (t[1] - e_c) if t[0] != 0 else 0 for t in ends]
    lo = np.array(ints[0::2], dtype=object).reshape(a_int.shape)
    hi = np.array(ints[1::2], dtype=object).reshape(a_int.shape)
    # mid = (lo + hi) / 2, rad = (hi - lo) / 2: one more bit of scale keeps them integers
    return lo + hi, hi - lo, e_c - 1


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
        self.v, self.ev = dyadic(values)

    def margins(self, keys: np.ndarray, targets: np.ndarray, candidates: Sequence[np.ndarray], prec: int = 256) -> list[_Ball | None]:
        """Enclose ``min_{j in J_r} mu_j`` for each key row r.

        ``mu_j = <g(x_r), v_{t_r} - v_j>`` for the exact MLP, ``J_r = candidates[r]``
        (non-empty int arrays).  Returns per row a :class:`_Ball` with
        ``lo * 2**scale <= min_J mu_j <= hi * 2**scale``, both exact
        (``lo == hi``) for identity/relu; None where an enclosure is not finite.
        """
        x, ex = dyadic(keys)
        a = x @ self.g.T  # (n, h), scale ex + eg
        b = x @ self.u.T  # (n, h), scale ex + eu
        enc = activation_enclosure(self.activation, a, ex + self.eg, prec)
        if enc is None:
            return [None] * len(targets)
        s_mid, s_rad, es = enc
        p_mid = s_mid * b
        y_mid = p_mid @ self.d.T  # (n, d), scale es + ex + eu + ed
        exact = not any(r != 0 for r in s_rad.ravel())
        y_rad = None if exact else (s_rad * _obj_abs(b)) @ self.d_abs.T
        scale = es + ex + self.eu + self.ed + self.ev
        out: list[_Ball | None] = []
        for r, (t, cand) in enumerate(zip(targets, candidates)):
            diff = self.v[int(t)][None, :] - self.v[np.asarray(cand, dtype=np.int64)]  # (|J|, d)
            mu = diff @ y_mid[r]
            if exact:
                m = min(mu)
                out.append(_Ball(int(m), int(m), scale))
            else:
                rad = _obj_abs(diff) @ y_rad[r]
                out.append(_Ball(int(min(mu - rad)), int(min(mu + rad)), scale))
        return out
