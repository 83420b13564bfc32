"""Accuracy of a classifier on every sample of a data split, in eval mode."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from nasrank.training._data import unpack_batch
from nasrank.training.config import TrainConfig
from nasrank.training.errors import TrainingError
from nasrank.training.setup import amp_dtype, autocast, resolve_device

__all__ = ["evaluate", "model_logits"]


def model_logits(output: Any) -> torch.Tensor:
    """Models that return ``(features, logits)`` (NB-201's reference code) give the last.

    Raises:
        TrainingError: The output is not a ``(batch, classes)`` tensor.
    """
    if isinstance(output, (tuple, list)):
        output = output[-1]
    if not isinstance(output, torch.Tensor) or output.ndim != 2:
        shape = tuple(output.shape) if isinstance(output, torch.Tensor) else type(output).__name__
        raise TrainingError(f"the model must return logits of shape (batch, classes), got {shape}")
    return output


def evaluate(
    model: nn.Module,
    data: Any,
    *,
    batch_size: int = 512,
    device: str | torch.device | None = None,
    amp: bool | None = None,
) -> float:
    """Accuracy (%) of ``model`` on every sample of ``data``, in eval mode.

    Args:
        model: The classifier (moved to ``device``; its train/eval mode is restored).
        data: An :class:`~nasrank.data.ImageDataset` or anything with ``iter_batches``.
        batch_size: Samples per forward pass.
        device: Default: the device of the model's first parameter.
        amp: Mixed precision as in :class:`~nasrank.training.TrainConfig` (``None``: on
            for CUDA).

    Raises:
        TrainingError: Unlabelled data, or a model that does not return logits.
    """
    if device is None:
        param = next(model.parameters(), None)
        dev = param.device if param is not None else torch.device("cpu")
    else:
        dev = resolve_device(device)
    dtype = amp_dtype(TrainConfig(epochs=1, amp=amp), dev)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            correct, total = _count_correct(model, data, batch_size, dev, dtype)
    finally:
        model.train(was_training)
    if total == 0:
        raise TrainingError("evaluation data yielded no samples")
    return 100.0 * correct / total


def _count_correct(
    model: nn.Module, data: Any, batch_size: int, dev: torch.device, dtype: torch.dtype | None
) -> tuple[int, int]:
    """``(correct predictions, samples)`` over one unshuffled pass of ``data``."""
    channels_last = dev.type == "cuda"
    correct = torch.zeros((), dtype=torch.long, device=dev)
    total = 0
    for batch in data.iter_batches(batch_size, 0, shuffle=False):
        x, y = unpack_batch(batch)
        if y is None:
            raise TrainingError("evaluation data has no labels; accuracy needs labels")
        x, y = x.to(dev, non_blocking=True), y.to(dev, non_blocking=True)
        if channels_last and x.ndim == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        with autocast(dev, dtype):
            logits = model_logits(model(x))
        correct += (logits.argmax(1) == y).sum()
        total += int(y.numel())
    return int(correct.item()), total
