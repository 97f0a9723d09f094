"""The encoder-decoder construction (``method="encdec"``).

Notation: keys ``K`` (F x d), values ``V`` (N x d), map ``f``; ``u*_j`` the
margin-optimal readout direction of value ``j`` (:mod:`factmlp.decodability`).

Decoder.  A projection ``Q`` (m x d) maps values to codes space,
``z_j = Q v_j``; the code of fact ``i`` is ``c_i = u*_{f(i)}(Z)``, the readout
direction of value ``f(i)`` among the projected values ``Z = V Q^T``.  The
output map is ``Q^T``, so ``<Q^T c_i, v_{f(i)} - v_j> = <c_i, z_{f(i)} - z_j>
>= rho_{f(i)}(Z) ||z_{f(i)} - z_j||``: every fact whose code is fitted exactly
is stored as soon as the projected value ``z_{f(i)}`` is still a vertex.
``Q = I`` when ``m = d`` (then ``rho(Z) = rho(V)``); for ``m < d``, ``Q`` is a
random Gaussian (JL, :mod:`theory.jl`) or the top-``m`` principal directions
of the values.  ``whiten=True`` composes ``Q`` with ``Sigma^{-1/2}`` of the
values (higher rho for anisotropic values, larger Lipschitz constant); a
strength ``whiten=s`` in [0, 1] uses ``Sigma^{-s/2}`` (``s = 0``: none,
``s = 1``: full), the knob of the capacity-vs-usability tradeoff.

Encoder.  Hidden units come in ``m`` groups of ``r`` units; the groups share
``r`` random gate rows ``G`` (r x d).  Code coordinate ``c`` of key ``k`` is
``E_c(k) = sum_t act(G_t . k) (A_{c,t} . k)``, linear in ``A_c`` (r x d), so
fitting all codes is the one linear system

    Phi X = C,   Phi (F x r d) with row i = kron(act(G k_i), k_i),   X (r d x m),

shared by all ``m`` coordinates.  For ``r d >= F`` it is solvable for generic
keys (the measure-zero analysis in :mod:`theory.measure_zero`); the
minimum-norm solution is ``X = Phi^T (Phi Phi^T)^{-1} C`` with the Gram
matrix ``Phi Phi^T = (S S^T) o (K K^T)`` (Hadamard product, ``S = act(K G^T)``),
one Cholesky factorisation and a step of iterative refinement.

Folding.  Unit ``(c, t)`` (index ``c r + t``) has gate row ``G_t``, up row
``A_{c,t}`` and down column ``Q[c, :]^T``: one standard gated MLP of width
``h = m r`` (plus zero padding up to the requested width), ``3 d h``
parameters.  The factored form (``G``, ``A``, ``Q``) has ``d r + d m r + m d``.

Default width: ``h = m ceil(F/d)`` with ``m`` the smallest code dimension
whose projected used values are certified vertices (``rho(V Q^T) > 0``,
bisection on ``m``, seeded projections; :func:`min_code_dim`): the
compression regime.  ``code_dim="theory"`` keeps the JL theory's ``m =
min(d, ceil(M_DECODER(rho, N, delta)))`` (:func:`theory.param_counts.hidden_width`),
an int forces ``m``.  A random projection whose projected used values are not
all certified vertices is redrawn from the construction's seed stream, up to
``PROJECTION_TRIES`` times (``info["projection_tries"]``); at the default
width the search's certified projection is reused.  An explicit
width ``h`` uses ``m = min(d, h // ceil(F/d))`` code coordinates and
``r = h // m`` gate rows (more rows than ``ceil(F/d)`` improve conditioning).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.linalg

from .._linalg import BLOCK, cho_solve_blocked, cholesky_blocked
from .._separation import separated
from ..decodability import decodability
from ..errors import DegenerateKeysError, InvalidInputError, format_indices
from ..factset import FactSet
from ..mlp import ACTIVATIONS, GatedMLP, activation_fn
from ..validation import check_seed
from .registry import Built, feasibility, register_method

__all__ = ["build_encdec", "encdec_default_hidden", "encdec_layout", "conflicting_duplicate_keys"]

PROJECTIONS = ("auto", "random", "pca", "identity")
DELTA = 0.01  # failure probability of the JL decoder guarantee used for the default width
RESIDUAL_TOL = 1e-6  # relative residual above which an exact fit (r d >= F) is declared failed
CODE_DIM_RULES = ("min", "theory")  # default code dimension: smallest certified (default) or the JL theory's
PROJECTION_TRIES = 8  # random projections drawn (from the construction's seed) until the projected used values
#                       are certified vertices; the default width's search draws SEARCH_TRIES per code dimension
SEARCH_TRIES = 3
OPEN_BATCH = 32  # values in the first exact decodability call of the vertex check (then doubling)
SEARCH_SEED = 0x5EED  # seed stream of the search's projections (the construction draws its own)
_MIN_CACHE: dict = {}
_MIN_CACHE_SIZE = 16


def _options(
    activation: str = "silu",
    projection: str = "auto",
    whiten: bool | float = False,
    code_dim: int | str | None = None,
    delta: float = DELTA,
    gate_slack: int = 0,
) -> dict:
    if activation not in ACTIVATIONS:
        raise InvalidInputError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    if projection not in PROJECTIONS:
        raise InvalidInputError(f"projection must be one of {PROJECTIONS}, got {projection!r}")
    if isinstance(whiten, (bool, np.bool_)):
        strength = 1.0 if whiten else 0.0
    elif isinstance(whiten, (int, float, np.integer, np.floating)) and 0.0 <= float(whiten) <= 1.0:
        strength = float(whiten)
    else:
        raise InvalidInputError(f"whiten must be a bool or a strength in [0, 1], got {whiten!r}")
    if code_dim in CODE_DIM_RULES:
        pass
    elif code_dim is not None and (
        isinstance(code_dim, bool) or not isinstance(code_dim, (int, np.integer)) or int(code_dim) < 1
    ):
        raise InvalidInputError(f"code_dim must be a positive int, 'min' or 'theory', got {code_dim!r}")
    if not (0.0 < float(delta) < 1.0):
        raise InvalidInputError(f"delta must lie in (0, 1), got {delta!r}")
    if isinstance(gate_slack, bool) or not isinstance(gate_slack, (int, np.integer)) or int(gate_slack) < 0:
        raise InvalidInputError(f"gate_slack must be an int >= 0, got {gate_slack!r}")
    return {
        "activation": activation,
        "projection": projection,
        "whiten": strength > 0,
        "strength": strength,
        "code_dim": code_dim if code_dim is None or code_dim in CODE_DIM_RULES else int(code_dim),
        "delta": float(delta),
        "gate_slack": int(gate_slack),
    }


def _whitening(values: np.ndarray, strength: float = 1.0) -> np.ndarray:
    """``Sigma^{-s/2}`` (d x d, symmetric) of the values' covariance, eigenvalues floored at 1e-12 max."""
    centred = values - values.mean(axis=0)
    cov = centred.T @ centred / max(values.shape[0] - 1, 1)
    w, U = np.linalg.eigh(cov)
    w = np.maximum(w, 1e-12 * max(float(w.max()), 1e-300))
    return (U * w ** (-strength / 2.0)) @ U.T


