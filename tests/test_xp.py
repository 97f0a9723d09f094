"""The array namespace: NumPy by default, CuPy parity when a GPU is present."""

from __future__ import annotations

import numpy as np
import pytest

from factmlp import GatedMLP
from factmlp import xp as xpmod


def test_numpy_namespace():
    a = np.ones(3)
    assert xpmod.get_namespace(a) is np
    assert xpmod.namespace("numpy") is np
    if not xpmod.cupy_available():
        assert xpmod.namespace("auto") is np
    np.testing.assert_array_equal(xpmod.to_numpy(a), a)
    with pytest.raises(ValueError):
        xpmod.namespace("jax")


def test_cupy_request_without_gpu_is_clear():
    if xpmod.cupy_available():
        pytest.skip("CuPy with a GPU is present")
    with pytest.raises(RuntimeError, match="CuPy"):
        xpmod.namespace("cupy")


def test_erf_matches_scipy():
    from scipy.special import erf

    x = np.linspace(-3, 3, 13)
    np.testing.assert_allclose(xpmod.erf(x), erf(x))


@pytest.mark.gpu
def test_gated_mlp_parity_numpy_cupy():
    pytest.importorskip("cupy")
    if not xpmod.cupy_available():
        pytest.skip("no CUDA device")
    rng = np.random.default_rng(0)
    for act in ("identity", "relu", "silu", "gelu"):
        m = GatedMLP(rng.standard_normal((16, 8)), rng.standard_normal((16, 8)), rng.standard_normal((8, 16)), act)
        x = rng.standard_normal((32, 8))
        gpu = m.to("cupy")
        out = xpmod.to_numpy(gpu(xpmod.namespace("cupy").asarray(x)))
        np.testing.assert_allclose(out, m(x), rtol=1e-10, atol=1e-12)
