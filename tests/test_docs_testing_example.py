"""The python code blocks of docs/testing.md run as written (so CI runs the example)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from factmlp.constructions import METHODS
from factmlp.testing import SuiteReport

DOC = Path(__file__).resolve().parents[1] / "docs" / "testing.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```", DOC.read_text(encoding="utf-8"), re.S | re.M)


def test_doc_has_runnable_blocks():
    assert len(BLOCKS) >= 2
    assert any("register_method(" in b and "check_construction(" in b for b in BLOCKS)


@pytest.fixture
def clean_registry():
    before = set(METHODS)
    yield
    for name in set(METHODS) - before:
        METHODS.pop(name)


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_doc_block_runs(index, clean_registry):
    namespace: dict = {"__name__": f"docs_testing_block_{index}"}
    exec(compile(BLOCKS[index], f"{DOC}:block{index}", "exec"), namespace)
    if "check_construction(" in BLOCKS[index] and not BLOCKS[index].lstrip().startswith("#"):
        report = namespace["report"]
        assert isinstance(report, SuiteReport) and report.passed
        assert report["storage[spherical]"].outcome == "passed"  # the toy's guarantee was exercised
        assert "toy_quadratic" in METHODS


def test_doc_lists_every_check(clean_registry):
    """Every check the suite reports is documented in the table of docs/testing.md."""
    text = DOC.read_text(encoding="utf-8")
    block = next(b for b in BLOCKS if "check_construction(" in b and "register_method(" in b)
    namespace: dict = {"__name__": "docs_testing_names"}
    exec(compile(block, f"{DOC}:names", "exec"), namespace)
    for name in namespace["report"].names():
        documented = name if not name.startswith("storage[") else "storage[<family>]"
        assert f"`{documented}`" in text, f"check {name!r} is not documented in docs/testing.md"
