"""Public testing tools: Hypothesis strategies and the construction property suite.

Other projects import these to property-test their own constructions::

    from factmlp.testing import check_construction, fact_sets

    def test_my_method():
        check_construction("my_method")

* :func:`embeddings`, :func:`fact_sets`, :func:`degenerate_fact_sets` --
  Hypothesis strategies (:mod:`factmlp.testing.strategies`);
* :func:`check_construction` -- the property suite every registered method
  runs through (:mod:`factmlp.testing.suite`), and :func:`float_margins`,
  the uncertified float64 margins it uses for quick checks;
* the pytest plugin (:mod:`factmlp.testing.plugin`, loaded automatically):
  ``--factmlp-profile``, ``--factmlp-seed`` and the fixtures
  ``factmlp_seed`` and ``factmlp_factset``.

See ``docs/testing.md``.
"""

from .strategies import DEGENERATE_KINDS, DegenerateCase, degenerate_fact_sets, embeddings, fact_sets
from .suite import DEFAULT_SIZES, CheckResult, SuiteReport, check_construction, float_margins

__all__ = [
    "DEGENERATE_KINDS",
    "DEFAULT_SIZES",
    "CheckResult",
    "DegenerateCase",
    "SuiteReport",
    "check_construction",
    "degenerate_fact_sets",
    "embeddings",
    "fact_sets",
    "float_margins",
]
