"""NB-201's training augmentation, on the device, with random draws from a CPU generator."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["augment"]


def augment(x: torch.Tensor, gen: torch.Generator, pad: int = 4) -> torch.Tensor:
    """Random crop with ``pad`` px zero padding and random horizontal flip, per sample.

    Shapes:
        ``x``: ``(N, C, H, W)``; the result has the same shape.
    """
    n, _, h, w = x.shape
    offsets = torch.randint(0, 2 * pad + 1, (2, n), generator=gen)
    flips = torch.rand(n, generator=gen) < 0.5
    padded = nn.functional.pad(x, (pad, pad, pad, pad))
    rows = (offsets[0][:, None] + torch.arange(h)[None, :]).to(x.device)
    cols = (offsets[1][:, None] + torch.arange(w)[None, :]).to(x.device)
    flips = flips.to(x.device)
    cols = torch.where(flips[:, None], cols.flip(1), cols)
    batch_idx = torch.arange(n, device=x.device)[:, None, None]
    # (n, h, w, c) -> (n, c, h, w)
    out = padded.permute(0, 2, 3, 1)[batch_idx, rows[:, :, None], cols[:, None, :]]
    return out.permute(0, 3, 1, 2).contiguous()
