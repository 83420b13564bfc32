"""grasp: gradient-flow preservation, -w * (H g) summed over the network."""

from __future__ import annotations

import torch

from nasrank.proxies._context import ProxyContext
from nasrank.proxies._passes import hessian_grad_product, loss_grads
from nasrank.proxies.registry import register_proxy

__all__ = ["grasp"]


@register_proxy(
    "grasp", needs_data=True, needs_labels=True, needs_grad=True, group="train",
    requires={"loss_grads", "hvp"}, version="2",
)
def grasp(ctx: ProxyContext) -> float:
    """GraSP (Wang et al., "Picking Winning Tickets Before Training by Preserving Gradient
    Flow", ICLR 2020), as a zero-cost proxy by Abdelfattah et al. (ICLR 2021).

    ``sum over conv/linear weights w of -w * (H g)``, where ``g = dL/dw`` and ``H`` is the
    Hessian of the loss, computed by double back-propagation through the shared
    train-mode forward (``H g = d(g_detached . g)/dw``). The sign follows zero-cost-nas
    (``-theta * Hg``), so larger = predicted better.

    Reference implementation: SamsungLabs/zero-cost-nas ``measures/grasp.py`` (``T = 1``,
    one iteration, the same batch for both passes).
    """
    lg = loss_grads(ctx)
    hg = hessian_grad_product(ctx)
    total = torch.zeros((), dtype=torch.float64)
    for w, h in zip(lg.weights, hg):
        if h is not None:
            total -= (w.detach() * h).sum(dtype=torch.float64).cpu()
    return float(total)
