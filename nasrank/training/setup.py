"""Everything a run needs before its first step: device, AMP, step count, optimiser, RNG.

Devices: CUDA when available (``device=None``), else CPU. On CUDA the model and inputs use
``channels_last``, cuDNN autotuning is enabled inside the call, and mixed precision is on by
default (bfloat16 where the GPU supports it, else float16 with a ``GradScaler``). The recipe
is NAS-Bench-201's: SGD with Nesterov momentum, weight decay on every parameter,
cross-entropy, the schedule of :mod:`nasrank.training.schedule`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from nasrank.training._data import data_length
from nasrank.training.config import TrainConfig
from nasrank.training.errors import TrainingError
from nasrank.training.schedule import learning_rate

__all__ = [
    "TrainingSetup",
    "amp_dtype",
    "autocast",
    "plan_steps",
    "prepare_training",
    "resolve_device",
    "seeded_rng",
]


def resolve_device(device: str | torch.device | None) -> torch.device:
    """The device to run on: CUDA when available for ``None``; ``cuda`` gets its index.

    Raises:
        TrainingError: An unknown device, or CUDA where none is available.
    """
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise TrainingError(f"unknown device {device!r}; use 'cpu', 'cuda' or 'cuda:N'") from exc
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise TrainingError(
                f"device {str(device)!r} requested but CUDA is not available; use 'cpu'"
            )
        if dev.index is None:
            dev = torch.device("cuda", torch.cuda.current_device())
    elif dev.type != "cpu":
        raise TrainingError(f"unsupported device {str(device)!r}; use 'cpu', 'cuda' or 'cuda:N'")
    return dev


def amp_dtype(config: TrainConfig, device: torch.device) -> torch.dtype | None:
    """The autocast dtype of ``config.amp`` on ``device``, or ``None`` without AMP."""
    enabled = config.amp if config.amp is not None else device.type == "cuda"
    if not enabled:
        return None
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16


def autocast(device: torch.device, dtype: torch.dtype | None) -> AbstractContextManager[Any]:
    """``torch.autocast`` to ``dtype``, or a no-op for ``None``."""
    if dtype is None:
        return nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def plan_steps(train_data: Any, batch_size: int) -> tuple[bool, int | None]:
    """``(drop_last, steps_per_epoch)``; steps are ``None`` for data of unknown length."""
    n_train = data_length(train_data)
    # A last batch of one sample breaks BatchNorm in training mode: drop it then.
    drop_last = n_train is not None and n_train > 1 and n_train % batch_size == 1
    steps_per_epoch: int | None = None
    if hasattr(train_data, "num_batches"):
        steps_per_epoch = int(train_data.num_batches(batch_size, drop_last=drop_last))
    elif n_train is not None:
        steps_per_epoch = n_train // batch_size if drop_last else -(-n_train // batch_size)
    return drop_last, steps_per_epoch


@dataclass
class TrainingSetup:
    """The parts of one run that :func:`prepare_training` builds and the epochs use.

    Attributes:
        device: The device trained on.
        amp_dtype: Autocast dtype, or ``None`` without mixed precision.
        channels_last: Whether the model and 4-D inputs use ``channels_last`` (CUDA).
        drop_last: Whether each epoch drops its last batch (it would hold one sample).
        steps_per_epoch: Optimiser steps per epoch, or ``None`` when the length is unknown.
        optimizer: SGD over every parameter.
        scheduler: Per-step :func:`~nasrank.training.schedule.learning_rate` (per epoch
            when ``steps_per_epoch`` is ``None``).
        scaler: Gradient scaler, enabled for float16 autocast only.
        criterion: Cross-entropy with the config's label smoothing.
    """

    device: torch.device
    amp_dtype: torch.dtype | None
    channels_last: bool
    drop_last: bool
    steps_per_epoch: int | None
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    scaler: torch.amp.GradScaler
    criterion: nn.Module


def prepare_training(
    model: nn.Module, train_data: Any, config: TrainConfig, device: torch.device
) -> TrainingSetup:
    """Move ``model`` to ``device`` and build its optimiser, schedule, scaler and loss."""
    drop_last, steps_per_epoch = plan_steps(train_data, config.batch_size)
    sched_steps = steps_per_epoch or 1  # unknown length: the schedule moves once per epoch
    dtype = amp_dtype(config, device)
    channels_last = device.type == "cuda"
    model.to(device)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(
        model.parameters(),
        lr=config.lr,
        momentum=config.momentum,
        nesterov=config.nesterov,
        weight_decay=config.weight_decay,
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: learning_rate(config, s, sched_steps) / config.lr
    )
    return TrainingSetup(
        device=device,
        amp_dtype=dtype,
        channels_last=channels_last,
        drop_last=drop_last,
        steps_per_epoch=steps_per_epoch,
        optimizer=optimizer,
        scheduler=scheduler,
        scaler=torch.amp.GradScaler("cuda", enabled=dtype == torch.float16),
        criterion=nn.CrossEntropyLoss(label_smoothing=config.label_smoothing),
    )


@contextmanager
def seeded_rng(device: torch.device, seed: int) -> Iterator[None]:
    """Seed the global torch RNG (and CUDA's) inside a fork; enable cuDNN autotuning.

    The caller's RNG state is restored on exit, so training leaves it untouched.
    """
    cuda_devices = [device.index] if device.type == "cuda" else []
    cudnn_flags: AbstractContextManager[Any] = (
        torch.backends.cudnn.flags(enabled=True, benchmark=True, deterministic=False)
        if device.type == "cuda"
        else nullcontext()
    )
    with torch.random.fork_rng(devices=cuda_devices), cudnn_flags:
        torch.default_generator.manual_seed(seed)
        if device.type == "cuda":
            with torch.cuda.device(device):
                torch.cuda.manual_seed(seed)
        yield
