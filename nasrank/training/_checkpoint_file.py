"""Atomic, ``weights_only``-loadable checkpoint files for the trainer.

A checkpoint is one dict saved with :func:`torch.save` holding only what
``torch.load(..., weights_only=True)`` accepts: tensors, numbers, strings, ``None`` and
lists/tuples/dicts of those (RNG states are stored as their ``uint8`` tensors). It is
written to a temporary file in the same directory, flushed to disk and renamed over the
previous one, so a crash (even ``kill -9``) at any moment leaves either the old or the new
checkpoint, never a torn one.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from nasrank.training.errors import CheckpointError

__all__ = ["CheckpointError", "save_checkpoint", "load_checkpoint", "remove_stale_temporaries"]

_TMP_PREFIX = ".tmp-"


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> None:
    """Write ``state`` to ``path`` atomically (temporary file, fsync, rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f"{_TMP_PREFIX}{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable; not every platform can open a directory
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint` (``weights_only=True``, to CPU).

    Raises:
        CheckpointError: The file is not a readable checkpoint.
    """
    path = Path(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle/zip errors of many kinds
        raise CheckpointError(
            f"cannot read checkpoint {path}: {type(exc).__name__}: {str(exc).splitlines()[0]}; "
            "delete it (or its directory) to start the run afresh"
        ) from exc
    if not isinstance(state, dict):
        raise CheckpointError(
            f"{path} holds a {type(state).__name__}, not a nasrank training checkpoint; "
            "use another checkpoint directory"
        )
    return state


def remove_stale_temporaries(directory: str | Path) -> None:
    """Delete temporary files left by a save that was killed mid-write."""
    directory = Path(directory)
    if directory.is_dir():
        for tmp in directory.glob(f"{_TMP_PREFIX}*"):
            tmp.unlink(missing_ok=True)
