"""The scoring engine: many proxies on one model, sharing passes, never failing the batch.

:func:`score` validates the batch, resolves proxy names, and runs the proxies group by
group (static -> synflow -> shared train-mode pass -> per-sample gradients -> zen) on deep
copies of the caller's model, so the caller's parameters, buffers, train/eval mode and
``requires_grad`` flags are bit-identical afterwards. Proxies of one group share one pass
(one forward + backward for grad_norm/snip/plain/grasp/fisher/jacov/epe_nas/nwot/swap/meco,
one per-sample gradient pass for gradsign/zico). A proxy that cannot be computed gets
NaN and a one-line reason in :attr:`ScoreResult.reasons`, logged once per proxy name.

Randomness is seeded inside a context from ``seed`` and the global RNG state is restored
afterwards; deterministic algorithms are switched on only inside that context.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel

from nasrank.data.batch import Batch
from nasrank.errors import DataError, ProxyComputationError
from nasrank.proxies._context import LossFn, ProxyContext, describe
from nasrank.proxies.registry import PASS_GROUPS, ProxySpec, resolve_proxies

__all__ = ["score", "ScoreResult", "as_batch", "deterministic", "reseed"]

logger = logging.getLogger(__name__)

_LOGGED: set[str] = set()  # proxy names whose failure was already logged at WARNING

BatchLike = Batch | torch.Tensor | tuple[torch.Tensor, torch.Tensor] | None


class ScoreResult(dict[str, float]):
    """Proxy name -> score (larger = predicted better; NaN where it failed).

    A plain ``dict`` (JSON-serialisable as is) with extra attributes.

    Attributes:
        reasons: Proxy name -> why its score is NaN.
        seconds: Proxy name -> wall seconds spent on it: its own reduction plus an equal
            share of every shared pass it used (a pass shared by four proxies charges
            each a quarter), so the seconds add up to the call's proxy time.
        pass_seconds: Shared pass -> its wall seconds (``"train:forward"``,
            ``"train:loss_grads"``, ``"per_sample"``, ...), each counted once.
        total_seconds: Wall seconds of the whole call.
        seed: The seed used.
        source: Provenance of the batch.
    """

    def __init__(self) -> None:
        super().__init__()
        self.reasons: dict[str, str] = {}
        self.seconds: dict[str, float] = {}
        self.pass_seconds: dict[str, float] = {}
        self.total_seconds: float = 0.0
        self.seed: int = 0
        self.source: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Scores with reasons, timings, seed and source, for JSON output."""
        return {
            "scores": {k: (None if math.isnan(v) else v) for k, v in self.items()},
            "reasons": dict(self.reasons),
            "seconds": dict(self.seconds),
            "pass_seconds": dict(self.pass_seconds),
            "total_seconds": self.total_seconds,
            "seed": self.seed,
            "source": self.source,
        }


def as_batch(batch: BatchLike) -> Batch | None:
    """Coerce and validate a batch.

    Accepts a :class:`Batch`, an inputs tensor (no labels), an ``(inputs, targets)``
    pair, or ``None``.

    Raises:
        DataError: The inputs are not a tensor with a batch dimension, the batch is
            empty, the targets are not one integer label per sample, or a label is
            outside ``[0, num_classes)`` when the batch states ``num_classes``.
    """
    if batch is None:
        return None
    if isinstance(batch, torch.Tensor):
        batch = Batch(batch, None, None, "tensor")
    elif isinstance(batch, (tuple, list)) and len(batch) == 2:
        batch = Batch(batch[0], batch[1], None, "tensors")
    elif not isinstance(batch, Batch):
        raise DataError(
            f"expected a nasrank Batch, an inputs tensor or an (inputs, targets) pair; got "
            f"{type(batch).__name__}"
        )
    x, y = batch.inputs, batch.targets
    if not isinstance(x, torch.Tensor):
        raise DataError(f"batch inputs must be a torch.Tensor, got {type(x).__name__}")
    if x.dim() < 2:
        raise DataError(
            f"batch inputs must have a batch dimension first, shape (N, ...); got shape "
            f"{tuple(x.shape)}"
        )
    if x.shape[0] == 0:
        raise DataError(f"batch is empty: inputs of shape {tuple(x.shape)}")
    if y is not None:
        if not isinstance(y, torch.Tensor):
            raise DataError(f"batch targets must be a torch.Tensor, got {type(y).__name__}")
        if y.shape[0] != x.shape[0]:
            raise DataError(
                f"batch has {x.shape[0]} inputs but {y.shape[0]} targets; expected one "
                "target per input"
            )
        if not (y.dtype.is_floating_point or y.dtype.is_complex) and y.dim() == 1:
            lo, hi = int(y.min()), int(y.max())
            k = batch.num_classes
            if lo < 0 or (k is not None and hi >= k):
                bound = f"[0, {k - 1}]" if k is not None else ">= 0"
                raise DataError(
                    f"labels out of range: got labels in [{lo}, {hi}], expected {bound}"
                )
    return batch


