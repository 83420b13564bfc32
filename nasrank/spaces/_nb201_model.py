"""The NAS-Bench-201 network (Dong & Yang, ICLR 2020), re-implemented from the paper.

Reference implementation: D-X-Y/AutoDL-Projects ``xautodl/models/cell_infers`` (TinyNetwork,
InferCell, ResNetBasicblock and ``cell_operations``). Layer for layer the same shapes, so
parameter counts and FLOPs equal the benchmark's.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from nasrank.spaces._pooling import AvgPool2d

__all__ = ["NB201Network", "make_op"]


class ReLUConvBN(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=False),
            nn.BatchNorm2d(c_out),
        )


class Zero(nn.Module):
    """The ``none`` operation: contributes zeros of the output shape."""

    def __init__(self, stride: int) -> None:
        super().__init__()
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            return x.mul(0.0)
        return x[:, :, :: self.stride, :: self.stride].mul(0.0)


def make_op(name: str, channels: int) -> nn.Module:
    """One NB-201 edge operation at stride 1 with ``channels`` in and out."""
    if name == "none":
        return Zero(1)
    if name == "skip_connect":
        return nn.Identity()
    if name == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1, 1, 0)
    if name == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3, 1, 1)
    if name == "avg_pool_3x3":
        return AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise ValueError(f"unknown NB-201 operation {name!r}")


class Cell(nn.Module):
    """Four nodes; node j = sum over i < j of op_ij(node i). Output = node 3.

    Args:
        edges: ``((src, dst, op), ...)`` for the six edges.
        channels: Width of every node.
    """

    def __init__(self, edges: Sequence[tuple[int, int, str]], channels: int) -> None:
        super().__init__()
        self.edges = tuple((src, dst) for src, dst, _ in edges)
        self.ops = nn.ModuleList(make_op(op, channels) for _, _, op in edges)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for dst in (1, 2, 3):
            nodes.append(
                sum(op(nodes[src]) for (src, d), op in zip(self.edges, self.ops) if d == dst)
            )
        return nodes[3]


class ResidualReduction(nn.Module):
    """The residual block between stages: stride-2 ReLU-conv-BN x2 plus pooled 1x1 shortcut."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, 2, 1)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, 1)
        self.downsample = nn.Sequential(
            AvgPool2d(kernel_size=2, stride=2, padding=0),
            nn.Conv2d(c_in, c_out, kernel_size=1, stride=1, padding=0, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_b(self.conv_a(x)) + self.downsample(x)


class NB201Network(nn.Module):
    """Stem, three stages of ``cells_per_stage`` cells (C, 2C, 4C) joined by residual
    reductions, BN + ReLU, global average pooling and a linear classifier.

    Args:
        edges: The cell's six ``(src, dst, op)`` edges.
        channels: Width of the first stage (16 in the benchmark).
        cells_per_stage: Cells per stage (5 in the benchmark).
        num_classes: Output size.

    Shapes:
        input ``(N, 3, H, W)`` -> logits ``(N, num_classes)``.
    """

    def __init__(
        self,
        edges: Sequence[tuple[int, int, str]],
        *,
        channels: int = 16,
        cells_per_stage: int = 5,
        num_classes: int = 10,
    ) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(channels),
        )
        layers: list[nn.Module] = []
        c_prev = channels
        for stage in range(3):
            c = channels * 2**stage
            if stage > 0:
                layers.append(ResidualReduction(c_prev, c))
            layers.extend(Cell(edges, c) for _ in range(cells_per_stage))
            c_prev = c
        self.cells = nn.Sequential(*layers)
        self.lastact = nn.Sequential(nn.BatchNorm2d(c_prev), nn.ReLU(inplace=True))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.lastact(self.cells(self.stem(x)))
        return self.classifier(torch.flatten(self.global_pooling(x), 1))
