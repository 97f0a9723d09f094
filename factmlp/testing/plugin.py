"""pytest plugin (entry point ``pytest11``): ``--factmlp-profile`` and Hypothesis profiles.

Profiles: ``ci`` (few examples, derandomized, no deadline), ``thorough``
(many examples), ``dev`` (a handful, for quick local runs).  The option
also accepts any profile registered with Hypothesis.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

settings.register_profile("ci", max_examples=15, derandomize=True, **_COMMON)
settings.register_profile("dev", max_examples=5, **_COMMON)
settings.register_profile("thorough", max_examples=200, **_COMMON)


def pytest_addoption(parser):  # pragma: no cover - exercised by pytest itself
    group = parser.getgroup("factmlp")
    group.addoption(
        "--factmlp-profile",
        action="store",
        default=None,
        help="Hypothesis profile for factmlp property tests: ci (default), dev, thorough.",
    )


def pytest_configure(config):  # pragma: no cover - exercised by pytest itself
    profile = config.getoption("--factmlp-profile", default=None)
    if profile:
        settings.load_profile(profile)
    config.addinivalue_line("markers", "factmlp: property tests from factmlp.testing")
