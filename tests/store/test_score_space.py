from __future__ import annotations

import math
import multiprocessing

import pytest

from nasrank.store import (
    InlineExecutor,
    ProcessExecutor,
    ScoreStore,
    arch_seed,
    build_model,
    data_key,
    make_executor,
    score_arch,
    score_space,
)
from tests.store.conftest import PROXIES, TINY


def _content(store: ScoreStore) -> dict:
    """(key) -> score of every stored row (NaN as None, so equal NaNs compare equal)."""
    return {
        (r.space, r.arch, r.proxy, r.data, r.seed, r.version): (
            None if math.isnan(r.score) else r.score,
            r.error,
        )
        for r in store.records()
    }


def _run(space, archs, batch, store, executor=None, **kw):
    return score_space(
        space,
        archs,
        PROXIES,
        batch,
        store,
        executor or InlineExecutor(1),
        seed=0,
        build_kwargs=TINY,
        **kw,
    )


def test_arch_seed_is_stable_and_initialisation_order_free(space, archs):
    assert arch_seed(0, "nb201", archs[0]) == arch_seed(0, "nb201", archs[0])
    assert arch_seed(0, "nb201", archs[0]) != arch_seed(1, "nb201", archs[0])
    assert arch_seed(0, "nb201", archs[0]) != arch_seed(0, "nb201", archs[1])
    import torch

    a = build_model(space, archs[0], seed=0, **TINY)
    build_model(space, archs[1], seed=0, **TINY)  # something else in between
    state = torch.get_rng_state()
    b = build_model(space, archs[0], seed=0, **TINY)
    assert torch.equal(torch.get_rng_state(), state)  # the global RNG is left alone
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)


def test_data_key_includes_model_changing_build_arguments(batch):
    fp = batch.fingerprint()
    assert data_key(batch) == fp == data_key(batch, {"num_classes": batch.num_classes})
    assert data_key(batch, {"num_classes": 3}) == fp + "+num_classes=3"
    assert data_key(batch, TINY) == fp + "+cells_per_stage=1+channels=4"


def test_score_space_stores_everything_then_skips_it(space, archs, batch, tmp_path):
    store = ScoreStore(tmp_path / "s.sqlite")
    report = _run(space, archs, batch, store)
    assert (report.archs_total, report.archs_scored, report.archs_skipped) == (8, 8, 0)
    assert report.archs_complete == 8 and report.rows_written == 8 * len(PROXIES)
    assert store.count() == 8 * len(PROXIES)
    assert report.median_seconds_per_arch > 0 and not report.interrupted
    # the stored scores are what score_arch gives for each architecture alone
    key = data_key(batch, TINY)
    got = store.get_many("nb201", archs, PROXIES, key, 0)
    alone = score_arch(space, archs[5], batch, PROXIES, seed=0, build_kwargs=TINY)
    assert {p: got[(archs[5], p)].score for p in PROXIES} == dict(alone)
    again = _run(space, iter(archs), batch, store)
    assert (again.archs_scored, again.archs_skipped, again.rows_written) == (0, 8, 0)
    assert again.stored_counts == report.stored_counts and again.nan_counts == report.nan_counts
    (run,) = store.runs()
    assert run["data"] == key and run["info"]["batch_size"] == 4


