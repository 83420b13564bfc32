"""Real training of the few architectures a search picks: SGD, cosine schedule, resumable.

The recipe is NAS-Bench-201's (Dong & Yang, ICLR 2020; reference implementation
D-X-Y/AutoDL-Projects ``xautodl/procedures`` with ``configs/nas-benchmark/hyper-opts``):
SGD with Nesterov momentum 0.9, weight decay ``5e-4`` on every parameter, learning rate
0.1 annealed by a cosine to 0 (:mod:`~nasrank.training.schedule`), batch 256,
cross-entropy, random crop (4 px padding) and horizontal flip. :class:`TrainConfig`
defaults to its 12-epoch schedule.

Devices and mixed precision: see :mod:`~nasrank.training.setup`. On CPU, training is
bitwise deterministic given ``seed`` (for a fixed number of threads): the shuffle order and
augmentation of each epoch come from seeds derived from ``(seed, epoch)``
(:mod:`~nasrank.training.epoch`), and the global torch RNG (used by e.g. dropout) is seeded
inside a :func:`torch.random.fork_rng` block, so the caller's RNG state is left untouched.
Checkpoints and resuming: see :mod:`~nasrank.training.checkpoint`.

Accuracies are percentages (0-100), like the benchmark tables searches compare them with.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from nasrank.training._data import maybe_materialize
from nasrank.training.checkpoint import (
    open_checkpoint,
    restore_checkpoint,
    run_fingerprint,
    save_epoch_checkpoint,
)
from nasrank.training.config import TrainConfig, TrainResult
from nasrank.training.epoch import EpochStats, train_epoch
from nasrank.training.errors import TrainingError
from nasrank.training.evaluation import evaluate
from nasrank.training.schedule import learning_rate
from nasrank.training.setup import TrainingSetup, prepare_training, resolve_device, seeded_rng

__all__ = ["train"]

logger = logging.getLogger(__name__)


def train(
    model: nn.Module,
    train_data: Any,
    *,
    config: TrainConfig = TrainConfig(),  # noqa: B008  (frozen, immutable default)
    val_data: Any = None,
    test_data: Any = None,
    device: str | torch.device | None = None,
    checkpoint_dir: str | Path | None = None,
    seed: int = 0,
    progress: Callable[[dict], None] | None = None,
    step_progress: Callable[[dict], None] | None = None,
) -> TrainResult:
    """Train ``model`` in place with SGD + cosine schedule; evaluate on val/test data.

    Args:
        model: A classifier returning logits ``(batch, classes)`` (or a tuple whose last
            element they are). Trained in place; it ends on ``device`` in its original
            train/eval mode.
        train_data: An :class:`~nasrank.data.ImageDataset` (or anything with
            ``iter_batches(batch_size, seed, shuffle=..., drop_last=...)`` yielding
            batches with ``inputs``/``targets`` or ``(inputs, targets)`` pairs). Lazily
            decoded image folders up to 2 GiB are decoded once up front.
        config: Hyper-parameters (default: NB-201's 12-epoch schedule).
        val_data: Evaluated after every epoch and at the end, if given.
        test_data: Evaluated at the end, if given.
        device: ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or a ``torch.device``; default CUDA
            when available.
        checkpoint_dir: Directory for the per-epoch checkpoint; a checkpoint of the same
            run found there is resumed (see :mod:`~nasrank.training.checkpoint`).
        seed: Seed of shuffling, augmentation and the global torch RNG inside the call.
        progress: Called after each epoch (after its checkpoint is written) with that
            epoch's history entry plus ``epochs`` (the total). An exception it raises
            stops training; the run can be resumed from the checkpoint.
        step_progress: Called after every optimiser step with ``epoch``, ``step`` (1-based
            within the epoch) and ``steps`` (per epoch, or ``None`` when unknown).

    Returns:
        A :class:`TrainResult` (accuracies in %).

    Raises:
        TrainingError: Bad config, device, seed or data (e.g. unlabelled).
        CheckpointMismatchError: ``checkpoint_dir`` holds a different run.
        CheckpointError: The checkpoint file is unreadable.
        TrainingDiverged: The training loss became NaN or infinite.
    """
    seed = _check_inputs(model, config, seed, train_data, val_data, test_data)
    dev = resolve_device(device)
    fingerprint = run_fingerprint(model, train_data, config, seed)
    ckpt_path, state = open_checkpoint(checkpoint_dir, fingerprint)
    train_data, val_data, test_data = _materialize(train_data, val_data, test_data)
    setup = prepare_training(model, train_data, config, dev)
    history: list[dict] = []
    start_epoch = 0
    was_training = model.training
    with seeded_rng(dev, seed):
        if state is not None:
            history, start_epoch = restore_checkpoint(state, ckpt_path, model, setup)
        for epoch in range(start_epoch, config.epochs):
            entry = _train_and_validate(
                model, train_data, val_data, config, setup, seed, epoch, step_progress
            )
            history.append(entry)
            _log_epoch(entry, config)
            if ckpt_path is not None:
                save_epoch_checkpoint(
                    ckpt_path,
                    fingerprint=fingerprint,
                    epoch=epoch + 1,
                    history=history,
                    model=model,
                    setup=setup,
                )
            if progress is not None:
                progress({**entry, "epochs": config.epochs})
    return _final_result(model, history, val_data, test_data, config, dev, was_training)


def _check_inputs(
    model: nn.Module, config: TrainConfig, seed: int, train_data: Any, val_data: Any, test_data: Any
) -> int:
    """The seed as a plain ``int``, after checking the types :func:`train` needs.

    Raises:
        TrainingError: A wrong type, a negative seed or unlabelled training data.
    """
    if not isinstance(config, TrainConfig):
        raise TrainingError(f"config must be a TrainConfig, got {type(config).__name__}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise TrainingError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    if not isinstance(model, nn.Module):
        raise TrainingError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    for name, data in (
        ("train_data", train_data),
        ("val_data", val_data),
        ("test_data", test_data),
    ):
        if data is not None and not hasattr(data, "iter_batches"):
            raise TrainingError(
                f"{name} must be an ImageDataset or have iter_batches(), got "
                f"{type(data).__name__}; wrap tensors with nasrank.data.from_tensors(x, y)"
            )
    if getattr(train_data, "labels", ...) is None:
        raise TrainingError(f"train_data {train_data!r} has no labels; training needs labels")
    return seed


def _materialize(train_data: Any, val_data: Any, test_data: Any) -> tuple[Any, Any, Any]:
    """The three splits, lazily decoded ones that fit decoded once, up front."""
    train_data = maybe_materialize(train_data, "training")
    val_data = maybe_materialize(val_data, "validation") if val_data is not None else None
    test_data = maybe_materialize(test_data, "test") if test_data is not None else None
    return train_data, val_data, test_data


def _train_and_validate(
    model: nn.Module,
    train_data: Any,
    val_data: Any,
    config: TrainConfig,
    setup: TrainingSetup,
    seed: int,
    epoch: int,
    step_progress: Callable[[dict], None] | None,
) -> dict[str, Any]:
    """Train 0-based ``epoch``, evaluate on ``val_data`` if given; the epoch's history record."""
    started = time.perf_counter()
    stats = train_epoch(
        model,
        train_data,
        config=config,
        setup=setup,
        seed=seed,
        epoch=epoch,
        step_progress=step_progress,
    )
    return _history_entry(model, val_data, config, setup, epoch, stats, started)


def _history_entry(
    model: nn.Module,
    val_data: Any,
    config: TrainConfig,
    setup: TrainingSetup,
    epoch: int,
    stats: EpochStats,
    started: float,
) -> dict[str, Any]:
    """The history record of 0-based ``epoch``, after evaluating on ``val_data`` if given."""
    val_acc = (
        evaluate(model, val_data, device=setup.device, amp=config.amp)
        if val_data is not None
        else None
    )
    steps = setup.steps_per_epoch
    return {
        "epoch": epoch + 1,
        "lr": float(setup.optimizer.param_groups[0]["lr"])
        if steps is None
        else learning_rate(config, (epoch + 1) * steps - 1, steps),
        "train_loss": stats.train_loss,
        "train_accuracy": stats.train_accuracy,
        "val_accuracy": val_acc,
        "seconds": time.perf_counter() - started,
    }


def _log_epoch(entry: dict[str, Any], config: TrainConfig) -> None:
    val_acc = entry["val_accuracy"]
    logger.info(
        "epoch %d/%d: loss %.4f, train %.2f %%, val %s, %.1f s",
        entry["epoch"],
        config.epochs,
        entry["train_loss"],
        entry["train_accuracy"],
        "-" if val_acc is None else f"{val_acc:.2f} %",
        entry["seconds"],
    )


def _final_result(
    model: nn.Module,
    history: list[dict],
    val_data: Any,
    test_data: Any,
    config: TrainConfig,
    dev: torch.device,
    was_training: bool,
) -> TrainResult:
    """Evaluate at the end (val only when no epoch did), restore the mode, sum the time."""
    started = time.perf_counter()
    val_acc = history[-1]["val_accuracy"] if history else None
    if val_data is not None and val_acc is None:
        val_acc = evaluate(model, val_data, device=dev, amp=config.amp)
    test_acc = (
        evaluate(model, test_data, device=dev, amp=config.amp) if test_data is not None else None
    )
    model.train(was_training)
    seconds = sum(h["seconds"] for h in history) + time.perf_counter() - started
    return TrainResult(
        train_accuracy=history[-1]["train_accuracy"],
        val_accuracy=val_acc,
        test_accuracy=test_acc,
        epochs=len(history),
        seconds=seconds,
        device=str(dev),
        history=tuple(history),
    )
