"""synflow: synaptic flow of the sign-linearised network on an all-ones input."""

from __future__ import annotations

import math
import types

import torch
from torch import nn

from nasrank.errors import ProxyComputationError
from nasrank.proxies._context import BN_TYPES, ProxyContext, weight_layers
from nasrank.proxies.registry import register_proxy

__all__ = ["synflow"]


def _identity(self: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return x


@register_proxy(
    "synflow", needs_data=False, needs_labels=False, needs_grad=True, group="synflow",
)
def synflow(ctx: ProxyContext) -> float:
    """SynFlow (Tanaka et al., "Pruning neural networks without any data by iteratively
    conserving synaptic flow", NeurIPS 2020), as a zero-cost proxy by Abdelfattah et al.
    (ICLR 2021).

    On a copy: batch norm switched off (its forward replaced by the identity, as
    zero-cost-nas/NASLib do for ``synflow``: ``bn=False``), eval mode (no dropout),
    double precision, every parameter and buffer replaced by its absolute value
    (sign-linearised network); ``R = sum(f(1))`` for an all-ones input of one sample of
    the batch's shape; score = ``log(sum over conv/linear weights w of |w * dR/dw|)``.

    The log is the transform NASLib's ``ZeroCost`` predictor applies before storing
    NAS-Bench-Suite-Zero's synflow scores (monotone, so rankings are unchanged); it keeps
    the values in a readable range (e.g. 41.9 for a mid-size NB-201 cell). Only the input
    *shape* is used. Larger = predicted better; an output that depends on no weight at all
    (zero flow) gives NaN.

    Reference implementation: SamsungLabs/zero-cost-nas ``measures/synflow.py``.
    """
    x = ctx.float_inputs()
    model = ctx.copy()
    model.eval()
    for m in model.modules():
        if isinstance(m, BN_TYPES):
            m.forward = types.MethodType(_identity, m)  # type: ignore[method-assign]
    model.double()
    with torch.no_grad():
        for t in model.state_dict().values():
            if t.is_floating_point():
                t.abs_()
    layers = weight_layers(model)
    if not layers:
        raise ProxyComputationError("the model has no convolution or linear layers")
    ones = torch.ones((1, *x.shape[1:]), dtype=torch.float64, device=x.device)
    out = ctx.check_outputs(model(ones), "output of the sign-linearised double model")
    weights = [m.weight for m in layers]
    grads = torch.autograd.grad(out.sum(), weights, allow_unused=True)
    total = 0.0
    for w, g in zip(weights, grads):
        if g is not None:
            total += float((w.detach() * g).abs().sum())
    if not math.isfinite(total):
        raise ProxyComputationError(f"synaptic flow overflowed double precision ({total})")
    if total <= 0.0:
        raise ProxyComputationError("zero synaptic flow: the output depends on no weight")
    return math.log(total)
