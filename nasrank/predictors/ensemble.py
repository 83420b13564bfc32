"""Ensembles of predictors: mean and spread of members trained on resampled data.

Lakshminarayanan et al., "Simple and Scalable Predictive Uncertainty Estimation using Deep
Ensembles", NeurIPS 2017; BANANAS (White et al., AAAI 2021) uses such an ensemble's mean
and standard deviation for its acquisition function. Members differ by seed and, with
``bootstrap=True``, by a bootstrap resample of the training set. ``base`` may be a list
of predictors (e.g. a GBDT and a GNN) to combine model families.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from nasrank.predictors.base import (
    Predictor,
    as_features,
    check_sample_weight,
    check_target,
)
from nasrank.predictors.featurize import FeatureMatrix
from nasrank.predictors.registry import PREDICTORS, get_predictor

__all__ = ["EnsemblePredictor"]


def _resolve(base: Any) -> list[Predictor]:
    items = base if isinstance(base, (list, tuple)) else [base]
    if not items:
        raise ValueError("EnsemblePredictor needs at least one base predictor")
    out = []
    for b in items:
        if isinstance(b, Mapping):  # {"name": "gbdt", **params} (command-line friendly)
            spec = dict(b)
            if "name" not in spec:
                raise ValueError(f"a base predictor given as a dict needs a 'name': {b!r}")
            out.append(get_predictor(spec.pop("name"), **spec))
        else:
            out.append(get_predictor(b))
    return out


@PREDICTORS.register("ensemble")
class EnsemblePredictor(Predictor):
    """Seed/bootstrap ensemble giving ``predict_dist -> (mean, std)`` (Lakshminarayanan
    et al., NeurIPS 2017).

    Args:
        base: A predictor, a registered name (``"gbdt"``), a dict ``{"name": "gbdt",
            **params}``, or a list of them (each gets ``n_members`` members).
        n_members: Members per base predictor.
        bootstrap: Train each member on a bootstrap resample (else on all data; members
            then differ only by seed).
        random_state: Seed of the resamples; member ``i`` gets ``random_state + i``.

    Attributes:
        members_: The fitted members.

    Shapes:
        as the base predictors; ``predict_dist`` returns two ``(n,)`` arrays.
    """

    def __init__(
        self,
        base: Any = "gbdt",
        n_members: int = 5,
        bootstrap: bool = True,
        random_state: int = 0,
    ) -> None:
        self.base = base
        self.n_members = n_members
        self.bootstrap = bootstrap
        self.random_state = random_state

    def base_predictors(self) -> list[Predictor]:
        """The base predictors ``base`` names, unfitted (one per kind, not per member)."""
        return _resolve(self.base)

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> EnsemblePredictor:
        if int(self.n_members) < 1:
            raise ValueError(f"n_members must be >= 1, got {self.n_members}")
        bases = _resolve(self.base)
        n = len(X) if isinstance(X, (FeatureMatrix, Sequence)) else as_features(X)[0].shape[0]
        target = check_target(y, n)
        weights = check_sample_weight(sample_weight, n)
        members: list[Predictor] = []
        for b, base in enumerate(bases):
            for i in range(int(self.n_members)):
                seed = int(self.random_state) + 1000 * b + i
                member = base.clone()
                if "random_state" in member._param_names():
                    member.set_params(random_state=seed)
                if self.bootstrap:
                    rng = np.random.default_rng(seed)
                    idx = rng.integers(0, n, size=n)
                    if len(np.unique(target[idx])) < 2:  # degenerate resample
                        idx = np.arange(n)
                    Xi = _take(X, idx)
                    member.fit(Xi, target[idx], None if weights is None else weights[idx])
                else:
                    member.fit(X, target, weights)
                members.append(member)
        self.members_ = members
        self.n_features_in_ = members[0].n_features_in_
        self.feature_names_in_ = members[0].feature_names_in_
        return self

    def _all(self, X: Any) -> np.ndarray:
        self._check_fitted()
        return np.stack([m.predict(X) for m in self.members_])

    def predict(self, X: Any) -> np.ndarray:
        return self._all(X).mean(axis=0)

    def predict_dist(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        preds = self._all(X)
        return preds.mean(axis=0), preds.std(axis=0)


def _take(X: Any, idx: np.ndarray) -> Any:
    if isinstance(X, FeatureMatrix):
        return X.take(idx)
    if isinstance(X, np.ndarray):
        return X[idx]
    if isinstance(X, Sequence) and not isinstance(X, (str, bytes)):
        return [X[i] for i in idx]
    return np.asarray(X)[idx]
