"""Per-call state shared by the proxies of one :func:`~nasrank.proxies.engine.score` call.

The :class:`ProxyContext` owns the batch, the loss and lazily computed, memoised pass
results (successes *and* failures), so that every pass runs at most once per call and a
failing pass gives every proxy that depends on it the same NaN reason.

Model copies come from :meth:`ProxyContext.copy`; the caller's model is only ever read.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, TypeVar

import torch
import torch.nn.functional as F
from torch import nn

from nasrank.data.batch import Batch
from nasrank.errors import ProxyComputationError

__all__ = ["ProxyContext", "LossFn", "weight_layers", "WEIGHT_LAYER_TYPES", "BN_TYPES"]

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
T = TypeVar("T")

#: Layers whose ``weight`` the gradient/saliency proxies aggregate over (zero-cost-nas and
#: NASLib use ``nn.Conv2d`` and ``nn.Linear``; any convolution dimensionality is accepted).
WEIGHT_LAYER_TYPES: tuple[type[nn.Module], ...] = (nn.modules.conv._ConvNd, nn.Linear)
#: Batch-norm layers (1d/2d/3d, incl. SyncBatchNorm).
BN_TYPES: tuple[type[nn.Module], ...] = (nn.modules.batchnorm._BatchNorm,)


def weight_layers(model: nn.Module) -> list[nn.Module]:
    """Convolution and linear modules of ``model`` that own a ``weight`` parameter,
    in ``model.modules()`` order, each once."""
    out: list[nn.Module] = []
    for m in model.modules():
        if isinstance(m, WEIGHT_LAYER_TYPES) and isinstance(
            getattr(m, "weight", None), nn.Parameter
        ):
            out.append(m)
    return out


class _Failure:
    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


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

    def check_outputs(self, out: Any, what: str = "model output") -> torch.Tensor:
        """Return ``out`` if it is a finite tensor with a batch dimension, else raise."""
        if isinstance(out, (tuple, list)) and out and isinstance(out[0], torch.Tensor):
            out = out[0]
        if not isinstance(out, torch.Tensor):
            raise ProxyComputationError(
                f"{what} must be a tensor (or a tuple whose first item is one); got "
                f"{type(out).__name__}"
            )
        if out.dim() == 0:
            raise ProxyComputationError(f"{what} must have a batch dimension; got a scalar")
        if not torch.isfinite(out).all():
            bad = "NaN" if torch.isnan(out).any() else "inf"
            raise ProxyComputationError(f"{what} contains {bad} values")
        return out

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """The call's loss, with a clear error for out-of-range class labels."""
        if not self.custom_loss:
            if outputs.dim() != 2:
                raise ProxyComputationError(
                    f"cross-entropy needs (N, num_classes) logits; the model returned shape "
                    f"{tuple(outputs.shape)} (pass loss_fn= for other outputs)"
                )
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
    def memo(self, key: str, stage: str, factory: Callable[[], T]) -> T:
        """Run ``factory`` once per call; later calls return the result or re-raise the
        same failure as a :class:`ProxyComputationError` prefixed with ``stage``."""
        if key in self._memo:
            value = self._memo[key]
            if isinstance(value, _Failure):
                raise ProxyComputationError(value.reason)
            return value  # type: ignore[no-any-return]
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
        self._memo[key] = value
        return value

    def release(self, prefix: str = "") -> None:
        """Drop memoised results whose key starts with ``prefix`` (all by default)."""
        for key in [k for k in self._memo if k.startswith(prefix)]:
            del self._memo[key]