def _theory_code_dim(factset: FactSet, opts: dict) -> int:
    from theory.param_counts import encdec_code_dim

    if isinstance(opts["code_dim"], int):
        return min(opts["code_dim"], factset.dim)
    rho = float(feasibility(factset).rho)
    if opts["whiten"]:
        W = _whitening(factset.values, opts["strength"])
        rho = float(decodability(factset.values @ W, factset.used_values).rho)
    if not rho > 0:  # cannot happen for a feasible set; keep the guarantee's width finite
        return factset.dim
    return encdec_code_dim(
        F=factset.n_facts, N=max(factset.n_values, 2), d=factset.dim, rho=min(rho, 1.0), delta=opts["delta"]
    )


def _vertices_survive(factset: FactSet, Q: np.ndarray) -> bool:
    """Whether every used projected value ``z_j = Q v_j`` is a certified vertex (``rho(V Q^T) > 0``).

    A quick certificate first: ``c_j = (Q Q^T)^{-1} Q u*_j`` (the readout
    ``u*_j`` of the unprojected value, pulled into code space) separates
    ``z_j`` from every other ``z_l`` when the rigorous test of
    :func:`factmlp._separation.separated` passes; a strictly separating direction proves
    ``z_j`` a vertex.  The values it leaves open go to
    :func:`factmlp.decodability.decodability` (``indices=`` those only), in
    batches of ``OPEN_BATCH``, ``2 OPEN_BATCH``, ``4 OPEN_BATCH``, ... (one
    solve's fixed cost is O(N d), so doubling keeps the number of calls
    logarithmic), stopping at the first batch holding a non-vertex.
    """
    Z = factset.values @ Q.T
    used = np.asarray(factset.used_values, dtype=np.int64)
    U = np.asarray(feasibility(factset).directions, dtype=np.float64)[used]
    C = np.linalg.lstsq(Q.T, U.T, rcond=None)[0].T  # (|J|, m): argmin ||Q^T c - u*_j||
    rest = used[~separated(Z, used, C)]
    lo, batch = 0, OPEN_BATCH
    while lo < rest.size:  # stop at the first batch holding a non-vertex; batches double
        if not float(decodability(Z, rest[lo : lo + batch]).rho) > 0:
            return False
        lo, batch = lo + batch, 2 * batch
    return True


