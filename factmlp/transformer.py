"""A frozen 1-layer Transformer whose MLP slot holds any :class:`~factmlp.mlp.GatedMLP`.

Model (one query = a token sequence ``t_1..t_T``; vocabulary of n tokens, width d):

    x_s   = E[t_s] + P[s]                                   (E: n x d, P: T_max x d)
    a     = CausalAttn(RMS(x)) ,  y_s = x_s + a_s           (single head, W_q, W_k, W_v, W_o: d x d)
    k     = RMS(y_T)                                        (the MLP input = the *key*)
    out   = g(k)              (no bypass, default)   or   y_T + g(k)   (``residual_mlp=True``)
    logits = out E^T                                        (tied output embedding)

with ``RMS(z) = z / sqrt(mean(z^2) + eps) * gain`` (gain = 1, frozen) and the
causal single-head attention ``a_s = W_o sum_{r<=s} softmax_r(<W_q z_s, W_k z_r>
/ sqrt d) W_v z_r``.  Every weight except the MLP's is random (seeded) and
frozen; E's rows come from an embedding family (spherical by default).

A fact is a query ``(subject token(s), relation token) -> object token``; the
model answers with ``argmax_o logits[T, o]``.  Without bypass
``logits = g(k) E^T``, so the model answers fact i correctly iff ``g`` stores
``k_i -> e_{o_i}`` against **every** row of E: exactly the fact set
``(K, V = E, f = objects)`` of :func:`fact_keys_values` (N = vocabulary size).

With bypass the margin of fact i against token j is
``<y_i, e_o - e_j> + <g(k_i), e_o - e_j>``: the residual part is fixed by the
frozen layers.  We keep the fact set the same (storing it is "the MLP's job")
and scale the MLP's output by ``c`` (:func:`bypass_scale`): if ``g`` stores the
fact set with margins ``m_ij > 0``, every ``c > max_{i,j} -r_ij / m_ij`` (with
``r_ij = <y_i, e_o - e_j>``) makes the whole model answer every fact, and no
smaller positive c does for the pair attaining the max.

This module needs torch (imported at the top; without it the import raises
:class:`~factmlp.errors.TorchUnavailableError`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import (
    DegenerateKeysError,
    InvalidInputError,
    MappingRangeError,
    ShapeError,
    TorchUnavailableError,
    format_indices,
)
from .factset import FactSet
from .mlp import GatedMLP
from .validation import check_seed

try:
    import torch
    from torch import nn
except ImportError as exc:  # pragma: no cover - exercised without torch
    raise TorchUnavailableError(
        "factmlp.transformer needs PyTorch, which is not installed (pip install 'factmlp[torch]')"
    ) from exc

from .torch_mlp import TorchGatedMLP, from_torch, to_torch

__all__ = [
    "FactQueries",
    "make_fact_queries",
    "OneLayerTransformer",
    "fact_keys_values",
    "recall",
    "correct",
    "bypass_scale",
    "scale_mlp",
    "recall_by_method",
    "lipschitz_upper_bound",
    "lipschitz_bounds",
    "recall_under_noise",
    "ACT_DERIV_SUP",
]

_DTYPES = {"float32": torch.float32, "float64": torch.float64}


# ---- fact queries ----------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class FactQueries:
    """Facts as token queries: ``prompts`` (F, T) int64 and ``objects`` (F,) int64 in ``[0, n_vocab)``.

    ``prompts[i] = (subject tokens..., relation token)``; fact i is answered
    correctly when the model's argmax at the last position is ``objects[i]``.
    Prompts must be pairwise distinct (two facts with one prompt have one key).
    """

    prompts: np.ndarray
    objects: np.ndarray
    n_vocab: int
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = self.n_vocab
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or int(n) < 2:
            raise InvalidInputError(f"n_vocab must be an integer >= 2, got {n!r}")
        p = np.asarray(self.prompts)
        o = np.asarray(self.objects)
        if p.dtype.kind not in "iu" or o.dtype.kind not in "iu":
            raise InvalidInputError(f"prompts and objects must be integer arrays, got {p.dtype} and {o.dtype}")
        if p.ndim != 2 or p.shape[0] < 1 or p.shape[1] < 1:
            raise ShapeError(f"prompts: expected shape (F, T) with F, T >= 1, got {p.shape}")
        if o.shape != (p.shape[0],):
            raise ShapeError(f"objects: expected shape ({p.shape[0]},), got {o.shape}")
        bad = np.flatnonzero(((p < 0) | (p >= n)).any(axis=1)).tolist()
        if bad:
            raise MappingRangeError(f"prompts of facts {format_indices(bad)} hold tokens outside [0, {n})", indices=bad)
        bad = np.flatnonzero((o < 0) | (o >= n)).tolist()
        if bad:
            raise MappingRangeError(f"objects of facts {format_indices(bad)} lie outside [0, {n})", indices=bad)
        _, first, inverse = np.unique(p, axis=0, return_index=True, return_inverse=True)
        dup = np.flatnonzero(first[inverse.reshape(-1)] != np.arange(p.shape[0])).tolist()
        if dup:
            raise InvalidInputError(
                f"facts {format_indices(dup)} repeat an earlier prompt (one prompt, one key, one answer)",
                indices=dup,
            )
        for name, a in (("prompts", p), ("objects", o)):
            a = np.array(a, dtype=np.int64)
            a.setflags(write=False)
            object.__setattr__(self, name, a)
        object.__setattr__(self, "n_vocab", int(n))
        object.__setattr__(self, "meta", dict(self.meta))

    @property
    def n_facts(self) -> int:
        """F."""
        return int(self.prompts.shape[0])

    @property
    def length(self) -> int:
        """T, the query length."""
        return int(self.prompts.shape[1])

    def with_objects(self, objects: Any) -> FactQueries:
        """The same prompts with other objects (an edited fact list)."""
        return FactQueries(self.prompts, objects, self.n_vocab, dict(self.meta))


def make_fact_queries(
    n_vocab: int,
    n_facts: int,
    seed: Any = 0,
    *,
    n_relations: int = 8,
    subject_tokens: int = 1,
) -> FactQueries:
    """F random facts ``(s_1..s_S, r) -> o`` over a vocabulary of ``n_vocab`` tokens.

    Tokens ``0..n_relations-1`` are relations; subjects are S-tuples of the
    other tokens; (subject, relation) pairs are distinct (drawn without
    replacement); objects are uniform over the whole vocabulary.
    """
    for name, v, lo in (
        ("n_vocab", n_vocab, 2),
        ("n_facts", n_facts, 1),
        ("n_relations", n_relations, 1),
        ("subject_tokens", subject_tokens, 1),
    ):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or int(v) < lo:
            raise InvalidInputError(f"{name} must be an integer >= {lo}, got {v!r}")
    n_subj_tokens = n_vocab - n_relations
    if n_subj_tokens < 1:
        raise InvalidInputError(f"n_relations ({n_relations}) must be below n_vocab ({n_vocab})")
    n_pairs = n_relations * n_subj_tokens**subject_tokens
    if n_facts > n_pairs:
        raise InvalidInputError(f"only {n_pairs} distinct (subject, relation) pairs exist, asked for {n_facts} facts")
    rng = check_seed(seed)
    chosen: set = set()
    rows: list[tuple[int, ...]] = []
    while len(rows) < n_facts:
        subj = tuple(int(t) for t in rng.integers(n_relations, n_vocab, size=subject_tokens))
        rel = int(rng.integers(0, n_relations))
        if (subj, rel) in chosen:
            continue
        chosen.add((subj, rel))
        rows.append(subj + (rel,))
    objects = rng.integers(0, n_vocab, size=n_facts)
    meta = {
        "n_relations": int(n_relations),
        "subject_tokens": int(subject_tokens),
        "seed": int(seed) if isinstance(seed, (int, np.integer)) else None,
    }
    return FactQueries(np.array(rows, dtype=np.int64), objects.astype(np.int64), int(n_vocab), meta)


# ---- the model -------------------------------------------------------------------
class OneLayerTransformer(nn.Module):
    """The frozen 1-layer Transformer of the module docstring, with a swappable MLP.

    Parameters
    ----------
    n_vocab : n, vocabulary size (rows of the tied embedding E)
    dim : d, model width
    max_len : T_max, longest query (rows of the positional table P)
    seed : int or Generator: E, P, W_q, W_k, W_v, W_o are drawn from it
    residual_mlp : False (default, the paper's setting): ``out = g(RMS(y))``;
        True: ``out = y + g(RMS(y))``
    embedding : embedding family of E's rows (:func:`factmlp.families.make_embeddings`)
    dtype : ``float64`` (default) or ``float32`` for every tensor

    Notes
    -----
    E is drawn from ``embedding``; P, W_q, W_k, W_v, W_o have i.i.d. N(0, 1/d)
    entries.  All are buffers (never trained); the MLP lives in ``self.mlp``
    (a :class:`TorchGatedMLP` or ``None`` until :meth:`set_mlp`).
    """

    # the buffers registered in __init__ (typed here: nn.Module's __getattr__ says Tensor | Module)
    embed: torch.Tensor
    pos: torch.Tensor
    w_q: torch.Tensor
    w_k: torch.Tensor
    w_v: torch.Tensor
    w_o: torch.Tensor
    attn_norm_gain: torch.Tensor
    mlp_norm_gain: torch.Tensor

    def __init__(
        self,
        n_vocab: int,
        dim: int,
        *,
        max_len: int = 4,
        seed: Any = 0,
        residual_mlp: bool = False,
        embedding: str = "spherical",
        dtype: str = "float64",
        norm_eps: float = 1e-6,
    ) -> None:
        super().__init__()
        from .families import make_embeddings

        for name, v, lo in (("n_vocab", n_vocab, 2), ("dim", dim, 1), ("max_len", max_len, 1)):
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or int(v) < lo:
                raise InvalidInputError(f"{name} must be an integer >= {lo}, got {v!r}")
        if dtype not in _DTYPES:
            raise InvalidInputError(f"dtype must be one of {tuple(_DTYPES)}, got {dtype!r}")
        if not isinstance(residual_mlp, (bool, np.bool_)):
            raise InvalidInputError(f"residual_mlp must be a bool, got {residual_mlp!r}")
        rng = check_seed(seed)
        self.tdtype = _DTYPES[dtype]
        self.residual_mlp = bool(residual_mlp)
        self.norm_eps = float(norm_eps)
        emb = make_embeddings(embedding, int(n_vocab), int(dim), rng)

        def gauss(*shape: int) -> torch.Tensor:
            return torch.from_numpy(rng.standard_normal(shape) / math.sqrt(dim)).to(self.tdtype)

        self.register_buffer("embed", torch.from_numpy(np.asarray(emb)).to(self.tdtype))
        self.register_buffer("pos", gauss(int(max_len), int(dim)))
        for name in ("w_q", "w_k", "w_v", "w_o"):
            self.register_buffer(name, gauss(int(dim), int(dim)))
        self.register_buffer("attn_norm_gain", torch.ones(int(dim), dtype=self.tdtype))
        self.register_buffer("mlp_norm_gain", torch.ones(int(dim), dtype=self.tdtype))
        self.mlp: TorchGatedMLP | None = None
        self.config = {
            "n_vocab": int(n_vocab),
            "dim": int(dim),
            "max_len": int(max_len),
            "residual_mlp": self.residual_mlp,
            "embedding": embedding,
            "dtype": dtype,
            "seed": int(seed) if isinstance(seed, (int, np.integer)) else None,
        }

    # -- sizes / parts
    @property
    def n_vocab(self) -> int:
        return int(self.embed.shape[0])

    @property
    def dim(self) -> int:
        return int(self.embed.shape[1])

    def embedding_matrix(self) -> np.ndarray:
        """E as a float64 NumPy array (n x d)."""
        return self.embed.detach().cpu().numpy().astype(np.float64)

    def set_mlp(self, mlp: GatedMLP | TorchGatedMLP, scale: float = 1.0) -> None:
        """Put ``mlp`` (optionally with its output times ``scale``) in the MLP slot (a copy, in the model's dtype)."""
        if isinstance(mlp, GatedMLP):
            mlp = scale_mlp(mlp, scale) if scale != 1.0 else mlp
            module = to_torch(mlp)
        elif isinstance(mlp, TorchGatedMLP):
            module = to_torch(scale_mlp(from_torch(mlp), scale))
        else:
            raise InvalidInputError(f"set_mlp expects a GatedMLP or TorchGatedMLP, got {type(mlp).__name__}")
        if module.dim != self.dim:
            raise ShapeError(f"MLP width d={module.dim} does not match the model's d={self.dim}")
        self.mlp = module.to(self.tdtype)

    def get_mlp(self) -> GatedMLP:
        """The MLP in the slot as a NumPy :class:`GatedMLP`."""
        if self.mlp is None:
            raise InvalidInputError("the model's MLP slot is empty; call set_mlp first")
        return from_torch(self.mlp)

    # -- forward pieces
    def _rms(self, z: torch.Tensor, gain: torch.Tensor) -> torch.Tensor:
        return z * torch.rsqrt(z.pow(2).mean(dim=-1, keepdim=True) + self.norm_eps) * gain

    def _tokens(self, prompts: Any) -> torch.Tensor:
        p = torch.as_tensor(np.array(prompts, dtype=np.int64))
        if p.ndim != 2:
            raise ShapeError(f"prompts: expected shape (B, T), got {tuple(p.shape)}")
        if p.shape[1] > self.pos.shape[0]:
            raise ShapeError(f"prompts of length {p.shape[1]} exceed max_len={self.pos.shape[0]}")
        if p.numel() and (int(p.min()) < 0 or int(p.max()) >= self.n_vocab):
            raise MappingRangeError(f"prompts hold tokens outside [0, {self.n_vocab})")
        return p

    def residual_stream(self, prompts: Any) -> torch.Tensor:
        """``y = x + CausalAttn(RMS(x))``, shape (B, T, d)."""
        p = self._tokens(prompts)
        x = self.embed[p] + self.pos[: p.shape[1]]
        z = self._rms(x, self.attn_norm_gain)
        q, k, v = z @ self.w_q.T, z @ self.w_k.T, z @ self.w_v.T
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.dim)
        t = p.shape[1]
        mask = torch.ones(t, t, dtype=torch.bool).tril()
        scores = scores.masked_fill(~mask, float("-inf"))
        a = torch.softmax(scores, dim=-1) @ v
        return x + a @ self.w_o.T

    def mlp_inputs(self, prompts: Any) -> torch.Tensor:
        """The keys ``RMS(y)`` at every position, shape (B, T, d)."""
        return self._rms(self.residual_stream(prompts), self.mlp_norm_gain)

    def forward(self, prompts: Any) -> torch.Tensor:
        """Logits ``out E^T`` at every position, shape (B, T, n)."""
        if self.mlp is None:
            raise InvalidInputError("the model's MLP slot is empty; call set_mlp first")
        y = self.residual_stream(prompts)
        out = self.mlp(self._rms(y, self.mlp_norm_gain))
        if self.residual_mlp:
            out = y + out
        return out @ self.embed.T

    def answers(self, prompts: Any) -> np.ndarray:
        """``argmax_o logits[T, o]`` for every query, int64 (B,)."""
        with torch.no_grad():
            return self(prompts)[:, -1].argmax(dim=-1).cpu().numpy().astype(np.int64)


def _check_model_facts(model: Any, facts: Any) -> None:
    if not isinstance(model, OneLayerTransformer):
        raise InvalidInputError(f"model must be a OneLayerTransformer, got {type(model).__name__}")
    if not isinstance(facts, FactQueries):
        raise InvalidInputError(f"facts must be FactQueries, got {type(facts).__name__}")
    if facts.n_vocab != model.n_vocab:
        raise ShapeError(f"facts use a vocabulary of {facts.n_vocab} tokens, the model has {model.n_vocab}")


def fact_keys_values(model: OneLayerTransformer, facts: FactQueries) -> FactSet:
    """The fact set the MLP must store: ``(K, V, f) = (RMS(y_T) per fact, E, objects)``.

    Keys ``K`` (F x d) are the frozen model's MLP inputs at the last query
    position; values ``V = E`` (n x d, the whole vocabulary: decoding by
    argmax over the vocabulary is exactly storage against all n values);
    ``f(i) = objects[i]``.  The same fact set serves the bypass model, where
    the MLP's output is then scaled by :func:`bypass_scale`.

    Raises :class:`DegenerateKeysError` when two different prompts give the
    same key to float64 precision (no MLP can then answer both if their
    objects differ).
    """
    _check_model_facts(model, facts)
    with torch.no_grad():
        keys = model.mlp_inputs(facts.prompts)[:, -1].cpu().numpy().astype(np.float64)
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    dup = np.flatnonzero(first[inverse.reshape(-1)] != np.arange(keys.shape[0])).tolist()
    if dup:
        raise DegenerateKeysError(
            f"facts {format_indices(dup)} have the same MLP input as an earlier fact", indices=dup
        )
    meta = {"source": "transformer", "residual_mlp": model.residual_mlp, **{k: v for k, v in model.config.items()}}
    return FactSet(keys, model.embedding_matrix(), facts.objects, meta=meta)


def correct(model: OneLayerTransformer, facts: FactQueries) -> np.ndarray:
    """Boolean (F,): whether the whole model answers fact i with ``objects[i]`` (argmax at the last position)."""
    _check_model_facts(model, facts)
    return model.answers(facts.prompts) == facts.objects


def recall(model: OneLayerTransformer, facts: FactQueries) -> float:
    """Fraction of facts the whole model answers correctly: ``mean_i [argmax logits_i = o_i]``."""
    return float(correct(model, facts).mean())


def scale_mlp(mlp: GatedMLP, scale: float) -> GatedMLP:
    """``c g``: the same MLP with ``W_down`` multiplied by ``c = scale`` (> 0)."""
    c = float(scale)
    if not (math.isfinite(c) and c > 0):
        raise InvalidInputError(f"scale must be a positive finite number, got {scale!r}")
    return GatedMLP(mlp.gate_proj, mlp.up_proj, mlp.down_proj * c, mlp.activation, dict(mlp.meta))


def bypass_scale(model: OneLayerTransformer, mlp: GatedMLP, facts: FactQueries, safety: float = 1.5) -> float:
    """Smallest output scale c that lets the bypass model answer every fact, times ``safety``.

    With residual ``y_i`` and MLP output ``g_i = g(k_i)``, fact i beats token j
    iff ``r_ij + c m_ij > 0`` where ``r_ij = <y_i, e_o - e_j>`` and
    ``m_ij = <g_i, e_o - e_j>``.  If every ``m_ij > 0`` (g stores the fact set)
    this holds for all i, j iff ``c > c* = max(0, max_ij -r_ij / m_ij)``; the
    function returns ``safety * c*`` (1.0 when c* = 0).  Raises
    :class:`InvalidInputError` when some ``m_ij <= 0`` with ``r_ij <= 0`` (no
    scale helps: g does not store that fact).
    """
    _check_model_facts(model, facts)
    if not safety >= 1.0:
        raise InvalidInputError(f"safety must be >= 1, got {safety!r}")
    fs = fact_keys_values(model, facts)
    with torch.no_grad():
        y = model.residual_stream(facts.prompts)[:, -1].cpu().numpy().astype(np.float64)
    E = fs.values
    g = np.asarray(mlp(fs.keys), dtype=np.float64)
    own = facts.objects
    r = y @ E.T
    r = r[np.arange(len(own)), own][:, None] - r
    m = g @ E.T
    m = m[np.arange(len(own)), own][:, None] - m
    m[np.arange(len(own)), own] = np.inf
    r[np.arange(len(own)), own] = 0.0
    hopeless = (m <= 0) & (r <= 0)
    if hopeless.any():
        bad = np.flatnonzero(hopeless.any(axis=1)).tolist()
        raise InvalidInputError(
            f"the MLP does not store facts {format_indices(bad)}, and no output scale fixes them", indices=bad
        )
    need = np.where(m > 0, -r / np.where(m > 0, m, 1.0), 0.0)
    c_star = float(max(need.max(), 0.0))
    return safety * c_star if c_star > 0 else 1.0


# ---- recall per construction ---------------------------------------------------------
def recall_by_method(
    model: OneLayerTransformer,
    facts: FactQueries,
    methods: Sequence[str] | None = None,
    *,
    seed: int = 0,
    gd_hidden: int | None = None,
    gd_steps: int = 3000,
    options: dict | None = None,
) -> list[dict]:
    """Recall of the whole model with each construction's MLP (and a GD-trained MLP) in the slot.

    For each method (default: every registered method except ``gd``) build
    ``construct(fact_keys_values(model, facts), method, seed=seed)`` at its
    default width, plug it in (scaled by :func:`bypass_scale` for a bypass
    model) and measure :func:`recall`.  Then, unless ``gd_hidden == 0``,
    train a gated SiLU MLP with :func:`factmlp.train.train_gd` on the same
    fact set at width ``gd_hidden`` (default: the smallest width among the
    constructions) for at most ``gd_steps`` Adam steps, stopping on its
    float storage check (``verify=False``: recall through the model is the
    measure here).  A method that raises is reported with its error.

    Returns one dict per method: ``method``, ``hidden``, ``params``,
    ``recall``, ``seconds`` (construction or training), ``scale`` (bypass
    output scale, 1.0 without bypass), ``error`` (or None).
    """
    from .constructions import METHODS, construct

    _check_model_facts(model, facts)
    fs = fact_keys_values(model, facts)
    names = [m for m in METHODS if m != "gd"] if methods is None else list(methods)
    options = dict(options or {})
    rows: list[dict] = []
    saved = model.mlp
    try:
        for name in names:
            row: dict[str, Any] = {
                "method": name,
                "hidden": None,
                "params": None,
                "recall": None,
                "seconds": None,
                "scale": None,
                "error": None,
            }
            try:
                c = construct(fs, name, seed=seed, **options.get(name, {}))
                row.update(hidden=c.hidden, params=c.params, seconds=c.seconds)
                row.update(_plug_and_recall(model, c.mlp, facts))
            except Exception as exc:  # reported, not hidden
                row["error"] = f"{type(exc).__name__}: {exc}"
            rows.append(row)
        if gd_hidden != 0:
            from .train import train_gd

            widths = [r["hidden"] for r in rows if r["hidden"]]
            h = gd_hidden or (min(widths) if widths else fs.n_facts)
            row = {
                "method": "gd",
                "hidden": h,
                "params": 3 * fs.dim * h,
                "recall": None,
                "seconds": None,
                "scale": None,
                "error": None,
            }
            try:
                mlp, info = train_gd(fs, h, seed, steps=gd_steps, verify=False, dtype="float64")
                row.update(seconds=info["seconds"], steps=info["steps"])
                row.update(_plug_and_recall(model, mlp, facts))
            except Exception as exc:
                row["error"] = f"{type(exc).__name__}: {exc}"
            rows.append(row)
    finally:
        model.mlp = saved
    return rows


def _plug_and_recall(model: OneLayerTransformer, mlp: GatedMLP, facts: FactQueries) -> dict:
    scale = 1.0
    if model.residual_mlp:
        try:
            scale = bypass_scale(model, mlp, facts)
        except InvalidInputError:
            scale = 1.0  # the MLP does not store everything; measure it unscaled
    model.set_mlp(mlp, scale)
    return {"recall": recall(model, facts), "scale": scale}


# ---- Lipschitz constants and noise -------------------------------------------------------
#: ``sup_t |act'(t)|``, rounded up: silu' = s(t)(1 + t(1 - s(t))) peaks at t ~ 2.3994 with 1.09985;
#: gelu' = Phi(t) + t phi(t) peaks at t = sqrt 2 with 1.128904.
ACT_DERIV_SUP = {"identity": 1.0, "relu": 1.0, "silu": 1.0999, "gelu": 1.1290}


def lipschitz_upper_bound(mlp: GatedMLP, radius: float) -> float:
    """An upper bound on the Lipschitz constant of ``g`` on the ball ``||x|| <= R``.

    Bound: ``L(R) = ||W_down||_2 * R * (a' * max_i ||u_i|| * ||G||_2 + a * max_i ||g_i|| * ||U||_2)``
    with ``g_i``, ``u_i`` the rows of ``G = W_gate``, ``U = W_up``;
    ``a' = sup_t |act'(t)|`` (:data:`ACT_DERIV_SUP`) and ``a = sup_{t != 0}
    |act(t) / t| = 1`` for identity, relu, silu (``t s(t)``, ``0 < s < 1``)
    and gelu (``t Phi(t)``, ``0 < Phi < 1``).

    Proof.  Where act is differentiable, the Jacobian of
    ``g(x) = W_down (act(G x) * (U x))`` is
    ``J(x) = W_down [diag(act'(G x) * (U x)) G + diag(act(G x)) U]``.  A
    diagonal matrix has spectral norm ``max_i |entry_i|``; for ``||x|| <= R``,
    ``|act'((Gx)_i) (Ux)_i| <= a' ||u_i|| R`` and ``|act((Gx)_i)| <= a |g_i . x|
    <= a ||g_i|| R`` (Cauchy-Schwarz).  Submultiplicativity and the triangle
    inequality give ``||J(x)||_2 <= L(R)``.  The ball is convex and g is
    locally Lipschitz and differentiable almost everywhere (everywhere but on
    the hyperplanes ``g_i . x = 0`` for relu), so
    ``||g(x) - g(y)|| = ||int_0^1 J(y + t(x - y)) (x - y) dt|| <= L(R) ||x - y||``
    (for relu, perturb the segment off the measure-zero set of kinks and use
    continuity of g).  The bound is also an upper bound on every
    ``||J(x)||_2`` with ``||x|| <= R``.
    """
    R = float(radius)
    if not (math.isfinite(R) and R >= 0):
        raise InvalidInputError(f"radius must be a finite number >= 0, got {radius!r}")
    G = np.asarray(mlp.gate_proj, dtype=np.float64)
    U = np.asarray(mlp.up_proj, dtype=np.float64)
    D = np.asarray(mlp.down_proj, dtype=np.float64)
    spec = lambda A: float(np.linalg.norm(A, 2))  # noqa: E731
    a_prime = ACT_DERIV_SUP[mlp.activation]
    row_g = float(np.linalg.norm(G, axis=1).max())
    row_u = float(np.linalg.norm(U, axis=1).max())
    return spec(D) * R * (a_prime * row_u * spec(G) + 1.0 * row_g * spec(U))


def lipschitz_bounds(mlp: GatedMLP, keys: Any) -> dict:
    """Lower and upper bounds on the Lipschitz constant of ``g`` on the ball of radius ``R = max_i ||k_i||``.

    ``lower = max_i ||J(k_i)||_2`` (exact Jacobians by torch autograd, float64):
    a Lipschitz constant on any open set containing the keys is at least the
    spectral norm of the Jacobian at each key where g is differentiable.
    ``upper = lipschitz_upper_bound(mlp, R)`` (proof there).  Since every key
    lies in the ball, ``lower <= upper``.

    Returns ``{"lower", "upper", "radius", "argmax"}`` (``argmax``: the key
    attaining ``lower``).
    """
    K = np.array(keys, dtype=np.float64)  # a writable copy (torch.from_numpy below)
    if K.ndim != 2 or K.shape[1] != mlp.dim or K.shape[0] < 1:
        raise ShapeError(f"keys: expected shape (F, {mlp.dim}) with F >= 1, got {K.shape}")
    if not np.isfinite(K).all():
        bad = np.flatnonzero(~np.isfinite(K).all(axis=1)).tolist()
        raise InvalidInputError(f"keys {format_indices(bad)} hold NaN or infinity", indices=bad)
    module = to_torch(mlp.astype(np.float64))
    x = torch.from_numpy(K)

    def f(batch: torch.Tensor) -> torch.Tensor:
        return module(batch)

    norms = np.empty(K.shape[0])
    for start in range(0, K.shape[0], 256):
        xb = x[start : start + 256]
        jac = torch.func.vmap(torch.func.jacrev(f))(xb)  # (b, d, d)
        norms[start : start + 256] = torch.linalg.matrix_norm(jac, ord=2).detach().numpy()
    radius = float(np.linalg.norm(K, axis=1).max())
    return {
        "lower": float(norms.max()),
        "upper": lipschitz_upper_bound(mlp, radius),
        "radius": radius,
        "argmax": int(norms.argmax()),
    }


def recall_under_noise(
    model: OneLayerTransformer, facts: FactQueries, sigma: float, seed: Any = 0, trials: int = 1
) -> float:
    """Recall when Gaussian noise ``sigma * xi`` (xi ~ N(0, I_d)) is added to every MLP input.

    The model's answer for fact i becomes ``argmax_o <out_i, e_o>`` with
    ``out_i = g(k_i + sigma xi_i)`` (plus ``y_i`` with bypass).  Keys after
    RMSNorm with unit gain have ``||k|| = sqrt(d)`` (rms 1), so sigma is the
    per-coordinate noise-to-signal ratio.  Averaged over ``trials`` draws.
    """
    _check_model_facts(model, facts)
    if model.mlp is None:
        raise InvalidInputError("the model's MLP slot is empty; call set_mlp first")
    s = float(sigma)
    if not (math.isfinite(s) and s >= 0):
        raise InvalidInputError(f"sigma must be a finite number >= 0, got {sigma!r}")
    rng = check_seed(seed)
    with torch.no_grad():
        y = model.residual_stream(facts.prompts)[:, -1]
        k = model._rms(y, model.mlp_norm_gain)
        hits = 0
        for _ in range(int(trials)):
            noise = torch.from_numpy(rng.standard_normal(tuple(k.shape))).to(k.dtype)
            out = model.mlp(k + s * noise)
            if model.residual_mlp:
                out = y + out
            ans = (out @ model.embed.T).argmax(dim=-1).cpu().numpy()
            hits += int((ans == facts.objects).sum())
    return hits / (int(trials) * facts.n_facts)
