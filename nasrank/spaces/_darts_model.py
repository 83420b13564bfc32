"""The DARTS network (Liu, Simonyan & Yang, "DARTS: Differentiable Architecture Search",
ICLR 2019), re-implemented from the paper and the semantics of its reference code
(quark0/darts ``cnn/operations.py`` and ``cnn/model.py``: ``NetworkCIFAR``, ``Cell``,
``AuxiliaryHeadCIFAR``), which NAS-Bench-301 (Siems et al., 2020) and
NAS-Bench-Suite-Zero (Krishnakumar et al., NeurIPS 2022) build on.

* Operations are ReLU-Conv-BN blocks: a separable convolution is a depthwise + pointwise
  convolution applied twice (the stride only in the first), a dilated convolution is one
  dilated depthwise + pointwise convolution, ``skip_connect`` at stride 2 is a
  factorized reduction (two offset stride-2 1x1 convolutions, concatenated).
* A cell preprocesses its two inputs to ``C`` channels (1x1 ReLU-Conv-BN, or a factorized
  reduction of the older input when the previous cell halved the resolution); each of its
  four intermediate nodes sums two operations of earlier states; the output concatenates
  the four nodes (``4 C`` channels). In a reduction cell the edges leaving the two cell
  inputs have stride 2.
* The network is a 3x3 stem of ``stem_multiplier * C`` channels, ``layers`` cells with the
  width doubled and the resolution halved at cells ``layers // 3`` and ``2 * layers // 3``,
  global average pooling and a linear classifier; an optional auxiliary head reads the
  output of cell ``2 * layers // 3`` during training.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from nasrank.spaces._pooling import AvgPool2d

__all__ = ["DartsNetwork", "DartsCell", "DartsCellPair", "AuxiliaryHead", "make_op"]


class ReLUConvBN(nn.Sequential):
    """ReLU, convolution without bias, batch norm."""

    def __init__(
        self, c_in: int, c_out: int, kernel: int, stride: int, padding: int, affine: bool = True
    ) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=False),
            nn.BatchNorm2d(c_out, affine=affine),
        )


class DilConv(nn.Sequential):
    """ReLU, dilated depthwise convolution, pointwise convolution, batch norm."""

    def __init__(
        self,
        c_in: int,
        c_out: int,
        kernel: int,
        stride: int,
        padding: int,
        dilation: int,
        affine: bool = True,
    ) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(
                c_in,
                c_in,
                kernel,
                stride=stride,
                padding=padding,
                dilation=dilation,
                groups=c_in,
                bias=False,
            ),
            nn.Conv2d(c_in, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out, affine=affine),
        )


class SepConv(nn.Sequential):
    """A separable convolution block applied twice (stride only in the first): the
    DARTS ``sep_conv`` operations."""

    def __init__(
        self, c_in: int, c_out: int, kernel: int, stride: int, padding: int, affine: bool = True
    ) -> None:
        super().__init__(
            DilConv(c_in, c_in, kernel, stride, padding, dilation=1, affine=affine),
            DilConv(c_in, c_out, kernel, 1, padding, dilation=1, affine=affine),
        )


class FactorizedReduce(nn.Module):
    """Halve the resolution with two stride-2 1x1 convolutions, the second shifted by one
    pixel, each giving half the output channels; ReLU before, batch norm after."""

    def __init__(self, c_in: int, c_out: int, affine: bool = True) -> None:
        super().__init__()
        if c_out % 2:
            raise ValueError(f"FactorizedReduce needs an even number of channels, got {c_out}")
        self.relu = nn.ReLU(inplace=False)
        self.conv_a = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.conv_b = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.bn = nn.BatchNorm2d(c_out, affine=affine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        return self.bn(torch.cat([self.conv_a(x), self.conv_b(x[:, :, 1:, 1:])], dim=1))


def make_op(
    name: str, channels: int, stride: int, *, affine: bool = True, pool_bn: bool = False
) -> nn.Module:
    """One DARTS operation with ``channels`` in and out at ``stride`` (1 or 2).

    Args:
        affine: Learnable scale and shift in the operation's batch norms (DARTS
            evaluation network: yes; NASLib's NAS-Bench-301 graph: no).
        pool_bn: Follow the pooling operations by a non-affine batch norm (NASLib).
    """
    if name in ("max_pool_3x3", "avg_pool_3x3"):
        pool: nn.Module = (
            nn.MaxPool2d(3, stride=stride, padding=1)
            if name == "max_pool_3x3"
            else AvgPool2d(3, stride=stride, padding=1, count_include_pad=False)
        )
        return nn.Sequential(pool, nn.BatchNorm2d(channels, affine=False)) if pool_bn else pool
    if name == "skip_connect":
        return nn.Identity() if stride == 1 else FactorizedReduce(channels, channels, affine)
    if name == "sep_conv_3x3":
        return SepConv(channels, channels, 3, stride, 1, affine)
    if name == "sep_conv_5x5":
        return SepConv(channels, channels, 5, stride, 2, affine)
    if name == "dil_conv_3x3":
        return DilConv(channels, channels, 3, stride, 2, dilation=2, affine=affine)
    if name == "dil_conv_5x5":
        return DilConv(channels, channels, 5, stride, 4, dilation=2, affine=affine)
    raise ValueError(f"unknown DARTS operation {name!r}")


def _drop_path(x: torch.Tensor, drop_prob: float) -> torch.Tensor:
    """Zero whole samples with probability ``drop_prob`` and rescale the rest."""
    keep = 1.0 - drop_prob
    mask = torch.empty(x.size(0), 1, 1, 1, device=x.device, dtype=x.dtype).bernoulli_(keep)
    return x / keep * mask


class DartsCell(nn.Module):
    """One DARTS cell.

    Args:
        edges: Eight ``(op, input)`` pairs; entries ``2i`` and ``2i + 1`` feed node
            ``i + 2``; input 0 / 1 are the cell's two inputs (outputs of the cells two
            and one back), ``2..`` the intermediate nodes.
        c_prev_prev: Channels of the older cell input.
        c_prev: Channels of the newer cell input.
        channels: Width ``C`` of every node; the cell outputs ``4 C`` channels.
        reduction: Whether this cell halves the resolution.
        reduction_prev: Whether the previous cell halved it (the older input is then at
            twice this cell's input resolution and is reduced while preprocessed).
        affine: Affine batch norms inside the edge operations (the preprocessing is
            always affine).
        pool_bn: Non-affine batch norm after the pooling operations.
    """

    def __init__(
        self,
        edges: Sequence[tuple[str, int]],
        c_prev_prev: int,
        c_prev: int,
        channels: int,
        *,
        reduction: bool,
        reduction_prev: bool,
        affine: bool = True,
        pool_bn: bool = False,
    ) -> None:
        super().__init__()
        self.reduction = reduction
        self.preprocess0: nn.Module = (
            FactorizedReduce(c_prev_prev, channels)
            if reduction_prev
            else ReLUConvBN(c_prev_prev, channels, 1, 1, 0)
        )
        self.preprocess1 = ReLUConvBN(c_prev, channels, 1, 1, 0)
        self.inputs = tuple(src for _, src in edges)
        self.ops = nn.ModuleList(
            make_op(op, channels, 2 if reduction and src < 2 else 1, affine=affine, pool_bn=pool_bn)
            for op, src in edges
        )
        self.num_nodes = len(edges) // 2

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, drop_prob: float = 0.0) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for node in range(self.num_nodes):
            total = None
            for k in (2 * node, 2 * node + 1):
                op = self.ops[k]
                h = op(states[self.inputs[k]])
                if self.training and drop_prob > 0.0 and not isinstance(op, nn.Identity):
                    h = _drop_path(h, drop_prob)
                total = h if total is None else total + h
            assert total is not None
            states.append(total)
        return torch.cat(states[2:], dim=1)


class DartsCellPair(nn.Module):
    """A normal cell followed by a reduction cell, both reading ``4 C``-channel states
    at the same resolution: the cell-level graph of a DARTS genotype.

    Args:
        normal: Eight ``(op, input)`` pairs of the normal cell (see :class:`DartsCell`).
        reduce: Eight ``(op, input)`` pairs of the reduction cell.
        channels: Width ``C`` of the normal cell (the reduction cell has ``2 C``).
        affine: See :class:`DartsCell`.
        pool_bn: See :class:`DartsCell`.
    """

    def __init__(
        self,
        normal: Sequence[tuple[str, int]],
        reduce: Sequence[tuple[str, int]],
        channels: int,
        *,
        affine: bool = True,
        pool_bn: bool = False,
    ) -> None:
        super().__init__()
        c4 = 4 * channels
        self.normal = DartsCell(
            normal, c4, c4, channels, reduction=False, reduction_prev=False,
            affine=affine, pool_bn=pool_bn,
        )  # fmt: skip
        self.reduce = DartsCell(
            reduce, c4, c4, 2 * channels, reduction=True, reduction_prev=False,
            affine=affine, pool_bn=pool_bn,
        )  # fmt: skip

    def forward(self, s0: torch.Tensor, s1: torch.Tensor) -> torch.Tensor:
        s2 = self.normal(s0, s1)
        return self.reduce(s1, s2)


class AuxiliaryHead(nn.Module):
    """The DARTS CIFAR auxiliary classifier, for an 8x8 input: ReLU, 5x5 average pool at
    stride 3, 1x1 conv to 128, BN, ReLU, 2x2 conv to 768, BN, ReLU, linear."""

    def __init__(self, channels: int, num_classes: int) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.ReLU(inplace=False),
            AvgPool2d(5, stride=3, padding=0, count_include_pad=False),
            nn.Conv2d(channels, 128, 1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=False),
            nn.Conv2d(128, 768, 2, bias=False),
            nn.BatchNorm2d(768),
            nn.ReLU(inplace=False),
        )
        self.classifier = nn.Linear(768, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.features(x), 1))


class DartsNetwork(nn.Module):
    """The DARTS CIFAR network for a genotype.

    ``channels=16, layers=8`` is the search-phase network that NAS-Bench-Suite-Zero scored
    (16/32/64 channels over three stages, stem of 48 channels); ``channels=36,
    layers=20, auxiliary=True`` is the DARTS evaluation network.

    Args:
        normal: The normal cell's eight ``(op, input)`` pairs.
        reduce: The reduction cell's eight ``(op, input)`` pairs.
        channels: Initial width ``C``.
        layers: Number of cells; reductions at ``layers // 3`` and ``2 * layers // 3``.
        num_classes: Output size.
        stem_multiplier: The stem outputs ``stem_multiplier * C`` channels.
        auxiliary: Add the auxiliary head after cell ``2 * layers // 3``. Its logits are
            computed only in training mode and stored in :attr:`aux_logits` (``forward``
            always returns the main logits).
        affine: Affine batch norms inside the cells' edge operations (DARTS: ``True``;
            NASLib's NAS-Bench-301 graph, scored by NAS-Bench-Suite-Zero: ``False``).
        pool_bn: Non-affine batch norm after each pooling edge (NASLib: ``True``).

    Attributes:
        drop_path_prob: Probability of dropping a non-identity edge per sample in
            training mode (0 at initialisation; a trainer may schedule it).
        aux_logits: Auxiliary logits of the last training-mode forward, else ``None``.

    Shapes:
        input ``(N, 3, H, W)`` -> logits ``(N, num_classes)``.
    """

    def __init__(
        self,
        normal: Sequence[tuple[str, int]],
        reduce: Sequence[tuple[str, int]],
        *,
        channels: int = 16,
        layers: int = 8,
        num_classes: int = 10,
        stem_multiplier: int = 3,
        auxiliary: bool = False,
        affine: bool = True,
        pool_bn: bool = False,
    ) -> None:
        super().__init__()
        if layers < 3:
            raise ValueError(f"a DARTS network needs at least 3 cells, got layers={layers}")
        if channels < 1 or channels % 2:
            raise ValueError(f"channels must be a positive even number, got {channels}")
        self.drop_path_prob = 0.0
        self.aux_logits: torch.Tensor | None = None
        c_stem = stem_multiplier * channels
        self.stem = nn.Sequential(
            nn.Conv2d(3, c_stem, 3, padding=1, bias=False), nn.BatchNorm2d(c_stem)
        )
        c_prev_prev, c_prev, c = c_stem, c_stem, channels
        self.reductions = (layers // 3, 2 * layers // 3)
        self.aux_position = 2 * layers // 3
        cells = []
        reduction_prev = False
        c_aux = c_prev
        for i in range(layers):
            reduction = i in self.reductions
            if reduction:
                c *= 2
            cell = DartsCell(
                reduce if reduction else normal,
                c_prev_prev,
                c_prev,
                c,
                reduction=reduction,
                reduction_prev=reduction_prev,
                affine=affine,
                pool_bn=pool_bn,
            )
            cells.append(cell)
            reduction_prev = reduction
            c_prev_prev, c_prev = c_prev, cell.num_nodes * c
            if i == self.aux_position:
                c_aux = c_prev
        self.cells = nn.ModuleList(cells)
        self.auxiliary_head = AuxiliaryHead(c_aux, num_classes) if auxiliary else None
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.aux_logits = None
        s0 = s1 = self.stem(x)
        for i, cell in enumerate(self.cells):
            s0, s1 = s1, cell(s0, s1, self.drop_path_prob)
            if i == self.aux_position and self.auxiliary_head is not None and self.training:
                self.aux_logits = self.auxiliary_head(s1)
        return self.classifier(torch.flatten(self.global_pooling(s1), 1))
