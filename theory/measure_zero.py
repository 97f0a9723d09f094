"""Measure-zero (genericity) conditions of the constructions' linear systems.

Encoder (encoder-decoder).  Hidden units come in ``m`` groups of ``r`` units;
the groups share the gate rows ``G`` (``r x d``) and the output sums each group.
Output coordinate ``c`` of key ``k`` is ``sum_j act(g_j . k) (A_{c,j} . k)``,
linear in ``A_c`` (``r x d``), so fitting the codes ``C`` (``F x m``) exactly is,
for every ``c``, ``Phi a_c = C[:, c]`` with

    Phi  (F x r d),   row i = kron(act(G k_i), k_i).

It is solvable for every target iff ``rank Phi = F`` (needs ``r d >= F``).

NTK baseline: ``g(x) = D (act(G x) * (A x))`` with ``D`` (``d_out x h``) fixed:
``F d_out`` equations, rows ``kron(D[c, :] * act(G k_i), k_i)``, ``h d`` unknowns.

Hebbian ridge: ``Phi`` (``F x h``), rows ``(A0 k_i) * (A1 k_i)``; exact
interpolation needs ``rank Phi = F``.

What is proved here (see docs/theory.md):

* identity activation (and the Hebbian features): entries are polynomials in
  the key coordinates.  Row ``i`` is ``(G (x) I)(k_i (x) k_i)`` and ``k (x) k``
  lies in the ``d(d+1)/2``-dimensional symmetric subspace, so
  ``rank Phi <= min(F, d(d+1)/2)``; moreover the ``r(r-1)/2`` vectors
  ``A_j = g_l, A_l = -g_j`` (``j < l``) are in the null space, so
  ``rank Phi <= min(F, r d - r(r-1)/2)`` for ``r <= d`` -- real obstructions
  to exact fitting with identity gates.  Below it, a maximal minor is a nonzero polynomial:
  symbolically for small sizes, and by an exact rational witness at any size,
  so its zero set (the degenerate keys) has Lebesgue measure zero.
* silu / gelu (analytic): a maximal minor is a real-analytic function of keys
  and gates; an interval-arithmetic witness (mpmath ``iv``; silu rigorous via
  ``iv.exp``, gelu via ``mp.erf`` padded by ``2^-(prec-20)``) shows it is not
  identically zero, so it vanishes only on a null set; generic rank
  ``min(F, r d)``.
* relu: piecewise polynomial, exact at rationals.  A rational witness proves
  full rank on an open set around it; relu degeneracy is NOT measure zero in
  general (e.g. an open set of keys silences every gate).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp
from sympy.polys.domains import QQ
from sympy.polys.matrices import DomainMatrix

from .activation_defs import IntervalEnclosesDefinition
from .derivation import FAILED, PROVED, UNCHECKED, Claim, Derivation, Step, StepResult

__all__ = [
    "ACTIVATIONS",
    "system_matrix",
    "ntk_system_matrix",
    "hebbian_system_matrix",
    "system_matrix_symbolic",
    "ntk_system_matrix_symbolic",
    "hebbian_system_matrix_symbolic",
    "exact_rank",
    "generic_rank",
    "rational_witness",
    "interval_full_rank",
    "degenerate_examples",
    "degenerate_rank",
    "NonzeroPolynomial",
    "RankAtLeast",
    "RankAtMost",
    "IntervalNonzeroMinor",
    "KernelContains",
    "encoder_symbolic_derivation",
    "encoder_witness_derivation",
    "identity_rank_bound_derivation",
    "ntk_derivation",
    "hebbian_derivation",
]

ACTIVATIONS = ("identity", "relu", "silu", "gelu")


# ------------------------------------------------------------------ numeric
def _act_numeric(name: str, z: Any, xp: Any) -> Any:
    """``act(z)`` by the float evaluator of the one definition (:func:`factmlp.activations.float_fn`)."""
    from factmlp import activations as _acts

    return _acts.float_fn(name)(z)


def system_matrix(keys: Any, gates: Any, activation: str = "identity") -> Any:
    """Encoder system ``Phi`` (``F x r d``), row ``i = kron(act(G k_i), k_i)``.

    ``keys``: ``(F, d)``; ``gates``: ``G`` of shape ``(r, d)``.  Column
    ``j d + t`` multiplies ``A_c[j, t]``.  Works on NumPy or CuPy arrays.
    """
    from factmlp.validation import check_matrix
    from factmlp.xp import get_namespace

    xp = get_namespace(keys, gates)
    K = keys if xp is not np else check_matrix(keys, "keys")
    G = gates if xp is not np else check_matrix(gates, "gates", ncols=K.shape[1])
    if G.shape[1] != K.shape[1]:
        from factmlp.errors import ShapeError

        raise ShapeError(f"gates: expected {K.shape[1]} columns (key dimension), got shape {G.shape}")
    S = _act_numeric(activation, K @ G.T, xp)  # (F, r)
    return (S[:, :, None] * K[:, None, :]).reshape(K.shape[0], G.shape[0] * K.shape[1])


def ntk_system_matrix(keys: Any, gates: Any, down: Any, activation: str = "identity") -> Any:
    """NTK system (``F d_out x h d``): row ``(i, c) = kron(D[c, :] * act(G k_i), k_i)``.

    ``gates`` ``G``: ``(h, d)``; ``down`` ``D``: ``(d_out, h)``.  Row index ``i d_out + c``.
    """
    from factmlp.errors import ShapeError
    from factmlp.validation import check_matrix
    from factmlp.xp import get_namespace

    xp = get_namespace(keys, gates, down)
    K = keys if xp is not np else check_matrix(keys, "keys")
    G = gates if xp is not np else check_matrix(gates, "gates", ncols=K.shape[1])
    D = down if xp is not np else check_matrix(down, "down", ncols=G.shape[0])
    if G.shape[1] != K.shape[1] or D.shape[1] != G.shape[0]:
        raise ShapeError(f"ntk_system_matrix: shapes keys {K.shape}, gates {G.shape}, down {D.shape} do not chain")
    S = _act_numeric(activation, K @ G.T, xp)  # (F, h)
    rows = D[None, :, :] * S[:, None, :]  # (F, d_out, h)
    full = rows[:, :, :, None] * K[:, None, None, :]  # (F, d_out, h, d)
    return full.reshape(K.shape[0] * D.shape[0], G.shape[0] * K.shape[1])


def hebbian_system_matrix(keys: Any, a0: Any, a1: Any) -> Any:
    """Hebbian features ``Phi`` (``F x h``), row ``i = (A0 k_i) * (A1 k_i)``; ``A0, A1``: ``(h, d)``."""
    from factmlp.errors import ShapeError
    from factmlp.validation import check_matrix
    from factmlp.xp import get_namespace

    xp = get_namespace(keys, a0, a1)
    K = keys if xp is not np else check_matrix(keys, "keys")
    A0 = a0 if xp is not np else check_matrix(a0, "a0", ncols=K.shape[1])
    A1 = a1 if xp is not np else check_matrix(a1, "a1", ncols=K.shape[1], nrows=A0.shape[0])
    if A0.shape != A1.shape:
        raise ShapeError(f"a0 and a1 must have the same shape, got {A0.shape} and {A1.shape}")
    return (K @ A0.T) * (K @ A1.T)


# ------------------------------------------------------------------ symbolic
def _act_symbolic(name: str, z: sp.Expr) -> sp.Expr:
    """``act(z)`` from the one definition (:data:`factmlp.activations.DEFINITIONS`)."""
    from factmlp import activations as _acts

    return _acts.symbolic(name, z)


def _as_sym(a: Any) -> sp.Matrix:
    if isinstance(a, sp.MatrixBase):
        return sp.Matrix(a)
    return sp.Matrix([[sp.nsimplify(v) if isinstance(v, float) else sp.sympify(v) for v in row] for row in a])


def system_matrix_symbolic(keys: Any, gates: Any, activation: str = "identity") -> sp.Matrix:
    """SymPy twin of :func:`system_matrix` (exact; keys/gates may hold symbols or Rationals)."""
    K, G = _as_sym(keys), _as_sym(gates)
    rows = []
    for i in range(K.rows):
        k = K.row(i)
        s = [_act_symbolic(activation, sp.expand((G.row(j) * k.T)[0])) for j in range(G.rows)]
        rows.append([s[j] * k[t] for j in range(G.rows) for t in range(K.cols)])
    return sp.Matrix(rows)


def ntk_system_matrix_symbolic(keys: Any, gates: Any, down: Any, activation: str = "identity") -> sp.Matrix:
    """SymPy twin of :func:`ntk_system_matrix`."""
    K, G, D = _as_sym(keys), _as_sym(gates), _as_sym(down)
    rows = []
    for i in range(K.rows):
        k = K.row(i)
        s = [_act_symbolic(activation, sp.expand((G.row(j) * k.T)[0])) for j in range(G.rows)]
        for c in range(D.rows):
            rows.append([D[c, j] * s[j] * k[t] for j in range(G.rows) for t in range(K.cols)])
    return sp.Matrix(rows)


def hebbian_system_matrix_symbolic(keys: Any, a0: Any, a1: Any) -> sp.Matrix:
    """SymPy twin of :func:`hebbian_system_matrix`."""
    K, A0, A1 = _as_sym(keys), _as_sym(a0), _as_sym(a1)
    return sp.Matrix(K.rows, A0.rows, lambda i, j: (A0.row(j) * K.row(i).T)[0] * (A1.row(j) * K.row(i).T)[0])


def exact_rank(matrix: Any) -> int:
    """Exact rank of a matrix of rationals (SymPy Rationals, Fractions or ints), over QQ."""
    M = _as_sym(matrix)
    if M.rows == 0 or M.cols == 0:
        return 0
    return _exact_rank_of(sp.ImmutableMatrix(M))


@functools.lru_cache(maxsize=256)
def _exact_rank_of(M: sp.ImmutableMatrix) -> int:
    """Memoized rank over QQ (a pure function of the exact entries)."""
    dm = DomainMatrix.from_list_sympy(M.rows, M.cols, M.tolist()).convert_to(QQ)
    return int(dm.rank())


def generic_rank(n_facts: int, dim: int, r: int, activation: str) -> int:
    """Rank of the encoder system for generic keys/gates (what the witnesses certify).

    identity: ``min(F, r' d - r'(r'-1)/2)`` with ``r' = min(r, d)`` (the column
    space has the ``r(r-1)/2`` null directions ``A_j = g_l, A_l = -g_j``, and
    ``r' d - r'(r'-1)/2 = d(d+1)/2`` at ``r' = d``); relu/silu/gelu:
    ``min(F, r d)`` (relu: attained on an open set, not almost everywhere).
    """
    if activation == "identity":
        rr = min(r, dim)
        return min(n_facts, rr * dim - rr * (rr - 1) // 2)
    return min(n_facts, r * dim)


def _rand_rationals(rng: np.random.Generator, shape: tuple[int, int], den: int = 7) -> sp.Matrix:
    vals = rng.integers(-9, 10, size=shape)
    return sp.Matrix(shape[0], shape[1], lambda i, j: sp.Rational(int(vals[i, j]), den))


def rational_witness(
    n_facts: int, dim: int, r: int, activation: str = "identity", seed: int = 0, tries: int = 5
) -> dict:
    """Exact rational keys (``F x d``) and gates (``r x d``) where ``Phi`` has its generic rank.

    Only for exact activations (identity, relu).  Returns ``{"keys", "gates",
    "rank", "target"}`` with ``rank == target == generic_rank(...)`` on success
    (draws are seeded; up to ``tries`` draws).
    """
    from factmlp.errors import InvalidInputError
    from factmlp.validation import check_seed

    if activation not in ("identity", "relu"):
        raise InvalidInputError(f"rational_witness needs an exact activation (identity, relu), got {activation!r}")
    rng = check_seed(seed)
    target = generic_rank(n_facts, dim, r, activation)
    best: dict = {}
    for _ in range(tries):
        K = _rand_rationals(rng, (n_facts, dim))
        G = _rand_rationals(rng, (r, dim))
        rk = exact_rank(system_matrix_symbolic(K, G, activation))
        best = {"keys": K, "gates": G, "rank": rk, "target": target}
        if rk == target:
            break
    return best


def interval_full_rank(keys: sp.Matrix, gates: sp.Matrix, activation: str, prec: int = 200) -> dict:
    """Interval-arithmetic proof that ``Phi`` (rational keys/gates, silu or gelu) has full row rank.

    Picks ``F`` columns by a floating pivoted QR, then encloses the ``F x F``
    minor's determinant with mpmath ``iv`` at ``prec`` bits.  Returns
    ``{"columns", "det_lo", "det_hi", "nonzero"}``; ``nonzero`` is True iff the
    enclosure excludes 0.  The activation is
    :func:`factmlp.activations.interval_fn` (the same definition as
    ``factmlp.mlp``): silu via ``iv.exp`` (rigorous); gelu encloses ``mp.erf``
    (computed at ``prec + 30`` bits) by ``+- 2^-(prec-20)``.
    """
    from mpmath import iv
    from scipy.linalg import qr

    from factmlp import activations as _acts

    K, G = _as_sym(keys), _as_sym(gates)
    Fn, dn, rn = K.rows, K.cols, G.rows
    Kf = np.array(K.tolist(), dtype=float)
    Gf = np.array(G.tolist(), dtype=float)
    Phi = system_matrix(Kf, Gf, activation)
    _, _, piv = qr(Phi, pivoting=True, mode="economic")
    cols = sorted(int(c) for c in piv[:Fn])
    old = iv.prec
    iv.prec = prec
    try:

        def ivq(v: sp.Rational):
            return iv.mpf(int(v.p)) / iv.mpf(int(v.q))

        Ki = [[ivq(K[i, t]) for t in range(dn)] for i in range(Fn)]
        Gi = [[ivq(G[j, t]) for t in range(dn)] for j in range(rn)]

        act = _acts.interval_fn(activation)  # the one definition, evaluated on intervals

        S = [[act(sum((Gi[j][t] * Ki[i][t] for t in range(dn)), iv.mpf(0))) for j in range(rn)] for i in range(Fn)]
        M = iv.matrix(Fn, Fn)
        for i in range(Fn):
            for a, col in enumerate(cols):
                j, t = divmod(col, dn)
                M[i, a] = S[i][j] * Ki[i][t]
        det = iv.det(M)
        if not hasattr(det, "a"):  # mpmath returns an exact 0 when elimination hits an exact zero pivot
            det = iv.mpf(det)
        lo, hi = float(det.a), float(det.b)
        nonzero = bool(det.a > 0 or det.b < 0)
    finally:
        iv.prec = old
    return {"columns": cols, "det_lo": lo, "det_hi": hi, "nonzero": nonzero}


# ------------------------------------------------------------------ degenerate configurations
def degenerate_examples() -> list[dict]:
    """Small exact configurations that make a system singular, one per excluded case.

    Each dict: ``name``, ``description``, ``system`` ("encoder" | "hebbian" |
    "ntk"), ``activation``, ``keys`` (SymPy Rational matrix, ``F x d``),
    ``gates`` (``r x d``; for "hebbian" the pair ``(A0, A1)``, for "ntk" the
    pair ``(G, D)``), ``rank_bound`` (the rank the reason forces, below the
    number of equations: F, or F d for "ntk").
    """
    R = sp.Rational
    k1, k2, k3 = [R(1), R(2)], [R(3), R(-1)], [R(-2), R(5)]
    G2 = sp.Matrix([[R(1), R(1, 2)], [R(-1, 3), R(2)]])
    out = [
        dict(
            name="repeated_keys",
            description="k_1 = k_2: two equal rows",
            system="encoder",
            activation="silu_or_any",
            keys=sp.Matrix([k1, k1, k3]),
            gates=G2,
            rank_bound=2,
        ),
        dict(
            name="zero_key",
            description="k_2 = 0: a zero row (act(0) * 0)",
            system="encoder",
            activation="identity",
            keys=sp.Matrix([k1, [0, 0], k3]),
            gates=G2,
            rank_bound=2,
        ),
        dict(
            name="too_many_facts",
            description="F = 5 > r d = 4: more equations than unknowns",
            system="encoder",
            activation="relu",
            keys=sp.Matrix([k1, k2, k3, [R(1, 2), R(1, 3)], [R(4), R(-3)]]),
            gates=G2,
            rank_bound=4,
        ),
        dict(
            name="keys_on_a_line",
            description=(
                "keys in a 1-dim subspace: rank <= r s = 2 < F = 3 (analytic or relu); identity: <= s(s+1)/2 = 1"
            ),
            system="encoder",
            activation="relu",
            keys=sp.Matrix([[R(1), R(2)], [R(2), R(4)], [R(-1), R(-2)]]),
            gates=G2,
            rank_bound=2,
        ),
        dict(
            name="antipodal_keys_identity",
            description="identity activation: k_2 = -k_1 gives equal rows (rows are quadratic in k)",
            system="encoder",
            activation="identity",
            keys=sp.Matrix([k1, [-R(1), -R(2)], k3]),
            gates=G2,
            rank_bound=2,
        ),
        dict(
            name="relu_gates_silent",
            description="relu: G k_2 <= 0 entrywise, so row 2 is zero",
            system="encoder",
            activation="relu",
            keys=sp.Matrix([k1, [R(-1), R(-1, 4)], k3]),
            gates=sp.Matrix([[R(1), R(1)], [R(1, 2), R(2)]]),
            rank_bound=2,
        ),
        dict(
            name="identity_beyond_symmetric_dim",
            description="identity activation, F = 4 > d(d+1)/2 = 3 although r d = 4 >= F",
            system="encoder",
            activation="identity",
            keys=sp.Matrix([k1, k2, k3, [R(1, 2), R(1, 3)]]),
            gates=G2,
            rank_bound=3,
        ),
        dict(
            name="hebbian_beyond_symmetric_dim",
            description="Hebbian features (A0 k)*(A1 k): F = 4 > d(d+1)/2 = 3 although h = 4 >= F",
            system="hebbian",
            activation="identity",
            keys=sp.Matrix([k1, k2, k3, [R(1, 2), R(1, 3)]]),
            gates=(sp.Matrix([[1, 2], [3, -1], [R(1, 2), 1], [2, 5]]), sp.Matrix([[1, -1], [2, 1], [-3, 1], [1, 4]])),
            rank_bound=3,
        ),
        dict(
            name="identity_gate_null_directions",
            description="identity activation, d = 3, r = 2, F = 6 = d(d+1)/2 <= r d, but rank <= r d - r(r-1)/2 = 5",
            system="encoder",
            activation="identity",
            keys=sp.Matrix([[1, 2, 0], [3, -1, 1], [-2, 5, 2], [R(1, 2), R(1, 3), -1], [4, 0, -3], [1, 1, 1]]),
            gates=sp.Matrix([[1, R(1, 2), -1], [R(-1, 3), 2, R(1, 4)]]),
            rank_bound=5,
        ),
        dict(
            name="ntk_relu_too_few_active_gates",
            description="NTK, relu, h = F = 2, d = 2: key 1 activates one gate, so its d = 2 rows have rank 1",
            system="ntk",
            activation="relu",
            keys=sp.Matrix([[1, 0], [0, 1]]),
            gates=(sp.Matrix([[1, -1], [-1, 1]]), sp.Matrix([[1, 2], [3, -1]])),
            rank_bound=3,
        ),
    ]
    return out


def degenerate_rank(example: dict) -> int:
    """Exact rank of a :func:`degenerate_examples` entry's system (relu for 'silu_or_any')."""
    if example["system"] == "hebbian":
        a0, a1 = example["gates"]
        return exact_rank(hebbian_system_matrix_symbolic(example["keys"], a0, a1))
    if example["system"] == "ntk":
        g, dn = example["gates"]
        return exact_rank(ntk_system_matrix_symbolic(example["keys"], g, dn, example["activation"]))
    act = example["activation"]
    act = "relu" if act == "silu_or_any" else act
    return exact_rank(system_matrix_symbolic(example["keys"], example["gates"], act))


# ------------------------------------------------------------------ step kinds
class _ClaimStep(Step):
    """A step whose claim is a proposition (its description), not a numeric relation."""

    def relation(self) -> Claim:
        """The :class:`~theory.derivation.Claim` named by the description."""
        return Claim(self.description)


def _conjunction(steps: Sequence[Step]) -> Any:
    """The statement made by a list of claim steps: the conjunction of their claims."""
    return sp.And(*[st.relation() for st in steps])


@dataclass
class NonzeroPolynomial(_ClaimStep):
    """``expr`` (a polynomial in ``gens``) is not the zero polynomial: expand and compare."""

    gens: tuple = ()
    method = "polynomial"

    def __init__(self, description: str, expr: Any, gens: Sequence[sp.Symbol]) -> None:
        super().__init__(description, expr, "!=", 0, [])
        self.gens = tuple(gens)

    def latex(self) -> str:
        return sp.latex(sp.Ne(sp.Symbol(r"\det"), 0)) if sp.count_ops(self.lhs) > 200 else sp.latex(sp.Ne(self.lhs, 0))

    def check(self) -> StepResult:
        n_terms, degree = _poly_terms(sp.sympify(self.lhs), self.gens)
        if n_terms == 0:
            return StepResult(FAILED, "the polynomial is identically zero")
        return StepResult(PROVED, f"nonzero polynomial: {n_terms} terms, total degree {degree}")


@functools.lru_cache(maxsize=64)
def _poly_terms(expr: sp.Expr, gens: tuple) -> tuple[int, int]:
    """``(number of terms, total degree)`` of the expanded polynomial (memoized; pure in ``expr``)."""
    poly = sp.Poly(sp.expand(expr), *gens)
    if poly.is_zero:
        return 0, 0
    return len(poly.terms()), int(poly.total_degree())


@dataclass
class RankAtLeast(_ClaimStep):
    """Exact rank of a rational matrix is ``>= value`` (a witness; exact over QQ)."""

    method = "exact-rank"

    def __init__(self, description: str, matrix: sp.Matrix, value: int) -> None:
        super().__init__(description, sp.Symbol(r"\operatorname{rank}\Phi"), ">=", value, [])
        self.matrix = matrix

    def check(self) -> StepResult:
        if any(not v.is_Rational for v in self.matrix):
            return StepResult(UNCHECKED, "matrix entries are not all exact rationals")
        rk = exact_rank(self.matrix)
        if rk >= int(self.rhs):
            return StepResult(PROVED, f"exact rank {rk} over QQ")
        return StepResult(FAILED, f"exact rank {rk} < {self.rhs}")


@dataclass
class RankAtMost(_ClaimStep):
    """``Phi = L R`` with ``L`` having ``value`` columns (checked by exact expansion): rank <= value."""

    method = "factorization"

    def __init__(self, description: str, matrix: sp.Matrix, left: sp.Matrix, right: sp.Matrix) -> None:
        super().__init__(description, sp.Symbol(r"\operatorname{rank}\Phi"), "<=", left.cols, [])
        self.matrix, self.left, self.right = matrix, left, right

    def check(self) -> StepResult:
        diff = (self.matrix - self.left * self.right).applyfunc(sp.expand)
        if all(v == 0 for v in diff):
            return StepResult(PROVED, f"Phi = L R with L of {self.left.cols} columns (exact expansion)")
        return StepResult(FAILED, "Phi != L R")


@dataclass
class KernelContains(_ClaimStep):
    """``Phi x == 0`` identically (symbolic entries expanded): ``x`` is a null vector."""

    method = "kernel"

    def __init__(self, description: str, matrix: sp.Matrix, vector: sp.Matrix) -> None:
        super().__init__(description, sp.Symbol(r"\Phi x"), "==", 0, [])
        self.matrix, self.vector = matrix, vector

    def check(self) -> StepResult:
        if all(v == 0 for v in self.vector):
            return StepResult(FAILED, "the claimed null vector is zero")
        prod = (self.matrix * self.vector).applyfunc(sp.expand)
        if all(v == 0 for v in prod):
            return StepResult(PROVED, "Phi x expands to 0")
        return StepResult(FAILED, "Phi x != 0")


@dataclass
class IntervalNonzeroMinor(_ClaimStep):
    """A maximal minor of the analytic-activation system encloses away from 0 (mpmath ``iv``)."""

    method = "interval"

    def __init__(self, description: str, keys: sp.Matrix, gates: sp.Matrix, activation: str) -> None:
        super().__init__(description, sp.Symbol(r"\det\Phi_{:,S}"), "!=", 0, [])
        self.keys, self.gates, self.activation = keys, gates, activation

    def latex(self) -> str:
        return r"\det \Phi_{:,S} \neq 0"

    def check(self) -> StepResult:
        res = interval_full_rank(self.keys, self.gates, self.activation)
        if res["nonzero"]:
            return StepResult(PROVED, f"det enclosed in [{res['det_lo']:.3e}, {res['det_hi']:.3e}]")
        # interval arithmetic can only prove nonvanishing, never vanishing: no "failed" here
        return StepResult(UNCHECKED, f"enclosure [{res['det_lo']:.3e}, {res['det_hi']:.3e}] contains 0")


# ------------------------------------------------------------------ derivations
def _sym_keys(n_facts: int, dim: int) -> tuple[sp.Matrix, list]:
    syms = sp.symbols(f"k1:{n_facts + 1}_1:{dim + 1}", real=True)
    return sp.Matrix(n_facts, dim, syms), list(syms)


@functools.cache
def encoder_symbolic_derivation() -> Derivation:
    """Maximal minors as nonzero polynomials in symbolic keys (identity activation, small sizes)."""
    R = sp.Rational
    steps: list[Step] = []
    # d = 2, r = 2, F = 3 (= d(d+1)/2): fixed rational gates, symbolic keys
    K, ks = _sym_keys(3, 2)
    G = sp.Matrix([[1, R(1, 2)], [R(-1, 3), 2]])
    Phi = system_matrix_symbolic(K, G, "identity")
    steps.append(
        NonzeroPolynomial("d=2, r=2, F=3, rational G: minor on columns 0,1,2", Phi[:, :3].det(method="berkowitz"), ks)
    )
    # d = 2, r = 1, F = 2: symbolic gate and keys
    K, ks = _sym_keys(2, 2)
    gs = sp.symbols("g1:3", real=True)
    Phi = system_matrix_symbolic(K, sp.Matrix([list(gs)]), "identity")
    steps.append(
        NonzeroPolynomial("d=2, r=1, F=2, symbolic gate: det = (g.k1)(g.k2)(k1 x k2)", Phi.det(), ks + list(gs))
    )
    # d = 3, r = 2, F = 4: rational gates, symbolic keys, 4x4 minor
    K, ks = _sym_keys(4, 3)
    G = sp.Matrix([[1, R(1, 2), -1], [R(-1, 3), 2, R(1, 4)]])
    Phi = system_matrix_symbolic(K, G, "identity")
    steps.append(
        NonzeroPolynomial(
            "d=3, r=2, F=4, rational G: minor on columns 0,1,2,4",
            Phi.extract(list(range(4)), [0, 1, 2, 4]).det(method="berkowitz"),
            ks,
        )
    )
    return Derivation(
        name="measure zero: encoder minors are nonzero polynomials (small sizes)",
        statement=_conjunction(steps),
        symbols=ks,
        assumptions=(
            "identity activation; Phi row i = kron(G k_i, k_i); a maximal minor is a polynomial in the key "
            "coordinates; a nonzero polynomial vanishes only on a Lebesgue-null set, so for almost every key "
            "set Phi has full row rank F (F <= min(r d, d(d+1)/2))."
        ),
        steps=steps,
        references=["a nonzero polynomial's zero set has measure zero (e.g. Caron and Traynor 2005)"],
    )


#: sizes of the exact witnesses registered as derivations: (F, d, r, activation)
WITNESS_SIZES = ((26, 8, 4, "identity"), (36, 8, 5, "relu"), (36, 8, 5, "silu"), (20, 5, 4, "gelu"))


@functools.cache
def encoder_witness_derivation() -> Derivation:
    """Exact (identity, relu) and interval (silu, gelu) witnesses of full row rank."""
    steps: list[Step] = []
    for Fn, dn, rn, act in WITNESS_SIZES:
        if act in ("identity", "relu"):
            wit = rational_witness(Fn, dn, rn, act, seed=Fn * 1000 + dn)
            steps.append(
                RankAtLeast(
                    f"{act}: F={Fn}, d={dn}, r={rn}, exact rational witness, rank = F",
                    system_matrix_symbolic(wit["keys"], wit["gates"], act),
                    Fn,
                )
            )
        else:
            rng = np.random.default_rng(Fn * 1000 + dn)
            K = _rand_rationals(rng, (Fn, dn))
            G = _rand_rationals(rng, (rn, dn))
            steps.append(IntervalEnclosesDefinition(act))
            steps.append(
                IntervalNonzeroMinor(
                    f"{act}: F={Fn}, d={dn}, r={rn}, interval witness, a maximal minor != 0", K, G, act
                )
            )
    return Derivation(
        name="measure zero: encoder full row rank witnesses",
        statement=_conjunction(steps),
        symbols=[],
        assumptions=(
            "identity: F <= min(r d, d(d+1)/2), minor polynomial in keys and gates, witness => not the zero "
            "polynomial => full rank off a null set. silu/gelu: minor real-analytic in keys and gates, "
            "witness => not identically zero => zero set null (zero sets of nonzero analytic functions are "
            "null). relu: exact witness => full rank on an open set only (relu degeneracy is not null in "
            "general). gelu's enclosure relies on mpmath's erf accuracy at prec + 30 bits."
        ),
        steps=steps,
        references=["B. Mityagin, The zero set of a real analytic function (2015)"],
    )


@functools.cache
def identity_rank_bound_derivation() -> Derivation:
    """rank Phi <= d(d+1)/2 for identity activation: Phi = (monomials k_a k_b) x M(G)."""
    dn, rn, Fn = 3, 2, 7
    K, ks = _sym_keys(Fn, dn)
    gs = sp.Matrix(rn, dn, sp.symbols(f"g1:{rn + 1}_1:{dn + 1}", real=True))
    Phi = system_matrix_symbolic(K, gs, "identity")
    pairs = [(a, bb) for a in range(dn) for bb in range(a, dn)]
    L = sp.Matrix(Fn, len(pairs), lambda i, p: K[i, pairs[p][0]] * K[i, pairs[p][1]])

    # column (j, t) of Phi is sum_a g_{j a} k_a k_t: coefficient of monomial k_a k_b
    def coef(p: int, col: int) -> sp.Expr:
        a, bb = pairs[p]
        j, t = divmod(col, dn)
        val = 0
        if t == bb:
            val += gs[j, a]
        if t == a and a != bb:
            val += gs[j, bb]
        return val

    Rm = sp.Matrix(len(pairs), rn * dn, coef)
    # null vector of the r = 2 gate rows: A_1 = g_2, A_2 = -g_1 (k^T (g_1 g_2^T - g_2 g_1^T) k = 0)
    null = sp.Matrix(list(gs.row(1)) + list(-gs.row(0)))
    wit26 = rational_witness(26, 8, 4, "identity", seed=26008)
    wit_keys = sp.Matrix([[1, 2], [3, -1], [-2, 5], [sp.Rational(1, 2), sp.Rational(1, 3)]])
    G2 = sp.Matrix([[1, sp.Rational(1, 2)], [sp.Rational(-1, 3), 2]])
    steps: list[Step] = [
        RankAtMost("Phi = L(k) M(G), L = monomials k_a k_b (a <= b), d=3: 6 columns", Phi, L, Rm),
        RankAtLeast("d=2, F=4, r=2 rational keys: rank reaches 3", system_matrix_symbolic(wit_keys, G2, "identity"), 3),
        KernelContains("null direction A_1 = g_2, A_2 = -g_1 (symbolic keys and gates, d=3, r=2)", Phi, null),
        RankAtLeast(
            "the cap r d - r(r-1)/2 is attained: d=8, r=4, F=26 exact witness",
            system_matrix_symbolic(wit26["keys"], wit26["gates"], "identity"),
            26,
        ),
    ]
    return Derivation(
        name="measure zero: identity activation caps the rank at d(d+1)/2 and r d - r(r-1)/2",
        statement=_conjunction(steps),
        symbols=ks,
        assumptions=(
            "identity activation: row i = (G (x) I)(k_i (x) k_i) and k (x) k lies in the symmetric subspace of "
            "dimension d(d+1)/2; so F > d(d+1)/2 facts are never fitted exactly by this system, whatever r. "
            "For r <= d the r(r-1)/2 vectors (A_j, A_l) = (g_l, -g_j) are null, so rank <= r d - r(r-1)/2. "
            "Checked: the factorization for d = 3, r = 2, F = 7 with symbolic keys and gates; the bound is attained "
            "(exact rank 3 = d(d+1)/2 for d = 2, F = 4, r = 2)."
        ),
        steps=steps,
        references=["symmetric tensors: dim Sym^2(R^d) = d(d+1)/2"],
    )


@functools.cache
def ntk_derivation() -> Derivation:
    """NTK system: nonzero polynomial minor (small, symbolic keys) and an exact witness."""
    R = sp.Rational
    K, ks = _sym_keys(2, 2)
    G = sp.Matrix([[1, R(1, 2)], [R(-1, 3), 2]])
    D = sp.Matrix([[1, R(-1, 2)], [R(2, 3), 1]])
    Phi = ntk_system_matrix_symbolic(K, G, D, "identity")
    rng = np.random.default_rng(7)
    Fn, dn = 24, 4  # h = F, d_out = d; relu needs >= d active gates on every key (small F often fails)
    Kw, Gw, Dw = _rand_rationals(rng, (Fn, dn)), _rand_rationals(rng, (Fn, dn)), _rand_rationals(rng, (dn, Fn))
    steps: list[Step] = [
        NonzeroPolynomial(
            "d=2, h=F=2, rational G, D: det is a nonzero polynomial in the keys", Phi.det(method="berkowitz"), ks
        ),
        RankAtLeast(
            "relu, F=h=24, d=4: exact witness, rank = F d = 96", ntk_system_matrix_symbolic(Kw, Gw, Dw, "relu"), Fn * dn
        ),
    ]
    return Derivation(
        name="measure zero: NTK kernel system (h = F)",
        statement=_conjunction(steps),
        symbols=ks,
        assumptions=(
            "rows kron(D[c,:] * act(G k_i), k_i): F d equations, h d unknowns, h = F. identity activation: a "
            "polynomial determinant; relu witness exact (full rank on an open set). relu needs at least d_out "
            "active gates on every key: the d_out rows of key i lie in (D diag(s_i)) (x) k_i, of rank <= |supp s_i|. "
            "Identity activation caps the rank at d_out d(d+1)/2 (rows are linear in k (x) k), so the identity NTK "
            "system needs F <= d(d+1)/2; the polynomial step below is inside that range."
        ),
        steps=steps,
        references=["construction: THEORY_NOTES section 4.3"],
    )


@functools.cache
def hebbian_derivation() -> Derivation:
    """Hebbian ridge features: nonzero polynomial minor and exact witness (F <= min(h, d(d+1)/2))."""
    R = sp.Rational
    K, ks = _sym_keys(3, 2)
    A0 = sp.Matrix([[1, 2], [3, -1], [R(1, 2), 1]])
    A1 = sp.Matrix([[1, -1], [2, 1], [-3, 1]])
    Phi = hebbian_system_matrix_symbolic(K, A0, A1)
    rng = np.random.default_rng(11)
    Fn, dn, hn = 30, 8, 32
    Kw, A0w, A1w = _rand_rationals(rng, (Fn, dn)), _rand_rationals(rng, (hn, dn)), _rand_rationals(rng, (hn, dn))
    steps: list[Step] = [
        NonzeroPolynomial("d=2, h=F=3: det is a nonzero polynomial in the keys", Phi.det(method="berkowitz"), ks),
        RankAtLeast("F=30, d=8, h=32: exact witness, rank = F", hebbian_system_matrix_symbolic(Kw, A0w, A1w), Fn),
    ]
    return Derivation(
        name="measure zero: Hebbian ridge features (h >= F)",
        statement=_conjunction(steps),
        symbols=ks,
        assumptions=(
            "rows (A0 k_i) * (A1 k_i), quadratic in k_i: rank <= min(F, h, d(d+1)/2); full row rank for almost "
            "every key set when F <= min(h, d(d+1)/2)."
        ),
        steps=steps,
        references=["construction: THEORY_NOTES section 4.2"],
    )
