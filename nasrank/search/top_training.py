"""Train the top picks of a search for real: one after another, in local processes, or
as Ray actors with a GPU each.

A :class:`TrainJob` holds everything a worker needs to train any architecture of a
space (the space's name, a data spec, the schedule, the seed); :func:`train_top` runs it
over the picks with an executor from :mod:`nasrank.store.executors` and returns one
record per pick, in the order given, as results arrive. Every architecture's network is
built from the same seed, so its result does not depend on the executor or the order.
With ``checkpoint_dir`` each pick checkpoints after every epoch (under a sub-directory
named from the architecture), and the same call run again resumes; on a cluster that
directory must be on storage every node sees.

Usage::

    from nasrank.search.top_training import TrainJob, train_top
    from nasrank.training import TrainConfig
    from nasrank.store import make_executor

    job = TrainJob("nb201", "cifar10:/data/cifar-10-batches-py", TrainConfig(epochs=12))
    records = train_top(picks, job, make_executor("ray", None, 4, gpus=1))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from nasrank.data import load_dataset
from nasrank.search.objectives import TrainingObjective
from nasrank.spaces import get_space
from nasrank.store import InlineExecutor
from nasrank.training import TrainConfig, TrainingDiverged

__all__ = ["TrainJob", "train_top"]


@dataclass
class TrainJob:
    """Train one architecture of ``space`` on ``data`` (a picklable executor job).

    Args:
        space: Search-space name (see ``nasrank spaces``).
        data: Data spec: ``cifar10:DIR``, ``cifar100:DIR``, ``images:DIR`` or ``synthetic``.
            Every worker loads it, so on a cluster the path must exist on every node.
        config: The training schedule.
        num_classes: Classifier outputs (default: the data's).
        seed: Seed of the initial weights, the training-set draw and training.
        train_size: Train on this many class-balanced training images (default all).
        test_size: Evaluate on this many test images (default all; 0: no test).
        checkpoint_dir: Per-architecture checkpoints under this directory (resumable).
        device: ``"cpu"``, ``"cuda"`` or ``None`` (CUDA when the worker sees a GPU).
    """

    space: str
    data: str
    config: TrainConfig = field(default_factory=TrainConfig)
    num_classes: int | None = None
    seed: int = 0
    train_size: int | None = None
    test_size: int | None = None
    checkpoint_dir: str | None = None
    device: str | None = None

    def setup(self) -> None:
        """Load the space and the data (once per worker)."""
        train = load_dataset(self.data, split="train")
        if self.train_size is not None:
            train = train.take(self.train_size, seed=self.seed, stratified=True)
        test = None
        if self.test_size != 0:
            test = load_dataset(self.data, split="test")
            if self.test_size is not None:
                test = test.take(self.test_size, seed=self.seed, stratified=True)
        self._objective = TrainingObjective.from_space(
            get_space(self.space),
            train,
            num_classes=self.num_classes,
            test_data=test,
            config=self.config,
            device=self.device,
            seed=self.seed,
            checkpoint_dir=self.checkpoint_dir,
        )

    def __call__(self, arch: str) -> dict[str, Any]:
        """Train ``arch``; a diverged training is reported in ``error``, not raised."""
        try:
            self._objective(arch)
        except TrainingDiverged as exc:
            return {"arch": arch, "error": str(exc)}
        return {"arch": arch, **self._objective.results[arch].to_dict()}

    def __getstate__(self) -> dict[str, Any]:
        # ship the recipe, never the loaded data
        return {k: v for k, v in self.__dict__.items() if k != "_objective"}


def train_top(
    archs: Sequence[str],
    job: TrainJob,
    executor: Any = None,
    *,
    on_result: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Train every architecture of ``archs`` with ``job``; records in the order given.

    Args:
        archs: The picks, best first (duplicates are trained once).
        job: What to train and how.
        executor: From :func:`nasrank.store.make_executor` (default: in this process).
        on_result: Called with each record as soon as its training ends (progress,
            saving partial results).

    Returns:
        One dict per architecture: ``arch`` and the fields of
        :class:`~nasrank.training.TrainResult`, or ``arch`` and ``error``.
    """
    executor = executor if executor is not None else InlineExecutor()
    unique = list(dict.fromkeys(archs))
    records: dict[str, dict[str, Any]] = {}
    # one pick in flight per worker: a killed run loses only the trainings under way
    in_flight = max(1, executor.workers)
    for arch, record in executor.map_unordered(job, unique, max_in_flight=in_flight):
        records[arch] = record
        if on_result is not None:
            on_result(record)
    return [records[a] for a in unique]
