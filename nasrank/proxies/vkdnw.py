"""vkdnw: entropy of the deciles of the Fisher information spectrum at initialisation.

Tybl & Neumann, "Training-free Neural Architecture Search through Variance of Knowledge
of Deep Network Weights", CVPR 2025 (arXiv 2502.04975). By the Cramer-Rao bound the
inverse Fisher information bounds the variance of any unbiased estimate of the weights:
a flat spectrum means every direction of the weights is about as hard to learn. The
published ranking VKDNW_agg aggregates ranks over a pool (VKDNW_single, jacov, AZ-NAS's
expressivity and trainability, FLOPs); it is :data:`nasrank.proxies.ensemble.VKDNW_AGG`,
not a per-model proxy.
"""

from __future__ import annotations

import math

import torch

from nasrank.proxies._context import ProxyContext
from nasrank.proxies._fisher_info import fisher_information
from nasrank.proxies.registry import register_proxy

__all__ = ["vkdnw", "vkdnw_single", "decile_entropy", "numerical_spectrum", "DECILES"]

#: The quantile levels of the spectrum VKDNW reads: 0.1, 0.2, ..., 0.9.
DECILES: tuple[float, ...] = tuple(k / 10 for k in range(1, 10))


def decile_entropy(eigenvalues: torch.Tensor) -> float:
    """VKDNW of a spectrum: the entropy of its normalised deciles.

    With ``q_k`` the ``k/10`` quantiles (``k = 1..9``, linear interpolation) of the
    eigenvalues (negative rounding clipped to 0) and ``t_k = q_k / sum q``,
    ``-sum t_k log t_k`` (``0 log 0 = 0``): ``log 9`` when the deciles are equal, 0 when
    one dominates -- and, by that limit, when every decile is 0 (at least 90 % of the
    spectrum is 0, e.g. an NB-201 network whose cells pass nothing, where only the
    classifier's weights move the predictions; the reference's guarded
    ``t log(t + 1e-10)`` gives 0 there too).
    """
    lam = eigenvalues.detach().to(torch.float64).clamp_min(0.0)
    q = torch.quantile(lam, torch.tensor(DECILES, dtype=torch.float64, device=lam.device))
    total = float(q.sum())
    if not total > 0.0:
        return 0.0
    t = q / total
    t = t[t > 0]
    return float(-(t * torch.log(t)).sum())


def numerical_spectrum(matrix: torch.Tensor) -> torch.Tensor:
    """Eigenvalues of a symmetric PSD ``matrix`` (float64), those the eigensolver cannot
    tell from 0 set to 0.

    An eigenvalue below ``lambda_max * P * eps`` (``eps`` of float64; the tolerance of a
    numerical rank, as in ``numpy.linalg.matrix_rank``) is rounding, not a property of
    the network. Fisher spectra are steep but real far below float32's epsilon (float32
    and float64 networks give the same deciles down to ``1e-10`` of ``lambda_max`` on
    NB-201), while NB-201 cells that pass little give matrices of rank far below ``P``
    whose remaining eigenvalues are ``1e-16`` of the largest and differ between
    precisions; without the cut their deciles would rank such networks by round-off.
    """
    lam = torch.linalg.eigvalsh(matrix.to(torch.float64))
    if lam.numel() == 0:
        return lam
    eps = float(torch.finfo(torch.float64).eps)
    tol = float(lam.max().clamp_min(0.0)) * lam.numel() * eps
    return torch.where(lam > tol, lam, torch.zeros_like(lam))


def _spectrum(ctx: ProxyContext) -> tuple[torch.Tensor, int]:
    fim = fisher_information(ctx)
    return numerical_spectrum(fim.matrix), len(fim.names)


@register_proxy(
    "vkdnw",
    needs_data=True,
    needs_labels=False,
    needs_grad=True,
    group="fisher_info",
    requires={"fisher_info"},
    version="2",
)
def vkdnw(ctx: ProxyContext) -> float:
    """VKDNW (Tybl & Neumann, "Training-free Neural Architecture Search through Variance
    of Knowledge of Deep Network Weights", CVPR 2025, Eq. 8).

    The Fisher information ``F = 1/N sum_n J_n^T (diag(p_n) - p_n p_n^T) J_n`` of the
    model's predictive distribution ``p = softmax(logits)`` on the batch's inputs, for the
    first scalar of every trainable parameter tensor (``P x P``; eval-mode copy; see
    :mod:`nasrank.proxies._fisher_info`), and the entropy of the normalised deciles of its
    eigenvalues (:func:`decile_entropy`), in ``[0, log 9]``; eigenvalues within rounding
    of 0 count as 0 (:func:`numerical_spectrum`). Label-free: the expectation
    over labels is under the model's own ``p``. The reference (ondratybl/VKDNW
    ``ZeroShotProxy/compute_vkdnw_score.py``) re-initialises the network with Kaiming
    normal fan-in, feeds Gaussian noise (``--data synthetic`` here) and smooths ``p``
    with 5 % of the uniform distribution for its Cholesky factor; here the model is
    scored at its own initialisation on the given batch with the exact softmax.
    Larger = predicted better.
    """
    eig, _ = _spectrum(ctx)
    return decile_entropy(eig)


@register_proxy(
    "vkdnw_single",
    needs_data=True,
    needs_labels=False,
    needs_grad=True,
    group="fisher_info",
    requires={"fisher_info"},
    version="2",
)
def vkdnw_single(ctx: ProxyContext) -> float:
    """VKDNW_single (Tybl & Neumann, "Training-free Neural Architecture Search through
    Variance of Knowledge of Deep Network Weights", CVPR 2025): networks ordered by the
    dimension of their Fisher information ``P`` (the number of trainable parameter
    tensors, a size measure), then by ``vkdnw``.

    The reference ranks the pair ``(P, VKDNW)`` lexicographically (ondratybl/VKDNW
    ``NB201/tss_utils.py``); as one number per model that order is
    ``P + VKDNW / (2 log 9)`` (VKDNW lies in ``[0, log 9]``, so the fraction never
    reaches the next integer). It is the first member of ``vkdnw_agg``. Label-free.
    Larger = predicted better.
    """
    eig, p = _spectrum(ctx)
    return p + decile_entropy(eig) / (2.0 * math.log(9.0))
