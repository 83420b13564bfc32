"""Where architectures get scored: in-process, a local process pool, or a Ray cluster.

An :class:`Executor` runs a picklable :class:`Job` on a stream of items and yields
``(item, result)`` pairs as they complete, in any order. Every worker calls
``job.setup()`` once (load the space, the batch, the proxies) and then ``job(item)`` per
item. At most ``max_in_flight`` items are submitted and not yet yielded, so memory stays
bounded however long the stream is, and the caller (which writes results) loses at most
those items if it is killed.

* :class:`InlineExecutor` -- in this process (one worker).
* :class:`ProcessExecutor` -- ``concurrent.futures.ProcessPoolExecutor`` with ``spawn``
  workers, each limited to ``threads`` torch threads; workers exit when their parent dies.
* :class:`RayExecutor` -- one Ray actor per worker (``pip install "nasrank[ray]"``), on a
  local Ray instance or the cluster at ``address``; each actor may hold GPUs of its own.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Generator, Iterable
from typing import Any, Protocol, TypeVar, runtime_checkable

from nasrank.errors import NasrankError

__all__ = [
    "Job",
    "Executor",
    "InlineExecutor",
    "ProcessExecutor",
    "RayExecutor",
    "auto_local_workers",
    "available_cpus",
    "make_executor",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")


@runtime_checkable
class Job(Protocol):
    """Picklable work: ``setup()`` once per worker, then ``__call__(item)`` per item."""

    def setup(self) -> None: ...

    def __call__(self, item: Any) -> Any: ...


class Executor(Protocol):
    """Runs a :class:`Job` over items, yielding ``(item, result)`` as they complete.

    Attributes:
        workers: Items computed at the same time.
        threads: Torch threads of each worker.
        name: ``"inline"``, ``"local"`` or ``"ray"``.
    """

    workers: int
    threads: int
    name: str

    def map_unordered(
        self, job: Job, items: Iterable[T], *, max_in_flight: int | None = None
    ) -> Generator[tuple[T, Any], None, None]:
        """Yield ``(item, job(item))`` for every item, in completion order.

        Items are drawn from ``items`` lazily: at most ``max_in_flight`` (default twice
        the workers) are submitted and not yet yielded. Closing the iterator early
        cancels what was not started. An exception raised by ``job`` propagates.
        """
        ...


def available_cpus() -> int:
    """CPU cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


#: Memory one local scoring worker is allowed for when the worker count is chosen: the
#: largest NB-201 network under all 24 proxies peaks at 1.9 GiB of RSS in one process
#: (``benchmarks/memory_nb201_largest.py``), plus a margin.
WORKER_MEMORY_BYTES = 2.5 * 2**30
#: Architectures each automatically chosen worker gets at least.
MIN_ITEMS_PER_WORKER = 8


def _available_memory() -> int:
    import psutil

    return int(psutil.virtual_memory().available)


