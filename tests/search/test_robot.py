from __future__ import annotations

import numpy as np
import optuna
import pytest

from nasrank.search import BenchmarkObjective, RoBoT, benchmark_scores, make_pool, standardise
from tests.search._toy import SPACE, toy_benchmark


@pytest.fixture(scope="module")
def setup():
    bench = toy_benchmark()
    pool = benchmark_scores(make_pool(SPACE, "benchmark", benchmark=bench), bench)
    return bench, pool


def test_robot_uses_optuna_gp_sampler_over_weights(setup):
    bench, pool = setup
    robot = RoBoT(SPACE, pool=pool, seed=0, bo_queries=3, patience=2, n_startup_trials=1)
    result = robot.run(BenchmarkObjective(bench), 7)
    assert isinstance(robot.sampler, optuna.samplers.GPSampler)
    assert robot.study.sampler is robot.sampler
    trials = robot.study.trials
    assert len(trials) == robot.n_trials >= 3  # free trials (repeated argmax) included
    assert trials[0].params == {f"w{j}": 1.0 for j in range(3)}  # equal weights first
    assert all(-1.0 <= v <= 1.0 for t in trials for v in t.params.values())
    # each BO query is the pool's argmax under its trial's weights
    z = pool.standardised()
    bo_archs = [e.arch for e in result.evaluations[: result.info["bo_queries"]]]
    argmaxes = {pool.archs[int(np.argmax(z @ np.array(list(t.params.values()))))] for t in trials}
    assert set(bo_archs) <= argmaxes
    # then exploitation walks down the best weights' ranking
    ranking = [pool.archs[i] for i in robot.ranking()]
    rest = [e.arch for e in result.evaluations[len(bo_archs):]]
    assert rest == [a for a in ranking if a not in bo_archs][: len(rest)]
    assert set(result.info["best_weights"]) == {"synflow", "params", "nwot"}


def test_robot_repeated_argmax_costs_no_query(setup):
    bench, pool = setup
    objective = BenchmarkObjective(bench)
    robot = RoBoT(SPACE, pool=pool, seed=1, bo_queries=2, patience=3, n_startup_trials=1)
    result = robot.run(objective, 4)
    assert objective.queries == result.queries == 4
    assert robot.n_trials >= result.info["bo_queries"]


def test_standardise_is_robust_to_sentinels_and_infinities():
    col = np.array([1.0, 2.0, 3.0, -1e8, -np.inf, np.nan, 1e30])
    for transform in ("gauss", "rank", "zscore"):
        z = standardise(col[:, None], transform)[:, 0]
        assert np.all(np.isfinite(z))
        assert z[5] == 0.0  # missing -> the mean
        assert np.argmax(z) == 6 and z[4] == z.min()
        if transform != "zscore":  # raw z-scores squash 1, 2, 3 next to 1e30
            assert z[0] < z[1] < z[2]
    with pytest.raises(ValueError, match="unknown transform"):
        standardise(col[:, None], "minmax")
