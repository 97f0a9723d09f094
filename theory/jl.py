"""Johnson-Lindenstrauss dimension with explicit constants, and the decoder margin corollary.

Proof followed: Dasgupta and Gupta (2003), "An elementary proof of a theorem of
Johnson and Lindenstrauss", for ``P = G / sqrt(m)``, ``G`` an ``m x d`` matrix of
i.i.d. standard normals.  For a fixed nonzero ``x``, ``Z = ||P x||^2 / ||x||^2``
has ``m Z ~ chi^2_m`` (cited), whose moment generating function is
``(1 - 2 s)^(-m/2)`` for ``s < 1/2`` (cited).  Markov's inequality (cited) on
``exp(s m Z)`` optimized over ``s`` gives (checked here)

    Pr[Z >= 1 + eps] <= ((1 + eps) e^-eps)^(m/2) <= exp(-(m/2)(eps^2/2 - eps^3/3))
    Pr[Z <= 1 - eps] <= ((1 - eps) e^eps)^(m/2)  <= exp(-(m/2) eps^2/2)

so one vector fails with probability at most ``2 exp(-m eps^2 (3 - 2 eps)/12)``,
and ``n`` fixed vectors all keep ``(1-eps)||x||^2 <= ||Px||^2 <= (1+eps)||x||^2``
with probability ``>= 1 - delta`` (union bound) when

    m >= M_VEC = 12 ln(2 n / delta) / (eps^2 (3 - 2 eps)),      0 < eps < 1.

For ``n`` points (all pairwise differences, ``n(n-1)/2`` vectors):
``M_JL = 12 ln(n (n-1) / delta) / (eps^2 (3 - 2 eps))``.

Inner products (polarization): for unit ``x, y``, if ``P`` keeps the squared
norms of ``x + y`` and ``x - y`` within relative ``eps``, then
``|<Px, Py> - <x, y>| <= eps``.

Decoder margin: let ``u*_j`` be the unit readout direction of value ``j`` with
``<u*_j, v_j - v_l> >= rho ||v_j - v_l||`` and ``w_jl = (v_j - v_l)/||v_j - v_l||``.
If ``P`` keeps the squared norms of the ``2 N (N-1)`` vectors
``u*_j +- w_jl`` (ordered pairs ``j != l``) within ``eps``, then
``<P u*_j, P (v_j - v_l)> >= (rho - eps) ||v_j - v_l|| > 0`` for ``eps < rho``.
With ``eps = rho/2`` (margin kept at half of rho; any fixed fraction gives the
same ``Theta(rho^-2 log N)``):

    M_DECODER = 48 ln(4 N (N-1) / delta) / (rho^2 (3 - rho)).
"""

from __future__ import annotations

import functools
import math

import sympy as sp

from .derivation import Derivation, Equality, ExactAt, Inequality, Monotone
from .symbols import N, delta, eps, m, n, rho, t, u, y

__all__ = [
    "M_VEC",
    "M_JL",
    "M_DECODER",
    "EPS_DECODER",
    "FAIL_ONE",
    "m_vec",
    "m_jl",
    "m_decoder",
    "jl_vectors_derivation",
    "jl_points_derivation",
    "inner_product_derivation",
    "decoder_margin_derivation",
]

#: exponent constant: one vector fails w.p. <= 2 exp(-m * _C)
_C = eps**2 * (3 - 2 * eps) / 12
#: failure bound for one vector
FAIL_ONE = 2 * sp.exp(-m * _C)
#: dimension for n fixed vectors (squared norms within eps, all at once w.p. >= 1 - delta)
M_VEC = 12 * sp.log(2 * n / delta) / (eps**2 * (3 - 2 * eps))
#: dimension for n points (all pairwise distances)
M_JL = M_VEC.subs(n, n * (n - 1) / 2)
#: the decoder's choice eps = rho / 2
EPS_DECODER = rho / 2
#: dimension for the decoder margin corollary: 2 N (N - 1) vectors, eps = rho/2
M_DECODER = 48 * sp.log(4 * N * (N - 1) / delta) / (rho**2 * (3 - rho))

_m_vec = sp.lambdify((eps, n, delta), M_VEC, modules="math")
_m_jl = sp.lambdify((eps, n, delta), M_JL, modules="math")
_m_dec = sp.lambdify((rho, N, delta), M_DECODER, modules="math")


