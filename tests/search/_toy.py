"""A small synthetic NB-201 table for searcher tests (no ../shared, no real data).

The toy problem ships with nasrank (``nasrank.testing.toy``) for the searcher contract;
these names are re-exported for the project's tests.
"""

from __future__ import annotations

from nasrank.testing.toy import (
    SPACE,
    TOY_OPS,
    RidgeEnsemble,
    ToyObjective,
    op_weights,
    toy_benchmark,
    toy_value,
)

__all__ = [
    "SPACE",
    "TOY_OPS",
    "RidgeEnsemble",
    "ToyObjective",
    "op_weights",
    "toy_benchmark",
    "toy_value",
]
