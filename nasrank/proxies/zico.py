"""zico: inverse coefficient of variation of per-sample gradients."""

from __future__ import annotations

import math

import torch

from nasrank.errors import ProxyComputationError
from nasrank.proxies._context import ProxyContext
from nasrank.proxies._passes import per_sample_stats
from nasrank.proxies.registry import register_proxy

__all__ = ["zico"]


@register_proxy(
    "zico", needs_data=True, needs_labels=True, needs_grad=True, group="per_sample",
    requires={"moments"}, min_batch=2, version="2",
)
def zico(ctx: ProxyContext) -> float:
    """ZiCo (Li et al., "ZiCo: Zero-shot NAS via Inverse Coefficient of Variation on
    Gradients", ICLR 2023).

    ``sum over conv/linear layers l of log( sum_{theta in l, std > 0} E[|g_theta|] /
    std(g_theta) )``, mean and (population) standard deviation of each weight's gradient
    taken over the training samples (paper, Eq. 9). We use the per-sample gradients of the
    batch (shared with GradSign) as the samples; the authors' code approximates them with
    a few mini-batch gradients. Layers whose sum is 0 are skipped, as in the reference.
    Larger = predicted better. On a graph batch the samples are its first 64 nodes, each
    with the gradient of its own loss under the whole graph's forward (version 2).

    Reference implementation: SLDGroup/ZiCo ``ZeroShotProxy/compute_zico.py``.
    """
    stats = per_sample_stats(ctx)
    assert stats.mean_abs is not None and stats.m2 is not None
    total = 0.0
    used = 0
    for mean_abs, m2 in zip(stats.mean_abs, stats.m2):
        std = torch.sqrt(m2 / stats.n)
        nonzero = std > 0
        s = float((mean_abs[nonzero] / std[nonzero]).sum())
        if s > 0:
            total += math.log(s)
            used += 1
    if used == 0:
        raise ProxyComputationError("every per-sample gradient is constant across the batch")
    return total
