"""The records of a training run: its hyper-parameters and its outcome.

:class:`TrainConfig` defaults to NAS-Bench-201's 12-epoch schedule (Dong & Yang, ICLR 2020;
reference implementation D-X-Y/AutoDL-Projects ``configs/nas-benchmark/hyper-opts``).
Accuracies in :class:`TrainResult` are percentages (0-100), like the benchmark tables.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from nasrank.training.errors import TrainingError

__all__ = ["TrainConfig", "TrainResult"]

_INT_FIELDS = ("epochs", "batch_size", "num_workers")
_FLOAT_FIELDS = ("lr", "momentum", "weight_decay", "warmup_epochs", "label_smoothing")


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of one training run (defaults: NAS-Bench-201's 12-epoch schedule).

    Attributes:
        epochs: Passes over the training data.
        batch_size: Samples per step.
        lr: Peak learning rate (after warm-up), annealed by a per-step cosine to 0.
        momentum: SGD momentum.
        nesterov: Nesterov momentum (needs ``momentum > 0``).
        weight_decay: L2 weight decay on every parameter.
        warmup_epochs: Linear warm-up length in epochs; may be fractional (``0.2`` of a
            1-epoch run warms up over its first 20 % of steps). Must be below ``epochs``.
        label_smoothing: Cross-entropy label smoothing in ``[0, 1)``.
        augment: Random crop with 4 px zero padding (in normalised space, i.e. the mean
            colour) and horizontal flip, applied to 4-D image batches ``(N, C, H, W)``
            (CIFAR's 32x32 images in NB-201); other inputs are used as they are.
        num_workers: Batches prepared ahead in a background thread (0: in the training
            loop). Does not change the result.
        amp: Mixed precision: ``None`` = on for CUDA (bfloat16 where supported, else
            float16 with a grad scaler), off on CPU; ``True`` on CPU uses bfloat16 autocast.

    Raises:
        TrainingError: A value outside its range.
    """

    epochs: int = 12
    batch_size: int = 256
    lr: float = 0.1
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    warmup_epochs: float = 0
    label_smoothing: float = 0.0
    augment: bool = True
    num_workers: int = 0
    amp: bool | None = None

    def __post_init__(self) -> None:
        _check_positive_int(self, "epochs")
        _check_positive_int(self, "batch_size")
        for name in _FLOAT_FIELDS:
            _check_non_negative_number(self, name)
        _check_ranges(self)
        _check_options(self)
        # Plain Python numbers (numpy scalars would not load from a weights_only checkpoint).
        for name in _INT_FIELDS:
            object.__setattr__(self, name, int(getattr(self, name)))
        for name in _FLOAT_FIELDS:
            object.__setattr__(self, name, float(getattr(self, name)))
        object.__setattr__(self, "nesterov", bool(self.nesterov))
        object.__setattr__(self, "augment", bool(self.augment))

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (JSON-ready)."""
        return dataclasses.asdict(self)


def _check_positive_int(config: TrainConfig, name: str) -> None:
    value = getattr(config, name)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise TrainingError(f"TrainConfig.{name} must be a positive integer, got {value!r}")


def _check_non_negative_number(config: TrainConfig, name: str) -> None:
    value = getattr(config, name)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise TrainingError(f"TrainConfig.{name} must be a number, got {value!r}")
    if not math.isfinite(value) or value < 0:
        raise TrainingError(f"TrainConfig.{name} must be finite and non-negative, got {value!r}")


def _check_ranges(config: TrainConfig) -> None:
    """The numeric rules beyond "non-negative", in the order they are reported."""
    if not config.lr > 0:
        raise TrainingError(f"TrainConfig.lr must be positive, got {config.lr!r}")
    if config.momentum >= 1:
        raise TrainingError(f"TrainConfig.momentum must be below 1, got {config.momentum!r}")
    if config.nesterov and config.momentum == 0:
        raise TrainingError(
            "TrainConfig.nesterov=True needs momentum > 0, got momentum=0; "
            "set nesterov=False for plain SGD"
        )
    if config.label_smoothing >= 1:
        raise TrainingError(
            f"TrainConfig.label_smoothing must lie in [0, 1), got {config.label_smoothing!r}"
        )
    if config.warmup_epochs >= config.epochs:
        raise TrainingError(
            f"TrainConfig.warmup_epochs ({config.warmup_epochs!r}) must be below epochs "
            f"({config.epochs}) so that the cosine phase has steps"
        )


def _check_options(config: TrainConfig) -> None:
    workers = config.num_workers
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 0:
        raise TrainingError(
            f"TrainConfig.num_workers must be a non-negative integer, got {workers!r}"
        )
    if config.amp is not None and not isinstance(config.amp, bool):
        raise TrainingError(f"TrainConfig.amp must be None, True or False, got {config.amp!r}")


@dataclass(frozen=True)
class TrainResult:
    """Outcome of :func:`~nasrank.training.train`.

    Attributes:
        train_accuracy: Running accuracy (%) over the last epoch's (augmented) training
            batches, in training mode — as NB-201 reports it.
        val_accuracy: Accuracy (%) on ``val_data`` at the end, or ``None``.
        test_accuracy: Accuracy (%) on ``test_data`` at the end, or ``None``.
        epochs: Completed epochs.
        seconds: Wall time of the completed epochs (summed over resumed calls) plus the
            final evaluation.
        device: Device trained on, e.g. ``"cpu"`` or ``"cuda:0"``.
        history: One dict per epoch: ``epoch`` (1-based), ``lr`` (of the epoch's last
            step), ``train_loss``, ``train_accuracy``, ``val_accuracy`` (``None`` without
            ``val_data``), ``seconds``.
    """

    train_accuracy: float
    val_accuracy: float | None
    test_accuracy: float | None
    epochs: int
    seconds: float
    device: str
    history: tuple[dict, ...]

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (JSON-ready)."""
        out = dataclasses.asdict(self)
        out["history"] = [dict(h) for h in self.history]
        return out
