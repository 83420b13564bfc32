"""Per-sample derivatives of the logits by the first scalar of each weight, by layer hooks.

VKDNW's Fisher information (:mod:`nasrank.proxies._fisher_info`) needs, for every sample
``n``, every logit row ``r`` and every parameter tensor ``j``, ``d z_{n r} / d theta_j[0]``
(``theta_j[0]`` the tensor's first scalar). Differentiating each sample separately costs
a full per-sample weight gradient per logit. For the common layers the derivative is a
product of two things one batched pass already has: the gradient at the layer's output
and the layer's input. For a convolution ``w[0, 0, 0, 0]`` only reads input channel 0 at
kernel offset 0, so ``d z / d w[0,0,0,0] = sum_positions g[:, 0] * x_shifted[:, 0]``; for a
linear layer ``g[..., 0] * x[..., 0]``; for a bias ``g[..., 0]``; for a norm layer's scale
``g * x_hat`` at its first element; for an embedding the positions holding token 0.

In eval mode the samples of a batch do not interact (batch norm uses its running
statistics), so the gradient of ``sum_n z_{n r}`` at a layer's output is, sample by sample,
the gradient of each sample's own logit: one backward per logit row gives every sample's
derivatives. :func:`first_scalar_jacobians` runs them for the layers it knows
(:data:`SUPPORTED`), checks each parameter's batch sum for the first row against
autograd's gradient of that sum (taken in the same backward), and returns the parameters
it could not do (other layer types, shared weights, inputs changed in place, a mismatch)
for the caller's generic path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["FirstScalarJacobians", "first_scalar_jacobians", "SUPPORTED", "MAX_ROWS"]

#: Logit rows (classes x output positions) per sample up to which the hooked path runs
#: (one backward per row); dense outputs beyond it use the generic path.
MAX_ROWS = 1024
#: Relative tolerance of the check against autograd's batch gradient.
CHECK_RTOL = 1e-4

_CONV = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
_NORM = (nn.modules.batchnorm._BatchNorm, nn.LayerNorm, nn.GroupNorm)
#: Layer types whose own parameters the hooked path differentiates.
SUPPORTED: tuple[type[nn.Module], ...] = (nn.Linear, *_CONV, *_NORM, nn.Embedding)


@dataclass
class FirstScalarJacobians:
    """Attributes:
    jac: ``(N, K, S, len(names))`` derivatives of each sample's logits (``K`` classes at
        ``S`` output positions).
    logits: ``(N, K, S)`` the logits.
    names: Parameters differentiated here, in the caller's order.
    rest: The caller's parameters left for the generic path, in order.
    """

    jac: torch.Tensor
    logits: torch.Tensor
    names: list[str]
    rest: list[str]


@dataclass
class _Call:
    module: nn.Module
    inp: torch.Tensor
    out: torch.Tensor
    version: int  # the input's version when recorded (an in-place change disqualifies it)


def first_scalar_jacobians(
    model: nn.Module, forward: Callable[[nn.Module], torch.Tensor], names: list[str]
) -> FirstScalarJacobians | None:
    """Hooked derivatives for ``names`` of an eval-mode ``model``; ``None`` when the
    output has more than :data:`MAX_ROWS` rows per sample.

    ``forward(model)`` returns the logits ``(N, K, *S)`` (rows ``R = K prod(S)``).
    """
    owners = _owners(model, set(names))
    calls, z = _record(model, forward, {id(m): m for m, _ in owners.values()})
    n = z.shape[0]
    rows = z.reshape(n, -1)
    if rows.shape[1] > MAX_ROWS:
        return None
    bad = {id(c.module) for c in calls if not _usable(c, n)}
    called = {id(c.module) for c in calls}
    done = [nm for nm in names if nm in owners and id(owners[nm][0]) in called - bad]
    calls = [c for c in calls if id(c.module) not in bad]
    params = [model.get_parameter(nm) for nm in done]
    jac, first_row_grads = _row_backwards(rows, calls, owners, done, params)
    done, jac = _checked(done, jac, first_row_grads)
    rest = [nm for nm in names if nm not in done]
    k = z.shape[1] if z.dim() > 1 else 1
    return FirstScalarJacobians(
        jac=jac.reshape(n, k, -1, len(done)),
        logits=rows.detach().reshape(n, k, -1),
        names=done,
        rest=rest,
    )


def _record(
    model: nn.Module, forward: Callable[[nn.Module], torch.Tensor], modules: dict
) -> tuple[list[_Call], torch.Tensor]:
    """The calls of ``modules`` in one forward, and the forward's logits."""
    calls: list[_Call] = []

    def hook(mod: nn.Module, args: tuple, out: object) -> torch.Tensor | None:
        if args and isinstance(args[0], torch.Tensor) and isinstance(out, torch.Tensor):
            calls.append(_Call(mod, args[0], out, args[0]._version))
            return out.clone()  # a later in-place op must not rewrite the recorded output
        return None

    handles = [m.register_forward_hook(hook) for m in modules.values()]
    try:
        logits = forward(model)
    finally:
        for h in handles:
            h.remove()
    return calls, logits


