"""The paper's claims (proofs_checks): symbolic sides, quick runs, a broken construction fails, the framework."""

from __future__ import annotations

import json
import math
import re
import sys
from importlib import resources

import numpy as np
import pytest
from click.testing import CliRunner

from factmlp.cli import main
from factmlp.constructions import METHODS, register_method
from factmlp.mlp import GatedMLP
from proofs_checks import claims as _claims  # noqa: F401  (registers the claims)
from proofs_checks.framework import REGISTRY, Claim, ClaimContext, _run_one, run_claims
from proofs_checks.report import to_latex, validate_certificate

CLAIM_IDS = ["C1", "C2", "C3", "C4", "C5", "C6", "C9"]
SYMBOLIC = [c for c in CLAIM_IDS if REGISTRY[c].symbolic is not None]


def test_all_six_registered_with_docs_and_statements():
    for cid in CLAIM_IDS:
        claim = REGISTRY[cid]
        assert claim.doc.strip() and "Decision rule" in claim.doc, cid
        tex = claim.statement()
        assert tex and tex.count("{") == tex.count("}"), cid


@pytest.mark.parametrize("cid", SYMBOLIC)
def test_symbolic_side_checks(cid):
    out = REGISTRY[cid].symbolic()
    assert out["derivations"], cid
    bad = [(d["name"], d["status"]) for d in out["derivations"] if d["status"] != "checked"]
    assert not bad and out["status"] == "checked"
    assert all(d["steps_proved"] == d["steps"] > 0 for d in out["derivations"])


def test_c1_passes_quick():
    passed, nums = REGISTRY["C1"].run(ClaimContext(profile="quick", seed=0))
    assert passed, nums["disagreements"] or nums["error_mismatches"]
    assert nums["agreements"] == nums["total"] > 0
    # every planted duplicate / interior point is found, so the LP saw non-vertices at all
    assert all(s["planted_detected"] == s["planted"] for s in nums["sets"])
    assert nums["lp_non_vertices"] >= sum(s["planted"] for s in nums["sets"])
    assert nums["max_abs_bracket_width"] <= 1e-9
    # the near-degenerate regime is covered: rho_j from 1e-6 to 1e-3, each an exactly certified vertex
    targets = sorted({r["target_rho"] for r in nums["near_degenerate"]})
    assert targets[0] <= 1e-6 and targets[-1] >= 1e-3
    assert nums["near_degenerate_certified"] == nums["near_degenerate_planted"] > 0
    assert all(r["solver_vertex"] and 0 < r["solver_lower"] <= r["target_rho"] * 1.01 for r in nums["near_degenerate"])


def test_c1_planted_interior_points_are_not_vertices():
    from factmlp.feasibility import is_vertex_lp
    from proofs_checks.claims.c1_feasibility import planted_values

    v, planted = planted_values("spherical", 4, 30, 2, 3, seed=5)
    for j in planted["duplicates"] + planted["interior"]:
        assert not is_vertex_lp(v, j)


def test_c6_passes_quick():
    from proofs_checks.claims.c6_jl import SIZES

    passed, nums = REGISTRY["C6"].run(ClaimContext(profile="quick", seed=0))
    delta = SIZES["quick"]["delta"]
    assert passed
    assert nums["decoder_ci_low"] >= 1 - delta and nums["jl_ci_low"] >= 1 - delta
    assert nums["worst_margin_over_distance"] >= nums["required_margin_over_distance"] > 0
    assert nums["m_decoder"] > 0 and nums["trials"] == SIZES["quick"]["trials"]


def test_clopper_pearson_matches_closed_form():
    from proofs_checks.claims.c6_jl import clopper_pearson

    n = 40
    lo, hi = clopper_pearson(n, n, 0.95)
    assert hi == 1.0 and lo == pytest.approx(0.025 ** (1 / n), rel=1e-9)
    lo0, hi0 = clopper_pearson(0, n, 0.95)
    assert lo0 == 0.0 and hi0 == pytest.approx(1 - 0.025 ** (1 / n), rel=1e-9)


