"""``factmlp theory``: JSON, LaTeX and table output; exit codes."""

from __future__ import annotations

import json

from click.testing import CliRunner

from factmlp.cli import main


def test_theory_json():
    res = CliRunner().invoke(main, ["theory", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    ders = data["derivations"]
    assert len(ders) >= 12
    assert {d["status"] for d in ders} <= {"checked", "unchecked", "failed"}
    assert all(set(d) >= {"name", "status", "statement_latex"} for d in ders)
    assert all(d["status"] == "checked" for d in ders)


def test_theory_latex_and_table():
    res = CliRunner().invoke(main, ["theory", "--latex"])
    assert res.exit_code == 0
    assert res.output.startswith("\\section{")
    assert res.output.count("\\subsection*{") >= 12
    res = CliRunner().invoke(main, ["theory", "--steps"])
    assert res.exit_code == 0
    assert "checked" in res.output and "[proved" in res.output


def test_theory_exits_1_when_a_derivation_fails(monkeypatch):
    import sympy as sp

    import theory.registry as reg
    from theory.derivation import Derivation, Equality
    from theory.symbols import x

    bad = Derivation("broken", sp.Eq(x, 2 * x), [x], "", [Equality("x = 2x", x, 2 * x)])
    monkeypatch.setattr(reg, "all_derivations", lambda: [bad])
    res = CliRunner().invoke(main, ["theory", "--json"])
    assert res.exit_code == 1
    assert json.loads(res.output)["derivations"][0]["status"] == "failed"


def test_theory_exits_1_when_a_derivation_is_unchecked(monkeypatch):
    import sympy as sp

    import theory.registry as reg
    from theory.derivation import Derivation, Inequality
    from theory.symbols import x

    # a true step SymPy cannot decide: the derivation is unchecked, and `factmlp theory` must not exit 0
    undecided = Derivation(
        "undecided", sp.Ge(x * sp.log(x), x - 1), [x], "", [Inequality("x log x >= x - 1", x * sp.log(x), ">=", x - 1)]
    )
    monkeypatch.setattr(reg, "all_derivations", lambda: [undecided])
    res = CliRunner().invoke(main, ["theory", "--json"])
    assert res.exit_code == 1
    data = json.loads(res.output)
    assert data["derivations"][0]["status"] == "unchecked"
    assert data["not_checked"] == ["undecided"] and data["all_checked"] is False
    assert data["derivations"][0]["reason"]
