"""Flush-to-zero / denormals-are-zero make the verifier refuse (issue 12, item 2).

The issue's case: keys holding ``2**-1074``; with DAZ the key entry reads as
0, ``|W_gate| |x|`` misses its term and a fact whose exact margin is
``-2**51`` was certified with margin ``+2**51``.
"""

from __future__ import annotations

import numpy as np
import pytest

import factmlp._fpenv as fpenv
from factmlp import FactSet, GatedMLP, decodability, verify_storage
from factmlp.errors import FactMLPError, FloatingPointEnvironmentError


def _issue_case():
    keys = np.array([[2.0**-1074, 1.0]])
    gate = np.array([[-(2.0**1023), 2.0**-52]])  # a = -2^-51 + 2^-52 = -2^-52 exactly; DAZ reads +2^-52
    mlp = GatedMLP(gate, np.array([[0.0, 1.0]]), np.array([[2.0**100], [0.0]]), "identity")
    fs = FactSet(keys, np.array([[1.0, 0.0], [-1.0, 0.0]]), np.array([0]))
    return mlp, fs  # exact margin 2 * 2^100 * (-2^-52) = -2^49


@pytest.fixture
def flush_denormal():
    torch = pytest.importorskip("torch")
    if not torch.set_flush_denormal(True):
        pytest.skip("this CPU cannot flush denormals")
    try:
        yield
    finally:
        torch.set_flush_denormal(False)


def test_ieee_subnormals_hold_by_default():
    assert fpenv.subnormal_problems() == []
    mlp, fs = _issue_case()
    rep = verify_storage(mlp, fs)
    assert rep.stored == 0 and rep.argmax_wrong.tolist() == [0]
    assert rep.margins[0] + rep.error_bounds[0] < 0 and rep.margins[0] == pytest.approx(-(2.0**49))


def test_flush_denormal_makes_verify_refuse(flush_denormal):
    assert set(fpenv.subnormal_problems()) >= {"FTZ", "DAZ"}
    mlp, fs = _issue_case()
    with pytest.raises(FloatingPointEnvironmentError, match="flush-to-zero.*denormals-are-zero") as exc:
        verify_storage(mlp, fs)
    assert isinstance(exc.value, FactMLPError)  # the CLI maps it to exit 2
    with pytest.raises(FloatingPointEnvironmentError, match="decodability"):
        decodability(np.array([[0.0], [1.0], [3.0]]))


def test_check_is_not_cached_mode_can_flip_back(flush_denormal):
    torch = pytest.importorskip("torch")
    with pytest.raises(FloatingPointEnvironmentError):
        verify_storage(*_issue_case())
    torch.set_flush_denormal(False)
    assert verify_storage(*_issue_case()).stored == 0  # checked again: now IEEE, the true verdict


@pytest.mark.parametrize("problem", ["FTZ", "DAZ", "BLAS"])
def test_each_detected_problem_refuses(monkeypatch, problem):
    """A mutant environment (no torch needed): each cause is named and refused."""
    monkeypatch.setattr(fpenv, "subnormal_problems", lambda: [problem])
    with pytest.raises(FloatingPointEnvironmentError) as exc:
        verify_storage(*_issue_case())
    word = {"FTZ": "flush-to-zero", "DAZ": "denormals-are-zero", "BLAS": "matrix product"}[problem]
    assert word in str(exc.value) and "\n" not in str(exc.value)


def test_detector_sees_bit_patterns_not_comparisons():
    """Under DAZ a comparison reads a subnormal as 0; the detector compares bit patterns."""
    assert fpenv._bits(2.0**-1074) == [1] and fpenv._bits(0.0) == [0]