def test_slope_interval_against_hand_formula():
    from scipy import stats

    from proofs_checks.claims.c4_asymptotic import slope_interval

    x = np.log([64.0, 128, 256, 512, 1024])
    y = 0.3 - 0.2 * x + np.array([0.01, -0.02, 0.015, 0.0, -0.01])
    fit = slope_interval(x, y)
    xc = x - x.mean()
    slope = float(xc @ (y - y.mean()) / (xc @ xc))
    resid = y - (y.mean() + slope * xc)
    se = math.sqrt(resid @ resid / (len(x) - 2) / (xc @ xc))
    tq = stats.t.ppf(0.975, len(x) - 2)
    assert fit["slope"] == pytest.approx(slope, rel=1e-12)
    assert fit["ci_high"] == pytest.approx(slope + tq * se, rel=1e-9)
    assert fit["ci_low"] == pytest.approx(slope - tq * se, rel=1e-9)


def test_unchecked_symbolic_side_fails_the_claim():
    claim = Claim(
        "C99", "probe", lambda: "x", lambda ctx: (True, {}), symbolic=lambda: {"status": "unchecked", "derivations": []}
    )
    assert _run_one(claim, "quick", 0, None)["status"] == "fail"
    ok = Claim("C98", "probe", lambda: "x", lambda ctx: (True, {}), symbolic=lambda: {"status": "checked"})
    assert _run_one(ok, "quick", 0, None)["status"] == "pass"


# ---- a deliberately broken construction ------------------------------------------
def _random_mlp(factset, hidden, seed, **options):
    """Ignores the facts: random weights of the requested width."""
    rng = np.random.default_rng(seed)
    d = factset.dim
    return GatedMLP(
        rng.standard_normal((hidden, d)), rng.standard_normal((hidden, d)), rng.standard_normal((d, hidden)), "silu"
    )


@pytest.fixture
def broken_method():
    register_method(
        "broken",
        _random_mlp,
        default_hidden=lambda fs, **o: fs.n_facts,
        guarantee=True,
        param_bound=lambda fs, h, **o: 3 * fs.dim * h,
        description="test only: random MLP",
        replace=True,
    )
    yield "broken"
    METHODS.pop("broken", None)


def test_broken_construction_fails_c2_c3_c5(broken_method):
    cert = run_claims(["C2", "C3", "C5"], profile="quick", seed=0, method=broken_method)
    c2, c3, c5 = cert["claims"]
    assert c2["status"] == "fail" and c2["method_override"] == "broken"
    nums = c2["numbers"]
    assert nums["method"] == "broken" and nums["generic_stored"] < nums["generic_total"]
    assert nums["degenerate_reported_stored"] == 0
    # within its own parameter bound, but a guaranteed method that stores nothing is no evidence,
    # and a capacity search that never stores is a violation
    assert c3["status"] == "fail" and c3["numbers"]["violations"] == c3["numbers"]["checks"] > 0
    for r in c3["numbers"]["rows"]:
        assert r["method"] == "broken" and not r["search_succeeded"]
        assert r["default_width"]["within_registered_bound"] and not r["default_width"]["stores_as_guaranteed"]
    # C5: a method that never stores fails, whatever the correlation
    assert c5["status"] == "fail" and c5["numbers"]["failed_searches"] == len(c5["numbers"]["sets"]) > 0
    assert all(c["method_override_read"] for c in cert["claims"])


def test_cli_broken_method_exit_1_and_certificate_validates(broken_method, tmp_path):
    import jsonschema

    out = tmp_path / "rep"
    res = CliRunner().invoke(main, ["verify", "--claims", "C2", "--method", broken_method, "--out", str(out)])
    assert res.exit_code == 1, res.output
    cert = json.loads((out / "certificate.json").read_text())
    schema = json.loads(resources.files("factmlp").joinpath("schemas/certificate.schema.json").read_text())
    jsonschema.validate(cert, schema)
    validate_certificate(cert)
    assert cert["summary"] == {"passed": 0, "failed": 1, "not_run": 0, "total": 1, "all_passed": False}
    assert cert["claims"][0]["status"] == "fail" and cert["claims"][0]["input_hashes"]
    tex = (out / "report.tex").read_text()
    assert tex == to_latex(cert)
    _assert_latex_table(tex, ["C2"])
    assert "**fail**" in (out / "report.md").read_text()


