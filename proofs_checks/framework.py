"""The claims framework: a claim pairs a symbolic statement with numeric evidence.

A :class:`Claim` has an id (``C1``...), a title, a LaTeX statement (built from
``theory/`` where the claim has a symbolic side) and a ``run(ctx)`` function
that gathers numeric evidence and decides pass or fail.  :func:`run_claims`
runs a selection under a profile and a seed and returns the certificate
(a JSON-ready dict validated against ``factmlp/schemas/certificate.schema.json``).

Statuses: ``pass``, ``fail`` and ``not_run``.  A claim that raises is recorded
with status ``"fail"`` and the error, never dropped: a certificate lists every
claim that was asked for.  A claim whose optional dependency is missing
(``Claim.requires`` names an unimportable module, or the run raises
:class:`ClaimNotRun` or :class:`~factmlp.errors.TorchUnavailableError`) is
``not_run`` with the reason: no evidence either way, and never a pass.

Every entry also carries

* ``design``: the design fixed in advance, i.e. the claim module's
  module-level upper-case constants (sizes, seeds, statistic, threshold),
  copied verbatim, so a reader can check that the thresholds were not
  chosen after the results;
* ``evidence``: what kind of evidence decided it -- ``symbolic`` (proved by
  the derivation checker), ``exact`` (exact, but only at the listed sizes),
  ``measured`` (n, statistic, threshold, seeds), ``cited`` -- and the regime
  caveats.  A claim module declares it as ``EVIDENCE`` (static text) and
  may add run-time parts as ``numbers["evidence"]``; without a declaration
  the framework states ``declared: false``.
"""

from __future__ import annotations

import copy
import importlib.util
import math
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Claim",
    "ClaimContext",
    "ClaimNotRun",
    "REGISTRY",
    "register",
    "run_claims",
    "PROFILES",
    "STATUSES",
    "EVIDENCE_KINDS",
    "design_record",
    "missing_requirements",
]

PROFILES = ("quick", "full")
STATUSES = ("pass", "fail", "not_run")
#: the kinds of evidence a claim entry may state (``evidence["kinds"]``)
EVIDENCE_KINDS = ("symbolic", "exact", "measured", "cited")


class ClaimNotRun(Exception):
    """Raised by a claim's ``run`` when it cannot gather evidence (a missing optional dependency).

    The message is the reason recorded in the certificate.
    """


class ClaimContext:
    """What a claim run may depend on: the profile, the base seed, overrides, a run-level cache.

    ``method`` overrides the construction a claim exercises (used to show a
    broken construction makes the claim fail); reading it is recorded
    (``method_read``), so the certificate says whether an override reached
    the claim.  ``record_input`` collects the fingerprints of the fact sets a
    claim used.  ``cache`` is one dict shared by every claim of one
    :func:`run_claims` call (e.g. GD capacity results used by C3 and C9);
    a key must name everything its value depends on.
    """

    def __init__(
        self,
        profile: str = "quick",
        seed: int = 0,
        method: str | None = None,
        inputs: list | None = None,
        seeds: list | None = None,
        cache: dict | None = None,
    ) -> None:
        self.profile = profile
        self.seed = seed
        self._method = method
        self.method_read = False
        self.inputs = [] if inputs is None else inputs
        self.seeds = [] if seeds is None else seeds
        self.cache = {} if cache is None else cache

    @property
    def method(self) -> str | None:
        self.method_read = True
        return self._method

    @method.setter
    def method(self, value: str | None) -> None:
        self._method = value

    def record_input(self, factset: Any, seed: int | None = None) -> None:
        self.inputs.append(factset.fingerprint())
        if seed is not None:
            self.seeds.append(int(seed))


@dataclass
class Claim:
    """One claim of the paper.

    ``statement`` returns the LaTeX statement; ``run`` returns
    ``(passed: bool, numbers: dict)`` where ``numbers`` holds the evidence.
    ``requires`` names optional modules (``"torch"``) without which the claim
    is ``not_run``.
    """

    id: str
    title: str
    statement: Callable[[], str]
    run: Callable[[ClaimContext], tuple[bool, dict]]
    symbolic: Callable[[], dict] | None = None
    doc: str = ""
    requires: tuple[str, ...] = field(default_factory=tuple)


REGISTRY: dict[str, Claim] = {}


def register(claim: Claim) -> Claim:
    """Add a claim to the registry (ids are unique)."""
    if claim.id in REGISTRY and REGISTRY[claim.id] is not claim:
        raise ValueError(f"claim id {claim.id!r} registered twice")
    REGISTRY[claim.id] = claim
    return claim


def missing_requirements(claim: Claim) -> list[str]:
    """The modules of ``claim.requires`` that are not importable."""
    return [m for m in claim.requires if importlib.util.find_spec(m) is None]


def _jsonable_constant(value: Any) -> bool:
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, (list, tuple)):
        return all(_jsonable_constant(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, (str, int)) and _jsonable_constant(v) for k, v in value.items())
    return False


def design_record(claim: Claim) -> dict:
    """The claim module's module-level upper-case constants that are plain data (its fixed design).

    ``EVIDENCE`` is left out (it goes to ``evidence``); tuples become lists.
    """
    mod = sys.modules.get(getattr(claim.run, "__module__", ""), None)
    if mod is None:
        return {}
    out = {}
    for name, value in vars(mod).items():
        if name.isupper() and not name.startswith("_") and name != "EVIDENCE" and _jsonable_constant(value):
            out[name] = copy.deepcopy(value)
    return out


