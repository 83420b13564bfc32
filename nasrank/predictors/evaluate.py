"""The predictor evaluation protocol: train on ``n`` random architectures, rank the rest.

For every seed the architectures are shuffled once (``numpy.random.default_rng(seed)``);
a training size ``n`` takes the first ``n`` and tests on all the others, so sizes are
nested within a seed and every number is reproducible from the seed. The predictor is
cloned for each fit and, when it has a ``random_state`` parameter, seeded with the split's
seed. Reported per fit: Kendall's tau, Spearman's rho and top-10 % precision of the
predictions on the test architectures, and fit/predict wall seconds.

:func:`evaluate_transfer` trains on other spaces (cross-space transfer through the
universal ONNX features) and tests on a target space zero-shot and with ``k`` target
samples added to the training set; targets are percentile ranks within each space, so
accuracy scales need not agree.
"""

from __future__ import annotations

import logging
import math
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from nasrank.metrics import kendall, spearman, top_k_precision
from nasrank.predictors.base import Predictor
from nasrank.predictors.featurize import FeatureMatrix, FeatureSetError

__all__ = ["EvalRecord", "evaluate", "evaluate_transfer", "summarize", "split_indices"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvalRecord:
    """One fit-and-rank of the protocol.

    Attributes:
        train_size: Training architectures (of the target space for transfer runs).
        seed: Split seed.
        kendall: Kendall's tau-b on the test architectures.
        spearman: Spearman's rho on them.
        top10_precision: Share of the predicted top 10 % that is in the true top 10 %.
        fit_seconds: Wall seconds of ``fit``.
        predict_seconds: Wall seconds of ``predict`` on the test set.
        n_train: Total training rows (source + target for transfer runs).
        n_test: Test architectures.
        mode: ``"in-space"``, ``"transfer"`` (sources + ``train_size`` target samples)
            or ``"target-only"`` (the same target samples without the sources).
    """

    train_size: int
    seed: int
    kendall: float
    spearman: float
    top10_precision: float
    fit_seconds: float
    predict_seconds: float
    n_train: int
    n_test: int
    mode: str = "in-space"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def split_indices(n: int, train_size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(train, test)`` indices of the protocol's split."""
    perm = np.random.default_rng(seed).permutation(n)
    return perm[:train_size], perm[train_size:]


def _seeds(seeds: int | Iterable[int]) -> list[int]:
    return list(range(seeds)) if isinstance(seeds, int) else [int(s) for s in seeds]


def _fresh(predictor: Predictor, seed: int) -> Predictor:
    p = predictor.clone()
    if "random_state" in p._param_names():
        p.set_params(random_state=seed)
    return p


def _score(pred: np.ndarray, truth: np.ndarray) -> tuple[float, float, float]:
    return kendall(pred, truth), spearman(pred, truth), top_k_precision(pred, truth, 0.1)


def _finite_rows(y: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
    target = np.asarray(y, dtype=np.float64).ravel()
    keep = np.flatnonzero(np.isfinite(target))
    if len(keep) < len(target):
        logger.warning(
            "%s: dropping %d architectures without a target value", what, len(target) - len(keep)
        )
    return target, keep


def evaluate(
    predictor: Predictor,
    X: FeatureMatrix,
    y: Any,
    *,
    train_sizes: Sequence[int],
    seeds: int | Iterable[int] = 20,
    on_record: Callable[[EvalRecord], None] | None = None,
) -> list[EvalRecord]:
    """Run the protocol (see the module docstring) for every train size and seed.

    Args:
        predictor: An (unfitted) predictor; it is cloned for every fit.
        X: Features of all architectures.
        y: Ground truth, larger is better (``(n,)``; NaN rows are dropped).
        train_sizes: Training-set sizes; each must leave at least 2 test architectures.
        seeds: Number of seeds (``0..seeds-1``) or explicit seeds.
        on_record: Called after each fit (progress bars).

    Raises:
        ValueError: A train size is < 2 or leaves < 2 test architectures.
    """
    target, keep = _finite_rows(y, "evaluate")
    if len(keep) != len(target):
        X = X.take(keep)
        target = target[keep]
    n = len(target)
    for size in train_sizes:
        if size < 2 or size > n - 2:
            raise ValueError(f"train size {size} must be in [2, {n - 2}] for {n} architectures")
    records = []
    for seed in _seeds(seeds):
        perm = np.random.default_rng(seed).permutation(n)
        for size in train_sizes:
            train, test = perm[:size], perm[size:]
            model = _fresh(predictor, seed)
            t0 = time.perf_counter()
            model.fit(X.take(train), target[train])
            t1 = time.perf_counter()
            pred = model.predict(X.take(test))
            t2 = time.perf_counter()
            tau, rho, top = _score(pred, target[test])
            rec = EvalRecord(size, seed, tau, rho, top, t1 - t0, t2 - t1, size, len(test))
            records.append(rec)
            if on_record is not None:
                on_record(rec)
    return records


def _percentile(y: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return rankdata(y) / len(y)


def align_features(matrices: Sequence[FeatureMatrix]) -> list[FeatureMatrix]:
    """The columns every matrix has, in the first matrix's order.

    Raises:
        FeatureSetError: No shared column.
    """
    common = [n for n in matrices[0].names if all(n in set(m.names) for m in matrices[1:])]
    if not common:
        raise FeatureSetError(
            "the spaces share no feature column; use universal parts (onnx, onnx-core, zc)"
        )
    dropped = {n for m in matrices for n in m.names} - set(common)
    if dropped:
        logger.info(
            "cross-space features: %d shared columns, %d dropped", len(common), len(dropped)
        )
    return [m.select(common) for m in matrices]


def evaluate_transfer(
    predictor: Predictor,
    sources: Sequence[tuple[FeatureMatrix, Any]],
    target: tuple[FeatureMatrix, Any],
    *,
    target_sizes: Sequence[int] = (0, 20, 50),
    seeds: int | Iterable[int] = 20,
    target_weight: float = 1.0,
    target_only: bool = True,
    on_record: Callable[[EvalRecord], None] | None = None,
) -> list[EvalRecord]:
    """Cross-space evaluation: fit on ``sources`` (+ ``k`` target samples), rank the
    rest of the target.

    Features are reduced to the columns all spaces share; targets become percentile
    ranks within each space (and within the ``k`` target samples). ``k = 0`` is
    zero-shot (one fit per seed, tested on every target architecture). For ``k > 0``
    the target samples get weight ``target_weight`` relative to source rows, and with
    ``target_only`` the same ``k`` samples are also fitted alone (``mode="target-only"``)
    so the benefit of the sources is visible.
    """
    if not sources:
        raise ValueError("evaluate_transfer needs at least one source space")
    Xs_all, ys_all, Xt, yt = _transfer_data(sources, target)
    n_src = len(ys_all)
    n = len(yt)
    for k in target_sizes:
        if k < 0 or k > n - 2:
            raise ValueError(f"target size {k} must be in [0, {n - 2}] for {n} architectures")
    records = []

    def fit_and_score(
        model: Predictor,
        Xf: FeatureMatrix,
        yf: np.ndarray,
        w: np.ndarray | None,
        test: np.ndarray,
        k: int,
        seed: int,
        mode: str,
    ) -> None:
        rec = _fit_and_score(model, Xf, yf, w, Xt.take(test), yt[test], k, seed, mode)
        records.append(rec)
        if on_record is not None:
            on_record(rec)

    for seed in _seeds(seeds):
        perm = np.random.default_rng(seed).permutation(n)
        for k in target_sizes:
            train, test = perm[:k], perm[k:]
            if k == 0:
                fit_and_score(
                    _fresh(predictor, seed), Xs_all, ys_all, None, test, 0, seed, "transfer"
                )
                continue
            yk = _percentile(yt[train])
            Xf = FeatureMatrix.vstack([Xs_all, Xt.take(train)])
            yf = np.concatenate([ys_all, yk])
            w = np.concatenate([np.ones(n_src), np.full(k, float(target_weight))])
            fit_and_score(_fresh(predictor, seed), Xf, yf, w, test, k, seed, "transfer")
            if target_only and k >= 2:
                fit_and_score(
                    _fresh(predictor, seed), Xt.take(train), yk, None, test, k, seed, "target-only"
                )
    return records


def _transfer_data(
    sources: Sequence[tuple[FeatureMatrix, Any]], target: tuple[FeatureMatrix, Any]
) -> tuple[FeatureMatrix, np.ndarray, FeatureMatrix, np.ndarray]:
    """``(source X, source y, target X, target y)``: shared columns, finite rows, source
    targets as percentile ranks within each space."""
    aligned = align_features([s[0] for s in sources] + [target[0]])
    src_X: list[FeatureMatrix] = []
    src_y: list[np.ndarray] = []
    for (_, y), Xs in zip(sources, aligned[:-1]):
        ys, keep = _finite_rows(y, "source")
        src_X.append(Xs.take(keep))
        src_y.append(_percentile(ys[keep]))
    Xt = aligned[-1]
    yt, keep = _finite_rows(target[1], "target")
    return FeatureMatrix.vstack(src_X), np.concatenate(src_y), Xt.take(keep), yt[keep]


def _fit_and_score(
    model: Predictor,
    Xf: FeatureMatrix,
    yf: np.ndarray,
    w: np.ndarray | None,
    X_test: FeatureMatrix,
    y_test: np.ndarray,
    k: int,
    seed: int,
    mode: str,
) -> EvalRecord:
    """Fit ``model`` on ``(Xf, yf, w)`` and score its ranking of the test rows."""
    t0 = time.perf_counter()
    model.fit(Xf, yf, w)
    t1 = time.perf_counter()
    pred = model.predict(X_test)
    t2 = time.perf_counter()
    tau, rho, top = _score(pred, y_test)
    return EvalRecord(k, seed, tau, rho, top, t1 - t0, t2 - t1, len(yf), len(y_test), mode)


def _stats(values: list[float]) -> dict[str, float]:
    finite = [v for v in values if not math.isnan(v)]
    if not finite:
        return {"mean": math.nan, "std": math.nan}
    return {
        "mean": statistics.fmean(finite),
        "std": statistics.pstdev(finite) if len(finite) > 1 else 0.0,
    }


def summarize(records: Sequence[EvalRecord]) -> list[dict[str, Any]]:
    """Mean and standard deviation over seeds per (mode, train size):
    ``{"train_size", "mode", "n_seeds", "n_test", "kendall": {"mean", "std"},
    "spearman": {...}, "top10_precision": {...}, "fit_seconds", "predict_seconds"}``
    (seconds are means)."""
    groups: dict[tuple[str, int], list[EvalRecord]] = {}
    for r in records:
        groups.setdefault((r.mode, r.train_size), []).append(r)
    out = []
    for (mode, size), rs in groups.items():
        out.append(
            {
                "train_size": size,
                "mode": mode,
                "n_seeds": len(rs),
                "n_train": int(statistics.fmean(r.n_train for r in rs)),
                "n_test": int(statistics.fmean(r.n_test for r in rs)),
                "kendall": _stats([r.kendall for r in rs]),
                "spearman": _stats([r.spearman for r in rs]),
                "top10_precision": _stats([r.top10_precision for r in rs]),
                "fit_seconds": statistics.fmean(r.fit_seconds for r in rs),
                "predict_seconds": statistics.fmean(r.predict_seconds for r in rs),
            }
        )
    return out
