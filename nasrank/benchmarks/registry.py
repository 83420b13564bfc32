"""Resolving benchmark specs (``nb201-analog``, ``suite-zero:PATH``, ...) to tables."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from nasrank.registry import Registry

if TYPE_CHECKING:
    from nasrank.benchmarks.base import Benchmark

__all__ = ["BENCHMARKS", "BenchmarkLoader", "load_benchmark"]

#: A loader takes the text after ``scheme:`` ("" when absent) and keyword options.
BenchmarkLoader = Callable[..., "Benchmark"]

BENCHMARKS: Registry[BenchmarkLoader] = Registry("benchmark")


def load_benchmark(
    spec: str,
    *,
    task: str | None = None,
    space: str | None = None,
) -> Benchmark:
    """Load a benchmark from its spec.

    Args:
        spec: ``nb201-analog``, ``suite-zero:PATH``, ``table:PATH``, ``nb-graph:DATASET``
            (see ``nasrank benchmarks`` for the list).
        task: Task inside a multi-task file (Suite-Zero: ``cifar10``, ``cifar100``, ...).
        space: Search space of a ``table:`` file's ``arch`` column (ids are canonicalised
            with it); other benchmarks know their space.

    Raises:
        UnknownNameError: Unknown scheme (with did-you-mean).
        BenchmarkDataNotFound: The data file is missing; the message says how to get it.
    """
    scheme, _, arg = spec.partition(":")
    loader = BENCHMARKS.get(scheme)
    return loader(arg, task=task, space=space)
