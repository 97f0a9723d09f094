"""``factmlp demo``: the default job end to end (small sizes)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from factmlp.cli import main


def test_demo_json_small():
    res = CliRunner().invoke(main, ["demo", "--d", "8", "--facts", "40", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["feasible"] is True and out["method"] == "encdec"
    assert out["stored"] == out["total"] == 40 and out["certified"] is True
    assert out["rho_certified_lower"] <= out["rho"] <= out["rho_certified_upper"] + 1e-12
    assert out["params"] == 3 * 8 * out["hidden"] <= out["params_bound"]


def test_demo_human_output_and_bad_method():
    res = CliRunner().invoke(main, ["demo", "--d", "6", "--facts", "20"])
    assert res.exit_code == 0, res.output
    assert "facts certified stored" in res.output
    bad = CliRunner().invoke(main, ["demo", "--d", "6", "--facts", "20", "--method", "nope"])
    assert bad.exit_code == 2 and "unknown method" in bad.output
