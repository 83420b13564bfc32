"""jacov: correlation of input Jacobians across the batch (NASWOT v1)."""

from __future__ import annotations

import torch

from nasrank.proxies._context import ProxyContext
from nasrank.proxies._passes import input_jacobian
from nasrank.proxies.registry import register_proxy

__all__ = ["jacov"]

_K = 1e-5


@register_proxy(
    "jacov", needs_data=True, needs_labels=False, needs_grad=True, group="train",
    requires={"jacobian"}, min_batch=2, version="2",
)
def jacov(ctx: ProxyContext) -> float:
    """Jacobian covariance (Mellor et al., "Neural Architecture Search without Training",
    ICML 2021, arXiv 2006.04647v1).

    ``J`` stacks ``d(sum of outputs)/dx_n`` for every sample (train-mode copy, batch-norm
    batch statistics); with ``Sigma = corrcoef(J)`` (N x N) and its eigenvalues
    ``lambda``, the score is ``-sum(log(lambda + k) + 1 / (lambda + k))``, ``k = 1e-5``.
    Larger (less correlated Jacobians) = predicted better.

    Token-id models: the ids have no gradient, so ``x_n`` is generalised to the output of
    the embedding table that reads them (the network's continuous input), as for any
    layer after a lookup; version 2 (version 1 was NaN on token ids).

    Reference implementation: NASLib ``measures/jacov.py`` (after BayesWatch's code).
    """
    jac = input_jacobian(ctx).to(torch.float64)
    corr = torch.corrcoef(jac)
    if not torch.isfinite(corr).all():
        raise ValueError("a sample's input Jacobian is constant, so its correlation is undefined")
    eig = torch.linalg.eigvalsh(corr)
    return float(-torch.sum(torch.log(eig + _K) + 1.0 / (eig + _K)))