def auto_local_workers(
    items: int,
    threads: int | None = None,
    *,
    cores: int | None = None,
    memory: int | None = None,
) -> tuple[int, int]:
    """``(workers, threads)`` for scoring ``items`` architectures on this machine when no
    worker count was asked for.

    One single-threaded process per core: a NAS-Bench-sized network keeps one thread
    busy but not two (on NB-201, 2 workers x 1 thread score 1.33x the architectures per
    second of 1 worker x 2 threads, docs/BENCHMARKS.md). Fewer workers when there are
    fewer than :data:`MIN_ITEMS_PER_WORKER` items each, or when the available ``memory``
    (default: what the OS reports) holds fewer than one :data:`WORKER_MEMORY_BYTES`
    each; a lone worker gets every core.
    ``threads`` given (``--threads``, ``$OMP_NUM_THREADS``): as many workers as fit the
    cores with that many threads each.
    """
    cores = cores or available_cpus()
    memory = _available_memory() if memory is None else memory
    per_worker = threads or 1
    workers = max(1, cores // per_worker)
    # a worker pays for its start (a fresh interpreter importing torch, a few seconds)
    # only over several architectures
    workers = min(
        workers,
        max(1, items // MIN_ITEMS_PER_WORKER),
        max(1, int(memory // WORKER_MEMORY_BYTES)),
    )
    if threads is None:
        threads = 1 if workers > 1 else cores
    return workers, threads


def _set_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set, or parallel work already started
        pass


class InlineExecutor:
    """Runs the job in this process, one item at a time, with ``threads`` torch threads
    (the previous thread count is restored afterwards)."""

    name = "inline"

    def __init__(self, threads: int = 1) -> None:
        self.workers = 1
        self.threads = int(threads)

    def __repr__(self) -> str:
        return f"InlineExecutor(threads={self.threads})"

    def map_unordered(
        self, job: Job, items: Iterable[T], *, max_in_flight: int | None = None
    ) -> Generator[tuple[T, Any], None, None]:
        import torch

        previous = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            job.setup()
            for item in items:
                yield item, job(item)
        finally:
            torch.set_num_threads(previous)


# ---- local process pool ----------------------------------------------------------------
_WORKER_JOB: Job | None = None


def _watch_parent(parent: int) -> None:
    """Exit this worker when its parent process is gone (e.g. killed with SIGKILL)."""
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(0)


def _init_worker(job: Job, threads: int, parent: int) -> None:
    import signal

    global _WORKER_JOB
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    _set_threads(threads)
    job.setup()
    _WORKER_JOB = job


def _run_item(item: Any) -> Any:
    assert _WORKER_JOB is not None, "worker not initialised"
    return _WORKER_JOB(item)


class ProcessExecutor:
    """A local pool of ``workers`` processes with ``threads`` torch threads each.

    Workers are started with ``start_method`` (default ``spawn``: a fresh interpreter,
    no inherited threads or RNG state), run ``job.setup()`` once in their initializer,
    ignore Ctrl-C (the parent handles it) and exit when the parent dies.
    """

    name = "local"

    def __init__(self, workers: int, threads: int = 1, *, start_method: str = "spawn") -> None:
        if workers < 1 or threads < 1:
            raise ValueError(f"workers and threads must be >= 1, got {workers} and {threads}")
        self.workers = int(workers)
        self.threads = int(threads)
        self.start_method = start_method

    def __repr__(self) -> str:
        return f"ProcessExecutor(workers={self.workers}, threads={self.threads})"

    def map_unordered(
        self, job: Job, items: Iterable[T], *, max_in_flight: int | None = None
    ) -> Generator[tuple[T, Any], None, None]:
        import multiprocessing
        from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

        limit = max(1, max_in_flight or 2 * self.workers)
        pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context(self.start_method),
            initializer=_init_worker,
            initargs=(job, self.threads, os.getpid()),
        )
        pending: dict[Future[Any], T] = {}
        source = iter(items)
        exhausted = False
        clean = False
        try:
            while True:
                while not exhausted and len(pending) < limit:
                    try:
                        item = next(source)
                    except StopIteration:
                        exhausted = True
                        break
                    pending[pool.submit(_run_item, item)] = item
                if not pending:
                    break
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    item = pending.pop(future)
                    yield item, future.result()
            clean = True
        finally:
            # normal end: wait for the workers; early close / error / Ctrl-C: cancel what
            # has not started and do not wait for what has (workers finish and exit)
            pool.shutdown(wait=clean, cancel_futures=not clean)


# ---- Ray --------------------------------------------------------------------------------
class _RayWorker:
    """One Ray actor: sets its thread count, runs ``job.setup()`` once, then items."""

    def __init__(self, job: Job, threads: int) -> None:
        _set_threads(threads)
        job.setup()
        self._job = job

    def run(self, item: Any) -> Any:
        return self._job(item)


class RayExecutor:
    """``workers`` Ray actors with ``threads`` CPUs (torch threads) and ``gpus`` GPUs each.

    Args:
        workers: Actors; default (``None``) as many as the cluster's CPUs allow (with
            ``gpus``: as many as its GPUs allow).
        threads: Torch threads (and Ray CPUs reserved) per actor.
        address: ``None`` for a local Ray instance with ``workers * threads`` CPUs (or
            this machine's cores), ``"auto"`` for the running cluster, or ``"HOST:PORT"``.
            Ray is started here only when it is not initialised already. Every node
            needs the same nasrank installed.
        gpus: GPUs reserved per actor (``0``: none; may be fractional to share one).
            Ray sets each actor's ``CUDA_VISIBLE_DEVICES``, so its work sees its own
            GPU(s) from ``cuda:0`` on.
    """

    name = "ray"

    def __init__(
        self,
        workers: int | None = None,
        threads: int = 1,
        *,
        address: str | None = None,
        gpus: float = 0.0,
    ) -> None:
        if (workers is not None and workers < 1) or threads < 1:
            raise ValueError(f"workers and threads must be >= 1, got {workers} and {threads}")
        if gpus < 0:
            raise ValueError(f"gpus per worker must be >= 0, got {gpus}")
        self.threads = int(threads)
        self.gpus = float(gpus)
        self.address = address
        self._workers = workers
        self.workers = workers or 0  # known once Ray is up

    def __repr__(self) -> str:
        return (
            f"RayExecutor(workers={self._workers}, threads={self.threads}, "
            f"gpus={self.gpus:g}, address={self.address!r})"
        )

    def _init(self) -> Any:
        try:
            import ray
        except ImportError:
            raise NasrankError(
                "the ray executor needs Ray: pip install 'nasrank[ray]' (or pip install ray)"
            ) from None
        if not ray.is_initialized():
            if self.address:
                ray.init(address=self.address, logging_level=logging.WARNING, log_to_driver=False)
            else:
                cpus = (self._workers or available_cpus() // self.threads) * self.threads
                ray.init(
                    num_cpus=max(cpus, self.threads),
                    include_dashboard=False,
                    logging_level=logging.WARNING,
                    log_to_driver=False,
                )
        resources = ray.cluster_resources()
        cpus, gpus = resources.get("CPU", 0), resources.get("GPU", 0)
        if self._workers is None:  # as many as fit
            self.workers = max(1, int(cpus // self.threads))
            if self.gpus:
                self.workers = min(self.workers, max(1, int(gpus // self.gpus)))
        else:
            self.workers = self._workers
        # actors that do not fit would wait for resources forever, and their items with them
        if self.workers * self.threads > cpus or self.workers * self.gpus > gpus:
            raise NasrankError(
                f"{self.workers} Ray worker(s) need {self.workers * self.threads} CPU(s) and "
                f"{self.workers * self.gpus:g} GPU(s) but the cluster has {cpus:g} CPU(s) and "
                f"{gpus:g} GPU(s); ask for fewer workers, threads or GPUs per worker"
            )
        return ray

    def map_unordered(
        self, job: Job, items: Iterable[T], *, max_in_flight: int | None = None
    ) -> Generator[tuple[T, Any], None, None]:
        ray = self._init()
        actor_cls = ray.remote(num_cpus=self.threads, num_gpus=self.gpus)(_RayWorker)
        job_ref = ray.put(job)
        actors = [actor_cls.remote(job_ref, self.threads) for _ in range(self.workers)]
        per_actor = max(1, (max_in_flight or 2 * self.workers) // self.workers)
        load = {i: 0 for i in range(len(actors))}
        pending: dict[Any, tuple[T, int]] = {}
        source = iter(items)
        exhausted = False
        try:
            while True:
                for i, actor in enumerate(actors):
                    while not exhausted and load[i] < per_actor:
                        try:
                            item = next(source)
                        except StopIteration:
                            exhausted = True
                            break
                        pending[actor.run.remote(item)] = (item, i)
                        load[i] += 1
                if not pending:
                    break
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    item, i = pending.pop(ref)
                    load[i] -= 1
                    yield item, ray.get(ref)
        finally:
            for ref in pending:
                ray.cancel(ref, force=False)
            for actor in actors:
                ray.kill(actor)


def make_executor(
    kind: str,
    workers: int | None,
    threads: int | None,
    *,
    address: str | None = None,
    gpus: float = 0.0,
) -> Executor:
    """Build an executor from command-line choices.

    ``kind`` ``"local"`` with one worker runs inline (in this process); with more, a
    :class:`ProcessExecutor`. ``threads`` defaults to the cores divided by the workers.
    ``gpus`` (per worker) needs ``"ray"``, which gives each actor GPUs of its own; local
    workers share the GPUs this process sees.

    Raises:
        ValueError: Unknown kind, workers/threads below 1, negative gpus, or gpus with a
            local executor.
    """
    if workers is not None and workers < 1:
        raise ValueError(f"--workers must be >= 1, got {workers}")
    if threads is not None and threads < 1:
        raise ValueError(f"--threads must be >= 1, got {threads}")
    if gpus < 0:
        raise ValueError(f"--gpus-per-worker must be >= 0, got {gpus:g}")
    if kind == "local":
        if gpus:
            raise ValueError(
                "--gpus-per-worker needs --executor ray (local workers share this machine's GPUs)"
            )
        w = workers or 1
        t = threads or max(1, available_cpus() // w)
        return InlineExecutor(t) if w == 1 else ProcessExecutor(w, t)
    if kind == "ray":
        return RayExecutor(workers, threads or 1, address=address, gpus=gpus)
    raise ValueError(f"unknown executor {kind!r}; choices: local, ray")
