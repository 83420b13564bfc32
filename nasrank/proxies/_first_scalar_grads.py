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
it could not do (other layer types, shared weights, inputs not batch-first, a mismatch)
for the caller's generic path.

The layers' outputs are neither copied nor kept: tensor hooks reduce each output
gradient to the derivatives as the backward passes it (:class:`_Taps`). On the largest
NB-201 network (batch 64) that took vkdnw's peak memory from 2,193 to 951 MiB
(``benchmarks/memory_nb201_largest.py``; the copies and the full output gradients had
tripled the activations).
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
    factor: torch.Tensor  # the input side of the derivative by the first weight scalar
    usable: bool  # batch-first input and output


class _Taps:
    """Forward hooks on the layers that own the parameters: each call's input factor is
    computed at once, and its output gets a tensor hook that, in each row's backward,
    adds that row's per-sample derivatives to :attr:`jac`.

    Nothing is copied or kept but the factors: the output is tied in place to a zero
    leaf (:attr:`anchor`), so every row's backward, taken with respect to the anchor
    alone, runs through every tapped output (and no weight gradient is formed), and a
    hook registered before later in-place ops sees the gradient of the value the layer
    returned.
    """

    def __init__(self, modules: dict[int, nn.Module]) -> None:
        self.modules = modules
        self.calls: list[_Call] = []
        self.anchor: torch.Tensor | None = None
        self.row = 0
        self.jac: torch.Tensor | None = None  # (N, R, P) float64, set before the backwards
        self.targets: dict[int, tuple[int | None, int | None]] = {}  # module id -> columns

    def hook(self, mod: nn.Module, args: tuple, out: object) -> None:
        if not (args and isinstance(args[0], torch.Tensor) and isinstance(out, torch.Tensor)):
            return
        x = args[0]
        usable = x.dim() > 0 and out.dim() > 0 and x.shape[0] == out.shape[0]
        if not (usable and out.requires_grad and out.is_floating_point()):
            self.calls.append(_Call(mod, x.new_zeros(0), usable=False))
            return
        call = _Call(mod, _input_factor(mod, x.detach()), usable=True)
        self.calls.append(call)
        if self.anchor is None:
            self.anchor = torch.zeros((), dtype=out.dtype, device=out.device, requires_grad=True)
        out.add_(self.anchor)  # value unchanged; puts the output on the path to the anchor
        out.register_hook(lambda g: self._accumulate(call, g))

    def _accumulate(self, call: _Call, g: torch.Tensor) -> None:
        jw, jb = self.targets.get(id(call.module), (None, None))
        if self.jac is None or (jw is None and jb is None):
            return
        g0 = _first_output(call.module, g)
        if jw is not None:
            self.jac[:, self.row, jw] += _per_sample(g0 * call.factor).to(torch.float64)
        if jb is not None:
            self.jac[:, self.row, jb] += _per_sample(g0).to(torch.float64)

    def record(
        self, model: nn.Module, forward: Callable[[nn.Module], torch.Tensor]
    ) -> torch.Tensor:
        """One forward of ``model`` with the taps on; its logits."""
        handles = [m.register_forward_hook(self.hook) for m in self.modules.values()]
        try:
            return forward(model)
        finally:
            for h in handles:
                h.remove()


def first_scalar_jacobians(
    model: nn.Module, forward: Callable[[nn.Module], torch.Tensor], names: list[str]
) -> FirstScalarJacobians | None:
    """Hooked derivatives for ``names`` of an eval-mode ``model``; ``None`` when the
    output has more than :data:`MAX_ROWS` rows per sample.

    ``forward(model)`` returns the logits ``(N, K, *S)`` (rows ``R = K prod(S)``).
    """
    owners = _owners(model, set(names))
    taps = _Taps({id(m): m for m, _ in owners.values()})
    z = taps.record(model, forward)
    n = z.shape[0]
    rows = z.reshape(n, -1)
    if rows.shape[1] > MAX_ROWS:
        return None
    bad = {id(c.module) for c in taps.calls if not c.usable or c.factor.shape[:1] != (n,)}
    called = {id(c.module) for c in taps.calls}
    done = [nm for nm in names if nm in owners and id(owners[nm][0]) in called - bad]
    params = [model.get_parameter(nm) for nm in done]
    jac, first_row_grads = _row_backwards(rows, taps, owners, done, params)
    done, jac = _checked(done, jac, first_row_grads)
    rest = [nm for nm in names if nm not in done]
    k = z.shape[1] if z.dim() > 1 else 1
    return FirstScalarJacobians(
        jac=jac.reshape(n, k, -1, len(done)),
        logits=rows.detach().reshape(n, k, -1),
        names=done,
        rest=rest,
    )


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
    taps: _Taps,
    owners: dict[str, tuple[nn.Module, str]],
    done: list[str],
    params: list[nn.Parameter],
) -> tuple[torch.Tensor, tuple[torch.Tensor | None, ...]]:
    """``(N, R, len(done))``: one backward of ``sum_n z_{n r}`` per row ``r`` (the taps
    add up the derivatives); and, from the first row's backward, autograd's gradient of
    that row's sum by ``params`` (what :func:`_checked` compares the first row's
    derivatives with)."""
    n, r = rows.shape
    jac = torch.zeros(n, r, len(done), dtype=torch.float64)
    if not rows.requires_grad:
        return jac, (None,) * len(params)
    column = {(id(owners[nm][0]), owners[nm][1]): j for j, nm in enumerate(done)}
    taps.targets = {
        module_id: (column.get((module_id, "weight")), column.get((module_id, "bias")))
        for module_id, _ in column
    }
    taps.jac = jac
    anchor = [] if taps.anchor is None else [taps.anchor]
    first_row_grads: tuple[torch.Tensor | None, ...] = ()
    for k in range(r if anchor else 1):  # no tapped call: only the check's gradients
        taps.row = k
        wrt = anchor + params if k == 0 else anchor
        grads = torch.autograd.grad(rows[:, k].sum(), wrt, retain_graph=True, allow_unused=True)
        if k == 0:
            first_row_grads = grads[len(anchor) :]
    taps.jac = None
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
