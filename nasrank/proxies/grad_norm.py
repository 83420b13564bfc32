"""grad_norm: the summed norms of the loss gradients (zero-cost-nas convention)."""

from __future__ import annotations

import torch

from nasrank.proxies._context import ProxyContext
from nasrank.proxies._passes import loss_grads
from nasrank.proxies.registry import register_proxy

__all__ = ["grad_norm"]


@register_proxy(
    "grad_norm", needs_data=True, needs_labels=True, needs_grad=True, group="train",
    requires={"loss_grads"}, version="2",
)
def grad_norm(ctx: ProxyContext) -> float:
    """Gradient norm (Abdelfattah et al., "Zero-Cost Proxies for Lightweight NAS", ICLR 2021).

    ``sum over conv/linear layers l of ||dL/dW_l||_2`` (Frobenius norm per layer), the loss
    ``L`` being the mean loss of the batch on a train-mode copy (batch-norm batch
    statistics). Follows zero-cost-nas / NASLib ``grad_norm``: a layer the loss does not
    reach contributes 0. Larger = predicted better.

    Reference implementation: SamsungLabs/zero-cost-nas ``measures/grad_norm.py``.
    """
    lg = loss_grads(ctx)
    total = torch.zeros((), dtype=torch.float64)
    for g in lg.grads:
        if g is not None:
            total += g.to(torch.float64).norm().cpu()
    return float(total)
