"""Gradient-descent baseline: a gated MLP trained with Adam to store a fact set.

For a fact set with keys ``K`` (F x d), values ``V`` (N x d) and map ``f``,
the model is the gated MLP ``g(x) = W_down (act(W_gate x) * (W_up x))`` of
hidden width h (``3 d h`` parameters).  Fact i's logits over all N values are

    z_i = s * V g(k_i)            (shape (N,), s = ``logit_scale``)

and the loss is the mean cross-entropy ``-log softmax(z_i)[f(i)]`` over the
facts of a batch (all F facts by default).  Adam minimises it.  Every
``check_every`` steps a cheap float check computes every fact's margin
``min_{j != f(i)} <g(k_i), v_f(i) - v_j>`` in the training dtype; when all F
margins are positive, the certified verifier
:func:`factmlp.verify.verify_storage` confirms it.  Training stops at 100%
certified storage or after ``steps`` optimizer steps, whichever comes first.

Determinism: on CPU, with the same seed, torch version and thread count
(``torch.get_num_threads()``, recorded in the info dict), two runs give
bit-identical weights.  Initialisation and minibatch shuffling draw from one
``torch.Generator`` seeded from ``seed``; ``torch.use_deterministic_algorithms``
is switched on for the run and restored afterwards.  A different thread count
may change the floating-point reduction order of matrix products and hence the
trajectory.

torch is imported only when a training function is called: importing this
module never needs it, calling :func:`train_gd` without torch raises
:class:`~factmlp.errors.TorchUnavailableError`.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import InvalidInputError, TorchUnavailableError
from .factset import FactSet
from .mlp import ACTIVATIONS, GatedMLP
from .validation import check_float_dtype, check_seed

if TYPE_CHECKING:
    from torch import Tensor

__all__ = ["train_gd", "min_width_gd"]


def _require_torch() -> Any:
    try:
        import torch
    except ImportError as exc:
        raise TorchUnavailableError(
            "gradient-descent training (factmlp.train) needs PyTorch, which is not installed; "
            "install it with: pip install 'factmlp[torch]'"
        ) from exc
    return torch


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise InvalidInputError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if int(value) < minimum:
        raise InvalidInputError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_positive(name: str, value: Any) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidInputError(f"{name} must be a positive finite number, got {value!r}")
    v = float(value)
    if not (math.isfinite(v) and v > 0):
        raise InvalidInputError(f"{name} must be a positive finite number, got {value!r}")
    return v


def train_gd(
    factset: FactSet,
    hidden: int,
    seed: Any = 0,
    *,
    activation: str = "silu",
    lr: float = 1e-2,
    steps: int = 5000,
    batch_size: int | None = None,
    logit_scale: float = 10.0,
    check_every: int = 50,
    init_scale: float | None = None,
    dtype: Any = "float32",
    verify: bool = True,
) -> tuple[GatedMLP, dict]:
    """Train a gated MLP of width ``hidden`` with Adam until it stores ``factset`` (or the budget ends).

    Parameters
    ----------
    factset : FactSet (K: F x d, V: N x d, f: [F] -> [N])
    hidden : h >= 1, the hidden width (``3 d h`` parameters)
    seed : int or ``numpy.random.Generator``; fixes initialisation and shuffling
    activation : ``identity``, ``relu``, ``silu`` (default) or ``gelu`` (exact)
    lr : Adam learning rate (default betas, no weight decay)
    steps : optimizer step budget (>= 0)
    batch_size : ``None`` for full batch (all F facts every step), else a
        minibatch size; each epoch visits the facts in a fresh seeded random
        order, the last batch of an epoch may be smaller
    logit_scale : s in the logits ``s * V g(k_i)`` (over all N values)
    check_every : steps between storage checks (the stopping rule is tested
        only there, and at the last step)
    init_scale : ``None`` for PyTorch's ``nn.Linear`` default, i.e. entries
        ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` (fan_in d for gate/up, h for
        down); a number c multiplies these bounds by c
    dtype : ``float32`` (default) or ``float64`` for the weights and the training
    verify : confirm storage with :func:`factmlp.verify.verify_storage` (default).
        ``False`` stops on the float check alone and reports ``certified=False``.

    Returns
    -------
    (mlp, info) : the trained :class:`GatedMLP` (NumPy weights in ``dtype``)
        and a dict with ``steps`` (optimizer steps taken), ``stored``,
        ``total`` (= F), ``certified`` (all F facts certified stored),
        ``seconds`` (wall time), ``loss`` (full-data loss of the returned
        weights), ``min_margin``, ``float_stored`` (the last float check),
        ``seed``, ``lr``, the other settings, ``threads`` and ``torch_version``.

    Raises :class:`~factmlp.errors.InvalidInputError` for bad arguments and
    :class:`~factmlp.errors.TorchUnavailableError` without torch.
    """
    if not isinstance(factset, FactSet):
        raise InvalidInputError(f"factset must be a factmlp.FactSet, got {type(factset).__name__}")
    hidden = _check_int("hidden", hidden, 1)
    steps = _check_int("steps", steps, 0)
    check_every = _check_int("check_every", check_every, 1)
    if batch_size is not None:
        batch_size = _check_int("batch_size", batch_size, 1)
    lr = _check_positive("lr", lr)
    logit_scale = _check_positive("logit_scale", logit_scale)
    if init_scale is not None:
        init_scale = _check_positive("init_scale", init_scale)
    if activation not in ACTIVATIONS:
        raise InvalidInputError(f"unknown activation {activation!r}; expected one of {ACTIVATIONS}")
    dtype = check_float_dtype(dtype)
    if not isinstance(verify, (bool, np.bool_)):
        raise InvalidInputError(f"verify must be a bool, got {verify!r}")
    try:
        rng = check_seed(seed)
    except TypeError as exc:
        raise InvalidInputError(str(exc)) from exc
    torch_seed = int(rng.integers(0, 2**63 - 1))

    torch = _require_torch()
    from .torch_mlp import TorchGatedMLP, from_torch

    if verify:
        from .verify import verify_storage

    t0 = time.perf_counter()
    n_facts, dim = factset.n_facts, factset.dim
    full_batch = batch_size is None or batch_size >= n_facts
    keys = torch.from_numpy(np.array(factset.keys, dtype=dtype, order="C"))
    values = torch.from_numpy(np.array(factset.values, dtype=dtype, order="C"))
    targets = torch.from_numpy(np.array(factset.mapping, dtype=np.int64, order="C"))
    rows = torch.arange(n_facts)

    prev_det = torch.are_deterministic_algorithms_enabled()
    prev_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        gen = torch.Generator().manual_seed(torch_seed)
        model = TorchGatedMLP(dim, hidden, activation, dtype=dtype)
        scale = 1.0 if init_scale is None else init_scale
        with torch.no_grad():
            for lin in (model.gate_proj, model.up_proj, model.down_proj):
                bound = scale / math.sqrt(lin.in_features)
                lin.weight.uniform_(-bound, bound, generator=gen)
        opt = torch.optim.Adam(model.parameters(), lr=lr)

        def margins() -> Tensor:
            with torch.no_grad():
                scores = model(keys) @ values.T  # (F, N)
                own = scores[rows, targets]
                scores[rows, targets] = -math.inf
                return own - scores.max(dim=1).values

        checks: list[dict] = []
        report = None
        certified = False
        float_stored = 0
        order = None
        pos = n_facts
        step = 0

        def check() -> bool:
            nonlocal report, certified, float_stored
            m = margins()
            float_stored = int((m > 0).sum())
            entry = {"step": step, "float_stored": float_stored}
            if float_stored == n_facts:
                if not verify:
                    checks.append(entry)
                    return True
                report = verify_storage(from_torch(model, activation), factset)
                certified, n_cert = bool(report.certified), int(report.stored)
                entry["certified_stored"] = n_cert
            checks.append(entry)
            return certified

        done = check() if steps == 0 else False
        while step < steps and not done:
            if full_batch:
                kb, yb = keys, targets
            else:
                if pos >= n_facts:
                    order = torch.randperm(n_facts, generator=gen)
                    pos = 0
                assert order is not None and batch_size is not None  # pos starts at n_facts; not full batch
                idx = order[pos : pos + batch_size]
                pos += batch_size
                kb, yb = keys[idx], targets[idx]
            logits = logit_scale * (model(kb) @ values.T)
            loss = torch.nn.functional.cross_entropy(logits, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            if step % check_every == 0 or step == steps:
                done = check()

        with torch.no_grad():
            full_loss = float(torch.nn.functional.cross_entropy(logit_scale * (model(keys) @ values.T), targets))
            m = margins()
        mlp = from_torch(model, activation)
    finally:
        torch.use_deterministic_algorithms(prev_det, warn_only=prev_warn)

    if verify and not certified:
        # the last check may predate the last step, or never reached the verifier
        report = verify_storage(mlp, factset)
        certified = bool(report.certified)
    if verify:
        assert report is not None  # set by check() when certified, else just above
        stored = int(report.stored)
        min_margin = float(report.min_margin)
    else:
        stored = int((m > 0).sum())
        min_margin = float(m.min())
    seconds = time.perf_counter() - t0
    info = {
        "method": "gd",
        "steps": step,
        "stored": stored,
        "total": n_facts,
        "certified": bool(certified),
        "seconds": seconds,
        "loss": full_loss,
        "min_margin": min_margin,
        "float_stored": float_stored,
        "seed": int(seed) if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) else None,
        "torch_seed": torch_seed,
        "lr": lr,
        "steps_budget": steps,
        "batch_size": None if full_batch else batch_size,
        "logit_scale": logit_scale,
        "check_every": check_every,
        "init_scale": init_scale,
        "activation": activation,
        "dtype": dtype,
        "hidden": hidden,
        "params": 3 * dim * hidden,
        "verified": bool(verify),
        "threads": int(torch.get_num_threads()),
        "torch_version": str(torch.__version__),
        "checks": checks,
    }
    meta = {k: info[k] for k in ("method", "steps", "seed", "lr", "logit_scale", "batch_size", "stored", "total")}
    mlp = GatedMLP(mlp.gate_proj, mlp.up_proj, mlp.down_proj, activation, meta)
    return mlp, info


def min_width_gd(
    factset: FactSet,
    seed: Any = 0,
    *,
    lo: int = 1,
    hi: int | None = None,
    **train_kwargs: Any,
) -> dict:
    """Smallest hidden width h* at which :func:`train_gd` stores all F facts (certified) within its budget.

    Exponential search upward from ``lo`` (widths lo, lo+1, lo+3, lo+7, ...),
    then binary search between the last failing and the first storing width,
    by :func:`factmlp.capacity.search_min_width`.  ``hi`` defaults to F (one
    hidden unit per fact).  Every width is trained once with the same
    ``seed`` and ``train_kwargs`` (passed to :func:`train_gd`).

    **Assumes monotonicity**: that GD storing at width h implies storing at
    every h' > h.  GD success is not monotone in h in general (it depends on
    the seed, the budget, the learning rate), so h* is the smallest storing
    width *the search probed*, bracketed by a failing width h* - 1 only when
    that width was probed (see ``runs``); a smaller storing width may exist.

    Returns ``{"hidden": h* or None, "params": 3 d h* or None, "found": bool,
    "seed": seed, "seconds": total wall time, "runs": [one dict per trained
    width, in the order trained: hidden, stored, total, certified, steps,
    seconds, loss, min_margin]}``.  With ``verify=False`` in ``train_kwargs``
    a width counts as storing on the float check alone.
    """
    if not isinstance(factset, FactSet):
        raise InvalidInputError(f"factset must be a factmlp.FactSet, got {type(factset).__name__}")
    lo = _check_int("lo", lo, 1)
    hi = max(factset.n_facts, lo) if hi is None else _check_int("hi", hi, 1)
    if hi < lo:
        raise InvalidInputError(f"width search needs lo <= hi, got lo={lo}, hi={hi}")
    _require_torch()
    from .capacity import search_min_width

    verify = bool(train_kwargs.get("verify", True))
    runs: list[dict] = []
    t0 = time.perf_counter()

    def stores(h: int) -> bool:
        _, info = train_gd(factset, h, seed, **train_kwargs)
        ok = info["stored"] == info["total"] and (info["certified"] or not verify)
        runs.append(
            {k: info[k] for k in ("hidden", "stored", "total", "certified", "steps", "seconds", "loss", "min_margin")}
        )
        runs[-1]["all_stored"] = bool(ok)
        return ok

    h_star, _ = search_min_width(stores, lo=lo, hi=hi)
    return {
        "hidden": h_star,
        "params": None if h_star is None else 3 * factset.dim * int(h_star),
        "found": h_star is not None,
        "seed": seed if isinstance(seed, (int, np.integer)) else None,
        "seconds": time.perf_counter() - t0,
        "runs": runs,
    }
