"""CITATION.cff is valid CFF 1.2.0 and agrees with docs/citing.md, pyproject.toml and factmlp.__version__.

The schema below is a subset of the CFF 1.2.0 rules, written from the
specification (required keys, allowed top-level keys, person/entity authors,
date and identifier formats, reference requirements).  Where ``cffconvert``
is on PATH, its own ``--validate`` runs too; it is not in the dev extra
because it pins jsonschema 3.2 (factmlp needs >= 4.17), so ``.ci/run``
installs it in a separate environment.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest

import factmlp

yaml = pytest.importorskip("yaml", reason="PyYAML is needed to read CITATION.cff (it comes with the docs extra)")

ROOT = Path(__file__).resolve().parent.parent
CFF = ROOT / "CITATION.cff"
CITING = ROOT / "docs" / "citing.md"

_DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
_PERSON_KEYS = [
    "address",
    "affiliation",
    "alias",
    "city",
    "country",
    "email",
    "family-names",
    "fax",
    "given-names",
    "name-particle",
    "name-suffix",
    "orcid",
    "post-code",
    "region",
    "tel",
    "website",
]
_ENTITY_KEYS = [
    "address",
    "alias",
    "city",
    "country",
    "date-end",
    "date-start",
    "email",
    "fax",
    "location",
    "name",
    "orcid",
    "post-code",
    "region",
    "tel",
    "website",
]
_AUTHORS = {
    "type": "array",
    "minItems": 1,
    "items": {
        "oneOf": [
            {
                "type": "object",
                "minProperties": 1,
                "additionalProperties": False,
                "properties": {k: {"type": "string", "minLength": 1} for k in _PERSON_KEYS},
            },
            {
                "type": "object",
                "required": ["name"],
                "additionalProperties": False,
                "properties": {k: {"type": "string", "minLength": 1} for k in _ENTITY_KEYS},
            },
        ]
    },
}
_IDENTIFIERS = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "required": ["type", "value"],
        "properties": {
            "type": {"enum": ["doi", "url", "swh", "other"]},
            "value": {"type": "string", "minLength": 1},
            "description": {"type": "string"},
        },
        "additionalProperties": False,
    },
}
_TOP_KEYS = [
    "abstract",
    "authors",
    "cff-version",
    "commit",
    "contact",
    "date-released",
    "doi",
    "identifiers",
    "keywords",
    "license",
    "license-url",
    "message",
    "preferred-citation",
    "references",
    "repository",
    "repository-artifact",
    "repository-code",
    "title",
    "type",
    "url",
    "version",
]
CFF_SUBSET_SCHEMA = {
    "type": "object",
    "required": ["cff-version", "message", "title", "authors"],
    "additionalProperties": False,
    "properties": {
        **{k: {} for k in _TOP_KEYS},
        "cff-version": {"const": "1.2.0"},
        "message": {"type": "string", "minLength": 1},
        "title": {"type": "string", "minLength": 1},
        "type": {"enum": ["software", "dataset"]},
        "version": {"type": ["string", "number"]},
        "date-released": _DATE,
        "license": {"type": "string", "pattern": r"^[A-Za-z0-9.+-]+$"},
        "keywords": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "authors": _AUTHORS,
        "identifiers": _IDENTIFIERS,
        "references": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["type", "title", "authors"],
                "properties": {
                    "type": {"type": "string", "minLength": 1},
                    "title": {"type": "string"},
                    "authors": _AUTHORS,
                    "identifiers": _IDENTIFIERS,
                    "year": {"type": "integer"},
                },
            },
        },
    },
}


def _load_cff(path: Path = CFF) -> dict:
    def plain(obj):  # YAML turns unquoted dates into date objects; CFF means the ISO string
        if isinstance(obj, dict):
            return {k: plain(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [plain(v) for v in obj]
        return obj.isoformat() if isinstance(obj, dt.date) else obj

    return plain(yaml.safe_load(path.read_text(encoding="utf-8")))


def _bibtex_software() -> dict[str, str]:
    """The fields of the ``@software{factmlp, ...}`` entry in docs/citing.md."""
    text = CITING.read_text(encoding="utf-8")
    block = re.search(r"@software\{factmlp,(.*?)\n\}", text, flags=re.S)
    assert block, "docs/citing.md has no @software{factmlp, ...} entry"
    return {k: v.strip("{}") for k, v in re.findall(r"^\s*(\w+)\s*=\s*(\{.*\})\s*,?\s*$", block.group(1), re.M)}


def disagreements(cff: dict, bib: dict[str, str], version: str) -> list[str]:
    """Fields on which CITATION.cff, the BibTeX of docs/citing.md and the package version differ."""
    bad = []
    if cff.get("title") != bib.get("title"):
        bad.append(f"title: cff {cff.get('title')!r} vs bibtex {bib.get('title')!r}")
    if str(cff.get("version")) != version or bib.get("version") != version:
        bad.append(f"version: cff {cff.get('version')!r}, bibtex {bib.get('version')!r}, package {version!r}")
    names = " and ".join(a.get("name") or f"{a.get('family-names')}, {a.get('given-names')}" for a in cff["authors"])
    if names != bib.get("author"):
        bad.append(f"authors: cff {names!r} vs bibtex {bib.get('author')!r}")
    if cff.get("license") != bib.get("license"):
        bad.append(f"license: cff {cff.get('license')!r} vs bibtex {bib.get('license')!r}")
    return bad


def test_cff_is_valid_cff_120():
    jsonschema.validate(_load_cff(), CFF_SUBSET_SCHEMA)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda c: c.pop("authors"),
        lambda c: c.__setitem__("cff-version", "1.1.0"),
        lambda c: c["authors"].append({"name": "x", "family-names": "y"}),
        lambda c: c.__setitem__("date-released", "25.11.2026"),
        lambda c: c["references"][0].pop("title"),
        lambda c: c.__setitem__("licence", "MIT"),
    ],
    ids=["no-authors", "old-version", "person-and-entity", "bad-date", "reference-without-title", "misspelt-key"],
)
def test_schema_rejects_broken_cff(mutate):
    bad = copy.deepcopy(_load_cff())
    mutate(bad)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, CFF_SUBSET_SCHEMA)


def test_cff_license_matches_pyproject():
    text = (ROOT / "pyproject.toml").read_text()
    assert f'license = {{ text = "{_load_cff()["license"]}" }}' in text


def test_citing_page_agrees_with_cff():
    assert disagreements(_load_cff(), _bibtex_software(), factmlp.__version__) == []


def test_disagreement_is_caught():
    cff = _load_cff()
    bib = _bibtex_software()
    assert len(disagreements(cff, {**bib, "version": "9.9.9", "license": "MIT"}, factmlp.__version__)) == 2
    assert disagreements({**cff, "title": "another title"}, bib, factmlp.__version__)


@pytest.mark.skipif(
    shutil.which("cffconvert") is None, reason="cffconvert not on PATH (not in the dev extra: it pins jsonschema 3.2)"
)
def test_cffconvert_validates(tmp_path):
    ok = subprocess.run(["cffconvert", "--validate", "-i", str(CFF)], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    broken = tmp_path / "CITATION.cff"
    broken.write_text(CFF.read_text(encoding="utf-8").replace("cff-version: 1.2.0", "cff-version: 1.2.0\nlicence: x"))
    bad = subprocess.run(["cffconvert", "--validate", "-i", str(broken)], capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0
