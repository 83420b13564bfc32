"""params: number of parameters, in millions."""

from __future__ import annotations

from nasrank.complexity import count_params
from nasrank.proxies._context import ProxyContext
from nasrank.proxies.registry import register_proxy

__all__ = ["params"]


@register_proxy(
    "params", needs_data=False, needs_labels=False, needs_grad=False, group="static",
)
def params(ctx: ProxyContext) -> float:
    """Parameter count (the size baseline of NAS-Bench-Suite-Zero, Krishnakumar et al.,
    NeurIPS 2022 D&B; Ning et al., "Evaluating Efficient Performance Estimators of Neural
    Architectures", NeurIPS 2021).

    ``count_params(model) / 1e6`` (shared tensors once), see :mod:`nasrank.complexity`.
    Larger = predicted better.
    """
    return count_params(ctx.model) / 1e6
