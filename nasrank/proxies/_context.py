"""Per-call state shared by the proxies of one :func:`~nasrank.proxies.engine.score` call.

The :class:`ProxyContext` owns the batch, the loss and lazily computed, memoised pass
results (successes *and* failures), so that every pass runs at most once per call and a
failing pass gives every proxy that depends on it the same NaN reason.

Model copies come from :meth:`ProxyContext.copy`; the caller's model is only ever read.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import torch
import torch.nn.functional as F
from torch import nn

from nasrank.data.batch import Batch
from nasrank.errors import ProxyComputationError

__all__ = [
    "ProxyContext",
    "LossFn",
    "weight_layers",
    "linear_layers",
    "embedding_tables",
    "WEIGHT_LAYER_TYPES",
    "BN_TYPES",
]

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
T = TypeVar("T")

#: Layers whose ``weight`` the gradient/saliency proxies aggregate over (zero-cost-nas and
#: NASLib use ``nn.Conv2d`` and ``nn.Linear``; any convolution dimensionality is accepted).
#: Other modules count too when they own a matrix ``weight`` (see :func:`weight_layers`).
WEIGHT_LAYER_TYPES: tuple[type[nn.Module], ...] = (nn.modules.conv._ConvNd, nn.Linear)
#: Batch-norm layers (1d/2d/3d, incl. SyncBatchNorm).
BN_TYPES: tuple[type[nn.Module], ...] = (nn.modules.batchnorm._BatchNorm,)
#: Modules with a matrix ``weight`` that is a lookup table, not a layer's weights.
_LOOKUP_TYPES: tuple[type[nn.Module], ...] = (nn.Embedding, nn.EmbeddingBag)


def weight_layers(model: nn.Module) -> list[nn.Module]:
    """The modules of ``model`` whose ``weight`` the gradient proxies aggregate over, in
    ``model.modules()`` order, each once: convolutions and linears
    (:data:`WEIGHT_LAYER_TYPES`), and any other module owning a ``weight`` parameter of
    two or more dimensions (PyG's ``Linear``, ``nn.Bilinear``, GPT-2's ``Conv1D``, ...),
    embeddings excepted. Normalisation layers (vector weights) are not layers here."""
    out: list[nn.Module] = []
    for m in model.modules():
        w = m._parameters.get("weight")
        if not isinstance(w, nn.Parameter) or isinstance(w, nn.parameter.UninitializedParameter):
            continue
        if isinstance(m, WEIGHT_LAYER_TYPES) or (w.dim() >= 2 and not isinstance(m, _LOOKUP_TYPES)):
            out.append(m)
    return out


def embedding_tables(model: nn.Module) -> list[nn.Module]:
    """The lookup tables of ``model`` (``nn.Embedding``, ``nn.EmbeddingBag``): what turns
    token ids into the network's continuous input."""
    return [m for m in model.modules() if isinstance(m, _LOOKUP_TYPES)]


def linear_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """``(name, module)`` of the :func:`weight_layers` with a ``(out, in)`` matrix weight
    (``nn.Linear``, PyG's ``Linear``, ...): the layers computing ``x W^T (+ b)``."""
    layers = {id(m) for m in weight_layers(model)}
    return [
        (n, m)
        for n, m in model.named_modules()
        if id(m) in layers and m.weight.dim() == 2 and not isinstance(m, nn.modules.conv._ConvNd)
    ]


class _Failure:
    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


def main_output(out: Any) -> Any:
    """The tensor a model's output stands for: itself, a tuple's first item, or a
    mapping's ``"logits"`` (else its first tensor value); anything else as it is."""
    if isinstance(out, Mapping):
        if isinstance(out.get("logits"), torch.Tensor):
            return out["logits"]
        return next((v for v in out.values() if isinstance(v, torch.Tensor)), out)
    if isinstance(out, (tuple, list)) and out and isinstance(out[0], torch.Tensor):
        return out[0]
    return out


