"""The API reference (docs/api/*.md, built by mkdocs + mkdocstrings) covers every public module and name.

Read statically (``ast``, no imports, so torch-only modules count too): every
module of ``factmlp``, ``theory`` and ``proofs_checks`` whose dotted name has
no part starting with ``_`` must appear in a ``::: module`` directive; every
name in a documented module's ``__all__`` must be defined at its top level
(so mkdocstrings renders it) or, where a module-level ``__getattr__`` serves
it lazily, be named in the module docstring.  The names ``factmlp`` re-exports
lazily must be documented in the module that defines them.  ``mkdocs build
--strict`` itself runs in ``.ci/run``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("factmlp", "theory", "proofs_checks")


def public_modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            if any(p.startswith("_") for p in parts):
                continue
            out[".".join(parts)] = path
    return out


def documented() -> set[str]:
    mods = set()
    for page in (ROOT / "docs" / "api").glob("*.md"):
        mods |= set(re.findall(r"^::: ([\w.]+)\s*$", page.read_text(encoding="utf-8"), flags=re.M))
    return mods


def _top_level(tree: ast.Module) -> set[str]:
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def _literal(tree: ast.Module, name: str):
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                try:
                    return ast.literal_eval(node.value)
                except ValueError:
                    return None
    return None


def test_every_public_module_has_a_section():
    missing = sorted(set(public_modules()) - documented())
    assert not missing, f"public modules without a ::: directive in docs/api/: {missing}"


def test_directives_name_real_modules():
    unknown = sorted(documented() - set(public_modules()))
    assert not unknown, f"docs/api/ documents modules that do not exist: {unknown}"


@pytest.mark.parametrize("module", sorted(public_modules()))
def test_every_public_name_is_rendered(module):
    tree = ast.parse(public_modules()[module].read_text(encoding="utf-8"))
    exported = _literal(tree, "__all__")
    if module == "factmlp":  # __all__ = sorted(_LAZY) + ["__version__"]: each lazy name's home is documented
        lazy = _literal(tree, "_LAZY")
        assert lazy, "factmlp._LAZY is not a literal dict"
        homes = {name: home for name, home in lazy.items()}
        assert set(homes.values()) <= documented()
        for name, home in homes.items():
            home_tree = ast.parse(public_modules()[home].read_text(encoding="utf-8"))
            assert name in _top_level(home_tree), f"factmlp.{name} is not defined in {home}"
        return
    if exported is None:
        return  # no __all__: mkdocstrings renders the public top-level names it finds
    defined = _top_level(tree)
    doc = ast.get_docstring(tree) or ""
    lazy = [n for n in exported if n not in defined]
    assert all(n in doc for n in lazy) and ("__getattr__" in defined or not lazy), (
        f"{module}.__all__ names neither defined at top level nor named in the docstring: "
        f"{[n for n in lazy if n not in doc]}"
    )
