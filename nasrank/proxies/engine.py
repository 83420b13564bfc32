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
import logging
import math
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch
from torch import nn

from nasrank.data.batch import Batch
from nasrank.errors import DataError, ProxyComputationError
from nasrank.proxies._context import LossFn, ProxyContext, describe
from nasrank.proxies.registry import PASS_GROUPS, ProxySpec, resolve_proxies

__all__ = ["score", "ScoreResult", "as_batch", "deterministic"]

logger = logging.getLogger(__name__)

_LOGGED: set[str] = set()  # proxy names whose failure was already logged at WARNING

BatchLike = Batch | torch.Tensor | tuple[torch.Tensor, torch.Tensor] | None


class ScoreResult(dict[str, float]):
    """Proxy name -> score (larger = predicted better; NaN where it failed).

    A plain ``dict`` (JSON-serialisable as is) with extra attributes.

    Attributes:
        reasons: Proxy name -> why its score is NaN.
        seconds: Proxy name -> wall seconds spent on it, including the shared passes it
            was the first to need (so the group's first proxy carries the pass cost).
        total_seconds: Wall seconds of the whole call.
        seed: The seed used.
        source: Provenance of the batch.
    """

    def __init__(self) -> None:
        super().__init__()
        self.reasons: dict[str, str] = {}
        self.seconds: dict[str, float] = {}
        self.total_seconds: float = 0.0
        self.seed: int = 0
        self.source: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Scores with reasons, timings, seed and source, for JSON output."""
        return {
            "scores": {k: (None if math.isnan(v) else v) for k, v in self.items()},
            "reasons": dict(self.reasons),
            "seconds": dict(self.seconds),
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
    algorithms switch and the cuDNN flags are restored on exit.
    """
    cuda = device is not None and device.type == "cuda"
    devices = [device.index if device.index is not None else torch.cuda.current_device()] if (
        cuda and device is not None
    ) else []
    prev_det = torch.are_deterministic_algorithms_enabled()
    prev_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    prev_cudnn = (torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
    with torch.random.fork_rng(devices=devices):
        torch.default_generator.manual_seed(seed)
        if cuda:
            with torch.cuda.device(devices[0]):
                torch.cuda.manual_seed(seed)
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
        try:
            yield
        finally:
            torch.use_deterministic_algorithms(prev_det, warn_only=prev_warn)
            torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = prev_cudnn


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

    Raises:
        UnknownNameError: A proxy name is unknown (with a did-you-mean suggestion).
        DataError: The batch is malformed (see :func:`as_batch`).
        TypeError: ``model`` is not an ``nn.Module``.
    """
    specs = resolve_proxies(proxies)
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    checked = as_batch(batch)
    dev = torch.device(device) if device is not None else _model_device(model)
    on_device = checked.to(dev) if checked is not None else None

    result = ScoreResult()
    result.seed = seed
    result.source = checked.source if checked is not None else "none"
    runnable: list[ProxySpec] = []
    for spec in specs:
        reason = _unmet_need(spec, checked)
        if reason is not None:
            _record_failure(result, spec.name, reason)
        else:
            runnable.append(spec)
    wanted: dict[str, frozenset[str]] = {}
    for spec in runnable:
        wanted[spec.group] = wanted.get(spec.group, frozenset()) | spec.requires
    ctx = ProxyContext(model, on_device, loss_fn=loss_fn, device=dev, seed=seed, wanted=wanted)

    start = time.perf_counter()
    order = {g: i for i, g in enumerate(PASS_GROUPS)}
    runnable.sort(key=lambda s: order[s.group])
    with deterministic(seed, dev):
        for i, spec in enumerate(runnable):
            t0 = time.perf_counter()
            value, reason = _run_one(spec, ctx)
            result.seconds[spec.name] = time.perf_counter() - t0
            if reason is None:
                result[spec.name] = value
            else:
                _record_failure(result, spec.name, reason)
            last_of_group = i + 1 == len(runnable) or runnable[i + 1].group != spec.group
            if last_of_group:
                ctx.release()
    ctx.release()
    result.total_seconds = time.perf_counter() - start
    # report in the order asked for
    ordered = ScoreResult()
    ordered.update({s.name: result[s.name] for s in specs})
    ordered.reasons, ordered.seconds = result.reasons, result.seconds
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