@contextlib.contextmanager
def deterministic(seed: int, device: torch.device | None = None) -> Iterator[None]:
    """Seed torch's RNG and enable deterministic algorithms, only inside the block.

    The CPU (and, for a CUDA ``device``, that device's) RNG state, the deterministic-
    algorithms switch and the cuDNN flags are restored on exit. New tensors are not
    filled with NaN (the deterministic mode's default): every kernel the passes run writes
    its outputs, and the filling was a fifth of the Fisher pass's time.
    """
    cuda = device is not None and device.type == "cuda"
    devices = [device.index if device.index is not None else torch.cuda.current_device()] if (
        cuda and device is not None
    ) else []
    prev_det = torch.are_deterministic_algorithms_enabled()
    prev_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    prev_cudnn = (torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
    prev_fill = torch.utils.deterministic.fill_uninitialized_memory
    with torch.random.fork_rng(devices=devices):
        reseed(seed, device)
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.utils.deterministic.fill_uninitialized_memory = False
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
        try:
            yield
        finally:
            torch.use_deterministic_algorithms(prev_det, warn_only=prev_warn)
            torch.utils.deterministic.fill_uninitialized_memory = prev_fill
            torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = prev_cudnn


def reseed(seed: int, device: torch.device | None = None) -> None:
    """Seed the CPU RNG and, for a CUDA ``device``, that device's RNG."""
    torch.default_generator.manual_seed(seed)
    if device is not None and device.type == "cuda":
        with torch.cuda.device(device):
            torch.cuda.manual_seed(seed)


def _model_device(model: nn.Module) -> torch.device:
    for t in model.parameters():
        return t.device
    for t in model.buffers():
        return t.device
    return torch.device("cpu")


def _unmet_need(spec: ProxySpec, batch: Batch | None) -> str | None:
    if batch is None:
        if spec.needs_data or spec.group in ("synflow", "train", "per_sample", "zen"):
            return "needs a batch (its inputs' shape at least); got none"
        if spec.name == "flops":
            return "needs a batch to know the input shape; got none"
        return None
    if spec.needs_labels and batch.targets is None:
        return "needs labels (targets); the batch has none"
    if len(batch) < spec.min_batch:
        return f"needs a batch of at least {spec.min_batch} samples; got {len(batch)}"
    return None


def _record_failure(result: ScoreResult, name: str, reason: str) -> None:
    result[name] = math.nan
    result.reasons[name] = reason
    if name not in _LOGGED:
        _LOGGED.add(name)
        logger.warning("proxy %s returned NaN: %s", name, reason)
    else:
        logger.debug("proxy %s returned NaN: %s", name, reason)


def score(
    model: nn.Module,
    batch: BatchLike = None,
    proxies: str | ProxySpec | Sequence[str | ProxySpec] | None = None,
    *,
    loss_fn: LossFn | None = None,
    seed: int = 0,
    device: torch.device | str | None = None,
) -> ScoreResult:
    """Score ``model`` at its current weights with zero-cost proxies.

    Args:
        model: Any ``torch.nn.Module``; never modified (it is deep-copied per pass).
        batch: A :class:`~nasrank.data.batch.Batch`, an inputs tensor, an
            ``(inputs, targets)`` pair, or ``None`` for data-free proxies
            (``params``, ``l2_norm``).
        proxies: Names or :class:`ProxySpec` objects, one name, ``"all"`` or ``None``
            (= every registered proxy).
        loss_fn: ``(outputs, targets) -> scalar`` for the proxies that need a loss;
            default cross-entropy.
        seed: Seeds every random draw (zen's inputs and re-initialisation, dropout);
            the same seed gives identical scores on CPU.
        device: Where to compute; default the model's device.

    Returns:
        A :class:`ScoreResult` (a ``dict`` name -> float, larger = predicted better).
        The same inside ``torch.no_grad()`` or ``torch.inference_mode()``: the engine
        turns gradients on for its own passes.

    Raises:
        UnknownNameError: A proxy name is unknown (with a did-you-mean suggestion).
        ValueError: ``proxies`` is empty.
        DataError: The batch is malformed (see :func:`as_batch`), or ``device`` is a
            CUDA device this machine does not have.
        TypeError: ``model`` is not an ``nn.Module``.
    """
    specs = resolve_proxies(proxies)
    if not specs:
        raise ValueError("no proxies to compute: pass at least one name, or None for all")
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    checked = as_batch(batch)
    dev = _check_device(torch.device(device) if device is not None else _model_device(model))
    # the engine differentiates, so it runs in normal autograd mode whatever the caller's
    # context (torch.no_grad, torch.inference_mode); passes that need no graph turn it off
    with torch.inference_mode(False), torch.enable_grad():
        on_device = _normal_tensors(checked.to(dev)) if checked is not None else None
        result = ScoreResult()
        result.seed = seed
        result.source = checked.source if checked is not None else "none"
        runnable = [s for s in specs if not _refused(result, s, checked)]
        ctx = ProxyContext(
            model, on_device, loss_fn=loss_fn, device=dev, seed=seed, wanted=_wanted(runnable)
        )
        start = time.perf_counter()
        # the math attention kernel: deterministic, and differentiable twice (GraSP)
        with deterministic(seed, dev), sdpa_kernel(SDPBackend.MATH):
            _run_all(runnable, ctx, result)
        result.total_seconds = time.perf_counter() - start
    return _in_order(result, specs)


def _check_device(dev: torch.device) -> torch.device:
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise DataError(f"device {str(dev)!r}: CUDA is not available on this machine")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise DataError(f"device {str(dev)!r}: only {torch.cuda.device_count()} CUDA devices")
    return dev


def _normal_tensors(batch: Batch) -> Batch:
    """The batch with inference-mode tensors (made under ``torch.inference_mode``) cloned
    into normal ones, which autograd may save."""

    def normal(t: torch.Tensor) -> torch.Tensor:
        return t.clone() if t.is_inference() else t

    return dataclasses.replace(
        batch,
        inputs=normal(batch.inputs),
        targets=None if batch.targets is None else normal(batch.targets),
        extras={k: normal(v) for k, v in batch.extras.items()},
    )


def _refused(result: ScoreResult, spec: ProxySpec, batch: Batch | None) -> bool:
    reason = _unmet_need(spec, batch)
    if reason is not None:
        _record_failure(result, spec.name, reason)
    return reason is not None


def _wanted(specs: Sequence[ProxySpec]) -> dict[str, frozenset[str]]:
    """Group -> every artifact the call's proxies of that group read (one pass each)."""
    wanted: dict[str, frozenset[str]] = {}
    for spec in specs:
        wanted[spec.group] = wanted.get(spec.group, frozenset()) | spec.requires
    return wanted


def _run_all(runnable: list[ProxySpec], ctx: ProxyContext, result: ScoreResult) -> None:
    """Run the proxies group by group, releasing each group's passes after its last
    proxy, and charge every proxy its reduction plus its share of the passes it used."""
    order = {g: i for i, g in enumerate(PASS_GROUPS)}
    runnable = sorted(runnable, key=lambda s: order[s.group])
    own: dict[str, float] = {}
    for i, spec in enumerate(runnable):
        t0, passes0 = time.perf_counter(), ctx.pass_time
        # every proxy starts from the seeded RNG state (dropout draws), as when alone
        reseed(ctx.seed, ctx.device)
        ctx.current = spec.name
        value, reason = _run_one(spec, ctx)
        ctx.current = None
        own[spec.name] = (time.perf_counter() - t0) - (ctx.pass_time - passes0)
        if reason is None:
            result[spec.name] = value
        else:
            _record_failure(result, spec.name, reason)
        if i + 1 == len(runnable) or runnable[i + 1].group != spec.group:
            ctx.release()
    ctx.release()
    result.pass_seconds = dict(ctx.pass_seconds)
    used = {name: ctx.passes_used(name) for name in own}
    for name, seconds in own.items():
        shares = [
            ctx.pass_seconds.get(key, 0.0) / sum(key in u for u in used.values())
            for key in used[name]
        ]
        result.seconds[name] = seconds + sum(shares)


def _in_order(result: ScoreResult, specs: Sequence[ProxySpec]) -> ScoreResult:
    """``result`` with its scores in the order they were asked for."""
    ordered = ScoreResult()
    ordered.update({s.name: result[s.name] for s in specs})
    ordered.reasons, ordered.seconds, ordered.pass_seconds = (
        result.reasons, result.seconds, result.pass_seconds
    )
    ordered.total_seconds, ordered.seed, ordered.source = (
        result.total_seconds, result.seed, result.source
    )
    return ordered


def _run_one(spec: ProxySpec, ctx: ProxyContext) -> tuple[float, str | None]:
    """Compute one proxy: ``(value, None)`` or ``(nan, reason)``; retries once on OOM."""
    for attempt in (0, 1):
        try:
            value = float(spec.compute(ctx))
        except torch.OutOfMemoryError as exc:
            ctx.release()
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            if attempt == 1:
                return math.nan, f"out of memory on {ctx.device}: {describe(exc)}"
            continue
        except ProxyComputationError as exc:
            return math.nan, str(exc)
        except Exception as exc:  # noqa: BLE001 - one proxy never takes down the batch
            return math.nan, describe(exc)
        if not math.isfinite(value):
            return math.nan, f"the proxy value is not finite ({value})"
        return value, None
    return math.nan, "unreachable"  # pragma: no cover


def score_many(
    models: Sequence[nn.Module] | Callable[[int], nn.Module],
    batch: BatchLike,
    proxies: str | ProxySpec | Sequence[str | ProxySpec] | None = None,
    *,
    n: int | None = None,
    loss_fn: LossFn | None = None,
    seed: int = 0,
    device: torch.device | str | None = None,
) -> list[ScoreResult]:
    """Score several models with the same batch (a convenience loop over :func:`score`).

    Args:
        models: Models, or a function ``i -> model`` called for ``i in range(n)``.
        batch: See :func:`score`.
        proxies: See :func:`score`.
        n: Number of models when ``models`` is a function.
        loss_fn: See :func:`score`.
        seed: See :func:`score`.
        device: See :func:`score`.
    """
    if callable(models) and not isinstance(models, nn.Module):
        if n is None:
            raise ValueError("score_many needs n= when models is a function")
        build = models
        return [score(build(i), batch, proxies, loss_fn=loss_fn, seed=seed, device=device)
                for i in range(n)]
    return [score(m, batch, proxies, loss_fn=loss_fn, seed=seed, device=device)
            for m in models]  # type: ignore[union-attr]