def test_resume_after_partial_run_computes_only_the_rest(
    space, archs, batch, tmp_path, monkeypatch
):
    import nasrank.store.service as service

    full = ScoreStore(tmp_path / "full.sqlite")
    _run(space, archs, batch, full)

    partial = ScoreStore(tmp_path / "partial.sqlite")
    first = _run(space, archs, batch, partial, stop_after=3)
    assert first.interrupted and first.archs_scored == 3
    assert partial.count() == 3 * len(PROXIES)

    calls: list[tuple[str, tuple[str, ...]]] = []
    real = service.score_arch

    def counting(space_, arch, batch_, proxies, **kw):
        calls.append((arch, tuple(proxies)))
        return real(space_, arch, batch_, proxies, **kw)

    monkeypatch.setattr(service, "score_arch", counting)  # what the workers' job calls
    second = _run(space, archs, batch, partial)
    assert second.archs_scored == 5 and second.archs_skipped == 3 and len(calls) == 5
    assert {a for a, _ in calls} == set(archs[3:])
    assert _content(partial) == _content(full)
    # a new proxy later: only that proxy is computed, for every architecture
    calls.clear()
    score_space(
        space,
        archs,
        [*PROXIES, "l2_norm"],
        batch,
        partial,
        InlineExecutor(1),
        seed=0,
        build_kwargs=TINY,
    )
    assert sorted(calls) == sorted((a, ("l2_norm",)) for a in archs)


def test_one_and_two_workers_store_identical_scores(space, archs, batch, tmp_path):
    one = ScoreStore(tmp_path / "one.sqlite")
    two = ScoreStore(tmp_path / "two.sqlite")
    _run(space, archs, batch, one, InlineExecutor(1))
    report = _run(space, list(reversed(archs)), batch, two, ProcessExecutor(2, 1), max_in_flight=3)
    assert report.archs_scored == 8
    assert _content(one) == _content(two)


def _concurrent_run(path: str, reverse: bool) -> None:
    from nasrank.data import load_batch
    from nasrank.search.pool import make_pool
    from nasrank.spaces import get_space

    space = get_space("nb201")
    archs = list(make_pool(space, 8, seed=3).archs)
    batch = load_batch("synthetic:3x8x8", batch_size=4, seed=0)
    _run(space, archs[::-1] if reverse else archs, batch, ScoreStore(path))


@pytest.mark.slow
def test_two_runs_sharing_a_store_at_once(space, archs, batch, tmp_path):
    path = str(tmp_path / "shared.sqlite")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_concurrent_run, args=(path, r)) for r in (False, True)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(300)
        assert p.exitcode == 0
    ref = ScoreStore(tmp_path / "ref.sqlite")
    _run(space, archs, batch, ref)
    assert _content(ScoreStore(path)) == _content(ref)


def test_failures_are_stored_as_nan_with_a_reason(space, batch, tmp_path):
    store = ScoreStore(tmp_path / "s.sqlite")
    dead = space.canonical("(1, 1, 1, 1, 1, 1)")  # every edge 'none': no signal reaches the output
    report = _run(space, [dead], batch, store)
    assert report.nan_counts["synflow"] == 1 and report.nan_counts["params"] == 0
    got = store.get_many("nb201", [dead], ["synflow"], data_key(batch, TINY), 0)
    record = got[(dead, "synflow")]
    assert record.failed and record.error
    again = _run(space, [dead], batch, store)
    assert again.archs_scored == 0  # a NaN is a result, not missing work


def test_make_executor_defaults_and_errors():
    ex = make_executor("local", None, None)
    assert isinstance(ex, InlineExecutor) and ex.workers == 1
    ex = make_executor("local", 2, 1)
    assert isinstance(ex, ProcessExecutor) and (ex.workers, ex.threads) == (2, 1)
    for bad in [("local", 0, 1), ("local", 1, 0), ("dask", 1, 1)]:
        with pytest.raises(ValueError):
            make_executor(*bad)


@pytest.mark.slow
def test_ray_executor_matches_local_scores(space, archs, batch, tmp_path):
    ray = pytest.importorskip("ray")
    from nasrank.store import RayExecutor

    local = ScoreStore(tmp_path / "local.sqlite")
    remote = ScoreStore(tmp_path / "ray.sqlite")
    _run(space, archs[:4], batch, local)
    try:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        report = _run(space, archs[:4], batch, remote, RayExecutor(workers=2, threads=1))
    finally:
        ray.shutdown()
    assert report.archs_scored == 4
    assert _content(local) == _content(remote)
