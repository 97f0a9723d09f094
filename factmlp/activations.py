"""One definition per activation, and the evaluators derived from it.

Each activation ``act: R -> R`` is defined once, as a SymPy expression in the
real symbol ``Z`` (:data:`DEFINITIONS`):

==========  ==========================================
name        definition ``act(z)``
==========  ==========================================
identity    ``z``
relu        ``max(0, z)``
silu        ``z / (1 + exp(-z))``
gelu        ``z (1 + erf(z / sqrt 2)) / 2``  (exact, as ``torch.nn.GELU()``)
==========  ==========================================

Evaluators, all generated from those expressions by ``sympy.lambdify``:

* :func:`float_fn` (float64, in the array namespace of its argument, NumPy or
  CuPy): the definition itself, except silu, whose definition overflows in
  ``exp(-z)`` for ``z << 0``; silu is ``z * sig`` with the sigmoid's two
  branches in :data:`FLOAT_BRANCHES` (``z >= 0``: ``1/(1+e)``, ``z < 0``:
  ``e/(1+e)``, ``e = exp(-|z|)``, never overflows).  That ``prefactor *
  branch`` equals the definition on each half-line is a checked step of
  ``factmlp theory``
  (:func:`theory.activations_check.activation_evaluators_derivation`).
* :func:`interval_fn` (mpmath ``iv`` intervals, used by the interval witnesses
  of :mod:`theory.measure_zero`): the definition with ``exp`` -> ``iv.exp``,
  ``sqrt`` -> ``iv.sqrt``, rationals -> ``iv.mpf`` quotients, and ``erf`` ->
  mpmath's ``erf`` at ``iv.prec + 30`` bits at both interval ends (``erf`` is
  increasing) padded outward by ``2**-(iv.prec - 20)``; so silu's enclosure is
  rigorous and gelu's relies on mpmath's ``erf`` accuracy.
* :func:`symbolic` (SymPy, exact): the definition at a SymPy argument.

``factmlp.mlp.activation_fn`` delegates to :func:`float_fn`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import sympy as sp

from .errors import InvalidInputError

__all__ = ["NAMES", "Z", "DEFINITIONS", "FLOAT_BRANCHES", "symbolic", "float_fn", "interval_fn"]

NAMES = ("identity", "relu", "silu", "gelu")

#: the argument of every definition
Z = sp.Symbol("z", real=True)

#: the single definition of each activation
DEFINITIONS: dict[str, sp.Expr] = {
    "identity": Z,
    "relu": sp.Max(0, Z),
    "silu": Z / (1 + sp.exp(-Z)),
    "gelu": Z * (1 + sp.erf(Z / sp.sqrt(2))) / 2,
}

_E = sp.exp(-sp.Abs(Z))
#: overflow-free float forms ``(prefactor, branch for z >= 0, branch for z < 0)``:
#: ``act(z) = prefactor * branch``; checked equal to the definition on each half-line
FLOAT_BRANCHES: dict[str, tuple[sp.Expr, sp.Expr, sp.Expr]] = {
    "silu": (Z, 1 / (1 + _E), _E / (1 + _E)),
}


def _check_name(name: str) -> str:
    if name not in DEFINITIONS:
        raise InvalidInputError(f"unknown activation {name!r}; expected one of {NAMES}")
    return name


def symbolic(name: str, arg: Any) -> sp.Expr:
    """``act(arg)`` as a SymPy expression (the definition with ``Z -> arg``)."""
    return DEFINITIONS[_check_name(name)].subs(Z, sp.sympify(arg))


@functools.cache
def _float_pieces(name: str, xp: Any) -> tuple[Callable[[Any], Any], ...]:
    from . import xp as _xp

    ns = {"exp": xp.exp, "Abs": xp.abs, "Max": xp.maximum, "erf": _xp.erf}
    exprs = FLOAT_BRANCHES[name] if name in FLOAT_BRANCHES else (DEFINITIONS[name],)
    return tuple(sp.lambdify(Z, e, modules=[ns, "math"], cse=True) for e in exprs)


def float_fn(name: str) -> Callable[[Any], Any]:
    """Elementwise float evaluator of ``DEFINITIONS[name]`` in the namespace of its argument.

    Input: an array ``x`` of any shape (NumPy or CuPy); output: ``act(x)``,
    same shape.  silu is ``pre(x) * where(x >= 0, pos(x), neg(x))`` with
    ``(pre, pos, neg) = FLOAT_BRANCHES["silu"]`` (NaN propagates).
    """
    _check_name(name)
    from . import xp as _xp

    def act(x: Any) -> Any:
        xp = _xp.get_namespace(x)
        pieces = _float_pieces(name, xp)
        if len(pieces) == 1:
            return pieces[0](x)
        pre, pos, neg = pieces
        return pre(x) * xp.where(x >= 0, pos(x), neg(x))

    act.__name__ = name
    act.__doc__ = f"{name}(x) = {DEFINITIONS[name]} (float evaluator, factmlp.activations)"
    return act


def _iv_erf(x: Any) -> Any:
    """Enclosure of ``erf`` on the interval ``x``: mpmath ``erf`` at both ends, padded by ``2**-(prec-20)``."""
    import mpmath
    from mpmath import iv

    x = iv.mpf(x)
    with mpmath.workprec(iv.prec + 30):
        lo = mpmath.erf(mpmath.mpf(x.a))
        hi = mpmath.erf(mpmath.mpf(x.b))
    pad = iv.mpf(2) ** (-(iv.prec - 20))
    return iv.mpf([lo, hi]) + iv.mpf([-1, 1]) * pad


def _iv_max(a: Any, b: Any) -> Any:
    from mpmath import iv

    a, b = iv.mpf(a), iv.mpf(b)
    return iv.mpf([max(a.a, b.a), max(a.b, b.b)])


@functools.cache
def _interval_lambda(name: str) -> Callable[[Any], Any]:
    from mpmath import iv

    ns = {"exp": iv.exp, "sqrt": iv.sqrt, "mpf": iv.mpf, "erf": _iv_erf, "Max": _iv_max}
    return sp.lambdify(Z, DEFINITIONS[name], modules=[ns, "mpmath"])


def interval_fn(name: str) -> Callable[[Any], Any]:
    """Interval evaluator of ``DEFINITIONS[name]``: an mpmath ``iv.mpf`` in, an enclosure of ``act`` out.

    Works at the current ``iv.prec``.  Rigorous for identity, relu and silu;
    gelu relies on mpmath's ``erf`` (see the module docstring).
    """
    return _interval_lambda(_check_name(name))
