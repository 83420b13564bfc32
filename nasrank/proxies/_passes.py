"""The shared passes: one train-mode forward/backward and one per-sample gradient pass.

Train pass (group ``"train"``): a deep copy in train mode (batch norm normalises with the
batch's statistics, as zero-cost-nas/NASLib compute ``bn=True`` proxies), one forward on
the batch with only the hooks the requested proxies need, then, on the same graph:

* ``jacobian``: d(sum of outputs)/d(inputs), one row per sample (jacov, epe_nas);
* ``loss_grads``: gradients of the loss w.r.t. every conv/linear weight (grad_norm,
  snip, plain, grasp) and, with ``fisher``, w.r.t. every conv/linear output;
* ``hvp``: the Hessian-gradient product ``H g`` (grasp), by double back-propagation
  through the same forward;
* forward-only collections: the ReLU code kernel (nwot), the ReLU sample-wise activation
  patterns (swap) and per-module feature-correlation eigenvalues (meco).

Per-sample pass (group ``"per_sample"``): gradients of every sample's own loss w.r.t. the
conv/linear weights with :mod:`torch.func` (``vmap(grad(functional_call(...)))``), batch
norm normalising each sample with its own statistics (a batch of one, as GradSign's
reference loop does), reduced on the fly to per-weight sign sums (gradsign) and moments
(zico) so that per-sample gradients are never all held at once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

from nasrank.errors import ProxyComputationError
from nasrank.proxies._context import (
    ProxyContext,
    describe,
    embedding_tables,
    main_output,
    weight_layers,
)

__all__ = [
    "RELU_TYPES",
    "RELU_LIKE",
    "TrainForward",
    "LossGrads",
    "PerSampleStats",
    "train_forward",
    "input_jacobian",
    "loss_grads",
    "hessian_grad_product",
    "per_sample_stats",
]

#: Modules whose inputs give the binary ReLU codes (nwot, swap) -- and the functions
#: below, which these modules and functional code both call.
RELU_TYPES: tuple[type[nn.Module], ...] = (
    nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.RReLU, nn.GELU, nn.SiLU, nn.ELU, nn.CELU,
    nn.SELU, nn.Mish, nn.Hardswish, nn.Softplus,
)
_HARDTANH = frozenset({F.hardtanh, F.hardtanh_, torch._C._nn.hardtanh, torch._C._nn.hardtanh_})
#: ReLU-like nonlinearities (identity-like above 0, flat below): their input's sign is the
#: activation code (NASWOT's binary code, SWAP's pattern) -- for ReLU exactly the
#: published definition, for GELU/SiLU/ELU/... its usual generalisation.
RELU_LIKE: frozenset[Callable[..., Any]] = frozenset({
    F.relu, F.relu_, torch.relu, torch.relu_, torch.Tensor.relu, torch.Tensor.relu_,
    F.relu6, F.leaky_relu, F.leaky_relu_, F.prelu, F.rrelu, F.rrelu_, F.gelu, F.silu,
    F.elu, F.elu_, F.celu, F.celu_, F.selu, F.selu_, F.mish, F.hardswish, F.softplus,
    *_HARDTANH,
})

_EXACT_F32 = 2**24  # float32 represents every integer up to this exactly


@dataclass
class TrainForward:
    """Results of the shared train-mode forward.

    Attributes:
        model: The train-mode copy the pass ran on.
        inputs: The inputs fed to it (requiring grad when ``jacobian`` was wanted).
        outputs: Model outputs, ``(N, ...)``, finite.
        layers: Conv/linear modules of ``model`` (see ``weight_layers``).
        relu_kernel: ``(N, N)`` float64 sum over nonlinearity calls of
            ``c c^T + (1-c)(1-c)^T`` for the binary codes ``c = [pre-activation > 0]``
            (nwot), or ``None``.
        relu_patterns: Distinct packed sample-wise activation patterns, one row per
            distinct pattern (swap), or ``None``.
        relu_modules: Number of ReLU-like nonlinearity calls seen (see :data:`RELU_LIKE`).
        meco_values: Minimum eigenvalue of the first sample's feature correlation matrix
            for every module call with a tensor output (meco).
        acts: ``(layer index, output)`` for every conv/linear call (fisher).
        unavailable: Artifact -> why it could not be collected (only its proxies fail).
        embedded: For token-id inputs with ``jacobian`` wanted: the output of the
            embedding table that read the ids -- the continuous input the input-Jacobian
            is taken against (``None``: not found, or float inputs).
    """

    model: nn.Module
    inputs: torch.Tensor
    outputs: torch.Tensor
    layers: list[nn.Module]
    relu_kernel: torch.Tensor | None = None
    relu_patterns: torch.Tensor | None = None
    relu_modules: int = 0
    meco_values: list[torch.Tensor] = field(default_factory=list)
    acts: list[tuple[int, torch.Tensor]] = field(default_factory=list)
    unavailable: dict[str, str] = field(default_factory=dict)
    embedded: torch.Tensor | None = None

    def artifact(self, name: str) -> Any:
        """The collected artifact ``name`` (``relu_kernel``, ``relu_patterns``, ``meco``
        values), or :class:`ProxyComputationError` with why it is missing."""
        if name in self.unavailable:
            raise ProxyComputationError(self.unavailable[name])
        value = {"relu_kernel": self.relu_kernel, "relu_patterns": self.relu_patterns,
                 "meco": self.meco_values}[name]  # fmt: skip
        if value is None:  # pragma: no cover - the proxy did not declare the artifact
            raise ProxyComputationError(f"{name} was not collected")
        return value


@dataclass
class LossGrads:
    """Loss gradients of the shared pass.

    Attributes:
        loss: The scalar loss.
        weights: The conv/linear weights, aligned with ``grads``.
        grads: d loss / d weight (detached; ``None`` for a weight the loss does not use).
        graph_loss: The loss with its graph (the Hessian pass differentiates it again).
        act_grads: d loss / d output of each conv/linear call (``fisher``), aligned with
            ``TrainForward.acts``.
        graph_grads: When the Hessian pass is wanted: the weight gradients with their
            graph (``grads`` are these, detached); ``None`` otherwise or when the model
            cannot be differentiated twice (``no_graph_reason`` says why).
    """

    loss: torch.Tensor
    weights: list[nn.Parameter]
    grads: list[torch.Tensor | None]
    graph_loss: torch.Tensor
    act_grads: list[torch.Tensor | None]
    graph_grads: tuple[torch.Tensor | None, ...] | None = None
    no_graph_reason: str | None = None


def _pack_patterns(codes: torch.Tensor) -> torch.Tensor:
    """Pack ``(N, D)`` booleans into ``(D, ceil(N / 64))`` int64, one row per neuron.

    Samples are padded to a multiple of 64, packed eight to a byte, and each neuron's
    bytes are reinterpreted as int64 words (a bijection, so equal rows <=> equal patterns).
    """
    n, d = codes.shape
    pad = (-n) % 64
    if pad:
        codes = torch.cat([codes, codes.new_zeros(pad, d)])
    bits = codes.reshape(-1, 8, d).to(torch.uint8)  # (N / 8, 8, D)
    weights = torch.tensor([1, 2, 4, 8, 16, 32, 64, 128], dtype=torch.uint8, device=codes.device)
    packed = (bits * weights.view(1, 8, 1)).sum(dim=1, dtype=torch.uint8)  # (N / 8, D)
    return packed.T.contiguous().view(torch.int64)  # (D, N / 64)


def _unique_rows(rows: torch.Tensor) -> torch.Tensor:
    if rows.shape[1] == 1:
        return torch.unique(rows[:, 0]).unsqueeze(1)
    return torch.unique(rows, dim=0)


def _min_corr_eigenvalue(features: torch.Tensor) -> torch.Tensor | None:
    """MeCo's per-layer term for one sample's ``(C, ...)`` feature map."""
    fea = features.reshape(features.shape[0], -1)
    if fea.shape[0] < 2:
        return None  # a single channel has no correlation matrix (the reference skips it)
    if fea.shape[1] < 2:
        # one position per channel: every correlation is undefined, the reference zeroes
        # them and adds lambda_min(0) = 0
        return torch.zeros((), dtype=torch.float64, device=features.device)
    corr = torch.corrcoef(fea.to(torch.float64))
    corr = torch.nan_to_num(corr, nan=0.0, posinf=0.0, neginf=0.0)
    return torch.linalg.eigvalsh(corr)[0]


def train_forward(ctx: ProxyContext) -> TrainForward:
    """The shared train-mode forward (memoised per call)."""
    return ctx.memo("train:forward", "forward pass", lambda: _train_forward(ctx))


class _Collector:
    """Hooks of the shared forward that gather one artifact each.

    A collector that fails records its reason for its own artifact and stops; the
    forward and every other artifact go on (one proxy's precondition never makes
    another proxy NaN).
    """

    def __init__(self, record: TrainForward, wanted: frozenset[str], n: int) -> None:
        self.record, self.wanted, self.n = record, wanted, n
        # the (N, N) kernel only when nwot wants it (58 MB for a Cora-sized graph)
        self.kernel = (
            torch.zeros(n, n, dtype=torch.float64, device=record.inputs.device)
            if "relu_kernel" in wanted
            else None
        )
        self.uniques: list[torch.Tensor] = []

    def guarded(self, artifacts: tuple[str, ...], fn: Callable[[], None]) -> None:
        live = tuple(a for a in artifacts if a in self.wanted and a not in self.record.unavailable)
        if not live:
            return
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - becomes this artifact's NaN reason
            for a in live:
                self.record.unavailable[a] = describe(exc)

    def on_activation(self, pre: torch.Tensor) -> None:
        """Forward hook of :class:`_ActivationCodes` (one nonlinearity call). A call on a
        tensor not indexed by sample (GAT's per-edge attention) has no per-sample code."""
        if pre.dim() == 0 or pre.shape[0] != self.n:
            return
        self.guarded(("relu_kernel", "relu_patterns"), lambda: self._codes(pre))

    def on_module_output(self, module: nn.Module, args: object, out: object) -> None:
        """Forward hook on every module (meco)."""
        self.guarded(("meco",), lambda: self._meco(out))

    def _codes(self, pre: torch.Tensor) -> None:
        """The binary codes ``[pre-activation > 0]`` of every sample."""
        codes = pre.detach().reshape(pre.shape[0], -1) > 0
        self.record.relu_modules += 1
        if self.kernel is not None and "relu_kernel" not in self.record.unavailable:
            d = codes.shape[1]
            c = codes.to(torch.float32 if d < _EXACT_F32 else torch.float64)
            s = c.sum(1)
            # c c^T + (1 - c)(1 - c)^T = D - s_i - s_j + 2 c c^T
            self.kernel.add_((2 * (c @ c.T) + d - s[:, None] - s[None, :]).to(torch.float64))
        if "relu_patterns" in self.wanted and "relu_patterns" not in self.record.unavailable:
            self.uniques.append(_unique_rows(_pack_patterns(codes)))

    def _meco(self, out: object) -> None:
        if isinstance(out, torch.Tensor) and out.dim() >= 2:
            value = _min_corr_eigenvalue(out[0].detach())
            if value is not None:
                self.record.meco_values.append(value)

    def finish(self) -> None:
        record, wanted = self.record, self.wanted
        if wanted & {"relu_kernel", "relu_patterns"} and record.relu_modules == 0:
            for a in wanted & {"relu_kernel", "relu_patterns"}:
                record.unavailable.setdefault(a, NO_NONLINEARITY)
        if self.kernel is not None and "relu_kernel" not in record.unavailable:
            record.relu_kernel = self.kernel
        if "relu_patterns" in wanted and "relu_patterns" not in record.unavailable:
            record.relu_patterns = _unique_rows(torch.cat(self.uniques))


NO_NONLINEARITY = (
    "the forward applies no ReLU-like nonlinearity (ReLU, LeakyReLU, ReLU6, GELU, SiLU, "
    "ELU, ... as modules or functions) to read activation codes from"
)


class _ActivationCodes(TorchFunctionMode):
    """Sees every ReLU-like nonlinearity the forward applies -- ``nn.ReLU``, ``F.relu``,
    ``Tensor.relu_``, the activation inside ``nn.TransformerEncoderLayer``, GELU, SiLU,
    ... -- and hands its input (the pre-activation) to ``on_call`` before it runs, so an
    in-place activation is read before it overwrites its input. Nested calls (``F.relu6``
    inside ``nn.ReLU6``) are seen once: the mode is off while a call it caught runs."""

    def __init__(self, on_call: Callable[[torch.Tensor], None]) -> None:
        super().__init__()
        self.on_call = on_call

    def __torch_function__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        kwargs = kwargs or {}
        if func in RELU_LIKE and args and isinstance(args[0], torch.Tensor):
            if func not in _HARDTANH or _hardtanh_min(args, kwargs) == 0.0:
                self.on_call(args[0])
        return func(*args, **kwargs)


def _hardtanh_min(args: tuple[Any, ...], kwargs: dict[str, Any]) -> float:
    # nn.ReLU6 is hardtanh(0, 6): ReLU-like only when the lower bound is 0
    return float(kwargs.get("min_val", args[1] if len(args) > 1 else -1.0))


def _train_forward(ctx: ProxyContext) -> TrainForward:
    wanted = ctx.wanted.get("train", frozenset())
    model = ctx.copy()
    model.train()
    x = ctx.inputs
    if "jacobian" in wanted and torch.is_floating_point(x):
        x = x.detach().clone().requires_grad_(True)
    need_graph = bool(wanted & {"jacobian", "loss_grads", "fisher", "hvp"})
    layers = weight_layers(model)
    record = TrainForward(model=model, inputs=x, outputs=torch.empty(0), layers=layers)
    collect = _Collector(record, wanted, x.shape[0])
    handles = []
    if "meco" in wanted:
        handles += [m.register_forward_hook(collect.on_module_output) for m in model.modules()]
    if "fisher" in wanted:
        index = {id(m): i for i, m in enumerate(layers)}

        def act_hook(module: nn.Module, inp: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
            if isinstance(out, torch.Tensor) and out.requires_grad:
                record.acts.append((index[id(module)], out))

        handles += [m.register_forward_hook(act_hook) for m in layers]
    if "jacobian" in wanted and not torch.is_floating_point(x):
        handles += _embedding_hooks(model, record)
    codes = (
        _ActivationCodes(collect.on_activation)
        if wanted & {"relu_kernel", "relu_patterns"}
        else contextlib.nullcontext()
    )
    try:
        with torch.set_grad_enabled(need_graph), codes:
            out = ctx.forward(model, x)
    finally:
        for h in handles:
            h.remove()
    record.outputs = ctx.check_outputs(out)
    collect.finish()
    return record


def _embedding_hooks(model: nn.Module, record: TrainForward) -> list[Any]:
    """Hooks that keep, in ``record.embedded``, the output of the first embedding table
    whose indices are the batch's token ids themselves."""

    def keep(module: nn.Module, args: tuple[Any, ...], out: torch.Tensor) -> None:
        if record.embedded is None and args and args[0] is record.inputs:
            record.embedded = out

    return [m.register_forward_hook(keep) for m in embedding_tables(model)]


def input_jacobian(ctx: ProxyContext) -> torch.Tensor:
    """``(N, D)`` rows d(sum of outputs)/d(input_n) on the shared forward. For token
    ids the input is the output of the embedding table that reads them (ids have no
    gradient; their embeddings are the network's continuous input)."""

    def run() -> torch.Tensor:
        fw = train_forward(ctx)
        wrt = fw.inputs if fw.inputs.requires_grad else fw.embedded
        if wrt is None or not wrt.requires_grad or wrt.shape[:1] != fw.inputs.shape[:1]:
            if torch.is_floating_point(fw.inputs):  # pragma: no cover - set by the forward
                raise ProxyComputationError("inputs do not require grad")
            raise ProxyComputationError(
                "token-id inputs, but no nn.Embedding reads them directly (with the batch "
                "first) to differentiate against"
            )
        (jac,) = torch.autograd.grad(fw.outputs.sum(), wrt, retain_graph=True)
        return jac.detach().reshape(jac.shape[0], -1)

    return ctx.memo("train:jacobian", "input-gradient pass", run)


def loss_grads(ctx: ProxyContext) -> LossGrads:
    """Loss gradients on the shared forward (see :class:`LossGrads`)."""

    def run() -> LossGrads:
        fw = train_forward(ctx)
        if not fw.layers:
            raise ProxyComputationError("the model has no convolution or linear layers")
        loss = ctx.loss(fw.outputs, ctx.targets)
        weights = [m.weight for m in fw.layers]
        acts = [a for _, a in fw.acts]
        hvp_wanted = "hvp" in ctx.wanted.get("train", frozenset())
        grads, graph_grads, why = _backward(loss, weights + acts, hvp_wanted)
        return LossGrads(
            loss=loss.detach(),
            weights=weights,
            grads=[None if g is None else g.detach() for g in grads[: len(weights)]],
            graph_loss=loss,
            act_grads=[None if g is None else g.detach() for g in grads[len(weights) :]],
            graph_grads=None if graph_grads is None else graph_grads[: len(weights)],
            no_graph_reason=why,
        )

    return ctx.memo("train:loss_grads", "loss backward pass", run)


def _backward(
    loss: torch.Tensor, inputs: list[torch.Tensor], with_graph: bool
) -> tuple[tuple[torch.Tensor | None, ...], tuple[torch.Tensor | None, ...] | None, str | None]:
    """``(grads, grads with their graph or None, why not)``: one backward that also
    records its graph when the Hessian pass wants it (the same gradients, shared); if the
    model cannot be differentiated twice, a plain backward, and only the Hessian pass
    fails, with the reason."""
    why = None
    if with_graph:
        try:
            graph = torch.autograd.grad(
                loss, inputs, retain_graph=True, create_graph=True, allow_unused=True
            )
            return graph, graph, None
        except RuntimeError as exc:
            why = f"cannot differentiate the loss gradient again: {describe(exc)}"
    grads = torch.autograd.grad(loss, inputs, retain_graph=True, allow_unused=True)
    return grads, None, why


def hessian_grad_product(ctx: ProxyContext) -> list[torch.Tensor | None]:
    """``H g`` per conv/linear weight, ``g`` the loss gradient (GraSP), by double
    back-propagation through the shared forward."""

    def run() -> list[torch.Tensor | None]:
        lg = loss_grads(ctx)
        if lg.graph_grads is None:
            raise ProxyComputationError(lg.no_graph_reason or "no loss-gradient graph")
        graph_grads = lg.graph_grads
        terms = [
            (gg.detach() * gg).sum() for gg in graph_grads if gg is not None and gg.requires_grad
        ]
        if not terms:
            return [None] * len(lg.weights)
        z = torch.stack(terms).sum()
        hv = torch.autograd.grad(z, lg.weights, retain_graph=True, allow_unused=True)
        return [None if h is None else h.detach() for h in hv]

    return ctx.memo("train:hvp", "Hessian-gradient pass", run)


# ---- per-sample gradients ----------------------------------------------------------------
def _vmapped_or_looped(sample_grad: Callable[..., dict[str, torch.Tensor]]) -> Callable[..., Any]:
    """``(params, xs, ys) -> {name: (c, ...) per-sample gradients}``: vectorised with
    ``vmap``, or -- for layers ``vmap`` has no batching rule for (``nn.GRU``'s in-place
    kernels) -- one sample at a time, decided once on the first chunk."""
    from torch.func import vmap

    vmapped = vmap(sample_grad, in_dims=(None, 0, 0), randomness="different")
    use_loop = False

    def looped(params: dict[str, torch.Tensor], xs: torch.Tensor, ys: torch.Tensor) -> Any:
        each = [sample_grad(params, xi, yi) for xi, yi in zip(xs, ys)]
        return {k: torch.stack([g[k] for g in each]) for k in each[0]}

    def run(params: dict[str, torch.Tensor], xs: torch.Tensor, ys: torch.Tensor) -> Any:
        nonlocal use_loop
        if not use_loop:
            try:
                return vmapped(params, xs, ys)
            except RuntimeError:
                use_loop = True
        return looped(params, xs, ys)

    return run



@dataclass
class PerSampleStats:
    """Per-weight statistics of per-sample gradients over the batch.

    Attributes:
        names: Parameter names of the conv/linear weights, in ``weight_layers`` order.
        n: Number of samples.
        sign_sum: Sum over samples of ``sign(g)`` per weight (``sign_sum`` wanted).
        mean_abs: Mean over samples of ``|g|`` (float64; ``moments`` wanted).
        mean: Mean over samples of ``g`` (float64).
        m2: Sum over samples of ``(g - mean)^2`` (float64), so ``std = sqrt(m2 / n)``.
    """

    names: list[str]
    n: int
    sign_sum: list[torch.Tensor] | None = None
    mean_abs: list[torch.Tensor] | None = None
    mean: list[torch.Tensor] | None = None
    m2: list[torch.Tensor] | None = None


#: Bytes of per-sample gradients materialised at once (sets the vmap chunk size).
PER_SAMPLE_BUDGET_BYTES = 64 * 2**20


def per_sample_stats(ctx: ProxyContext) -> PerSampleStats:
    """Per-sample gradient statistics (memoised per call)."""
    return ctx.memo("per_sample", "per-sample gradient pass", lambda: _per_sample(ctx))


#: Nodes of a graph batch whose per-node loss gradients the per-sample pass takes.
PER_NODE_SAMPLES = 64


def _per_sample(ctx: ProxyContext) -> PerSampleStats:
    """Per-sample gradients of independent samples (``vmap``), or -- for a batch with
    extras such as a graph, whose samples (nodes) share one forward -- the gradients of
    the first :data:`PER_NODE_SAMPLES` nodes' own losses under the whole graph's forward."""
    model = ctx.copy()
    model.train()
    layer_ids = {id(m) for m in weight_layers(model)}
    names = [f"{name}.weight" if name else "weight" for name, m in model.named_modules()
             if id(m) in layer_ids]
    if not names:
        raise ProxyComputationError("the model has no convolution or linear layers")
    chunks = _per_node_chunks(ctx, model, names) if ctx.extras else _vmap_chunks(ctx, model, names)
    return _accumulate(names, ctx.wanted.get("per_sample", frozenset()), chunks)


def _vmap_chunks(
    ctx: ProxyContext, model: nn.Module, names: list[str]
) -> Iterator[dict[str, torch.Tensor]]:
    from torch.func import functional_call, grad, replace_all_batch_norm_modules_

    replace_all_batch_norm_modules_(model)  # batch norm: each sample's own statistics
    for p in model.parameters():
        p.requires_grad_(False)
    params = {name: model.get_parameter(name).detach() for name in names}
    x, y = ctx.inputs, ctx.targets
    n = x.shape[0]
    with torch.no_grad():  # probe one sample: finite outputs, labels in range
        probe = ctx.check_outputs(model(x[:1]))
        ctx.loss(probe, y[:1])
        if not ctx.custom_loss:
            ctx.loss(probe.expand(n, *probe.shape[1:]), y)  # label range over the batch

    def sample_loss(p: dict[str, torch.Tensor], xi: torch.Tensor, yi: torch.Tensor) -> torch.Tensor:
        out = main_output(functional_call(model, p, (xi.unsqueeze(0),)))
        return ctx.loss_fn(out, ctx.dense_targets(out, yi.unsqueeze(0))).reshape(())

    per_sample_grad = _vmapped_or_looped(grad(sample_loss))
    n_weights = sum(p.numel() for p in params.values())
    chunk = int(max(1, min(n, PER_SAMPLE_BUDGET_BYTES // max(1, 4 * n_weights))))
    for start in range(0, n, chunk):
        yield per_sample_grad(params, x[start : start + chunk], y[start : start + chunk])


def _per_node_chunks(
    ctx: ProxyContext, model: nn.Module, names: list[str]
) -> Iterator[dict[str, torch.Tensor]]:
    weights = [model.get_parameter(name) for name in names]
    out = ctx.check_outputs(ctx.forward(model, ctx.inputs))
    y = ctx.targets
    ctx.loss(out, y)  # shapes and label range, with the clear messages
    for i in range(min(PER_NODE_SAMPLES, out.shape[0])):
        loss = ctx.loss(out[i : i + 1], y[i : i + 1])
        grads = torch.autograd.grad(loss, weights, retain_graph=True, allow_unused=True)
        yield {
            name: (torch.zeros_like(w) if g is None else g).detach().unsqueeze(0)
            for name, w, g in zip(names, weights, grads)
        }


def _accumulate(
    names: list[str], wanted: frozenset[str], chunks: Iterator[dict[str, torch.Tensor]]
) -> PerSampleStats:
    """Sign sums and (Chan et al.'s pairwise) mean / M2 / mean-abs over the chunks of
    ``(c, ...)`` per-sample gradients, keeping one chunk in memory at a time."""
    stats = PerSampleStats(names=names, n=0)
    for g in chunks:
        c = int(g[names[0]].shape[0])
        seen, total = stats.n, stats.n + c
        if "sign_sum" in wanted:
            signs = [torch.sign(g[k]).sum(0) for k in names]
            stats.sign_sum = signs if stats.sign_sum is None else [
                a + b for a, b in zip(stats.sign_sum, signs)]  # fmt: skip
        if "moments" in wanted:
            _update_moments(stats, [g[k] for k in names], seen, c, total)
        stats.n = total
        del g
    for tensors in (stats.sign_sum, stats.m2, stats.mean_abs):
        if tensors is not None and not all(bool(torch.isfinite(t).all()) for t in tensors):
            raise ProxyComputationError("a per-sample gradient is not finite (NaN or inf)")
    return stats


def _update_moments(
    stats: PerSampleStats, grads: list[torch.Tensor], seen: int, c: int, total: int
) -> None:
    means, m2s, abss = [], [], []
    for gi in grads:
        mean_b = gi.mean(0)
        m2s.append((gi - mean_b).square_().sum(0).to(torch.float64))  # (var_mean is slow)
        abss.append(gi.abs().mean(0).to(torch.float64))
        means.append(mean_b.to(torch.float64))
    if stats.mean is None or stats.m2 is None or stats.mean_abs is None:
        stats.mean, stats.m2, stats.mean_abs = means, m2s, abss
        return
    for i in range(len(grads)):
        delta = means[i] - stats.mean[i]
        stats.mean[i] += delta * (c / total)
        stats.m2[i] += m2s[i] + delta**2 * (seen * c / total)
        stats.mean_abs[i] += (abss[i] - stats.mean_abs[i]) * (c / total)
