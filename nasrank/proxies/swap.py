"""swap: number of distinct sample-wise activation patterns."""

from __future__ import annotations

from nasrank.proxies._context import ProxyContext
from nasrank.proxies._passes import train_forward
from nasrank.proxies.registry import register_proxy

__all__ = ["swap"]


@register_proxy(
    "swap", needs_data=True, needs_labels=False, needs_grad=False, group="train",
    requires={"relu_patterns"}, min_batch=2,
)
def swap(ctx: ProxyContext) -> float:
    """SWAP (Peng et al., "SWAP-NAS: Sample-Wise Activation Patterns for Ultra-fast NAS",
    ICLR 2024).

    Every unit after a ReLU-family module has a *sample-wise activation pattern*: the
    binary vector ``[pre-activation_n > 0]`` over the ``N`` samples of the batch. The
    SWAP-score is the number of distinct patterns over all units of all ReLU modules --
    the expressivity the network shows on the batch. Train-mode copy (batch-norm batch
    statistics). The reference reads 4-D (convolutional) activations only; we read every
    ReLU module's input, which is the same on CNNs and also covers MLPs. This is the
    unregularised score (the paper's parameter-count regulariser needs population
    constants mu, sigma of the space). Larger = predicted better.

    Reference implementation: pym1024/SWAP ``src/metrics/swap.py``.
    """
    patterns = train_forward(ctx).relu_patterns
    assert patterns is not None
    return float(patterns.shape[0])
