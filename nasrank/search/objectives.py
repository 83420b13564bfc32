"""Objectives a search evaluates: benchmark lookup (counting queries) and real training.

Both are callables ``objective(arch) -> Evaluation`` with a ``maximize`` attribute, as
:meth:`nasrank.search.Searcher.run` expects.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nasrank.search.base import Evaluation
from nasrank.training import TrainConfig, train

if TYPE_CHECKING:
    from torch import nn

    from nasrank.benchmarks import Benchmark
    from nasrank.spaces import SearchSpace
    from nasrank.training import TrainConfig, TrainResult

__all__ = ["BenchmarkObjective", "TrainingObjective", "COST_WORDS"]

#: Words that mark a table column as an evaluation cost in seconds (simulated training time).
COST_WORDS = ("train_time", "training_time", "time", "seconds", "runtime", "cost")


class BenchmarkObjective:
    """Look an architecture's metric up in a benchmark table; count distinct queries.

    A repeated architecture is answered from memory: it costs nothing and is not counted
    again. Where the table has a training-time column (``train_time``, ``seconds``, ...),
    each first query reports it as the simulated cost.

    Args:
        benchmark: The ground-truth table.
        metric: Column to optimise (default the benchmark's default metric).
        cost_metric: Column holding the simulated cost in seconds; ``"auto"`` picks the
            first column whose name contains a :data:`COST_WORDS` word (none: cost NaN);
            ``None`` for no cost.

    Attributes:
        maximize: Whether larger values of ``metric`` are better.
        queries: Distinct architectures queried so far.
    """

    def __init__(
        self, benchmark: Benchmark, metric: str | None = None, *, cost_metric: str | None = "auto"
    ) -> None:
        self.benchmark = benchmark
        self.metric = metric or benchmark.default_metric
        benchmark.column(self.metric)  # unknown metric -> UnknownNameError with choices
        self.maximize = benchmark.higher_is_better(self.metric)
        if cost_metric == "auto":
            cost_metric = next(
                (
                    m
                    for m in benchmark.metrics
                    if m != self.metric and any(w in m.lower() for w in COST_WORDS)
                ),
                None,
            )
        elif cost_metric is not None:
            benchmark.column(cost_metric)
        self.cost_metric = cost_metric
        self._seen: dict[str, Evaluation] = {}

    @property
    def queries(self) -> int:
        return len(self._seen)

    @property
    def total_cost(self) -> float:
        """Simulated seconds of the distinct queries (NaN when the table has no cost)."""
        return float(sum(e.cost for e in self._seen.values())) if self._seen else 0.0

    def __call__(self, arch: str) -> Evaluation:
        if arch in self._seen:
            e = self._seen[arch]
            return Evaluation(e.arch, e.value, 0.0)
        value = self.benchmark.query(arch, self.metric)
        cost = (
            self.benchmark.query(arch, self.cost_metric)
            if self.cost_metric is not None
            else math.nan
        )
        evaluation = Evaluation(arch, value, cost)
        self._seen[arch] = evaluation
        return evaluation

    def optimum(self, archs: Sequence[str] | None = None) -> tuple[str, float]:
        """The best architecture and value over ``archs`` (default: the whole table).

        Does not count as queries (it is the reference a search is measured against).
        """
        if archs is None:
            return self.benchmark.optimum(self.metric)
        column = self.benchmark.column(self.metric)
        rows = {a: i for i, a in enumerate(self.benchmark.archs())}
        values = np.array([column[rows[a]] for a in archs])
        oriented = values if self.maximize else -values
        oriented = np.where(np.isnan(oriented), -np.inf, oriented)
        i = int(np.argmax(oriented))
        return archs[i], float(values[i])

    def __repr__(self) -> str:
        return f"BenchmarkObjective({self.benchmark.name!r}, metric={self.metric!r})"


class TrainingObjective:
    """Train the architecture for real (:func:`nasrank.training.train`).

    The value is the trained network's validation accuracy (test accuracy when there is
    no validation data, train accuracy when there is neither); the cost is the training
    time in seconds. Each architecture is trained once; results are kept in
    :attr:`results`. The network is built with torch's RNG seeded from ``seed``, so an
    architecture's result does not depend on what was trained before it, or where.

    Args:
        build: ``arch -> nn.Module`` (a fresh, untrained model).
        train_data: Training data as the trainer accepts it (``ImageDataset``, ...).
        val_data: Validation data (optional).
        test_data: Test data (optional).
        config: A :class:`~nasrank.training.TrainConfig` (default: its defaults).
        device: Device for training (default: CUDA when available).
        seed: Seed of the initial weights and of training.
        checkpoint_dir: Per-architecture checkpoints go to sub-directories of this one,
            so an interrupted training resumes.
        progress: Passed to the trainer.
    """

    maximize = True

    def __init__(
        self,
        build: Callable[[str], nn.Module],
        train_data: Any,
        *,
        val_data: Any = None,
        test_data: Any = None,
        config: TrainConfig | None = None,
        device: Any = None,
        seed: int = 0,
        checkpoint_dir: str | Path | None = None,
        progress: Any = None,
    ) -> None:
        self.build = build
        self.train_data = train_data
        self.val_data = val_data
        self.test_data = test_data
        self.config = config
        self.device = device
        self.seed = seed
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None
        self.progress = progress
        self.results: dict[str, TrainResult] = {}

    @classmethod
    def from_space(
        cls, space: SearchSpace, train_data: Any, *, num_classes: int | None = None, **kwargs: Any
    ) -> TrainingObjective:
        """Objective that builds ``space``'s network for each architecture."""
        k = num_classes or getattr(train_data, "num_classes", None) or 10

        def build(arch: str) -> nn.Module:
            return space.build(arch, num_classes=k)

        return cls(build, train_data, **kwargs)

    @property
    def queries(self) -> int:
        return len(self.results)

    def __call__(self, arch: str) -> Evaluation:
        import torch


        if arch not in self.results:
            with torch.random.fork_rng(devices=[]):  # seeded weights, caller's RNG untouched
                torch.manual_seed(self.seed)
                model = self.build(arch)
            directory = None
            if self.checkpoint_dir is not None:
                directory = self.checkpoint_dir / hashlib.sha1(arch.encode()).hexdigest()[:16]
            self.results[arch] = train(
                model,
                self.train_data,
                config=self.config if self.config is not None else TrainConfig(),
                val_data=self.val_data,
                test_data=self.test_data,
                device=self.device,
                checkpoint_dir=directory,
                seed=self.seed,
                progress=self.progress,
            )
            cost = float(self.results[arch].seconds)
        else:
            cost = 0.0
        return Evaluation(arch, accuracy_of(self.results[arch]), cost)


def accuracy_of(result: TrainResult) -> float:
    """Validation accuracy of a training result, else test, else train accuracy."""
    for name in ("val_accuracy", "test_accuracy", "train_accuracy"):
        value = getattr(result, name, None)
        if value is not None and not (isinstance(value, float) and math.isnan(value)):
            return float(value)
    return math.nan
