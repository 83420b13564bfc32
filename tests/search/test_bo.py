from __future__ import annotations

import pytest

from nasrank.search import BenchmarkObjective, PredictorBO, benchmark_scores, make_pool
from tests.search._toy import SPACE, RidgeEnsemble, ToyObjective, toy_benchmark


@pytest.fixture(scope="module")
def setup():
    bench = toy_benchmark()
    pool = benchmark_scores(make_pool(SPACE, "benchmark", benchmark=bench), bench)
    return bench, pool


def _bo(pool=None, seed=0, **kw):
    return PredictorBO(SPACE, pool=pool, seed=seed, predictor=RidgeEnsemble, **kw)


@pytest.mark.parametrize("acquisition", ["its", "ei", "ucb"])
def test_bo_finds_pool_optimum_fast(setup, acquisition):
    bench, pool = setup
    result = _bo(pool, acquisition=acquisition).run(BenchmarkObjective(bench), 40)
    q = result.queries_to(bench.optimum()[1])
    assert q is not None and q <= 30
    assert result.info["proxy_features"] == ["synflow", "params", "nwot"]
    assert result.info["init"] == "proxy"


def test_bo_open_space_mutations_reach_optimum():
    objective = ToyObjective()
    result = _bo(encoding="onehot").run(objective, 80)
    assert result.queries_to(objective.optimum) is not None
    assert len(set(objective.calls)) == len(objective.calls)


def test_bo_is_deterministic_and_seeded(setup):
    bench, pool = setup

    def once(seed):
        return [e.arch for e in _bo(pool, seed, init="random").run(BenchmarkObjective(bench), 14).evaluations]

    assert once(1) == once(1)
    assert once(1) != once(2)


def test_bo_validates_options(setup):
    _, pool = setup
    with pytest.raises(ValueError, match="acquisition"):
        _bo(pool, acquisition="pi")
    with pytest.raises(ValueError, match="proxy scores"):
        PredictorBO(SPACE, init="proxy", predictor=RidgeEnsemble)
