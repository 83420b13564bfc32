"""Average pooling as a depthwise convolution: the same numbers, several times faster on CPU.

PyTorch's CPU ``avg_pool2d`` kernel for channels-first tensors is slow at the shapes NAS
cells use (16-64 channels, 8-32 pixels): on a pool-heavy NB-201 cell it was 77 % of a
training step (``torch.profiler``), where a depthwise convolution with a kernel of ones
divided by the window's element count computes the same averages with forward + backward
1.8x (16 channels, 32x32), 4.2x (32, 16x16) and 5.9x (64, 8x8) faster (batch 64, 2
threads; docs/BENCHMARKS.md, issue 22). :class:`AvgPool2d` is an
``nn.AvgPool2d`` (same arguments, same ``state_dict``, no parameters; parameter and FLOP
counts treat it as the pooling it is) whose forward takes that route where it applies
and is the plain pooling otherwise, and during ONNX export so that exported graphs keep
their ``AveragePool`` node.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["AvgPool2d"]


class AvgPool2d(nn.AvgPool2d):
    """``nn.AvgPool2d`` computed as ``conv2d(x, ones, groups=C) / window count``.

    The convolution route covers floating-point ``(N, C, H, W)`` inputs without
    ``ceil_mode`` or ``divisor_override``; anything else, and ONNX export, runs
    ``nn.AvgPool2d.forward``. With ``count_include_pad=False`` the divisor at every output
    position is the number of window elements inside the input (the count map is one
    convolution of ones, cached per input size).
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._counts: dict[tuple[object, ...], torch.Tensor] = {}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self._conv_route(x):
            return super().forward(x)
        kh, kw = _pair(self.kernel_size)
        ones = x.new_ones(x.shape[1], 1, kh, kw)
        total = F.conv2d(x, ones, None, self.stride, self.padding, groups=x.shape[1])
        if self.count_include_pad or _pair(self.padding) == (0, 0):
            return total / (kh * kw)
        return total / self._count_map(x)

    def _conv_route(self, x: torch.Tensor) -> bool:
        return (
            x.dim() == 4
            and x.is_floating_point()
            and not self.ceil_mode
            and self.divisor_override is None
            and not torch.onnx.is_in_onnx_export()
            and not torch.jit.is_scripting()
        )

    def _count_map(self, x: torch.Tensor) -> torch.Tensor:
        """``(1, 1, H_out, W_out)``: input elements inside each output's window."""
        key = (x.shape[-2:], x.dtype, x.device)
        counts = self._counts.get(key)
        if counts is None:
            kh, kw = _pair(self.kernel_size)
            ones = torch.ones(1, 1, *x.shape[-2:], dtype=x.dtype, device=x.device)
            window = torch.ones(1, 1, kh, kw, dtype=x.dtype, device=x.device)
            counts = F.conv2d(ones, window, None, self.stride, self.padding)
            self._counts[key] = counts
        return counts


def _pair(v: int | tuple[int, ...]) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[-1]))
