"""Every registered predictor passes the shipped predictor contract
(nasrank.testing.predictors); then predictor-specific behaviour."""

from __future__ import annotations

import numpy as np
import pytest

from nasrank.errors import NasrankError
from nasrank.metrics import kendall
from nasrank.predictors import (
    PREDICTORS,
    FeatureMismatchError,
    GBDTPredictor,
    NotFittedError,
    get_predictor,
)
from nasrank.testing import PREDICTOR_CHECKS, parametrize_checks, parametrize_registry

FAST = {
    "gbdt": {"n_estimators": 60},
    "gnn": {"epochs": 30, "hidden": 16, "layers": 2, "batch_size": 16},
    "ensemble": {"n_members": 3, "base": GBDTPredictor(n_estimators=40)},
}


@parametrize_registry(PREDICTORS)
@parametrize_checks(PREDICTOR_CHECKS)
def test_predictor_contract(name, check, request, monotone_problem):
    data = request.getfixturevalue("graph_problem") if name == "gnn" else monotone_problem
    check(lambda: get_predictor(name, **FAST[name]), data)


def test_predictor_errors_are_nasrank_errors_of_the_natural_builtin():
    assert issubclass(NotFittedError, NasrankError) and issubclass(NotFittedError, RuntimeError)
    assert issubclass(FeatureMismatchError, NasrankError)
    assert issubclass(FeatureMismatchError, ValueError)


def test_the_contract_catches_a_predictor_that_ignores_its_features(monotone_problem):
    from nasrank.testing import check_predictor

    class Constant(GBDTPredictor):
        def predict(self, X):
            return np.zeros(len(super().predict(X)))

    with pytest.raises(AssertionError, match="Kendall tau"):
        check_predictor(lambda: Constant(n_estimators=5), monotone_problem)


def test_gbdt_is_deterministic_and_pairwise_objective_works(monotone_problem):
    X, y = monotone_problem
    a = GBDTPredictor(n_estimators=50, random_state=3).fit(X, y).predict(X)
    b = GBDTPredictor(n_estimators=50, random_state=3).fit(X, y).predict(X)
    assert np.array_equal(a, b)
    pw = GBDTPredictor(n_estimators=80, objective="pairwise").fit(X.take(np.arange(60)), y[:60])
    assert kendall(pw.predict(X.take(np.arange(60, 120))), y[60:]) > 0.5
    raw = GBDTPredictor(n_estimators=50, target="raw", objective="pairwise").fit(X, y)
    assert np.isfinite(raw.predict(X)).all()
    with pytest.raises(ValueError, match="objective"):
        GBDTPredictor(objective="lambdarank").fit(X, y)
    with pytest.raises(ValueError, match="NaN"):
        GBDTPredictor().fit(X, np.where(np.arange(len(y)) == 3, np.nan, y))


def test_rank_target_maps_back_monotonically():
    from nasrank.predictors.gbdt import RankTarget

    y = np.array([3.0, 1.0, 2.0, 2.0, 10.0])
    t = RankTarget(y)
    q = np.linspace(-0.5, 1.5, 41)
    back = t.inverse(q)
    assert np.all(np.diff(back) >= 0) and back[0] < 1.0 and back[-1] > 10.0
    assert np.allclose(t.inverse(t.forward()), y)


def test_ensemble_uncertainty_and_heterogeneous_members(monotone_problem):
    from nasrank.predictors import EnsemblePredictor

    X, y = monotone_problem
    ens = EnsemblePredictor(base=GBDTPredictor(n_estimators=40), n_members=4).fit(X, y)
    mean, std = ens.predict_dist(X)
    assert len(ens.members_) == 4 and std.mean() > 0
    assert np.allclose(mean, ens.predict(X))
    mixed = EnsemblePredictor(
        base=[GBDTPredictor(n_estimators=30), GBDTPredictor(n_estimators=30, objective="pairwise")],
        n_members=2, bootstrap=False,
    ).fit(X, y)
    assert len(mixed.members_) == 4
    assert "base__n_estimators" in EnsemblePredictor(base=GBDTPredictor()).get_params()


def test_gnn_requires_graphs(monotone_problem):
    from nasrank.predictors import GNNPredictor

    X, y = monotone_problem
    with pytest.raises(ValueError, match="graphs"):
        GNNPredictor(epochs=1).fit(X, y)


def test_gnn_uses_only_selected_vector_columns(graph_problem):
    from nasrank.predictors import GNNPredictor

    X, y = graph_problem
    p = GNNPredictor(epochs=2, hidden=8, layers=1, vector_prefixes=("zc:",)).fit(X, y)
    assert p.predict(X).shape == (len(y),)


def test_ensemble_accepts_dict_specs(monotone_problem):
    from nasrank.predictors import EnsemblePredictor

    X, y = monotone_problem
    ens = EnsemblePredictor(
        base=[{"name": "gbdt", "n_estimators": 20, "objective": "pairwise"}], n_members=2
    ).fit(X, y)
    assert ens.members_[0].objective == "pairwise" and ens.members_[0].n_estimators == 20
    with pytest.raises(ValueError, match="name"):
        EnsemblePredictor(base=[{"n_estimators": 3}]).fit(X, y)
