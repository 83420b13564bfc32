"""snip: connection sensitivity |w * dL/dw| summed over the network."""

from __future__ import annotations

import torch

from nasrank.proxies._context import ProxyContext
from nasrank.proxies._passes import loss_grads
from nasrank.proxies.registry import register_proxy

__all__ = ["snip"]


@register_proxy(
    "snip", needs_data=True, needs_labels=True, needs_grad=True, group="train",
    requires={"loss_grads"}, version="2",
)
def snip(ctx: ProxyContext) -> float:
    """SNIP (Lee et al., "SNIP: Single-shot Network Pruning based on Connection
    Sensitivity", ICLR 2019), as a zero-cost proxy by Abdelfattah et al. (ICLR 2021).

    ``sum over conv/linear weights w of |w * dL/dw|`` -- the gradient of the loss w.r.t. a
    multiplicative mask on each weight, at mask = 1 -- on a train-mode copy (batch-norm
    batch statistics), loss = mean batch loss. Larger = predicted better.

    Reference implementation: SamsungLabs/zero-cost-nas ``measures/snip.py`` (NASLib's copy).
    """
    lg = loss_grads(ctx)
    total = torch.zeros((), dtype=torch.float64)
    for w, g in zip(lg.weights, lg.grads):
        if g is not None:
            total += (w.detach() * g).abs().sum(dtype=torch.float64).cpu()
    return float(total)
