"""Parameter and FLOP counts of torch models.

FLOPs follow torchstat's convention, as used by NASLib's ``model_stats`` and hence by the
``flops`` scores stored in NAS-Bench-Suite-Zero (which this reproduces exactly on
NAS-Bench-201 and NAS-Bench-301): multiply-accumulates of convolutions (plus one per output
element for a bias) and of linear layers (no bias term), one operation per window element
for average/max pooling, two per element for an affine batch norm (one without affine),
one per element for ReLU-family activations, and for adaptive 2-D pooling
``(kh + 1) * (kw + 1)`` per output element over its ``kh x kw`` window (torchstat's
off-by-one, kept for comparability). Element-wise sums are free. Counts are per sample.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
from torch import nn

__all__ = ["count_params", "count_flops"]


def count_params(model: nn.Module, *, trainable_only: bool = False) -> int:
    """Number of parameters of ``model`` (shared tensors counted once)."""
    seen: set[int] = set()
    total = 0
    for p in model.parameters():
        if id(p) in seen or (trainable_only and not p.requires_grad):
            continue
        seen.add(id(p))
        total += p.numel()
    return total


def _pair(v: int | Sequence[int]) -> tuple[int, ...]:
    return tuple(v) if isinstance(v, Sequence) else (v, v)


def _conv_flops(m: nn.Module, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> int:
    assert isinstance(m, nn.modules.conv._ConvNd)
    kernel = 1
    for k in m.kernel_size:
        kernel *= k
    positions = out.numel() // out.shape[1]
    flops = kernel * m.in_channels * m.out_channels // m.groups * positions
    if m.bias is not None:
        flops += m.out_channels * positions
    return flops


def _linear_flops(m: nn.Module, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> int:
    assert isinstance(m, nn.Linear)
    return out.numel() // m.out_features * m.in_features * m.out_features


def _pool_flops(m: nn.Module, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> int:
    kernel = 1
    for k in _pair(m.kernel_size):  # type: ignore[arg-type]
        kernel *= k
    return out.numel() * kernel


def _norm_flops(m: nn.Module, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> int:
    return out.numel() * (2 if getattr(m, "affine", False) else 1)


def _elementwise_flops(m: nn.Module, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> int:
    return out.numel()


def _adaptive_pool1d_flops(
    m: nn.Module, inputs: tuple[torch.Tensor, ...], out: torch.Tensor
) -> int:
    return inputs[0].numel()


def _window(i: int, size: int, out_size: int) -> int:
    # Adaptive pooling window of output cell i: [floor(i*size/out), ceil((i+1)*size/out)).
    return math.ceil((i + 1) * size / out_size) - (i * size) // out_size


def _adaptive_pool2d_flops(
    m: nn.Module, inputs: tuple[torch.Tensor, ...], out: torch.Tensor
) -> int:
    x = inputs[0]
    (h, w), (oh, ow) = x.shape[-2:], out.shape[-2:]
    cells = sum(
        (_window(i, h, oh) + 1) * (_window(j, w, ow) + 1) for i in range(oh) for j in range(ow)
    )
    return x.numel() // (h * w) * cells


_COUNTERS = (
    (nn.modules.conv._ConvNd, _conv_flops),
    (nn.Linear, _linear_flops),
    ((nn.AvgPool2d, nn.MaxPool2d, nn.AvgPool1d, nn.MaxPool1d), _pool_flops),
    ((nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d), _adaptive_pool2d_flops),
    ((nn.AdaptiveAvgPool1d, nn.AdaptiveMaxPool1d), _adaptive_pool1d_flops),
    ((nn.modules.batchnorm._BatchNorm, nn.GroupNorm, nn.LayerNorm), _norm_flops),
    ((nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.ELU, nn.PReLU), _elementwise_flops),
)


@torch.no_grad()
def count_flops(
    model: nn.Module,
    input_shape: Sequence[int] = (3, 32, 32),
    *,
    example_input: torch.Tensor | None = None,
    extras: Mapping[str, torch.Tensor] | None = None,
) -> int:
    """FLOPs of one forward pass of ``model`` on one sample (see module docstring).

    Args:
        model: Any module; it is run once in eval mode on a zero batch of size one and
            left in the mode it had.
        input_shape: Shape of one sample without the batch dimension.
        example_input: A batch to use instead of zeros (e.g. token ids); the count is
            divided by its batch size.
        extras: Keyword tensors of the forward (``edge_index`` of a graph): the input is
            then one whole graph, and the count is that of the whole forward.
    """
    total = 0

    def hook(m: nn.Module, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        nonlocal total
        for types, counter in _COUNTERS:
            if isinstance(m, types):  # type: ignore[arg-type]
                total += counter(m, inputs, out)
                return

    handles = [m.register_forward_hook(hook) for m in model.modules()]
    was_training = model.training
    if example_input is None:
        device = next(model.parameters(), torch.empty(0)).device
        x = torch.zeros(1, *input_shape, device=device)
    else:
        x = example_input
    try:
        model.eval()
        model(x, **(extras or {}))
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return total if extras else total // x.shape[0]
