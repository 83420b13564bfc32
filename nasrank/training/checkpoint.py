"""The per-epoch checkpoint of a training run: what it holds, whose it is, save and resume.

With ``checkpoint_dir``, the state after every epoch (model, optimizer, scheduler, grad
scaler, RNG states, epoch, history and a fingerprint of the run) is written atomically to
``checkpoint_dir/checkpoint.pt``; it loads with ``torch.load(..., weights_only=True)``.
Training again with the same directory, an identically built model, the same data, config
and seed continues after the last completed epoch and ends with the same weights (bitwise,
on CPU) as an uninterrupted run; a checkpoint of a different run (other config, seed, model
structure or training-set size) is refused with :class:`CheckpointMismatchError`.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

import torch
from torch import nn

from nasrank._files import unwritable_reason
from nasrank.training._checkpoint_file import (
    load_checkpoint,
    remove_stale_temporaries,
    save_checkpoint,
)
from nasrank.training._data import data_length
from nasrank.training.config import TrainConfig
from nasrank.training.errors import CheckpointError, CheckpointMismatchError, TrainingError
from nasrank.training.setup import TrainingSetup

__all__ = [
    "CHECKPOINT_NAME",
    "CheckpointError",
    "CheckpointMismatchError",
    "check_checkpoint_dir",
    "load_checkpoint",
    "open_checkpoint",
    "restore_checkpoint",
    "run_fingerprint",
    "save_epoch_checkpoint",
]

logger = logging.getLogger(__name__)

#: File name of the checkpoint inside ``checkpoint_dir``.
CHECKPOINT_NAME = "checkpoint.pt"
_FORMAT = "nasrank-train-checkpoint"
_FORMAT_VERSION = 1
#: Config fields that do not change the result and may differ when resuming.
_NOT_FINGERPRINTED = ("num_workers",)


def _model_signature(model: nn.Module) -> str:
    """Hash of the module structure (repr) and of the state-dict names, shapes, dtypes."""
    h = hashlib.sha256(repr(model).encode())
    for name, tensor in model.state_dict().items():
        h.update(f"{name}:{tuple(tensor.shape)}:{tensor.dtype};".encode())
    return h.hexdigest()[:16]


def run_fingerprint(model: nn.Module, train_data: Any, config: TrainConfig, seed: int) -> dict:
    """What identifies a run: a checkpoint is resumed only by a run of the same fingerprint."""
    cfg = {k: v for k, v in config.to_dict().items() if k not in _NOT_FINGERPRINTED}
    return {
        "config": cfg,
        "seed": seed,
        "model": _model_signature(model),
        "train_size": data_length(train_data),
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


def check_checkpoint_dir(checkpoint_dir: str | Path) -> None:
    """Refuse a checkpoint directory that cannot be created or written, creating nothing.

    The directory, or else its nearest existing ancestor (where it would be created),
    must be a directory in which this process can create a file
    (:func:`nasrank._files.unwritable_reason`: a probe file, removed at once).

    Raises:
        TrainingError: One line naming the path and why it cannot be used.
    """
    path = Path(checkpoint_dir).expanduser()
    if path.exists() and not path.is_dir():
        raise TrainingError(f"checkpoint_dir {str(path)!r} exists and is not a directory")
    base = path.absolute()
    while not base.exists() and base != base.parent:
        base = base.parent
    where = "" if base == path.absolute() else f" (to be created in {str(base)!r})"
    if not base.is_dir():
        raise TrainingError(
            f"checkpoint_dir {str(path)!r} cannot be created: {str(base)!r} is not a directory"
        )
    reason = unwritable_reason(path, folder=True)
    if reason is not None:
        raise TrainingError(f"checkpoint_dir {str(path)!r} cannot be written{where}: {reason}")


def open_checkpoint(
    checkpoint_dir: str | Path | None, fingerprint: dict
) -> tuple[Path | None, dict[str, Any] | None]:
    """``(checkpoint path, saved state)`` of ``checkpoint_dir``; ``None`` where there is none.

    Temporary files of a save that was killed mid-write are removed.

    Raises:
        TrainingError: ``checkpoint_dir`` is not a directory, or cannot be created or
            written (:func:`check_checkpoint_dir`).
        CheckpointError: The checkpoint is unreadable or not a training checkpoint.
        CheckpointMismatchError: The checkpoint is of a run with another fingerprint.
    """
    if checkpoint_dir is None:
        return None, None
    ckpt_dir = Path(checkpoint_dir)
    check_checkpoint_dir(ckpt_dir)
    remove_stale_temporaries(ckpt_dir)
    ckpt_path = ckpt_dir / CHECKPOINT_NAME
    if not ckpt_path.exists():
        return ckpt_path, None
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
    return ckpt_path, state


def restore_checkpoint(
    state: dict[str, Any], path: Path | None, model: nn.Module, setup: TrainingSetup
) -> tuple[list[dict], int]:
    """Load ``state`` into the model, optimiser, schedule, scaler and RNGs.

    Call it inside the run's seeded RNG block: it replaces the seeded global RNG state.

    Returns:
        ``(history so far, completed epochs)``.
    """
    model.load_state_dict(state["model"])
    setup.optimizer.load_state_dict(state["optimizer"])
    setup.scheduler.load_state_dict(state["scheduler"])
    if state.get("scaler"):
        setup.scaler.load_state_dict(state["scaler"])
    history = [dict(h) for h in state["history"]]
    start_epoch = int(state["epoch"])
    torch.set_rng_state(state["rng"]["torch"])
    dev = setup.device
    if dev.type == "cuda" and state["rng"].get("cuda") is not None:
        torch.cuda.set_rng_state(state["rng"]["cuda"], dev)
    logger.info("resuming from %s after epoch %d", path, start_epoch)
    return history, start_epoch


def save_epoch_checkpoint(
    path: Path,
    *,
    fingerprint: dict,
    epoch: int,
    history: list[dict],
    model: nn.Module,
    setup: TrainingSetup,
) -> None:
    """Write the state after ``epoch`` completed epochs to ``path`` (atomically)."""
    dev = setup.device
    save_checkpoint(
        path,
        {
            "format": _FORMAT,
            "version": _FORMAT_VERSION,
            "run": fingerprint,
            "epoch": epoch,
            "history": history,
            "model": model.state_dict(),
            "optimizer": setup.optimizer.state_dict(),
            "scheduler": setup.scheduler.state_dict(),
            "scaler": setup.scaler.state_dict() if setup.scaler.is_enabled() else None,
            "rng": {
                "torch": torch.get_rng_state(),
                "cuda": torch.cuda.get_rng_state(dev) if dev.type == "cuda" else None,
            },
        },
    )
