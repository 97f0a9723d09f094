"""report.tex compiles with pdflatex inside a minimal article, without overfull boxes, on one page.

The certificate is real: claims C1 and C6 run at the quick profile (about
11 s) and ``write_reports`` writes ``report.tex``.  A second table carries
the title and statement of every registered claim (evidence from the C1 run)
and a failing entry whose error text holds every LaTeX special character.
Two mutants (a table wider than the line, an undefined command) show the
check fails when it should.  Skips only where pdflatex is not installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from proofs_checks import claims as _claims  # noqa: F401  (registers the claims)
from proofs_checks.framework import REGISTRY, Claim, _run_one, run_claims
from proofs_checks.report import CLAIMS_PER_TABLE, to_latex, write_reports

pytestmark = pytest.mark.skipif(
    shutil.which("pdflatex") is None,
    reason="pdflatex not installed (Debian packages texlive-latex-base and texlive-latex-recommended; "
    ".ci/run installs them when it can)",
)

# the packages report.tex needs, as its docstring and docs/claims.md say
PREAMBLE = "\\documentclass{article}\n\\usepackage{amsmath,amssymb}\n\\usepackage{booktabs}\n"


def compile_report(tex: str, workdir: Path, max_pages: int = 1) -> list[str]:
    """Compile ``tex`` (a report.tex body) in a minimal article; return the problems found.

    A problem is a LaTeX error (non-zero exit), an overfull box, a float too
    large for the page, or output longer than ``max_pages`` pages (one float per page at most).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "report.tex").write_text(tex, encoding="utf-8")
    (workdir / "doc.tex").write_text(PREAMBLE + "\\begin{document}\n\\input{report.tex}\n\\end{document}\n")
    run = subprocess.run(
        ["pdflatex", "-halt-on-error", "-interaction=nonstopmode", "doc.tex"],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
    )
    log = (workdir / "doc.log").read_text(encoding="utf-8", errors="replace")
    problems = []
    if run.returncode != 0:
        errors = [ln for ln in log.splitlines() if ln.startswith("!")]
        problems.append(f"pdflatex exit {run.returncode}: {errors[:3]}")
    problems += re.findall(r"^(Overfull \\[hv]box .*)$", log, flags=re.M)
    problems += re.findall(r"^(LaTeX Warning: Float too large.*)$", log, flags=re.M)
    pages = re.search(r"Output written on doc\.pdf \((\d+) pages?", log)
    if run.returncode == 0 and (pages is None or int(pages.group(1)) > max_pages):
        problems.append(f"expected at most {max_pages} page(s), got {pages.group(1) if pages else 'no output'}")
    return problems


@pytest.fixture(scope="module")
def certificate():
    return run_claims(["C1", "C6"], profile="quick", seed=0)


def test_report_tex_compiles(certificate, tmp_path):
    paths = write_reports(certificate, tmp_path / "rep")
    tex = Path(paths["latex"]).read_text(encoding="utf-8")
    assert compile_report(tex, tmp_path / "build") == []


def _failing_entry() -> dict:
    def broken(ctx):
        raise ValueError(r"x_1 > 0 & 50% of {keys} at C:\path ~ 2^3 #4 | $5 < 6")

    claim = Claim(
        id="C99", title="A claim that raises: rho_j < 1 | 100% & more", statement=lambda: r"a \le b", run=broken
    )
    return _run_one(claim, "quick", 0, None)


def test_every_statement_fits(certificate, tmp_path):
    evidence = certificate["claims"][0]
    entries = [
        {**evidence, "id": cid, "title": c.title, "statement_latex": c.statement()}
        for cid, c in sorted(REGISTRY.items(), key=lambda kv: (len(kv[0]), kv[0]))
    ]
    entries.append(_failing_entry())
    assert entries[-1]["status"] == "fail" and "error" in entries[-1]
    cert = {**certificate, "claims": entries}
    floats = -(-len(entries) // CLAIMS_PER_TABLE)
    assert to_latex(cert).count(r"\begin{table}") == floats
    assert compile_report(to_latex(cert), tmp_path, max_pages=floats) == []


def test_checker_catches_a_table_wider_than_the_line(certificate, tmp_path):
    tex = to_latex(certificate)
    wide = tex.replace(r"p{0.42\linewidth}", r"p{0.7\linewidth}")
    assert wide != tex
    problems = compile_report(wide, tmp_path)
    assert problems and all(p.startswith("Overfull \\hbox") for p in problems)


def test_checker_catches_a_latex_error(certificate, tmp_path):
    tex = to_latex(certificate).replace(r"\toprule", r"\toprule\undefinedmacro")
    problems = compile_report(tex, tmp_path)
    assert problems and problems[0].startswith("pdflatex exit")
