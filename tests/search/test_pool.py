from __future__ import annotations

import math

import numpy as np
import pytest

from nasrank.benchmarks import Benchmark
from nasrank.errors import NasrankError, UnknownNameError
from nasrank.search import CandidatePool, ProxyCache, benchmark_scores, make_pool, score_pool
from tests.search._toy import SPACE, toy_benchmark


def test_pool_kinds():
    bench = toy_benchmark()
    assert len(make_pool(SPACE, "benchmark", benchmark=bench)) == len(bench)
    sampled = make_pool(SPACE, 20, benchmark=bench, seed=3)
    assert len(sampled) == 20 and all(a in bench for a in sampled.archs)
    assert sampled.archs == make_pool(SPACE, 20, benchmark=bench, seed=3).archs
    assert sampled.archs != make_pool(SPACE, 20, benchmark=bench, seed=4).archs
    open_space = make_pool(SPACE, 7, seed=0)
    assert len(set(open_space.archs)) == 7
    assert len(make_pool(SPACE, "all")) == 15625
    with pytest.raises(NasrankError, match="lacks"):
        make_pool(SPACE, "all", benchmark=bench)
    with pytest.raises(NasrankError, match="unknown pool"):
        make_pool(SPACE, "most")


def test_benchmark_scores_take_only_proxy_columns():
    bench = toy_benchmark()
    pool = benchmark_scores(make_pool(SPACE, 10, benchmark=bench), bench)
    assert pool.proxies == ("synflow", "params", "nwot")  # never the ground truth "acc"
    row = pool.index(pool.archs[0])
    assert pool.scores[row, 0] == bench.query(pool.archs[0], "synflow")
    with pytest.raises(UnknownNameError, match="stores no score 'jacov'"):
        benchmark_scores(pool, bench, ["jacov"])


def test_score_pool_uses_engine_and_disk_cache(tmp_path, monkeypatch):
    import nasrank.proxies

    pool = make_pool(SPACE, 2, seed=0)
    cache = ProxyCache(tmp_path)
    seen = []
    scored = score_pool(
        pool, ["params"], None, cache=cache, progress=lambda d, t: seen.append((d, t))
    )
    assert scored.scores.shape == (2, 1) and np.all(np.isfinite(scored.scores))
    assert seen == [(1, 2), (2, 2)]
    expected = nasrank.proxies.score(SPACE.build(pool.archs[0]), None, ["params"])["params"]
    assert scored.scores[0, 0] == pytest.approx(expected)

    def boom(*args, **kwargs):
        raise AssertionError("cache miss")

    monkeypatch.setattr(nasrank.proxies, "score", boom)
    again = score_pool(pool, ["params"], None, cache=cache)
    np.testing.assert_array_equal(again.scores, scored.scores)


def test_pool_validation():
    with pytest.raises(ValueError, match="duplicate"):
        CandidatePool(None, ["a", "a"])
    with pytest.raises(ValueError, match="shape"):
        CandidatePool(None, ["a", "b"], np.zeros((3, 1)), ("p",))
    bench = Benchmark(name="t", space=None, archs=["a", "b"], values={"acc": [1, 2]},
                      default_metric="acc")
    with pytest.raises(NasrankError, match="stores no proxy scores"):
        benchmark_scores(CandidatePool(None, ["a", "b"]), bench)
    assert math.isnan(CandidatePool(None, ["a"], np.array([[np.nan]]), ("p",)).scores[0, 0])
