"""The README's Python example runs and says what it claims (a certified, fully stored set)."""

from __future__ import annotations

import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example_runs():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert blocks, "README has no python example"
    ns: dict = {}
    exec(compile(blocks[0], "README.md", "exec"), ns)
    assert ns["report"].stored == ns["report"].total == ns["fs"].n_facts
    assert ns["report"].certified and 0 < ns["res"].rho <= 1


def test_readme_quick_start_has_exactly_two_commands():
    text = README.read_text(encoding="utf-8")
    quick = text.split("## Quick start", 1)[1]
    block = re.search(r"```bash\n(.*?)```", quick, re.S).group(1)
    lines = [ln for ln in block.splitlines() if ln.strip()]
    assert len(lines) == 2 and "factmlp verify" in lines[0] and "pytest" in lines[1]


def test_decodability_name_is_the_function_even_after_submodule_import():
    import importlib

    import factmlp

    importlib.import_module("factmlp.decodability")
    assert callable(factmlp.decodability) and factmlp.decodability.__name__ == "decodability"
