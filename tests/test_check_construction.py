"""check_construction passes a correct toy construction and fails broken ones.

The toy: identity activation, random gate and up rows ``G, A`` (h x d), hidden
features ``phi(x) = (G x) * (A x)``, and ``W_down`` the minimum-norm solution
of ``W_down phi(k_i) = u*_{f(i)}``: exact for generic keys when ``F <= h``,
so each fact's margin is at least ``rho_{f(i)} min_l ||v_f(i) - v_l|| > 0``.
The broken variants each violate one property of the suite.
"""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

from factmlp.constructions import METHODS, register_method
from factmlp.errors import InvalidInputError
from factmlp.feasibility import check_feasible
from factmlp.mlp import GatedMLP
from factmlp.testing import SuiteReport, check_construction
from factmlp.testing.suite import _checked_report
from factmlp.verify import verify_storage

pytest_plugins = ("pytester",)

FAST = dict(max_examples=2, families=("spherical", "gaussian", "tied"), seed=0)


def _features(fs, hidden, seed):
    rng = np.random.default_rng(seed)
    gate = rng.standard_normal((hidden, fs.dim))
    up = rng.standard_normal((hidden, fs.dim))
    keys = np.asarray(fs.keys, dtype=np.float64)
    return gate, up, (keys @ gate.T) * (keys @ up.T)


def _fit(fs, hidden, seed, targets):
    gate, up, phi = _features(fs, hidden, seed)
    down = np.linalg.lstsq(phi, targets, rcond=None)[0].T
    return GatedMLP(gate, up, down, activation="identity")


def build_toy(fs, hidden, seed, **options):
    return _fit(fs, hidden, seed, check_feasible(fs).directions[fs.mapping])


def build_last_wrong(fs, hidden, seed, **options):
    """Fits every fact but sends the last key to the readout direction of another value."""
    res = check_feasible(fs)
    targets = res.directions[fs.mapping].copy()
    last = fs.mapping[-1]
    other = (last + 1) % fs.n_values
    targets[-1] = -res.directions[last] if not res.directions[other].any() else res.directions[other]
    return _fit(fs, hidden, seed, targets)


def build_random(fs, hidden, seed, **options):
    rng = np.random.default_rng(seed)
    return GatedMLP(
        *(rng.standard_normal(s) for s in ((hidden, fs.dim), (hidden, fs.dim), (fs.dim, hidden))), activation="identity"
    )


_calls = itertools.count()


def build_nondeterministic(fs, hidden, seed, **options):
    return build_toy(fs, hidden, seed + next(_calls))


def build_untyped_on_duplicate_keys(fs, hidden, seed, **options):
    if len(np.unique(fs.keys, axis=0)) < fs.n_facts:
        raise ValueError("duplicate keys")  # not a factmlp error
    return build_toy(fs, hidden, seed)


def _width(fs, **options):
    return fs.n_facts + 2


def _bound(fs, hidden, **options):
    return 3 * fs.dim * hidden


@pytest.fixture
def register():
    """Register methods under fresh names; remove them afterwards."""
    names = []

    def _register(builder, *, guarantee=True, param_bound=_bound, default_hidden=_width):
        name = f"test_suite_{builder.__name__}_{len(names)}"
        register_method(
            name, builder, default_hidden=default_hidden, guarantee=guarantee, param_bound=param_bound, replace=True
        )
        names.append(name)
        return name

    yield _register
    for n in names:
        METHODS.pop(n, None)


def _failed(report: SuiteReport) -> set[str]:
    return {c.name for c in report.failures}


def test_toy_construction_passes_every_check(register):
    name = register(build_toy)
    report = check_construction(name, max_examples=3, seed=1)
    assert report.passed, str(report)
    families = ("spherical", "gaussian", "uniform", "kaiming", "spiked", "condition", "tied")
    expected = [f"storage[{f}]" for f in families] + [
        "determinism",
        "bad_input[infeasible:duplicate_values]",
        "bad_input[infeasible:interior_value]",
        "bad_input[wrong_type]",
        "bad_input[hidden=0]",
        "degenerate[duplicate_keys_conflicting]",
        "degenerate[keys_in_subspace]",
        "degenerate[nonfinite]",
        "params",
    ]
    assert report.names() == expected
    for f in families:
        assert report[f"storage[{f}]"].outcome == "passed" and report[f"storage[{f}]"].examples == 3
    # 7 families x 3 storage sets, 2 x 2 determinism builds, plus degenerate ones that got an MLP
    assert report["params"].examples >= 7 * 3 + 4


def test_broken_last_fact_fails_storage(register):
    name = register(build_last_wrong)
    with pytest.raises(AssertionError) as err:
        check_construction(name, **FAST)
    msg = str(err.value)
    assert "FAILED" in msg and "failing example" in msg and "storage[spherical]" in msg
    report = check_construction(name, raise_on_failure=False, **FAST)
    assert _failed(report) == {"storage[spherical]", "storage[gaussian]", "storage[tied]"}
    # the fact that was sent elsewhere is among the failing facts the verifier names
    assert "failing facts" in report["storage[spherical]"].detail


def test_random_mlp_fails_storage(register):
    name = register(build_random)
    report = check_construction(name, raise_on_failure=False, **FAST)
    assert {"storage[spherical]", "storage[gaussian]", "storage[tied]"} <= _failed(report)
    assert report["determinism"].outcome == "passed"  # seeded, so still deterministic


def test_no_guarantee_means_no_storage_demand_unless_required(register):
    name = register(build_random, guarantee=False)
    report = check_construction(name, raise_on_failure=False, **FAST)
    assert report.passed, str(report)
    assert report["storage[spherical]"].outcome == "skipped"
    assert "no storage guarantee" in report["storage[spherical]"].detail
    report = check_construction(name, raise_on_failure=False, require_storage=True, **FAST)
    assert "storage[spherical]" in _failed(report)
    # a method without a guarantee that does store passes when storage is required
    good = register(build_toy, guarantee=False)
    assert check_construction(good, require_storage=True, **FAST).passed