def _assert_latex_table(tex: str, ids: list[str]) -> None:
    body = [ln for ln in tex.splitlines() if not ln.startswith("%")]
    assert body[0] == r"\begin{table}[t]" and body[-1] == r"\end{table}"
    for env in ("table", "tabular"):
        assert tex.count(rf"\begin{{{env}}}") == tex.count(rf"\end{{{env}}}") == 1
    m = re.search(r"\\begin\{tabular\}\{(.*)\}\s*$", tex, re.M)
    ncol = len(re.findall(r"p\{[^}]*\}|[lcr]", m.group(1)))  # a p{...} column is consumed whole
    assert ncol == 4
    rows = [ln for ln in body if ln.rstrip().endswith(r"\\") and not ln.startswith("Claim")]
    assert [r.split(" & ")[0] for r in rows] == ids
    for r in rows:
        assert r.count(" & ") == ncol - 1
    assert tex.count("{") - tex.count(r"\{") == tex.count("}") - tex.count(r"\}")


def test_c2_degenerate_sets_are_really_degenerate():
    from factmlp.families import make_factset
    from proofs_checks.claims.c2_genericity import conflicting_duplicates, low_rank_keys

    fs = make_factset("gaussian", d=6, facts=20, seed=2)
    bad, pairs = conflicting_duplicates(fs, 2, seed=3)
    assert len(pairs) == 2
    for src, dst in pairs:
        assert np.array_equal(bad.keys[src], bad.keys[dst]) and bad.mapping[src] != bad.mapping[dst]
    assert np.linalg.matrix_rank(low_rank_keys(fs, 2, seed=4).keys) == 2


# ---- the framework: not_run, evidence, design, cache, provenance ----------------------
@pytest.fixture
def temp_claim():
    made = []

    def make(cid, run, **kw):
        claim = Claim(cid, "probe", lambda: "x", run, doc="Decision rule: probe.", **kw)
        REGISTRY[cid] = claim
        made.append(cid)
        return claim

    yield make
    for cid in made:
        REGISTRY.pop(cid, None)


def test_missing_dependency_is_not_run_and_not_a_pass(temp_claim, tmp_path):
    import jsonschema

    temp_claim("C97", lambda ctx: (True, {}), requires=("no_such_module_xyz",))
    entry = _run_one(REGISTRY["C97"], "quick", 0, None)
    assert entry["status"] == "not_run" and "no_such_module_xyz" in entry["reason"]
    out = tmp_path / "rep"
    res = CliRunner().invoke(main, ["verify", "--claims", "C97", "--out", str(out), "--json"])
    assert res.exit_code == 1, res.output  # exit 0 only when every requested claim passed
    summary = json.loads(res.stdout)["summary"]
    assert summary == {"passed": 0, "failed": 0, "not_run": 1, "total": 1, "all_passed": False}
    cert = json.loads((out / "certificate.json").read_text())
    jsonschema.validate(
        cert, json.loads(resources.files("factmlp").joinpath("schemas/certificate.schema.json").read_text())
    )
    assert "not run" in (out / "report.md").read_text()


def test_torch_unavailable_inside_run_is_not_run(temp_claim):
    from factmlp.errors import TorchUnavailableError

    def run(ctx):
        raise TorchUnavailableError("needs torch")

    temp_claim("C96", run)
    entry = _run_one(REGISTRY["C96"], "quick", 0, None)
    assert entry["status"] == "not_run" and "needs torch" in entry["reason"]
    cert = {"claims": [entry, {**entry, "status": "pass"}, {**entry, "status": "fail"}]}
    from proofs_checks.framework import summarize

    assert summarize(cert["claims"]) == {"passed": 1, "failed": 1, "not_run": 1, "total": 3, "all_passed": False}


