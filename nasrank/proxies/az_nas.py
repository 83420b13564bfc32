"""AZ-NAS's zero-cost proxies: expressivity, progressivity and trainability of the trunk.

Lee & Ham, "AZ-NAS: Assembling Zero-Cost Proxies for Network Architecture Search", CVPR
2024 (arXiv 2403.19232). AZ-NAS itself is not a score of one network: it aggregates the
*ranks* of its four proxies -- these three and the FLOPs (``flops``) -- over a candidate
pool, ``sum_m log(rank_m / P)``. That aggregation is
:data:`nasrank.proxies.ensemble.AZ_NAS` (a :class:`~nasrank.proxies.ensemble.RankEnsemble`
with ``aggregation="log_rank"``), used like any ensemble signal; ``nasrank correlate``
reports it as ``az_nas`` whenever its members are scored.

All three read one shared pass (:mod:`nasrank.proxies._blocks`): a train-mode forward of
a copy on the batch (batch norm with the batch's statistics, as the reference runs its
networks), the features at the outputs of the model's trunk of blocks, then one
vector-Jacobian product per pair of consecutive blocks. The blocks of any model are
found by a rule documented there; on NAS-Bench-201 they are the stem output and the 17
cells, as in the reference.

Differences from the reference implementation (cvlab-yonsei/AZ-NAS,
``ZeroShotProxy/compute_az_nas_score.py``), all documented in the proxies' docstrings:
the model is scored at its own initialisation (the reference re-initialises with Kaiming
normal fan-in) on the batch given (the reference feeds Gaussian noise: ``--data
synthetic`` is the same setting); constant block features count as entropy 0 and an
identity block as the worst trainability term, where the reference gives ``-inf``.
"""

from __future__ import annotations

import numpy as np

from nasrank.errors import ProxyComputationError
from nasrank.proxies._blocks import block_stats
from nasrank.proxies._context import ProxyContext
from nasrank.proxies.registry import register_proxy

__all__ = ["az_expressivity", "az_progressivity", "az_trainability"]


@register_proxy(
    "az_expressivity", needs_data=True, needs_labels=False, needs_grad=False, group="blocks",
    requires={"blocks"}, min_batch=2,
)
def az_expressivity(ctx: ProxyContext) -> float:
    """AZ-NAS expressivity (Lee & Ham, "AZ-NAS: Assembling Zero-Cost Proxies for Network
    Architecture Search", CVPR 2024, Eq. 1-2).

    For every trunk feature (the outputs of the model's blocks, see
    :mod:`nasrank.proxies._blocks`), the feature vectors at all positions of all samples,
    ``X`` (``N H W x C``), centred; the eigenvalues ``s`` of their covariance
    ``X^T X / (N H W)`` normalised to ``p = s / sum(s)``; the block's expressivity is the
    entropy ``-sum p log p`` -- the isotropy of the features, ``log C`` when every
    principal direction carries the same variance. The score is the sum over the
    trunk's features. A constant feature (a block passing nothing, e.g. an NB-201 cell
    whose every path is ``none``) has no spread and counts 0, its entropy's limit; the
    reference's ``NaN`` there becomes ``-inf`` for the whole network. Label-free; the
    batch's inputs are used (the reference feeds Gaussian noise). Larger = predicted
    better.

    Reference implementation: cvlab-yonsei/AZ-NAS ``ZeroShotProxy/compute_az_nas_score.py``.
    """
    stats = block_stats(ctx)
    if not stats.entropies:
        raise ProxyComputationError("the trunk has no block features")
    return float(np.sum(stats.entropies))


@register_proxy(
    "az_progressivity", needs_data=True, needs_labels=False, needs_grad=False, group="blocks",
    requires={"blocks"}, min_batch=2,
)
def az_progressivity(ctx: ProxyContext) -> float:
    """AZ-NAS progressivity (Lee & Ham, "AZ-NAS: Assembling Zero-Cost Proxies for Network
    Architecture Search", CVPR 2024, Eq. 3).

    With ``e_b`` the expressivity of the ``b``-th trunk feature (see ``az_expressivity``),
    ``min_b (e_{b+1} - e_b)``: the smallest gain of expressivity from one block to the
    next -- a network should become more expressive at every block. Needs at least two
    block features (NaN with a reason otherwise). Label-free. Larger = predicted better.

    Reference implementation: cvlab-yonsei/AZ-NAS ``ZeroShotProxy/compute_az_nas_score.py``.
    """
    e = block_stats(ctx).entropies
    if len(e) < 2:
        raise ProxyComputationError(
            f"needs at least two block features to compare; the trunk has {len(e)} (see "
            "nasrank.proxies._blocks for how blocks are found)"
        )
    return float(np.min(np.diff(e)))


@register_proxy(
    "az_trainability", needs_data=True, needs_labels=False, needs_grad=True, group="blocks",
    requires={"blocks"}, min_batch=2,
)
def az_trainability(ctx: ProxyContext) -> float:
    """AZ-NAS trainability (Lee & Ham, "AZ-NAS: Assembling Zero-Cost Proxies for Network
    Architecture Search", CVPR 2024, Eq. 4-6).

    For every pair of consecutive trunk features ``(f_in, f_out)``: a Rademacher vector
    ``g_out`` of ``f_out``'s shape and its vector-Jacobian product ``g_in`` through the
    block; with both as ``(sample x position, channel)`` rows (the finer grid folded into
    channels, PixelUnshuffle-style, so positions align), ``M = g_in^T g_out / rows``
    estimates the block's Jacobian, since ``E[g g^T] = I``; with ``s`` its spectral norm
    (largest singular value), the pair scores ``-s - 1/(s + 1e-6) + 2`` -- 0 when the
    block neither amplifies nor attenuates gradients (``s = 1``), negative otherwise. The
    score is the mean over pairs. A block that is exactly the identity (``g_in ==
    g_out``; the reference scores it ``-inf``) gets the term of a block passing nothing,
    ``2 - 1e6``, so such networks still rank last. Label-free. Larger = predicted better.

    Reference implementation: cvlab-yonsei/AZ-NAS ``ZeroShotProxy/compute_az_nas_score.py``.
    """
    stats = block_stats(ctx)
    if stats.trainability_error is not None:
        raise ProxyComputationError(stats.trainability_error)
    return float(np.mean(stats.trainability))
