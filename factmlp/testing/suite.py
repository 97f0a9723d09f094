"""``check_construction``: one property suite that every construction method runs through.

In the spirit of scikit-learn's ``check_estimator``: a method registered with
:func:`factmlp.constructions.register_method` (built-in or a user's) is put
through the same checks, on fact sets drawn by :mod:`factmlp.testing.strategies`:

``storage[<family>]``
    for random feasible fact sets (``rho >= min_rho``) of every family and the
    given sizes, whenever ``Method.guarantees(factset)`` is True the
    construction at its default width is certified by
    :func:`factmlp.verify.verify_storage` to store all F facts.
``params``
    every construction has ``params == 3 d hidden`` and, where the method
    registers a bound, ``params <= param_bound``.
``determinism``
    the same seed gives bitwise-identical weights (and activation).
``bad_input[...]``
    infeasible sets (a duplicated or interior used value) raise
    ``InfeasibleFactSetError`` naming the offending values; a non-FactSet
    raises ``InvalidInputError``; an explicit ``hidden=0`` raises
    ``InvalidInputError``.
``degenerate[...]``
    conflicting duplicate keys, keys in a subspace and non-finite entries
    give a typed :class:`~factmlp.errors.FactMLPError` or an MLP whose
    verdict comes from the verifier, never a certified "all stored" that is
    impossible (two equal keys mapped to different values).

Whenever a verdict is read, it is cross-checked against the float64 margins
``min_{l != f(i)} <g(k_i), v_f(i) - v_l>`` recomputed here: a fact the
verifier certifies must not have a clearly negative margin.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from ..errors import FactMLPError, InvalidInputError
from ..factset import FactSet
from ..families import FAMILIES, make_factset
from .strategies import DegenerateCase, degenerate_fact_sets, fact_sets

__all__ = ["CheckResult", "SuiteReport", "check_construction", "DEFAULT_SIZES"]

#: (d, F, N) triples used by default: small enough for ~seconds per method.
DEFAULT_SIZES: tuple[tuple[int, int, int], ...] = ((8, 16, 16), (6, 12, 8))

_PROFILE_EXAMPLES_DIVISOR = 3  # examples per family = profile.max_examples // 3 (at least 1)


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one check: ``outcome`` is ``"passed"``, ``"failed"`` or ``"skipped"``.

    ``examples`` counts the inputs the check ran on; ``detail`` explains a
    skip or a failure (with the failing example) or summarises a pass.
    """

    name: str
    outcome: str
    examples: int = 0
    detail: str = ""


@dataclass
class SuiteReport:
    """Every check of :func:`check_construction` for one method, in order."""

    method: str
    checks: list[CheckResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        """True iff no check failed (skips allowed)."""
        return not self.failures

    @property
    def failures(self) -> list[CheckResult]:
        return [c for c in self.checks if c.outcome == "failed"]

    def __getitem__(self, name: str) -> CheckResult:
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)

    def names(self) -> list[str]:
        return [c.name for c in self.checks]

    def __str__(self) -> str:
        width = max((len(c.name) for c in self.checks), default=4)
        lines = [
            f"check_construction({self.method!r}): {'passed' if self.passed else 'FAILED'} in {self.seconds:.1f} s"
        ]
        for c in self.checks:
            lines.append(f"  {c.name:<{width}}  {c.outcome:<7} n={c.examples:<3} {c.detail}")
        return "\n".join(lines)


class _CheckFailed(AssertionError):
    """A property violated inside a check (the message names the example)."""


def _fail(msg: str) -> None:
    raise _CheckFailed(msg)


def _describe(fs: FactSet) -> str:
    meta = {k: fs.meta[k] for k in ("family", "seed", "rho", "degenerate") if k in fs.meta}
    return f"{fs!r} meta={meta}"


