"""pytest plugin (entry point ``pytest11``): Hypothesis profiles, options and fixtures.

Profiles: ``ci`` (few examples, derandomized, no deadline), ``thorough``
(many examples), ``dev`` (a handful, for quick local runs).

Options
    ``--factmlp-profile NAME``: the Hypothesis profile of factmlp property
    tests (``ci`` by default; any profile registered with Hypothesis works).
    Given explicitly, it is also loaded as the global Hypothesis profile.
    ``--factmlp-seed N``: the seed of the fixtures below (default 0).

The profile applies, without touching a project's other Hypothesis tests, to

* :func:`factmlp.testing.check_construction` (its settings derive from it);
* every ``@given`` test marked ``@pytest.mark.factmlp`` that has no
  ``@settings`` of its own.

Fixtures
    ``factmlp_seed``: the int from ``--factmlp-seed``.
    ``factmlp_factset``: a small spherical fact set (d = 8, F = N = 16,
    a random permutation map) drawn with ``factmlp_seed``.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, settings

_COMMON: dict[str, Any] = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# factmlp's profiles are registered under a ``factmlp-`` prefix: Hypothesis
# itself owns the name ``ci`` (it loads its built-in ``ci`` profile whenever
# the ``CI`` environment variable is set), so registering a bare ``ci`` here
# would silently change every other Hypothesis test of the importing project.
PROFILE_PREFIX = "factmlp-"
settings.register_profile(PROFILE_PREFIX + "ci", max_examples=15, derandomize=True, **_COMMON)
settings.register_profile(PROFILE_PREFIX + "dev", max_examples=5, **_COMMON)
settings.register_profile(PROFILE_PREFIX + "thorough", max_examples=200, **_COMMON)
SHORT_PROFILES = ("ci", "dev", "thorough")

DEFAULT_PROFILE = "ci"
_state = {"profile": DEFAULT_PROFILE}


def registered_profile_name(name: str) -> str:
    """The Hypothesis profile name behind ``name``.

    The short names ``ci``, ``dev`` and ``thorough`` mean factmlp's own
    profiles (registered as ``factmlp-ci`` and so on); any other name is taken
    as a profile registered with Hypothesis by the caller.
    """
    return PROFILE_PREFIX + name if name in SHORT_PROFILES else name


def profile_settings(name: str | None = None) -> settings:
    """The Hypothesis settings of profile ``name`` (default: the active factmlp profile)."""
    return settings.get_profile(registered_profile_name(name or active_profile()))


def active_profile() -> str:
    """The Hypothesis profile of factmlp property tests (``--factmlp-profile``, default ``ci``)."""
    return _state["profile"]


def set_active_profile(name: str) -> None:
    """Make ``name`` (a short factmlp name or a registered Hypothesis profile) the factmlp profile."""
    profile_settings(name)  # raises InvalidArgument for an unknown name
    _state["profile"] = name


def pytest_addoption(parser: Any) -> None:  # pragma: no cover - exercised by pytest itself
    group = parser.getgroup("factmlp")
    group.addoption(
        "--factmlp-profile",
        action="store",
        default=None,
        help="Hypothesis profile for factmlp property tests: ci (default), dev, thorough.",
    )
    group.addoption(
        "--factmlp-seed",
        action="store",
        type=int,
        default=0,
        help="seed of the factmlp_seed / factmlp_factset fixtures (default 0).",
    )


def pytest_configure(config: Any) -> None:  # pragma: no cover - exercised by pytest itself
    config.addinivalue_line("markers", "factmlp: property tests from factmlp.testing (use the factmlp profile)")
    profile = config.getoption("--factmlp-profile", default=None)
    try:
        set_active_profile(profile or DEFAULT_PROFILE)
    except Exception as exc:  # noqa: BLE001 - hypothesis.errors.InvalidArgument
        raise pytest.UsageError(f"--factmlp-profile: {exc}") from None
    if profile:
        settings.load_profile(registered_profile_name(profile))


def pytest_collection_modifyitems(config: Any, items: list) -> None:  # pragma: no cover - pytest hook
    """Apply the factmlp profile to ``@given`` tests marked ``factmlp`` without their own ``@settings``."""
    chosen = profile_settings()
    for item in items:
        if item.get_closest_marker("factmlp") is None:
            continue
        fn = getattr(getattr(item, "obj", None), "__func__", getattr(item, "obj", None))
        if getattr(fn, "is_hypothesis_test", False) and not getattr(fn, "_hypothesis_internal_settings_applied", False):
            chosen(fn)


@pytest.fixture
def factmlp_seed(request: Any) -> int:
    """The seed from ``--factmlp-seed`` (default 0)."""
    return int(request.config.getoption("--factmlp-seed", default=0))


@pytest.fixture
def factmlp_factset(factmlp_seed: int) -> Any:
    """A small spherical fact set: d = 8, F = N = 16 (a random permutation), seed ``factmlp_seed``."""
    from ..families import make_factset

    return make_factset("spherical", d=8, facts=16, values=16, seed=factmlp_seed)