def _evidence(claim: Claim, entry: dict, numbers: dict) -> dict:
    """``EVIDENCE`` of the claim module updated with ``numbers.pop("evidence")`` (see the module docstring)."""
    mod = sys.modules.get(getattr(claim.run, "__module__", ""), None)
    declared = getattr(mod, "EVIDENCE", None) if mod is not None else None
    ev: dict = copy.deepcopy(declared) if isinstance(declared, dict) else {}
    runtime = numbers.pop("evidence", None) if isinstance(numbers, dict) else None
    if isinstance(runtime, dict):
        for key, value in runtime.items():
            if isinstance(value, dict) and isinstance(ev.get(key), dict):
                ev[key] = {**ev[key], **value}
            elif isinstance(value, dict) and isinstance(ev.get(key), str):
                ev[key] = {"what": ev[key], **value}  # the declared sentence stays next to the run's numbers
            else:
                ev[key] = value
    ev["declared"] = bool(declared) or bool(runtime)
    if not ev["declared"]:
        ev["note"] = "the claim module declares no EVIDENCE; kinds inferred by the framework"
        if claim.symbolic is not None:
            ev["symbolic"] = "the derivations listed under 'symbolic'"
        ev["measured"] = {"what": "the numbers of this entry", "n": len(entry.get("input_hashes", []))}
    sym = entry.get("symbolic")
    if isinstance(sym, dict) and "symbolic" in ev:
        ev["symbolic_status"] = sym.get("status")
    ev["kinds"] = [k for k in EVIDENCE_KINDS if ev.get(k)]
    ev.setdefault("caveats", [])
    if isinstance(ev.get("measured"), dict):
        ev["measured"].setdefault("seeds", entry.get("seeds", []))
    return ev


def _run_one(claim: Claim, profile: str, seed: int, method: str | None, cache: dict | None = None) -> dict:
    from factmlp.errors import TorchUnavailableError

    ctx = ClaimContext(profile=profile, seed=seed, method=method, cache=cache)
    t0 = time.perf_counter()
    entry: dict = {"id": claim.id, "title": claim.title}
    numbers: dict = {}
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
    missing = missing_requirements(claim)
    if "error" not in entry and missing:
        entry["status"] = "not_run"
        entry["reason"] = f"optional dependency not installed: {', '.join(missing)}"
    elif "error" not in entry:
        try:
            passed, numbers = claim.run(ctx)
            # a symbolic side counts only when every derivation is "checked" ("unchecked" is never a pass)
            sym_ok = entry.get("symbolic", {}).get("status", "checked") == "checked"
            entry["status"] = "pass" if (passed and sym_ok) else "fail"
        except (ClaimNotRun, TorchUnavailableError) as exc:
            entry["status"] = "not_run"
            entry["reason"] = f"{type(exc).__name__}: {exc}"
        except Exception as exc:
            entry["status"] = "fail"
            entry["error"] = f"{type(exc).__name__}: {exc}"
            entry["traceback"] = traceback.format_exc(limit=5)
    entry["numbers"] = numbers if isinstance(numbers, dict) else {"value": numbers}
    entry["seeds"] = ctx.seeds or [seed]
    entry["input_hashes"] = ctx.inputs
    entry["method_override"] = method
    entry["method_override_read"] = bool(ctx.method_read)
    entry["design"] = design_record(claim)
    entry["evidence"] = _evidence(claim, entry, entry["numbers"])
    if method is not None and not ctx.method_read and entry["status"] != "not_run":
        entry["evidence"]["caveats"].append(
            f"--method {method} was given but this claim does not read it (it exercises no construction)"
        )
    entry["seconds"] = time.perf_counter() - t0
    return entry


def summarize(results: list[dict]) -> dict:
    """Counts of ``pass`` / ``fail`` / ``not_run`` (``failed`` counts fail only)."""
    return {
        "passed": sum(r["status"] == "pass" for r in results),
        "failed": sum(r["status"] == "fail" for r in results),
        "not_run": sum(r["status"] == "not_run" for r in results),
        "total": len(results),
        "all_passed": bool(results) and all(r["status"] == "pass" for r in results),
    }


def run_claims(
    ids: list[str] | None = None,
    *,
    profile: str = "quick",
    seed: int = 0,
    method: str | None = None,
    progress: Callable[[str, dict], None] | None = None,
    cache: dict | None = None,
) -> dict:
    """Run the claims ``ids`` (all registered when ``None``) and return the certificate dict.

    One ``cache`` dict (fresh unless given) is shared by the claims of this run.
    ``summary["all_passed"]`` is true only when every requested claim passed
    (a ``not_run`` claim is not a pass).
    """
    from factmlp.provenance import provenance

    from . import claims as _claims  # noqa: F401  (registers the claims)

    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; expected one of {PROFILES}")
    ids = list(ids) if ids else sorted(REGISTRY, key=lambda s: (len(s), s))
    unknown = [i for i in ids if i not in REGISTRY]
    if unknown:
        raise KeyError(f"unknown claim id(s) {unknown}; registered: {sorted(REGISTRY)}")
    cache = {} if cache is None else cache
    results = []
    for cid in ids:
        entry = _run_one(REGISTRY[cid], profile, seed, method, cache)
        entry.update(provenance_fields(provenance()))
        results.append(entry)
        if progress is not None:
            progress(cid, entry)
    prov = provenance()
    cert = {
        "schema": "factmlp.certificate/1",
        "profile": profile,
        "seed": seed,
        "claims": results,
        "summary": summarize(results),
        "environment": {k: prov[k] for k in ("argv", "cpu_count", "machine", "blas", "package", "mpmath") if k in prov},
    }
    cert.update(provenance_fields(prov))
    return cert


def provenance_fields(p: dict) -> dict:
    """The provenance keys every certificate and claim entry carries."""
    return {
        "versions": p["versions"],
        "git_revision": p["git_revision"],
        "platform": p["platform"],
        "date": p["date"],
    }
