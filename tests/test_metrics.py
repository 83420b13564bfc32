"""Rank metrics: known values, NaN handling, degenerate input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nasrank.metrics import kendall, rank_summary, spearman, top_k_precision


def test_perfect_and_reversed_rankings():
    x = np.arange(10.0)
    assert spearman(x, x**3) == pytest.approx(1.0)
    assert kendall(x, -x) == pytest.approx(-1.0)
    assert top_k_precision(x, x**3, 0.2) == 1.0
    assert top_k_precision(x, -x, 0.2) == 0.0


def test_against_scipy_on_random_data():
    from scipy import stats

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=50), rng.normal(size=50)
    assert spearman(a, b) == pytest.approx(stats.spearmanr(a, b).statistic)
    assert kendall(a, b) == pytest.approx(stats.kendalltau(a, b).statistic)


def test_nan_pairs_are_dropped_and_inf_is_ranked():
    pred = [1.0, 2.0, math.nan, 4.0, -math.inf]
    truth = [1.0, 2.0, 3.0, 4.0, 0.0]
    assert spearman(pred, truth) == pytest.approx(1.0)
    assert kendall(pred, [1.0, 2.0, 3.0, math.nan, 0.0]) == pytest.approx(1.0)


def test_degenerate_inputs_give_nan():
    assert math.isnan(spearman([1.0], [2.0]))
    assert math.isnan(spearman([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]))
    assert math.isnan(kendall([math.nan] * 3, [1.0, 2.0, 3.0]))
    assert math.isnan(top_k_precision([math.nan], [1.0]))


def test_top_k_precision_counts_overlap():
    pred = np.array([10, 9, 8, 7, 6, 5, 4, 3, 2, 1], dtype=float)
    truth = np.array([10, 1, 9, 2, 3, 4, 5, 6, 7, 8], dtype=float)
    # top 3 by pred: idx 0,1,2; by truth: idx 0,2,9 -> overlap 2
    assert top_k_precision(pred, truth, 0.3) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="fraction"):
        top_k_precision(pred, truth, 0.0)
    with pytest.raises(ValueError, match="same length"):
        spearman([1.0, 2.0], [1.0])


def test_rank_summary_shape():
    s = rank_summary([1.0, 2.0, math.nan, 4.0], [1.0, 2.0, 3.0, 4.0])
    assert set(s) == {"spearman", "kendall", "top10_precision", "nan_count", "n"}
    assert s["nan_count"] == 1 and s["n"] == 4
