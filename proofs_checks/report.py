"""Write a certificate as JSON, Markdown and LaTeX, and validate it against the schema."""

from __future__ import annotations

import json
import math
import os
import re
from importlib import resources
from typing import Any

__all__ = [
    "load_schema",
    "validate_certificate",
    "write_reports",
    "to_markdown",
    "to_latex",
    "headline",
    "evidence_line",
]


def load_schema() -> dict:
    """The certificate JSON schema shipped in ``factmlp/schemas``."""
    text = resources.files("factmlp").joinpath("schemas/certificate.schema.json").read_text()
    return json.loads(text)


def validate_certificate(cert: dict) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``cert`` follows the schema."""
    import jsonschema

    jsonschema.validate(_clean(cert), load_schema())


def _clean(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _clean(obj.tolist())
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return f if math.isfinite(f) else None
    return obj


def headline(entry: dict, limit: int = 4) -> str:
    """A short ``key=value`` summary of a claim's scalar numbers."""
    nums = entry.get("numbers", {})
    keys = list(nums.get("headline") or [k for k, v in nums.items() if isinstance(v, (int, float, bool))])[:limit]
    parts = []
    for k in keys:
        v = nums.get(k)
        if isinstance(v, float):
            parts.append(f"{k}={v:.4g}")
        else:
            parts.append(f"{k}={v}")
    if "reason" in entry:
        parts.append("not run: " + entry["reason"].splitlines()[0][:120])
    if "error" in entry:
        parts.append("error: " + entry["error"].splitlines()[0][:120])
    return ", ".join(parts)


def evidence_line(entry: dict) -> str:
    """One line naming the evidence kinds of a claim entry, e.g. ``symbolic (checked) + measured (n=24, ...)``."""
    ev = entry.get("evidence") or {}
    parts = []
    for kind in ev.get("kinds", []):
        if kind == "symbolic":
            parts.append(f"proved symbolically ({ev.get('symbolic_status', 'n/a')})")
        elif kind == "exact":
            parts.append("exact only at the listed sizes")
        elif kind == "measured":
            m = ev.get("measured") or {}
            bits = [
                f"n={m['n']}" if m.get("n") is not None else None,
                m.get("statistic"),
                f"threshold {m['threshold']}" if m.get("threshold") is not None else None,
                f"seeds {len(m.get('seeds', []))}",
            ]
            parts.append("measured (" + ", ".join(b for b in bits if b) + ")")
        elif kind == "cited":
            parts.append("cited")
    if not ev.get("declared", False):
        parts.append("[kinds not declared by the claim]")
    return " + ".join(parts) or "none"


def _evidence_block(c: dict) -> list[str]:
    ev = c.get("evidence") or {}
    lines = [
        f"**Status:** {c['status']}" + (f" ({c['reason']})" if c.get("reason") else ""),
        "",
        f"**Evidence:** {evidence_line(c)}.",
    ]
    for kind, label in (
        ("symbolic", "Proved symbolically"),
        ("exact", "Exact only at the listed sizes"),
        ("measured", "Measured"),
        ("cited", "Cited"),
    ):
        val = ev.get(kind)
        if not val:
            continue
        if isinstance(val, dict):
            val = "; ".join(f"{k}: {v}" for k, v in val.items() if k != "seeds" and v is not None)
        elif isinstance(val, (list, tuple)):
            val = "; ".join(str(v) for v in val)
        lines.append(f"- {label}: {val}")
    for cav in ev.get("caveats", []):
        lines.append(f"- Caveat: {cav}")
    if c.get("design"):
        lines += [
            "",
            "Design fixed in advance (module constants): `"
            + json.dumps(c["design"], sort_keys=True)[:1500].replace("`", "'")
            + "`",
        ]
    finding = (c.get("numbers") or {}).get("finding")
    if finding:
        lines += ["", f"**Finding:** {finding}."]
    if c.get("error"):
        lines += ["", f"Error: `{c['error'].splitlines()[0][:300]}`"]
    return lines


def to_markdown(cert: dict) -> str:
    s = cert["summary"]
    env = cert.get("environment", {})
    pkg = env.get("package") or {}
    blas = env.get("blas") or {}
    lines = [
        "# factmlp verification report",
        "",
        f"Profile `{cert['profile']}`, seed {cert['seed']}, git revision `{cert['git_revision']}`, "
        f"{cert['date']}, {cert['platform']}.",
        f"Passed {s['passed']} of {s['total']} claims (failed {s['failed']}, not run {s.get('not_run', 0)}).",
    ]
    if env:
        lines.append(
            f"factmlp {pkg.get('version')}"
            + (f" (installed sources sha256 {pkg['source_sha256']})" if pkg.get("source_sha256") else "")
            + f", mpmath {env.get('mpmath')}, BLAS {blas.get('numpy_blas')} (thread settings from "
            f"{blas.get('source')}: {json.dumps(blas.get('threadpools') or blas.get('env'))}), "
            f"{env.get('cpu_count')} CPUs, argv `{' '.join(env.get('argv', []))}`."
        )
    lines += [
        "",
        "| claim | title | status | evidence kind | numbers | seconds |",
        "| --- | --- | --- | --- | --- | ---: |",
    ]
    for c in cert["claims"]:
        ev = headline(c).replace("|", "\\|")
        kind = evidence_line(c).replace("|", "\\|")
        lines.append(f"| {c['id']} | {c['title']} | **{c['status']}** | {kind} | {ev} | {c['seconds']:.1f} |")
    lines.append("")
    for c in cert["claims"]:
        lines += [f"## {c['id']}: {c['title']}", "", f"$${c['statement_latex']}$$", ""]
        lines += _evidence_block(c) + [""]
    return "\n".join(lines) + "\n"


_TEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\^{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
}


def _tex_escape(s: str) -> str:
    # one pass, so the braces of an inserted ``\textbackslash{}`` are not escaped again;
    # < > | have no glyph of their own in LaTeX's default OT1 text font
    return re.sub(r"[\\&%$#_{}~^<>|]", lambda m: _TEX_SPECIAL[m.group(0)], s)


# ragged-right paragraph cell; ``\\`` still ends the row (what array's \arraybackslash does)
_RAGGED = r"\raggedright\let\\\tabularnewline "


CLAIMS_PER_TABLE = 5  # one float of five claims (statement rows included) fits an article page


def to_latex(cert: dict) -> str:
    """``table`` environments a paper can ``\\input`` (needs booktabs, amsmath, amssymb).

    One float per :data:`CLAIMS_PER_TABLE` claims (each float fits a page; ten
    claims with their statements do not fit one), laid out by :func:`_latex_table`.
    """
    claims = list(cert["claims"])
    chunks = [claims[i : i + CLAIMS_PER_TABLE] for i in range(0, len(claims), CLAIMS_PER_TABLE)] or [[]]
    lines = ["% generated by factmlp verify; do not edit"]
    for k, chunk in enumerate(chunks):
        part = "" if len(chunks) == 1 else f", part {k + 1} of {len(chunks)}"
        lines += _latex_table(cert, chunk, part)
    return "\n".join(lines) + "\n"


def _latex_table(cert: dict, claims: list[dict], part: str) -> list[str]:
    """The lines of one ``table`` float for ``claims`` (``part`` is appended to the caption).

    One row per claim (id, title, status, evidence) and, below it, the claim's
    statement on a row of the full line width, where inline math can break at
    relations: a statement column beside the others was too narrow for the
    unbreakable groups of C2, C6 and C7 (about 200 pt at ``\\small``).  Evidence
    keys may break after an underscore.  The table fits ``\\linewidth`` of an
    article page (checked by ``tests/test_report_latex.py``).
    """
    rev = _tex_escape(str(cert["git_revision"]))
    lines = [
        "",
        r"\begin{table}[t]",
        r"\centering",
        r"\small",
        # paragraph columns: titles and evidence wrap instead of running off the page
        r"\begin{tabular}{@{}l p{0.33\linewidth} l p{0.42\linewidth}@{}}",
        r"\toprule",
        r"Claim & Title & Status & Evidence \\",
        r"\midrule",
    ]
    for i, c in enumerate(claims):
        if i:
            lines.append(r"\addlinespace")
        status = c["status"].replace("_", " ")
        kinds = "+".join(c.get("evidence", {}).get("kinds", [])) or "none"
        evidence = _tex_escape(kinds + ": " + headline(c, 3)).replace(r"\_", r"\_\allowbreak{}")
        # the statement row sits on the claim's source line, so each claim stays one line of report.tex
        lines.append(
            f"{c['id']} & {_RAGGED}{_tex_escape(c['title'])} & {status} & {_RAGGED}{evidence} \\\\ "
            f"\\multicolumn{{4}}{{@{{}}p{{\\linewidth}}@{{}}}}"
            f"{{{_RAGGED}\\hspace*{{1em}}${c['statement_latex']}$}} \\\\"
        )
    lines += [
        r"\bottomrule",
        r"\end{tabular}",
        f"\\caption{{Claims checked by factmlp (profile {cert['profile']}, seed {cert['seed']}, "
        f"revision \\texttt{{{rev}}}){part}.}}",
        r"\label{tab:factmlp-claims" + ("" if not part else "-" + claims[0]["id"]) + "}",
        r"\end{table}",
    ]
    return lines[1:]


def write_reports(cert: dict, out_dir: str | os.PathLike) -> dict[str, str]:
    """Validate and write ``certificate.json``, ``report.md``, ``report.tex`` under ``out_dir``."""
    cert = _clean(cert)
    validate_certificate(cert)
    from factmlp._atomic import make_dirs, write_files

    out_dir = os.fspath(out_dir)
    paths = {
        "certificate": os.path.join(out_dir, "certificate.json"),
        "markdown": os.path.join(out_dir, "report.md"),
        "latex": os.path.join(out_dir, "report.tex"),
    }
    texts = {
        "certificate": json.dumps(cert, indent=2) + "\n",
        "markdown": to_markdown(cert),
        "latex": to_latex(cert),
    }
    make_dirs(out_dir)  # atomic, all-or-nothing, links and device nodes refused
    write_files({paths[k]: texts[k].encode("utf-8") for k in paths})
    return paths
