"""swap: number of distinct sample-wise activation patterns."""

from __future__ import annotations

from nasrank.proxies._context import ProxyContext
from nasrank.proxies._passes import train_forward
from nasrank.proxies.registry import register_proxy

__all__ = ["swap"]


@register_proxy(
    "swap", needs_data=True, needs_labels=False, needs_grad=False, group="train",
    requires={"relu_patterns"}, min_batch=2, version="2",
)
def swap(ctx: ProxyContext) -> float:
    """SWAP (Peng et al., "SWAP-NAS: Sample-Wise Activation Patterns for Ultra-fast NAS",
    ICLR 2024).

    Every unit entering a ReLU-like nonlinearity has a *sample-wise activation pattern*:
    the binary vector ``[pre-activation_n > 0]`` over the ``N`` samples of the batch. The
    SWAP-score is the number of distinct patterns over all units of all nonlinearity
    calls -- the expressivity the network shows on the batch. Train-mode copy (batch-norm
    batch statistics). The reference reads 4-D (convolutional) activations only; we read
    every nonlinearity's input, which is the same on CNNs and also covers MLPs and
    transformers. This is the unregularised score (the paper's parameter-count
    regulariser needs population constants mu, sigma of the space). Larger = predicted
    better.

    Nonlinearities are found as for :func:`~nasrank.proxies.nwot` (modules and
    functional calls; GELU/SiLU/ELU/... by the sign of their pre-activation, the usual
    generalisation of the ReLU pattern). Version 2: version 1 read ``nn.ReLU``-family
    modules only (same scores on such networks, NaN on the others).

    Reference implementation: pym1024/SWAP ``src/metrics/swap.py``.
    """
    patterns = train_forward(ctx).artifact("relu_patterns")
    return float(patterns.shape[0])
