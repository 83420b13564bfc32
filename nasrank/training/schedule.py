"""The learning-rate schedule: linear warm-up, then a per-step cosine to 0.

NB-201's scheduler is updated with the fractional epoch ``epoch + i / len(loader)`` at every
step. With ``S`` steps per epoch, ``T = epochs * S`` steps in all and
``W = round(warmup_epochs * S)`` warm-up steps, step ``s`` (0-based) uses::

    lr(s) = lr * (s + 1) / W                                     s < W  (linear warm-up)
    lr(s) = lr * (1 + cos(pi * (s - W) / (T - W))) / 2            otherwise

so without warm-up it is exactly NB-201's ``CosineAnnealingLR`` over epochs, evaluated at
every step. Data without a known length falls back to one step of the schedule per epoch.
"""

from __future__ import annotations

import math

from nasrank.training.config import TrainConfig

__all__ = ["learning_rate"]


def learning_rate(config: TrainConfig, step: int, steps_per_epoch: int) -> float:
    """Learning rate of 0-based ``step`` (see the module docstring for the formula)."""
    total = config.epochs * steps_per_epoch
    warmup = min(round(config.warmup_epochs * steps_per_epoch), total - 1)
    if step < warmup:
        return config.lr * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return config.lr * 0.5 * (1.0 + math.cos(math.pi * progress))
