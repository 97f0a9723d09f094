"""``factmlp verify``: files written, schema-valid certificate, exit codes 0 / 1 / 2."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from factmlp.cli import main
from proofs_checks.report import validate_certificate


def _verify(*args):
    return CliRunner().invoke(main, ["verify", *map(str, args)])


def test_passing_claims_exit_0_and_write_reports(tmp_path):
    res = _verify("--claims", "C1,C6", "--profile", "quick", "--seed", 3, "--out", tmp_path, "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["summary"] == {"passed": 2, "failed": 0, "not_run": 0, "total": 2, "all_passed": True}
    assert [c["id"] for c in out["claims"]] == ["C1", "C6"]
    cert = json.loads((tmp_path / "certificate.json").read_text())
    validate_certificate(cert)
    assert cert["seed"] == 3 and cert["profile"] == "quick"
    for c in cert["claims"]:
        assert c["status"] == "pass" and len(c["input_hashes"]) == len(c["seeds"]) > 0
        assert c["statement_latex"]
    assert cert["claims"][1]["symbolic"]["status"] == "checked"
    md = (tmp_path / "report.md").read_text()
    assert "Passed 2 of 2 claims" in md and "## C6" in md
    assert (tmp_path / "report.tex").read_text().count(r"\\") >= 3


def test_same_seed_same_inputs(tmp_path):
    a = _verify("--claims", "C1", "--out", tmp_path / "a")
    b = _verify("--claims", "C1", "--out", tmp_path / "b")
    assert a.exit_code == b.exit_code == 0
    ca = json.loads((tmp_path / "a" / "certificate.json").read_text())["claims"][0]
    cb = json.loads((tmp_path / "b" / "certificate.json").read_text())["claims"][0]
    assert ca["input_hashes"] == cb["input_hashes"] and ca["numbers"] == cb["numbers"]


@pytest.mark.parametrize(
    "args, needle",
    [
        (("--claims", "C1,C77"), "C77"),
        (("--claims", "C1", "--method", "no-such-method"), "no-such-method"),
        (("--profile", "huge"), "huge"),
    ],
)
def test_bad_input_exit_2(tmp_path, args, needle):
    res = _verify(*args, "--out", tmp_path)
    assert res.exit_code == 2
    assert needle in res.stderr
    assert not (tmp_path / "certificate.json").exists()


@pytest.mark.slow
def test_all_claims_quick_profile(tmp_path, request):
    # about 1-3 minutes on 2 cores: opt-in, as the marker says ("run with -m slow")
    if "slow" not in (request.config.getoption("-m") or ""):
        pytest.skip("slow: run with -m slow")
    res = _verify("--profile", "quick", "--out", tmp_path)
    assert res.exit_code in (0, 1), res.output
    cert = json.loads((tmp_path / "certificate.json").read_text())
    validate_certificate(cert)
    ids = [c["id"] for c in cert["claims"]]
    assert ids[:6] == ["C1", "C2", "C3", "C4", "C5", "C6"]  # later claims (C7, ...) may follow
    assert res.exit_code == (1 if cert["summary"]["failed"] else 0)
