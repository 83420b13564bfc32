"""Scoring a whole space (or a pool of it) into a :class:`~nasrank.store.ScoreStore`.

:func:`score_space` streams architecture ids (a generator over ``space.enumerate()`` is
fine: ids are read in chunks of ``chunk_size``), asks the store which (arch, proxy) pairs
are missing, sends only those to an :class:`~nasrank.store.executors.Executor`, and writes
each architecture's scores in its own short transaction as soon as it comes back (all
of it through the scoring service, :func:`~nasrank.store.service.iter_scores`). Killed
at any moment, a run loses at most the architectures in flight; run again, it skips
everything stored. Because every architecture is initialised from its own seed
(:func:`~nasrank.store.scoring.arch_seed`), the stored scores do not depend on the order,
the number of workers or the executor.
"""

from __future__ import annotations

import logging
import math
import statistics
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nasrank.proxies.registry import ProxySpec, resolve_proxies
from nasrank.store.scoring import data_key
from nasrank.store.service import ArchOutcome, ArchScores, ScoreJob, chunked, iter_scores

if TYPE_CHECKING:
    from nasrank.data.batch import Batch
    from nasrank.spaces.base import SearchSpace
    from nasrank.store.executors import Executor
    from nasrank.store.store import ScoreStore

__all__ = ["ScoreJob", "ArchOutcome", "ScoreSpaceReport", "score_space", "count_missing"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScoreSpaceReport:
    """Summary of a :func:`score_space` run over a pool.

    Attributes:
        archs_total: Architectures in the pool (when interrupted: those done -- stored
            or scored -- before it stopped; what was in flight is not counted).
        archs_skipped: Architectures already complete in the store.
        archs_scored: Architectures scored (at least one proxy) by this run.
        archs_complete: Architectures of the pool with every proxy stored.
        rows_written: Store rows written by this run.
        pairs_computed: ``(architecture, proxy)`` scores this run computed.
        pairs_reused: ``(architecture, proxy)`` scores this run read from the store.
        nan_counts: Proxy -> architectures of the pool with a NaN score.
        stored_counts: Proxy -> architectures of the pool with the proxy stored.
        median_seconds_per_arch: Median over the pool of the summed engine seconds of
            the proxies (stored ones included); NaN when nothing is known.
        median_wall_seconds: Median build + scoring seconds per architecture in the
            workers, this run only.
        wall_seconds: Wall time of the run.
        interrupted: The run stopped early (``stop_after``, Ctrl-C).
    """

    archs_total: int
    archs_skipped: int
    archs_scored: int
    archs_complete: int
    rows_written: int
    pairs_computed: int
    pairs_reused: int
    nan_counts: dict[str, int]
    stored_counts: dict[str, int]
    median_seconds_per_arch: float
    median_wall_seconds: float
    wall_seconds: float
    interrupted: bool = False

    @property
    def archs_per_second(self) -> float:
        """Architectures scored per wall second in this run."""
        return self.archs_scored / self.wall_seconds if self.wall_seconds > 0 else math.nan

    def to_dict(self) -> dict[str, Any]:
        return {
            "archs_total": self.archs_total,
            "archs_skipped": self.archs_skipped,
            "archs_scored": self.archs_scored,
            "archs_complete": self.archs_complete,
            "rows_written": self.rows_written,
            "pairs_computed": self.pairs_computed,
            "pairs_reused": self.pairs_reused,
            "nan_counts": dict(self.nan_counts),
            "stored_counts": dict(self.stored_counts),
            "median_seconds_per_arch": self.median_seconds_per_arch,
            "median_wall_seconds": self.median_wall_seconds,
            "wall_seconds": self.wall_seconds,
            "archs_per_second": self.archs_per_second,
            "interrupted": self.interrupted,
        }


def count_missing(
    store: ScoreStore,
    space: str,
    archs: Iterable[str],
    proxies: Sequence[str | ProxySpec],
    data: str,
    seed: int,
    *,
    chunk_size: int = 500,
) -> tuple[int, int]:
    """``(architectures, architectures with a missing proxy)`` of a pool, read in chunks."""
    total = todo = 0
    for chunk in chunked(archs, chunk_size):
        total += len(chunk)
        todo += len(store.missing(space, chunk, proxies, data, seed))
    return total, todo


def score_space(
    space: SearchSpace,
    archs: Iterable[str],
    proxies: Sequence[str | ProxySpec] | None,
    batch: Batch | None,
    store: ScoreStore,
    executor: Executor,
    *,
    seed: int = 0,
    build_kwargs: Mapping[str, Any] | None = None,
    chunk_size: int = 64,
    max_in_flight: int | None = None,
    progress: Callable[[int], None] | None = None,
    stop_after: int | None = None,
    device: str | None = None,
) -> ScoreSpaceReport:
    """Score every architecture of ``archs`` with ``proxies`` into ``store``, skipping
    what is stored.

    Args:
        space: The search space.
        archs: Canonical ids (any iterable; read lazily, ``chunk_size`` at a time).
        proxies: Proxy names or specs (``None``: all).
        batch: The batch every proxy sees.
        store: Where scores are read from and written to.
        executor: Where architectures are scored.
        seed: Run seed (initialisation via :func:`~nasrank.store.scoring.arch_seed`, and
            the proxies' own randomness).
        build_kwargs: ``space.build`` keyword arguments (e.g. ``num_classes``).
        chunk_size: Architectures per store lookup.
        max_in_flight: Architectures submitted to the executor and not yet stored
            (default twice the workers).
        progress: Called with the number of architectures just finished (scored
            architectures only; skipped ones are not reported).
        stop_after: Stop after scoring this many architectures (tests; a partial run).
        device: Where each worker computes the proxies (``"cpu"``, ``"cuda"``,
            ``"cuda:N"``; ``None``: the CPU). Not part of the store key (data, seed and
            proxy version): a GPU's scores equal the CPU's up to float rounding.

    Returns:
        A :class:`ScoreSpaceReport`. On Ctrl-C the run stops, keeps what is stored and
        returns a report with ``interrupted=True``.
    """
    specs = resolve_proxies(proxies)
    kwargs = dict(build_kwargs or {})
    data = data_key(batch, kwargs)
    if batch is not None:
        _record_run(store, space.name, data, seed, batch, kwargs)
    tally = _Tally([s.name for s in specs])
    reading = _Counted(archs)
    stream = iter_scores(
        space,
        reading,
        specs,
        batch,
        seed=seed,
        build_kwargs=kwargs,
        store=store,
        data=data,
        executor=executor,
        chunk_size=chunk_size,
        max_in_flight=max_in_flight,
        on_stored=tally.add_skipped,
        device=device,
    )
    start = time.perf_counter()
    interrupted = _consume(stream, tally, progress, stop_after)
    return tally.report(reading.count, time.perf_counter() - start, interrupted)


def _record_run(
    store: ScoreStore, space: str, data: str, seed: int, batch: Batch, kwargs: Mapping[str, Any]
) -> None:
    """Describe the run's batch and model arguments in the store's ``meta`` table (a
    graph batch also lists its extras, e.g. ``edge_index``, with shape and dtype)."""
    info: dict[str, Any] = {
        "batch_size": len(batch),
        "input_shape": list(batch.inputs.shape[1:]),
        "input_dtype": str(batch.inputs.dtype),
        "num_classes": batch.num_classes,
        "build_kwargs": dict(kwargs),
    }
    if batch.extras:
        info["extras"] = {
            name: {"shape": list(t.shape), "dtype": str(t.dtype)}
            for name, t in sorted(batch.extras.items())
        }
    store.record_run(space, data, seed, description=batch.source, info=info)


class _Counted:
    """An iterable that counts the items read from it (the pool size seen so far)."""

    def __init__(self, items: Iterable[str]) -> None:
        self._items = items
        self.count = 0

    def __iter__(self) -> Iterator[str]:
        for item in self._items:
            self.count += 1
            yield item


@dataclass
class _Tally:
    """Running counts of a :func:`score_space` run, for its report."""

    names: list[str]
    nan_counts: dict[str, int] = field(init=False)
    stored_counts: dict[str, int] = field(init=False)
    seconds_per_arch: list[float] = field(default_factory=list)
    wall_per_arch: list[float] = field(default_factory=list)
    skipped: int = 0
    complete: int = 0
    scored: int = 0
    rows: int = 0
    computed_pairs: int = 0
    reused_pairs: int = 0

    def __post_init__(self) -> None:
        self.nan_counts = dict.fromkeys(self.names, 0)
        self.stored_counts = dict.fromkeys(self.names, 0)

    def _account(self, result: ArchScores) -> None:
        values = result.scores
        reused = sum(n in result.from_store for n in self.names)
        self.reused_pairs += reused
        self.computed_pairs += sum(n in values for n in self.names) - reused
        self.complete += all(n in values for n in self.names)
        for n in self.names:
            if n in values:
                self.stored_counts[n] += 1
                if math.isnan(values[n]):
                    self.nan_counts[n] += 1
        if result.seconds:
            self.seconds_per_arch.append(float(sum(result.seconds.values())))

    def add_skipped(self, result: ArchScores) -> None:
        """An architecture already complete in the store."""
        self.skipped += 1
        self._account(result)

    def add_scored(self, result: ArchScores) -> None:
        """An architecture scored (and stored) by this run."""
        self.rows += result.rows_written
        self._account(result)
        assert result.wall_seconds is not None
        self.wall_per_arch.append(result.wall_seconds)
        self.scored += 1

    def report(self, total: int, wall: float, interrupted: bool) -> ScoreSpaceReport:
        seconds, walls = self.seconds_per_arch, self.wall_per_arch
        return ScoreSpaceReport(
            # interrupted: the archs accounted for, not those read and still in flight
            archs_total=self.skipped + self.scored if interrupted else total,
            archs_skipped=self.skipped,
            archs_scored=self.scored,
            archs_complete=self.complete,
            rows_written=self.rows,
            pairs_computed=self.computed_pairs,
            pairs_reused=self.reused_pairs,
            nan_counts=self.nan_counts,
            stored_counts=self.stored_counts,
            median_seconds_per_arch=statistics.median(seconds) if seconds else math.nan,
            median_wall_seconds=statistics.median(walls) if walls else math.nan,
            wall_seconds=wall,
            interrupted=interrupted,
        )


def _consume(
    stream: Iterator[ArchScores],
    tally: _Tally,
    progress: Callable[[int], None] | None,
    stop_after: int | None,
) -> bool:
    """Tally the scored architectures of ``stream``; whether the run stopped early."""
    try:
        for result in stream:
            tally.add_scored(result)
            if progress is not None:
                progress(1)
            if stop_after is not None and tally.scored >= stop_after:
                return True
    except KeyboardInterrupt:
        logger.warning("interrupted: %d architectures scored and stored by this run", tally.scored)
        return True
    finally:
        stream.close()  # type: ignore[attr-defined]
    return False
