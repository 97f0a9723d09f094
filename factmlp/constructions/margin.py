"""The margin construction (``method="margin"``): storage by inequalities, solved as convex blocks.

Notation: keys ``K`` (F x d), values ``V`` (N x d), map ``f``; the gated MLP
``g(x) = D (act(G x) * (U x))`` with ``G, U`` (h x d) and ``D`` (d x h).
With ``S = act(K G^T)`` (F x h), ``Z = S o (K U^T)`` (F x h) and outputs
``O = Z D^T`` (F x d), the margin of fact ``i`` against value ``j`` is

    m_ij = <o_i, v_f(i) - v_j>,   fact i stored iff min_{j != f(i)} m_ij > 0.

Given ``G`` and ``D``, every ``m_ij`` is linear in ``U`` (``o_i = D (s_i o (U
k_i))``); given ``G`` and ``U``, linear in ``D``.  The loss

    L = sum_i sum_{j in A_i} max(0, gamma - m_ij)^2          (squared hinge, gamma = 1)

is therefore convex in each block, and zero exactly when every active margin
is >= gamma (the scale is free, so zero loss is reachable iff the block
admits positive margins).  ``A_i`` is an active set of the ``active``
competitors with the smallest margins for fact ``i`` (refreshed from all N
values, fact chunk by fact chunk, before every block solve): memory is
``O(F active d + chunk N)``, never ``F N h``.

Algorithm (deterministic under ``seed``): ``G`` has entries ``N(0, 1/s^2)``
(``s`` the RMS key norm), ``U`` the same, ``D`` ``N(0, 1/h)``; then up to
``rounds`` alternations of a ``D`` solve and a ``U`` solve (scipy L-BFGS-B,
float64, ``inner_iters`` iterations each, warm-started from the current
block), with the norms of ``U`` and ``D`` rebalanced between solves (the
output is unchanged); then, if facts remain, a joint refinement of ``(G, U,
D)`` on the same loss (non-convex; ``joint_iters`` iterations in total, in
chunks of ``inner_iters`` with an active-set refresh after each).  After
every solve the float64 margins are checked, and when all are positive
:func:`factmlp.verify.verify_storage` decides; the builder returns as soon as
it certifies every fact.

Contract: the returned MLP is certified to store every fact.  When the
budget ends first, :class:`~factmlp.errors.ConvergenceError` is raised naming
the width, the certified count and the failing facts (``partial=True``
returns the best MLP instead, with ``info["certified"] = False`` and the
counts, like ``gd``).  The loss is a search device only: success is the
verifier's verdict, never the loss value.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.optimize
import scipy.sparse

from ..errors import ConvergenceError, InvalidInputError, format_indices
from ..factset import FactSet
from ..mlp import ACTIVATIONS, GatedMLP, activation_fn
from ..validation import check_seed
from .hebbian import check_keys
from .registry import Built, register_method

__all__ = [
    "build_margin",
    "margin_default_hidden",
    "MarginProblem",
    "margin_fit",
    "activation_grad",
    "init_weights",
    "SOLVERS",
    "margin_options",
]

SOLVERS = ("L-BFGS-B", "CG")
GAMMA = 1.0  # target margin of the squared hinge (the scale is free)
SCORE_CHUNK = 1 << 22  # fact chunk x N scores held at once when refreshing the active set
CAP_FACTOR = 4  # active sets restart when they would exceed CAP_FACTOR x active columns
SWEEPS = 4  # cutting-plane sweeps (solve, add violated competitors) per block solve
ACTIVE_BYTES = 1 << 27  # float64 bytes of the active-set differences (F x cap x d), 128 MiB


def _check_int(name: str, value: Any, low: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or int(value) < low:
        raise InvalidInputError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def margin_options(
    activation: str = "silu",
    rounds: int = 3,
    inner_iters: int = 100,
    joint_iters: int = 3000,
    active: int = 32,
    solver: str = "L-BFGS-B",
    partial: bool = False,
    **unknown: Any,
) -> dict:
    """Validated options of the margin construction (see :func:`build_margin`)."""
    if unknown:
        raise InvalidInputError(
            f"unknown option(s) {sorted(unknown)} for method 'margin'; expected activation, "
            f"rounds, inner_iters, joint_iters, active, solver, partial"
        )
    if activation not in ACTIVATIONS:
        raise InvalidInputError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    if solver not in SOLVERS:
        raise InvalidInputError(f"solver must be one of {SOLVERS}, got {solver!r}")
    if not isinstance(partial, (bool, np.bool_)):
        raise InvalidInputError(f"partial must be a bool, got {partial!r}")
    return {
        "activation": activation,
        "rounds": _check_int("rounds", rounds, 0),
        "inner_iters": _check_int("inner_iters", inner_iters, 1),
        "joint_iters": _check_int("joint_iters", joint_iters, 0),
        "active": _check_int("active", active, 1),
        "solver": solver,
        "partial": bool(partial),
    }


def activation_grad(name: str) -> Callable[[np.ndarray], np.ndarray]:
    """Derivative ``act'(x)`` of the activation ``name`` (relu: 1 for x > 0, else 0)."""
    if name == "identity":
        return np.ones_like
    if name == "relu":
        return lambda x: (x > 0).astype(np.float64)
    if name == "silu":

        def dsilu(x: np.ndarray) -> np.ndarray:
            e = np.exp(-np.abs(x))
            sig = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
            return sig * (1.0 + x * (1.0 - sig))

        return dsilu
    if name == "gelu":
        import scipy.special

        return lambda x: (
            0.5 * (1.0 + scipy.special.erf(x / math.sqrt(2.0))) + x * np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
        )
    raise InvalidInputError(f"unknown activation {name!r}; expected one of {ACTIVATIONS}")


