"""meco: minimum eigenvalue of per-layer feature correlation matrices."""

from __future__ import annotations

import torch

from nasrank.errors import ProxyComputationError
from nasrank.proxies._context import ProxyContext
from nasrank.proxies._passes import train_forward
from nasrank.proxies.registry import register_proxy

__all__ = ["meco"]


@register_proxy(
    "meco", needs_data=True, needs_labels=False, needs_grad=False, group="train",
    requires={"meco"},
)
def meco(ctx: ProxyContext) -> float:
    """MeCo (Jiang et al., "MeCo: Zero-Shot NAS with One Data and Single Forward Pass via
    Minimum Eigenvalue of Correlation", NeurIPS 2023).

    For every module call with a tensor output of shape ``(N, C, ...)``, take the *first*
    sample's feature map ``f`` as ``C`` channels by ``prod(...)`` positions, its Pearson
    correlation matrix ``P = corrcoef(f)`` (``C x C``; entries of constant channels set to
    0, as the reference does) and ``lambda_min(P)``; the score is the sum over module calls
    (every module is hooked, containers included, as in the reference). One forward in
    train mode (batch-norm batch statistics). Outputs without a spatial/sequence axis
    (e.g. every layer of an MLP) have no defined correlations and contribute 0, as in the
    reference, so MeCo carries no information on MLPs (it scores them 0.0).
    Larger = predicted better.

    Reference implementation: HamsterMimi/MeCo ``correlation/foresight/pruners/measures/meco.py``.
    """
    values = train_forward(ctx).artifact("meco")
    if not values:
        raise ProxyComputationError("no module produced a (N, C, ...) feature map to correlate")
    return float(torch.stack(values).sum())
