"""Synthetic data: seeded Gaussian images with random labels.

Zero-cost proxies that need a batch but not real images (or a quick smoke test) can use
these: every pixel is drawn i.i.d. from a standard normal distribution, so the images are
already "normalised" and no mean/std is applied; labels are uniform over ``num_classes``.
The same seed always gives the same data.

Generated data lives in memory: one dataset holds at most :data:`MAX_GENERATED_BYTES`
(4 GiB) of samples -- 349,525 images of ``3x32x32`` (:func:`max_generated_samples`).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

from nasrank.data.batch import Batch
from nasrank.data.dataset import ImageDataset
from nasrank.errors import DataError

__all__ = [
    "DEFAULT_SHAPE",
    "DEFAULT_NUM_CLASSES",
    "MAX_GENERATED_BYTES",
    "check_generated_size",
    "max_generated_samples",
    "synthetic_dataset",
    "synthetic_batch",
]

#: Default sample shape ``(C, H, W)`` (CIFAR-like).
DEFAULT_SHAPE: tuple[int, int, int] = (3, 32, 32)
#: Default number of classes.
DEFAULT_NUM_CLASSES = 10
#: Most bytes of samples one generated dataset (synthetic images, token ids) may hold.
MAX_GENERATED_BYTES = 4 * 1024**3


def max_generated_samples(sample_bytes: int) -> int:
    """Most samples of ``sample_bytes`` bytes each that one generated dataset may hold."""
    return max(1, MAX_GENERATED_BYTES // max(1, int(sample_bytes)))


def check_generated_size(n: int, sample_bytes: int, what: str) -> None:
    """Refuse generating more than :func:`max_generated_samples` samples.

    Raises:
        DataError: One line with the cap for this sample size.
    """
    cap = max_generated_samples(sample_bytes)
    if n > cap:
        raise DataError(
            f"{what} is generated in memory, at most {MAX_GENERATED_BYTES // 1024**3} GiB: "
            f"{cap:,} samples of this size; {n:,} asked for"
        )


def _positive(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise DataError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _rng(seed: int, split: str) -> np.random.Generator:
    seed = int(seed)
    if seed < 0:
        raise DataError(f"seed must be a non-negative integer, got {seed}")
    if split == "train":
        return np.random.default_rng(seed)
    return np.random.default_rng([seed, zlib.crc32(split.encode())])  # an independent stream


def _shape_text(shape: tuple[int, ...]) -> str:
    return "x".join(str(s) for s in shape)


def synthetic_dataset(
    num_samples: int = 1024,
    shape: Sequence[int] = DEFAULT_SHAPE,
    num_classes: int = DEFAULT_NUM_CLASSES,
    *,
    seed: int = 0,
    split: str = "train",
    source: str | None = None,
) -> ImageDataset:
    """A dataset of seeded standard-normal images with uniformly random labels.

    Args:
        num_samples: Number of samples ``N``.
        shape: Sample shape, e.g. ``(3, 32, 32)`` (any number of positive dimensions).
        num_classes: Number of classes ``K``; labels are uniform on ``0..K-1``.
        seed: Data seed; ``"train"`` and other splits draw independent streams from it.
        split: Split name (changes the data for anything but ``"train"``).
        source: Provenance (default ``"synthetic:CxHxW:K"``).

    Shapes:
        images ``(N, *shape)`` ``float32``, labels ``(N,)`` ``int64``.

    Raises:
        DataError: A non-positive size, shape entry or class count, or more samples than
            :data:`MAX_GENERATED_BYTES` hold.
    """
    n = _positive(num_samples, "num_samples")
    if isinstance(shape, (str, bytes)) or not isinstance(shape, Sequence) or len(shape) == 0:
        raise DataError(f"shape must be a sequence of positive integers, got {shape!r}")
    dims = tuple(_positive(s, "every shape entry") for s in shape)
    k = _positive(num_classes, "num_classes")
    check_generated_size(n, 4 * int(np.prod(dims)), f"synthetic data {_shape_text(dims)}")
    rng = _rng(seed, split)
    images = rng.standard_normal((n, *dims), dtype=np.float32)
    labels = rng.integers(0, k, size=n, dtype=np.int64)
    source = f"synthetic:{_shape_text(dims)}:{k}" if source is None else source
    return ImageDataset(
        images, labels, classes=[str(i) for i in range(k)], split=split, source=source
    )


def synthetic_batch(
    batch_size: int = 64,
    shape: Sequence[int] = DEFAULT_SHAPE,
    num_classes: int = DEFAULT_NUM_CLASSES,
    *,
    seed: int = 0,
    split: str = "train",
) -> Batch:
    """One batch of seeded standard-normal images with random labels.

    Equal to ``synthetic_dataset(batch_size, shape, num_classes, seed=seed).batch()``.

    Args:
        batch_size: Number of samples.
        shape: Sample shape ``(C, H, W)`` (any number of positive dimensions).
        num_classes: Number of classes.
        seed: Data seed: the same seed gives the same batch.
        split: Split name (another split gives an independent batch).

    Raises:
        DataError: A non-positive size, shape entry or class count.
    """
    data = synthetic_dataset(batch_size, shape, num_classes, seed=seed, split=split)
    source = f"{data.source} split={split} seed={seed} n={len(data)}"
    return data.batch(source=source)
