"""The predictor contract (scikit-learn's estimator conventions, see
:mod:`nasrank.predictors.base`), checked on small synthetic problems.

A predictor passes when ``fit`` returns ``self``; ``predict`` and ``predict_dist`` give
finite ``(n,)`` arrays (``std >= 0``) that rank held-out architectures far better than
chance; an unfitted predictor refuses to predict (:class:`NotFittedError`); features of
another width or other names than ``fit`` saw are refused (:class:`FeatureMismatchError`);
and ``get_params`` / ``set_params`` / ``clone`` round-trip.

Problems: :func:`monotone_problem` (feature vectors) for every predictor,
:func:`graph_problem` (PyG graphs; needs ``torch_geometric``) for graph predictors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from nasrank.encodings import OpGraph, OpNode, opgraph_to_data
from nasrank.metrics import kendall
from nasrank.predictors.base import FeatureMismatchError, NotFittedError, Predictor
from nasrank.predictors.featurize import FeatureMatrix
from nasrank.predictors.registry import get_predictor

__all__ = [
    "PREDICTOR_CHECKS",
    "Problem",
    "as_factory",
    "check_predictor",
    "check_fit_predict",
    "check_unfitted_refused",
    "check_mismatched_features_refused",
    "check_params_round_trip",
    "graph_problem",
    "monotone_problem",
]

#: Features and targets of a synthetic problem.
Problem = tuple[FeatureMatrix, np.ndarray]
#: Something that makes a fresh unfitted predictor.
PredictorFactory = Callable[[], Any]


def monotone_problem() -> Problem:
    """120 rows whose target is a noisy monotone function of 3 of 6 features."""
    rng = np.random.default_rng(0)
    values = rng.normal(size=(120, 6))
    y = 2 * values[:, 0] + np.tanh(values[:, 1]) - 0.5 * values[:, 2] ** 3
    y = y + 0.1 * rng.normal(size=120)
    names = tuple(f"f{i}" for i in range(6))
    return FeatureMatrix(values, names), y


def graph_problem() -> Problem:
    """80 chains of ops as PyG graphs; the target grows with the number of Conv nodes.

    Raises:
        ImportError: ``torch_geometric`` is not installed.
    """
    # imported here: the encodings pull in torch and torch_geometric
    rng = np.random.default_rng(1)
    graphs, ys, extra = [], [], []
    for _ in range(80):
        ops = rng.choice(["Conv", "Relu", "AveragePool", "Add"], size=int(rng.integers(2, 8)))
        nodes = (
            (OpNode("Input"),)
            + tuple(
                OpNode(
                    str(op),
                    kernel=(3, 3) if op in ("Conv", "AveragePool") else (),
                    params=100 if op == "Conv" else 0,
                )
                for op in ops
            )
            + (OpNode("Output"),)
        )
        g = OpGraph(nodes, tuple((i, i + 1) for i in range(len(nodes) - 1)))
        graphs.append(opgraph_to_data(g))
        ys.append(float((ops == "Conv").sum()) + 0.1 * rng.normal())
        extra.append([rng.normal()])
    return FeatureMatrix(np.array(extra), ("noise",), graphs=tuple(graphs)), np.array(ys)


def _label(p: Any) -> str:
    return type(p).__name__


def check_fit_predict(make: PredictorFactory, data: Problem, n_train: int = 60) -> None:
    """Fit on the first ``n_train`` rows; held-out predictions are finite, shaped, and
    rank with Kendall's tau > 0.4 (a random ranking scores about 0)."""
    X, y = data
    p = make()
    assert p.fit(X.take(np.arange(n_train)), y[:n_train]) is p, f"{_label(p)}.fit must return self"
    test = X.take(np.arange(n_train, len(y)))
    pred = p.predict(test)
    n = len(y) - n_train
    assert pred.shape == (n,), f"{_label(p)}.predict gave shape {pred.shape}, expected ({n},)"
    assert np.all(np.isfinite(pred)), f"{_label(p)}.predict gave non-finite values"
    mean, std = p.predict_dist(test)
    assert mean.shape == std.shape == pred.shape, (
        f"{_label(p)}.predict_dist gave shapes {mean.shape}, {std.shape}; expected ({n},)"
    )
    assert np.all(std >= 0), f"{_label(p)}.predict_dist gave a negative std"
    tau = kendall(pred, y[n_train:])
    assert tau > 0.4, f"{_label(p)} ranks held-out rows with Kendall tau {tau:.3f} <= 0.4"


