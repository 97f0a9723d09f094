"""Known-bad variants of factmlp (mutants) that its own checks must catch.

A derivation, claim or verifier verdict is worth citing only if it would have
failed had the result been false.  Each :class:`Mutant` is such a false
result, made on purpose: while its ``patch()`` context is active, some piece of
the product (a constant, a construction, the verifier, a derivation's
statement) is replaced by a wrong variant.  A mutant is *caught* when the
check named by ``kind`` reports a failure under the patch:

* ``kind == "theory"``: some derivation of ``factmlp theory`` is ``failed`` or
  ``unchecked`` (the command would exit 1);
* ``kind == "verify"``: some claim of ``factmlp verify`` fails (exit 1).

``expected`` names the derivations or claims meant to catch it; the harness
:func:`run_mutants` runs those and reports which actually did.  A claim or
derivation counts as catching a mutant only if it passes (claims) or is
``checked`` (derivations) on the unpatched product: the *control*, run first.
``factmlp verify --mutants`` prints the table and exits 0 only if every
mutant is caught and the control passes.

Mutants are registered by :data:`MUTANT_MODULES` (each imported if present).
"""

from __future__ import annotations

import importlib
import time
import traceback
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Mutant",
    "MUTANTS",
    "register_mutant",
    "load_mutants",
    "run_mutants",
    "run_control",
    "MUTANT_MODULES",
    "all_caught",
]

#: modules whose import registers mutants (theory-sound, claims-core, claims-regime); absent ones are skipped
MUTANT_MODULES = ("proofs_checks.mutants_theory", "proofs_checks.mutants_claims", "proofs_checks.mutants_regime")

KINDS = ("theory", "verify")


@dataclass(frozen=True)
class Mutant:
    """One known-bad variant.

    ``patch`` returns a context manager; inside it the product is the bad
    variant (patched in-process, restored on exit).  ``expected`` holds the
    ids of derivations (``kind="theory"``) or claims (``kind="verify"``) that
    are meant to catch it.
    """

    name: str
    description: str
    kind: str
    patch: Callable[[], AbstractContextManager[Any]]
    expected: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"mutant {self.name!r}: kind must be one of {KINDS}, got {self.kind!r}")
        if not self.expected:
            raise ValueError(f"mutant {self.name!r}: name at least one derivation or claim expected to catch it")


MUTANTS: dict[str, Mutant] = {}


def register_mutant(mutant: Mutant) -> Mutant:
    """Add a mutant to :data:`MUTANTS` (names are unique)."""
    if mutant.name in MUTANTS and MUTANTS[mutant.name] is not mutant:
        raise ValueError(f"mutant {mutant.name!r} registered twice")
    MUTANTS[mutant.name] = mutant
    return mutant


def load_mutants() -> dict[str, Mutant]:
    """Import every module of :data:`MUTANT_MODULES` that exists; return :data:`MUTANTS`."""
    for name in MUTANT_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return MUTANTS


def _reset_caches() -> None:
    """Drop per-process caches a patch could make stale (the construction registry's feasibility cache)."""
    from factmlp.constructions import registry

    registry._FEAS_CACHE.clear()


def _theory_statuses() -> dict[str, str]:
    from theory.registry import check_all

    return dict(check_all())


def _claim_statuses(ids: list[str], profile: str, seed: int) -> tuple[dict[str, str], dict[str, dict]]:
    from .framework import run_claims

    cert = run_claims(sorted(set(ids), key=lambda s: (len(s), s)), profile=profile, seed=seed)
    entries = {c["id"]: c for c in cert["claims"]}
    return {cid: c["status"] for cid, c in entries.items()}, entries


