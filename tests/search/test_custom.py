from __future__ import annotations

import json

import numpy as np
import optuna
import pytest
import torch
from torch import nn

import nasrank.search
from nasrank.data import from_tensors
from nasrank.errors import NasrankError
from nasrank.search import CustomSearchResult


def build(trial) -> nn.Module:
    width = trial.suggest_categorical("width", [2, 4, 8])
    depth = trial.suggest_int("depth", 1, 2)
    lr_like = trial.suggest_float("scale", 0.5, 2.0, log=True)
    layers: list[nn.Module] = [nn.Conv2d(3, width, 3, padding=1), nn.ReLU()]
    for _ in range(depth - 1):
        layers += [nn.Conv2d(width, width, 3, padding=1), nn.ReLU()]
    net = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, 3))
    with torch.no_grad():
        net[-1].weight.mul_(lr_like)
    return net


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    y = rng.integers(3, size=60)
    x = rng.normal(size=(60, 3, 8, 8)).astype(np.float32) + y[:, None, None, None]
    return from_tensors(x, y)


@pytest.mark.parametrize("method", ["robot", "bo"])
def test_custom_samples_scores_ranks_and_trains(data, method):
    from nasrank.testing.toy import RidgeEnsemble

    stages = []
    options = (
        {"bo_queries": 1, "patience": 1} if method == "robot" else {"predictor": RidgeEnsemble}
    )
    result = nasrank.search.custom(
        build,
        data,
        budget=2,
        top_k=2 if method == "robot" else 1,
        proxies=["params"],
        method=method,
        n_candidates=4,
        epochs=1,
        test_data=data,
        searcher_options=options,
        progress=lambda stage, done, total: stages.append(stage),
    )
    assert isinstance(result, CustomSearchResult)
    assert len(result.ranking) == 4 == len({c.arch for c in result.ranking})
    for cand in result.ranking:
        assert json.loads(cand.arch) == cand.params  # id = canonical JSON of the params
        assert set(cand.scores) == {"params"}
    evaluated = [c for c in result.ranking if c.value is not None]
    assert len(evaluated) == result.search.queries == 2
    assert result.ranking[: len(evaluated)] == tuple(evaluated)  # evaluated ones first
    assert [t.rank for t in result.trained] == ([1, 2] if method == "robot" else [1])
    assert all(0 <= t.accuracy <= 100 for t in result.trained)
    assert result.best in result.trained
    # a params dict rebuilds the candidate through optuna's FixedTrial
    model = build(optuna.trial.FixedTrial(result.trained[0].params))
    assert isinstance(model, nn.Module)
    assert {"sampling", "scoring", "searching", "training"} <= set(stages)
    assert json.dumps(result.to_dict())


def test_custom_rejects_bad_arguments(data):
    with pytest.raises(NasrankError, match="method"):
        nasrank.search.custom(build, data, method="re")

    def constant(trial):
        return nn.Linear(3, 3)

    with pytest.raises(NasrankError, match="at least 2"):
        nasrank.search.custom(constant, data, n_candidates=3)