def min_code_dim(factset: FactSet, **options: Any) -> dict:
    """Smallest code dimension ``m`` whose projected used values are all certified vertices.

    ``ok(m)``: one of ``SEARCH_TRIES`` projections (drawn as the construction
    draws them, seeds ``(SEARCH_SEED, m, t)``) has ``rho(V Q^T) > 0``,
    certified by :func:`factmlp.decodability.decodability`; ``ok(d)`` holds
    for every feasible set (``Q`` is the identity, or an invertible
    whitening).  Bisection on ``m`` in ``[1, d]`` assumes ``ok`` monotone in
    ``m`` (likely, not proven, for random projections): the result is the
    smallest storing ``m`` of the probed ones.  Returns ``{"m", "probes":
    [(m, ok), ...], "projection_seed"}`` (the seed of the certified
    projection at ``m``, ``None`` when ``m = d`` needs none); cached per fact
    set and options.  The construction at the default width reuses that
    projection, so its projected values are certified vertices.
    """
    opts = _options(**options)
    d = factset.dim
    key = (factset.fingerprint(), opts["projection"], opts["strength"])
    if key in _MIN_CACHE:
        return _MIN_CACHE[key]
    probes: list[tuple[int, bool]] = []
    found: dict[int, int] = {}  # m -> index t of the certified search projection

    def ok(m: int) -> bool:
        if m >= d and opts["projection"] in ("auto", "identity"):
            return True
        if opts["projection"] == "identity":
            return False
        tries = 1 if opts["projection"] == "pca" else SEARCH_TRIES
        for t in range(tries):
            Q, _ = _projection(factset, m, opts, np.random.default_rng([SEARCH_SEED, m, t]))
            if _vertices_survive(factset, Q):
                probes.append((m, True))
                found[m] = t
                return True
        probes.append((m, False))
        return False

    lo, hi = 0, d  # ok(lo) False by convention (m = 0), ok(hi) True
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    out = {"m": hi, "probes": probes, "projection_seed": None if hi not in found else [SEARCH_SEED, hi, found[hi]]}
    _MIN_CACHE[key] = out
    while len(_MIN_CACHE) > _MIN_CACHE_SIZE:
        _MIN_CACHE.pop(next(iter(_MIN_CACHE)))
    return out


def _code_dim(factset: FactSet, opts: dict, options: dict) -> int:
    """The default width's code dimension: ``code_dim`` if an int, the theory's (``"theory"``), else the search's."""
    if isinstance(opts["code_dim"], int) or opts["code_dim"] == "theory":
        return _theory_code_dim(factset, opts)
    return min_code_dim(factset, **{k: v for k, v in options.items() if k != "gate_slack"})["m"]


def encdec_default_hidden(factset: FactSet, **options: Any) -> int:
    """Default width ``h = m (ceil(F/d) + gate_slack)``.

    ``m`` is the smallest code dimension whose projected used values are
    certified vertices (:func:`min_code_dim`, the default ``code_dim="min"``);
    ``code_dim="theory"`` gives the JL theory's ``m = min(d, ceil(M_DECODER))``
    (the width before the search existed); an int forces ``m``.
    ``gate_slack = 0`` (default) is the theory's row count ``ceil(F/d)``.
    """
    opts = _options(**options)
    return _code_dim(factset, opts, options) * (math.ceil(factset.n_facts / factset.dim) + opts["gate_slack"])


