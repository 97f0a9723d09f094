"""Parameter counts of every construction, as SymPy expressions with numeric twins.

All MLPs are gated, ``g(x) = W_down (act(W_gate x) * (W_up x))`` with hidden
width ``h``: ``3 d h`` parameters in the folded (standard) form.

==============  ======================  =====================================
method          default hidden width    why
==============  ======================  =====================================
gd              h (given)               trained MLP of width h
ntk             h = F                   kernel system: F d equations, h d
                                        unknowns; one hidden unit per fact
hebbian_raw     h = 4 d                 the revision's default feature count
hebbian_ridge   h = F                   exact interpolation needs h >= F
encdec          h = m ceil(F/d)         m code coordinates, each a group of
                                        r = ceil(F/d) units sharing r gate rows
==============  ======================  =====================================

Encoder-decoder, factored form: ``d r`` (shared gate rows G, r x d) + ``d h``
(up weights A) + ``m d`` (projection P, the decoder); the fixed 0/1 group-sum
map (m x h) is counted as 0 parameters since it is determined by (m, r) and
stores nothing.  Folded: ``3 d h`` (gate rows repeated per group, down =
P^T x group-sum).  Default code dimension ``m = min(d, ceil(M_DECODER))``
(see :mod:`theory.jl`); a construction may pass a smaller certified ``m``.

Upper bound used in the ratio: ``3 d m ceil(F/d) <= 3 m (F + d)``.

Editing note: the width expressions live in ``WIDTH`` below, one per method;
``param_count``/``hidden_width`` evaluate exactly those objects.
"""

from __future__ import annotations

import functools
import math

import sympy as sp

from . import counting as _counting
from . import jl as _jl
from .derivation import Derivation, Inequality, Limit
from .symbols import F, N, b, d, delta, h, m, q, rho, w

__all__ = [
    "METHODS",
    "FORMS",
    "R_GATE",
    "ENCDEC_M_DEFAULT",
    "WIDTH",
    "PARAMS",
    "ENCDEC_UPPER",
    "RATIO_LIMIT",
    "param_count",
    "hidden_width",
    "encdec_code_dim",
    "ratio_to_counting_bound",
    "encdec_bound_derivation",
    "ratio_limit_derivation",
]

METHODS = ("gd", "ntk", "hebbian_raw", "hebbian_ridge", "encdec")
FORMS = ("folded", "factored")

#: shared gate rows of the encoder: r = ceil(F/d)
R_GATE = sp.ceiling(F / d)
#: default code dimension of the encoder-decoder (JL, capped at d)
ENCDEC_M_DEFAULT = sp.Min(d, sp.ceiling(_jl.M_DECODER))

# ---- hidden widths (one expression per method; edit here) -----------------
WIDTH: dict[str, sp.Expr] = {
    "gd": h,  # given width
    "ntk": F,  # one hidden unit per fact
    "hebbian_raw": 4 * d,  # default feature count of the raw Hebbian readout
    "hebbian_ridge": F,  # ridge interpolation needs h >= F
    "encdec": m * R_GATE,  # m groups of r = ceil(F/d) units
}

# ---- parameter counts ---------------------------------------------------------
PARAMS: dict[tuple[str, str], sp.Expr] = {}
for _meth, _h in WIDTH.items():
    PARAMS[(_meth, "folded")] = 3 * d * _h
    PARAMS[(_meth, "factored")] = 3 * d * _h  # already a standard gated MLP
# encoder-decoder factored: shared gate (d r) + up (d h) + projection P (m d); group-sum map: 0
PARAMS[("encdec", "factored")] = d * R_GATE + d * WIDTH["encdec"] + m * d

#: upper bound on the folded encoder-decoder count
ENCDEC_UPPER = 3 * m * (F + d)
#: limit of params / (log2 F! / b) for N = F, m = M_DECODER (uncapped), F -> oo
RATIO_LIMIT = 288 * b * sp.log(2) / (rho**2 * (3 - rho))


@functools.cache
def _twin(expr: sp.Expr):
    syms = tuple(sorted(expr.free_symbols, key=lambda s: s.name))
    return syms, sp.lambdify(syms, expr, modules="math")


