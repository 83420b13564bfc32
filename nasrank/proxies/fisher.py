"""fisher: channel saliency from the activation-gradient product (Fisher pruning)."""

from __future__ import annotations

import torch

from nasrank.proxies._context import ProxyContext
from nasrank.proxies._passes import loss_grads, train_forward
from nasrank.proxies.registry import register_proxy

__all__ = ["fisher"]


@register_proxy(
    "fisher", needs_data=True, needs_labels=True, needs_grad=True, group="train",
    requires={"loss_grads", "fisher"}, version="2",
)
def fisher(ctx: ProxyContext) -> float:
    """Fisher (Theis et al., "Faster gaze prediction with dense networks and Fisher
    pruning", 2018; Turner et al., "BlockSwap", ICLR 2020), as a zero-cost proxy by
    Abdelfattah et al. (ICLR 2021).

    For every conv/linear output ``a`` (channels k) with loss gradient ``dL/da``:
    ``Delta_k = 0.5 * mean_n (sum_spatial a * dL/da)^2``. zero-cost-nas broadcasts each
    channel's value to the channel's ``fan_in = weight[k].numel()`` weights before summing,
    so the score is ``sum_layers fan_in * sum_k Delta_k``; we keep that weighting so the
    scores track the published ones. Train-mode copy, loss = mean batch loss.
    Larger = predicted better.

    Reference implementation: SamsungLabs/zero-cost-nas ``measures/fisher.py``.
    """
    fw = train_forward(ctx)
    lg = loss_grads(ctx)
    total = torch.zeros((), dtype=torch.float64)
    for (idx, act), grad in zip(fw.acts, lg.act_grads):
        if grad is None:
            continue
        prod = act.detach().to(torch.float64) * grad.to(torch.float64)
        g_nk = prod.sum(dim=tuple(range(2, prod.dim()))) if prod.dim() > 2 else prod
        delta = 0.5 * g_nk.pow(2).mean(0)
        fan_in = fw.layers[idx].weight[0].numel()
        total += delta.sum().cpu() * fan_in
    return float(total)
