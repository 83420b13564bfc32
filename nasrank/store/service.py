"""The scoring service: proxy scores of many architectures, through a score store.

Every path from architectures to proxy scores goes through here (``nasrank score-space``
via :func:`~nasrank.store.score_space`, search pools via
:func:`~nasrank.search.pool.score_pool`, table export via
:func:`~nasrank.tables.export_table`, single architectures via
:func:`score_arch_stored`, as ``nasrank score`` and ``nasrank correlate`` do). The
service reads what the store already has, computes only the missing ``(arch, proxy)``
pairs, and writes each architecture's new scores in its own short transaction as soon as
they exist. Every model is initialised
from its own seed, :func:`~nasrank.store.arch_seed` ``(seed, space key, arch)``, so the
scores depend only on ``(space, arch, proxies, batch, seed)``.

Call signatures::

    score_archs(space, archs, proxies, batch, *, seed=0, build=None, cache_key=None,
                build_kwargs=None, store=None, data=None, executor=None, progress=None,
                chunk_size=64, max_in_flight=None, device=None) -> PoolScores

    iter_scores(space, archs, proxies, batch, *, seed=0, build=None, cache_key=None,
                build_kwargs=None, store=None, data=None, executor=None, chunk_size=64,
                max_in_flight=None, on_stored=None, device=None) -> Iterator[ArchScores]

    stored_scores(store, space_key, archs, proxies, *, data, seed) -> PoolScores

    score_arch_stored(store, space, arch, batch, proxies, *, seed=0, build_kwargs=None,
                      data=None, device=None) -> (ScoreResult, from_store)

* ``space``: a :class:`~nasrank.spaces.base.SearchSpace` (models are
  ``space.build(arch, **build_kwargs)``, stored under ``space.name``), or ``None`` with
  ``build=`` (``arch -> nn.Module``) for a custom space, stored under ``cache_key``
  (no ``cache_key``: nothing can be stored; the seed key is then ``"custom"``).
* ``proxies``: names or specs (``None``: every registered proxy).
* ``data``: the store's data key, default :func:`~nasrank.store.data_key` ``(batch,
  build_kwargs)``.
* ``executor``: an :class:`~nasrank.store.executors.Executor`; ``None`` computes in this
  process, one architecture after the other, without touching torch's thread count.
* ``progress(done, total)``: called after each distinct architecture (stored or computed).
* ``device``: where the proxy engine computes, ``"cpu"``, ``"cuda"`` or ``"cuda:N"``
  (``None``: the CPU, as ``"cpu"``); each worker moves its models there. The device is
  not part of the store key, which is the data, the seed and the proxy version: a GPU's
  scores equal the CPU's up to float rounding, so either may fill a store for the other.

:class:`PoolScores` gives ``result[arch]`` (an :class:`ArchScores`: scores, NaN reasons,
seconds, which proxies came from the store) and ``result.matrix()`` -- a ``(len(archs),
len(proxies))`` float64 array in the order asked, NaN where nothing is known. For
example, the engine block of a feature matrix::

    scored = score_archs(space, ids, names, batch, seed=seed,
                         build_kwargs={"num_classes": num_classes}, store=store,
                         progress=lambda done, total: on_progress(1))
    values = scored.matrix()  # rows follow ids (duplicates repeated)
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from nasrank.proxies import PROXIES  # noqa: F401 - registers the proxies
from nasrank.proxies.engine import ScoreResult, score
from nasrank.proxies.registry import ProxySpec, resolve_proxies
from nasrank.spaces import get_space
from nasrank.store.claims import Lease
from nasrank.store.scoring import arch_seed, data_key, score_arch, to_records

if TYPE_CHECKING:
    from torch import nn

    from nasrank.data.batch import Batch
    from nasrank.spaces.base import SearchSpace
    from nasrank.store.executors import Executor, Job
    from nasrank.store.store import ScoreRecord, ScoreStore

__all__ = [
    "ArchOutcome",
    "ArchScores",
    "BuildJob",
    "PoolScores",
    "ScoreJob",
    "chunked",
    "iter_scores",
    "score_arch_stored",
    "score_archs",
    "stored_scores",
]

#: Progress callback: ``(architectures done, architectures in all)``.
Progress = Callable[[int, int], None]


def chunked(items: Iterable[str], size: int) -> Iterator[list[str]]:
    """``items`` in lists of ``size`` (the last one shorter), read lazily."""
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


# ---- what workers run -------------------------------------------------------------------
@dataclass(frozen=True)
class ArchOutcome:
    """What a worker sends back for one architecture.

    Attributes:
        scores: Proxy -> score (NaN where it failed).
        reasons: Proxy -> why it is NaN.
        seconds: Proxy -> engine seconds.
        wall_seconds: Build + scoring seconds in the worker.
    """

    scores: dict[str, float]
    reasons: dict[str, str]
    seconds: dict[str, float]
    wall_seconds: float


@dataclass(frozen=True)
class ScoreJob:
    """Picklable work item runner: score ``(arch, proxies)`` items of one space on one batch.

    Workers receive the batch itself (pickled once per worker), so every worker -- local
    or on another machine -- scores exactly the same data. A failed build gives NaN
    with the reason (see :func:`~nasrank.store.score_arch`). ``device`` is a string
    (``"cpu"``, ``"cuda:1"``; ``None``: the CPU), so the job pickles without CUDA state.
    """

    space: str
    batch: Batch | None
    seed: int
    build_kwargs: Mapping[str, Any] = field(default_factory=dict)
    device: str | None = None

    def setup(self) -> None:
        object.__setattr__(self, "_space", get_space(self.space))

    def bind(self, space: SearchSpace) -> ScoreJob:
        """Use ``space`` itself in this process (no lookup by name; it is not pickled)."""
        object.__setattr__(self, "_space", space)
        return self

    def __call__(self, item: tuple[str, Sequence[str]]) -> ArchOutcome:
        arch, proxies = item
        space = getattr(self, "_space", None)
        if space is None:
            self.setup()
            space = self._space  # type: ignore[attr-defined]
        t0 = time.perf_counter()
        result = score_arch(
            space,
            arch,
            self.batch,
            list(proxies),
            seed=self.seed,
            build_kwargs=self.build_kwargs,
            device=self.device,
        )
        return ArchOutcome(
            dict(result), dict(result.reasons), dict(result.seconds), time.perf_counter() - t0
        )

    def __getstate__(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("space", "batch", "seed", "build_kwargs", "device")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for k, v in state.items():
            object.__setattr__(self, k, v)


@dataclass(frozen=True)
class BuildJob:
    """Work item runner of a custom space: ``build(arch)`` under :func:`arch_seed`
    ``(seed, key, arch)``, then the proxy engine. Picklable when ``build`` is.

    A failing ``build`` raises (custom builders report their own errors). ``device``:
    as :class:`ScoreJob`'s, a string.
    """

    build: Callable[[str], nn.Module]
    key: str
    batch: Batch | None
    seed: int
    device: str | None = None

    def setup(self) -> None:
        """Nothing to prepare (the proxies register when this module is imported)."""

    def __call__(self, item: tuple[str, Sequence[str]]) -> ArchOutcome:
        import torch

        arch, proxies = item
        t0 = time.perf_counter()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(arch_seed(self.seed, self.key, arch))
            model = self.build(arch)
        result = score(model, self.batch, list(proxies), seed=self.seed, device=self.device)
        return ArchOutcome(
            dict(result), dict(result.reasons), dict(result.seconds), time.perf_counter() - t0
        )


# ---- what the service returns ------------------------------------------------------------
@dataclass(frozen=True)
class ArchScores:
    """One architecture's proxy scores, stored ones and fresh ones together.

    Attributes:
        arch: The architecture id.
        scores: Proxy -> score (NaN where it failed): the stored proxies, then the fresh.
        reasons: Proxy -> why it is NaN.
        seconds: Proxy -> engine seconds, where known.
        from_store: The proxies read from the store, in the order asked.
        wall_seconds: Build + scoring seconds of the fresh ones (``None``: none computed).
        rows_written: Store rows written for this architecture.
    """

    arch: str
    scores: dict[str, float]
    reasons: dict[str, str]
    seconds: dict[str, float]
    from_store: tuple[str, ...]
    wall_seconds: float | None = None
    rows_written: int = 0

    @property
    def computed(self) -> bool:
        """Whether any proxy was computed (not all came from the store)."""
        return self.wall_seconds is not None


@dataclass(frozen=True)
class PoolScores:
    """Scores of many architectures (:func:`score_archs`, :func:`stored_scores`).

    Attributes:
        archs: The architectures asked for, in order (duplicates kept).
        proxies: The proxy names, in order.
        by_arch: Architecture -> its scores (only those known, for :func:`stored_scores`).
        data: The store's data key.
        seed: The run seed.
    """

    archs: tuple[str, ...]
    proxies: tuple[str, ...]
    by_arch: Mapping[str, ArchScores]
    data: str
    seed: int

    def __getitem__(self, arch: str) -> ArchScores:
        return self.by_arch[arch]

    def __len__(self) -> int:
        return len(self.archs)

    @property
    def hits(self) -> int:
        """Distinct architectures whose every proxy came from the store."""
        return sum(len(a.from_store) == len(self.proxies) for a in self.by_arch.values())

    def complete(self) -> list[str]:
        """The architectures of :attr:`archs` with a score of every proxy, in order."""
        return [
            a
            for a in self.archs
            if a in self.by_arch and all(n in self.by_arch[a].scores for n in self.proxies)
        ]

    def matrix(self, archs: Sequence[str] | None = None) -> np.ndarray:
        """``(len(archs), len(proxies))`` float64 scores (default :attr:`archs`), NaN
        where nothing is known."""
        rows = self.archs if archs is None else archs
        out = np.full((len(rows), len(self.proxies)), np.nan)
        for i, arch in enumerate(rows):
            got = self.by_arch.get(arch)
            if got is not None:
                out[i] = [got.scores.get(n, np.nan) for n in self.proxies]
        return out


# ---- the plan of one call ----------------------------------------------------------------
@dataclass(frozen=True)
class _Plan:
    """What one service call scores, where it stores it and how it builds models."""

    specs: list[ProxySpec]
    names: list[str]
    key: str | None  # the store's space key; None: nothing is stored
    data: str
    seed: int
    store: ScoreStore | None
    job: Job

    def lookup(self, chunk: Sequence[str]) -> dict[tuple[str, str], ScoreRecord]:
        if self.store is None or self.key is None:
            return {}
        return self.store.get_many(self.key, chunk, self.specs, self.data, self.seed)

    def lease(self) -> Lease | None:
        """Claims for sharing the work with other processes on the store (None: no
        writable store)."""
        if self.store is None or self.key is None or self.store.read_only:
            return None
        return Lease(self.store, self.key, self.data, self.seed)

    def split(
        self, arch: str, have: Mapping[tuple[str, str], ScoreRecord]
    ) -> tuple[dict[str, ScoreRecord], tuple[str, ...]]:
        """``(stored records, proxies to compute)`` of ``arch``."""
        got = {n: have[(arch, n)] for n in self.names if (arch, n) in have}
        return got, tuple(n for n in self.names if (arch, n) not in have)

    def finish(self, arch: str, outcome: ArchOutcome, got: Mapping[str, ScoreRecord]) -> ArchScores:
        """Store ``outcome`` and merge it with the stored records of ``arch``."""
        rows = 0
        if self.store is not None and self.key is not None:
            records = to_records(
                self.key,
                arch,
                self.data,
                self.seed,
                outcome.scores,
                reasons=outcome.reasons,
                seconds=outcome.seconds,
            )
            rows = self.store.put_many(records)
        stored = _from_records(arch, got)
        return ArchScores(
            arch,
            {**stored.scores, **outcome.scores},
            {**stored.reasons, **outcome.reasons},
            {**stored.seconds, **outcome.seconds},
            stored.from_store,
            outcome.wall_seconds,
            rows,
        )


def _from_records(arch: str, got: Mapping[str, ScoreRecord]) -> ArchScores:
    """An architecture's scores from its stored records (nothing computed)."""
    return ArchScores(
        arch,
        {n: r.score for n, r in got.items()},
        {n: r.error for n, r in got.items() if r.error is not None},
        {n: r.seconds for n, r in got.items() if r.seconds is not None},
        tuple(got),
    )


