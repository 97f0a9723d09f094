"""Test configuration: the Hypothesis profile (``--factmlp-profile``, default ``ci``)."""

from __future__ import annotations

import hypothesis

import factmlp.testing.plugin  # noqa: F401  (registers the profiles)


def pytest_configure(config):
    profile = config.getoption("--factmlp-profile", default=None) or "ci"
    hypothesis.settings.load_profile(profile)