def test_design_record_copies_the_module_constants():
    from proofs_checks.claims import c5_rho_predicts_capacity as c5
    from proofs_checks.claims import c9_encdec_vs_gd as c9
    from proofs_checks.framework import design_record

    d5 = design_record(REGISTRY["C5"])
    assert d5["ALPHA"] == c5.ALPHA and d5["SIZES"] == c5.SIZES and d5["PERMUTATIONS"] == c5.PERMUTATIONS
    assert "EVIDENCE" not in d5
    d9 = design_record(REGISTRY["C9"])
    assert d9["TOLERANCE"] == c9.TOLERANCE and d9["D"] >= 32
    assert all(len(v["F_GRID"]) >= 4 for v in d9["SIZES"].values())


def test_evidence_kinds_declared_or_marked_undeclared(temp_claim):
    def run(ctx):
        ctx.method  # noqa: B018  (reading the override is recorded)
        return True, {"evidence": {"measured": {"n": 3}}}

    temp_claim("C95", run)
    e = _run_one(REGISTRY["C95"], "quick", 0, "encdec")
    assert e["evidence"]["kinds"] == ["measured"] and e["evidence"]["measured"]["n"] == 3
    assert e["method_override_read"] and "evidence" not in e["numbers"]
    from proofs_checks.framework import _evidence

    class _Mod:  # a claim module declaring its evidence as text
        EVIDENCE = {"exact": "at the listed sizes", "caveats": ["small"]}

    sys.modules["_probe_claim_module"] = _Mod
    try:
        probe = Claim("C93", "probe", lambda: "x", lambda ctx: (True, {}))
        probe.run.__module__ = "_probe_claim_module"
        ev = _evidence(probe, {"seeds": [1]}, {"evidence": {"exact": {"sizes": [3]}}})
    finally:
        del sys.modules["_probe_claim_module"]
    assert ev["exact"] == {"what": "at the listed sizes", "sizes": [3]} and ev["kinds"] == ["exact"]
    temp_claim("C94", lambda ctx: (True, {}))
    e = _run_one(REGISTRY["C94"], "quick", 0, "encdec")
    assert e["evidence"]["declared"] is False and not e["method_override_read"]
    assert any("--method" in c for c in e["evidence"]["caveats"])
    for cid in ("C1", "C3", "C5", "C9"):
        from proofs_checks.framework import EVIDENCE_KINDS

        ev = sys.modules[REGISTRY[cid].run.__module__].EVIDENCE
        assert set(ev) & set(EVIDENCE_KINDS) and ev["caveats"], cid


def test_provenance_records_blas_threads_argv_and_source_hash():
    from factmlp.provenance import blas_info, provenance, source_hash

    p = provenance()
    assert p["cpu_count"] and isinstance(p["argv"], list) and p["mpmath"]
    assert p["blas"]["source"] in ("threadpoolctl", "environment") and "OMP_NUM_THREADS" in p["blas"]["env"]
    assert re.fullmatch(r"[0-9a-f]{64}", source_hash())
    assert (p["package"]["source_sha256"] is None) == (p["git_revision"] is not None)
    assert blas_info()["env"].keys() == p["blas"]["env"].keys()


def test_no_git_records_the_source_hash(monkeypatch):
    from factmlp import provenance as prov

    monkeypatch.setattr(prov, "git_revision", lambda: None)
    p = prov.provenance()
    assert p["git_revision"] is None and p["package"]["source_sha256"] == prov.source_hash()
    assert p["package"]["version"]


def test_capacity_cache_is_shared_within_a_run():
    from proofs_checks.claims._common import capacity_cached, grid_construct_seed, grid_factset

    ctx = ClaimContext(seed=0)
    a, sa = grid_factset(ctx, "spherical", 8, 16, 0)
    b, sb = grid_factset(ClaimContext(seed=0), "spherical", 8, 16, 0)
    assert sa == sb and a.fingerprint() == b.fingerprint()
    assert grid_factset(ctx, "spherical", 8, 16, 1)[0].fingerprint() != a.fingerprint()
    seed = grid_construct_seed(ctx, "spherical", 8, 16, 0)
    r1 = capacity_cached(ctx, a, "hebbian", seed=seed)
    assert capacity_cached(ctx, b, "hebbian", seed=seed) is r1
    assert capacity_cached(ctx, a, "hebbian", seed=seed + 1) is not r1
    assert capacity_cached(ClaimContext(seed=0), a, "hebbian", seed=seed) is not r1  # a new run, a new cache


