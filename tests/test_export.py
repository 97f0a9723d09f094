"""Export to the Hugging Face LlamaMLP layout: files, config, exact outputs, CLI exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from factmlp.cli import main
from factmlp.errors import FileFormatError, InvalidInputError
from factmlp.export import FROM_HF_ACT, HF_ACT, export_hf, read_hf
from factmlp.mlp import ACTIVATIONS, GatedMLP


def _mlp(activation: str, d: int = 6, h: int = 11, seed: int = 0, dtype=np.float64) -> GatedMLP:
    rng = np.random.default_rng(seed)
    return GatedMLP(
        rng.standard_normal((h, d)).astype(dtype),
        rng.standard_normal((h, d)).astype(dtype),
        (rng.standard_normal((d, h)) / np.sqrt(h)).astype(dtype),
        activation,
        {"method": "test"},
    )


def test_export_module_is_torch_free():
    code = "import sys, factmlp.export; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_activation_names_round_trip():
    assert set(HF_ACT) == set(ACTIVATIONS)
    assert HF_ACT["identity"] == "linear"
    for name, hf in HF_ACT.items():
        assert FROM_HF_ACT[hf] == name


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_files_and_config(tmp_path, activation):
    mlp = _mlp(activation)
    export_hf(mlp, tmp_path / "out")
    cfg = json.loads((tmp_path / "out" / "config.json").read_text())
    assert cfg["hidden_size"] == 6 and cfg["intermediate_size"] == 11
    assert cfg["hidden_act"] == HF_ACT[activation] and cfg["mlp_bias"] is False
    from safetensors.numpy import load_file

    t = load_file(str(tmp_path / "out" / "model.safetensors"))
    assert set(t) == {"gate_proj.weight", "up_proj.weight", "down_proj.weight"}
    assert np.array_equal(t["gate_proj.weight"], mlp.gate_proj)
    assert np.array_equal(t["down_proj.weight"], mlp.down_proj)
    back = read_hf(tmp_path / "out")
    assert back.activation == activation and back.meta == {"method": "test"}


def test_dtype_option_and_bad_inputs(tmp_path):
    mlp = _mlp("silu")
    export_hf(mlp, tmp_path / "a", dtype="float32")
    assert read_hf(tmp_path / "a").dtype == np.float32
    with pytest.raises(InvalidInputError):
        export_hf(mlp, tmp_path / "b", dtype="int8")
    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidInputError):
        export_hf(mlp, tmp_path / "file")
    with pytest.raises(FileFormatError):
        read_hf(tmp_path / "missing")
    export_hf(mlp, tmp_path / "c")
    cfg = json.loads((tmp_path / "c" / "config.json").read_text())
    cfg["hidden_act"] = "gelu_new"  # tanh approximation: no exact factmlp equivalent
    (tmp_path / "c" / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(FileFormatError):
        read_hf(tmp_path / "c")


def _check_module_matches(module, mlp, torch, tol):
    x = np.random.default_rng(7).standard_normal((32, mlp.dim)).astype(mlp.dtype)
    with torch.no_grad():
        y = module(torch.from_numpy(x)).numpy()
    ref = mlp(x)
    assert np.abs(y - ref).max() <= tol * max(1.0, np.abs(ref).max())


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_equivalent_module_matches_numpy(tmp_path, activation):
    torch = pytest.importorskip("torch")
    from factmlp.export import LlamaMLPEquivalent, load_hf_torch

    mlp = _mlp(activation)
    export_hf(mlp, tmp_path)
    module = load_hf_torch(tmp_path, use_transformers=False)
    assert isinstance(module, LlamaMLPEquivalent)
    assert [n for n, _ in module.named_parameters()] == ["gate_proj.weight", "up_proj.weight", "down_proj.weight"]
    _check_module_matches(module, mlp, torch, 1e-6)
    # a tampered weight is noticed
    with torch.no_grad():
        module.up_proj.weight[0, 0] += 1e-3
    with pytest.raises(AssertionError):
        _check_module_matches(module, mlp, torch, 1e-6)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_transformers_llamamlp_matches_numpy(tmp_path, activation):
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from transformers.models.llama.modeling_llama import LlamaMLP

    from factmlp.export import load_hf_torch

    mlp = _mlp(activation)
    export_hf(mlp, tmp_path)
    module = load_hf_torch(tmp_path)
    assert isinstance(module, LlamaMLP)
    _check_module_matches(module, mlp, torch, 1e-6)


def test_cli_export(tmp_path):
    mlp = _mlp("gelu", dtype=np.float32)
    w = tmp_path / "w.safetensors"
    mlp.save(w)
    runner = CliRunner()
    res = runner.invoke(main, ["export", str(w), "--to", "hf", str(tmp_path / "hf"), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["config"]["hidden_act"] == "gelu"
    back = read_hf(tmp_path / "hf")
    assert np.array_equal(back.up_proj, mlp.up_proj) and back.dtype == np.float32


@pytest.mark.parametrize(
    "args",
    [
        ["export", "{tmp}/missing.safetensors", "--to", "hf", "{tmp}/o"],  # no such file
        ["export", "{tmp}/bad.safetensors", "--to", "hf", "{tmp}/o"],  # not safetensors
        ["export", "{tmp}/w.safetensors", "--to", "onnx", "{tmp}/o"],  # unknown target
        ["export", "{tmp}/w.safetensors", "{tmp}/o"],  # --to missing
        ["export", "{tmp}/w.safetensors", "--to", "hf", "{tmp}/afile"],  # target is a file
    ],
)
def test_cli_export_bad_input_exits_2(tmp_path, args):
    _mlp("silu").save(tmp_path / "w.safetensors")
    (tmp_path / "bad.safetensors").write_bytes(b"not a safetensors file")
    (tmp_path / "afile").write_text("x")
    runner = CliRunner()
    res = runner.invoke(main, [a.format(tmp=tmp_path) for a in args])
    assert res.exit_code == 2, res.output
    assert not (tmp_path / "o" / "model.safetensors").exists()


def test_float32_export_refuses_weights_beyond_its_range(tmp_path):
    mlp = _mlp("silu")
    big = GatedMLP(mlp.gate_proj, mlp.up_proj * 1e39, mlp.down_proj, "silu")
    with pytest.raises(InvalidInputError, match=r"up_proj\.weight: max \|w\| = .*e\+39"):
        export_hf(big, tmp_path / "o", dtype="float32")
    assert not (tmp_path / "o").exists()  # nothing written, not even the directory
    export_hf(big, tmp_path / "o64", dtype="float64")  # float64 holds them
    assert np.array_equal(read_hf(tmp_path / "o64").up_proj, big.up_proj)
    edge = GatedMLP(mlp.gate_proj * 0 + np.finfo(np.float32).max, mlp.up_proj, mlp.down_proj, "silu")
    export_hf(edge, tmp_path / "edge", dtype="float32")  # exactly float32's max is representable
    assert np.isfinite(read_hf(tmp_path / "edge").gate_proj).all()


def test_read_hf_refuses_extra_tensors(tmp_path):
    from safetensors.numpy import load_file, save_file

    export_hf(_mlp("relu"), tmp_path)
    t = load_file(str(tmp_path / "model.safetensors"))
    t["down_proj.bias"] = np.zeros(6)
    save_file(t, str(tmp_path / "model.safetensors"))
    with pytest.raises(FileFormatError, match=r"down_proj\.bias"):
        read_hf(tmp_path)


def test_export_is_byte_deterministic_and_all_or_nothing(tmp_path):
    mlp = _mlp("gelu")
    export_hf(mlp, tmp_path / "a")
    export_hf(mlp, tmp_path / "b")
    for name in ("model.safetensors", "config.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    (tmp_path / "c" / "config.json").mkdir(parents=True)
    from factmlp.errors import OutputPathError

    with pytest.raises(OutputPathError):
        export_hf(mlp, tmp_path / "c")
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == ["config.json"]
