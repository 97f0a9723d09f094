"""Every registered derivation checks; mutated derivations (wrong constants) fail."""

from __future__ import annotations

import copy

import pytest
import sympy as sp

from theory import counting, jl, measure_zero, param_counts
from theory.derivation import Equality, Inequality, Limit, Monotone
from theory.registry import all_derivations
from theory.symbols import F, N, delta, eps, m, n, rho


def test_every_derivation_checks():
    ders = all_derivations()
    assert len(ders) >= 12
    bad = {
        dv.name: [
            (s.description, r.status, r.detail)
            for s, r in zip(dv.steps, dv.step_results, strict=True)
            if r.status != "proved"
        ]
        for dv in ders
        if dv.check() != "checked"
    }
    assert bad == {}


def test_latex_renders_every_derivation():
    for dv in all_derivations():
        tex = dv.latex()
        assert tex.startswith("\\subsection*{")
        assert tex.count("\\begin{enumerate}") == tex.count("\\end{enumerate}") == 1
        assert tex.count("$") % 2 == 0
        assert len(dv.steps) == tex.count("\\item ")
        assert isinstance(dv.statement_latex(), str) and dv.statement_latex()


def _mutated(dv, index, step):
    new = copy.copy(dv)
    new.steps = list(dv.steps)
    new.steps[index] = step
    new._results = None
    return new


def test_mutation_stirling_lower_constant():
    dv = counting.permutation_bits_derivation()
    st = dv.steps[0]
    wrong = copy.copy(st)
    wrong.lhs = F * sp.log(F) - F + 2  # constant +2 instead of +1: base case F = 1 fails
    assert _mutated(dv, 0, wrong).check() == "failed"


def test_mutation_jl_constant():
    dv = jl.jl_vectors_derivation()
    idx = next(i for i, s in enumerate(dv.steps) if s.description.startswith("union bound"))
    m_wrong = 6 * sp.log(2 * n / delta) / (eps**2 * (3 - 2 * eps))  # 6 instead of 12
    step = Equality("union bound with a wrong constant", n * jl.FAIL_ONE.subs(m, m_wrong), delta)
    assert _mutated(dv, idx, step).check() == "failed"


def test_mutation_jl_exponent():
    dv = jl.jl_vectors_derivation()
    idx = next(i for i, s in enumerate(dv.steps) if s.description.startswith("upper-tail exponent"))
    step = Monotone("wrong exponent", eps - sp.log(1 + eps), ">=", eps**2 / 2 - eps**3 / 4, var=eps, x0=0)
    assert _mutated(dv, idx, step).check() == "failed"


def test_mutation_decoder_dimension():
    dv = jl.decoder_margin_derivation()
    idx = next(i for i, s in enumerate(dv.steps) if "M_DECODER" in s.description and s.method == "simplify")
    wrong = 24 * sp.log(4 * N * (N - 1) / delta) / (rho**2 * (3 - rho))
    step = Equality("wrong M_DECODER", jl.M_VEC.subs({n: 2 * N * (N - 1), eps: rho / 2}), wrong)
    assert _mutated(dv, idx, step).check() == "failed"


def test_mutation_inner_product_bound():
    dv = jl.inner_product_derivation()
    idx = next(i for i, s in enumerate(dv.steps) if s.description.startswith("upper"))
    st = dv.steps[idx]
    step = Inequality("error <= eps/2 (false)", st.lhs, "<=", eps / 2, subs=st.subs, conditions=st.conditions)
    assert _mutated(dv, idx, step).check() == "failed"


def test_mutation_ratio_limit():
    dv = param_counts.ratio_limit_derivation()
    st = dv.steps[0]
    step = Limit("wrong limit", st.expr, st.var, st.point, param_counts.RATIO_LIMIT / 2)
    assert _mutated(dv, 0, step).check() == "failed"


def test_mutation_encdec_bound():
    dv = param_counts.encdec_bound_derivation()
    st = dv.steps[3]
    step = Inequality("3 d m ceil(F/d) <= 3 m F (false)", st.lhs, "<=", 3 * m * F, subs=st.subs)
    assert _mutated(dv, 3, step).check() == "failed"


def test_mutation_witness_rank():
    dv = measure_zero.encoder_witness_derivation()
    st = dv.steps[0]
    wrong = measure_zero.RankAtLeast("rank > F claimed", st.matrix, int(st.rhs) + 1)
    assert _mutated(dv, 0, wrong).check() == "failed"


@pytest.mark.parametrize("name", ["map", "perm", "plb"])
def test_counting_derivations_individually(name):
    dv = {
        "map": counting.map_bits_derivation,
        "perm": counting.permutation_bits_derivation,
        "plb": counting.param_lower_bound_derivation,
    }[name]()
    assert dv.check() == "checked"
