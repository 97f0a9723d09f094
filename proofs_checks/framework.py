"""The claims framework: a claim pairs a symbolic statement with numeric evidence.

A :class:`Claim` has an id (``C1``...), a title, a LaTeX statement (built from
``theory/`` where the claim has a symbolic side) and a ``run(ctx)`` function
that gathers numeric evidence and decides pass or fail.  :func:`run_claims`
runs a selection under a profile and a seed and returns the certificate
(a JSON-ready dict validated against ``factmlp/schemas/certificate.schema.json``).

A claim that raises is recorded with status ``"fail"`` and the error, never
dropped: a certificate lists every claim that was asked for.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

__all__ = ["Claim", "ClaimContext", "REGISTRY", "register", "run_claims", "PROFILES"]

PROFILES = ("quick", "full")


@dataclass
class ClaimContext:
    """What a claim run may depend on: the profile, the base seed, overrides.

    ``method`` overrides the construction a claim exercises (used to show a
    broken construction makes the claim fail); ``record_input`` collects the
    fingerprints of the fact sets a claim used.
    """

    profile: str = "quick"
    seed: int = 0
    method: str | None = None
    inputs: list = field(default_factory=list)
    seeds: list = field(default_factory=list)

    def record_input(self, factset: Any, seed: int | None = None) -> None:
        self.inputs.append(factset.fingerprint())
        if seed is not None:
            self.seeds.append(int(seed))


@dataclass
class Claim:
    """One claim of the paper.

    ``statement`` returns the LaTeX statement; ``run`` returns
    ``(passed: bool, numbers: dict)`` where ``numbers`` holds the evidence.
    """

    id: str
    title: str
    statement: Callable[[], str]
    run: Callable[[ClaimContext], tuple[bool, dict]]
    symbolic: Callable[[], dict] | None = None
    doc: str = ""


REGISTRY: dict[str, Claim] = {}


def register(claim: Claim) -> Claim:
    """Add a claim to the registry (ids are unique)."""
    if claim.id in REGISTRY and REGISTRY[claim.id] is not claim:
        raise ValueError(f"claim id {claim.id!r} registered twice")
    REGISTRY[claim.id] = claim
    return claim


def _run_one(claim: Claim, profile: str, seed: int, method: str | None) -> dict:
    ctx = ClaimContext(profile=profile, seed=seed, method=method)
    t0 = time.perf_counter()
    entry: dict = {"id": claim.id, "title": claim.title}
    try:
        entry["statement_latex"] = claim.statement()
    except Exception as exc:  # a statement that cannot be built is itself a failure
        entry["statement_latex"] = ""
        entry["status"] = "fail"
        entry["error"] = f"statement: {type(exc).__name__}: {exc}"
    if claim.symbolic is not None and "error" not in entry:
        try:
            entry["symbolic"] = claim.symbolic()
        except Exception as exc:
            entry["symbolic"] = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
    if "error" not in entry:
        try:
            passed, numbers = claim.run(ctx)
            # a symbolic side counts only when every derivation is "checked" ("unchecked" is never a pass)
            sym_ok = entry.get("symbolic", {}).get("status", "checked") == "checked"
            entry["status"] = "pass" if (passed and sym_ok) else "fail"
            entry["numbers"] = numbers
        except Exception as exc:
            entry["status"] = "fail"
            entry["error"] = f"{type(exc).__name__}: {exc}"
            entry["traceback"] = traceback.format_exc(limit=5)
    entry.setdefault("numbers", {})
    entry["seeds"] = ctx.seeds or [seed]
    entry["input_hashes"] = ctx.inputs
    entry["method_override"] = method
    entry["seconds"] = time.perf_counter() - t0
    return entry


def run_claims(
    ids: list[str] | None = None,
    *,
    profile: str = "quick",
    seed: int = 0,
    method: str | None = None,
    progress: Callable[[str, dict], None] | None = None,
) -> dict:
    """Run the claims ``ids`` (all registered when ``None``) and return the certificate dict."""
    from factmlp.provenance import provenance

    from . import claims as _claims  # noqa: F401  (registers the claims)

    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; expected one of {PROFILES}")
    ids = list(ids) if ids else sorted(REGISTRY, key=lambda s: (len(s), s))
    unknown = [i for i in ids if i not in REGISTRY]
    if unknown:
        raise KeyError(f"unknown claim id(s) {unknown}; registered: {sorted(REGISTRY)}")
    results = []
    for cid in ids:
        entry = _run_one(REGISTRY[cid], profile, seed, method)
        entry.update(provenance_fields(provenance()))
        results.append(entry)
        if progress is not None:
            progress(cid, entry)
    cert = {
        "schema": "factmlp.certificate/1",
        "profile": profile,
        "seed": seed,
        "claims": results,
        "summary": {
            "passed": sum(r["status"] == "pass" for r in results),
            "failed": sum(r["status"] != "pass" for r in results),
            "total": len(results),
        },
    }
    cert.update(provenance_fields(provenance()))
    return cert


def provenance_fields(p: dict) -> dict:
    """The provenance keys every certificate and claim entry carries."""
    return {
        "versions": p["versions"],
        "git_revision": p["git_revision"],
        "platform": p["platform"],
        "date": p["date"],
    }