def encdec_param_bound(factset: FactSet, hidden: int, **options: Any) -> int:
    """The theory's folded count ``3 d m ceil(F/d)`` at the JL code dimension (no gate slack).

    With ``code_dim`` an int, at that ``m``; the searched default ``m`` never
    exceeds ``d``, and the bound uses ``min(d, M_DECODER)``.
    """
    opts = dict(options, gate_slack=0)
    if not isinstance(opts.get("code_dim"), (int, np.integer)) or isinstance(opts.get("code_dim"), bool):
        opts["code_dim"] = "theory"
    return 3 * factset.dim * encdec_default_hidden(factset, **opts)


def encdec_layout(n_facts: int, dim: int, hidden: int, code_dim: int | None = None) -> tuple[int, int]:
    """``(m, r)`` used at width ``hidden``: ``m = min(d, hidden // ceil(F/d))`` (or ``code_dim``), ``r = hidden // m``.

    Raises :class:`InvalidInputError` when ``hidden`` leaves no room for one
    group of ``ceil(F/d)`` units (or for ``code_dim`` groups of one unit).
    """
    r0 = math.ceil(n_facts / dim)
    if code_dim is not None:
        m = min(int(code_dim), dim)
        if hidden < m:
            raise InvalidInputError(f"hidden={hidden} is below code_dim={m} (one unit per code coordinate)")
        return m, hidden // m
    m = min(dim, hidden // r0)
    if m < 1:
        raise InvalidInputError(
            f"hidden={hidden} is below the structural minimum ceil(F/d) = {r0} units of one code group"
        )
    return m, hidden // m


def encdec_widths(factset: FactSet, **options: Any) -> list[int]:
    """Widths meaningful for the capacity search: ``m ceil(F/d)`` for ``m = 1..d``."""
    r0 = math.ceil(factset.n_facts / factset.dim)
    return [m * r0 for m in range(1, factset.dim + 1)]


def conflicting_duplicate_keys(factset: FactSet) -> list[tuple[int, int]]:
    """Pairs ``(i, j)``, ``i < j``, of identical keys mapped to different values (no MLP stores both)."""
    keys = np.ascontiguousarray(factset.keys)
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    pairs = []
    for i in range(keys.shape[0]):
        j0 = int(first[inverse[i]])
        if j0 != i and factset.mapping[j0] != factset.mapping[i]:
            pairs.append((j0, i))
    return pairs


def _projection(factset: FactSet, m: int, opts: dict, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    d = factset.dim
    base = _whitening(factset.values, opts["strength"]) if opts["whiten"] else np.eye(d)
    kind = opts["projection"]
    if kind == "auto":
        kind = "identity" if m >= d else "random"
    if kind == "identity":
        if m != d:
            raise InvalidInputError(f"projection='identity' needs code_dim = d = {d}, got {m}")
        return base, kind
    if kind == "random":
        P = rng.standard_normal((m, d)) / math.sqrt(m)
    else:  # pca of the (whitened) values
        z = factset.values @ base
        z = z - z.mean(axis=0)
        _, _, vt = np.linalg.svd(z, full_matrices=False)
        P = vt[:m]
    return P @ base, kind


def _codes(factset: FactSet, Q: np.ndarray, identity: bool) -> tuple[np.ndarray, float]:
    """Readout directions of the projected values ``Z = V Q^T`` for every fact, and ``rho(Z)``."""
    if identity and not np.any(Q - np.eye(Q.shape[0])):
        res = feasibility(factset)
    else:
        res = decodability(factset.values @ Q.T, factset.used_values)
    return np.asarray(res.directions)[factset.mapping], float(res.rho)


def _lower_gram(S: np.ndarray, K: np.ndarray, rows: int = 2048) -> np.ndarray:
    """The lower triangle (by row blocks, diagonal blocks in full) of ``Phi Phi^T = (S S^T) o (K K^T)`` (F x F).

    Row block ``[lo, hi)`` holds columns ``[0, hi)``; the entries right of it
    stay zero, which :func:`factmlp._linalg.cholesky_blocked` never reads.
    Half the products of the full Gram matrix, and ``rows x F`` temporaries.
    """
    F = S.shape[0]
    gram = np.zeros((F, F))
    for lo in range(0, F, rows):
        hi = min(F, lo + rows)
        block = S[lo:hi] @ S[:hi].T
        block *= K[lo:hi] @ K[:hi].T
        gram[lo:hi, :hi] = block
    return gram


def _solve_codes(S: np.ndarray, K: np.ndarray, C: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """Minimum-norm (or least-squares) ``X`` with ``Phi X = C``, ``Phi = rows kron(S_i, K_i)``.

    Returns ``X`` of shape (r, d, m), the relative residual
    ``||Phi X - C|| / ||C||`` and the per-row residual norms ``||(Phi X - C)_i||`` (F,).
    """
    F, r = S.shape
    d = K.shape[1]

    m = C.shape[1]
    chunk = max(1, (1 << 24) // max(r * m, 1))  # rows per block: (chunk, r, m) intermediates <= 128 MiB

    def phi_t(Y: np.ndarray) -> np.ndarray:  # Phi^T Y, (r, d, m): sum_i (S_i (x) Y_i)^T K_i, by BLAS blocks
        acc = np.zeros((r * m, d))
        for lo in range(0, F, chunk):
            hi = min(F, lo + chunk)
            Z = (S[lo:hi, :, None] * Y[lo:hi, None, :]).reshape(hi - lo, r * m)
            acc += Z.T @ K[lo:hi]
        return acc.reshape(r, m, d).transpose(0, 2, 1)

    def phi(X: np.ndarray) -> np.ndarray:  # Phi X, (F, m): sum_t S_it (K_i . X[t, :, c])
        Xm = X.transpose(1, 0, 2).reshape(d, r * m)
        out = np.empty((F, m))
        for lo in range(0, F, chunk):
            hi = min(F, lo + chunk)
            KX = (K[lo:hi] @ Xm).reshape(hi - lo, r, m)
            out[lo:hi] = np.einsum("it,itc->ic", S[lo:hi], KX)
        return out

    if r * d >= F:
        gram = _lower_gram(S, K)
        scale = float(np.trace(gram)) / F
        gram[np.diag_indices(F)] += 1e-14 * scale
        try:
            L = cholesky_blocked(gram, BLOCK)  # in place: gram now holds the factor
        except np.linalg.LinAlgError as exc:
            raise DegenerateKeysError(f"encoder Gram matrix is not positive definite ({exc})") from exc
        X = phi_t(cho_solve_blocked(L, C, BLOCK))
        for _ in range(2):  # iterative refinement
            R = C - phi(X)
            X = X + phi_t(cho_solve_blocked(L, R, BLOCK))
    else:  # fewer unknowns than equations: least squares on the normal equations
        Phi = (S[:, :, None] * K[:, None, :]).reshape(F, r * d)
        A = Phi.T @ Phi
        scale = float(np.trace(A)) / A.shape[0]
        sol = scipy.linalg.solve(A + (1e-12 * scale) * np.eye(A.shape[0]), Phi.T @ C, assume_a="pos")
        X = sol.reshape(r, d, -1)
    rows = np.linalg.norm(phi(X) - C, axis=1)
    resid = np.linalg.norm(rows) / max(np.linalg.norm(C), 1e-300)
    return X, float(resid), rows


def build_encdec(factset: FactSet, hidden: int, seed: Any = 0, **options: Any) -> Built:
    """Encoder-decoder MLP of width ``hidden`` for ``factset`` (see the module docstring).

    Options: ``activation`` (gate activation, default ``silu``), ``projection``
    (``auto``: identity when ``m = d``, else ``random``; or ``random``, ``pca``,
    ``identity``), ``whiten`` (bool, or a strength in [0, 1]), ``code_dim`` (force ``m``), ``delta``
    (failure probability for the default width's JL dimension), ``gate_slack``
    (extra gate rows beyond ``ceil(F/d)`` at the default width: more
    parameters than the theory's count, much smaller weights; see
    docs/constructions.md).

    Raises :class:`DegenerateKeysError` for identical keys mapped to different
    values, and when ``r d >= F`` yet the system cannot be fitted (keys in a
    subspace too small for the encoder, and other degenerate configurations).
    """
    opts = _options(**options)
    pairs = conflicting_duplicate_keys(factset)
    if pairs:
        idx = sorted({i for p in pairs for i in p})
        raise DegenerateKeysError(
            f"keys {format_indices(idx)} are identical but mapped to different values "
            f"(pairs {pairs[:5]}{' ...' if len(pairs) > 5 else ''}); no function stores both",
            indices=idx,
        )
    rng = check_seed(seed)
    F, d = factset.n_facts, factset.dim
    layout_dim = opts["code_dim"] if isinstance(opts["code_dim"], int) else None
    search_seed = None
    if layout_dim is None:  # the default width m (ceil(F/d) + slack) is laid out with its own m
        m_default = _code_dim(factset, opts, options)
        if hidden == m_default * (math.ceil(F / d) + opts["gate_slack"]):
            layout_dim = m_default
            if opts["code_dim"] != "theory":
                search_seed = min_code_dim(factset, **{k: v for k, v in options.items() if k != "gate_slack"})[
                    "projection_seed"
                ]
    m, r = encdec_layout(F, d, hidden, layout_dim)
    tries = 0
    while True:  # a random projection is redrawn (same seed stream) until the used values stay vertices
        tries += 1
        Q, proj_kind = _projection(factset, m, opts, rng if search_seed is None else np.random.default_rng(search_seed))
        codes, rho_z = _codes(factset, Q, proj_kind == "identity" and not opts["whiten"])
        if rho_z > 0 or proj_kind != "random" or search_seed is not None or tries >= PROJECTION_TRIES:
            break

    K = np.asarray(factset.keys, dtype=np.float64)
    # unique keys carry the system (duplicates have equal codes, checked above)
    uniq, first = np.unique(K, axis=0, return_index=True)
    first = np.sort(first)
    Ku, Cu = K[first], codes[first]
    key_scale = math.sqrt(float(np.mean(np.sum(Ku * Ku, axis=1)))) or 1.0
    G = rng.standard_normal((r, d)) / key_scale
    S = activation_fn(opts["activation"])(Ku @ G.T)
    X, resid, row_resid = _solve_codes(S, Ku, Cu)
    exact = r * d >= Ku.shape[0]
    if exact and not resid <= RESIDUAL_TOL:
        rank = int(np.linalg.matrix_rank(Ku))
        # name the facts behind the worst-fitted distinct keys (a zero key, whose
        # row of Phi vanishes, is always among them), with every duplicate of each
        row_tol = RESIDUAL_TOL * np.linalg.norm(Cu) / math.sqrt(Ku.shape[0])
        worst = [int(u) for u in np.argsort(-row_resid, kind="stable")[:10] if row_resid[u] > row_tol]
        worst = worst or [int(np.argmax(row_resid))]
        idx = sorted(int(i) for u in worst for i in np.flatnonzero(np.all(K == Ku[u], axis=1)))
        zero = [int(i) for i in idx if not np.any(K[i])]
        raise DegenerateKeysError(
            f"encoder system not solvable for these keys: relative residual {resid:.3g} with r d = {r * d} "
            f">= {Ku.shape[0]} distinct keys (keys span rank {rank} of d = {d}; "
            f"activation {opts['activation']!r} needs r * rank >= F and generic keys); "
            f"worst-fitted keys {format_indices(idx)}"
            + (f", of which zero vectors: {format_indices(zero)}" if zero else ""),
            indices=idx,
        )

    h_used = m * r
    gate = np.zeros((hidden, d))
    up = np.zeros((hidden, d))
    down = np.zeros((d, hidden))
    gate[:h_used] = np.tile(G, (m, 1))  # unit c r + t -> G_t
    up[:h_used] = np.transpose(X, (2, 0, 1)).reshape(h_used, d)  # unit c r + t -> A_{c,t}
    down[:, :h_used] = np.repeat(Q.T, r, axis=1)  # unit c r + t -> Q[c, :]
    meta = {"method": "encdec", "m": m, "r": r, "projection": proj_kind, "whiten": opts["strength"]}
    mlp = GatedMLP(gate, up, down, opts["activation"], meta)
    info = {
        "m": m,
        "r": r,
        "h_used": h_used,
        "projection": proj_kind,
        "projection_tries": tries,
        "params_folded": 3 * d * hidden,
        "params_factored": d * r + d * h_used + m * d,
        "whiten": opts["whiten"],
        "whiten_strength": opts["strength"],
        "rho_projected": rho_z,
        "relative_residual": resid,
        "exact_system": exact,
        "activation": opts["activation"],
    }
    factored = {"gate": G, "up": X, "projection": Q}
    return Built(mlp, params_factored=d * r + d * h_used + m * d, factored=factored, info=info)


def _guarantee(factset: FactSet, **options: Any) -> bool:
    opts = _options(**options)
    # silu/gelu: generic full rank (theory/measure_zero.py); identity/relu have real obstructions
    return opts["activation"] in ("silu", "gelu")


register_method(
    "encdec",
    build_encdec,
    default_hidden=encdec_default_hidden,
    guarantee=_guarantee,
    param_bound=encdec_param_bound,
    widths=encdec_widths,
    description="encoder-decoder: projected readout directions as codes, gated encoder fitted exactly",
)