def _check_open_unit(value, name: str, upper: float = 1.0) -> float:
    from factmlp.errors import InvalidInputError

    try:
        v = float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{name}: expected a number in (0, {upper}), got {value!r}") from exc
    if not (0.0 < v < upper):
        raise InvalidInputError(f"{name}: expected a number in (0, {upper}), got {value!r}")
    return v


def _check_count(value, name: str, minimum: int) -> int:
    from factmlp.errors import InvalidInputError

    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise InvalidInputError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    v = int(value)
    if v < minimum:
        raise InvalidInputError(f"{name}: expected an integer >= {minimum}, got {v}")
    return v


def m_vec(eps_: float, n_vectors: int, delta_: float) -> int:
    """``ceil(12 ln(2n/delta) / (eps^2 (3 - 2 eps)))``: keeps n fixed vectors' squared norms within eps."""
    e = _check_open_unit(eps_, "eps")
    k = _check_count(n_vectors, "n_vectors", 1)
    dl = _check_open_unit(delta_, "delta")
    return int(math.ceil(_m_vec(e, k, dl)))


def m_jl(eps_: float, n_points: int, delta_: float) -> int:
    """``ceil(12 ln(n(n-1)/delta) / (eps^2 (3 - 2 eps)))``: all pairwise squared distances of n points within eps."""
    e = _check_open_unit(eps_, "eps")
    k = _check_count(n_points, "n_points", 2)
    dl = _check_open_unit(delta_, "delta")
    return int(math.ceil(_m_jl(e, k, dl)))


def m_decoder(rho_: float, n_values: int, delta_: float) -> int:
    """``ceil(48 ln(4N(N-1)/delta) / (rho^2 (3 - rho)))``: every decoder margin stays >= rho/2 ||v_j - v_l||."""
    r = _check_open_unit(rho_, "rho", upper=1.0 + 1e-12)
    k = _check_count(n_values, "n_values", 2)
    dl = _check_open_unit(delta_, "delta")
    return int(math.ceil(_m_dec(min(r, 1.0), k, dl)))


# ------------------------------------------------------------------ derivations
@functools.cache
def jl_vectors_derivation() -> Derivation:
    """Dasgupta-Gupta tail bounds and the union bound over n fixed vectors."""
    s_up = eps / (2 * (1 + eps))
    s_lo = eps / (2 * (1 - eps))
    e01 = {eps: 1 / (1 + u)}  # 0 < eps < 1  <=>  u > 0
    return Derivation(
        name="JL: n fixed vectors (Dasgupta-Gupta constants)",
        statement=sp.Implies(sp.Ge(m, M_VEC), sp.Le(n * FAIL_ONE, delta)),
        symbols=[m, n, eps, delta],
        domain=[eps < 1, delta < 1],
        assumptions=(
            "0 < eps < 1, 0 < delta < 1, n >= 1 vectors; P = G/sqrt(m) with G i.i.d. N(0,1). Cited premises: "
            "m ||Px||^2/||x||^2 ~ chi^2_m; its MGF is (1-2s)^(-m/2) for s < 1/2; Markov's inequality; the "
            "union bound (so the failure probability of n vectors is at most n FAIL_ONE). Checked below: the "
            "Chernoff optimum in s, both exponent bounds, the union bound solved for m."
        ),
        steps=[
            Equality(
                "upper tail: Markov on exp(s m Z) at the optimum s = eps/(2(1+eps)), per unit of m/2",
                ((1 - 2 * t) ** sp.Rational(-1, 2) * sp.exp(-t * (1 + eps))).subs(t, s_up),
                sp.sqrt((1 + eps) * sp.exp(-eps)),
            ),
            Inequality("the upper-tail s lies in the MGF's domain (s < 1/2)", s_up, "<", sp.Rational(1, 2)),
            Equality(
                "lower tail: Markov on exp(-s m Z) at s = eps/(2(1-eps)), per unit of m/2",
                ((1 + 2 * t) ** sp.Rational(-1, 2) * sp.exp(t * (1 - eps))).subs(t, s_lo),
                sp.sqrt((1 - eps) * sp.exp(eps)),
                subs=e01,
                conditions=[eps < 1],
            ),
            Monotone(
                "upper-tail exponent: eps - ln(1+eps) >= eps^2/2 - eps^3/3",
                eps - sp.log(1 + eps),
                ">=",
                eps**2 / 2 - eps**3 / 3,
                var=eps,
                x0=0,
            ),
            Monotone(
                "lower-tail exponent: -eps - ln(1-eps) >= eps^2/2 (0 <= eps < 1)",
                -eps - sp.log(1 - eps),
                ">=",
                eps**2 / 2,
                var=eps,
                x0=0,
                subs=e01,
                conditions=[eps < 1],
            ),
            Inequality(
                "so both tails are <= exp(-(m/2)(eps^2/2 - eps^3/3))", eps**2 / 2 - eps**3 / 3, "<=", eps**2 / 2
            ),
            Equality("(m/2)(eps^2/2 - eps^3/3) = m eps^2 (3 - 2 eps)/12", m / 2 * (eps**2 / 2 - eps**3 / 3), m * _C),
            Equality(
                "union bound over n vectors, solved for m: n * 2 exp(-M_VEC c) = delta",
                n * FAIL_ONE.subs(m, M_VEC),
                delta,
            ),
            Monotone(
                "m >= M_VEC suffices: n FAIL_ONE(m) is decreasing in m and equals delta at m = M_VEC",
                delta,
                ">=",
                n * FAIL_ONE,
                var=m,
                x0=M_VEC,
                subs={eps: 1 / (1 + y)},
                conditions=[eps < 1],
            ),
        ],
        references=[
            "S. Dasgupta, A. Gupta, An elementary proof of a theorem of Johnson and Lindenstrauss, "
            "Random Structures & Algorithms 22(1), 2003"
        ],
    )