def test_verifier_controls_catch_a_lenient_verifier(monkeypatch):
    import dataclasses

    from factmlp import verify as verify_mod
    from factmlp.families import make_factset
    from proofs_checks.claims import _common

    fs = make_factset("spherical", d=8, facts=16, seed=1)
    assert _common.verifier_controls(fs, seed=2)["ok"]
    real = verify_mod.verify_storage
    monkeypatch.setattr(
        verify_mod,
        "verify_storage",
        lambda mlp, f, **k: dataclasses.replace(real(mlp, f, **k), stored=f.n_facts, certified=True),
    )
    assert not _common.verifier_controls(fs, seed=2)["ok"]


def test_c5_permutation_test_matches_spearman_and_is_seeded():
    from scipy.stats import spearmanr

    from proofs_checks.claims.c5_rho_predicts_capacity import permutation_spearman

    rng = np.random.default_rng(0)
    x = rng.random(20)
    y = x + 0.3 * rng.random(20)
    t = permutation_spearman(list(x), list(y), permutations=999, seed=1)
    assert t["correlation"] == pytest.approx(spearmanr(x, y).statistic, abs=1e-12)
    assert t["p_value"] == pytest.approx(1 / 1000)  # no permutation reaches a correlation this strong
    assert t == permutation_spearman(list(x), list(y), permutations=999, seed=1)
    z = np.random.default_rng(11).random(20)  # independent of x
    noise = permutation_spearman(list(x), list(z), permutations=9999, seed=1)
    assert noise["p_value"] == pytest.approx(spearmanr(x, z, alternative="greater").pvalue, abs=0.03)
    assert permutation_spearman([1.0, 1.0, 1.0], [1.0, 2.0, 3.0], permutations=9, seed=0)["p_value"] == 1.0


def _fake_capacity(exponents: dict):
    """capacity_cached stand-in: h* = round(4 F^a) for method m with exponent a (no construction)."""
    from types import SimpleNamespace

    def fake(ctx, fs, method, *, seed, rho=None, **options):
        h = max(1, round(4 * fs.n_facts ** exponents[method]))
        return SimpleNamespace(h_star=h, params=3 * fs.dim * h, status="ok", probes=[1], seconds=0.0)

    return fake


@pytest.mark.parametrize("a_encdec, expect_pass", [(0.6, True), (1.4, False)])
def test_c9_decision_rule_on_known_slopes(monkeypatch, a_encdec, expect_pass):
    from proofs_checks.claims import c9_encdec_vs_gd as c9

    monkeypatch.setattr(c9, "capacity_cached", _fake_capacity({"encdec": a_encdec, "gd": 0.6}))
    passed, nums = c9.run(ClaimContext(profile="quick", seed=0))
    assert passed is expect_pass
    assert nums["ci_low"] <= nums["slope"] <= nums["ci_high"]
    assert nums["slope"] == pytest.approx(a_encdec - 0.6, abs=0.05)
    assert nums["n"] == len(c9.SIZES["quick"]["F_GRID"]) * len(c9.SIZES["quick"]["GRID_SEEDS"])
    if not expect_pass:
        assert "grows" in nums["finding"]


def test_c9_method_override_replaces_encdec(monkeypatch):
    from proofs_checks.claims import c9_encdec_vs_gd as c9

    monkeypatch.setattr(c9, "capacity_cached", _fake_capacity({"hebbian": 0.6, "gd": 0.6}))
    ctx = ClaimContext(profile="quick", seed=0, method="hebbian")
    passed, nums = c9.run(ctx)
    assert ctx.method_read and nums["method"] == "hebbian" and passed


def test_every_construction_claim_reads_the_method_override():
    # C2-C5 and C7-C10 exercise a construction: --method must reach each of them
    import inspect

    for cid in ("C2", "C3", "C4", "C5", "C7", "C8", "C9", "C10"):
        if cid in REGISTRY:
            src = inspect.getsource(sys.modules[REGISTRY[cid].run.__module__])
            assert "ctx.method" in src, cid
