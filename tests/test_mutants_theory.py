"""Every theory mutant is caught by the check behind ``factmlp theory``; the unpatched theory is all checked."""

from __future__ import annotations

import pytest

from proofs_checks.mutants_theory import THEORY_MUTANTS, run_theory_mutant, theory_mutants
from theory.registry import check_all


def test_control_unpatched_theory_is_all_checked():
    statuses = check_all()
    assert len(statuses) >= 15
    assert {name: st for name, st in statuses.items() if st != "checked"} == {}


def test_registry_holds_the_required_mutants():
    names = {m.name for m in theory_mutants()}
    assert {m.name for m in THEORY_MUTANTS} <= names
    assert len(THEORY_MUTANTS) >= 7
    assert all(m.kind == "theory" and m.expected for m in THEORY_MUTANTS)


@pytest.mark.parametrize("mutant", THEORY_MUTANTS, ids=[m.name for m in THEORY_MUTANTS])
def test_mutant_is_caught_by_its_expected_derivations(mutant):
    res = run_theory_mutant(mutant)
    assert res["caught"], res
    assert res["expected_caught"], res
    assert set(res["statuses"].values()) <= {"failed", "unchecked"}
    if mutant.name == "theory.statement_not_from_steps":
        # the replaced statement is true, so only the entailment check can catch it: unchecked, not failed
        assert set(res["statuses"].values()) == {"unchecked"}, res


def test_patches_are_undone():
    # after every mutant has been applied and exited, the theory is the unpatched one again
    for mutant in THEORY_MUTANTS:
        with mutant.patch():
            pass
    assert set(check_all().values()) == {"checked"}
