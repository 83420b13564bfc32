"""flops: forward FLOPs per sample, in millions."""

from __future__ import annotations

import torch

from nasrank.complexity import count_flops
from nasrank.proxies._context import ProxyContext
from nasrank.proxies.registry import register_proxy

__all__ = ["flops"]


@register_proxy(
    "flops", needs_data=False, needs_labels=False, needs_grad=False, group="static", version="2",
)
def flops(ctx: ProxyContext) -> float:
    """FLOPs (the cost baseline of NAS-Bench-Suite-Zero, Krishnakumar et al., NeurIPS 2022
    D&B; Ning et al., NeurIPS 2021).

    ``count_flops(model, input_shape) / 1e6`` for one sample of the batch's shape (the
    ptflops / NAS-Bench-201 convention, see :mod:`nasrank.complexity`), counted on a copy.
    Uses only the input shape (integer inputs such as token ids: the first sample; a
    batch with extras, such as a graph: the whole forward on it).
    Larger = predicted better.
    """
    x = ctx.inputs
    model = ctx.copy()
    if ctx.extras:  # a graph: the whole forward
        return count_flops(model, example_input=x, extras=ctx.extras) / 1e6
    if torch.is_floating_point(x):
        return count_flops(model, tuple(x.shape[1:])) / 1e6
    return count_flops(model, example_input=x[:1]) / 1e6
