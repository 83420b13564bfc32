"""Errors of training: bad input, a diverged run, a checkpoint that cannot be used."""

from __future__ import annotations

from nasrank.errors import NasrankError

__all__ = [
    "CheckpointError",
    "CheckpointMismatchError",
    "InputShapeError",
    "TrainingDiverged",
    "TrainingError",
]


class TrainingError(NasrankError, ValueError):
    """Bad training input: an invalid config, unlabelled data, an unavailable device."""


class CheckpointMismatchError(NasrankError, ValueError):
    """``checkpoint_dir`` holds a checkpoint of a different run."""


class TrainingDiverged(NasrankError, RuntimeError):
    """The training loss became NaN or infinite (usually: the learning rate is too high)."""


class CheckpointError(NasrankError, RuntimeError):
    """A checkpoint file exists but cannot be read (corrupt, or written by another tool)."""


class InputShapeError(NasrankError, ValueError):
    """A search space's network cannot take an input shape: too small for its downsampling,
    not a size its layers fit together at, or too large for memory."""
