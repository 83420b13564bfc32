"""Real training of the few architectures a search picks: SGD, cosine schedule, resumable.

The recipe is NAS-Bench-201's (Dong & Yang, ICLR 2020; reference implementation
D-X-Y/AutoDL-Projects ``xautodl/procedures`` with ``configs/nas-benchmark/hyper-opts``):
SGD with Nesterov momentum 0.9, weight decay ``5e-4`` on every parameter, learning rate
0.1 annealed by a cosine to 0, batch 256, cross-entropy, random crop (4 px padding) and
horizontal flip. :class:`TrainConfig` defaults to its 12-epoch schedule.

Schedule (per iteration, as NB-201's scheduler, which is updated with the fractional epoch
``epoch + i / len(loader)`` at every step): with ``S`` steps per epoch, ``T = epochs * S``
steps in all and ``W = round(warmup_epochs * S)`` warm-up steps, step ``s`` (0-based) uses::

    lr(s) = lr * (s + 1) / W                                     s < W  (linear warm-up)
    lr(s) = lr * (1 + cos(pi * (s - W) / (T - W))) / 2            otherwise

so without warm-up it is exactly NB-201's ``CosineAnnealingLR`` over epochs, evaluated at
every step. Data without a known length falls back to one step of the schedule per epoch.

Devices: CUDA when available (``device=None``), else CPU. On CUDA the model and inputs use
``channels_last``, cuDNN autotuning is enabled inside the call, and mixed precision is on by
default (bfloat16 where the GPU supports it, else float16 with a ``GradScaler``). On CPU,
training is bitwise deterministic given ``seed`` (for a fixed number of threads): the shuffle
order and augmentation of epoch ``e`` come from seeds derived from ``(seed, e)``, and the
global torch RNG (used by e.g. dropout) is seeded inside a :func:`torch.random.fork_rng`
block, so the caller's RNG state is left untouched.

Checkpoints: with ``checkpoint_dir``, the state after every epoch (model, optimizer,
scheduler, grad scaler, RNG states, epoch, history and a fingerprint of the run) is written
atomically to ``checkpoint_dir/checkpoint.pt``; it loads with ``torch.load(...,
weights_only=True)``. Calling :func:`train` again with the same directory, an identically
built model, the same data, config and seed continues after the last completed epoch and
ends with the same weights (bitwise, on CPU) as an uninterrupted run; a checkpoint of a
different run (other config, seed, model structure or training-set size) is refused with
:class:`CheckpointMismatchError`.

Accuracies are percentages (0-100), like the benchmark tables searches compare them with.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import math
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from nasrank.errors import NasrankError
from nasrank.search._checkpoint import (
    CheckpointError,
    load_checkpoint,
    remove_stale_temporaries,
    save_checkpoint,
)

__all__ = [
    "CHECKPOINT_NAME",
    "CheckpointError",
    "CheckpointMismatchError",
    "TrainConfig",
    "TrainResult",
    "TrainingDiverged",
    "TrainingError",
    "evaluate",
    "learning_rate",
    "train",
]

logger = logging.getLogger(__name__)

#: File name of the checkpoint inside ``checkpoint_dir``.
CHECKPOINT_NAME = "checkpoint.pt"
_FORMAT = "nasrank-train-checkpoint"
_FORMAT_VERSION = 1
#: Lazily decoded datasets up to this many decoded bytes are decoded once, up front.
_MATERIALIZE_LIMIT_BYTES = 2 * 1024**3
#: Config fields that do not change the result and may differ when resuming.
_NOT_FINGERPRINTED = ("num_workers",)


class TrainingError(NasrankError, ValueError):
    """Bad training input: an invalid config, unlabelled data, an unavailable device."""


class CheckpointMismatchError(NasrankError, ValueError):
    """``checkpoint_dir`` holds a checkpoint of a different run."""


class TrainingDiverged(NasrankError, RuntimeError):
    """The training loss became NaN or infinite (usually: the learning rate is too high)."""


# --------------------------------------------------------------------------- records
@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of one training run (defaults: NAS-Bench-201's 12-epoch schedule).

    Attributes:
        epochs: Passes over the training data.
        batch_size: Samples per step.
        lr: Peak learning rate (after warm-up), annealed by a per-step cosine to 0.
        momentum: SGD momentum.
        nesterov: Nesterov momentum (needs ``momentum > 0``).
        weight_decay: L2 weight decay on every parameter.
        warmup_epochs: Linear warm-up length in epochs; may be fractional (``0.2`` of a
            1-epoch run warms up over its first 20 % of steps). Must be below ``epochs``.
        label_smoothing: Cross-entropy label smoothing in ``[0, 1)``.
        augment: Random crop with 4 px zero padding (in normalised space, i.e. the mean
            colour) and horizontal flip, applied to 4-D image batches ``(N, C, H, W)``
            (CIFAR's 32x32 images in NB-201); other inputs are used as they are.
        num_workers: Batches prepared ahead in a background thread (0: in the training
            loop). Does not change the result.
        amp: Mixed precision: ``None`` = on for CUDA (bfloat16 where supported, else
            float16 with a grad scaler), off on CPU; ``True`` on CPU uses bfloat16 autocast.

    Raises:
        TrainingError: A value outside its range.
    """

    epochs: int = 12
    batch_size: int = 256
    lr: float = 0.1
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    warmup_epochs: float = 0
    label_smoothing: float = 0.0
    augment: bool = True
    num_workers: int = 0
    amp: bool | None = None

    def __post_init__(self) -> None:
        def positive_int(name: str) -> None:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise TrainingError(f"TrainConfig.{name} must be a positive integer, got {value!r}")

        positive_int("epochs")
        positive_int("batch_size")
        for name in ("lr", "momentum", "weight_decay", "warmup_epochs", "label_smoothing"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
                raise TrainingError(f"TrainConfig.{name} must be a number, got {value!r}")
            if not math.isfinite(value) or value < 0:
                raise TrainingError(
                    f"TrainConfig.{name} must be finite and non-negative, got {value!r}"
                )
        if not self.lr > 0:
            raise TrainingError(f"TrainConfig.lr must be positive, got {self.lr!r}")
        if self.momentum >= 1:
            raise TrainingError(f"TrainConfig.momentum must be below 1, got {self.momentum!r}")
        if self.nesterov and self.momentum == 0:
            raise TrainingError(
                "TrainConfig.nesterov=True needs momentum > 0, got momentum=0; "
                "set nesterov=False for plain SGD"
            )
        if self.label_smoothing >= 1:
            raise TrainingError(
                f"TrainConfig.label_smoothing must lie in [0, 1), got {self.label_smoothing!r}"
            )
        if self.warmup_epochs >= self.epochs:
            raise TrainingError(
                f"TrainConfig.warmup_epochs ({self.warmup_epochs!r}) must be below epochs "
                f"({self.epochs}) so that the cosine phase has steps"
            )
        if (
            isinstance(self.num_workers, bool)
            or not isinstance(self.num_workers, (int, np.integer))
            or self.num_workers < 0
        ):
            raise TrainingError(
                f"TrainConfig.num_workers must be a non-negative integer, got {self.num_workers!r}"
            )
        if self.amp is not None and not isinstance(self.amp, bool):
            raise TrainingError(f"TrainConfig.amp must be None, True or False, got {self.amp!r}")
        # Plain Python numbers (numpy scalars would not load from a weights_only checkpoint).
        for name in ("epochs", "batch_size", "num_workers"):
            object.__setattr__(self, name, int(getattr(self, name)))
        for name in ("lr", "momentum", "weight_decay", "warmup_epochs", "label_smoothing"):
            object.__setattr__(self, name, float(getattr(self, name)))
        object.__setattr__(self, "nesterov", bool(self.nesterov))
        object.__setattr__(self, "augment", bool(self.augment))

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (JSON-ready)."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class TrainResult:
    """Outcome of :func:`train`.

    Attributes:
        train_accuracy: Running accuracy (%) over the last epoch's (augmented) training
            batches, in training mode — as NB-201 reports it.
        val_accuracy: Accuracy (%) on ``val_data`` at the end, or ``None``.
        test_accuracy: Accuracy (%) on ``test_data`` at the end, or ``None``.
        epochs: Completed epochs.
        seconds: Wall time of the completed epochs (summed over resumed calls) plus the
            final evaluation.
        device: Device trained on, e.g. ``"cpu"`` or ``"cuda:0"``.
        history: One dict per epoch: ``epoch`` (1-based), ``lr`` (of the epoch's last
            step), ``train_loss``, ``train_accuracy``, ``val_accuracy`` (``None`` without
            ``val_data``), ``seconds``.
    """

    train_accuracy: float
    val_accuracy: float | None
    test_accuracy: float | None
    epochs: int
    seconds: float
    device: str
    history: tuple[dict, ...]

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (JSON-ready)."""
        out = dataclasses.asdict(self)
        out["history"] = [dict(h) for h in self.history]
        return out


# --------------------------------------------------------------------------- schedule
def learning_rate(config: TrainConfig, step: int, steps_per_epoch: int) -> float:
    """Learning rate of 0-based ``step`` (see the module docstring for the formula)."""
    total = config.epochs * steps_per_epoch
    warmup = min(round(config.warmup_epochs * steps_per_epoch), total - 1)
    if step < warmup:
        return config.lr * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return config.lr * 0.5 * (1.0 + math.cos(math.pi * progress))


# --------------------------------------------------------------------------- helpers
def _resolve_device(device: str | torch.device | None) -> torch.device:
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise TrainingError(f"unknown device {device!r}; use 'cpu', 'cuda' or 'cuda:N'") from exc
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise TrainingError(
                f"device {str(device)!r} requested but CUDA is not available; use 'cpu'"
            )
        if dev.index is None:
            dev = torch.device("cuda", torch.cuda.current_device())
    elif dev.type != "cpu":
        raise TrainingError(f"unsupported device {str(device)!r}; use 'cpu', 'cuda' or 'cuda:N'")
    return dev


def _amp_dtype(config: TrainConfig, device: torch.device) -> torch.dtype | None:
    enabled = config.amp if config.amp is not None else device.type == "cuda"
    if not enabled:
        return None
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16


def _derived_seed(seed: int, epoch: int, stream: int) -> int:
    state = np.random.SeedSequence([seed, epoch, stream]).generate_state(1, dtype=np.uint64)
    return int(state[0]) & (2**63 - 1)


_SHUFFLE, _AUGMENT = 1, 2


def _len(data: Any) -> int | None:
    try:
        return len(data)
    except TypeError:
        return None


def _maybe_materialize(data: Any, name: str) -> Any:
    if not getattr(data, "is_lazy", False) or not hasattr(data, "materialize"):
        return data
    shape = getattr(data, "sample_shape", None)
    n = _len(data)
    if shape is None or n is None or n * int(np.prod(shape)) > _MATERIALIZE_LIMIT_BYTES:
        return data
    start = time.perf_counter()
    out = data.materialize()
    logger.info("decoded %d %s images in %.1f s", n, name, time.perf_counter() - start)
    return out


def _unpack(batch: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
    if hasattr(batch, "inputs"):
        return batch.inputs, getattr(batch, "targets", None)
    if isinstance(batch, (tuple, list)) and len(batch) == 2:
        return batch[0], batch[1]
    raise TrainingError(
        f"iter_batches must yield Batch objects or (inputs, targets) pairs, got "
        f"{type(batch).__name__}"
    )


def _logits(output: Any) -> torch.Tensor:
    """Models that return ``(features, logits)`` (NB-201's reference code) give the last."""
    if isinstance(output, (tuple, list)):
        output = output[-1]
    if not isinstance(output, torch.Tensor) or output.ndim != 2:
        shape = tuple(output.shape) if isinstance(output, torch.Tensor) else type(output).__name__
        raise TrainingError(f"the model must return logits of shape (batch, classes), got {shape}")
    return output


def _augment(x: torch.Tensor, gen: torch.Generator, pad: int = 4) -> torch.Tensor:
    """Random crop with ``pad`` px zero padding and random horizontal flip, per sample."""
    n, _, h, w = x.shape
    offsets = torch.randint(0, 2 * pad + 1, (2, n), generator=gen)
    flips = torch.rand(n, generator=gen) < 0.5
    padded = nn.functional.pad(x, (pad, pad, pad, pad))
    rows = (offsets[0][:, None] + torch.arange(h)[None, :]).to(x.device)
    cols = (offsets[1][:, None] + torch.arange(w)[None, :]).to(x.device)
    flips = flips.to(x.device)
    cols = torch.where(flips[:, None], cols.flip(1), cols)
    batch_idx = torch.arange(n, device=x.device)[:, None, None]
    # (n, h, w, c) -> (n, c, h, w)
    out = padded.permute(0, 2, 3, 1)[batch_idx, rows[:, :, None], cols[:, None, :]]
    return out.permute(0, 3, 1, 2).contiguous()


def _prefetch(batches: Iterable[Any], depth: int) -> Iterator[Any]:
    """Produce ``batches`` in a background thread, ``depth`` ahead of the consumer."""
    if depth <= 0:
        yield from batches
        return
    q: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in batches:
                while not stop.is_set():
                    try:
                        q.put(("item", item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(("end", None))
        except BaseException as exc:  # handed to the consumer
            q.put(("error", exc))

    thread = threading.Thread(target=produce, name="nasrank-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            kind, item = q.get()
            if kind == "end":
                return
            if kind == "error":
                raise item
            yield item
    finally:
        stop.set()


def _model_signature(model: nn.Module) -> str:
    """Hash of the module structure (repr) and of the state-dict names, shapes, dtypes."""
    h = hashlib.sha256(repr(model).encode())
    for name, tensor in model.state_dict().items():
        h.update(f"{name}:{tuple(tensor.shape)}:{tensor.dtype};".encode())
    return h.hexdigest()[:16]


def _fingerprint(model: nn.Module, train_data: Any, config: TrainConfig, seed: int) -> dict:
    cfg = {k: v for k, v in config.to_dict().items() if k not in _NOT_FINGERPRINTED}
    return {
        "config": cfg,
        "seed": seed,
        "model": _model_signature(model),
        "train_size": _len(train_data),
        "train_source": str(getattr(train_data, "source", type(train_data).__name__)),
    }


def _describe_mismatch(saved: dict, current: dict) -> str:
    diffs = []
    for key in ("config", "seed", "model", "train_size", "train_source"):
        old, new = saved.get(key), current.get(key)
        if key == "config" and isinstance(old, dict) and isinstance(new, dict):
            diffs += [
                f"{k} {old.get(k)!r} -> {new.get(k)!r}"
                for k in sorted(set(old) | set(new))
                if old.get(k) != new.get(k)
            ]
        elif old != new:
            what = "model structure" if key == "model" else key
            diffs.append(f"{what} {old!r} -> {new!r}")
    return ", ".join(diffs)


def _autocast(device: torch.device, dtype: torch.dtype | None) -> AbstractContextManager[Any]:
    if dtype is None:
        return nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def evaluate(
    model: nn.Module,
    data: Any,
    *,
    batch_size: int = 512,
    device: str | torch.device | None = None,
    amp: bool | None = None,
) -> float:
    """Accuracy (%) of ``model`` on every sample of ``data``, in eval mode.

    Args:
        model: The classifier (moved to ``device``; its train/eval mode is restored).
        data: An :class:`~nasrank.data.ImageDataset` or anything with ``iter_batches``.
        batch_size: Samples per forward pass.
        device: Default: the device of the model's first parameter.
        amp: Mixed precision as in :class:`TrainConfig` (``None``: on for CUDA).

    Raises:
        TrainingError: Unlabelled data, or a model that does not return logits.
    """
    if device is None:
        param = next(model.parameters(), None)
        dev = param.device if param is not None else torch.device("cpu")
    else:
        dev = _resolve_device(device)
    dtype = _amp_dtype(TrainConfig(epochs=1, amp=amp), dev)
    channels_last = dev.type == "cuda"
    was_training = model.training
    model.eval()
    correct = torch.zeros((), dtype=torch.long, device=dev)
    total = 0
    try:
        with torch.no_grad():
            for batch in data.iter_batches(batch_size, 0, shuffle=False):
                x, y = _unpack(batch)
                if y is None:
                    raise TrainingError("evaluation data has no labels; accuracy needs labels")
                x, y = x.to(dev, non_blocking=True), y.to(dev, non_blocking=True)
                if channels_last and x.ndim == 4:
                    x = x.contiguous(memory_format=torch.channels_last)
                with _autocast(dev, dtype):
                    logits = _logits(model(x))
                correct += (logits.argmax(1) == y).sum()
                total += int(y.numel())
    finally:
        model.train(was_training)
    if total == 0:
        raise TrainingError("evaluation data yielded no samples")
    return 100.0 * int(correct.item()) / total


# --------------------------------------------------------------------------- training
def train(
    model: nn.Module,
    train_data: Any,
    *,
    config: TrainConfig = TrainConfig(),  # noqa: B008  (frozen, immutable default)
    val_data: Any = None,
    test_data: Any = None,
    device: str | torch.device | None = None,
    checkpoint_dir: str | Path | None = None,
    seed: int = 0,
    progress: Callable[[dict], None] | None = None,
    step_progress: Callable[[dict], None] | None = None,
) -> TrainResult:
    """Train ``model`` in place with SGD + cosine schedule; evaluate on val/test data.

    Args:
        model: A classifier returning logits ``(batch, classes)`` (or a tuple whose last
            element they are). Trained in place; it ends on ``device`` in its original
            train/eval mode.
        train_data: An :class:`~nasrank.data.ImageDataset` (or anything with
            ``iter_batches(batch_size, seed, shuffle=..., drop_last=...)`` yielding
            batches with ``inputs``/``targets`` or ``(inputs, targets)`` pairs). Lazily
            decoded image folders up to 2 GiB are decoded once up front.
        config: Hyper-parameters (default: NB-201's 12-epoch schedule).
        val_data: Evaluated after every epoch and at the end, if given.
        test_data: Evaluated at the end, if given.
        device: ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or a ``torch.device``; default CUDA
            when available.
        checkpoint_dir: Directory for the per-epoch checkpoint; a checkpoint of the same
            run found there is resumed (see the module docstring).
        seed: Seed of shuffling, augmentation and the global torch RNG inside the call.
        progress: Called after each epoch (after its checkpoint is written) with that
            epoch's history entry plus ``epochs`` (the total). An exception it raises
            stops training; the run can be resumed from the checkpoint.
        step_progress: Called after every optimiser step with ``epoch``, ``step`` (1-based
            within the epoch) and ``steps`` (per epoch, or ``None`` when unknown).

    Returns:
        A :class:`TrainResult` (accuracies in %).

    Raises:
        TrainingError: Bad config, device, seed or data (e.g. unlabelled).
        CheckpointMismatchError: ``checkpoint_dir`` holds a different run.
        CheckpointError: The checkpoint file is unreadable.
        TrainingDiverged: The training loss became NaN or infinite.
    """
    if not isinstance(config, TrainConfig):
        raise TrainingError(f"config must be a TrainConfig, got {type(config).__name__}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise TrainingError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    if not isinstance(model, nn.Module):
        raise TrainingError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    for name, data in (
        ("train_data", train_data),
        ("val_data", val_data),
        ("test_data", test_data),
    ):
        if data is not None and not hasattr(data, "iter_batches"):
            raise TrainingError(
                f"{name} must be an ImageDataset or have iter_batches(), got "
                f"{type(data).__name__}; wrap tensors with nasrank.data.from_tensors(x, y)"
            )
    if getattr(train_data, "labels", ...) is None:
        raise TrainingError(f"train_data {train_data!r} has no labels; training needs labels")
    dev = _resolve_device(device)
    fingerprint = _fingerprint(model, train_data, config, seed)

    ckpt_path: Path | None = None
    state: dict[str, Any] | None = None
    if checkpoint_dir is not None:
        ckpt_dir = Path(checkpoint_dir)
        if ckpt_dir.exists() and not ckpt_dir.is_dir():
            raise TrainingError(f"checkpoint_dir {ckpt_dir} exists and is not a directory")
        remove_stale_temporaries(ckpt_dir)
        ckpt_path = ckpt_dir / CHECKPOINT_NAME
        if ckpt_path.exists():
            state = load_checkpoint(ckpt_path)
            if state.get("format") != _FORMAT or state.get("version") != _FORMAT_VERSION:
                raise CheckpointError(
                    f"{ckpt_path} is not a nasrank training checkpoint of version "
                    f"{_FORMAT_VERSION}; use another checkpoint_dir"
                )
            if state.get("run") != fingerprint:
                raise CheckpointMismatchError(
                    f"checkpoint {ckpt_path} holds a different run "
                    f"({_describe_mismatch(state.get('run') or {}, fingerprint)}); "
                    "use another checkpoint directory or delete it to start afresh"
                )

    train_data = _maybe_materialize(train_data, "training")
    val_data = _maybe_materialize(val_data, "validation") if val_data is not None else None
    test_data = _maybe_materialize(test_data, "test") if test_data is not None else None

    n_train = _len(train_data)
    bs = config.batch_size
    # A last batch of one sample breaks BatchNorm in training mode: drop it then.
    drop_last = n_train is not None and n_train > 1 and n_train % bs == 1
    steps_per_epoch: int | None = None
    if hasattr(train_data, "num_batches"):
        steps_per_epoch = int(train_data.num_batches(bs, drop_last=drop_last))
    elif n_train is not None:
        steps_per_epoch = n_train // bs if drop_last else -(-n_train // bs)
    sched_steps = steps_per_epoch or 1  # unknown length: the schedule moves once per epoch

    amp_dtype = _amp_dtype(config, dev)
    channels_last = dev.type == "cuda"
    model.to(dev)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(
        model.parameters(),
        lr=config.lr,
        momentum=config.momentum,
        nesterov=config.nesterov,
        weight_decay=config.weight_decay,
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: learning_rate(config, s, sched_steps) / config.lr
    )
    scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype == torch.float16)
    criterion = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)

    history: list[dict] = []
    start_epoch = 0
    cuda_devices = [dev.index] if dev.type == "cuda" else []
    was_training = model.training
    cudnn_flags: AbstractContextManager[Any] = (
        torch.backends.cudnn.flags(enabled=True, benchmark=True, deterministic=False)
        if dev.type == "cuda"
        else nullcontext()
    )
    with torch.random.fork_rng(devices=cuda_devices), cudnn_flags:
        torch.default_generator.manual_seed(seed)
        if dev.type == "cuda":
            with torch.cuda.device(dev):
                torch.cuda.manual_seed(seed)
        if state is not None:
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            scheduler.load_state_dict(state["scheduler"])
            if state.get("scaler"):
                scaler.load_state_dict(state["scaler"])
            history = [dict(h) for h in state["history"]]
            start_epoch = int(state["epoch"])
            torch.set_rng_state(state["rng"]["torch"])
            if dev.type == "cuda" and state["rng"].get("cuda") is not None:
                torch.cuda.set_rng_state(state["rng"]["cuda"], dev)
            logger.info("resuming from %s after epoch %d", ckpt_path, start_epoch)

        for epoch in range(start_epoch, config.epochs):
            started = time.perf_counter()
            model.train()
            gen = torch.Generator().manual_seed(_derived_seed(seed, epoch, _AUGMENT))
            batches = train_data.iter_batches(
                bs, _derived_seed(seed, epoch, _SHUFFLE), shuffle=True, drop_last=drop_last
            )
            loss_sum = torch.zeros((), dtype=torch.float64, device=dev)
            correct = torch.zeros((), dtype=torch.long, device=dev)
            seen = 0
            for step, batch in enumerate(_prefetch(batches, config.num_workers), 1):
                x, y = _unpack(batch)
                if y is None:
                    raise TrainingError("train_data yielded a batch without labels")
                x, y = x.to(dev, non_blocking=True), y.to(dev, non_blocking=True)
                if config.augment and x.ndim == 4 and x.is_floating_point():
                    x = _augment(x, gen)  # on the device; random draws from the CPU `gen`
                if channels_last and x.ndim == 4:
                    x = x.contiguous(memory_format=torch.channels_last)
                with _autocast(dev, amp_dtype):
                    logits = _logits(model(x))
                    loss = criterion(logits.float(), y)
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
                if steps_per_epoch is not None:
                    scheduler.step()
                n = int(y.numel())
                loss_sum += loss.detach().double() * n
                correct += (logits.detach().argmax(1) == y).sum()
                seen += n
                if step_progress is not None:
                    step_progress({"epoch": epoch + 1, "step": step, "steps": steps_per_epoch})
            if steps_per_epoch is None:
                scheduler.step()
            if seen == 0:
                raise TrainingError("train_data yielded no batches")
            train_loss = float(loss_sum.item()) / seen
            if not math.isfinite(train_loss):
                raise TrainingDiverged(
                    f"training loss is {train_loss} in epoch {epoch + 1}; lower the learning "
                    f"rate (lr={config.lr}) or add warm-up"
                )
            val_acc = (
                evaluate(model, val_data, device=dev, amp=config.amp)
                if val_data is not None
                else None
            )
            entry = {
                "epoch": epoch + 1,
                "lr": float(optimizer.param_groups[0]["lr"])
                if steps_per_epoch is None
                else learning_rate(config, (epoch + 1) * steps_per_epoch - 1, steps_per_epoch),
                "train_loss": train_loss,
                "train_accuracy": 100.0 * int(correct.item()) / seen,
                "val_accuracy": val_acc,
                "seconds": time.perf_counter() - started,
            }
            history.append(entry)
            logger.info(
                "epoch %d/%d: loss %.4f, train %.2f %%, val %s, %.1f s",
                epoch + 1,
                config.epochs,
                train_loss,
                entry["train_accuracy"],
                "-" if val_acc is None else f"{val_acc:.2f} %",
                entry["seconds"],
            )
            if ckpt_path is not None:
                save_checkpoint(
                    ckpt_path,
                    {
                        "format": _FORMAT,
                        "version": _FORMAT_VERSION,
                        "run": fingerprint,
                        "epoch": epoch + 1,
                        "history": history,
                        "model": model.state_dict(),
                        "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict(),
                        "scaler": scaler.state_dict() if scaler.is_enabled() else None,
                        "rng": {
                            "torch": torch.get_rng_state(),
                            "cuda": torch.cuda.get_rng_state(dev) if dev.type == "cuda" else None,
                        },
                    },
                )
            if progress is not None:
                progress({**entry, "epochs": config.epochs})

    started = time.perf_counter()
    val_acc = history[-1]["val_accuracy"] if history else None
    if val_data is not None and val_acc is None:
        val_acc = evaluate(model, val_data, device=dev, amp=config.amp)
    test_acc = (
        evaluate(model, test_data, device=dev, amp=config.amp) if test_data is not None else None
    )
    model.train(was_training)
    seconds = sum(h["seconds"] for h in history) + time.perf_counter() - started
    return TrainResult(
        train_accuracy=history[-1]["train_accuracy"],
        val_accuracy=val_acc,
        test_accuracy=test_acc,
        epochs=len(history),
        seconds=seconds,
        device=str(dev),
        history=tuple(history),
    )