@functools.cache
def jl_points_derivation() -> Derivation:
    """n points: the n(n-1)/2 pairwise differences are the vectors."""
    explicit = 12 * sp.log(n * (n - 1) / delta) / (eps**2 * (3 - 2 * eps))
    return Derivation(
        name="JL: n points, all pairwise distances",
        statement=sp.Eq(M_JL, explicit, evaluate=False),
        symbols=[n, eps, delta],
        domain=[n >= 2, eps < 1, delta < 1],
        assumptions="n >= 2 points; the vectors of the previous derivation are the n(n-1)/2 differences.",
        steps=[
            Equality(
                "M_JL is M_VEC with the n(n-1)/2 pairwise differences as the vectors",
                M_JL,
                M_VEC.subs(n, n * (n - 1) / 2),
            ),
            Equality("explicit form", M_VEC.subs(n, n * (n - 1) / 2), explicit),
        ],
        references=["Dasgupta and Gupta (2003), Theorem 2.1 (constants re-derived)"],
    )


@functools.cache
def inner_product_derivation() -> Derivation:
    """Polarization: norms of x +- y within eps  =>  inner product within eps (unit x, y)."""
    xs = sp.Matrix(sp.symbols("x1:4", real=True))
    ys = sp.Matrix(sp.symbols("y1:4", real=True))
    Pm = sp.Matrix(2, 3, sp.symbols("p1:7", real=True))
    g = sp.Symbol("g", real=True)  # <x, y>, in [-1, 1]
    a, c = sp.symbols("a c", real=True)  # relative errors of ||P(x+y)||^2, ||P(x-y)||^2
    pp, qq, r1, r2 = sp.symbols("p q r_1 r_2", positive=True)
    ipP = ((1 + a) * (2 + 2 * g) - (1 + c) * (2 - 2 * g)) / 4
    err = ipP - g
    g_reparam = (r1 - r2) / (r1 + r2)  # covers -1 < g < 1
    dom = [a <= eps, a >= -eps, c <= eps, c >= -eps, g <= 1, g >= -1]
    polar_l = ((Pm * xs).T * (Pm * ys))[0]
    polar_r = (((Pm * (xs + ys)).T * (Pm * (xs + ys)))[0] - ((Pm * (xs - ys)).T * (Pm * (xs - ys)))[0]) / 4
    return Derivation(
        name="JL: inner products of unit vectors via polarization",
        statement=sp.And(sp.Eq(polar_l, polar_r), sp.Implies(sp.And(*dom), sp.Le(sp.Abs(ipP - g), eps))),
        symbols=[eps, g, a, c],
        assumptions=(
            "||x|| = ||y|| = 1, g = <x,y> in [-1,1]; ||P(x+y)||^2 = (1+a)||x+y||^2 and "
            "||P(x-y)||^2 = (1+c)||x-y||^2 with |a|, |c| <= eps; with ||x +- y||^2 = 2 +- 2g (the identity "
            "below at unit norms) polarization gives <Px,Py> = ((1+a)(2+2g) - (1+c)(2-2g))/4. Sign steps "
            "reparametrize a = eps - p (or p - eps), c = q - eps (or eps - q), g = (r1 - r2)/(r1 + r2), "
            "p, q, r1, r2 > 0; the boundary follows by continuity (and the falsifier samples it)."
        ),
        steps=[
            Equality("polarization: <Px,Py> = (||P(x+y)||^2 - ||P(x-y)||^2)/4 (generic 2x3 P)", polar_l, polar_r),
            Equality(
                "||x+y||^2 = ||x||^2 + ||y||^2 + 2<x,y> (so 2 + 2g for unit x, y)",
                ((xs + ys).T * (xs + ys))[0],
                (xs.T * xs)[0] + (ys.T * ys)[0] + 2 * (xs.T * ys)[0],
            ),
            Equality("error: <Px,Py> - <x,y> = (a(1+g) - c(1-g))/2", err, (a * (1 + g) - c * (1 - g)) / 2),
            Inequality(
                "upper: error <= eps", err, "<=", eps, subs={a: eps - pp, c: qq - eps, g: g_reparam}, conditions=dom
            ),
            Inequality(
                "lower: error >= -eps", err, ">=", -eps, subs={a: pp - eps, c: eps - qq, g: g_reparam}, conditions=dom
            ),
        ],
        references=["polarization identity"],
    )


