from __future__ import annotations

import numpy as np
import pytest

from nasrank.proxies.ensemble import normalised_ranks
from nasrank.search import BenchmarkObjective, PredictorBO, benchmark_scores, make_pool
from nasrank.search._pareto import nondominated_order
from nasrank.testing.toy import SPACE, RidgeEnsemble, ToyObjective, toy_benchmark


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
    assert result.info["init"] == "pareto"


def test_bo_open_space_mutations_reach_optimum():
    objective = ToyObjective()
    result = _bo(encoding="onehot").run(objective, 80)
    assert result.queries_to(objective.optimum) is not None
    assert len(set(objective.calls)) == len(objective.calls)


def test_bo_is_deterministic_and_seeded(setup):
    bench, pool = setup

    def once(seed):
        return [
            e.arch
            for e in _bo(pool, seed, init="random").run(BenchmarkObjective(bench), 14).evaluations
        ]

    assert once(1) == once(1)
    assert once(1) != once(2)


def test_bo_validates_options(setup):
    _, pool = setup
    with pytest.raises(ValueError, match="acquisition"):
        _bo(pool, acquisition="pi")
    with pytest.raises(ValueError, match="proxy scores"):
        PredictorBO(SPACE, init="proxy", predictor=RidgeEnsemble)
    with pytest.raises(ValueError, match="proxy scores"):
        PredictorBO(SPACE, init="pareto", predictor=RidgeEnsemble)
    with pytest.raises(ValueError, match="unknown init"):
        _bo(pool, init="sobol")


def _dominated(x: np.ndarray, i: int, among: list[int]) -> bool:
    return any(np.all(x[j] >= x[i]) and np.any(x[j] > x[i]) for j in among)


def test_bo_pareto_warmup_queries_the_proxy_front_first(setup):
    bench, pool = setup
    bo = _bo(pool, n_init=8)
    result = bo.run(BenchmarkObjective(bench), 8)
    warm = [pool.index(e.arch) for e in result.evaluations]
    assert warm == list(nondominated_order(pool.scores)[:8])
    # none of them is dominated by a candidate that was left out of the warm-up
    left = [i for i in range(len(pool)) if i not in warm]
    assert not any(_dominated(pool.scores, i, left) for i in warm)
    # inside the first front, the order is the mean normalised rank
    key = np.mean([normalised_ranks(c) for c in pool.scores.T], axis=0)
    assert all(key[a] >= key[b] for a, b in zip(warm, warm[1:]))


def test_bo_proxy_warmup_is_mean_rank_order(setup):
    bench, pool = setup
    result = _bo(pool, n_init=5, init="proxy").run(BenchmarkObjective(bench), 5)
    key = np.mean([normalised_ranks(c) for c in pool.scores.T], axis=0)
    assert [pool.index(e.arch) for e in result.evaluations] == list(np.argsort(-key)[:5])
    assert result.info["init"] == "proxy"


def test_nondominated_order_sorts_fronts_like_brute_force():
    rng = np.random.default_rng(0)
    for t in range(10):
        x = rng.integers(0, 4, size=(50, 3)).astype(float)
        if t % 2:
            x[rng.integers(50), rng.integers(3)] = np.nan  # NaN counts as the worst value
        order = list(nondominated_order(x))
        assert sorted(order) == list(range(50))
        filled = np.where(np.isnan(x), -np.inf, x)
        layer, left, k = np.full(50, -1), set(range(50)), 0
        while left:
            idx = sorted(left)
            front = [i for i in idx if not _dominated(filled, i, idx)]
            layer[front] = k
            left -= set(front)
            k += 1
        assert all(layer[a] <= layer[b] for a, b in zip(order, order[1:]))
        assert list(nondominated_order(x, limit=7)) == order[:7]
