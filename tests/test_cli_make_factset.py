"""``factmlp make-factset`` and the CLI conventions (help, exit codes, one-line errors)."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from factmlp import load_factset, make_factset
from factmlp.cli import COMMANDS, main


def test_help_lists_commands_and_each_has_help():
    runner = CliRunner()
    res = runner.invoke(main, ["--help"])
    assert res.exit_code == 0
    assert "make-factset" in res.output
    for name in main.list_commands(None):
        sub = runner.invoke(main, [name, "--help"])
        assert sub.exit_code == 0, (name, sub.output)
        assert "Usage" in sub.output


def test_make_factset_json_and_file(tmp_path):
    out = tmp_path / "fs.npz"
    res = CliRunner().invoke(
        main,
        [
            "make-factset",
            "--family",
            "spiked",
            "--d",
            "8",
            "--facts",
            "30",
            "--values",
            "20",
            "--seed",
            "4",
            "--out",
            str(out),
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    info = json.loads(res.output)
    fs = load_factset(out)
    assert info["sha256"] == fs.fingerprint()
    assert fs == make_factset("spiked", 8, 30, 20, seed=4)


def test_make_factset_bad_input_exits_2_one_line_nothing_written(tmp_path):
    out = tmp_path / "fs.npz"
    res = CliRunner().invoke(
        main, ["make-factset", "--family", "tied", "--facts", "30", "--values", "20", "--out", str(out)]
    )
    assert res.exit_code == 2
    assert res.output.strip().count("\n") == 0
    assert "tied" in res.output
    assert not out.exists()
    res = CliRunner().invoke(main, ["make-factset", "--family", "banana", "--out", str(out)])
    assert res.exit_code == 2
    assert not out.exists()


def test_console_script_runs():
    res = subprocess.run([sys.executable, "-m", "factmlp", "--help"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "factmlp" in res.stdout


def test_registry_names_are_modules():
    assert all(mod.startswith("factmlp.cli.") for mod, _ in COMMANDS.values())
