"""The TransNAS-Bench-101 task networks (Duan et al., CVPR 2021): one encoder per
architecture (a ResNet-like macro skeleton of cells or basic blocks) and the decoder of
each task, written from the benchmark's definitions.

Encoder: stem (3x3 conv to C/2, stride 2, BN; ReLU-conv-BN to C, stride 2), then one
layer per macro code, each two blocks; code 1 keeps the shape, 2 doubles the channels,
3 halves the resolution, 4 does both. A micro architecture fixes the skeleton to
``64-41414`` and varies the cell (4 nodes, node ``j`` sums an op on every earlier node;
ops 0 zero, 1 skip/factorised reduce, 2 ReLU-conv1x1-BN, 3 ReLU-conv3x3-BN; only the
edges from the cell input change channels and stride). A macro architecture varies the
skeleton with ResNet basic blocks.

Decoders: global pool + linear (scene 63, object 100 classes; room layout 9 outputs),
the jigsaw's siamese pool + linear over the 9 tiles' features (1,000 permutations), the
segmentation decoder (convs and transposed convs up to the input size, 17 classes) and
the generative decoder of autoencoding and surface normals (3 channels, tanh).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["TNBNetwork", "Encoder", "TASK_KINDS"]

#: Task -> (decoder kind, default output count).
TASK_KINDS: dict[str, tuple[str, int]] = {
    "class_object": ("classify", 100),
    "class_scene": ("classify", 63),
    "room_layout": ("classify", 9),
    "jigsaw": ("jigsaw", 1000),
    "segmentsemantic": ("segment", 17),
    "autoencoder": ("generate", 3),
    "normal": ("generate", 3),
}


class ReLUConvBN(nn.Sequential):
    def __init__(
        self, c_in: int, c_out: int, kernel: int, stride: int, *, leaky: bool = False
    ) -> None:
        super().__init__(
            nn.LeakyReLU(0.2) if leaky else nn.ReLU(),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out),
        )


class Zero(nn.Module):
    """The 'none' op: zeros of the output shape."""

    def __init__(self, c_out: int, stride: int) -> None:
        super().__init__()
        self.c_out, self.stride = c_out, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.stride  # sliced rather than shaped by hand, so tracers follow it
        return x[:, :1, ::s, ::s].mul(0.0).expand(-1, self.c_out, -1, -1)


class FactorizedReduce(nn.Module):
    """ReLU, two 1x1 convs (the second on the input shifted by one pixel), concat, BN."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.relu = nn.ReLU()
        self.convs = nn.ModuleList(
            nn.Conv2d(c_in, half, 1, stride=stride, bias=False)
            for half in (c_out // 2, c_out - c_out // 2)
        )
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        shifted = nn.functional.pad(x, (0, 1, 0, 1))[:, :, 1:, 1:]
        return self.bn(torch.cat([self.convs[0](x), self.convs[1](shifted)], dim=1))


def make_op(code: str, c_in: int, c_out: int, stride: int) -> nn.Module:
    """Micro-cell op ``code`` (0 zero, 1 skip, 2 conv1x1, 3 conv3x3)."""
    if code == "0":
        return Zero(c_out, stride)
    if code == "1":
        return (
            nn.Identity()
            if stride == 1 and c_in == c_out
            else FactorizedReduce(c_in, c_out, stride)
        )
    return ReLUConvBN(c_in, c_out, 1 if code == "2" else 3, stride)


class MicroCell(nn.Module):
    """Nodes 1..3, node ``j`` = sum of ``op(j, i)(node i)`` over ``i < j``.

    Args:
        ops: Op codes per node, ``[["a"], ["b", "c"], ["d", "e", "f"]]``.
    """

    def __init__(self, ops: Sequence[Sequence[str]], c_in: int, c_out: int, stride: int):
        super().__init__()
        self.edges = nn.ModuleList()
        for codes in ops:
            for src, code in enumerate(codes):
                first = src == 0  # only the cell input changes channels and stride
                self.edges.append(
                    make_op(code, c_in if first else c_out, c_out, stride if first else 1)
                )
        self.fan_in = [len(codes) for codes in ops]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes, k = [x], 0
        for fan_in in self.fan_in:
            total = self.edges[k](nodes[0])
            for src in range(1, fan_in):
                total = total + self.edges[k + src](nodes[src])
            nodes.append(total)
            k += fan_in
        return nodes[-1]


class BasicBlock(nn.Module):
    """ResNet basic block of two ReLU-conv3x3-BN, with a 1x1 conv + BN shortcut when the
    shape changes."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1)
        self.downsample: nn.Module | None = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x if self.downsample is None else self.downsample(x)
        return residual + self.conv_b(self.conv_a(x))


class Encoder(nn.Module):
    """Stem and one two-block layer per macro code.

    Args:
        macro: Layer codes, e.g. ``"41414"``.
        cell: The micro cell's ops per node, or ``None`` for basic blocks.
        channels: Base channel count (64 in the benchmark).
    """

    def __init__(
        self, macro: str, cell: Sequence[Sequence[str]] | None, channels: int = 64
    ) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, channels // 2, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(channels // 2),
            ReLUConvBN(channels // 2, channels, 3, 2),
        )
        layers, c_in, self.reduction = [], channels, 4
        for code in map(int, macro):
            c_out = c_in * 2 if code % 2 == 0 else c_in
            stride = 2 if code > 2 else 1
            self.reduction *= stride
            blocks = []
            for i in range(2):
                s, c = (stride, c_in) if i == 0 else (1, c_out)
                blocks.append(
                    BasicBlock(c, c_out, s) if cell is None else MicroCell(cell, c, c_out, s)
                )
            layers.append(nn.Sequential(*blocks))
            c_in = c_out
        self.layers = nn.Sequential(*layers)
        self.out_channels = c_in

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(self.stem(x))


class _ConvLayer(nn.Sequential):
    """Conv (or transposed conv doubling the size) with bias, then BN and an activation."""

    def __init__(
        self, c_in: int, c_out: int, *, up: bool = False, norm: bool = True, act: nn.Module | None
    ) -> None:
        conv: nn.Module = (
            nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=1)
            if up
            else nn.Conv2d(c_in, c_out, 3, padding=1)
        )
        parts = [conv] + ([nn.BatchNorm2d(c_out)] if norm else []) + ([act] if act else [])
        super().__init__(*parts)


def _upsamplings(in_size: int, out_size: int) -> int:
    ups = int(math.log2(out_size / in_size))
    if ups not in range(2, 7) or in_size * 2**ups != out_size:
        raise ValueError(
            f"a dense decoder upsamples 2**2..2**6 times; the encoder's {in_size} px "
            f"feature map cannot reach {out_size} px (use an input size that is a power of 2)"
        )
    return ups


def segmentation_decoder(c_in: int, in_size: int, out_size: int, classes: int) -> nn.Sequential:
    """Conv to 1024, halving convs, halving transposed convs up to the output size."""
    ups = _upsamplings(in_size, out_size)
    act = nn.LeakyReLU(0.2)
    layers, c = [_ConvLayer(c_in, 1024, act=act)], 1024
    for _ in range(6 - ups):
        layers.append(_ConvLayer(c, c // 2, act=act))
        c //= 2
    for _ in range(ups - 1):
        layers.append(_ConvLayer(c, c // 2, up=True, act=act))
        c //= 2
    layers += [_ConvLayer(c, c, up=True, act=act), _ConvLayer(c, classes, norm=False, act=None)]
    return nn.Sequential(*layers)


def generative_decoder(c_in: int, in_size: int, out_size: int, channels: int) -> nn.Sequential:
    """The 14-layer conv / transposed-conv decoder of autoencoding and surface normals."""
    ups = _upsamplings(in_size, out_size)
    act = nn.LeakyReLU(0.2)
    plan = [  # (in, out, upsample?) -- the deepest upsamplings are used only when needed
        (c_in, 1024, False),
        (1024, 1024, False),
        (1024, 512, ups == 6),
        (512, 512, False),
        (512, 256, ups >= 5),
        (256, 128, False),
        (128, 64, ups >= 4),
        (64, 64, False),
        (64, 32, ups >= 3),
        (32, 32, False),
        (32, 16, True),
        (16, 32, False),
        (32, 16, True),
    ]
    layers = [_ConvLayer(i, o, up=u, act=act) for i, o, u in plan]
    layers.append(_ConvLayer(16, channels, norm=False, act=nn.Tanh()))
    return nn.Sequential(*layers)


class TNBNetwork(nn.Module):
    """Encoder + the decoder of one task.

    Jigsaw networks take an image whose height and width are 3 tiles each (e.g. 3 x 192
    x 192 for 64-pixel tiles): every tile goes through the shared encoder, the 9 feature
    vectors are concatenated for the classifier.

    Args:
        encoder: The architecture's encoder.
        task: A key of :data:`TASK_KINDS`.
        outputs: Classes / output channels (default: the task's).
        input_size: Input height = width (dense decoders upsample back to it).
    """

    def __init__(
        self, encoder: Encoder, task: str, outputs: int | None = None, input_size: int = 256
    ) -> None:
        super().__init__()
        kind, default = TASK_KINDS[task]
        outputs = default if outputs is None else int(outputs)
        self.encoder, self.kind = encoder, kind
        c = encoder.out_channels
        if kind == "classify":
            self.decoder: nn.Module = nn.Sequential(
                nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, outputs)
            )
        elif kind == "jigsaw":
            self.decoder = nn.Sequential(
                nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(9 * c, outputs)
            )
        else:
            build = segmentation_decoder if kind == "segment" else generative_decoder
            size = max(input_size // encoder.reduction, 1)
            self.decoder = build(c, size, input_size, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind != "jigsaw":
            return self.decoder(self.encoder(x))
        n, c, h, w = x.shape
        th, tw = h // 3, w // 3
        tiles = x[:, :, : 3 * th, : 3 * tw].reshape(n, c, 3, th, 3, tw)
        tiles = tiles.permute(0, 2, 4, 1, 3, 5).reshape(n, 9, c, th, tw)
        # tile by tile, as the benchmark does (batch-norm statistics per tile)
        features = torch.cat([self.encoder(tiles[:, i]) for i in range(9)], dim=1)
        return self.decoder(features)
