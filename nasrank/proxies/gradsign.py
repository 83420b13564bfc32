"""gradsign: agreement of per-sample gradient signs."""

from __future__ import annotations

import torch

from nasrank.proxies._context import ProxyContext
from nasrank.proxies._passes import per_sample_stats
from nasrank.proxies.registry import register_proxy

__all__ = ["gradsign"]


@register_proxy(
    "gradsign", needs_data=True, needs_labels=True, needs_grad=True, group="per_sample",
    requires={"sign_sum"}, version="2",
)
def gradsign(ctx: ProxyContext) -> float:
    """GradSign (Zhang & Jia, "GradSign: Model Performance Inference with Theoretical
    Insights", ICLR 2022).

    ``sum over parameters theta of |sum over samples n of sign(dL_n/dtheta)|``: the more
    the samples' own loss gradients agree in sign, the denser the sample-wise optima and
    the better the predicted trained performance. Per-sample gradients come from
    :mod:`torch.func` (``vmap(grad(functional_call))``) in one vectorised pass, each sample
    run alone (batch norm normalises it with its own statistics, as the reference's loop
    over single-sample batches does); ``theta`` ranges over conv/linear weights, as in the
    reference. Larger = predicted better.

    On a batch whose samples share one forward (a graph: ``extras`` such as
    ``edge_index``), the samples are the first 64 nodes and each one's gradient is that
    of its own loss under the whole graph's forward (version 2; version 1 refused such
    batches).

    Reference implementation: cmu-catalyst/GradSign ``measures/gradsign.py``.
    """
    stats = per_sample_stats(ctx)
    assert stats.sign_sum is not None
    total = torch.zeros((), dtype=torch.float64)
    for s in stats.sign_sum:
        total += s.abs().sum(dtype=torch.float64).cpu()
    return float(total)
