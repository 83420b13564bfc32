"""The block pass: the features of a model's trunk of blocks, for AZ-NAS's proxies.

AZ-NAS (Lee & Ham, CVPR 2024) reads the feature maps at the outputs of a network's
*primary blocks* -- on NAS-Bench-201 the stem output and the output of each of the 17
cells (15 cells and 2 residual reductions), as the authors' ``extract_cell_features``
returns them. To score *any* model the blocks have to be found, not declared. The rule
(:func:`block_stats` runs it on one train-mode forward with hooks on every module):

1. **Calls.** Every module call is recorded with its first tensor argument and its
   output (:func:`~nasrank.proxies._context.main_output`: a tuple's first item, a
   mapping's ``"logits"``), in the order the calls start. Plain containers (exactly
   ``nn.Sequential``, ``nn.ModuleList``, ``nn.ModuleDict``) are transparent: their
   children count as children of the nearest enclosing module that is not one, so
   ``stem -> Sequential(cells) -> head`` is one sequence ``stem, cell_0, ..., head``.
   The model's own call is recorded only when it is a single layer (then it is the trunk).
2. **Chains.** The calls of one module's children, in call order, split into chains:
   consecutive calls where the later call's input was computed from the earlier call's
   output (the earlier output is an ancestor of the later input in the autograd graph,
   so ``head(flatten(pool(x)))`` and ``conv2(F.relu(conv1(x)))`` chain, and the parallel
   edges of an NB-201 cell, which all read the cell's input, do not). A call whose
   output is not a floating ``(N, ...)`` tensor ends a chain.
3. **Blocks and the trunk.** A *block* is a call of a module that has submodules and is
   not a plain container (a cell, a residual block, a transformer layer, a GCNConv, ...).
   The trunk is the chain with the most blocks, cut from its first block to its last;
   ties go to the longer cut, then to the earlier chain. A network without any block
   (a plain CNN, an MLP, an RNN classifier) has as trunk its longest chain of layers.
4. **Features.** The trunk's input (unless it is the model's own input) followed by the
   output of every call of the trunk. On NB-201 this is exactly AZ-NAS's 18 features.

A feature ``(N, C, *spatial)`` of four or more dimensions has its channels on axis 1
(PyTorch's convention for images and volumes); a three-dimensional one ``(N, T, D)``
has them last (sequence models, ``batch_first``; a ``Conv1d`` trunk's ``(N, C, L)``
would be read transposed); a two-dimensional one ``(N, D)`` is one position per sample.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from nasrank.errors import ProxyComputationError
from nasrank.proxies._context import ProxyContext, describe, main_output

__all__ = [
    "BlockStats",
    "PLAIN_CONTAINERS",
    "block_stats",
    "spectrum_entropy",
    "trainability_term",
    "feature_rows",
    "TRAINABILITY_EPS",
]

#: Containers whose children are spliced into the enclosing module's call sequence.
PLAIN_CONTAINERS: tuple[type[nn.Module], ...] = (nn.Sequential, nn.ModuleList, nn.ModuleDict)
#: The ``1e-6`` of AZ-NAS's trainability term ``-s - 1 / (s + eps) + 2``.
TRAINABILITY_EPS = 1e-6
#: Autograd nodes visited at most when deciding whether two calls chain.
_MAX_VISITS = 200_000


@dataclass
class BlockStats:
    """What the block pass found and computed.

    Attributes:
        names: The trunk's features, named by module path (``"<input of cells.0>"``,
            ``"cells.0"``, ...).
        entropies: AZ-NAS's expressivity of each feature (entropy of its normalised
            principal-component spectrum), in trunk order.
        trainability: AZ-NAS's term ``-s - 1/(s + eps) + 2`` of each consecutive pair of
            features that could be aligned, in trunk order.
        trainability_error: Why no trainability term could be computed, or ``None``.
    """

    names: list[str]
    entropies: list[float]
    trainability: list[float] = field(default_factory=list)
    trainability_error: str | None = None


@dataclass
class _Call:
    index: int
    module: nn.Module
    name: str
    owner: int
    occurrence: int
    is_block: bool
    inp: torch.Tensor | None = None
    inp_version: int = 0
    out: torch.Tensor | None = None
    out_node: Any = None
    out_version: int = 0


def block_stats(ctx: ProxyContext) -> BlockStats:
    """The block pass (memoised per call): trunk features, their entropies, and the
    trainability terms of consecutive features."""
    return ctx.memo("blocks", "block-feature pass", lambda: _block_stats(ctx))


# ---- spectra -----------------------------------------------------------------------------
def feature_rows(t: torch.Tensor) -> torch.Tensor:
    """``t`` as ``(samples x positions, features)`` rows (see the module docstring for
    which axis holds the features).

    Shapes:
        ``(N, D)`` -> ``(N, D)``; ``(N, T, D)`` -> ``(N T, D)``;
        ``(N, C, *S)`` -> ``(N prod(S), C)``.
    """
    return _positions_last(t).reshape(-1, _positions_last(t).shape[-1])


def _positions_last(t: torch.Tensor) -> torch.Tensor:
    """``(N, *S, C)``: the feature axis last."""
    return t.movedim(1, -1) if t.dim() >= 4 else t


def spectrum_entropy(rows: torch.Tensor) -> float:
    """Entropy of the normalised eigenvalue spectrum of the covariance of ``rows``.

    ``Sigma = X^T X / M`` for the centred ``(M, C)`` rows ``X``; with its eigenvalues
    ``s`` (negative rounding clipped to 0) and ``p = s / sum(s)``, ``-sum p log p``
    (``0 log 0 = 0``). Maximal, ``log C``, for isotropic features; 0 for features with
    a single principal direction -- and, by that limit, for features with no variance at
    all (a block whose output is constant, e.g. all zeros).
    """
    x = rows.detach().to(torch.float64)
    x = x - x.mean(dim=0, keepdim=True)
    sigma = x.T @ x / x.shape[0]
    s = torch.linalg.eigvalsh(sigma).clamp_min(0.0)
    total = float(s.sum())
    if not total > 0.0 or not math.isfinite(total):
        return 0.0
    p = s / total
    p = p[p > 0]
    return float(-(p * torch.log(p)).sum())


def trainability_term(sigma_max: float) -> float:
    """AZ-NAS's per-pair score ``-s - 1 / (s + eps) + 2``: 0 at ``s = 1`` (the block
    keeps gradient magnitudes), negative otherwise."""
    return -sigma_max - 1.0 / (sigma_max + TRAINABILITY_EPS) + 2.0


# ---- the pass ----------------------------------------------------------------------------
def _block_stats(ctx: ProxyContext) -> BlockStats:
    model = ctx.copy()
    model.train()
    x = ctx.inputs
    if torch.is_floating_point(x):
        # so that every tensor computed from the input has a graph to chain calls by
        x = x.detach().clone().requires_grad_(True)
    calls = _Recorder(model, x.shape[0])
    with torch.enable_grad():
        with calls.hooked():
            out = ctx.forward(model, x)
        ctx.check_outputs(out)
        trunk = _trunk(calls.calls, x)
        features, names = _features(trunk, x)
        if any(not _intact(t, v) for t, v, _ in features):
            # a later in-place operation overwrote a feature: once more, protecting them
            features = _protected_features(ctx, model, x, trunk)
        tensors = [t for t, _, _ in features]
        del calls, out
        entropies = [spectrum_entropy(feature_rows(t)) for t in tensors]
        stats = BlockStats(names=names, entropies=entropies)
        if len(tensors) < 2:
            stats.trainability_error = _too_few(len(tensors))
            return stats
        try:
            stats.trainability = _trainability(ctx, tensors)
        except ProxyComputationError as exc:
            stats.trainability_error = str(exc)
    return stats


def _too_few(n: int) -> str:
    return (
        f"needs at least two block features to compare; the trunk has {n} (see "
        "nasrank.proxies._blocks for how blocks are found)"
    )


class _Recorder:
    """Hooks on every module recording each call's first tensor input and output."""

    def __init__(self, model: nn.Module, n: int) -> None:
        self.model, self.n = model, n
        self.calls: list[_Call] = []
        self.owner = _owners(model)
        self.names = {id(m): n for n, m in reversed(list(model.named_modules()))}
        self.counts: dict[int, int] = {}
        self.open: dict[int, list[_Call]] = {}

    def hooked(self) -> Any:
        import contextlib

        @contextlib.contextmanager
        def cm() -> Any:
            handles = []
            for m in self.model.modules():
                # the root itself only when it is a single layer (then it is the trunk)
                leaf_root = m is self.model and not any(True for _ in m.children())
                if (m is self.model and not leaf_root) or type(m) in PLAIN_CONTAINERS:
                    continue
                handles.append(m.register_forward_pre_hook(self.pre, with_kwargs=True))
                handles.append(m.register_forward_hook(self.post))
            try:
                yield
            finally:
                for h in handles:
                    h.remove()

        return cm()

    def pre(self, module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        k = self.counts.get(id(module), 0)
        self.counts[id(module)] = k + 1
        inp = _first_tensor(args, kwargs)
        call = _Call(
            index=len(self.calls),
            module=module,
            name=self.names.get(id(module), type(module).__name__),
            owner=self.owner.get(id(module), -1),
            occurrence=k,
            is_block=_is_block(module),
            inp=inp,
            inp_version=inp._version if inp is not None else 0,
        )
        self.calls.append(call)
        self.open.setdefault(id(module), []).append(call)

    def post(self, module: nn.Module, args: tuple[Any, ...], out: Any) -> None:
        stack = self.open.get(id(module))
        if not stack:  # pragma: no cover - a post hook always follows its pre hook
            return
        call = stack.pop()
        o = main_output(out)
        if _is_feature(o, self.n):
            call.out, call.out_node, call.out_version = o, o.grad_fn, o._version


def _first_tensor(args: tuple[Any, ...], kwargs: dict[str, Any]) -> torch.Tensor | None:
    for a in list(args) + list(kwargs.values()):
        if isinstance(a, torch.Tensor):
            return a
    return None


def _is_block(module: nn.Module) -> bool:
    return type(module) not in PLAIN_CONTAINERS and any(True for _ in module.children())


def _is_feature(t: Any, n: int) -> bool:
    return (
        isinstance(t, torch.Tensor)
        and torch.is_floating_point(t)
        and t.dim() >= 2
        and t.shape[0] == n
        and t.numel() > n
    )


def _owners(model: nn.Module) -> dict[int, int]:
    """Module id -> id of the nearest ancestor that is not a plain container (the
    root if none is)."""
    parent: dict[int, nn.Module] = {}
    for m in model.modules():
        for child in m.children():
            parent.setdefault(id(child), m)
    owners: dict[int, int] = {}
    for m in model.modules():
        if m is model:
            continue
        p = parent[id(m)]
        while p is not model and type(p) in PLAIN_CONTAINERS:
            p = parent[id(p)]
        owners[id(m)] = id(p)
    return owners


def _depends(later: torch.Tensor | None, earlier: _Call) -> bool:
    """Whether ``later`` was computed from ``earlier``'s output."""
    if later is None or earlier.out is None:
        return False
    if later is earlier.out:
        return True
    target, start = earlier.out_node, later.grad_fn
    if target is None or start is None:
        return False
    floor = target._sequence_nr()
    todo, seen, visits = [start], {id(start)}, 0
    while todo and visits < _MAX_VISITS:
        node = todo.pop()
        visits += 1
        if node is target:
            return True
        for nxt, _ in node.next_functions:
            # nodes created before the earlier output cannot lead to it
            if nxt is None or id(nxt) in seen or nxt._sequence_nr() <= floor:
                if nxt is target:
                    return True
                continue
            seen.add(id(nxt))
            todo.append(nxt)
    return False


def _chains(calls: Sequence[_Call]) -> list[list[_Call]]:
    by_owner: dict[int, list[_Call]] = {}
    for c in calls:
        by_owner.setdefault(c.owner, []).append(c)
    chains: list[list[_Call]] = []
    for seq in by_owner.values():
        current: list[_Call] = []
        for c in seq:
            if c.out is None:
                if current:
                    chains.append(current)
                current = []
                continue
            if current and _depends(c.inp, current[-1]):
                current.append(c)
            else:
                if current:
                    chains.append(current)
                current = [c]
        if current:
            chains.append(current)
    return chains


def _trunk(calls: Sequence[_Call], x: torch.Tensor) -> list[_Call]:
    best: tuple[tuple[int, int, int], list[_Call]] | None = None
    for chain in _chains(calls):
        blocks = [i for i, c in enumerate(chain) if c.is_block]
        span = chain[blocks[0] : blocks[-1] + 1] if blocks else chain
        key = (len(blocks), len(span), -span[0].index)
        if best is None or key > best[0]:
            best = (key, span)
    if best is None:
        raise ProxyComputationError(
            "no module call returned a floating (N, ...) feature tensor to read blocks from"
        )
    return best[1]


def _features(
    trunk: Sequence[_Call], x: torch.Tensor
) -> tuple[list[tuple[torch.Tensor, int, str]], list[str]]:
    """``[(tensor, version when recorded, name)]`` of the trunk's features, and names."""
    first = trunk[0]
    out: list[tuple[torch.Tensor, int, str]] = []
    inp = first.inp
    if inp is not None and inp is not x and _is_feature(inp, x.shape[0]):
        out.append((inp, first.inp_version, f"<input of {_label(first)}>"))
    for c in trunk:
        assert c.out is not None  # chains hold calls with feature outputs only
        out.append((c.out, c.out_version, _label(c)))
    return out, [name for _, _, name in out]


def _label(call: _Call) -> str:
    return call.name if call.occurrence == 0 else f"{call.name}#{call.occurrence}"


def _intact(t: torch.Tensor, version: int) -> bool:
    return t._version == version


def _protected_features(
    ctx: ProxyContext, model: nn.Module, x: torch.Tensor, trunk: Sequence[_Call]
) -> list[tuple[torch.Tensor, int, str]]:
    """Forward once more, recording the trunk's features and handing the model clones of
    them, so that later in-place operations cannot overwrite the recorded tensors."""
    from nasrank.proxies.engine import reseed  # the engine imports the registry

    wanted = {(id(c.module), c.occurrence): i for i, c in enumerate(trunk)}
    counts: dict[int, int] = {}
    recorded: dict[int, torch.Tensor] = {}
    first_input: list[torch.Tensor] = []

    def pre(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        k = counts.get(id(module), 0)
        counts[id(module)] = k + 1
        if wanted.get((id(module), k)) == 0 and args and isinstance(args[0], torch.Tensor):
            if args[0] is not x and _is_feature(args[0], x.shape[0]):
                first_input.append(args[0])
                return (args[0].clone(),) + tuple(args[1:]), kwargs
        return None

    def post(module: nn.Module, args: tuple[Any, ...], out: Any) -> Any:
        k = counts[id(module)] - 1
        i = wanted.get((id(module), k))
        if i is None:
            return None
        o = main_output(out)
        if isinstance(o, torch.Tensor):
            recorded[i] = o
            if o is out:
                return out.clone()
        return None

    handles = []
    for m in {id(c.module): c.module for c in trunk}.values():
        handles.append(m.register_forward_pre_hook(pre, with_kwargs=True))
        handles.append(m.register_forward_hook(post))
    reseed(ctx.seed, ctx.device)
    try:
        ctx.check_outputs(ctx.forward(model, x))
    finally:
        for h in handles:
            h.remove()
    tensors = first_input[:1] + [recorded[i] for i in sorted(recorded)]
    if len(recorded) != len(trunk) or any(not _is_feature(t, x.shape[0]) for t in tensors):
        raise ProxyComputationError("the block features changed between two forwards")
    versions = [t._version for t in tensors]
    return [(t, v, "") for t, v in zip(tensors, versions)]


# ---- trainability ------------------------------------------------------------------------
def _trainability(ctx: ProxyContext, features: Sequence[torch.Tensor]) -> list[float]:
    """AZ-NAS's trainability terms of consecutive features, last pair first.

    For the pair ``(f_in, f_out)``: a Rademacher ``g_out`` of ``f_out``'s shape, the
    vector-Jacobian product ``g_in = g_out d f_out / d f_in``, both as rows of
    ``(sample x position, feature)`` (a finer grid folded into features, as
    ``PixelUnshuffle`` does, so the positions of the two align), ``M = g_in^T g_out /
    rows`` -- an estimate of the block's Jacobian -- and its largest singular value
    ``s``; the term is ``-s - 1/(s + eps) + 2``. A block that passes its input through
    unchanged (``g_in == g_out`` exactly) is given the term of a block passing nothing
    (``s = 0``): AZ-NAS scores it ``-inf``, ranking such networks last, and a finite
    worst value keeps that order while leaving the score a number.
    """
    gen = ctx.generator(offset=7)
    terms: list[float] = []
    skipped: list[str] = []
    for i in reversed(range(1, len(features))):
        f_in, f_out = features[i - 1], features[i]
        g_out = (torch.randint(0, 2, f_out.shape, generator=gen) * 2 - 1).to(
            device=f_out.device, dtype=f_out.dtype
        )
        g_in = _vjp(f_out, f_in, g_out)
        if g_in.shape == g_out.shape and torch.equal(g_in, g_out):
            terms.append(trainability_term(0.0))
            continue
        aligned = _align(g_in, g_out)
        if aligned is None:
            skipped.append(f"{tuple(f_in.shape)} -> {tuple(f_out.shape)}")
            continue
        a, b = aligned
        mat = a.T @ b / a.shape[0]
        sigma = float(torch.linalg.matrix_norm(mat, ord=2))
        terms.append(trainability_term(sigma))
    if not terms:
        raise ProxyComputationError(
            "no two consecutive block features have positions that align (one grid an "
            f"integer refinement of the other): {'; '.join(skipped)}"
        )
    terms.reverse()
    return terms


def _vjp(f_out: torch.Tensor, f_in: torch.Tensor, g_out: torch.Tensor) -> torch.Tensor:
    if not (f_out.requires_grad and f_in.requires_grad):
        return torch.zeros_like(f_in)
    try:
        (g,) = torch.autograd.grad(
            f_out, f_in, grad_outputs=g_out, retain_graph=True, allow_unused=True
        )
    except RuntimeError as exc:
        raise ProxyComputationError(
            f"cannot differentiate one block feature by the previous one: {describe(exc)}"
        ) from exc
    return torch.zeros_like(f_in) if g is None else g.detach()


def _align(g_in: torch.Tensor, g_out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
    """``(rows of g_in, rows of g_out)`` on a common grid of positions, float64, or None."""
    a, b = _positions_last(g_in), _positions_last(g_out)
    s_in, s_out = tuple(a.shape[1:-1]), tuple(b.shape[1:-1])
    if math.prod(s_in) == 1:
        s_in, a = (1,) * len(s_out), a.reshape(a.shape[0], *([1] * len(s_out)), a.shape[-1])
    if math.prod(s_out) == 1:
        s_out, b = (1,) * len(s_in), b.reshape(b.shape[0], *([1] * len(s_in)), b.shape[-1])
    if len(s_in) != len(s_out):
        return None
    if s_in != s_out:
        if all(i % o == 0 for i, o in zip(s_in, s_out)):
            a = _fold(a, s_out)
        elif all(o % i == 0 for i, o in zip(s_in, s_out)):
            b = _fold(b, s_in)
        else:
            return None
    return (
        a.reshape(-1, a.shape[-1]).to(torch.float64),
        b.reshape(-1, b.shape[-1]).to(torch.float64),
    )


def _fold(t: torch.Tensor, grid: Sequence[int]) -> torch.Tensor:
    """``(N, *S, C)`` -> ``(N, *grid, C * prod(S / grid))``: each cell of the coarser grid
    takes the features of the finer positions it covers (PixelUnshuffle, any rank)."""
    n, c, s = t.shape[0], t.shape[-1], t.shape[1:-1]
    factors = [si // gi for si, gi in zip(s, grid)]
    shape = [n]
    for gi, fi in zip(grid, factors):
        shape += [gi, fi]
    t = t.reshape(*shape, c)
    k = len(grid)
    order = [0] + [1 + 2 * d for d in range(k)] + [2 + 2 * d for d in range(k)] + [1 + 2 * k]
    return t.permute(*order).reshape(n, *grid, c * math.prod(factors))
