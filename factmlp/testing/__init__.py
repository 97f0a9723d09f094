"""Public testing tools: Hypothesis strategies and the construction property suite.

Other projects import these to property-test their own constructions::

    from factmlp.testing import fact_sets
"""
