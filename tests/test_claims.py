"""The paper's claims C1-C6 (proofs_checks): symbolic sides, quick runs, a broken construction fails."""

from __future__ import annotations

import json
import math
import re
from importlib import resources

import numpy as np
import pytest
from click.testing import CliRunner

from factmlp.cli import main
from factmlp.constructions import METHODS, register_method
from factmlp.mlp import GatedMLP
from proofs_checks import claims as _claims  # noqa: F401  (registers C1-C6)
from proofs_checks.framework import REGISTRY, Claim, ClaimContext, _run_one, run_claims
from proofs_checks.report import to_latex, validate_certificate

CLAIM_IDS = ["C1", "C2", "C3", "C4", "C5", "C6"]
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
    assert nums["max_rel_bracket_width"] <= 1e-9


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
    claim = Claim("C99", "probe", lambda: "x", lambda ctx: (True, {}),
                  symbolic=lambda: {"status": "unchecked", "derivations": []})
    assert _run_one(claim, "quick", 0, None)["status"] == "fail"
    ok = Claim("C98", "probe", lambda: "x", lambda ctx: (True, {}), symbolic=lambda: {"status": "checked"})
    assert _run_one(ok, "quick", 0, None)["status"] == "pass"


# ---- a deliberately broken construction ------------------------------------------
def _random_mlp(factset, hidden, seed, **options):
    """Ignores the facts: random weights of the requested width."""
    rng = np.random.default_rng(seed)
    d = factset.dim
    return GatedMLP(rng.standard_normal((hidden, d)), rng.standard_normal((hidden, d)),
                    rng.standard_normal((d, hidden)), "silu")


@pytest.fixture
def broken_method():
    register_method("broken", _random_mlp, default_hidden=lambda fs, **o: fs.n_facts, guarantee=True,
                    param_bound=lambda fs, h, **o: 3 * fs.dim * h, description="test only: random MLP",
                    replace=True)
    yield "broken"
    METHODS.pop("broken", None)


def test_broken_construction_fails_c2_and_c3(broken_method):
    cert = run_claims(["C2", "C3"], profile="quick", seed=0, method=broken_method)
    c2, c3 = cert["claims"]
    assert c2["status"] == "fail" and c2["method_override"] == "broken"
    nums = c2["numbers"]
    assert nums["method"] == "broken" and nums["generic_stored"] < nums["generic_total"]
    assert nums["degenerate_reported_stored"] == 0
    # within its own parameter bound, but a guaranteed method that stores nothing is no evidence
    assert c3["status"] == "fail" and c3["numbers"]["violations"] == c3["numbers"]["constructions"] > 0
    assert all(r["within_registered_bound"] and not r["stores_as_guaranteed"] for r in c3["numbers"]["rows"])


def test_cli_broken_method_exit_1_and_certificate_validates(broken_method, tmp_path):
    import jsonschema

    out = tmp_path / "rep"
    res = CliRunner().invoke(main, ["verify", "--claims", "C2", "--method", broken_method, "--out", str(out)])
    assert res.exit_code == 1, res.output
    cert = json.loads((out / "certificate.json").read_text())
    schema = json.loads(resources.files("factmlp").joinpath("schemas/certificate.schema.json").read_text())
    jsonschema.validate(cert, schema)
    validate_certificate(cert)
    assert cert["summary"] == {"passed": 0, "failed": 1, "total": 1}
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
