"""Test configuration: the Hypothesis profile (``--factmlp-profile``, default ``ci``)."""

from __future__ import annotations

import hypothesis

from factmlp.testing.plugin import registered_profile_name  # (importing registers the profiles)


def pytest_configure(config):
    profile = config.getoption("--factmlp-profile", default=None) or "ci"
    hypothesis.settings.load_profile(registered_profile_name(profile))


def pytest_collection_modifyitems(config, items):
    """Tests marked ``slow`` run only when asked for (``-m slow``); the default run stays short."""
    import pytest

    if "slow" in (config.getoption("-m", default="") or ""):
        return
    skip = pytest.mark.skip(reason="slow: run with -m slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
