"""The batch type that proxies and trainers consume."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

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
        extras: Keyword tensors every forward receives besides the inputs,
            ``model(inputs, **extras)`` -- e.g. ``{"edge_index": (2, E)}`` for a graph
            batch, whose samples are its nodes. A batch with extras is not a set of
            independent samples: per-sample proxies refuse it.
    """

    inputs: torch.Tensor
    targets: torch.Tensor | None = None
    num_classes: int | None = None
    source: str = "user"
    extras: Mapping[str, torch.Tensor] = field(default_factory=dict, hash=False)

    def __len__(self) -> int:
        return int(self.inputs.shape[0])

    def to(self, device: torch.device | str) -> Batch:
        """Return a copy on ``device``."""
        return Batch(
            self.inputs.to(device),
            None if self.targets is None else self.targets.to(device),
            self.num_classes,
            self.source,
            {k: v.to(device) for k, v in self.extras.items()},
        )

    def fingerprint(self) -> str:
        """A stable hash of the batch's content: inputs, targets and extras (dtype, shape
        and bytes), batch size and class count.

        The same data gives the same fingerprint in every process and run (it does not
        depend on :attr:`source`, devices or memory layout), so it keys stored proxy
        scores (:mod:`nasrank.store`): two batches with the same fingerprint make every
        proxy compute the same thing.

        Returns:
            32 hexadecimal characters (128 bits of SHA-256).
        """
        h = hashlib.sha256(b"nasrank-batch-v1")
        h.update(f"n={len(self)};classes={self.num_classes}".encode())
        tensors = [("inputs", self.inputs), ("targets", self.targets)]
        # extras only when present, so batches without them keep their stored keys
        tensors += [(f"extra:{k}", self.extras[k]) for k in sorted(self.extras)]
        for name, t in tensors:
            if t is None:
                h.update(f";{name}=none".encode())
                continue
            cpu = t.detach().to("cpu").contiguous()
            h.update(f";{name}={cpu.dtype}{tuple(cpu.shape)}".encode())
            # raw bytes through a uint8 view: works for every dtype, bfloat16 included
            h.update(cpu.reshape(-1).view(torch.uint8).numpy().tobytes())
        return h.hexdigest()[:32]