def _usable(c: _Call, n: int) -> bool:
    """Batch-first input and output, the input unchanged since the call."""
    return c.inp._version == c.version and c.inp.shape[:1] == (n,) and c.out.shape[:1] == (n,)


def _owners(model: nn.Module, names: set[str]) -> dict[str, tuple[nn.Module, str]]:
    """Parameter name -> (its supported layer, attribute) for parameters owned by exactly
    one module (a weight shared between layers is left to the generic path)."""
    uses: dict[int, int] = {}
    for m in model.modules():
        for p in m._parameters.values():
            if p is not None:
                uses[id(p)] = uses.get(id(p), 0) + 1
    out: dict[str, tuple[nn.Module, str]] = {}
    for mname, m in model.named_modules():
        if not isinstance(m, SUPPORTED) or not _supported_config(m):
            continue
        for attr, p in m._parameters.items():
            full = f"{mname}.{attr}" if mname else attr
            if p is not None and full in names and uses[id(p)] == 1:
                out[full] = (m, attr)
    return out


def _supported_config(m: nn.Module) -> bool:
    if isinstance(m, nn.modules.batchnorm._BatchNorm):
        return not m.training and m.running_mean is not None
    if isinstance(m, nn.Embedding):
        return m.max_norm is None and not m.scale_grad_by_freq
    return True


def _row_backwards(
    rows: torch.Tensor,
    calls: list[_Call],
    owners: dict[str, tuple[nn.Module, str]],
    done: list[str],
    params: list[nn.Parameter],
) -> tuple[torch.Tensor, tuple[torch.Tensor | None, ...]]:
    """``(N, R, len(done))``: one backward of ``sum_n z_{n r}`` per row ``r``; and, from
    the first row's backward, autograd's gradient of that row's sum by ``params`` (what
    :func:`_checked` compares the first row's derivatives with)."""
    n, r = rows.shape
    column = {(id(owners[nm][0]), owners[nm][1]): j for j, nm in enumerate(done)}
    owning = {module_id for module_id, _ in column}
    used = [c for c in calls if id(c.module) in owning]
    jac = torch.zeros(n, r, len(done), dtype=torch.float64)
    if not rows.requires_grad:
        return jac, (None,) * len(params)
    outs = [c.out for c in used]
    # the input side of each derivative does not depend on the row: computed once
    factors = [_input_factor(c.module, c.inp.detach()) for c in used]
    targets = [
        (column.get((id(c.module), "weight")), column.get((id(c.module), "bias"))) for c in used
    ]
    first_row_grads: tuple[torch.Tensor | None, ...] = ()
    for k in range(r if outs else 1):  # no hooked call: only the check's gradients
        wrt = outs + params if k == 0 else outs
        grads = torch.autograd.grad(rows[:, k].sum(), wrt, retain_graph=True, allow_unused=True)
        if k == 0:
            grads, first_row_grads = grads[: len(outs)], grads[len(outs) :]
        for g, factor, (jw, jb), c in zip(grads, factors, targets, used):
            if g is None:
                continue
            g0 = _first_output(c.module, g)
            if jw is not None:
                jac[:, k, jw] += _per_sample(g0 * factor).to(torch.float64)
            if jb is not None:
                jac[:, k, jb] += _per_sample(g0).to(torch.float64)
    return jac, first_row_grads