def describe(exc: BaseException) -> str:
    """One-line reason for an exception (the message of a ProxyComputationError as is)."""
    if isinstance(exc, ProxyComputationError):
        return str(exc)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class ProxyContext:
    """What one scoring call knows: model (read-only), batch, loss, seed, device, and
    the memoised passes.

    Args:
        model: The caller's model. Never mutated; use :meth:`copy`.
        batch: The validated batch, already on ``device`` (``None`` if none was given).
        loss_fn: Loss ``(outputs, targets) -> scalar``; ``None`` means cross-entropy.
        device: Device the passes run on.
        seed: Seed of the call; proxies that draw random numbers build a
            :class:`torch.Generator` from it with :meth:`generator`.
        wanted: Group name -> union of the artifacts the call's proxies require, so that
            one pass collects everything at once.
    """

    def __init__(
        self,
        model: nn.Module,
        batch: Batch | None,
        *,
        loss_fn: LossFn | None,
        device: torch.device,
        seed: int,
        wanted: dict[str, frozenset[str]],
    ) -> None:
        self.model = model
        self.batch = batch
        self.custom_loss = loss_fn is not None
        self.loss_fn: LossFn = loss_fn if loss_fn is not None else F.cross_entropy
        self.device = device
        self.seed = seed
        self.wanted = wanted
        self._memo: dict[str, Any] = {}
        #: Exclusive wall seconds of each shared pass (nested passes not counted twice).
        self.pass_seconds: dict[str, float] = {}
        #: Pass key -> names of the proxies that used it (to share its cost fairly).
        self.pass_users: dict[str, set[str]] = {}
        self.current: str | None = None  # the proxy being computed
        self._running: list[str] = []  # passes being computed, innermost last
        self._deps: dict[str, set[str]] = {}  # pass -> passes it used
        self._nested = [0.0]  # seconds of passes run inside the one being timed

    # ---- data ------------------------------------------------------------------------
    @property
    def inputs(self) -> torch.Tensor:
        """Batch inputs ``(N, ...)``; raises if the call has no batch."""
        if self.batch is None:
            raise ProxyComputationError("needs a batch of inputs (got none)")
        return self.batch.inputs

    @property
    def targets(self) -> torch.Tensor:
        """Batch targets ``(N,)``; raises if the batch has none."""
        if self.batch is None or self.batch.targets is None:
            raise ProxyComputationError("needs labels (targets); the batch has none")
        return self.batch.targets

    def float_inputs(self) -> torch.Tensor:
        """Inputs as a floating tensor; raises for integer inputs (e.g. token ids)."""
        x = self.inputs
        if not torch.is_floating_point(x):
            raise ProxyComputationError(
                f"needs floating-point inputs to differentiate or perturb; got {x.dtype} "
                "inputs (token ids?)"
            )
        return x

    @property
    def extras(self) -> Mapping[str, torch.Tensor]:
        """Keyword tensors every forward receives (``Batch.extras``, e.g. ``edge_index``)."""
        return self.batch.extras if self.batch is not None else {}

    def forward(self, model: nn.Module, inputs: torch.Tensor) -> Any:
        """``model(inputs, **extras)``: every pass calls the model through here."""
        return model(inputs, **self.extras)

    def check_outputs(self, out: Any, what: str = "model output") -> torch.Tensor:
        """The logits tensor of ``out`` if finite with a batch dimension, else raise.

        ``out`` may be a tensor, a tuple/list whose first item is one, or a mapping
        (e.g. a Hugging Face ``ModelOutput``): its ``"logits"``, else its first tensor.
        """
        out = main_output(out)
        if not isinstance(out, torch.Tensor):
            raise ProxyComputationError(
                f"{what} must be a tensor, a tuple whose first item is one, or a mapping "
                f"with 'logits'; got {type(out).__name__}"
            )
        if out.dim() == 0:
            raise ProxyComputationError(f"{what} must have a batch dimension; got a scalar")
        if not torch.isfinite(out).all():
            bad = "NaN" if torch.isnan(out).any() else "inf"
            raise ProxyComputationError(f"{what} contains {bad} values")
        return out

    def dense_targets(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """``targets`` for the default cross-entropy: one label per sample against a
        dense prediction (segmentation, ``N x K x H x W``) becomes that label at every
        position; anything else (and every custom loss) is left as it is."""
        if self.custom_loss or outputs.dim() <= 2 or targets.dim() != 1:
            return targets
        return targets.reshape(-1, *[1] * (outputs.dim() - 2)).expand(-1, *outputs.shape[2:])

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """The call's loss, with a clear error for out-of-range class labels."""
        if not self.custom_loss:
            if outputs.dim() < 2:
                raise ProxyComputationError(
                    f"cross-entropy needs (N, num_classes, ...) logits; the model returned "
                    f"shape {tuple(outputs.shape)} (pass loss_fn= for other outputs)"
                )
            targets = self.dense_targets(outputs, targets)
            k = outputs.shape[1]
            if targets.numel() and (int(targets.min()) < 0 or int(targets.max()) >= k):
                raise ProxyComputationError(
                    f"labels out of range: got labels in [{int(targets.min())}, "
                    f"{int(targets.max())}] but the model has {k} outputs; labels must lie in "
                    f"[0, {k - 1}]"
                )
        value = self.loss_fn(outputs, targets)
        if not isinstance(value, torch.Tensor) or value.numel() != 1:
            raise ProxyComputationError("loss_fn must return a scalar tensor")
        return value.reshape(())

    def generator(self, offset: int = 0) -> torch.Generator:
        """A CPU generator seeded from the call's seed (plus ``offset``)."""
        g = torch.Generator()
        g.manual_seed(self.seed + offset)
        return g

    # ---- models ----------------------------------------------------------------------
    def copy(self) -> nn.Module:
        """A deep copy of the caller's model on the call's device, every floating
        parameter requiring grad (the caller's flags are left as they are)."""
        try:
            model = copy.deepcopy(self.model)
        except Exception as exc:  # noqa: BLE001 - any copy failure is reported per proxy
            raise ProxyComputationError(f"cannot deep-copy the model: {describe(exc)}") from exc
        model = model.to(self.device)
        for p in model.parameters():
            if p.is_floating_point():
                p.requires_grad_(True)
        return model

    # ---- memo ------------------------------------------------------------------------
    @property
    def pass_time(self) -> float:
        """Wall seconds spent in shared passes so far in this call."""
        return self._nested[0]

    def memo(self, key: str, stage: str, factory: Callable[[], T]) -> T:
        """Run ``factory`` once per call; later calls return the result or re-raise the
        same failure as a :class:`ProxyComputationError` prefixed with ``stage``.

        The pass's exclusive time goes to :attr:`pass_seconds` and the current proxy is
        recorded as one of its users, hit or miss."""
        if self.current is not None:
            self.pass_users.setdefault(key, set()).add(self.current)
        if self._running:
            self._deps.setdefault(self._running[-1], set()).add(key)
        if key in self._memo:
            value = self._memo[key]
            if isinstance(value, _Failure):
                raise ProxyComputationError(value.reason)
            return value  # type: ignore[no-any-return]
        self._nested.append(0.0)
        self._running.append(key)
        start = time.perf_counter()
        try:
            value = factory()
        except torch.cuda.OutOfMemoryError:
            raise  # the engine frees memory and retries once
        except Exception as exc:  # noqa: BLE001 - recorded, re-raised as a reason
            reason = describe(exc)
            if not isinstance(exc, ProxyComputationError):
                reason = f"{stage} failed: {reason}"
            self._memo[key] = _Failure(reason)
            raise ProxyComputationError(reason) from exc
        finally:
            self._running.pop()
            elapsed = time.perf_counter() - start
            self.pass_seconds[key] = elapsed - self._nested.pop()
            self._nested[-1] += elapsed
        self._memo[key] = value
        return value

    def passes_used(self, proxy: str) -> set[str]:
        """Every pass ``proxy`` drew on, directly or through another pass (a memo hit on
        the loss gradients uses the forward they were computed from)."""
        todo = [k for k, users in self.pass_users.items() if proxy in users]
        used: set[str] = set()
        while todo:
            key = todo.pop()
            if key not in used:
                used.add(key)
                todo.extend(self._deps.get(key, ()))
        return used

    def release(self, prefix: str = "") -> None:
        """Drop memoised results whose key starts with ``prefix`` (all by default)."""
        for key in [k for k in self._memo if k.startswith(prefix)]:
            del self._memo[key]
