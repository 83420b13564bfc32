"""How ``score-space`` picks local workers and threads when no --workers is given."""

from __future__ import annotations

import pytest

from nasrank.store import auto_local_workers

GIB = 2**30


@pytest.mark.parametrize(
    "items, threads, cores, memory_gib, want",
    [
        (15_625, None, 2, 16, (2, 1)),  # one single-threaded worker per core
        (15_625, None, 8, 16, (6, 1)),  # 16 GiB holds 6 workers of 2.5 GiB
        (15_625, None, 8, 1, (1, 8)),  # no room for two: one worker with every core
        (12, None, 4, 64, (1, 4)),  # under 8 archs per extra worker: not worth a start
        (16, None, 4, 64, (2, 1)),
        (15_625, 2, 8, 64, (4, 2)),  # --threads 2: as many workers as fit the cores
        (15_625, 4, 2, 64, (1, 4)),  # more threads than cores asked: one worker, as asked
        (0, None, 2, 16, (1, 2)),  # nothing left to score
    ],
)
def test_auto_local_workers(items, threads, cores, memory_gib, want):
    got = auto_local_workers(items, threads, cores=cores, memory=memory_gib * GIB)
    assert got == want
    workers, per_worker = got
    assert workers * per_worker <= max(cores, threads or 0)  # never oversubscribed
