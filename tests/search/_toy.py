"""A small synthetic NB-201 table for searcher tests (no ../shared, no real data)."""

from __future__ import annotations

import numpy as np

from nasrank.benchmarks import Benchmark
from nasrank.spaces import get_space
from nasrank.spaces.nb201 import EDGES, OPS

SPACE = get_space("nb201")


def op_weights(seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(len(EDGES), len(OPS)))


def toy_value(arch: str, w: np.ndarray | None = None) -> float:
    """Separable score: sum over edges of a random weight per (edge, op)."""
    w = op_weights() if w is None else w
    return float(sum(w[e, OPS.index(op)] for e, op in enumerate(SPACE.ops_of(arch))))


TOY_OPS = ("skip_connect", "nor_conv_1x1", "nor_conv_3x3")


def toy_benchmark(seed: int = 0) -> Benchmark:
    """The 3^6 = 729 NB-201 cells over three ops; ``acc`` separable; proxies ``synflow``
    (good), ``params`` (noisier), ``nwot`` (noise)."""
    import itertools

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
    """Separable objective over the whole NB-201 space (optimum known exactly)."""

    maximize = True

    def __init__(self) -> None:
        self.w = op_weights()
        self.calls: list[str] = []

    def __call__(self, arch: str) -> float:
        self.calls.append(arch)
        return toy_value(arch, self.w)

    @property
    def optimum(self) -> float:
        return float(self.w.max(axis=1).sum())


class RidgeEnsemble:
    """A tiny bootstrap ensemble of ridge regressions with ``fit``/``predict_dist``
    (stands in for nasrank.predictors in searcher tests)."""

    def __init__(self, seed: int = 0, members: int = 5, alpha: float = 1.0) -> None:
        self.seed, self.members, self.alpha = seed, members, alpha

    def fit(self, X, y):
        X, y = np.asarray(X, float), np.asarray(y, float)
        rng = np.random.default_rng(self.seed)
        Xb = np.hstack([X, np.ones((len(X), 1))])
        self.coefs_ = []
        for _ in range(self.members):
            idx = rng.integers(len(X), size=len(X))
            A, b = Xb[idx], y[idx]
            self.coefs_.append(np.linalg.solve(A.T @ A + self.alpha * np.eye(A.shape[1]), A.T @ b))
        return self

    def predict_dist(self, X):
        Xb = np.hstack([np.asarray(X, float), np.ones((len(X), 1))])
        preds = np.stack([Xb @ c for c in self.coefs_])
        return preds.mean(0), preds.std(0)

    def predict(self, X):
        return self.predict_dist(X)[0]
