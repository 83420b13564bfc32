"""One pass over the training data: seeded shuffle and augmentation, SGD steps.

On CPU an epoch is bitwise deterministic given ``seed`` (for a fixed number of threads):
the shuffle order and augmentation of epoch ``e`` come from seeds derived from
``(seed, e)``, so a resumed run repeats exactly the epochs an uninterrupted one would.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from nasrank.training._augment import augment
from nasrank.training._data import prefetch, unpack_batch
from nasrank.training.config import TrainConfig
from nasrank.training.errors import TrainingDiverged, TrainingError
from nasrank.training.evaluation import model_logits
from nasrank.training.setup import TrainingSetup, autocast

__all__ = ["EpochStats", "derived_seed", "train_epoch"]

#: Streams of :func:`derived_seed`: the shuffle order and the augmentation of an epoch.
SHUFFLE, AUGMENT = 1, 2


def derived_seed(seed: int, epoch: int, stream: int) -> int:
    """A 63-bit seed for ``stream`` of ``epoch``, independent of the other streams."""
    state = np.random.SeedSequence([seed, epoch, stream]).generate_state(1, dtype=np.uint64)
    return int(state[0]) & (2**63 - 1)


@dataclass(frozen=True)
class EpochStats:
    """Running loss and accuracy (%) over one epoch's training batches."""

    train_loss: float
    train_accuracy: float


def train_epoch(
    model: nn.Module,
    train_data: Any,
    *,
    config: TrainConfig,
    setup: TrainingSetup,
    seed: int,
    epoch: int,
    step_progress: Callable[[dict], None] | None = None,
) -> EpochStats:
    """Train ``model`` for 0-based ``epoch``; step the schedule (per step, or once at the end).

    Raises:
        TrainingError: A batch without labels, or no batches at all.
        TrainingDiverged: The epoch's loss is NaN or infinite.
    """
    dev = setup.device
    model.train()
    gen = torch.Generator().manual_seed(derived_seed(seed, epoch, AUGMENT))
    batches = train_data.iter_batches(
        config.batch_size,
        derived_seed(seed, epoch, SHUFFLE),
        shuffle=True,
        drop_last=setup.drop_last,
    )
    loss_sum = torch.zeros((), dtype=torch.float64, device=dev)
    correct = torch.zeros((), dtype=torch.long, device=dev)
    seen = 0
    for step, batch in enumerate(prefetch(batches, config.num_workers), 1):
        loss, logits, y = _train_step(model, batch, config=config, setup=setup, gen=gen)
        n = int(y.numel())
        loss_sum += loss.detach().double() * n
        correct += (logits.detach().argmax(1) == y).sum()
        seen += n
        if step_progress is not None:
            step_progress({"epoch": epoch + 1, "step": step, "steps": setup.steps_per_epoch})
    if setup.steps_per_epoch is None:
        setup.scheduler.step()
    if seen == 0:
        raise TrainingError("train_data yielded no batches")
    train_loss = float(loss_sum.item()) / seen
    if not math.isfinite(train_loss):
        raise TrainingDiverged(
            f"training loss is {train_loss} in epoch {epoch + 1}; lower the learning "
            f"rate (lr={config.lr}) or add warm-up"
        )
    return EpochStats(train_loss=train_loss, train_accuracy=100.0 * int(correct.item()) / seen)


def _train_step(
    model: nn.Module,
    batch: Any,
    *,
    config: TrainConfig,
    setup: TrainingSetup,
    gen: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One optimiser step on ``batch``; returns ``(loss, logits, targets)`` on the device."""
    dev = setup.device
    x, y = unpack_batch(batch)
    if y is None:
        raise TrainingError("train_data yielded a batch without labels")
    x, y = x.to(dev, non_blocking=True), y.to(dev, non_blocking=True)
    if config.augment and x.ndim == 4 and x.is_floating_point():
        x = augment(x, gen)  # on the device; random draws from the CPU `gen`
    if setup.channels_last and x.ndim == 4:
        x = x.contiguous(memory_format=torch.channels_last)
    with autocast(dev, setup.amp_dtype):
        logits = model_logits(model(x))
        loss = setup.criterion(logits.float(), y)
    setup.optimizer.zero_grad(set_to_none=True)
    setup.scaler.scale(loss).backward()
    setup.scaler.step(setup.optimizer)
    setup.scaler.update()
    if setup.steps_per_epoch is not None:
        setup.scheduler.step()
    return loss, logits, y
