"""Which solver for the margin construction's block solves (issue 13, item 2: "choose the solver by measurement").

The margin construction (``factmlp.constructions.margin``) alternates convex
block solves of the squared hinge ``L = sum_i sum_{j in A_i} max(0, 1 - m_ij)^2``
(``down`` given gate and up, ``up`` given gate and down), then joint
(non-convex) chunks.  Four block solvers, the same loss, active sets,
cutting-plane sweeps, iteration budget and verifier:

* ``L-BFGS-B`` -- scipy (the default);
* ``CG`` -- scipy nonlinear conjugate gradients (the other built-in option);
* ``torch-LBFGS`` -- ``torch.optim.LBFGS`` (strong Wolfe line search, history
  10) driving the same numpy loss and gradient (benchmark-only driver);
* ``highs-LP`` -- the convex blocks as a linear programme solved by HiGHS
  (``scipy.optimize.linprog``): the L1 hinge ``min sum s_ij`` subject to
  ``m_ij(x) + s_ij >= 1``, ``s >= 0``, over the active pairs (each ``m_ij`` is
  linear in the block; one dense row of ``d h`` coefficients per pair, so only
  small sizes); the joint chunks stay on L-BFGS-B.  Benchmark-only driver.

Per (fact set, width, solver): certified or not (``verify_storage``; ``partial=True``, so a
failing width reports its count), facts
stored, block solves, seconds, the load average.  Spherical fact sets, F = N,
fact-set seed 0, construction seed 0, widths at and around the margin h* of
the standard sweep.

    OMP_NUM_THREADS=1 PYTHONPATH=$PWD python benchmarks/bench_margin_solver.py \
        --out benchmarks/results/margin_solver.csv
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any

import numpy as np
import scipy.optimize
import scipy.sparse
from _results import write_csv

from factmlp.constructions import margin as mg
from factmlp.families import make_factset
from factmlp.provenance import provenance

# (d, F, widths); LP rows stay below LP_MAX_NNZ coefficients
CASES = ((16, 64, (3, 4)), (32, 128, (4, 5)), (64, 512, (10, 11)))
LP_MAX_NNZ = 1e6  # d = 32, F = 128, h = 4 (2.1e6) ran over 15 min in HiGHS on 2 shared cores
SOLVERS = ("L-BFGS-B", "CG", "torch-LBFGS", "highs-LP")
_ORIG = mg._solve_blocks


def _pack(W: dict, blocks: tuple[str, ...]) -> tuple[np.ndarray, Any]:
    shapes = [(b, W[b].shape) for b in blocks]

    def unpack(x: np.ndarray) -> dict:
        out, lo = dict(W), 0
        for b, s in shapes:
            n = int(np.prod(s))
            out[b] = np.array(x[lo : lo + n]).reshape(s)
            lo += n
        return out

    return np.concatenate([W[b].ravel() for b in blocks]), unpack


def _torch_lbfgs(prob: mg.MarginProblem, W: dict, blocks: tuple[str, ...], iters: int) -> tuple[dict, float, int]:
    import torch

    x0, unpack = _pack(W, blocks)
    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS(
        [x], lr=1.0, max_iter=iters, history_size=10, tolerance_grad=1e-12, tolerance_change=1e-15,
        line_search_fn="strong_wolfe",
    )  # fmt: skip
    cache: dict = {}

    def closure() -> torch.Tensor:
        w = unpack(x.detach().numpy())
        loss, g = prob.loss_grad(w["gate"], w["up"], w["down"], blocks, cache)
        x.grad = torch.from_numpy(np.concatenate([g[b].ravel() for b in blocks]))
        return torch.tensor(loss, dtype=torch.float64)

    opt.step(closure)
    w = unpack(x.detach().numpy())
    loss, _ = prob.loss_grad(w["gate"], w["up"], w["down"], (), None)
    return w, loss, int(opt.state[x].get("n_iter", 0))


def _lp_rows(prob: mg.MarginProblem, W: dict, block: str) -> np.ndarray:
    """Coefficients ``a_ij`` with ``m_ij = <a_ij, vec(block)>`` for the active pairs (rows, d h columns)."""
    K, V, f = prob.K, prob.V, prob.f
    S = prob.act(K @ W["gate"].T)
    rows_i, rows_k = np.nonzero(prob.mask)
    dlt = V[f[rows_i]] - V[prob.idx[rows_i, rows_k]]  # (M, d)
    if block == "down":  # m = sum_ab D_ab z_ib dlt_a
        Z = S * (K @ W["up"].T)
        return (dlt[:, :, None] * Z[rows_i][:, None, :]).reshape(len(rows_i), -1)
    # up: m = sum_rc U_rc (D^T dlt)_r s_ir k_ic
    left = (dlt @ W["down"]) * S[rows_i]
    return (left[:, :, None] * K[rows_i][:, None, :]).reshape(len(rows_i), -1)


def _highs_lp(prob: mg.MarginProblem, W: dict, blocks: tuple[str, ...], iters: int) -> tuple[dict, float, int]:
    if blocks not in (("down",), ("up",)):
        return _ORIG(prob, W, blocks, iters, "L-BFGS-B")
    (b,) = blocks
    A = _lp_rows(prob, W, b)
    M, n = A.shape
    c = np.concatenate([np.zeros(n), np.ones(M)])
    A_ub = scipy.sparse.hstack([-scipy.sparse.csr_matrix(A), -scipy.sparse.identity(M)], format="csr")
    bounds = [(None, None)] * n + [(0, None)] * M
    res = scipy.optimize.linprog(c, A_ub=A_ub, b_ub=-prob.gamma * np.ones(M), bounds=bounds, method="highs")
    if res.x is None:
        return W, float("nan"), 0
    w = dict(W, **{b: np.asarray(res.x[:n]).reshape(W[b].shape)})
    loss, _ = prob.loss_grad(w["gate"], w["up"], w["down"], (), None)
    return w, loss, int(getattr(res, "nit", 0))


def _dispatch(prob, W, blocks, iters, solver):  # type: ignore[no-untyped-def]
    if solver == "torch-LBFGS":
        return _torch_lbfgs(prob, W, blocks, iters)
    if solver == "highs-LP":
        return _highs_lp(prob, W, blocks, iters)
    return _ORIG(prob, W, blocks, iters, solver)


def _load() -> float:
    with open("/proc/loadavg") as fh:
        return float(fh.read().split()[0])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "margin_solver.csv"))
    ap.add_argument("--solvers", default=",".join(SOLVERS))
    a = ap.parse_args()
    mg.SOLVERS = SOLVERS  # the option check accepts the benchmark-only drivers
    mg._solve_blocks = _dispatch
    rows: list[dict] = []
    for d, F, widths in CASES:
        fs = make_factset("spherical", d, F, F, seed=0)
        for h in widths:
            for solver in a.solvers.split(","):
                row: dict[str, Any] = {"family": "spherical", "d": d, "F": F, "N": F, "hidden": h, "solver": solver}
                nnz = F * min(F - 1, 4 * 32) * d * h
                if solver == "highs-LP" and nnz > LP_MAX_NNZ:
                    rows.append(row | {"status": f"not run (LP rows {nnz:.2g} coefficients > {LP_MAX_NNZ:.0g})"})
                    continue
                l0, t0 = _load(), time.perf_counter()
                info = mg.build_margin(fs, h, seed=0, solver=solver, partial=True).info
                status = "certified" if info["certified"] else "budget ended"
                row |= {
                    "status": status,
                    "seconds": time.perf_counter() - t0,
                    "stored": info.get("stored"),
                    "solves": info.get("solves"),
                    "joint_iterations": info.get("joint_iterations"),
                    "loadavg_start": l0,
                    "loadavg_end": _load(),
                }
                rows.append(row)
                print(json.dumps(row), flush=True)
                write_csv(a.out, rows, {"provenance": json.dumps(provenance())})
    write_csv(a.out, rows, {"provenance": json.dumps(provenance())})


if __name__ == "__main__":
    main()
