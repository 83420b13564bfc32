"""plain: the signed first-order saliency w * dL/dw summed over the network."""

from __future__ import annotations

import torch

from nasrank.proxies._context import ProxyContext
from nasrank.proxies._passes import loss_grads
from nasrank.proxies.registry import register_proxy

__all__ = ["plain"]


@register_proxy(
    "plain", needs_data=True, needs_labels=True, needs_grad=True, group="train",
    requires={"loss_grads"}, version="2",
)
def plain(ctx: ProxyContext) -> float:
    """Plain saliency (Mozer & Smolensky, "Skeletonization: A Technique for Trimming the
    Fat from a Network via Relevance Assessment", NeurIPS 1988), as used in
    NAS-Bench-Suite-Zero (Krishnakumar et al., NeurIPS 2022 D&B).

    ``sum over conv/linear weights w of w * dL/dw`` (signed: a first-order estimate of how
    much the loss would change if all weights were removed), on a train-mode copy,
    loss = mean batch loss. Reported as is, as the reference does: on NAS-Bench-201 it
    correlates *negatively* with accuracy (Spearman about -0.26), so for ranking larger is
    not better for this one proxy; it is kept for comparability.

    Reference implementation: SamsungLabs/zero-cost-nas ``measures/plain.py``.
    """
    lg = loss_grads(ctx)
    total = torch.zeros((), dtype=torch.float64)
    for w, g in zip(lg.weights, lg.grads):
        if g is not None:
            total += (w.detach() * g).sum(dtype=torch.float64).cpu()
    return float(total)