def _describe_example(example: Any) -> str:
    """A fact set by family, sizes and seed; a ``(fact set, seed)`` pair with its construction seed."""
    if isinstance(example, FactSet):
        return _describe(example)
    if isinstance(example, tuple) and len(example) == 2 and isinstance(example[0], FactSet):
        return f"{_describe(example[0])}, construction seed {example[1]}"
    return repr(example)


def float_margins(outputs: Any, factset: FactSet) -> np.ndarray:
    """Uncertified float64 margins ``min_{l != f(i)} <g(k_i), v_f(i) - v_l>``, shape (F,).

    ``outputs`` is ``g(K)`` (F x d).  A quick check for tests; the certified
    verdict is :func:`factmlp.verify_storage`.
    """
    scores = np.asarray(outputs, dtype=np.float64) @ np.asarray(factset.values, dtype=np.float64).T
    rows = np.arange(factset.n_facts)
    own = scores[rows, factset.mapping].copy()
    scores[rows, factset.mapping] = -np.inf
    return own - scores.max(axis=1)


def _float_margins(mlp: Any, fs: FactSet) -> tuple[np.ndarray, float]:
    """:func:`float_margins` of ``mlp`` on ``fs`` and the score scale.

    The scale ``1 + max_i ||g(k_i)||_inf * max |V| * d`` bounds the size of the
    scores, so rounding in this recomputation is below ``1e-12`` times it.
    """
    out = np.asarray(mlp(np.asarray(fs.keys, dtype=np.float64)), dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        scale = 1.0 + float(np.max(np.abs(out))) * float(np.max(np.abs(fs.values))) * fs.dim
    return float_margins(out, fs), scale


def _checked_report(mlp: Any, fs: FactSet, verify: Callable[..., Any]) -> Any:
    """``verify(mlp, fs)``, checked for internal consistency and against float64 margins."""
    rep = verify(mlp, fs)
    failing = np.asarray(rep.failing, dtype=np.int64).ravel()
    stored, total = int(rep.stored), int(rep.total)
    if total != fs.n_facts:
        _fail(f"verifier reports total={total}, the fact set has F={fs.n_facts}")
    if stored + failing.size != total or bool(rep.certified) != (stored == total):
        _fail(
            f"inconsistent verifier report: stored={stored}, total={total}, "
            f"certified={rep.certified}, {failing.size} failing"
        )
    certified = np.ones(total, dtype=bool)
    certified[failing] = False
    margins, scale = _float_margins(mlp, fs)
    # a certified fact's exact margin is > 0; this float64 recomputation errs by far less than 1e-9 * scale
    wrong = np.flatnonzero(certified & ~(margins > -1e-9 * scale))
    if wrong.size:
        _fail(
            f"verifier certifies facts {wrong[:10].tolist()} whose float64 margins are "
            f"{margins[wrong[:10]].tolist()} (not > 0)"
        )
    return rep


class _Runner:
    """Runs checks, catching each failure into a :class:`CheckResult`."""

    def __init__(self, report: SuiteReport, seed: int, profile: str) -> None:
        self.report, self.seed, self.profile = report, seed, profile

    def _settings(self, n: int) -> settings:
        from .plugin import profile_settings

        return settings(
            profile_settings(self.profile),
            max_examples=max(1, int(n)),
            derandomize=False,
            database=None,
            deadline=None,
            phases=(Phase.explicit, Phase.generate),
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
        )

    def record(self, name: str, fn: Callable[[], tuple[int, str]]) -> None:
        """Run ``fn() -> (examples, detail)``; an exception is a failure of check ``name``."""
        try:
            n, detail = fn()
            outcome = "skipped" if n == 0 else "passed"
        except _Skip as exc:
            n, detail, outcome = 0, str(exc), "skipped"
        except Exception as exc:  # noqa: BLE001 - every exception is a failed check
            n, outcome = getattr(exc, "_factmlp_examples", 0), "failed"
            detail = getattr(exc, "_factmlp_detail", None) or f"{type(exc).__name__}: {exc}"
        self.report.checks.append(CheckResult(name, outcome, int(n), detail))

    def property(self, strategy: st.SearchStrategy, body: Callable[[Any], str | None], n: int) -> tuple[int, str]:
        """Run ``body`` on ``n`` drawn examples (Hypothesis, seeded); count them.

        ``body`` returns ``None`` when the example counted, or a string saying
        why it was not applicable (counted as skipped).  The failing example
        and its exception go into the failure's detail.
        """
        state: dict[str, Any] = {"ran": 0, "skipped": 0, "why": "", "current": ""}

        @self._settings(n)
        @hypothesis_seed(self.seed)
        @given(strategy)
        def run(example: Any) -> None:
            state["current"] = _describe_example(example)
            why = body(example)
            if why is None:
                state["ran"] += 1
            else:
                state["skipped"] += 1
                state["why"] = why

        try:
            run()
        except Exception as exc:  # noqa: BLE001
            exc._factmlp_examples = state["ran"]  # type: ignore[attr-defined]
            exc._factmlp_detail = (  # type: ignore[attr-defined]
                f"{type(exc).__name__}: {exc} -- failing example: {state['current']}"
            )
            raise
        detail = f"{state['ran']} example(s)"
        if state["skipped"]:
            detail += f", {state['skipped']} not applicable ({state['why']})"
        return state["ran"], detail


class _Skip(Exception):
    """A check that does not apply to this method (the message says why)."""


def _expect_error(exc_type: type[BaseException], fn: Callable[[], Any], what: str) -> BaseException:
    try:
        fn()
    except exc_type as exc:
        return exc
    except Exception as exc:  # noqa: BLE001
        _fail(f"{what}: expected {exc_type.__name__}, got {type(exc).__name__}: {exc}")
    _fail(f"{what}: expected {exc_type.__name__}, nothing was raised")
    raise AssertionError("unreachable")  # pragma: no cover


def _check_names_indices(exc: BaseException, case: DegenerateCase) -> None:
    named = {int(i) for i in getattr(exc, "indices", [])}
    missing = set(case.offending) - named
    if missing:
        _fail(
            f"{type(exc).__name__} names {case.index_kind} {sorted(named)}, "
            f"missing the offending {sorted(missing)}: {exc}"
        )
    for i in case.offending:
        if not re.search(rf"(?<![\d.]){i}(?![\d.])", str(exc)):
            _fail(f"the message of {type(exc).__name__} does not name {case.index_kind[:-1]} {i}: {exc}")


def check_construction(
    method: str,
    *,
    families: Sequence[str] = FAMILIES,
    sizes: Iterable[Sequence[int]] = DEFAULT_SIZES,
    max_examples: int | None = None,
    seed: int = 0,
    min_rho: float = 1e-3,
    options: dict | None = None,
    require_storage: bool = False,
    profile: str | None = None,
    raise_on_failure: bool = True,
) -> SuiteReport:
    """Put the registered construction ``method`` through the property suite.

    Parameters
    ----------
    method : a name registered with :func:`factmlp.constructions.register_method`
    families : embedding families for the storage check (default: all of
        :data:`factmlp.families.FAMILIES`)
    sizes : ``(d, F, N)`` triples; each example draws one (``tied`` uses only
        triples with F <= N)
    max_examples : fact sets per family for the storage check (the other
        checks use fewer); ``None``: the active Hypothesis profile's
        ``max_examples // 3`` (``ci``: 5), at least 1
    seed : seeds every draw (Hypothesis and construction seeds)
    min_rho : storage examples have decodability ``rho(V, f([F])) >= min_rho``
    options : method options passed to :func:`~factmlp.constructions.construct`
        (e.g. a training budget)
    require_storage : also require all facts stored where the method makes no
        guarantee (e.g. GD with an adequate budget)
    profile : Hypothesis profile the settings derive from (``None``: the
        one chosen by ``--factmlp-profile``, default ``ci``)
    raise_on_failure : raise ``AssertionError`` (whose message is the report,
        with each failing example) when a check fails

    Notes
    -----
    Returns the :class:`SuiteReport` (one :class:`CheckResult` per check).
    Call it from a plain test, not from inside a Hypothesis ``@given`` test.
    """
    from ..constructions import construct, get_method
    from ..verify import verify_storage
    from .plugin import active_profile, profile_settings

    m = get_method(method)
    options = dict(options or {})
    sizes = [tuple(int(x) for x in s) for s in sizes]
    if not sizes or any(len(s) != 3 or min(s) < 1 or s[2] < 2 for s in sizes):
        raise InvalidInputError(f"sizes must be non-empty (d, F, N) triples with N >= 2, got {sizes}")
    families = (families,) if isinstance(families, str) else tuple(families)
    bad = [f for f in families if f not in FAMILIES]
    if bad or not families:
        raise InvalidInputError(f"unknown families {bad}; expected a non-empty subset of {FAMILIES}")
    profile = profile or active_profile()
    if max_examples is None:
        max_examples = max(1, profile_settings(profile).max_examples // _PROFILE_EXAMPLES_DIVISOR)
    n_small = max(1, min(int(max_examples), 2))
    report = SuiteReport(method)
    runner = _Runner(report, int(seed), profile)
    seeds = st.integers(0, 2**31 - 1)
    made: list[tuple[str, Any]] = []  # constructions seen, for the params check
    t0 = time.perf_counter()

    def build(fs: FactSet, s: int) -> Any:
        c = construct(fs, method, seed=s, **options)
        made.append((_describe(fs), c))
        return c

    # (a) storage, per family --------------------------------------------------
    def storage_for(fam: str) -> Callable[[], tuple[int, str]]:
        ok = [s for s in sizes if fam != "tied" or s[1] <= s[2]]

        def body(ex: tuple[FactSet, int]) -> str | None:
            fs, s = ex
            guaranteed = m.guarantees(fs, **options)
            c = build(fs, s)
            rep = _checked_report(c.mlp, fs, verify_storage)
            if not (guaranteed or require_storage):
                return "no storage guarantee"
            if not bool(rep.certified):
                failing = np.asarray(rep.failing).ravel()
                _fail(
                    f"method {method!r} {'guarantees' if guaranteed else 'must store'} every fact "
                    f"(hidden={c.hidden}, seed={s}) but the verifier certifies {int(rep.stored)}/"
                    f"{int(rep.total)}; failing facts {failing[:10].tolist()}"
                )
            return None

        def run() -> tuple[int, str]:
            if not ok:
                raise _Skip(f"no size with F <= N for family {fam!r}")
            strat = st.sampled_from(ok).flatmap(
                lambda s: st.tuples(fact_sets(family=fam, d=s[0], facts=s[1], values=s[2], min_rho=min_rho), seeds)
            )
            return runner.property(strat, body, max_examples)

        return run

    for fam in families:
        runner.record(f"storage[{fam}]", storage_for(fam))

    # (c) determinism -------------------------------------------------------------
    def determinism() -> tuple[int, str]:
        d, f, n = sizes[0]

        def body(ex: tuple[FactSet, int]) -> None:
            fs, s = ex
            a, b = build(fs, s), build(fs, s)
            for name in ("gate_proj", "up_proj", "down_proj"):
                x, y = np.asarray(getattr(a.mlp, name)), np.asarray(getattr(b.mlp, name))
                if x.dtype != y.dtype or x.shape != y.shape or x.tobytes() != y.tobytes():
                    _fail(f"seed {s} gave different {name} on two runs")
            if a.mlp.activation != b.mlp.activation:
                _fail(f"seed {s} gave activations {a.mlp.activation!r} and {b.mlp.activation!r}")

        strat = st.tuples(fact_sets(family="spherical", d=d, facts=f, values=n, min_rho=min_rho), seeds)
        return runner.property(strat, body, n_small)

    runner.record("determinism", determinism)

    # (d) bad input ---------------------------------------------------------------
    def degenerate_body(case: DegenerateCase) -> None:
        if case.factset is None:  # cannot be a FactSet: the constructor must refuse it
            exc = _expect_error(
                case.allowed_error, lambda: FactSet(case.keys, case.values, case.mapping), f"FactSet on {case.kind}"
            )
            _check_names_indices(exc, case)
            return
        fs = case.factset
        try:
            c = build(fs, case.seed % 2**31)
        except FactMLPError as exc:
            if not isinstance(exc, case.allowed_error):
                _fail(f"expected {case.allowed_error.__name__}, got {type(exc).__name__}: {exc}")
            if case.expected_error is not None:
                _check_names_indices(exc, case)
            return
        except Exception as exc:  # noqa: BLE001
            _fail(f"untyped {type(exc).__name__} on {case.kind}: {exc} (expected a factmlp error or a result)")
        if case.expected_error is not None:
            _fail(f"construct returned an MLP; expected {case.expected_error.__name__}")
        rep = _checked_report(c.mlp, fs, verify_storage)
        if not case.storable:
            failing = set(np.asarray(rep.failing).ravel().tolist())
            if bool(rep.certified) or not failing & set(case.offending):
                _fail(
                    f"facts {list(case.offending)} share a key but map to different values, so at most one "
                    f"can be stored; the verifier certifies {int(rep.stored)}/{int(rep.total)} "
                    f"with failing {sorted(failing)[:10]}"
                )

    def degenerate(kind: str) -> Callable[[], tuple[int, str]]:
        d, f, n = sizes[0]
        strat = degenerate_fact_sets(kind, d=max(d, 2), facts=max(f, 2), values=max(n, 3))
        return lambda: runner.property(strat, degenerate_body, n_small)

    for kind in ("duplicate_values", "interior_value"):
        runner.record(f"bad_input[infeasible:{kind}]", degenerate(kind))

    def wrong_type() -> tuple[int, str]:
        d, f, n = sizes[0]
        fs = make_factset("spherical", d=d, facts=f, values=n, seed=seed)
        bad: Any  # deliberately not a FactSet
        for bad in (fs.keys, (fs.keys, fs.values, fs.mapping), None):
            exc = _expect_error(
                InvalidInputError,
                functools.partial(construct, bad, method, **options),
                f"construct({type(bad).__name__}, {method!r})",
            )
            del exc
        return 3, "ndarray, tuple and None refused"

    runner.record("bad_input[wrong_type]", wrong_type)

    def hidden_zero() -> tuple[int, str]:
        d, f, n = sizes[0]
        fs = make_factset("spherical", d=d, facts=f, values=n, seed=seed)
        for h in (0, -1):
            _expect_error(
                InvalidInputError,
                functools.partial(construct, fs, method, hidden=h, **options),
                f"construct(..., {method!r}, hidden={h})",
            )
        return 2, "hidden=0 and hidden=-1 refused"

    runner.record("bad_input[hidden=0]", hidden_zero)

    # (e) degenerate inputs ---------------------------------------------------------
    for kind in ("duplicate_keys_conflicting", "keys_in_subspace", "nonfinite"):
        runner.record(f"degenerate[{kind}]", degenerate(kind))

    # (b) parameter counts of every construction made above ------------------------
    def params() -> tuple[int, str]:
        for where, c in made:
            d = c.mlp.dim
            if c.params != 3 * d * c.hidden or c.mlp.n_params != c.params:
                _fail(f"params={c.params}, expected 3 d hidden = {3 * d * c.hidden} on {where}")
            if c.param_bound is not None and c.params > c.param_bound:
                _fail(f"params={c.params} exceed the registered bound {c.param_bound} on {where}")
        bounded = sum(c.param_bound is not None for _, c in made)
        return len(made), f"{len(made)} construction(s), {bounded} with a registered bound"

    runner.record("params", params)

    report.seconds = time.perf_counter() - t0
    if raise_on_failure and not report.passed:
        raise AssertionError(str(report))
    return report
