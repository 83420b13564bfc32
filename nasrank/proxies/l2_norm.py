"""l2_norm: summed norms of the conv/linear weights."""

from __future__ import annotations

import torch

from nasrank.proxies._context import ProxyContext, weight_layers
from nasrank.proxies.registry import register_proxy

__all__ = ["l2_norm"]


@register_proxy(
    "l2_norm", needs_data=False, needs_labels=False, needs_grad=False, group="static", version="2",
)
def l2_norm(ctx: ProxyContext) -> float:
    """L2 norm (Abdelfattah et al., ICLR 2021; NAS-Bench-Suite-Zero, Krishnakumar et al.,
    NeurIPS 2022 D&B).

    ``sum over conv/linear layers of ||W||_2`` (Frobenius norm of each weight tensor) at
    the model's current weights. Data-free. Larger = predicted better.

    Reference implementation: NASLib ``measures/l2_norm.py``.
    """
    total = torch.zeros((), dtype=torch.float64)
    with torch.no_grad():
        for m in weight_layers(ctx.model):
            total += m.weight.detach().to(torch.float64).norm().cpu()
    return float(total)
