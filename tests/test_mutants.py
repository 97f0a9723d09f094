"""The mutant harness: known-bad variants applied in-process, restored on exit, and caught by the claims.

The full table (every mutant, quick profile) is ``factmlp verify --mutants``;
here a cheap subset runs: each claims-core mutant against the claim meant to
catch it, with C3 restricted to the encoder-decoder (``--method encdec``) so
no GD search runs.
"""

from __future__ import annotations

import contextlib
import json

import pytest
from click.testing import CliRunner

from factmlp.cli import main
from proofs_checks import claims as _claims  # noqa: F401
from proofs_checks.framework import REGISTRY, Claim, _run_one
from proofs_checks.mutants import MUTANTS, Mutant, all_caught, load_mutants, run_mutants

CORE = (
    "claims.encdec_misstores_one_fact",
    "claims.encdec_exceeds_declared_bound",
    "claims.lenient_verifier",
    "claims.counting_bound_b_1e-6",
    "claims.decodability_rejects_small_rho",
    "claims.encdec_no_projection",
)


def test_registry_holds_the_claims_core_mutants_with_known_claims():
    load_mutants()
    for name in CORE:
        m = MUTANTS[name]
        assert m.kind == "verify" and m.description
        assert all(cid in REGISTRY for cid in m.expected), (name, m.expected)


def _product_state():
    import importlib
    import sys

    importlib.import_module("factmlp.feasibility")
    from factmlp import verify as verify_mod
    from factmlp.constructions import METHODS
    from proofs_checks.claims import c3_parameter_bound as c3

    return (
        METHODS["encdec"],
        verify_mod.verify_storage,
        sys.modules["factmlp.decodability"].decodability,
        sys.modules["factmlp.feasibility"].decodability,
        c3.BITS,
    )


@pytest.mark.parametrize("name", CORE)
def test_patch_changes_the_product_and_restores_it(name):
    load_mutants()
    before = _product_state()
    with MUTANTS[name].patch():
        during = _product_state()
        assert any(a is not b for a, b in zip(before, during, strict=True)), name
    assert all(a is b for a, b in zip(before, _product_state(), strict=True)), name


@pytest.mark.parametrize(
    "name",
    [
        "claims.encdec_misstores_one_fact",
        "claims.encdec_exceeds_declared_bound",
        "claims.lenient_verifier",
        "claims.counting_bound_b_1e-6",
    ],
)
def test_c3_catches_with_encdec_only(name):
    load_mutants()
    with MUTANTS[name].patch():
        entry = _run_one(REGISTRY["C3"], "quick", 0, "encdec")
    assert entry["status"] == "fail", entry["numbers"].get("headline")
    nums = entry["numbers"]
    if name == "claims.lenient_verifier":
        assert not nums["verifier_controls_ok"]
    else:
        assert nums["violations"] > 0


def test_c3_control_passes_with_encdec_only():
    assert _run_one(REGISTRY["C3"], "quick", 0, "encdec")["status"] == "pass"


def test_misstored_fact_is_the_only_one_missing():
    from factmlp.constructions import construct
    from factmlp.families import make_factset
    from factmlp.verify import verify_storage

    load_mutants()
    fs = make_factset("spherical", d=16, facts=32, seed=4)
    with MUTANTS["claims.encdec_misstores_one_fact"].patch():
        rep = verify_storage(construct(fs, "encdec", seed=0).mlp, fs)
    assert rep.stored == rep.total - 1 and list(rep.failing) == [0]


def test_run_mutants_catches_the_small_rho_solver_with_c1():
    rows = run_mutants(["claims.decodability_rejects_small_rho"], profile="quick", seed=0)
    control, row = rows
    assert control["kind"] == "control" and control["passed"] and control["claims"] == {"C1": "pass"}
    assert row["caught_by"] == ["C1"] and row["caught"] and row["caught_as_expected"] == ["C1"]
    assert all_caught(rows)


# ---- the CLI's exit codes, on probe claims and mutants (no real claim runs) ------------
_FLAG = {"broken": False}


@pytest.fixture
def probe():
    REGISTRY["C93"] = Claim(
        "C93",
        "probe",
        lambda: "x",
        lambda ctx: (not _FLAG["broken"], {}),
        doc="Decision rule: fails while the probe flag is set.",
    )

    @contextlib.contextmanager
    def breaks():
        _FLAG["broken"] = True
        try:
            yield
        finally:
            _FLAG["broken"] = False

    MUTANTS["probe_caught"] = Mutant("probe_caught", "sets the probe flag", "verify", breaks, ("C93",))
    MUTANTS["probe_missed"] = Mutant("probe_missed", "changes nothing", "verify", contextlib.nullcontext, ("C93",))
    yield
    for name in ("probe_caught", "probe_missed"):
        MUTANTS.pop(name, None)
    REGISTRY.pop("C93", None)


def _mutants_cli(*args):
    return CliRunner().invoke(main, ["verify", "--mutants", *args])


def test_cli_mutants_exit_codes(probe):
    ok = _mutants_cli("--only", "probe_caught", "--json")
    assert ok.exit_code == 0, ok.output
    out = json.loads(ok.stdout)
    assert out["all_caught"] and out["rows"][1]["caught_by"] == ["C93"]
    missed = _mutants_cli("--only", "probe_caught,probe_missed")
    assert missed.exit_code == 1
    assert "probe_missed | verify | C93 | NOT CAUGHT" in missed.stdout and "1/2 mutants caught" in missed.stdout
    bad = _mutants_cli("--only", "no_such_mutant")
    assert bad.exit_code == 2 and "no_such_mutant" in bad.stderr


def test_failing_control_means_no_catch(probe):
    _FLAG["broken"] = True  # the unpatched product already fails C93: failing under a mutant proves nothing
    try:
        rows = run_mutants(["probe_caught"])
    finally:
        _FLAG["broken"] = False
    assert not rows[0]["passed"] and rows[1]["caught_by"] == [] and not all_caught(rows)
