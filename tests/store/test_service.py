from __future__ import annotations

import math

import numpy as np
import pytest

from nasrank.store import (
    InlineExecutor,
    ScoreStore,
    data_key,
    iter_scores,
    score_arch,
    score_archs,
    stored_scores,
)
from tests.store.conftest import PROXIES, TINY


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def test_scores_are_those_of_each_arch_alone_and_stored(space, archs, batch, tmp_path):
    store = ScoreStore(tmp_path / "s.sqlite")
    seen: list[tuple[int, int]] = []
    asked = [archs[0], archs[1], archs[0]]  # a duplicate is scored once, repeated in rows
    got = score_archs(
        space,
        asked,
        PROXIES,
        batch,
        seed=2,
        build_kwargs=TINY,
        store=store,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen == [(1, 2), (2, 2)] and got.hits == 0
    alone = score_arch(space, archs[1], batch, PROXIES, seed=2, build_kwargs=TINY)
    assert all(_same(got[archs[1]].scores[p], alone[p]) for p in PROXIES)
    matrix = got.matrix()
    assert matrix.shape == (3, len(PROXIES))
    np.testing.assert_array_equal(matrix[0], matrix[2])
    assert got.data == data_key(batch, TINY) and store.count() == 2 * len(PROXIES)
    assert got[archs[0]].computed and got[archs[0]].rows_written == len(PROXIES)


def test_only_missing_pairs_are_computed(space, archs, batch, tmp_path, monkeypatch):
    import nasrank.store.service as service

    store = ScoreStore(tmp_path / "s.sqlite")
    first = score_archs(space, archs[:2], PROXIES[:2], batch, build_kwargs=TINY, store=store)
    calls: list[tuple[str, tuple[str, ...]]] = []
    real = service.score_arch

    def counting(space_, arch, batch_, proxies, **kw):
        calls.append((arch, tuple(proxies)))
        return real(space_, arch, batch_, proxies, **kw)

    monkeypatch.setattr(service, "score_arch", counting)
    again = score_archs(space, archs[:3], PROXIES, batch, build_kwargs=TINY, store=store)
    assert calls == [(a, tuple(PROXIES[2:])) for a in archs[:2]] + [(archs[2], tuple(PROXIES))]
    assert again[archs[0]].from_store == tuple(PROXIES[:2]) and again.hits == 0
    np.testing.assert_array_equal(again.matrix(archs[:2])[:, :2], first.matrix())
    calls.clear()
    assert score_archs(space, archs[:3], PROXIES, batch, build_kwargs=TINY, store=store).hits == 3
    assert calls == []


def test_executor_stream_yields_stored_and_computed(space, archs, batch, tmp_path):
    store = ScoreStore(tmp_path / "s.sqlite")
    score_archs(space, archs[:2], PROXIES, batch, build_kwargs=TINY, store=store)
    stream = iter_scores(
        space,
        archs[:4],
        PROXIES,
        batch,
        build_kwargs=TINY,
        store=store,
        executor=InlineExecutor(1),
        chunk_size=3,
    )
    results = list(stream)
    assert [r.arch for r in results] == archs[:4]
    assert [r.computed for r in results] == [False, False, True, True]


def test_custom_build_needs_a_cache_key_to_be_stored(batch, tmp_path):
    from torch import nn

    def build(arch: str) -> nn.Module:
        return nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, int(arch[1:])))

    store = ScoreStore(tmp_path / "s.sqlite")
    with pytest.raises(ValueError, match="cache_key"):
        score_archs(None, ["w4"], ["l2_norm"], batch, build=build, store=store)
    a = score_archs(
        None, ["w4", "w8"], ["l2_norm"], batch, build=build, cache_key="mlp", store=store
    )
    b = score_archs(None, ["w4", "w8"], ["l2_norm"], batch, build=build, cache_key="mlp")
    np.testing.assert_array_equal(a.matrix(), b.matrix())
    assert store.count("mlp") == 2 and a.data == data_key(batch)


def test_space_or_build_not_both(space, batch):
    with pytest.raises(ValueError, match="search space or build"):
        score_archs(None, ["x"], ["params"], batch)
    with pytest.raises(ValueError, match="not both"):
        score_archs(space, ["x"], ["params"], batch, build=lambda arch: None)


def test_stored_scores_reads_without_computing(space, archs, batch, tmp_path):
    store = ScoreStore(tmp_path / "s.sqlite")
    score_archs(space, archs[:2], PROXIES[:2], batch, build_kwargs=TINY, store=store)
    score_archs(space, archs[:1], PROXIES, batch, build_kwargs=TINY, store=store)
    key = data_key(batch, TINY)
    found = stored_scores(store, "nb201", archs[:3], PROXIES, data=key, seed=0)
    assert found.complete() == [archs[0]] and set(found.by_arch) == set(archs[:2])
    matrix = found.matrix()
    assert np.isnan(matrix[1, 2:]).all() and np.isnan(matrix[2]).all()
    assert store.count() == len(PROXIES) + 2
