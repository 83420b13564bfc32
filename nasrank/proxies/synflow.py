"""synflow: synaptic flow of the sign-linearised network on an all-ones input."""

from __future__ import annotations

import math
import types

import torch
from torch import nn

from nasrank.errors import ProxyComputationError
from nasrank.proxies._context import BN_TYPES, ProxyContext, embedding_tables, weight_layers
from nasrank.proxies.registry import register_proxy

__all__ = ["synflow"]


#: Normalisation layers switched off: batch norm as in the reference, and the others
#: likewise (on the constant linearised input a LayerNorm outputs its bias, zero at
#: initialisation, which would cut every path through it).
_NORM_TYPES: tuple[type[nn.Module], ...] = (
    *BN_TYPES,
    nn.LayerNorm,
    nn.GroupNorm,
    nn.modules.instancenorm._InstanceNorm,
    nn.RMSNorm,
    nn.LocalResponseNorm,
)


def _identity(self: nn.Module, x: torch.Tensor, *args: object, **kwargs: object) -> torch.Tensor:
    return x


def _ones_output(module: nn.Module, args: object, output: torch.Tensor) -> torch.Tensor:
    return torch.ones_like(output)


def _embeddings_output_ones(model: nn.Module) -> None:
    """Make every embedding table of ``model`` (a throwaway copy) output all ones."""
    tables = embedding_tables(model)
    if not tables:
        raise ProxyComputationError(
            "token-id inputs but no nn.Embedding/nn.EmbeddingBag to give the all-ones input"
        )
    for table in tables:
        table.register_forward_hook(_ones_output)


@register_proxy(
    "synflow", needs_data=False, needs_labels=False, needs_grad=True, group="synflow", version="2",
)
def synflow(ctx: ProxyContext) -> float:
    """SynFlow (Tanaka et al., "Pruning neural networks without any data by iteratively
    conserving synaptic flow", NeurIPS 2020), as a zero-cost proxy by Abdelfattah et al.
    (ICLR 2021).

    On a copy: batch norm switched off (its forward replaced by the identity, as
    zero-cost-nas/NASLib do for ``synflow``: ``bn=False``; the same for layer, group,
    instance and RMS norm, which the reference's CNNs do not have), eval mode (no dropout),
    double precision, every parameter and buffer replaced by its absolute value
    (sign-linearised network); ``R = sum(f(1))`` for an all-ones input of one sample of
    the batch's shape (for a batch with extras, such as a graph, one all-ones input
    of the whole batch's shape); score = ``log(sum over weight layers w of |w * dR/dw|)``
    (embedding tables excluded, as conv/linear-only references do).

    Token-id models (integer inputs) have no all-ones input; the continuous input of
    such a network is the output of its embedding tables, so the data-free input is
    generalised to that: every ``nn.Embedding``/``nn.EmbeddingBag`` returns all ones
    (token, position and segment embeddings alike) for one sequence of the batch's
    length. Token ids without an embedding table give NaN with that reason.

    The log is the transform NASLib's ``ZeroCost`` predictor applies before storing
    NAS-Bench-Suite-Zero's synflow scores (monotone, so rankings are unchanged); it keeps
    the values in a readable range (e.g. 41.9 for a mid-size NB-201 cell). Only the input
    *shape* is used. Larger = predicted better; an output that depends on no weight at all
    (zero flow) gives NaN.

    Reference implementation: SamsungLabs/zero-cost-nas ``measures/synflow.py``.
    """
    tokens = not ctx.inputs.is_floating_point()
    x = ctx.inputs if tokens else ctx.float_inputs()
    model = ctx.copy()
    model.eval()
    for m in model.modules():
        if isinstance(m, _NORM_TYPES):
            m.forward = types.MethodType(_identity, m)  # type: ignore[method-assign]
    model.double()
    with torch.no_grad():
        for t in model.state_dict().values():
            if t.is_floating_point():
                t.abs_()
    layers = weight_layers(model)
    if not layers:
        raise ProxyComputationError("the model has no convolution or linear layers")
    # one sample of the batch's shape; a batch with extras (a graph) is one whole input
    shape = x.shape if ctx.extras else (1, *x.shape[1:])
    if tokens:
        _embeddings_output_ones(model)
        ones = torch.zeros(shape, dtype=x.dtype, device=x.device)  # ids unused: tables give 1
    else:
        ones = torch.ones(shape, dtype=torch.float64, device=x.device)
    out = ctx.check_outputs(ctx.forward(model, ones), "output of the sign-linearised double model")
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