def _make_plan(
    space: SearchSpace | None,
    proxies: str | ProxySpec | Sequence[str | ProxySpec] | None,
    batch: Batch | None,
    *,
    seed: int,
    build: Callable[[str], nn.Module] | None,
    cache_key: str | None,
    build_kwargs: Mapping[str, Any] | None,
    store: ScoreStore | None,
    data: str | None,
    device: str | None = None,
) -> _Plan:
    specs = resolve_proxies(proxies)
    kwargs = dict(build_kwargs or {})
    device = None if device is None else str(device)  # a string: jobs are pickled
    job: Job
    if build is None:
        if space is None:
            raise ValueError("the scoring service needs a search space or build=")
        key: str | None = space.name
        job = ScoreJob(space.name, batch, seed, kwargs, device).bind(space)
    else:
        if space is not None or kwargs:
            raise ValueError("give a search space (with build_kwargs) or build=, not both")
        if store is not None and cache_key is None:
            raise ValueError("storing the scores of a custom build needs cache_key=")
        key = cache_key
        job = BuildJob(build, cache_key or "custom", batch, seed, device)
    data = data if data is not None else data_key(batch, kwargs)
    return _Plan(specs, [s.name for s in specs], key, data, seed, store, job)


# ---- streaming -------------------------------------------------------------------------
def _pending(
    plan: _Plan,
    archs: Iterable[str],
    chunk_size: int,
    on_stored: Callable[[ArchScores], None],
    partial: dict[str, dict[str, ScoreRecord]],
    lease: Lease | None,
    waiting: list[str],
) -> Iterator[tuple[str, tuple[str, ...]]]:
    """The ``(arch, proxies to compute)`` work items; fully stored archs go to
    ``on_stored`` as they are read, stored records of partial ones to ``partial``, archs
    another process has claimed to ``waiting``."""
    for chunk in chunked(archs, chunk_size):
        have = plan.lookup(chunk)
        for arch in chunk:
            got, todo = plan.split(arch, have)
            if todo and lease is not None:
                if not lease.take([arch]):
                    waiting.append(arch)
                    continue
                # read again under the claim: its last holder may have stored it since
                got, todo = plan.split(arch, plan.lookup([arch]))
                if not todo:
                    lease.drop(arch)
            if not todo:
                on_stored(_from_records(arch, got))
                continue
            if got:
                partial[arch] = got
            yield arch, todo


