"""The Fisher-information pass: the FIM of the model's predictive distribution, at
initialisation, on one weight of every trainable parameter tensor (VKDNW).

For a classifier with logits ``z(x; theta)`` and ``p = softmax(z)``, the Fisher
information of ``p(y | x; theta)`` averaged over the batch's inputs is

    F = 1/N sum_n J_n^T (diag(p_n) - p_n p_n^T) J_n,      J_n = d z(x_n) / d theta,

which needs no labels (the expectation over ``y`` is under the model's own ``p``). As in
VKDNW (Tybl & Neumann, CVPR 2025) and its reference code (ondratybl/VKDNW
``ZeroShotProxy/compute_vkdnw_score.py``), ``theta`` is a subset of the weights: the first
scalar (flat index 0) of every parameter tensor -- here of every one the caller trains
(``requires_grad``), in ``named_parameters()`` order -- so ``F`` is ``P x P`` with ``P``
the number of trainable parameter tensors. The model is a copy in eval mode (as the
reference runs it): every sample's prediction is its own, batch norm uses its running
statistics and dropout is off.

Dense outputs ``(N, K, *S)`` are an independent categorical at every position: the sum
runs over positions too. A batch with extras (a graph: its samples, the nodes, share
one forward) uses the first :data:`FIM_NODES` nodes' predictions under the whole graph's
forward. For independent samples the derivatives of the weights of linear, convolution,
norm and embedding layers come from one batched forward and one backward per logit row
(:mod:`nasrank.proxies._first_scalar_grads`); any other weight's, per sample from
``torch.func`` (``vmap`` over samples of ``jacrev`` over the subset), or one sample at a
time for a model ``vmap`` cannot batch (e.g. ``nn.GRU``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from nasrank.errors import ProxyComputationError
from nasrank.proxies._context import ProxyContext, describe, main_output
from nasrank.proxies._first_scalar_grads import first_scalar_jacobians

__all__ = ["FisherInfo", "fisher_information", "fisher_from_jacobians", "FIM_NODES"]

#: Nodes of a graph batch whose predictions enter the Fisher information.
FIM_NODES = 64
#: Per-sample output rows differentiated at once (sets the vmap chunk size).
ROWS_PER_CHUNK = 2048
#: Bytes of batched full-parameter gradients materialised at once (fallback paths).
GRAD_BUDGET_BYTES = 128 * 2**20


@dataclass
class FisherInfo:
    """The Fisher information of the parameter subset.

    Attributes:
        matrix: ``(P, P)`` float64 FIM.
        names: The parameter tensors whose first scalar is the subset, in order.
    """

    matrix: torch.Tensor
    names: list[str]


def fisher_information(ctx: ProxyContext) -> FisherInfo:
    """The Fisher-information pass (memoised per call)."""
    return ctx.memo("fisher_info", "Fisher-information pass", lambda: _fisher(ctx))


def fisher_from_jacobians(jac: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """``1/N sum_n sum_s J^T (diag(p) - p p^T) J`` in float64, as a sum of outer products.

    ``J^T (diag(p) - p p^T) J = sum_k p_k d_k d_k^T`` with ``d_k = J_k - sum_j p_j J_j``
    the deviation of logit ``k``'s row from the ``p``-weighted mean row, each ``d_k``
    formed as ``sum_j p_j (J_k - J_j)``. Expanding it instead (``sum p J^2 - (sum p J)^2``)
    cancels catastrophically when ``p`` is nearly one-hot -- NB-201 networks in eval mode
    at initialisation often have logits hundreds apart -- leaving rounding noise larger
    than the matrix (negative diagonal entries, and spectra that changed with the order
    of a convolution's sums); this form is positive semi-definite and accurate to rounding
    of its terms.

    Shapes:
        ``jac`` ``(N, K, S, P)`` (d logit / d weight), ``logits`` ``(N, K, S)`` ->
        ``(P, P)``.
    """
    j = jac.to(torch.float64)
    p = torch.softmax(logits.to(torch.float64), dim=1)  # (N, K, S)
    f = j.new_zeros(j.shape[-1], j.shape[-1])
    for k in range(j.shape[1]):
        d = (p.unsqueeze(-1) * (j[:, k : k + 1] - j)).sum(1)  # (N, S, P)
        a = d * p[:, k].sqrt().unsqueeze(-1)
        f += torch.einsum("nsp,nsq->pq", a, a)
    f = f / j.shape[0]
    return (f + f.T) / 2


def _fisher(ctx: ProxyContext) -> FisherInfo:
    model = ctx.copy()
    model.eval()
    trains = {n for n, p in ctx.model.named_parameters() if p.requires_grad}
    names = [
        n
        for n, p in model.named_parameters()
        if n in trains and p.is_floating_point() and p.numel() > 0
    ]
    if len(names) < 2:
        raise ProxyComputationError(
            f"needs at least two trainable parameter tensors for a Fisher spectrum; the "
            f"model has {len(names)}"
        )
    x = ctx.inputs
    with torch.enable_grad():
        if ctx.extras:
            jac, logits = _shared_forward_jacobians(ctx, model, names)
        else:
            jac, logits = _independent_jacobians(ctx, model, names, x)
    if logits.shape[1] < 2:
        raise ProxyComputationError(
            f"needs at least two classes (logits of shape (N, K, ...) with K >= 2); the model "
            f"returned {logits.shape[1]} output(s) per position"
        )
    if not (torch.isfinite(jac).all() and torch.isfinite(logits).all()):
        raise ProxyComputationError("a logit or its gradient is not finite (NaN or inf)")
    return FisherInfo(matrix=fisher_from_jacobians(jac, logits), names=names)


def _independent_jacobians(
    ctx: ProxyContext, model: nn.Module, names: list[str], x: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(jac (N, K, S, P), logits (N, K, S))`` for independent samples: the layers
    :mod:`~nasrank.proxies._first_scalar_grads` knows from one batched pass, the other
    parameters sample by sample."""
    fast = first_scalar_jacobians(model, lambda m: ctx.check_outputs(ctx.forward(m, x)), names)
    if fast is None:
        return _per_sample_jacobians(ctx, model, names, x)
    if not fast.rest:
        return fast.jac, fast.logits
    slow, _ = _per_sample_jacobians(ctx, model, fast.rest, x)
    column = dict(zip(fast.names, fast.jac.unbind(-1)))
    column.update(zip(fast.rest, slow.unbind(-1)))
    return torch.stack([column[nm] for nm in names], dim=-1), fast.logits


def _as_rows(out: torch.Tensor) -> torch.Tensor:
    """One sample's logits ``(K, *S)`` as ``(K, S)``."""
    return out.reshape(out.shape[0], -1) if out.dim() > 1 else out.reshape(-1, 1)


def _per_sample_jacobians(
    ctx: ProxyContext, model: nn.Module, names: list[str], x: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(jac (N, K, S, P), logits (N, K, S))`` for independent samples."""
    from torch.func import functional_call, jacrev, vmap

    params = {n: p.detach() for n, p in model.named_parameters()}
    buffers = {n: b.detach() for n, b in model.named_buffers()}
    subset = torch.stack([params[n].reshape(-1)[0] for n in names])
    with torch.no_grad():  # one sample's output: its shape, finite, sets the chunk size
        probe = ctx.check_outputs(model(x[:1]))
    rows = max(1, probe[0].numel())

    def logits_of(s: torch.Tensor, xi: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        full = dict(params)
        for j, n in enumerate(names):
            p = params[n]
            full[n] = torch.cat([s[j : j + 1], p.reshape(-1)[1:]]).reshape(p.shape)
        out = _as_rows(main_output(functional_call(model, (full, buffers), (xi.unsqueeze(0),)))[0])
        return out, out

    chunk = max(1, ROWS_PER_CHUNK // rows)
    try:
        with warnings.catch_warnings():  # vmap's slow fallback for some kernels (nn.LSTM)
            warnings.filterwarnings("ignore", message="There is a performance drop")
            jac, logits = vmap(
                jacrev(logits_of, has_aux=True), in_dims=(None, 0), chunk_size=chunk
            )(subset, x)
        return jac.detach(), logits.detach()
    except RuntimeError:
        pass  # no batching rule (nn.GRU's kernels, ...): one sample at a time
    params_list = [model.get_parameter(n) for n in names]
    jacs, outs = [], []
    for i in range(x.shape[0]):
        out = _as_rows(ctx.check_outputs(model(x[i : i + 1]))[0])
        jacs.append(_first_scalar_jacobian(out.reshape(-1), params_list).reshape(*out.shape, -1))
        outs.append(out.detach())
    return torch.stack(jacs), torch.stack(outs)


def _shared_forward_jacobians(
    ctx: ProxyContext, model: nn.Module, names: list[str]
) -> tuple[torch.Tensor, torch.Tensor]:
    """The first :data:`FIM_NODES` samples of one forward over the whole batch (a graph)."""
    params_list = [model.get_parameter(n) for n in names]
    out = ctx.check_outputs(ctx.forward(model, ctx.inputs))
    jacs, outs = [], []
    for i in range(min(FIM_NODES, out.shape[0])):
        rows = _as_rows(out[i])
        jacs.append(_first_scalar_jacobian(rows.reshape(-1), params_list).reshape(*rows.shape, -1))
        outs.append(rows.detach())
    return torch.stack(jacs), torch.stack(outs)


def _first_scalar_jacobian(y: torch.Tensor, params: list[nn.Parameter]) -> torch.Tensor:
    """``(D, P)``: d y_d / d params[j].flatten()[0], by batched backward passes (one
    sample's outputs at a time), or one output at a time where those cannot batch."""
    d = y.numel()
    total = sum(p.numel() for p in params)
    step = int(max(1, min(d, GRAD_BUDGET_BYTES // max(1, 4 * total))))
    cols: list[torch.Tensor] = []
    for start in range(0, d, step):
        stop = min(d, start + step)
        basis = torch.zeros(stop - start, d, dtype=y.dtype, device=y.device)
        basis[torch.arange(stop - start), torch.arange(start, stop)] = 1.0
        cols.append(_grads_at_zero(y, params, basis))
    return torch.cat(cols).detach()


def _grads_at_zero(
    y: torch.Tensor, params: list[nn.Parameter], basis: torch.Tensor
) -> torch.Tensor:
    grad: Callable[..., Any] = torch.autograd.grad
    if not y.requires_grad:
        return torch.zeros(basis.shape[0], len(params), dtype=y.dtype, device=y.device)
    try:
        g = grad(y, params, grad_outputs=basis, retain_graph=True, allow_unused=True,
                 is_grads_batched=True)  # fmt: skip
        return _stack_first(g, params, basis.shape[0], y)
    except RuntimeError as exc:
        why = describe(exc)
    rows = []
    for v in basis:
        g = grad(y, params, grad_outputs=v, retain_graph=True, allow_unused=True)
        rows.append(_stack_first([None if t is None else t.unsqueeze(0) for t in g], params, 1, y))
    if not rows:  # pragma: no cover - basis is never empty
        raise ProxyComputationError(why)
    return torch.cat(rows)


def _stack_first(grads: Any, params: list[nn.Parameter], b: int, y: torch.Tensor) -> torch.Tensor:
    cols = [
        torch.zeros(b, dtype=y.dtype, device=y.device) if g is None else g.reshape(b, -1)[:, 0]
        for g in grads
    ]
    return torch.stack(cols, dim=1)