def test_guarantee_callable_is_honoured(register):
    # guarantees only sets with at most 12 facts: the size (8, 16, 16) is then not checked
    name = register(build_last_wrong, guarantee=lambda fs, **o: fs.n_facts <= 12)
    report = check_construction(name, raise_on_failure=False, sizes=[(8, 16, 16)], **FAST)
    assert report["storage[spherical]"].outcome == "skipped"
    report = check_construction(name, raise_on_failure=False, sizes=[(6, 12, 8)], **FAST)
    assert report["storage[spherical]"].outcome == "failed"


def test_nondeterministic_fails_determinism(register):
    name = register(build_nondeterministic)
    report = check_construction(name, raise_on_failure=False, **FAST)
    assert _failed(report) == {"determinism"}
    assert "different" in report["determinism"].detail


def test_lying_param_bound_fails_params(register):
    name = register(build_toy, param_bound=lambda fs, hidden, **o: 3 * fs.dim * hidden - 1)
    report = check_construction(name, raise_on_failure=False, **FAST)
    assert _failed(report) == {"params"}
    assert "exceed the registered bound" in report["params"].detail


def test_untyped_error_on_degenerate_keys_fails(register):
    name = register(build_untyped_on_duplicate_keys)
    report = check_construction(name, raise_on_failure=False, **FAST)
    assert "degenerate[duplicate_keys_conflicting]" in _failed(report)
    assert "untyped ValueError" in report["degenerate[duplicate_keys_conflicting]"].detail


def test_lying_verifier_is_caught(factmlp_factset):
    """The cross-check against float64 margins refuses a verifier that certifies a random MLP."""
    fs = factmlp_factset
    mlp = build_random(fs, 4, 0)
    honest = verify_storage(mlp, fs)
    assert not honest.certified  # a random width-4 MLP does not store 16 facts

    class Liar:
        stored, total, certified = fs.n_facts, fs.n_facts, True
        failing = np.zeros(0, dtype=np.int64)

    with pytest.raises(AssertionError, match="verifier certifies facts"):
        _checked_report(mlp, fs, lambda m, f: Liar())
    rep = _checked_report(mlp, fs, verify_storage)  # the real verifier passes the cross-check
    assert int(rep.stored) == int(honest.stored)


def test_bad_arguments_are_refused(register):
    name = register(build_toy)
    with pytest.raises(InvalidInputError, match="unknown method"):
        check_construction("no_such_method_xyz")
    with pytest.raises(InvalidInputError, match="families"):
        check_construction(name, families=("banana",))
    with pytest.raises(InvalidInputError, match="sizes"):
        check_construction(name, sizes=[(8, 16)])


def test_report_is_reproducible_under_seed(register):
    name = register(build_toy)
    a = check_construction(name, **FAST)
    b = check_construction(name, **FAST)
    assert [(c.name, c.outcome, c.examples) for c in a.checks] == [(c.name, c.outcome, c.examples) for c in b.checks]


# ---- the pytest plugin ----------------------------------------------------------------
_PLUGIN_TEST = """
import pytest
from hypothesis import given, strategies as st
from factmlp.testing.plugin import active_profile

COUNT = {"marked": 0, "plain": 0}

def test_fixtures(factmlp_seed, factmlp_factset):
    assert factmlp_seed == SEED
    assert (factmlp_factset.n_facts, factmlp_factset.n_values, factmlp_factset.dim) == (16, 16, 8)
    assert factmlp_factset.meta["family"] == "spherical" and factmlp_factset.meta["seed"] == SEED

@pytest.mark.factmlp
@given(st.integers())
def test_marked(x):
    COUNT["marked"] += 1

@given(st.integers())
def test_plain(x):
    COUNT["plain"] += 1

def test_zz_counts():
    assert active_profile() == PROFILE
    print("COUNTS", COUNT["marked"], COUNT["plain"])
"""


@pytest.mark.parametrize("ci_env", [None, "true"], ids=["local", "CI=true"])
@pytest.mark.parametrize(
    "args, seed, profile", [((), 0, "ci"), (("--factmlp-seed=5", "--factmlp-profile=dev"), 5, "dev")]
)
def test_plugin_options_fixtures_and_profile(pytester, monkeypatch, args, seed, profile, ci_env):
    # With CI set, Hypothesis loads its own built-in "ci" profile; the plugin must
    # not replace it (a bare "ci" registration once did, cutting a user's plain
    # tests from 100 examples to 15 on CI machines only).
    if ci_env is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci_env)
    pytester.makepyfile(_PLUGIN_TEST.replace("SEED", str(seed)).replace("PROFILE", repr(profile)))
    result = pytester.runpytest_subprocess("-s", "-p", "no:cacheprovider", *args)
    result.assert_outcomes(passed=4)
    match = re.search(r"COUNTS (\d+) (\d+)", result.stdout.str())
    assert match, result.stdout.str()
    marked, plain = int(match.group(1)), int(match.group(2))
    assert marked == {"ci": 15, "dev": 5}[profile]  # the factmlp profile's max_examples
    if profile == "ci":
        assert plain == 100  # an unmarked test keeps Hypothesis' own profile (default, or its built-in ci)
    else:
        assert plain == 5  # an explicit --factmlp-profile is loaded globally


def test_plugin_rejects_unknown_profile(pytester):
    pytester.makepyfile("def test_x():\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--factmlp-profile=nonesuch")
    assert result.ret != 0
    assert "factmlp-profile" in "\n".join(result.errlines + result.outlines)
