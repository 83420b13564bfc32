from __future__ import annotations

import numpy as np
import optuna
import pytest

from nasrank.search import BenchmarkObjective, RoBoT, benchmark_scores, make_pool, standardise
from nasrank.testing.toy import SPACE, toy_benchmark


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
    assert all(0.0 <= v <= 1.0 for t in trials for v in t.params.values())  # non-negative
    # each BO query is the pool's argmax under its trial's weights
    z = pool.standardised()
    bo_archs = [e.arch for e in result.evaluations[: result.info["bo_queries"]]]
    argmaxes = {pool.archs[int(np.argmax(z @ np.array(list(t.params.values()))))] for t in trials}
    assert set(bo_archs) <= argmaxes
    # then exploitation walks down the best weights' ranking
    ranking = [pool.archs[i] for i in robot.ranking()]
    rest = [e.arch for e in result.evaluations[len(bo_archs) :]]
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


def test_robot_first_trial_is_the_equal_weight_ensemble(setup):
    bench, pool = setup
    result = RoBoT(SPACE, pool=pool, seed=3).run(BenchmarkObjective(bench), 1)
    # the first query is the argmax of the mean standardised score
    assert result.evaluations[0].arch == pool.archs[int(np.argmax(pool.standardised().mean(1)))]
    robot = RoBoT(SPACE, pool=pool, seed=3, weight_bounds=(-1.0, 2.0))
    robot.run(BenchmarkObjective(bench), 3)
    assert robot.study.trials[0].params == {f"w{j}": 2.0 for j in range(3)}
    assert any(v < 0 for t in robot.study.trials for v in t.params.values())


def test_robot_bo_phase_is_a_budget_of_trials_then_exploitation(setup):
    bench, pool = setup
    objective = BenchmarkObjective(bench)
    robot = RoBoT(SPACE, pool=pool, seed=0, bo_trials=6, n_startup_trials=4)
    result = robot.run(objective, 12)
    assert robot.n_trials == len(robot.study.trials) == 6  # free trials count as trials
    bo = result.info["bo_queries"]
    assert 1 <= bo <= 6 and objective.queries == result.queries == 12  # unique archs only
    ranking = [pool.archs[i] for i in robot.ranking()]
    done = {e.arch for e in result.evaluations[:bo]}
    assert [e.arch for e in result.evaluations[bo:]] == [a for a in ranking if a not in done][
        : 12 - bo
    ]


def test_robot_is_deterministic_per_seed(setup):
    bench, pool = setup

    def once(seed):
        robot = RoBoT(SPACE, pool=pool, seed=seed, bo_trials=8, n_startup_trials=3)
        return [e.arch for e in robot.run(BenchmarkObjective(bench), 10).evaluations]

    assert once(5) == once(5)


def test_robot_validates_options(setup):
    _, pool = setup
    for bad in ((1.0, 0.0), (-1.0, 0.0), (0.0, float("inf"))):
        with pytest.raises(ValueError, match="weight_bounds"):
            RoBoT(SPACE, pool=pool, weight_bounds=bad)
    with pytest.raises(ValueError, match="bo_trials"):
        RoBoT(SPACE, pool=pool, bo_trials=-1)