@functools.cache
def decoder_margin_derivation() -> Derivation:
    """Projected readouts keep margin >= (rho - eps)||v_j - v_l||; m_decoder with eps = rho/2."""
    ip = sp.Symbol(r"\langle u^*, w\rangle", real=True)  # <u*_j, w_jl>, unit w
    ipP = sp.Symbol(r"\langle Pu^*, Pw\rangle", real=True)
    W = sp.Symbol(r"\|v_j - v_l\|", positive=True)
    pp, qq = sp.symbols("p q", positive=True)
    margin = W * ipP
    jl_hyps = [sp.Ge(ip, rho), sp.Ge(ipP, ip - eps)]
    dec_point = {rho: sp.Rational(1, 2), N: 16384, delta: sp.Rational(1, 100)}
    return Derivation(
        name="JL: decoder margin corollary (eps < rho)",
        statement=sp.And(
            sp.Implies(sp.And(*jl_hyps), sp.Ge(margin, (rho - eps) * W)),
            sp.Implies(sp.And(*jl_hyps, sp.Lt(eps, rho)), sp.Gt(margin, 0)),
            sp.Eq(M_VEC.subs({n: 2 * N * (N - 1), eps: EPS_DECODER}), M_DECODER),
            sp.Gt(M_DECODER.subs(dec_point), 128),
        ),
        symbols=[rho, eps, N, delta, ip, ipP, W],
        domain=[rho <= 1, delta < 1],
        assumptions=(
            "u*_j unit with <u*_j, w_jl> >= rho for unit w_jl = (v_j - v_l)/||v_j - v_l||; P keeps the squared "
            "norms of the 2N(N-1) vectors u*_j +- w_jl (ordered pairs j != l) within eps, so "
            "|<Pu*_j, Pw_jl> - <u*_j, w_jl>| <= eps (previous derivation; the hypothesis used is its lower half); "
            "0 < eps < rho <= 1. The decoder reads out <P u*_j, P v> (output map P^T applied to the code P u*_j). "
            "Choice eps = rho/2."
        ),
        steps=[
            Inequality(
                "projected inner product >= rho - eps",
                ipP,
                ">=",
                rho - eps,
                subs={ipP: ip - eps + pp, ip: rho + qq},
                conditions=jl_hyps,
            ),
            Inequality(
                "margin scales with ||v_j - v_l||",
                margin,
                ">=",
                (rho - eps) * W,
                subs={ipP: rho - eps + pp},
                conditions=[sp.Ge(ipP, rho - eps)],
            ),
            Inequality(
                "positive when eps < rho",
                0,
                "<",
                (rho - eps) * W,
                subs={eps: rho * u / (1 + u)},
                conditions=[sp.Lt(eps, rho)],
            ),
            Equality(
                "eps = rho/2 and 2N(N-1) vectors in M_VEC give M_DECODER",
                M_VEC.subs({n: 2 * N * (N - 1), eps: EPS_DECODER}),
                M_DECODER,
            ),
            ExactAt(
                "at practical sizes M_DECODER exceeds d: rho = 1/2, N = 16384, delta = 1/100 vs d = 128",
                M_DECODER,
                ">",
                128,
                points=[dec_point],
                exhaustive=True,
            ),
        ],
        references=["Dasgupta and Gupta (2003); margin argument as in THEORY_NOTES section 4.1 (reconstruction)"],
    )
