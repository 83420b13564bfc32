"""nwot: log-determinant of the ReLU code kernel (NASWOT v2)."""

from __future__ import annotations

import torch

from nasrank.proxies._context import ProxyContext
from nasrank.proxies._passes import train_forward
from nasrank.proxies.registry import register_proxy

__all__ = ["nwot"]


@register_proxy(
    "nwot", needs_data=True, needs_labels=False, needs_grad=False, group="train",
    requires={"relu_kernel"}, version="2",
)
def nwot(ctx: ProxyContext) -> float:
    """NASWOT (Mellor et al., "Neural Architecture Search without Training", ICML 2021).

    For every call of a ReLU-like nonlinearity, the binary code ``c_n = [pre-activation_n
    > 0]`` of each sample; ``K = sum over calls of (c c^T + (1 - c)(1 - c)^T)`` counts, for
    every pair of samples, the units on which they agree (``N_A`` minus the Hamming
    distance). The score is ``log |det K|``. Train-mode copy (batch-norm batch
    statistics), as NASLib. Larger = predicted better.

    Nonlinearities are found by the functions they call, so ``nn.ReLU`` modules,
    functional ``F.relu``/``Tensor.relu_`` and the activation inside
    ``nn.TransformerEncoderLayer`` all count. On ReLU networks this is the published
    definition; for GELU, SiLU, ELU, Mish, Softplus and leaky/parametric ReLUs it is its
    usual generalisation, the sign of the pre-activation (each is identity-like above 0
    and flat below). Version 2: version 1 read ``nn.ReLU``-family modules only (same
    scores on such networks, NaN on the others).

    Reference implementation: NASLib ``measures/nwot.py`` (BayesWatch/nas-without-training).
    """
    kernel = train_forward(ctx).artifact("relu_kernel")
    sign, logabsdet = torch.linalg.slogdet(kernel)
    if sign == 0:
        raise ValueError("the ReLU code kernel is singular (two samples share all codes?)")
    return float(logabsdet)
