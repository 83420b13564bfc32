"""The NAS-Bench-101 network (Ying et al., "NAS-Bench-101: Towards Reproducible Neural
Architecture Search", ICML 2019), re-implemented from the paper.

Reference semantics: google-research/nasbench ``nasbench/lib/model_builder.py``
(``build_model_fn``, ``build_module``, ``compute_vertex_channels``, ``projection``,
``truncate``) and ``base_ops.py``. Layer for layer the same shapes, so parameter counts
equal the benchmark's (and NASLib's PyTorch port that NAS-Bench-Suite-Zero scored).

The network: a 3x3 conv-BN-ReLU stem of 128 channels, then 3 stacks of 3 cells; before the
second and third stack a 2x2 max-pool halves the resolution and the cells double their
output channels. Inside a cell, the output channels are split evenly (remainder to the
first vertices) over the interior vertices that feed the output, which are concatenated;
other interior vertices take the largest width of their successors; an interior vertex
sums its inputs -- other vertices truncated to its width (first channels), the cell input
through a 1x1 conv-BN-ReLU projection. An input->output edge adds a projection of the
cell input to the concatenation. Global average pooling and a linear classifier end it.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["NB101Network", "NB101Cell", "compute_vertex_channels"]


class ConvBNReLU(nn.Sequential):
    """``base_ops.conv_bn_relu``: conv (no bias, 'same' padding), batch norm, ReLU."""

    def __init__(self, c_in: int, c_out: int, kernel: int) -> None:
        super().__init__(
            nn.Conv2d(c_in, c_out, kernel, stride=1, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out, eps=1e-5, momentum=0.003),
            nn.ReLU(inplace=False),
        )


def compute_vertex_channels(c_in: int, c_out: int, matrix: Sequence[Sequence[int]]) -> list[int]:
    """Width of every vertex of a (pruned) cell, by the benchmark's splitting rule.

    Vertex 0 has ``c_in`` channels and the output ``c_out``. The interior vertices feeding
    the output share ``c_out`` evenly, the first ``c_out % k`` of them one channel more;
    every other interior vertex, from last to first, takes the maximum width of the
    interior vertices it feeds.
    """
    n = len(matrix)
    channels = [0] * n
    channels[0] = c_in
    channels[n - 1] = c_out
    if n == 2:
        return channels
    fan_in = sum(matrix[v][n - 1] for v in range(1, n - 1))
    base, extra = divmod(c_out, fan_in)
    for v in range(1, n - 1):
        if matrix[v][n - 1]:
            channels[v] = base + (1 if extra > 0 else 0)
            extra -= 1
    for v in range(n - 3, 0, -1):
        if not matrix[v][n - 1]:
            for dst in range(v + 1, n - 1):
                if matrix[v][dst]:
                    channels[v] = max(channels[v], channels[dst])
    assert all(c > 0 for c in channels), channels
    return channels


def _vertex_op(name: str, channels: int) -> nn.Module:
    if name == "conv3x3-bn-relu":
        return ConvBNReLU(channels, channels, 3)
    if name == "conv1x1-bn-relu":
        return ConvBNReLU(channels, channels, 1)
    if name == "maxpool3x3":
        return nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
    raise ValueError(f"unknown NAS-Bench-101 operation {name!r}")


class NB101Cell(nn.Module):
    """One NAS-Bench-101 module (``model_builder.build_module``).

    Args:
        matrix: Pruned upper-triangular adjacency, ``n x n`` (``n`` >= 2).
        ops: ``n`` op names, ``input`` first and ``output`` last.
        c_in: Channels of the cell input.
        c_out: Channels of the cell output.

    Shapes:
        ``(N, c_in, H, W)`` -> ``(N, c_out, H, W)``.
    """

    def __init__(
        self, matrix: Sequence[Sequence[int]], ops: Sequence[str], c_in: int, c_out: int
    ) -> None:
        super().__init__()
        n = len(matrix)
        self.num_vertices = n
        self.vertex_channels = compute_vertex_channels(c_in, c_out, matrix)
        # Interior predecessors (truncated) and whether the cell input feeds each vertex.
        self.preds = tuple(tuple(src for src in range(1, t) if matrix[src][t]) for t in range(n))
        self.from_input = tuple(bool(matrix[0][t]) for t in range(n))
        self.to_output = tuple(t for t in range(1, n - 1) if matrix[t][n - 1])
        self.projections = nn.ModuleDict(
            {
                str(t): ConvBNReLU(c_in, self.vertex_channels[t], 1)
                for t in range(1, n)
                if self.from_input[t]
            }
        )
        self.vertex_ops = nn.ModuleDict(
            {str(t): _vertex_op(ops[t], self.vertex_channels[t]) for t in range(1, n - 1)}
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = self.num_vertices
        tensors: list[torch.Tensor] = [x]
        for t in range(1, n - 1):
            width = self.vertex_channels[t]
            fan_in = [tensors[src][:, :width] for src in self.preds[t]]
            if self.from_input[t]:
                fan_in.append(self.projections[str(t)](x))
            total = fan_in[0]
            for extra in fan_in[1:]:
                total = total + extra
            tensors.append(self.vertex_ops[str(t)](total))
        if not self.to_output:
            return self.projections[str(n - 1)](x)
        if len(self.to_output) == 1:
            out = tensors[self.to_output[0]]
        else:
            out = torch.cat([tensors[t] for t in self.to_output], dim=1)
        if self.from_input[n - 1]:
            out = out + self.projections[str(n - 1)](x)
        return out


class NB101Network(nn.Module):
    """Stem, ``num_stacks`` stacks of ``cells_per_stack`` cells with 2x2 max-pool
    downsampling and channel doubling between stacks, global average pool, linear.

    Args:
        matrix: The cell's pruned adjacency matrix.
        ops: The cell's op names (``input`` ... ``output``).
        stem_channels: Stem width, also the first stack's width (128 in the benchmark).
        num_stacks: Number of stacks (3).
        cells_per_stack: Cells per stack (3).
        num_classes: Output size.

    Shapes:
        input ``(N, 3, H, W)`` -> logits ``(N, num_classes)``.
    """

    def __init__(
        self,
        matrix: Sequence[Sequence[int]],
        ops: Sequence[str],
        *,
        stem_channels: int = 128,
        num_stacks: int = 3,
        cells_per_stack: int = 3,
        num_classes: int = 10,
    ) -> None:
        super().__init__()
        self.stem = ConvBNReLU(3, stem_channels, 3)
        layers: list[nn.Module] = []
        c_in = c_out = stem_channels
        for stack in range(num_stacks):
            if stack > 0:
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
                c_out *= 2
            for _ in range(cells_per_stack):
                layers.append(NB101Cell(matrix, ops, c_in, c_out))
                c_in = c_out
        self.cells = nn.Sequential(*layers)
        self.classifier = nn.Linear(c_out, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.cells(self.stem(x))
        # The benchmark pools with a plain mean (tf.reduce_mean), not a pooling layer.
        return self.classifier(x.mean(dim=(2, 3)))