def _sizes(method: str, sizes: dict) -> dict:
    from factmlp.errors import InvalidInputError

    if method not in METHODS:
        raise InvalidInputError(f"unknown method {method!r}; expected one of {list(METHODS)}")
    out: dict = {}
    for key, val in sizes.items():
        if key in ("F", "N", "d", "h", "m"):
            if isinstance(val, bool) or not hasattr(val, "__index__") or int(val) < 1:
                raise InvalidInputError(f"{key}: expected a positive integer, got {val!r}")
            out[key] = int(val)
        elif key in ("rho", "delta", "b"):
            v = float(val)
            hi = {"rho": 1.0, "delta": 1.0, "b": math.inf}[key]
            if not (0 < v <= hi) or (key == "delta" and v >= 1):
                raise InvalidInputError(f"{key}: out of range, got {val!r}")
            out[key] = v
        else:
            raise InvalidInputError(f"unknown size {key!r}; expected F, N, d, h, m, rho, delta, b")
    return out


def _evaluate(expr: sp.Expr, sizes: dict) -> float:
    from factmlp.errors import InvalidInputError

    syms, fn = _twin(expr)
    missing = [s.name for s in syms if s.name not in sizes]
    if missing:
        raise InvalidInputError(f"missing size(s) {missing} for {expr}")
    return fn(*(sizes[s.name] for s in syms))


def encdec_code_dim(**sizes) -> int:
    """``m = min(d, ceil(48 ln(4N(N-1)/delta) / (rho^2 (3 - rho))))`` unless ``m`` is given."""
    sz = _sizes("encdec", sizes)
    if "m" in sz:
        return sz["m"]
    return int(_evaluate(ENCDEC_M_DEFAULT, sz))


def hidden_width(method: str, **sizes) -> int:
    """Hidden width ``WIDTH[method]`` at the given sizes (F, d, h, m or rho/N/delta for encdec)."""
    sz = _sizes(method, sizes)
    if method == "encdec":
        sz["m"] = encdec_code_dim(**sizes)
    return int(_evaluate(WIDTH[method], sz))


def param_count(method: str, form: str = "folded", **sizes) -> int:
    """Parameter count ``PARAMS[(method, form)]`` at the given sizes (numeric twin, exact int)."""
    from factmlp.errors import InvalidInputError

    if form not in FORMS:
        raise InvalidInputError(f"unknown form {form!r}; expected one of {list(FORMS)}")
    sz = _sizes(method, sizes)
    if method == "encdec":
        sz["m"] = encdec_code_dim(**sizes)
    return int(_evaluate(PARAMS[(method, form)], sz))


def ratio_to_counting_bound(method: str, form: str = "folded", *, permutation: bool = True, **sizes) -> float:
    """``param_count / (log2 F!/b)`` (permutation, needs b) or ``/ (F log2 N / b)``."""
    from .counting import param_lower_bound

    sz = _sizes(method, sizes)
    if "b" not in sz:
        from factmlp.errors import InvalidInputError

        raise InvalidInputError("ratio_to_counting_bound needs b (bits per parameter)")
    rest = {k: v for k, v in sizes.items() if k != "b"}
    params = param_count(method, form, **rest)
    bound = param_lower_bound(sz["F"], sz.get("N", sz["F"]), sz["b"], permutation=permutation)
    return params / bound


