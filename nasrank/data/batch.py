"""The batch type that proxies and trainers consume."""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["Batch"]


@dataclass(frozen=True)
class Batch:
    """Inputs and (optionally) integer class targets, already normalised.

    Attributes:
        inputs: Model inputs, e.g. ``(N, 3, H, W)`` float images or ``(N, T)`` token ids.
        targets: ``(N,)`` int64 class labels, or ``None`` for label-free data.
        num_classes: Number of classes the targets index into (``None`` if unknown).
        source: Human-readable provenance ("cifar10:/path seed=0 n=64", "synthetic", ...),
            recorded in results so every score says what data produced it.
    """

    inputs: torch.Tensor
    targets: torch.Tensor | None = None
    num_classes: int | None = None
    source: str = "user"

    def __len__(self) -> int:
        return int(self.inputs.shape[0])

    def to(self, device: torch.device | str) -> Batch:
        """Return a copy on ``device``."""
        return Batch(
            self.inputs.to(device),
            None if self.targets is None else self.targets.to(device),
            self.num_classes,
            self.source,
        )
