"""Gradient-boosted trees (LightGBM) on feature vectors.

Ke et al., "LightGBM: A Highly Efficient Gradient Boosting Decision Tree", NeurIPS 2017;
as an accuracy predictor for NAS: White et al., "How Powerful are Performance Predictors
in Neural Architecture Search?", NeurIPS 2021, and NAS-Bench-Suite-Zero (Krishnakumar et
al., NeurIPS 2022), which feeds zero-cost proxy scores to the trees.

Defaults are tuned for the small training sets of predictor-based NAS (20-400
architectures): few leaves, small learning rate, row and column subsampling, L2
regularisation and extremely randomised split thresholds (``extra_trees``), targets
replaced by their percentile ranks. ``objective="pairwise"`` adds a RankNet loss over all
training pairs (Burges et al., ICML 2005) to a small L2 term, which optimises the
ordering Kendall's tau measures.

LightGBM is driven through its public ``lightgbm.train`` API (``LGBMRegressor`` would add
a scikit-learn dependency); parameter names follow ``LGBMRegressor``'s.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nasrank.predictors.base import (
    Predictor,
    as_features,
    check_sample_weight,
    check_target,
)
from nasrank.predictors.registry import PREDICTORS

__all__ = ["GBDTPredictor", "pairwise_objective", "RankTarget"]

OBJECTIVES = ("regression", "pairwise")
TARGETS = ("auto", "rank", "raw")


class RankTarget:
    """Maps targets to percentile ranks in ``(0, 1]`` and back (piecewise linear through
    the training targets, extrapolated linearly, so the map is monotone everywhere)."""

    def __init__(self, y: np.ndarray) -> None:
        from scipy.stats import rankdata

        self.q = rankdata(y) / len(y)
        order = np.argsort(self.q, kind="stable")
        q_sorted = self.q[order]
        y_sorted = y[order]
        # Unique knots (ties share a quantile and a value).
        self.knots_q, first = np.unique(q_sorted, return_index=True)
        self.knots_y = y_sorted[first]

    def forward(self) -> np.ndarray:
        return self.q

    def inverse(self, q: np.ndarray) -> np.ndarray:
        kq, ky = self.knots_q, self.knots_y
        if len(kq) == 1:
            return np.full_like(q, ky[0], dtype=np.float64) + (q - kq[0])
        out = np.interp(q, kq, ky)
        lo_slope = (ky[1] - ky[0]) / (kq[1] - kq[0])
        hi_slope = (ky[-1] - ky[-2]) / (kq[-1] - kq[-2])
        below, above = q < kq[0], q > kq[-1]
        out[below] = ky[0] + (q[below] - kq[0]) * lo_slope
        out[above] = ky[-1] + (q[above] - kq[-1]) * hi_slope
        return out


def pairwise_objective(
    y: np.ndarray, sigma: float, l2: float, weights: np.ndarray | None = None
) -> Any:
    """A LightGBM custom objective for targets ``y``: the RankNet logistic loss over all
    pairs with different targets (each pair weighted by the product of the sample weights),
    plus ``l2 * (f - y)^2 / 2``. Gradients and Hessians are averaged over the ``n``
    samples. The pair matrices are computed once, in float32."""
    from scipy.special import expit

    n = len(y)
    sign = np.sign(y[:, None] - y[None, :]).astype(np.float32)
    pair_w = (sign != 0).astype(np.float32)
    if weights is not None:
        pair_w *= (weights[:, None] * weights[None, :]).astype(np.float32)
    signed_w = sign * pair_w
    point_w = weights if weights is not None else np.ones(n)
    sigma32 = np.float32(sigma)

    def objective(preds: np.ndarray, data: Any) -> tuple[np.ndarray, np.ndarray]:
        f = preds.astype(np.float32)
        d = sigma32 * (f[:, None] - f[None, :])
        p = expit(-sign * d)  # probability of the wrong order for each pair
        grad = -sigma * (signed_w * p).sum(axis=1, dtype=np.float64) / n
        hess = sigma**2 * (pair_w * (p * (1 - p))).sum(axis=1, dtype=np.float64) / n
        grad = grad + l2 * point_w * (preds - y)
        hess = hess + l2 * point_w
        return grad, np.maximum(hess, 1e-6)

    return objective


@PREDICTORS.register("gbdt")
class GBDTPredictor(Predictor):
    """LightGBM regressor of accuracy from feature vectors (Ke et al., NeurIPS 2017).

    Args:
        n_estimators: Boosting rounds.
        learning_rate: Shrinkage per round.
        num_leaves: Leaves per tree.
        max_depth: Depth limit (-1: none).
        min_child_samples: Minimum samples per leaf.
        subsample: Row fraction per round (bagging; every round).
        colsample_bytree: Column fraction per tree.
        reg_alpha: L1 regularisation of leaf values.
        reg_lambda: L2 regularisation of leaf values.
        extra_trees: Random split thresholds (less overfitting on small data).
        objective: ``"regression"`` (L2) or ``"pairwise"`` (RankNet + ``pairwise_l2``
            L2; slower, better Kendall tau).
        pairwise_sigma: Logistic scale of the pairwise loss (targets are in ``(0, 1]``
            with ``target="rank"``).
        pairwise_l2: Weight of the L2 term of the pairwise objective.
        target: ``"rank"`` (fit percentile ranks of ``y``; predictions are mapped back
            onto ``y``'s scale), ``"raw"`` (``y`` itself; standardised for the pairwise
            objective) or ``"auto"``: ``"rank"`` for regression, ``"raw"`` for pairwise
            (the standardised accuracies keep the weak architectures' tail far from the
            rest, which the L2 term then separates; measured better on NAS-Bench-201).
        random_state: Seed of bagging and column sampling.
        n_jobs: LightGBM threads.

    Attributes:
        booster_: The fitted ``lightgbm.Booster``.
        n_features_in_: Number of features seen in ``fit``.
        feature_names_in_: Their names (``None`` for plain arrays).

    Shapes:
        ``X``: ``(n, d)``; ``y``: ``(n,)``; predictions: ``(n,)``.
    """

    def __init__(
        self,
        n_estimators: int = 400,
        learning_rate: float = 0.03,
        num_leaves: int = 8,
        max_depth: int = -1,
        min_child_samples: int = 2,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        reg_alpha: float = 0.0,
        reg_lambda: float = 1.0,
        extra_trees: bool = True,
        objective: str = "regression",
        pairwise_sigma: float = 2.0,
        pairwise_l2: float = 0.5,
        target: str = "auto",
        random_state: int = 0,
        n_jobs: int = 1,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.max_depth = max_depth
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_alpha = reg_alpha
        self.reg_lambda = reg_lambda
        self.extra_trees = extra_trees
        self.objective = objective
        self.pairwise_sigma = pairwise_sigma
        self.pairwise_l2 = pairwise_l2
        self.target = target
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _lgb_params(self) -> dict[str, Any]:
        if self.objective not in OBJECTIVES:
            raise ValueError(
                f"objective must be one of {', '.join(OBJECTIVES)}, got {self.objective!r}"
            )
        if self.target not in TARGETS:
            raise ValueError(f"target must be one of {', '.join(TARGETS)}, got {self.target!r}")
        if int(self.n_estimators) < 1 or int(self.num_leaves) < 2:
            raise ValueError(
                f"n_estimators must be >= 1 and num_leaves >= 2, got {self.n_estimators} "
                f"and {self.num_leaves}"
            )
        return {
            "learning_rate": float(self.learning_rate),
            "num_leaves": int(self.num_leaves),
            "max_depth": int(self.max_depth),
            "min_data_in_leaf": int(self.min_child_samples),
            "min_sum_hessian_in_leaf": 1e-3,
            "bagging_fraction": float(self.subsample),
            "bagging_freq": 1 if float(self.subsample) < 1.0 else 0,
            "feature_fraction": float(self.colsample_bytree),
            "lambda_l1": float(self.reg_alpha),
            "lambda_l2": float(self.reg_lambda),
            "extra_trees": bool(self.extra_trees),
            "seed": int(self.random_state),
            "num_threads": int(self.n_jobs),
            "deterministic": True,
            "force_col_wise": True,
            "verbose": -1,
        }

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> GBDTPredictor:
        import lightgbm as lgb

        values, names, _ = as_features(X)
        if values.shape[0] < 2:
            raise ValueError(f"need at least 2 training samples, got {values.shape[0]}")
        target = check_target(y, values.shape[0])
        weights = check_sample_weight(sample_weight, values.shape[0])
        params = self._lgb_params()
        mode = self.target
        if mode == "auto":
            mode = "raw" if self.objective == "pairwise" else "rank"
        if mode == "rank":
            self.target_map_: RankTarget | None = RankTarget(target)
            fit_y = self.target_map_.forward()
        else:
            self.target_map_ = None
            fit_y = target
        if self.objective == "pairwise":
            if mode == "raw":  # the pairwise scale assumes standardised targets
                self.center_, self.scale_ = float(fit_y.mean()), float(fit_y.std() or 1.0)
                fit_y = (fit_y - self.center_) / self.scale_
            else:
                self.center_, self.scale_ = 0.0, 1.0
            params["objective"] = pairwise_objective(
                fit_y, float(self.pairwise_sigma), float(self.pairwise_l2), weights
            )
            init = np.full(len(fit_y), float(np.mean(fit_y)))
        else:
            params["objective"] = "regression"
            self.center_, self.scale_ = 0.0, 1.0
            init = None
        dataset = lgb.Dataset(
            values,
            fit_y,
            weight=weights if self.objective != "pairwise" else None,
            init_score=init,
            params={"min_data_in_bin": 1, "feature_pre_filter": False, "verbose": -1},
            free_raw_data=True,
        )
        self.booster_ = lgb.train(params, dataset, num_boost_round=int(self.n_estimators))
        self.init_score_ = float(init[0]) if init is not None else 0.0
        self._record_features(values, names)
        return self

    def predict(self, X: Any) -> np.ndarray:
        values, names, _ = as_features(X)
        self._check_features(values, names)
        raw = self.booster_.predict(values) + self.init_score_
        raw = raw * self.scale_ + self.center_
        if self.target_map_ is not None:
            return self.target_map_.inverse(raw)
        return np.asarray(raw, dtype=np.float64)