# ------------------------------------------------------------------ derivations
@functools.cache
def encdec_bound_derivation() -> Derivation:
    """``3 m F <= 3 d m ceil(F/d) <= 3 m (F + d)``."""
    folded = PARAMS[("encdec", "folded")]
    below = {R_GATE: q, F: d * q - w}  # F = d q - s, s = w in [0, d-1]
    above = {R_GATE: q, F: d * q - (d - 1 - w)}  # s = d - 1 - w
    return Derivation(
        name="params: encoder-decoder folded count bounds",
        statement=sp.And(sp.Le(3 * m * F, folded), sp.Le(folded, ENCDEC_UPPER)),
        symbols=[F, d, m],
        assumptions=(
            "F, d, m positive integers. Division with remainder: with q = ceil(F/d), F = d q - s and "
            "0 <= s <= d - 1; the sign steps substitute ceil(F/d) = q and s = w (for F/d <= q) or "
            "s = d - 1 - w (for q <= F/d + 1), w >= 0; the falsifier tests the relations with ceil itself."
        ),
        steps=[
            Inequality("F/d <= ceil(F/d)", F / d, "<=", R_GATE, subs=below),
            Inequality("ceil(F/d) <= F/d + 1", R_GATE, "<=", F / d + 1, subs=above),
            Inequality("lower: 3 m F <= 3 d m ceil(F/d)", 3 * m * F, "<=", folded, subs=below),
            Inequality("upper: 3 d m ceil(F/d) <= 3 m (F + d)", folded, "<=", ENCDEC_UPPER, subs=above),
        ],
        references=["construction sizes, theory/param_counts.py"],
    )


@functools.cache
def ratio_limit_derivation() -> Derivation:
    """params / (log2 F!/b) -> 288 b ln2 / (rho^2 (3 - rho)) = Theta(rho^-2) for N = F, F -> oo."""
    mdec = _jl.M_DECODER.subs(N, F)
    lo_ratio = 3 * mdec * F * b * sp.log(2) / _counting.LN_FACT_UPPER
    hi_ratio = 3 * mdec * (F + d) * b * sp.log(2) / _counting.LN_FACT_LOWER
    u01 = sp.Symbol("u", positive=True)
    theta_lo = 96 * b * sp.log(2) / rho**2
    theta_hi = 144 * b * sp.log(2) / rho**2
    return Derivation(
        name="params: encoder-decoder ratio to the counting bound, F -> oo",
        statement=sp.And(
            sp.Eq(sp.Limit(lo_ratio, F, sp.oo), RATIO_LIMIT, evaluate=False),
            sp.Eq(sp.Limit(hi_ratio, F, sp.oo), RATIO_LIMIT, evaluate=False),
            sp.Le(theta_lo, RATIO_LIMIT),
            sp.Le(RATIO_LIMIT, theta_hi),
        ),
        symbols=[F, d, rho, delta, b],
        domain=[rho <= 1, delta < 1],
        assumptions=(
            "Permutation facts N = F; m = M_DECODER(rho, F, delta) uncapped (the cap m <= d only lowers the count); "
            "rho, delta, b, d fixed. Squeeze (premise from the two previous derivations, not re-derived here): "
            "3 m F <= params <= 3 m (F + d) and F ln F - F + 1 <= ln F! <= (F+1) ln(F+1) - F put "
            "params/(log2 F!/b) between the two ratios whose limits are checked below, so it tends to "
            "RATIO_LIMIT. For rho in (0, 1]: 96 b ln2 / rho^2 <= limit <= 144 b ln2 / rho^2, so the "
            "ratio is Theta(rho^-2), a constant when rho = Theta(1): asymptotically optimal."
        ),
        steps=[
            Limit("lower squeeze: 3 m F b ln2 / ((F+1) ln(F+1) - F)", lo_ratio, F, sp.oo, RATIO_LIMIT),
            Limit("upper squeeze: 3 m (F+d) b ln2 / (F ln F - F + 1)", hi_ratio, F, sp.oo, RATIO_LIMIT),
            Inequality(
                "Theta(rho^-2), lower: limit >= 96 b ln2 / rho^2 (0 < rho <= 1)",
                theta_lo,
                "<=",
                RATIO_LIMIT,
                subs={rho: 1 / (1 + u01)},
                conditions=[rho <= 1],
            ),
            Inequality(
                "Theta(rho^-2), upper: limit <= 144 b ln2 / rho^2 (0 < rho <= 1)",
                RATIO_LIMIT,
                "<=",
                theta_hi,
                subs={rho: 1 / (1 + u01)},
                conditions=[rho <= 1],
            ),
        ],
        references=["counting bound (theory/counting.py), JL decoder (theory/jl.py)"],
    )
