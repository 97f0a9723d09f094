"""One version everywhere: pyproject.toml, ``factmlp.__version__``, the installed metadata,
``factmlp --version`` and the provenance every certificate carries."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from click.testing import CliRunner

import factmlp
from factmlp.cli import main

ROOT = Path(__file__).resolve().parent.parent


def pyproject_version() -> str:
    """The ``version`` of the ``[project]`` table (read by regex: tomllib is Python >= 3.11)."""
    text = (ROOT / "pyproject.toml").read_text()
    project = text.split("[project]", 1)[1].split("\n[", 1)[0]
    match = re.search(r'^version\s*=\s*"([^"]+)"', project, flags=re.M)
    assert match, "pyproject.toml [project] has no version"
    return match.group(1)


def test_versions_agree():
    assert factmlp.__version__ == pyproject_version() == metadata.version("factmlp")


def test_cli_version_option():
    res = CliRunner().invoke(main, ["--version"], prog_name="factmlp")
    assert res.exit_code == 0, res.output
    assert res.output.strip() == f"factmlp, version {factmlp.__version__}"


def test_cli_version_as_module():
    out = subprocess.run([sys.executable, "-m", "factmlp", "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert factmlp.__version__ in out.stdout


def test_certificate_records_the_version():
    from factmlp.provenance import provenance
    from proofs_checks.framework import provenance_fields

    fields = provenance_fields(provenance())
    assert fields["versions"]["factmlp"] == factmlp.__version__