def _checked(
    done: list[str], jac: torch.Tensor, first_row_grads: tuple[torch.Tensor | None, ...]
) -> tuple[list[str], torch.Tensor]:
    """Keep the parameters whose first-row derivatives, summed over samples, equal
    autograd's gradient of the first row's sum at their first scalar."""
    keep = []
    for j, g in enumerate(first_row_grads):
        want = 0.0 if g is None else float(g.reshape(-1)[0])
        got = float(jac[:, 0, j].sum())
        scale = max(abs(want), float(jac[:, 0, j].abs().sum()), 1e-12)
        if abs(got - want) <= CHECK_RTOL * scale:
            keep.append(j)
    return [done[j] for j in keep], jac[:, :, keep]


def _per_sample(t: torch.Tensor) -> torch.Tensor:
    return t.reshape(t.shape[0], -1).sum(1)


def _input_factor(mod: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """What multiplies the output gradient in the derivative by the first weight scalar:
    the input element ``w[0, ...]`` reads (linear, convolution), the positions holding
    token 0 (embedding), the normalised input (norm layers)."""
    if isinstance(mod, nn.Linear):
        return x[..., 0]
    if isinstance(mod, _CONV):
        return _conv_tap(mod, x)
    if isinstance(mod, nn.Embedding):
        return (x == 0).float() if mod.padding_idx != 0 else torch.zeros(x.shape, device=x.device)
    return _normalised_first(mod, x)


def _first_output(mod: nn.Module, g: torch.Tensor) -> torch.Tensor:
    """The output gradient at the element the first weight scalar and bias act on."""
    if isinstance(mod, (nn.Linear, nn.Embedding)):
        return g[..., 0]
    if isinstance(mod, nn.LayerNorm):
        lead = g.shape[: g.dim() - len(mod.normalized_shape)]
        return g.reshape(*lead, -1)[..., 0]
    return g[:, 0]


def _conv_tap(mod: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``(N, *S_out)``: input channel 0 as kernel offset 0 of ``mod`` sees it."""
    dims = x.dim() - 2
    conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[dims]
    tap = torch.zeros(1, 1, *mod.kernel_size, dtype=x.dtype, device=x.device)
    tap.view(-1)[0] = 1.0
    x0 = x[:, :1].detach()
    padding = mod.padding
    if mod.padding_mode != "zeros":
        x0 = F.pad(x0, mod._reversed_padding_repeated_twice, mode=mod.padding_mode)
        padding = 0
    return conv(x0, tap, None, mod.stride, padding, mod.dilation)[:, 0]


def _normalised_first(mod: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The normalised input at the element a norm layer's first scale acts on."""
    if isinstance(mod, nn.LayerNorm):
        lead = x.shape[: x.dim() - len(mod.normalized_shape)]
        return F.layer_norm(x, mod.normalized_shape, eps=mod.eps).reshape(*lead, -1)[..., 0]
    if isinstance(mod, nn.GroupNorm):
        return F.group_norm(x, mod.num_groups, eps=mod.eps)[:, 0]
    mean, var = mod.running_mean[0], mod.running_var[0]
    return (x[:, 0] - mean) / torch.sqrt(var + mod.eps)