def _in_process(job: Job, items: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
    """``(item, job(item))`` here, one after the other (the job is bound already)."""
    for item in items:
        yield item, job(item)


#: Seconds between looks at architectures other processes are computing.
_POLL_SECONDS = 1.0


def _stream(
    plan: _Plan,
    archs: Iterable[str],
    executor: Executor | None,
    chunk_size: int,
    max_in_flight: int | None,
    on_stored: Callable[[ArchScores], None] | None,
) -> Iterator[ArchScores]:
    ready: deque[ArchScores] = deque()  # stored archs, when no on_stored takes them
    partial: dict[str, dict[str, ScoreRecord]] = {}
    take_stored = on_stored or ready.append
    lease = plan.lease()
    with lease or nullcontext():
        source: Iterable[str] = archs
        retry = False
        while True:
            waiting: list[str] = []
            items = _pending(plan, source, chunk_size, take_stored, partial, lease, waiting)
            yield from _computed(plan, items, executor, max_in_flight, ready, lease, partial)
            if not waiting:
                break
            # every arch left is another process's; nothing of this one is in flight
            if retry and len(waiting) == len(source):  # type: ignore[arg-type]
                time.sleep(_POLL_SECONDS)
            source, retry = waiting, True
    while ready:
        yield ready.popleft()


def _computed(
    plan: _Plan,
    items: Iterator[tuple[str, tuple[str, ...]]],
    executor: Executor | None,
    max_in_flight: int | None,
    ready: deque[ArchScores],
    lease: Lease | None,
    partial: dict[str, dict[str, ScoreRecord]],
) -> Iterator[ArchScores]:
    """Compute ``items``, store each result (then drop its claim) and yield it, with the
    stored archs of ``ready`` before each."""
    if executor is None:
        results = _in_process(plan.job, items)
    else:
        results = executor.map_unordered(plan.job, items, max_in_flight=max_in_flight)
    try:
        for (arch, _), outcome in results:
            while ready:
                yield ready.popleft()
            done = plan.finish(arch, outcome, partial.pop(arch, {}))
            if lease is not None:
                lease.drop(arch)
            yield done
        while ready:
            yield ready.popleft()
    finally:
        results.close()  # type: ignore[attr-defined]


def iter_scores(
    space: SearchSpace | None,
    archs: Iterable[str],
    proxies: str | ProxySpec | Sequence[str | ProxySpec] | None,
    batch: Batch | None,
    *,
    seed: int = 0,
    build: Callable[[str], nn.Module] | None = None,
    cache_key: str | None = None,
    build_kwargs: Mapping[str, Any] | None = None,
    store: ScoreStore | None = None,
    data: str | None = None,
    executor: Executor | None = None,
    chunk_size: int = 64,
    max_in_flight: int | None = None,
    on_stored: Callable[[ArchScores], None] | None = None,
    device: str | None = None,
) -> Iterator[ArchScores]:
    """Stream the scores of ``archs``, computing only what ``store`` lacks.

    ``archs`` is read lazily, ``chunk_size`` at a time (one store lookup each). Computed
    architectures come in completion order, each stored before it is yielded; close the
    iterator to stop early (what is in flight is lost, what was yielded is stored).

    Args:
        space, proxies, batch, seed, build, cache_key, build_kwargs, store, data,
            executor, device: See the module docstring.
        chunk_size: Architectures per store lookup.
        max_in_flight: Architectures given to ``executor`` and not yet back.
        on_stored: Takes each fully stored architecture as soon as it is read (then it
            is not yielded); default: yielded, before the next computed one.

    Raises:
        ValueError: Neither ``space`` nor ``build`` (or both), or a ``store`` for a
            custom ``build`` without ``cache_key``.
    """
    plan = _make_plan(
        space,
        proxies,
        batch,
        seed=seed,
        build=build,
        cache_key=cache_key,
        build_kwargs=build_kwargs,
        store=store,
        data=data,
        device=device,
    )
    return _stream(plan, archs, executor, chunk_size, max_in_flight, on_stored)


def score_archs(
    space: SearchSpace | None,
    archs: Sequence[str],
    proxies: str | ProxySpec | Sequence[str | ProxySpec] | None,
    batch: Batch | None,
    *,
    seed: int = 0,
    build: Callable[[str], nn.Module] | None = None,
    cache_key: str | None = None,
    build_kwargs: Mapping[str, Any] | None = None,
    store: ScoreStore | None = None,
    data: str | None = None,
    executor: Executor | None = None,
    progress: Progress | None = None,
    chunk_size: int = 64,
    max_in_flight: int | None = None,
    device: str | None = None,
) -> PoolScores:
    """Scores of every architecture of ``archs`` (see the module docstring).

    Returns:
        A :class:`PoolScores` over ``archs`` (each distinct architecture scored once).
    """
    plan = _make_plan(
        space,
        proxies,
        batch,
        seed=seed,
        build=build,
        cache_key=cache_key,
        build_kwargs=build_kwargs,
        store=store,
        data=data,
        device=device,
    )
    unique = list(dict.fromkeys(archs))
    by_arch: dict[str, ArchScores] = {}

    def take(result: ArchScores) -> None:
        by_arch[result.arch] = result
        if progress is not None:
            progress(len(by_arch), len(unique))

    for result in _stream(plan, unique, executor, chunk_size, max_in_flight, take):
        take(result)
    return PoolScores(tuple(archs), tuple(plan.names), by_arch, plan.data, seed)


def stored_scores(
    store: ScoreStore,
    space_key: str,
    archs: Iterable[str],
    proxies: str | ProxySpec | Sequence[str | ProxySpec] | None,
    *,
    data: str,
    seed: int,
) -> PoolScores:
    """What ``store`` holds for ``archs`` x ``proxies`` (current versions); computes nothing.

    Returns:
        A :class:`PoolScores` whose ``by_arch`` has the architectures with at least one
        stored proxy (:meth:`PoolScores.complete`: those with all of them).
    """
    specs = resolve_proxies(proxies)
    names = [s.name for s in specs]
    asked = tuple(archs)
    have = store.get_many(space_key, asked, specs, data, seed)
    by_arch: dict[str, ArchScores] = {}
    for arch in dict.fromkeys(asked):
        got = {n: have[(arch, n)] for n in names if (arch, n) in have}
        if got:
            by_arch[arch] = _from_records(arch, got)
    return PoolScores(asked, tuple(names), by_arch, data, seed)


def score_arch_stored(
    store: ScoreStore | None,
    space: SearchSpace,
    arch: str,
    batch: Batch | None,
    proxies: str | ProxySpec | Sequence[str | ProxySpec] | None,
    *,
    seed: int = 0,
    build_kwargs: Mapping[str, Any] | None = None,
    data: str | None = None,
    device: str | None = None,
) -> tuple[ScoreResult, list[str]]:
    """:func:`~nasrank.store.score_arch`, reading what ``store`` has and writing what it
    lacks (:func:`score_archs` of one architecture).

    Args:
        store: The store, or ``None`` (then this is :func:`~nasrank.store.score_arch`).
        data: The store key of the data (default :func:`~nasrank.store.data_key` of the
            batch).
        device: Where computed scores are computed (see the module docstring; not part
            of the store key: stored scores are read whichever device wrote them).

    Returns:
        ``(result, from_store)``: the scores, reasons and seconds (stored ones as if just
        computed), and the names of the proxies that came from the store.
    """
    specs = resolve_proxies(proxies)
    if store is None:
        result = score_arch(
            space, arch, batch, specs, seed=seed, build_kwargs=build_kwargs, device=device
        )
        return result, []
    scores = score_archs(
        space,
        [arch],
        specs,
        batch,
        seed=seed,
        build_kwargs=build_kwargs,
        store=store,
        data=data,
        device=device,
    )[arch]
    return _as_result(scores, specs, seed, batch), list(scores.from_store)


def _as_result(
    scores: ArchScores, specs: Sequence[ProxySpec], seed: int, batch: Batch | None
) -> ScoreResult:
    """The service's scores of one architecture as an engine result, in ``specs`` order."""
    out = ScoreResult()
    out.seed = seed
    out.source = batch.source if batch is not None else "none"
    for spec in specs:
        out[spec.name] = scores.scores[spec.name]
        if spec.name in scores.seconds:
            out.seconds[spec.name] = scores.seconds[spec.name]
        if spec.name in scores.reasons:
            out.reasons[spec.name] = scores.reasons[spec.name]
    out.total_seconds = sum(out.seconds.values())
    return out