class MarginProblem:
    """The squared-hinge margin loss of one fact set, with its active sets.

    ``K`` (F x d), ``V`` (N x d), ``f`` (F,) and the activation.  ``refresh``
    picks, per fact, the ``active`` competitors with the smallest margins
    under the current weights; ``loss_grad`` evaluates ``L`` and its gradient
    with respect to the blocks named in ``blocks`` (a tuple of ``"gate"``,
    ``"up"``, ``"down"``), the others held fixed.

    Scores are taken in the smaller of the two spaces: with ``h <= d``,
    ``<o_i, v_j> = <z_i, w_j>`` for ``W = V D`` (N x h), so a margin costs
    ``O(h)``, not ``O(d)``; otherwise ``<o_i, v_j>`` directly.  Either way
    ``m_ij = <x_i, y_f(i) - y_j>`` for a pair ``(X, Y)`` = ``(Z, V D)`` or
    ``(Z D^T, V)``; only the active entries are gathered, never an
    ``(F, k, d)`` tensor of differences.
    """

    def __init__(self, factset: FactSet, activation: str, active: int, gamma: float = GAMMA) -> None:
        self.K = np.asarray(factset.keys, dtype=np.float64)
        self.V = np.asarray(factset.values, dtype=np.float64)
        self.f = np.asarray(factset.mapping, dtype=np.int64)
        self.act = activation_fn(activation)
        self.dact = activation_grad(activation)
        self.c = min(int(active), self.V.shape[0] - 1)
        self.gamma = float(gamma)
        F, d = self.K.shape
        # active columns per fact: an (F, cap, d) gather stays within ACTIVE_BYTES
        self.cap = max(self.c, min(self.V.shape[0] - 1, CAP_FACTOR * self.c, ACTIVE_BYTES // (8 * F * d)))
        self.idx: np.ndarray | None = None  # (F, k): competitor indices j in A_i
        self.mask: np.ndarray | None = None  # (F, k): False for repeated entries
        self._C: scipy.sparse.csr_matrix | None = None
        self._C_for: np.ndarray | None = None  # the idx array self._C was built for

    def outputs(self, G: np.ndarray, U: np.ndarray, D: np.ndarray) -> np.ndarray:
        """``O = (act(K G^T) o (K U^T)) D^T`` (F x d)."""
        return (self.act(self.K @ G.T) * (self.K @ U.T)) @ D.T

    def _pair(self, Z: np.ndarray, D: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
        """``(X, Y, projected)``: ``(Z, V D, True)`` when ``h <= d``, else ``(Z D^T, V, False)``."""
        if D.shape[1] <= D.shape[0]:
            return Z, self.V @ D, True
        return Z @ D.T, self.V, False

    def refresh(self, G: np.ndarray, U: np.ndarray, D: np.ndarray) -> tuple[np.ndarray, int]:
        """Add, per fact, the ``active`` competitors with the smallest margins to the active sets.

        A cutting-plane step: the sets accumulate (so a block solve cannot
        trade one competitor for another unseen one) until they would exceed
        ``cap`` columns, when they restart from the ``cap`` smallest margins.
        Returns the float64 margins ``min_{j != f(i)} m_ij`` over all N
        values (F,) and the number of violated (``m_ij < gamma``) pairs added.
        """
        X, Y, _ = self._pair(self.act(self.K @ G.T) * (self.K @ U.T), D)
        F, N = X.shape[0], self.V.shape[0]
        restart = self.idx is None or self.idx.shape[1] + self.c > self.cap
        take = min(self.cap, N - 1) if restart and self.idx is not None else self.c
        chunk = max(1, SCORE_CHUNK // max(N, 1))
        new = np.empty((F, take), dtype=np.int64)
        new_m = np.empty((F, take))
        margins = np.empty(F)
        for lo in range(0, F, chunk):
            hi = min(F, lo + chunk)
            s = X[lo:hi] @ Y.T
            rows = np.arange(hi - lo)
            own = s[rows, self.f[lo:hi]].copy()
            s[rows, self.f[lo:hi]] = -np.inf
            top = np.argpartition(-s, take - 1, axis=1)[:, :take]
            new[lo:hi] = top
            new_m[lo:hi] = own[:, None] - s[rows[:, None], top]
            margins[lo:hi] = new_m[lo:hi].min(axis=1)
        if restart:
            self.idx, self.mask = new, np.ones(new.shape, dtype=bool)
            added = int(np.count_nonzero(new_m < self.gamma))
        else:
            assert self.idx is not None and self.mask is not None  # restart is True while they are None
            fresh = ~np.any(new[:, :, None] == self.idx[:, None, :], axis=2)
            added = int(np.count_nonzero(fresh & (new_m < self.gamma)))
            self.idx = np.concatenate([self.idx, new], axis=1)
            self.mask = np.concatenate([self.mask, fresh], axis=1)
        return margins, added

    def _scatter(self) -> scipy.sparse.csr_matrix:
        """The sparse ``C`` (F x N) of :meth:`loss_grad`, pattern ``[A_i, f(i)]`` per row, built once per active set."""
        assert self.idx is not None
        if self._C is None or self._C_for is not self.idx:
            F, k = self.idx.shape
            cols = np.concatenate([self.idx, self.f[:, None]], axis=1).ravel()
            self._C = scipy.sparse.csr_matrix(
                (np.zeros(cols.size), cols, np.arange(F + 1) * (k + 1)), shape=(F, self.V.shape[0])
            )
            self._C_for = self.idx
        return self._C

    def loss_grad(
        self, G: np.ndarray, U: np.ndarray, D: np.ndarray, blocks: tuple[str, ...], cache: dict | None = None
    ) -> tuple[float, dict[str, np.ndarray]]:
        """``L`` on the current active sets and ``dL/d block`` for each block in ``blocks``.

        With ``m_ij = <x_i, y_f(i) - y_j>`` (see the class docstring) and
        ``a_ij = max(0, gamma - m_ij)`` on the active entries,
        ``dL/dx_i = -2 sum_j a_ij (y_f(i) - y_j)`` and ``dL/dY = C^T X`` for the
        sparse ``C`` (F x N) with ``C_ij = 2 a_ij``, ``C_i,f(i) = -2 sum_j a_ij``.
        ``cache`` (a dict, filled on first use) keeps the products that do
        not depend on the blocks being solved for (``S`` when ``gate`` is
        fixed, ``Z`` when ``gate`` and ``up`` are, the gathered ``Y`` rows
        when ``down`` is), so a block solve pays only for its own block.
        """
        cache = {} if cache is None else cache
        moving_gate, moving_up, moving_down = "gate" in blocks, "up" in blocks, "down" in blocks
        if moving_gate or "S" not in cache:
            pre = self.K @ G.T
            S = self.act(pre)
            if not moving_gate:
                cache["S"] = S
        else:
            S = cache["S"]
        if moving_gate or moving_up or "Z" not in cache:
            Y = self.K @ U.T
            Z = S * Y
            if not (moving_gate or moving_up):
                cache["Z"] = Z
        else:
            Z = cache["Z"]
        assert self.idx is not None and self.mask is not None, "refresh() sets the active sets first"
        projected = D.shape[1] <= D.shape[0]
        y_moves = projected and moving_down  # Y = V D moves with D; Y = V never does
        if y_moves or "Yact" not in cache:
            X, Yall, _ = self._pair(Z, D)
            F, k = self.idx.shape  # (F, e) own rows, (F, k, e) competitors (np.take: ~5x faster than [idx])
            Yact = (np.take(Yall, self.f, axis=0), np.take(Yall, self.idx.ravel(), axis=0).reshape(F, k, -1))
            if not y_moves:
                cache["Yact"] = Yact
        else:
            X = Z if projected else Z @ D.T
            Yact = cache["Yact"]
        Yf, Yc = Yact
        own = np.einsum("fe,fe->f", X, Yf)
        m = own[:, None] - np.matmul(Yc, X[:, :, None])[:, :, 0]
        a = np.maximum(self.gamma - m, 0.0) * self.mask
        loss = float(np.sum(a * a))
        asum = a.sum(axis=1)
        gX = -2.0 * (asum[:, None] * Yf - np.matmul(a[:, None, :], Yc)[:, 0, :])
        grads: dict[str, np.ndarray] = {}
        gZ = gX if projected else gX @ D
        if moving_down:
            if projected:  # dL/dD = V^T C^T Z
                C = self._scatter()
                C.data[:] = np.concatenate([2.0 * a, -2.0 * asum[:, None]], axis=1).ravel()
                grads["down"] = self.V.T @ np.asarray(C.T @ Z)
            else:  # dL/dD = (dL/dO)^T Z
                grads["down"] = gX.T @ Z
        if moving_up or moving_gate:
            if moving_up:
                grads["up"] = (gZ * S).T @ self.K
            if moving_gate:
                grads["gate"] = (gZ * Y * self.dact(pre)).T @ self.K
        return loss, grads


def _solve_blocks(
    prob: MarginProblem, W: dict[str, np.ndarray], blocks: tuple[str, ...], iters: int, solver: str
) -> tuple[dict[str, np.ndarray], float, int]:
    """Minimise ``L`` over ``blocks`` (warm start ``W``), the other blocks fixed.

    Returns the new weights, the loss and the number of iterations.
    """
    shapes = [(b, W[b].shape) for b in blocks]
    sizes = [int(np.prod(s)) for _, s in shapes]

    def unpack(x: np.ndarray) -> dict[str, np.ndarray]:
        out, lo = dict(W), 0
        for (b, s), n in zip(shapes, sizes, strict=True):
            out[b] = x[lo : lo + n].reshape(s)
            lo += n
        return out

    cache: dict = {}

    def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
        w = unpack(x)
        loss, g = prob.loss_grad(w["gate"], w["up"], w["down"], blocks, cache)
        return loss, np.concatenate([g[b].ravel() for b in blocks])

    x0 = np.concatenate([W[b].ravel() for b in blocks])
    opt: dict[str, Any] = {"maxiter": iters}
    if solver == "L-BFGS-B":
        opt.update(ftol=1e-15, gtol=1e-12)
    else:
        opt.update(gtol=1e-12)
    res = scipy.optimize.minimize(fun, x0, jac=True, method=solver, options=opt)
    return unpack(np.asarray(res.x, dtype=np.float64)), float(res.fun), int(res.nit)


def _rebalance(W: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Scale ``U`` by ``t`` and ``D`` by ``1/t`` so their Frobenius norms match (``g`` unchanged up to rounding)."""
    nu, nd = float(np.linalg.norm(W["up"])), float(np.linalg.norm(W["down"]))
    if nu > 0 and nd > 0:
        t = math.sqrt(nd / nu)
        W = dict(W, up=W["up"] * t, down=W["down"] / t)
    return W


def margin_fit(
    factset: FactSet,
    W: dict[str, np.ndarray],
    opts: dict,
    *,
    accept: Callable[[dict[str, np.ndarray], Any], bool] | None = None,
    gamma: float = GAMMA,
    activation: str | None = None,
) -> tuple[dict[str, np.ndarray], Any, dict]:
    """Run the margin steps from the weights ``W = {"gate", "up", "down"}``; stop once every fact is certified.

    Each step is one block solve (``down``, then ``up``, alternating for
    ``opts["rounds"]`` rounds), then joint ``(gate, up, down)`` chunks
    (``opts["joint_iters"]`` iterations in all).  After a step whose float64
    margins are all positive, or whenever ``accept`` is given, the step's MLP
    is checked by :func:`factmlp.verify.verify_storage`.  ``accept(W_new,
    report)`` (polish) may refuse the step: the weights then stay as they were.
    Returns the final weights, the last :class:`~factmlp.verify.StorageReport`
    of them (``None`` if never verified) and a log ``{"steps", "rounds",
    "joint_iterations", "accepted", "rejected", "loss"}``.
    """
    from ..verify import verify_storage

    act = activation or opts["activation"]
    prob = MarginProblem(factset, act, opts["active"], gamma)
    log: dict[str, Any] = {
        "rounds": 0,
        "joint_iterations": 0,
        "accepted": 0,
        "rejected": 0,
        "loss": float("nan"),
        "steps": [],
    }
    report = None

    def verify(w: dict[str, np.ndarray]) -> Any:
        return verify_storage(GatedMLP(w["gate"], w["up"], w["down"], act), factset)

    if accept is not None:
        report = verify(W)
        if report.certified:
            return W, report, log
    margins, _ = prob.refresh(W["gate"], W["up"], W["down"])
    if accept is None and np.all(margins > 0):
        report = verify(W)
        if report.certified:
            return W, report, log

    def step(blocks: tuple[str, ...], iters: int) -> bool:
        """One block solve with cutting-plane sweeps; True when every fact is certified after it."""
        nonlocal W, report
        new, nit_all = W, 0
        for _ in range(SWEEPS):
            new, loss, nit = _solve_blocks(prob, new, blocks, iters, opts["solver"])
            nit_all += nit
            margins, added = prob.refresh(new["gate"], new["up"], new["down"])
            if added == 0:
                break
        new = _rebalance(new)
        log["loss"] = loss
        log["steps"].append(
            {
                "blocks": "+".join(blocks),
                "iterations": nit_all,
                "loss": loss,
                "float_stored": int(np.count_nonzero(margins > 0)),
            }
        )
        if accept is None:
            W = new
            if np.all(margins > 0):
                report = verify(W)
                return bool(report.certified)
            return False
        for t in (1.0, 0.5, 0.25):  # the step, then shorter ones along the segment (convex in the block)
            cand = new if t == 1.0 else {b: (1 - t) * W[b] + t * new[b] for b in W}
            rep = verify(cand)
            if accept(cand, rep):
                W, report = cand, rep
                log["accepted"] += 1
                return bool(report.certified)
        log["rejected"] += 1
        return False

    for _ in range(opts["rounds"]):
        log["rounds"] += 1
        if step(("down",), opts["inner_iters"]) or step(("up",), opts["inner_iters"]):
            return W, report, log
    done = 0
    while done < opts["joint_iters"]:
        n = min(opts["inner_iters"], opts["joint_iters"] - done)
        done += n
        log["joint_iterations"] = done
        if step(("gate", "up", "down"), n):
            return W, report, log
    if report is None or accept is None:
        report = verify(W)
    return W, report, log


def init_weights(factset: FactSet, hidden: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Seeded start: ``G, U ~ N(0, 1/s^2)`` (h x d, ``s`` the RMS key norm), ``D ~ N(0, 1/h)`` (d x h)."""
    K = np.asarray(factset.keys, dtype=np.float64)
    d, h = factset.dim, int(hidden)
    s = math.sqrt(float(np.mean(np.sum(K * K, axis=1)))) or 1.0
    G = rng.standard_normal((h, d)) / s
    U = rng.standard_normal((h, d)) / s
    D = rng.standard_normal((d, h)) / math.sqrt(h)
    return {"gate": G, "up": U, "down": D}


def build_margin(factset: FactSet, hidden: int, seed: Any = 0, **options: Any) -> Built:
    """Margin MLP of width ``hidden`` certified to store ``factset`` (see the module docstring).

    Options: ``activation`` (``silu``; ``relu``, ``gelu``, ``identity``),
    ``rounds`` (alternating rounds, 3), ``inner_iters`` (solver iterations
    per block solve and per joint chunk, 100), ``joint_iters`` (joint
    refinement iterations in all, 3000; 0 turns it off), ``active``
    (competitors per fact, 32), ``solver`` (``L-BFGS-B`` or ``CG``, scipy),
    ``partial`` (return an uncertified best MLP instead of raising).

    Raises :class:`~factmlp.errors.DegenerateKeysError` for zero keys and
    identical (with ``identity``: equal up to sign) keys mapped to different
    values, and :class:`~factmlp.errors.ConvergenceError` when the budget ends
    before every fact is certified (unless ``partial``).
    """
    opts = margin_options(**options)
    check_keys(factset, sign_symmetric=(opts["activation"] == "identity"))
    rng = check_seed(seed)
    W0 = init_weights(factset, hidden, rng)
    W, report, log = margin_fit(factset, W0, opts)
    mlp = GatedMLP(
        W["gate"], W["up"], W["down"], opts["activation"], {"method": "margin", "activation": opts["activation"]}
    )
    info = {
        "activation": opts["activation"],
        "solver": opts["solver"],
        "rounds": log["rounds"],
        "joint_iterations": log["joint_iterations"],
        "loss": log["loss"],
        "stored": int(report.stored),
        "total": int(report.total),
        "certified": bool(report.certified),
        "solves": len(log["steps"]),
    }
    if not report.certified and not opts["partial"]:
        failing = np.asarray(report.failing).ravel().tolist()
        raise ConvergenceError(
            f"margin construction at hidden = {hidden} certified {report.stored}/{report.total} facts after "
            f"{log['rounds']} alternating rounds and {log['joint_iterations']} joint iterations "
            f"(solver {opts['solver']}, final loss {log['loss']:.3g}); failing facts {format_indices(failing)}. "
            f"Raise hidden, rounds or joint_iters (or pass partial=True for the uncertified MLP)",
            indices=failing,
        )
    return Built(mlp, info=info)


def margin_default_hidden(factset: FactSet, **options: Any) -> int:
    """``h = max(8, ceil(2 F log2 N / (3 d)))``: 3 d h parameters at 0.5 bit per parameter.

    A width with room to spare (the construction reaches about 1 to 2 bits
    per parameter where measured, benchmarks/margin), so the default run
    succeeds; ``factmlp minimize`` finds the smallest certified width.
    """
    margin_options(**options)
    bits = factset.n_facts * math.log2(max(factset.n_values, 2))
    return max(8, math.ceil(2.0 * bits / (3 * factset.dim) - 1e-9))


register_method(
    "margin",
    build_margin,
    default_hidden=margin_default_hidden,
    guarantee=False,
    partial_options={"partial": True},
    description="margin: random gates, alternating convex squared-hinge solves for up and down, certified or an error",
)
