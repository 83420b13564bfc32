"""Rank metrics between predicted scores and ground truth (NaN-aware).

Every function drops the pairs where either value is NaN (``inf`` values are kept and
rank at the extremes) and returns NaN when fewer than two pairs remain or a side is
constant. Larger predictions are taken to mean "predicted better".
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["spearman", "kendall", "top_k_precision", "rank_summary"]


def _pairs(pred: ArrayLike, truth: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(pred, dtype=np.float64).ravel()
    t = np.asarray(truth, dtype=np.float64).ravel()
    if p.shape != t.shape:
        raise ValueError(
            f"pred and truth must have the same length; got {p.size} and {t.size}"
        )
    keep = ~(np.isnan(p) | np.isnan(t))
    return p[keep], t[keep]


def _degenerate(p: np.ndarray, t: np.ndarray) -> bool:
    return p.size < 2 or bool(np.all(p == p[0])) or bool(np.all(t == t[0]))


def spearman(pred: ArrayLike, truth: ArrayLike) -> float:
    """Spearman rank correlation (ties get average ranks).

    Args:
        pred: Predicted scores, shape ``(n,)``.
        truth: Ground truth, shape ``(n,)``.
    """
    from scipy import stats

    p, t = _pairs(pred, truth)
    if _degenerate(p, t):
        return math.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(stats.spearmanr(p, t).statistic)


def kendall(pred: ArrayLike, truth: ArrayLike) -> float:
    """Kendall's tau-b rank correlation.

    Args:
        pred: Predicted scores, shape ``(n,)``.
        truth: Ground truth, shape ``(n,)``.
    """
    from scipy import stats

    p, t = _pairs(pred, truth)
    if _degenerate(p, t):
        return math.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(stats.kendalltau(p, t).statistic)


def top_k_precision(pred: ArrayLike, truth: ArrayLike, fraction: float = 0.1) -> float:
    """Share of the top ``fraction`` by prediction that is also in the top ``fraction``
    by ground truth.

    ``k = max(1, round(fraction * n))`` over the ``n`` non-NaN pairs; ties are broken by
    position (stable sort), so the result is deterministic.

    Args:
        pred: Predicted scores, shape ``(n,)``.
        truth: Ground truth, shape ``(n,)``.
        fraction: Size of the top set, in ``(0, 1]``.

    Raises:
        ValueError: ``fraction`` is outside ``(0, 1]``.
    """
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1]; got {fraction}")
    p, t = _pairs(pred, truth)
    if p.size == 0:
        return math.nan
    k = max(1, int(round(fraction * p.size)))
    top_p = set(np.argsort(-p, kind="stable")[:k].tolist())
    top_t = set(np.argsort(-t, kind="stable")[:k].tolist())
    return len(top_p & top_t) / k


def rank_summary(
    pred: ArrayLike | Sequence[float], truth: ArrayLike, fraction: float = 0.1
) -> dict[str, float | int]:
    """Spearman, Kendall, top-``fraction`` precision, NaN count and pair count.

    Returns:
        ``{"spearman", "kendall", "top10_precision", "nan_count", "n"}``; the precision key
        is named after ``fraction`` (``top10_precision`` for 0.1).
    """
    p = np.asarray(pred, dtype=np.float64).ravel()
    key = f"top{round(fraction * 100):d}_precision"
    return {
        "spearman": spearman(p, truth),
        "kendall": kendall(p, truth),
        key: top_k_precision(p, truth, fraction),
        "nan_count": int(np.isnan(p).sum()),
        "n": int(p.size),
    }
