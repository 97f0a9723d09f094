"""The regime claims C2, C4, C6, C7, C8, C10 and their mutants (proofs_checks/mutants_regime.py).

Each mutant is applied with its own ``patch()`` and the claims it names are
run directly under it: they must fail (caught), and the same claim without
the patch must pass (control).  The default tests run the claims at reduced
sizes (the size tables are monkeypatched; the decision rules are the
modules'); the ``slow`` tests repeat every catch at the quick profile, which
``factmlp verify --mutants`` runs.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from proofs_checks import claims as _claims  # noqa: F401  (registers the claims)
from proofs_checks.framework import REGISTRY, ClaimContext
from proofs_checks.mutants import MUTANTS
from proofs_checks.mutants_regime import REGIME_MUTANTS

torch = pytest.importorskip("torch")

_MOD = {
    "C2": "c2_genericity",
    "C4": "c4_asymptotic",
    "C6": "c6_jl",
    "C7": "c7_recall",
    "C8": "c8_editing",
    "C10": "c10_tradeoff",
}

#: reduced sizes for the default suite (same keys as each module's SIZES["quick"])
SMALL = {
    "C2": {
        "d": 8,
        "F": 24,
        "N": 24,
        "per_family": 1,
        "degenerate": 2,
        "duplicate_pairs": 1,
        "compressed": {"d": 128, "F": 96, "N": 96, "code_dims": (32,)},
    },
    "C4": {"points": ((16, 32), (32, 64), (64, 128))},
    "C6": {"d": 1024, "N": 16, "delta": 0.05, "eps": 0.5, "trials": 80, "fractions": (0.5, 0.25, 0.125)},
    "C7": {"vocab": 64, "d": 16, "facts": 64},
    "C8": {"vocab": 64, "d": 16, "facts": 80, "generic_prompts": 128},
    "C10": {"d": 16, "F": 32},
}


def _module(cid: str):
    return importlib.import_module(f"proofs_checks.claims.{_MOD[cid]}")


@pytest.fixture
def small(monkeypatch):
    """Shrink every regime claim's quick sizes (and C8's fine-tuning steps) for the default suite."""
    for cid, sizes in SMALL.items():
        monkeypatch.setitem(_module(cid).SIZES, "quick", sizes)
    monkeypatch.setattr(_module("C8"), "FINETUNE_STEPS", 30)
    if "C2" in SMALL:  # fewer families for the compressed part
        monkeypatch.setattr(_module("C2"), "COMPRESSED_FAMILIES", ("spherical",))
        monkeypatch.setattr(_module("C2"), "FAMILIES", ("spherical", "spiked"))


def _run(cid: str, method: str | None = None) -> tuple[bool, dict]:
    return REGISTRY[cid].run(ClaimContext(profile="quick", seed=0, method=method))


def _catches(mutant, cid: str) -> tuple[bool, object]:
    """Run claim ``cid`` under ``mutant``: ``(caught, numbers or error)``; an exception is a failure."""
    with mutant.patch():
        try:
            passed, nums = _run(cid)
        except Exception as exc:  # a claim that raises is recorded as failing by the framework
            return True, f"{type(exc).__name__}: {exc}"
    return not passed, nums


def test_regime_mutants_registered():
    assert {m.name for m in REGIME_MUTANTS} == {
        "encdec_m_equals_d",
        "encdec_misstores_one_fact",
        "jl_decoder_constant_wrong",
        "whitening_disabled",
    }
    for m in REGIME_MUTANTS:
        assert MUTANTS[m.name] is m and m.kind == "verify"
        assert set(m.expected) <= set(REGISTRY), m.expected


def test_patches_restore_the_product():
    from factmlp.constructions import METHODS, encdec
    from theory import jl

    before = (encdec.encdec_layout, encdec._theory_code_dim, encdec._whitening, METHODS["encdec"], jl.m_decoder)
    for m in REGIME_MUTANTS:
        with m.patch():
            during = (encdec.encdec_layout, encdec._theory_code_dim, encdec._whitening, METHODS["encdec"], jl.m_decoder)
            assert during != before, m.name
        assert (
            encdec.encdec_layout,
            encdec._theory_code_dim,
            encdec._whitening,
            METHODS["encdec"],
            jl.m_decoder,
        ) == before, m.name


def test_misstore_mutant_really_misstores_exactly_one_fact():
    from factmlp.constructions import construct
    from factmlp.families import make_factset
    from factmlp.verify import verify_storage

    fs = make_factset("spherical", d=8, facts=24, seed=1)
    with MUTANTS["encdec_misstores_one_fact"].patch():
        rep = verify_storage(construct(fs, "encdec", hidden=24, seed=0).mlp, fs)
    assert rep.total - rep.stored == 1 and list(rep.failing) == [0]


@pytest.mark.parametrize("cid", ["C2", "C4", "C6", "C7", "C8", "C10"])
def test_control_passes_small(small, cid):
    passed, nums = _run(cid)
    assert passed, {k: nums.get(k) for k in nums.get("headline", [])}


CATCHES = [(m.name, cid) for m in REGIME_MUTANTS for cid in m.expected]


@pytest.mark.parametrize("name,cid", CATCHES)
def test_mutant_caught_small(small, name, cid):
    caught, detail = _catches(MUTANTS[name], cid)
    assert caught, detail if isinstance(detail, str) else {k: detail.get(k) for k in detail.get("headline", [])}


@pytest.mark.slow
@pytest.mark.parametrize("name,cid", CATCHES)
def test_mutant_caught_quick_profile(name, cid):
    caught, detail = _catches(MUTANTS[name], cid)
    assert caught, detail if isinstance(detail, str) else {k: detail.get(k) for k in detail.get("headline", [])}


@pytest.mark.slow
@pytest.mark.parametrize("cid", ["C2", "C4", "C6", "C7", "C8", "C10"])
def test_control_quick_profile(cid):
    passed, nums = _run(cid)
    assert passed, {k: nums.get(k) for k in nums.get("headline", [])}


def test_c6_power_helpers():
    from scipy.stats import binom

    from proofs_checks.claims.c6_jl import clopper_pearson, min_successes, rejection_power

    s = min_successes(100, 0.95)
    assert s == 100 and clopper_pearson(100, 100)[0] >= 0.95 > clopper_pearson(99, 100)[0]
    assert rejection_power(0.99, 100, s) == pytest.approx(1 - 0.99**100, rel=1e-12)
    s2 = min_successes(400, 0.95)
    assert clopper_pearson(s2, 400)[0] >= 0.95 > clopper_pearson(s2 - 1, 400)[0]
    assert rejection_power(0.97, 400, s2) == pytest.approx(binom.cdf(s2 - 1, 400, 0.97))
    assert min_successes(10, 0.95) is None  # 10 trials can never show 0.95


def test_c10_kendall_undefined_when_tied():
    from proofs_checks.claims.c10_tradeoff import kendall

    assert kendall([0, 1, 2], [5.0, 5.0, 5.0]) is None
    assert kendall([0, 1, 2, 3], [1.0, 2.0, 3.0, 4.0]) == pytest.approx(1.0)


def test_c8_edit_counts_exact_and_one_loss_is_not_exact():
    from factmlp.constructions import construct
    from factmlp.editing import choose_edits
    from factmlp.transformer import OneLayerTransformer, fact_keys_values, make_fact_queries
    from proofs_checks.claims.c8_editing import edit_counts

    model = OneLayerTransformer(32, 16, seed=0)
    facts = make_fact_queries(32, 40, seed=1)
    fs = fact_keys_values(model, facts)
    model.set_mlp(construct(fs, "encdec", hidden=48, seed=0).mlp)
    after, idx = choose_edits(facts, 0.1, seed=2)
    out = edit_counts(model, facts, after, idx)  # unedited model: keeps every old fact, edits none
    assert out["retained"] == out["unchanged"] == 40 - idx.size and out["edited_ok"] == 0 and not out["exact"]
    lost = facts.with_objects(
        np.where(np.arange(40) == int(np.setdiff1d(np.arange(40), idx)[0]), (facts.objects + 1) % 32, facts.objects)
    )
    out2 = edit_counts(model, lost, after, idx)
    assert out2["retained"] == out2["unchanged"] - 1
