"""Work shared between processes on one store: claims, takeover, each arch computed once."""

from __future__ import annotations

import math
import multiprocessing
import socket
import threading

import pytest

from nasrank.store import InlineExecutor, ScoreStore, data_key, score_arch, score_space
from nasrank.store.claims import Lease
from nasrank.store.scoring import to_records
from tests.store.conftest import PROXIES, TINY

DATA = "d" * 32


def _content(store: ScoreStore) -> dict:
    return {
        (r.arch, r.proxy, r.version): (None if math.isnan(r.score) else r.score, r.error)
        for r in store.records()
    }


def test_a_claim_is_held_until_dropped_or_the_lease_ends(tmp_path):
    store = ScoreStore(tmp_path / "s.sqlite")
    mine, theirs = Lease(store, "nb201", DATA, 0), Lease(store, "nb201", DATA, 0)
    with mine:
        assert mine.take(["a", "b"]) == ["a", "b"]
        assert theirs.take(["a", "b", "c"]) == ["c"]
        assert mine.take(["a"]) == ["a"]  # a holder may claim again
        mine.drop("a")
        assert theirs.take(["a", "b"]) == ["a"]
    assert theirs.take(["b"]) == ["b"]  # the ended lease released "b"
    assert {c[3] for c in store.claims()} == {"a", "b", "c"}


def test_an_expired_claim_is_taken_over_a_live_one_is_not(tmp_path):
    store = ScoreStore(tmp_path / "s.sqlite")
    never = lambda holder, expires: False  # noqa: E731
    store.claim("nb201", DATA, 0, ["old"], owner="elsewhere/1/x", ttl=-1.0, free=never)
    store.claim("nb201", DATA, 0, ["live"], owner="elsewhere/1/x", ttl=3600.0, free=never)
    assert Lease(store, "nb201", DATA, 0).take(["old", "live"]) == ["old"]


def test_the_claims_of_a_dead_process_on_this_machine_are_taken_at_once(tmp_path):
    process = multiprocessing.get_context("spawn").Process(target=int)
    process.start()
    process.join(60)
    store = ScoreStore(tmp_path / "s.sqlite")
    dead = f"{socket.gethostname()}/{process.pid}/x"
    store.claim("nb201", DATA, 0, ["a"], owner=dead, ttl=3600.0, free=lambda h, e: False)
    assert Lease(store, "nb201", DATA, 0).take(["a"]) == ["a"]


def test_renewal_extends_every_claim_of_the_owner(tmp_path):
    store = ScoreStore(tmp_path / "s.sqlite")
    lease = Lease(store, "nb201", DATA, 0, ttl=10.0)
    lease.take(["a", "b"])
    first = {c[3]: c[5] for c in store.claims()}
    assert store.renew_claims(lease.owner, 1000.0) == 2
    assert all(c[5] > first[c[3]] + 900 for c in store.claims())


def _run(space, archs, batch, store):
    return score_space(
        space, archs, PROXIES, batch, store, InlineExecutor(1), seed=0, build_kwargs=TINY
    )


def test_an_arch_claimed_elsewhere_is_waited_for_and_reused(tmp_path, space, archs, batch):
    store = ScoreStore(tmp_path / "s.sqlite")
    data = data_key(batch, TINY)
    other = "elsewhere/1/x"
    store.claim("nb201", data, 0, [archs[0]], owner=other, ttl=3600.0, free=lambda h, e: False)
    # what the other process computes (here, before the thread: torch's RNG is global)
    result = score_arch(space, archs[0], batch, PROXIES, seed=0, build_kwargs=TINY)
    reports = []
    worker = threading.Thread(  # a store object per thread
        target=lambda: reports.append(_run(space, archs, batch, ScoreStore(store.path)))
    )
    worker.start()
    # the other process finishes its arch: scores first, then the claim goes
    own = ScoreStore(store.path)
    own.put_many(to_records("nb201", archs[0], data, 0, dict(result), reasons=result.reasons))
    own.release("nb201", data, 0, archs[0], owner=other)
    worker.join(300)
    (report,) = reports
    assert report.pairs_computed == (len(archs) - 1) * len(PROXIES)
    assert report.pairs_reused == len(PROXIES)
    alone = ScoreStore(tmp_path / "alone.sqlite")
    _run(space, archs, batch, alone)
    assert _content(store) == _content(alone) and store.claims() == []


def _share(path: str, queue) -> None:
    from nasrank.data import load_batch
    from nasrank.search.pool import make_pool
    from nasrank.spaces import get_space

    space = get_space("nb201")
    archs = list(make_pool(space, 8, seed=3).archs)
    batch = load_batch("synthetic:3x8x8", batch_size=4, seed=0)
    queue.put(_run(space, archs, batch, ScoreStore(path)).pairs_computed)


@pytest.mark.slow
def test_two_processes_on_one_pool_compute_each_arch_once(tmp_path, space, archs, batch):
    path = str(tmp_path / "shared.sqlite")
    ScoreStore(path).close()
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_share, args=(path, queue)) for _ in range(2)]
    for p in procs:
        p.start()
    computed = [queue.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert sum(computed) == len(archs) * len(PROXIES)
    alone = ScoreStore(tmp_path / "alone.sqlite")
    _run(space, archs, batch, alone)
    assert _content(ScoreStore(path)) == _content(alone)
