"""benchmarks/capacity/make_table.py and merge_results.py on tiny synthetic results files."""

from __future__ import annotations

import csv
import importlib.util
import io
import os

from factmlp.sweep import COLUMNS

HERE = os.path.dirname(os.path.abspath(__file__))
CAP = os.path.join(HERE, "..", "benchmarks", "capacity")


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, os.path.join(CAP, f"{name}.py"))
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _row(method: str, h: int, seconds: float, chash: str, d: int = 32, F: int = 32) -> dict:
    r = {k: "" for k in COLUMNS}
    params = 3 * d * h
    r.update(
        family="spherical",
        d=d,
        alpha="1/32",
        F=F,
        N=F,
        method=method,
        seed=0,
        factset_seed=0,
        h_star=h,
        params=params,
        counting_bound=5.0,  # F log2 N / 32 at F = N = 32
        bits_per_param=160.0 / params,
        rho=0.5,
        construct_seconds=seconds,
        seconds=seconds,
        status="ok",
        config_hash=chash,
    )
    return r


def _csv(rows: list[dict], eol: str = "\r\n") -> str:
    buf = io.StringIO(newline="")
    w = csv.DictWriter(buf, fieldnames=list(COLUMNS), lineterminator=eol)
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def test_make_table_columns(tmp_path):
    rows = [
        _row("gd", 3, 2.0, "a"),
        _row("encdec", 9, 0.5, "b"),
        _row("margin", 2, 1.0, "c"),
        _row("gd+polish", 2, 4.0, "d"),
    ]
    p = tmp_path / "results.csv"
    p.write_text(_csv(rows), newline="")
    mt = _load("make_table")
    out = mt.table(mt.read_results(str(p)))
    head = out.splitlines()[0]
    for m in ("encdec", "margin", "gd+polish", "gd"):
        assert f"{m} params (x GD, b/p)" in head
    for m in ("encdec", "margin", "gd+polish"):
        assert f"t {m} / t GD" in head
    assert "t gd / t GD" not in head
    body = out.splitlines()[2]
    # margin: 192 params = 0.67 x GD's 288, 160 bits / 192 = 0.83 bits per parameter, 1.0 s / 2.0 s
    assert "192 (0.67x, 0.83 b/p)" in body
    assert "288 (1.00x, 0.56 b/p)" in body
    cells = [c.strip() for c in body.strip("|").split("|")]
    assert cells[head.strip("|").split("|").index(" t margin / t GD ")] == "0.5"
    assert "margin params / GD params: 0.67 .. 0.67 (1 of 1 sizes at or below 2.0x, 1 at or below 1.0x)" in out


def test_merge_keeps_existing_rows(tmp_path):
    base_rows = [_row("gd", 3, 2.0, "a"), _row("encdec", 9, 0.5, "b")]
    base_text = _csv(base_rows)
    base = tmp_path / "base.csv"
    base.write_text(base_text, newline="")
    changed = _row("encdec", 7, 0.1, "b")  # same configuration, other result: must not replace
    add = tmp_path / "add.csv"
    add.write_text(_csv([changed, _row("margin", 2, 1.0, "c")], eol="\n"), newline="")
    mr = _load("merge_results")
    text, new, skipped = mr.merge(str(base), [str(add)])
    assert text.startswith(base_text)
    assert [h for h, _ in new] == ["c"]
    assert [h for h, _ in skipped] == ["b"]
    got = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [r["config_hash"] for r in got] == ["a", "b", "c"]
    assert got[1]["h_star"] == "9"
    # merging the result again adds nothing and changes nothing
    again = tmp_path / "merged.csv"
    again.write_text(text, newline="")
    text2, new2, _ = mr.merge(str(again), [str(add)])
    assert text2 == text and new2 == []
    # --replace: the rerun's row takes the held row's place, the others stay byte for byte
    text3, new3, replaced = mr.merge(str(base), [str(add)], replace=True)
    got3 = list(csv.DictReader(io.StringIO(text3, newline="")))
    assert [r["config_hash"] for r in got3] == ["a", "b", "c"] and [h for h, _ in replaced] == ["b"]
    assert got3[1]["h_star"] == "7" and got3[0] == got[0] and got3[2] == got[2] and [h for h, _ in new3] == ["c"]


def test_merge_log_is_appended_history(tmp_path):
    """--log keeps every merge: a second merge appends its block (new and replaced rows) after the first."""
    base = tmp_path / "base.csv"
    base.write_text(_csv([_row("gd", 3, 2.0, "a")]), newline="")
    add = tmp_path / "add.csv"
    add.write_text(_csv([_row("margin", 2, 1.0, "c")]), newline="")
    log = tmp_path / "new_rows.txt"
    log.write_text("earlier history\n")
    mr = _load("merge_results")
    mr.main([str(base), str(add), "--log", str(log)])
    mr.main([str(base), str(add), "--log", str(log), "--replace"])
    lines = log.read_text().splitlines()
    assert lines[0] == "earlier history"
    assert lines[1].startswith("# merge ") and lines[2] == f"+ c {add}"
    assert lines[3].startswith("# merge ") and lines[3].endswith("--replace") and lines[4] == f"replaced c {add}"
    assert len(lines) == 5