def _raises(exc: type[Exception], match: str, fn: Callable[[], Any], what: str) -> None:
    try:
        fn()
    except exc as err:
        assert match in str(err), f"{what}: message {str(err)!r} lacks {match!r}"
    else:
        raise AssertionError(f"{what} did not raise {exc.__name__}")


def check_unfitted_refused(make: PredictorFactory, data: Problem) -> None:
    """``predict`` / ``predict_dist`` before ``fit`` raise :class:`NotFittedError`."""
    X, _ = data
    p = make()
    _raises(NotFittedError, "not fitted", lambda: p.predict(X), f"unfitted {_label(p)}.predict")
    _raises(NotFittedError, "", lambda: p.predict_dist(X), f"unfitted {_label(p)}.predict_dist")


def check_mismatched_features_refused(make: PredictorFactory, data: Problem) -> None:
    """Features wider than, or named otherwise than, at ``fit`` raise
    :class:`FeatureMismatchError`."""
    X, y = data
    p = make().fit(X, y)
    wider = FeatureMatrix(
        np.hstack([X.values, X.values[:, :1]]), X.names + ("extra",), graphs=X.graphs
    )
    _raises(
        FeatureMismatchError,
        "features",
        lambda: p.predict(wider),
        f"{_label(p)}.predict with an extra column",
    )
    renamed = FeatureMatrix(X.values, ("other",) + X.names[1:], graphs=X.graphs)
    _raises(
        FeatureMismatchError,
        "column 0",
        lambda: p.predict(renamed),
        f"{_label(p)}.predict with a renamed column",
    )


def check_params_round_trip(make: PredictorFactory, data: Problem | None = None) -> None:
    """``type(p)(**p.get_params(deep=False))`` equals ``p``; ``clone`` is unfitted and
    equal; ``set_params`` sets ``random_state`` and refuses unknown names."""
    p = make()
    params = p.get_params(deep=False)
    q = type(p)(**params)
    assert q.get_params(deep=False) == params, f"{_label(p)}: get_params does not round-trip"
    assert repr(q) == repr(p), f"{_label(p)}: rebuilt from get_params, repr differs"
    clone = p.clone()
    assert clone is not p and not clone.is_fitted and repr(clone) == repr(p), (
        f"{_label(p)}.clone must be a new, unfitted, equal predictor"
    )
    assert p.set_params(random_state=7) is p, f"{_label(p)}.set_params must return self"
    assert p.get_params()["random_state"] == 7, f"{_label(p)}: set_params(random_state=7) lost"
    _raises(
        ValueError,
        "invalid parameter",
        lambda: p.set_params(not_a_parameter=1),
        f"{_label(p)}.set_params(not_a_parameter=1)",
    )


#: Every check of the contract, in the order :func:`check_predictor` runs them.
PREDICTOR_CHECKS: tuple[Callable[[PredictorFactory, Problem], None], ...] = (
    check_params_round_trip,
    check_unfitted_refused,
    check_fit_predict,
    check_mismatched_features_refused,
)


def as_factory(predictor: Any) -> PredictorFactory:
    """A factory of fresh unfitted predictors from a name, a class, an instance (cloned)
    or a zero-argument factory."""
    if isinstance(predictor, Predictor):
        return predictor.clone
    if isinstance(predictor, str) or (
        isinstance(predictor, type) and issubclass(predictor, Predictor)
    ):
        return lambda: get_predictor(predictor)
    return predictor


def check_predictor(predictor: Any, data: Problem | None = None) -> None:
    """Run the whole predictor contract.

    Args:
        predictor: A registered name, a :class:`Predictor` class or instance (cloned for
            every check), or a zero-argument factory of unfitted predictors (use it to
            pass fast settings: ``lambda: GBDTPredictor(n_estimators=60)``).
        data: The problem (default :func:`monotone_problem`; graph predictors need
            :func:`graph_problem`).

    Raises:
        AssertionError: On the first violated rule, naming the predictor.
    """
    make = as_factory(predictor)
    problem = monotone_problem() if data is None else data
    for check in PREDICTOR_CHECKS:
        check(make, problem)
