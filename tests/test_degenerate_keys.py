"""Degenerate inputs shared by every guaranteed construction: each is refused
with a typed error naming the offending facts, or (consistent duplicates)
stored.  Method-specific cases (antipodal keys, activations) stay in each
method's own test file."""

from __future__ import annotations

import pytest

from factmlp import make_factset
from factmlp.constructions import construct
from factmlp.errors import DegenerateKeysError, InfeasibleFactSetError, format_indices
from factmlp.factset import FactSet
from factmlp.verify import verify_storage

GUARANTEED = ["encdec", "hebbian", "ntk"]


def _with(fs: FactSet, keys=None, values=None, mapping=None) -> FactSet:
    return FactSet(
        fs.keys if keys is None else keys,
        fs.values if values is None else values,
        fs.mapping if mapping is None else mapping,
    )


@pytest.mark.parametrize("method", GUARANTEED)
@pytest.mark.parametrize("zeros", [[5], [2, 9]])
def test_zero_keys_are_refused_and_named(method, zeros):
    fs = make_factset("gaussian", d=8, facts=12, seed=13)
    K = fs.keys.copy()
    K[zeros] = 0.0
    with pytest.raises(DegenerateKeysError) as exc:
        construct(_with(fs, keys=K), method, seed=0)
    assert set(zeros) <= set(exc.value.indices)
    assert format_indices(exc.value.indices) in str(exc.value)  # the message names them too


@pytest.mark.parametrize("method", GUARANTEED)
def test_conflicting_duplicate_keys_are_named(method):
    fs = make_factset("spherical", d=8, facts=20, values=20, seed=10)
    K = fs.keys.copy()
    K[13] = K[4]
    with pytest.raises(DegenerateKeysError) as exc:
        construct(_with(fs, keys=K), method, seed=0)
    assert exc.value.indices == [4, 13]


@pytest.mark.parametrize("method", GUARANTEED)
def test_consistent_duplicate_keys_are_stored(method):
    fs = make_factset("spherical", d=8, facts=24, values=24, seed=12)
    K, f = fs.keys.copy(), fs.mapping.copy()
    K[20], f[20] = K[2], f[2]
    fs2 = _with(fs, keys=K, mapping=f)
    c = construct(fs2, method, seed=0)
    assert verify_storage(c.mlp, fs2).certified


@pytest.mark.parametrize("method", GUARANTEED)
@pytest.mark.parametrize("how", ["coincide", "inside_hull"])
def test_infeasible_fact_sets_raise_before_building(method, how):
    fs = make_factset("spherical", d=8, facts=10, values=10, seed=14)
    V = fs.values.copy()
    a, b, c = (int(fs.mapping[i]) for i in (0, 1, 4))
    if how == "coincide":
        V[a] = V[b]
        bad = {a, b}
    else:
        V[c] = 0.5 * (V[a] + V[b])
        bad = {c}
    with pytest.raises(InfeasibleFactSetError) as exc:
        construct(_with(fs, values=V), method, seed=0)
    assert bad & set(exc.value.indices)
