"""Training: train one architecture for real (SGD + cosine schedule, resumable, GPU or CPU).

A lower layer than :mod:`nasrank.search`, which trains its top picks with it. Modules by
concept: :mod:`~nasrank.training.config` (the run's records), :mod:`~nasrank.training.schedule`
(learning rate per step), :mod:`~nasrank.training.setup` (device, AMP, optimiser, RNG),
:mod:`~nasrank.training.epoch` (one pass over the data), :mod:`~nasrank.training.evaluation`
(accuracy on a split), :mod:`~nasrank.training.checkpoint` (save and resume per epoch) and
:mod:`~nasrank.training.trainer` (:func:`train`, which composes them);
:mod:`~nasrank.training.probe` checks up front, on the meta device, that a space's network
takes an input shape.

Usage::

    from nasrank.data import from_tensors
    from nasrank.training import TrainConfig, train

    result = train(model, from_tensors(x, y), config=TrainConfig(epochs=12), seed=0)
    result.train_accuracy, result.history
"""

from __future__ import annotations

from nasrank.training.checkpoint import CHECKPOINT_NAME
from nasrank.training.config import TrainConfig, TrainResult
from nasrank.training.errors import (
    CheckpointError,
    CheckpointMismatchError,
    InputShapeError,
    TrainingDiverged,
    TrainingError,
)
from nasrank.training.evaluation import evaluate
from nasrank.training.schedule import learning_rate
from nasrank.training.trainer import train

__all__ = [
    "CHECKPOINT_NAME",
    "CheckpointError",
    "CheckpointMismatchError",
    "InputShapeError",
    "TrainConfig",
    "TrainResult",
    "TrainingDiverged",
    "TrainingError",
    "evaluate",
    "learning_rate",
    "train",
]
