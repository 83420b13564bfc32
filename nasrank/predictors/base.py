"""The predictor contract (scikit-learn's estimator conventions).

* ``__init__`` only stores its arguments, under the same names; :meth:`Predictor.get_params`
  reads them back and :meth:`Predictor.set_params` changes them, so
  ``type(p)(**p.get_params())`` is an unfitted copy (:meth:`Predictor.clone`).
* ``fit(X, y)`` validates its input and learns; fitted state lives in attributes ending
  in ``_`` (``n_features_in_``, ``feature_names_in_``, ...); it returns ``self``.
* ``predict(X)`` -> ``(n,)``; ``predict_dist(X)`` -> ``(mean, std)`` for Bayesian
  optimisation (``std`` is 0 for predictors without an uncertainty estimate; wrap them in
  :class:`~nasrank.predictors.EnsemblePredictor` for one).
* Using an unfitted predictor raises :class:`NotFittedError`; giving ``predict`` features
  of another width or other names than ``fit`` saw raises :class:`FeatureMismatchError`.

``X`` is a :class:`~nasrank.predictors.featurize.FeatureMatrix` (values, feature names and,
for graph predictors, PyG graphs) or a plain 2-D array.
"""

from __future__ import annotations

import abc
import inspect
from collections.abc import Sequence
from typing import Any

import numpy as np

from nasrank.errors import NasrankError
from nasrank.predictors.featurize import FeatureMatrix

__all__ = [
    "Predictor",
    "NotFittedError",
    "FeatureMismatchError",
    "as_features",
    "check_target",
]


class NotFittedError(NasrankError, RuntimeError):
    """A predictor was used before ``fit``."""


class FeatureMismatchError(NasrankError, ValueError):
    """``predict`` got features that differ from those ``fit`` saw (width or names)."""


def as_features(X: Any) -> tuple[np.ndarray, tuple[str, ...] | None, Sequence[Any] | None]:
    """``(values (n, d) float64, names or None, graphs or None)`` of ``X``."""
    if isinstance(X, FeatureMatrix):
        return X.values, X.names, X.graphs
    try:
        values = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"X must be a FeatureMatrix or a 2-D numeric array, got {type(X).__name__}"
        ) from None
    if values.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {values.shape}")
    return values, None, None


def check_target(y: Any, n: int) -> np.ndarray:
    """``y`` as a finite float64 vector of length ``n``."""
    target = np.asarray(y, dtype=np.float64).ravel()
    if target.shape != (n,):
        raise ValueError(f"y has {target.size} values for {n} samples")
    if not np.all(np.isfinite(target)):
        bad = int((~np.isfinite(target)).sum())
        raise ValueError(f"y has {bad} NaN/inf values; drop those architectures before fit")
    return target


class Predictor(abc.ABC):
    """Base class of accuracy predictors (see the module docstring)."""

    # ---- parameters ---------------------------------------------------------------------
    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [
            p.name
            for p in sig.parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor arguments, by name (``deep`` for scikit-learn compatibility)."""
        out = {}
        for name in self._param_names():
            value = getattr(self, name)
            if deep and isinstance(value, Predictor):
                out.update({f"{name}__{k}": v for k, v in value.get_params().items()})
            out[name] = value
        return out

    def set_params(self, **params: Any) -> Predictor:
        """Change constructor arguments; unknown names raise ``ValueError``."""
        valid = self._param_names()
        for key, value in params.items():
            name, _, sub = key.partition("__")
            if name not in valid:
                raise ValueError(
                    f"invalid parameter {name!r} for {type(self).__name__}; "
                    f"valid parameters: {', '.join(valid)}"
                )
            if sub:
                getattr(self, name).set_params(**{sub: value})
            else:
                setattr(self, name, value)
        return self

    def clone(self) -> Predictor:
        """An unfitted predictor with the same parameters."""
        params = {
            k: (v.clone() if isinstance(v, Predictor) else v)
            for k, v in self.get_params(deep=False).items()
        }
        return type(self)(**params)

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params(deep=False).items())
        return f"{type(self).__name__}({params})"

    # ---- fitting ------------------------------------------------------------------------
    @abc.abstractmethod
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Predictor:
        """Learn from features ``X`` (``n`` rows) and targets ``y`` (``n``; larger is
        better); ``sample_weight`` optional ``(n,)`` non-negative weights."""

    @abc.abstractmethod
    def predict(self, X: Any) -> np.ndarray:
        """Predicted targets, shape ``(n,)``."""

    def predict_dist(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """``(mean, std)``, each ``(n,)``; ``std`` is zero unless the predictor models
        uncertainty (:class:`~nasrank.predictors.EnsemblePredictor` does)."""
        mean = self.predict(X)
        return mean, np.zeros_like(mean)

    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "n_features_in_")

    # ---- validation helpers -------------------------------------------------------------
    def _record_features(self, values: np.ndarray, names: tuple[str, ...] | None) -> None:
        if names is not None and len(names) != values.shape[1]:
            raise ValueError(f"{len(names)} feature names for {values.shape[1]} columns")
        self.n_features_in_ = int(values.shape[1])
        self.feature_names_in_ = tuple(names) if names is not None else None

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit(X, y) before "
                "predict/predict_dist"
            )

    def _check_features(self, values: np.ndarray, names: tuple[str, ...] | None) -> None:
        self._check_fitted()
        if values.shape[1] != self.n_features_in_:
            raise FeatureMismatchError(
                f"{type(self).__name__} was fitted on {self.n_features_in_} features but "
                f"X has {values.shape[1]}; build X with the same feature set as for fit"
            )
        fitted = self.feature_names_in_
        if fitted is not None and names is not None and tuple(names) != fitted:
            diff = [(i, a, b) for i, (a, b) in enumerate(zip(fitted, names)) if a != b]
            i, a, b = diff[0]
            raise FeatureMismatchError(
                f"{type(self).__name__} was fitted on other features: column {i} is {a!r} "
                f"in fit but {b!r} here ({len(diff)} columns differ); build X with the "
                "same feature set as for fit"
            )


def check_sample_weight(sample_weight: Any, n: int) -> np.ndarray | None:
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight, dtype=np.float64).ravel()
    if w.shape != (n,) or not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError(f"sample_weight must be {n} finite non-negative values")
    return w
