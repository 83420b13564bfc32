"""Parameter and FLOP counts of torch models.

FLOPs follow the ptflops / NAS-Bench-201 ``get_model_infos`` convention, which is what
the ``flops`` scores stored in NAS-Bench-Suite-Zero were measured with (to within 0.01 %
on NAS-Bench-201): multiply-accumulates of convolutions and linear layers (plus one per
output element for a bias), one operation per window element for average/max pooling,
one per input element for adaptive pooling, two per element for an affine batch norm
(one without affine) and one per element for ReLU-family activations. Element-wise sums
are free. Counts are per input sample.
"""

from __future__ import annotations

from collections.abc import Sequence

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
    rows = out.numel() // m.out_features
    flops = rows * m.in_features * m.out_features
    if m.bias is not None:
        flops += rows * m.out_features
    return flops


def _pool_flops(m: nn.Module, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> int:
    kernel = 1
    for k in _pair(m.kernel_size):  # type: ignore[arg-type]
        kernel *= k
    return out.numel() * kernel


def _norm_flops(m: nn.Module, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> int:
    return out.numel() * (2 if getattr(m, "affine", False) else 1)


def _elementwise_flops(m: nn.Module, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> int:
    return out.numel()


def _adaptive_pool_flops(m: nn.Module, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> int:
    return inputs[0].numel()


_COUNTERS = (
    (nn.modules.conv._ConvNd, _conv_flops),
    (nn.Linear, _linear_flops),
    ((nn.AvgPool2d, nn.MaxPool2d, nn.AvgPool1d, nn.MaxPool1d), _pool_flops),
    ((nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d, nn.AdaptiveAvgPool1d), _adaptive_pool_flops),
    ((nn.modules.batchnorm._BatchNorm, nn.GroupNorm, nn.LayerNorm), _norm_flops),
    ((nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.ELU, nn.PReLU), _elementwise_flops),
)


@torch.no_grad()
def count_flops(
    model: nn.Module,
    input_shape: Sequence[int] = (3, 32, 32),
    *,
    example_input: torch.Tensor | None = None,
) -> int:
    """FLOPs of one forward pass of ``model`` on one sample (see module docstring).

    Args:
        model: Any module; it is run once in eval mode on a zero batch of size one and
            left in the mode it had.
        input_shape: Shape of one sample without the batch dimension.
        example_input: A batch to use instead of zeros (e.g. token ids); the count is
            divided by its batch size.
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
        model(x)
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return total // x.shape[0]
