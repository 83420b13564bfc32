"""zen: expressivity of the Gaussian-initialised network, corrected by BN scales."""

from __future__ import annotations

import math

import torch
from torch import nn

from nasrank.errors import ProxyComputationError
from nasrank.proxies._context import BN_TYPES, ProxyContext, weight_layers
from nasrank.proxies.registry import register_proxy

__all__ = ["zen"]

_POOL_TYPES = (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d)
_NORM_AFFINE_TYPES = (nn.modules.batchnorm._BatchNorm, nn.GroupNorm, nn.LayerNorm)
#: Scale of the input perturbation (Zen-NAS's ``mixup_gamma``).
MIXUP_GAMMA = 1e-2


def _gaussian_init(model: nn.Module, gen: torch.Generator) -> None:
    """Zen-NAS's ``network_weight_gaussian_init``: conv/linear weights N(0, 1), biases 0,
    normalisation layers weight 1 / bias 0."""
    with torch.no_grad():
        layers = {id(m) for m in weight_layers(model)}
        for m in model.modules():
            if id(m) in layers:
                w = m.weight
                w.copy_(torch.randn(w.shape, generator=gen, dtype=w.dtype))
                if getattr(m, "bias", None) is not None:
                    m.bias.zero_()
            elif isinstance(m, _NORM_AFFINE_TYPES):
                if getattr(m, "weight", None) is not None:
                    m.weight.fill_(1.0)
                if getattr(m, "bias", None) is not None:
                    m.bias.zero_()


@register_proxy(
    "zen", needs_data=False, needs_labels=False, needs_grad=False, group="zen", version="2",
)
def zen(ctx: ProxyContext) -> float:
    """Zen-Score (Lin et al., "Zen-NAS: A Zero-Shot NAS for High-Performance Image
    Recognition", ICCV 2021).

    On a copy re-initialised with Gaussian weights (conv/linear N(0, 1), biases 0,
    normalisation weight 1 / bias 0) in train mode: for Gaussian inputs ``x`` and ``e`` of
    the batch's shape, ``Delta = mean_n sum |f(x) - f(x + 0.01 e)|`` with ``f`` the
    features before the last global average pooling (the model output if there is
    none), and ``Zen = log(Delta) + sum over BN layers of log(sigma_bar)``, where
    ``sigma_bar = sqrt(mean over channels of the batch variance of the BN input)`` on the
    clean forward -- the paper's definition (the reference reads BN running variances,
    which after one momentum-0.1 update only approximate it). A BN layer whose input is
    constant over the batch (e.g. fed only by NB-201 ``none`` edges) carries no signal and
    is left out of the sum rather than adding ``log 0``. Only the input *shape* is
    used; randomness comes from the call's seed. Larger = predicted better.

    Reference implementation: idstcv/ZenNAS ``ZeroShotProxy/compute_zen_score.py``.
    """
    x = ctx.float_inputs()
    model = ctx.copy()
    model.train()
    gen = ctx.generator(offset=1)
    _gaussian_init(model, gen)
    shape = tuple(x.shape)
    clean = torch.randn(shape, generator=gen).to(device=x.device, dtype=x.dtype)
    noise = torch.randn(shape, generator=gen).to(device=x.device, dtype=x.dtype)

    pooled_inputs: list[torch.Tensor] = []
    bn_var: list[torch.Tensor] = []
    record_bn = True

    def pool_hook(module: nn.Module, inp: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        pooled_inputs.append(inp[0])

    def bn_hook(module: nn.Module, inp: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        if not record_bn:
            return
        a = inp[0]
        count = a.numel() // a.shape[1]
        rv = getattr(module, "running_var", None)
        if isinstance(rv, torch.Tensor) and getattr(module, "momentum", None) == 1.0 and count > 1:
            # momentum 1: the native kernel left the batch's unbiased variance here
            bn_var.append(rv.mean() * ((count - 1) / count))
        else:
            dims = [d for d in range(a.dim()) if d != 1]
            bn_var.append(torch.var(a, dim=dims, unbiased=False).mean())

    for m in model.modules():
        if isinstance(m, BN_TYPES) and m.track_running_stats and m.running_var is not None:
            m.momentum = 1.0  # on our copy: running_var := this batch's variance

    handles = [m.register_forward_hook(pool_hook) for m in model.modules()
               if isinstance(m, _POOL_TYPES)]
    handles += [m.register_forward_hook(bn_hook) for m in model.modules()
                if isinstance(m, BN_TYPES)]
    try:
        with torch.no_grad():
            out_clean = ctx.check_outputs(ctx.forward(model, clean))
            f_clean = pooled_inputs[-1] if pooled_inputs else out_clean
            record_bn = False
            pooled_inputs.clear()
            out_mixed = ctx.check_outputs(ctx.forward(model, clean + MIXUP_GAMMA * noise))
            f_mixed = pooled_inputs[-1] if pooled_inputs else out_mixed
    finally:
        for h in handles:
            h.remove()
    diff = (f_clean - f_mixed).abs().to(torch.float64)
    delta = float(diff.reshape(diff.shape[0], -1).sum(1).mean())
    if not delta > 0.0:
        raise ProxyComputationError("the features do not respond to input perturbations")
    # a BN layer whose input is constant over the batch (fed only by "none" paths) passes
    # no signal and has no scale to correct for: it is skipped instead of adding log(0)
    live = [v.to(torch.float64) for v in bn_var if float(v) > 0.0]
    bn_term = float(0.5 * torch.log(torch.stack(live)).sum()) if live else 0.0
    return math.log(delta) + bn_term
