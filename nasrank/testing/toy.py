"""Small synthetic problems for searcher tests: no data files, no training, milliseconds.

* :func:`toy_benchmark`: the 3^6 = 729 NAS-Bench-201 cells over three ops with a
  separable ``acc`` and three proxy columns of known quality.
* :class:`ToyObjective`: the same separable objective over the whole NB-201 space, with
  its optimum known exactly, recording every call.
* :class:`RidgeEnsemble`: a tiny bootstrap ensemble of ridge regressions with
  ``fit`` / ``predict_dist``, a fast stand-in for :mod:`nasrank.predictors` in
  predictor-based search.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from nasrank.benchmarks import Benchmark
from nasrank.spaces.nb201 import EDGES, OPS, NB201Space

__all__ = [
    "SPACE",
    "TOY_OPS",
    "RidgeEnsemble",
    "ToyObjective",
    "op_weights",
    "toy_benchmark",
    "toy_value",
]

#: The NAS-Bench-201 space every toy problem lives in.
SPACE = NB201Space()

#: The three ops of the toy benchmark's cells.
TOY_OPS = ("skip_connect", "nor_conv_1x1", "nor_conv_3x3")


def op_weights(seed: int = 1) -> np.ndarray:
    """A seeded random weight per (edge, op), shape ``(6, 5)``."""
    return np.random.default_rng(seed).normal(size=(len(EDGES), len(OPS)))


def toy_value(arch: str, w: np.ndarray | None = None) -> float:
    """Separable score: sum over edges of a random weight per (edge, op)."""
    w = op_weights() if w is None else w
    return float(sum(w[e, OPS.index(op)] for e, op in enumerate(SPACE.ops_of(arch))))


def toy_benchmark(seed: int = 0) -> Benchmark:
    """The 3^6 = 729 NB-201 cells over :data:`TOY_OPS`; ``acc`` separable; proxies
    ``synflow`` (good), ``params`` (noisier), ``nwot`` (noise)."""
    rng = np.random.default_rng(seed)
    ids = [SPACE.canonical(list(ops)) for ops in itertools.product(TOY_OPS, repeat=6)]
    n = len(ids)
    w = op_weights()
    acc = np.array([toy_value(a, w) for a in ids])
    return Benchmark(
        name="toy",
        space="nb201",
        archs=ids,
        values={
            "acc": acc,
            "synflow": acc + rng.normal(scale=0.3 * acc.std(), size=n),
            "params": acc + rng.normal(scale=1.0 * acc.std(), size=n),
            "nwot": rng.normal(size=n),
        },
        default_metric="acc",
    )


class ToyObjective:
    """Separable objective over the whole NB-201 space (optimum known exactly).

    Attributes:
        w: The (edge, op) weights.
        calls: Every architecture it was called on, in order.
    """

    maximize = True

    def __init__(self) -> None:
        self.w = op_weights()
        self.calls: list[str] = []

    def __call__(self, arch: str) -> float:
        self.calls.append(arch)
        return toy_value(arch, self.w)

    @property
    def optimum(self) -> float:
        """The largest value any architecture reaches."""
        return float(self.w.max(axis=1).sum())


class RidgeEnsemble:
    """A tiny bootstrap ensemble of ridge regressions with ``fit``/``predict_dist``
    (stands in for nasrank.predictors in searcher tests).

    Args:
        seed: Seed of the bootstrap draws.
        members: Ensemble size.
        alpha: Ridge penalty.
    """

    def __init__(self, seed: int = 0, members: int = 5, alpha: float = 1.0) -> None:
        self.seed, self.members, self.alpha = seed, members, alpha

    def fit(self, X: Any, y: Any) -> RidgeEnsemble:
        """Fit one ridge regression (with intercept) per bootstrap sample."""
        X, y = np.asarray(X, float), np.asarray(y, float)
        rng = np.random.default_rng(self.seed)
        Xb = np.hstack([X, np.ones((len(X), 1))])
        self.coefs_ = []
        for _ in range(self.members):
            idx = rng.integers(len(X), size=len(X))
            A, b = Xb[idx], y[idx]
            self.coefs_.append(np.linalg.solve(A.T @ A + self.alpha * np.eye(A.shape[1]), A.T @ b))
        return self

    def predict_dist(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation of the members' predictions."""
        Xb = np.hstack([np.asarray(X, float), np.ones((len(X), 1))])
        preds = np.stack([Xb @ c for c in self.coefs_])
        return preds.mean(0), preds.std(0)

    def predict(self, X: Any) -> np.ndarray:
        """The members' mean prediction."""
        return self.predict_dist(X)[0]
