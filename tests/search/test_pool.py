from __future__ import annotations

import math

import numpy as np
import pytest

from nasrank.benchmarks import Benchmark
from nasrank.errors import NasrankError, NotInTable, UnknownNameError
from nasrank.search import (
    CandidatePool,
    benchmark_scores,
    make_pool,
    score_pool,
    subsample,
    table_scores,
)
from nasrank.search.pool import default_store_path
from nasrank.store import ScoreStore, data_key, score_arch
from nasrank.tables import ProxyTable, load_table
from nasrank.testing.toy import SPACE, toy_benchmark


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


def test_score_pool_seeds_each_arch_and_goes_through_the_store(tmp_path, monkeypatch):
    import nasrank.store.service

    pool = make_pool(SPACE, 3, seed=0)
    store = ScoreStore(tmp_path / "s.sqlite")
    seen = []
    scored = score_pool(
        pool, ["params", "l2_norm"], None, store=store, progress=lambda d, t: seen.append((d, t))
    )
    assert scored.scores.shape == (3, 2) and np.all(np.isfinite(scored.scores))
    assert seen == [(1, 3), (2, 3), (3, 3)]
    # the same scores score-space stores: the model is initialised from arch_seed
    want = score_arch(
        SPACE, pool.archs[1], None, ["params", "l2_norm"], seed=0, build_kwargs={"num_classes": 10}
    )
    assert scored.scores[1].tolist() == pytest.approx([want["params"], want["l2_norm"]])
    key = data_key(None, {"num_classes": 10})
    assert store.missing("nb201", pool.archs, ["params", "l2_norm"], key, 0) == {}
    # a different pool gives the same scores for a shared arch (no order dependence)
    alone = score_pool(CandidatePool(SPACE, [pool.archs[1]]), ["l2_norm"], None, store=False)
    assert alone.scores[0, 0] == pytest.approx(scored.scores[1, 1])

    def boom(*args, **kwargs):
        raise AssertionError("store miss")

    monkeypatch.setattr(nasrank.store.service, "score_arch", boom)
    again = score_pool(pool, ["l2_norm", "params"], None, store=tmp_path / "s.sqlite")
    np.testing.assert_array_equal(again.scores, scored.scores[:, ::-1])


def test_score_pool_default_store(tmp_path, monkeypatch):
    monkeypatch.delenv("NASRANK_STORE", raising=False)
    monkeypatch.setenv("NASRANK_CACHE_DIR", str(tmp_path / "cache"))
    assert default_store_path() == tmp_path / "cache" / "scores.sqlite"
    score_pool(make_pool(SPACE, 1, seed=0), ["params"], None)
    assert ScoreStore(default_store_path()).count("nb201") == 1
    monkeypatch.setenv("NASRANK_STORE", str(tmp_path / "env.sqlite"))
    assert default_store_path() == tmp_path / "env.sqlite"


def test_score_pool_custom_build_is_seeded(tmp_path):
    from torch import nn

    pool = CandidatePool(None, ["w4", "w8"])

    def build(arch):
        return nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, int(arch[1:])))

    a = score_pool(pool, ["l2_norm"], None, build=build, store=False, cache_key="mlp")
    b = score_pool(pool, ["l2_norm"], None, build=build, store=False, cache_key="mlp")
    np.testing.assert_array_equal(a.scores, b.scores)
    unkeyed = score_pool(pool, ["l2_norm"], None, build=build, store=False)
    assert np.all(np.isfinite(unkeyed.scores))
    with pytest.raises(ValueError, match="cache_key"):
        score_pool(pool, ["l2_norm"], None, build=build, store=tmp_path / "s.sqlite")
    stored = score_pool(
        pool, ["l2_norm"], None, build=build, store=tmp_path / "s.sqlite", cache_key="mlp"
    )
    np.testing.assert_array_equal(stored.scores, a.scores)


def _tiny_table(tmp_path, archs, proxies=("params", "synflow")):
    rng = np.random.default_rng(0)
    values = rng.normal(size=(len(archs), len(proxies)))
    values[0, 1] = np.nan
    table = ProxyTable.from_arrays(
        "tiny", "nb201", archs, proxies, values, {"seed": 0, "data": {"spec": "cifar10:x"}}
    )
    table.save(tmp_path / "tiny.npz")
    return load_table(tmp_path / "tiny.npz"), values


def test_table_scores_drop_or_refuse_uncovered_candidates(tmp_path):
    pool = make_pool(SPACE, 40, seed=1)
    covered = list(pool.archs[::2])
    table, values = _tiny_table(tmp_path, covered)
    scored = table_scores(pool, table)
    assert scored.archs == tuple(covered) and scored.proxies == ("params", "synflow")
    np.testing.assert_allclose(scored.scores, values.astype(np.float32), equal_nan=True)
    assert "table tiny (20 of 40 covered)" in scored.source
    only = table_scores(pool, table, ["synflow"])
    assert only.scores.shape == (20, 1)
    with pytest.raises(NotInTable, match="lacks 20 of 40"):
        table_scores(pool, table, missing="raise")
    full = table_scores(CandidatePool(SPACE, covered), table, missing="raise")
    assert len(full) == 20 and "all covered" in full.source
    with pytest.raises(UnknownNameError, match="no proxy 'nwot'"):
        table_scores(pool, table, ["nwot"])
    with pytest.raises(NasrankError, match="covers none"):
        table_scores(CandidatePool(SPACE, [a for a in pool.archs if a not in covered]), table)
    from nasrank.spaces import get_space

    with pytest.raises(NasrankError, match="holds space 'nb201'"):
        table_scores(CandidatePool(get_space("nb101"), ["x"]), table)


def test_subsample_keeps_scores():
    pool = CandidatePool(
        SPACE, list(make_pool(SPACE, 30, seed=0).archs), np.arange(30.0)[:, None], ("p",)
    )
    sub = subsample(pool, 10, seed=2)
    assert len(sub) == 10 and sub.archs == subsample(pool, 10, seed=2).archs
    assert all(sub.scores[i, 0] == pool.index(a) for i, a in enumerate(sub.archs))
    assert subsample(pool, 30) is pool
    with pytest.raises(NasrankError):
        subsample(pool, 0)


def test_standardised_is_cached_but_fresh():
    pool = CandidatePool(
        SPACE, list(make_pool(SPACE, 5, seed=0).archs), np.arange(5.0)[:, None], ("p",)
    )
    z = pool.standardised()
    z[:] = 99
    assert pool.standardised()[0, 0] != 99


def test_pool_validation():
    with pytest.raises(ValueError, match="duplicate"):
        CandidatePool(None, ["a", "a"])
    with pytest.raises(ValueError, match="shape"):
        CandidatePool(None, ["a", "b"], np.zeros((3, 1)), ("p",))
    bench = Benchmark(
        name="t", space=None, archs=["a", "b"], values={"acc": [1, 2]}, default_metric="acc"
    )
    with pytest.raises(NasrankError, match="stores no proxy scores"):
        benchmark_scores(CandidatePool(None, ["a", "b"]), bench)
    assert math.isnan(CandidatePool(None, ["a"], np.array([[np.nan]]), ("p",)).scores[0, 0])