def run_control(mutants: list[Mutant], profile: str = "quick", seed: int = 0) -> dict:
    """Run, unpatched, every claim and (if any theory mutant is selected) every derivation the mutants expect.

    Returns ``{"claims": {id: status}, "derivations": {name: status}, "passed": bool, "failed": [...],
    "claim_seconds": {id: seconds}, "seconds": float}``; ``passed`` iff every expected claim passes and every
    expected derivation is checked.
    """
    t0 = time.perf_counter()
    _reset_caches()
    claim_ids = sorted({e for m in mutants if m.kind == "verify" for e in m.expected}, key=lambda s: (len(s), s))
    claims, entries = _claim_statuses(claim_ids, profile, seed) if claim_ids else ({}, {})
    theory_expected = {e for m in mutants if m.kind == "theory" for e in m.expected}
    derivations = _theory_statuses() if theory_expected else {}
    bad = [c for c in claim_ids if claims.get(c) != "pass"]
    bad += [dv for dv in sorted(theory_expected) if derivations.get(dv) != "checked"]
    return {
        "claims": claims,
        "derivations": derivations,
        "passed": not bad,
        "failed": bad,
        "claim_seconds": {cid: e["seconds"] for cid, e in entries.items()},
        "seconds": time.perf_counter() - t0,
    }


def _run_one_mutant(m: Mutant, control: dict, profile: str, seed: int) -> dict:
    row: dict = {"name": m.name, "kind": m.kind, "description": m.description, "expected": list(m.expected)}
    t0 = time.perf_counter()
    try:
        _reset_caches()
        with m.patch():
            if m.kind == "verify":
                statuses, entries = _claim_statuses(list(m.expected), profile, seed)
                row["statuses"] = statuses
                row["failed"] = [c for c, st in statuses.items() if st == "fail"]
                row["not_run"] = [c for c, st in statuses.items() if st == "not_run"]
                row["caught_by"] = [c for c in row["failed"] if control["claims"].get(c) == "pass"]
                row["errors"] = {c: e["error"].splitlines()[0][:200] for c, e in entries.items() if e.get("error")}
            else:
                statuses = _theory_statuses()
                row["not_proved"] = sorted(n for n, st in statuses.items() if st != "checked")
                # a derivation catches it only if it was checked on the unpatched product
                base = control.get("derivations") or {}
                row["caught_by"] = [n for n in row["not_proved"] if base.get(n, "checked") == "checked"]
                row["statuses"] = {n: statuses[n] for n in row["not_proved"]}
    except Exception as exc:  # a mutant whose patch breaks the harness is reported, never counted as caught
        row["caught_by"] = []
        row["error"] = f"{type(exc).__name__}: {exc}"
        row["traceback"] = traceback.format_exc(limit=5)
    finally:
        _reset_caches()
    row["caught"] = bool(row["caught_by"])
    row["caught_as_expected"] = sorted(set(row["caught_by"]) & set(m.expected))
    row["seconds"] = time.perf_counter() - t0
    return row


def run_mutants(
    names: list[str] | None = None,
    profile: str = "quick",
    seed: int = 0,
    *,
    control: bool = True,
    progress: Callable[[dict], None] | None = None,
) -> list[dict]:
    """Apply each mutant (all registered when ``names`` is None) and record what caught it.

    For ``kind="verify"`` the mutant's ``expected`` claims run in-process
    under ``profile`` and ``seed``; ``caught_by`` lists those that failed
    (and passed in the control).  For ``kind="theory"``
    :func:`theory.registry.check_all` runs and ``caught_by`` lists the
    derivations not ``checked`` (that were checked in the control).  With
    ``control=True`` the first row is the unpatched control
    (``{"name": "control", "kind": "control", "passed": ...}``).
    Unknown names raise ``KeyError`` naming the registered ones.
    """
    load_mutants()
    if names is None:
        selected = list(MUTANTS.values())
    else:
        unknown = [n for n in names if n not in MUTANTS]
        if unknown:
            raise KeyError(f"unknown mutant(s) {unknown}; registered: {sorted(MUTANTS)}")
        selected = [MUTANTS[n] for n in names]
    rows: list[dict] = []
    ctrl: dict[str, Any] = {"claims": {}, "derivations": {}}
    if control:
        ctrl = run_control(selected, profile, seed)
        rows.append({"name": "control", "kind": "control", **ctrl})
        if progress is not None:
            progress(rows[-1])
    for m in selected:
        rows.append(_run_one_mutant(m, ctrl, profile, seed))
        if progress is not None:
            progress(rows[-1])
    return rows


def all_caught(rows: list[dict]) -> bool:
    """True iff the control row (if present) passed and every mutant row was caught."""
    mutants = [r for r in rows if r["kind"] != "control"]
    control_ok = all(r["passed"] for r in rows if r["kind"] == "control")
    return bool(mutants) and control_ok and all(r["caught"] for r in mutants)
