"""The dataset type every data source produces: images + labels, normalisation, sampling.

An :class:`ImageDataset` holds ``N`` samples either in memory (a numpy array, as CIFAR
batches and user tensors are) or as a lazily decoded list of files (:class:`ImageFiles`, as
image folders are), plus ``int64`` labels and class names. It turns samples into normalised
float :class:`~nasrank.data.batch.Batch` objects:

* :meth:`ImageDataset.sample_batch` draws one batch from a seed (same seed, same batch);
* :meth:`ImageDataset.iter_batches` walks the data in shuffled mini-batches for training;
* :meth:`ImageDataset.take` / :meth:`ImageDataset.subset` keep the first or a random ``n``
  samples for small training runs.

Normalisation: ``uint8`` images are scaled to ``[0, 1]``; then, if the dataset has a
per-channel ``mean``/``std``, ``(x - mean) / std`` is applied channel-wise. The constants
below are the conventional ones: CIFAR statistics as used by NAS-Bench-201 (its
``get_datasets``: mean ``[125.3, 123.0, 113.9] / 255``, std ``[63.0, 62.1, 66.7] / 255`` for
CIFAR-10; ``[129.3, 124.1, 112.4] / 255``, ``[68.2, 65.4, 70.4] / 255`` for CIFAR-100), and
the ImageNet statistics of torchvision's pretrained models for generic image folders.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import torch

from nasrank._random import SeedLike, as_rng
from nasrank.data.batch import Batch
from nasrank.errors import DataError

__all__ = [
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "CIFAR100_MEAN",
    "CIFAR100_STD",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "ImageFiles",
    "ImageDataset",
    "from_tensors",
    "concat_datasets",
]

logger = logging.getLogger(__name__)

#: CIFAR-10 per-channel mean in [0, 1] (NAS-Bench-201's ``[125.3, 123.0, 113.9] / 255``).
CIFAR10_MEAN: tuple[float, ...] = tuple(v / 255 for v in (125.3, 123.0, 113.9))
#: CIFAR-10 per-channel standard deviation (``[63.0, 62.1, 66.7] / 255``).
CIFAR10_STD: tuple[float, ...] = tuple(v / 255 for v in (63.0, 62.1, 66.7))
#: CIFAR-100 per-channel mean (``[129.3, 124.1, 112.4] / 255``).
CIFAR100_MEAN: tuple[float, ...] = tuple(v / 255 for v in (129.3, 124.1, 112.4))
#: CIFAR-100 per-channel standard deviation (``[68.2, 65.4, 70.4] / 255``).
CIFAR100_STD: tuple[float, ...] = tuple(v / 255 for v in (68.2, 65.4, 70.4))
#: ImageNet per-channel mean (torchvision), the default for generic image folders.
IMAGENET_MEAN: tuple[float, ...] = (0.485, 0.456, 0.406)
#: ImageNet per-channel standard deviation (torchvision).
IMAGENET_STD: tuple[float, ...] = (0.229, 0.224, 0.225)


def default_num_workers() -> int:
    """Threads used to decode image files: the CPU count, at most 8."""
    return max(1, min(8, os.cpu_count() or 1))


class ImageFiles:
    """A lazily decoded list of image files of one common shape.

    Args:
        paths: One file path per sample.
        decode: Callable mapping a path to a ``uint8`` array of shape ``shape``; it raises
            :class:`~nasrank.errors.DataError` naming the file when it cannot. It must be
            thread-safe (files are decoded by a thread pool) and picklable if the dataset is
            used by a multi-process ``DataLoader``.
        shape: ``(C, H, W)`` of every decoded image.
        num_workers: Default number of decoding threads (``None``:
            :func:`default_num_workers`). Loaders pass 1 for small images (e.g. 32x32
            JPEGs), whose decoding is dominated by Python overhead that threads cannot
            overlap (measured slower with threads); large images decode in parallel.
    """

    def __init__(
        self,
        paths: Sequence[str],
        decode: Callable[[str], np.ndarray],
        shape: tuple[int, ...],
        num_workers: int | None = None,
    ) -> None:
        self.paths: list[str] = list(paths)
        self.decode = decode
        self.shape = tuple(int(s) for s in shape)
        self.num_workers = num_workers

    def __len__(self) -> int:
        return len(self.paths)

    def subset(self, indices: np.ndarray) -> ImageFiles:
        """Files at ``indices``, in that order."""
        return ImageFiles(
            [self.paths[i] for i in indices], self.decode, self.shape, self.num_workers
        )

    def read(self, indices: np.ndarray, num_workers: int | None = None) -> np.ndarray:
        """Decode the files at ``indices`` into one ``(n, *shape)`` ``uint8`` array.

        Args:
            indices: Positions to decode.
            num_workers: Decoding threads (default: :attr:`num_workers`, else
                :func:`default_num_workers`); 1 decodes in the calling thread.
        """
        paths = [self.paths[i] for i in indices]
        out = np.empty((len(paths), *self.shape), dtype=np.uint8)
        if num_workers is None:
            num_workers = self.num_workers
        workers = default_num_workers() if num_workers is None else max(1, int(num_workers))

        def work(span: range) -> None:
            for k in span:
                out[k] = self.decode(paths[k])

        if workers == 1 or len(paths) < 64:
            work(range(len(paths)))
            return out
        chunk = max(16, -(-len(paths) // (workers * 8)))
        spans = [range(s, min(s + chunk, len(paths))) for s in range(0, len(paths), chunk)]
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="nasrank-decode") as pool:
            for _ in pool.map(work, spans):  # re-raises the first decoding error
                pass
        return out


class ImageDataset:
    """Samples (images, or any per-sample arrays) with optional ``int64`` class labels.

    Build one with a loader (:func:`~nasrank.data.load_cifar10`,
    :func:`~nasrank.data.load_image_folder`, :func:`~nasrank.data.synthetic_dataset`,
    :func:`from_tensors`, :func:`~nasrank.data.load_dataset`) rather than directly.

    Args:
        images: ``(N, ...)`` array in memory — ``uint8`` images ``(N, C, H, W)``, ``float32``
            samples, or ``int64`` token ids — or an :class:`ImageFiles` decoded on demand.
        labels: ``(N,)`` integer labels in ``[0, len(classes))``, or ``None``.
        classes: Class names, index = label. Required with labels.
        split: Name of the split ("train", "test", "all", ...).
        source: Provenance, e.g. the spec string ``"cifar10:/data/cifar"``; batches extend it
            with split, seed and size.
        mean: Per-channel mean subtracted from ``[0, 1]``-scaled images, or ``None``.
        std: Per-channel standard deviation to divide by (with ``mean``).

    Shapes:
        Batches are ``inputs (n, C, H, W)`` ``float32`` (``int64`` for token data) and
        ``targets (n,)`` ``int64``.

    Raises:
        DataError: Empty data, labels that do not match the samples or the classes, or a
            mean/std that does not match the channels.
    """

    def __init__(
        self,
        images: np.ndarray | ImageFiles,
        labels: np.ndarray | None = None,
        *,
        classes: Sequence[str] | None = None,
        split: str = "train",
        source: str = "user",
        mean: Sequence[float] | None = None,
        std: Sequence[float] | None = None,
    ) -> None:
        if isinstance(images, np.ndarray):
            if images.ndim < 2:
                raise DataError(
                    f"{source}: samples must be an array of shape (N, ...) with at least 2 "
                    f"dimensions, got shape {images.shape}"
                )
            if images.dtype not in (np.uint8, np.float32, np.int64):
                raise DataError(
                    f"{source}: samples must be uint8, float32 or int64, got {images.dtype}"
                )
        elif not isinstance(images, ImageFiles):
            raise DataError(
                f"{source}: images must be a numpy array or ImageFiles, got {type(images).__name__}"
            )
        n = len(images)
        if n == 0:
            raise DataError(f"{source} ({split}): the dataset is empty; it needs at least 1 sample")
        self._images = images
        self.split = split
        self.source = source
        if labels is not None:
            labels = np.asarray(labels)
            if labels.ndim != 1 or len(labels) != n:
                raise DataError(
                    f"{source}: labels must have shape ({n},) to match the samples, "
                    f"got {labels.shape}"
                )
            if labels.dtype.kind not in "iu":
                raise DataError(f"{source}: labels must be integers, got dtype {labels.dtype}")
            labels = labels.astype(np.int64, copy=True)
            labels.flags.writeable = False
            if classes is None:
                raise DataError(f"{source}: labelled data needs class names (classes=...)")
        self._labels = labels
        self.classes: tuple[str, ...] | None = None
        if classes is not None:
            self.classes = tuple(str(c) for c in classes)
            if not self.classes:
                raise DataError(f"{source}: classes is empty; it needs at least one class name")
            if labels is not None:
                low, high = int(labels.min()), int(labels.max())
                if low < 0 or high >= len(self.classes):
                    bad = low if low < 0 else high
                    raise DataError(
                        f"{source}: label {bad} is out of range; labels must lie in "
                        f"[0, {len(self.classes) - 1}] for {len(self.classes)} classes"
                    )
        self.mean: tuple[float, ...] | None = None
        self.std: tuple[float, ...] | None = None
        if (mean is None) != (std is None):
            raise DataError(f"{source}: give both mean and std for normalisation, or neither")
        if mean is not None and std is not None:
            if self.dtype == np.int64:
                raise DataError(f"{source}: int64 (token) data cannot be normalised with mean/std")
            channels = self.sample_shape[0] if len(self.sample_shape) >= 1 else 1
            mean_t, std_t = tuple(float(m) for m in mean), tuple(float(s) for s in std)
            if len(mean_t) != channels or len(std_t) != channels:
                raise DataError(
                    f"{source}: mean/std have {len(mean_t)}/{len(std_t)} values but the samples "
                    f"have {channels} channels (shape {self.sample_shape}); give one per channel"
                )
            if any(not s > 0 for s in std_t):
                raise DataError(f"{source}: std must be positive, got {std_t}")
            self.mean, self.std = mean_t, std_t

    # ----------------------------------------------------------------- properties
    def __len__(self) -> int:
        return len(self._images)

    @property
    def num_classes(self) -> int | None:
        """Number of classes, or ``None`` for unlabelled data without class names."""
        return None if self.classes is None else len(self.classes)

    @property
    def labels(self) -> np.ndarray | None:
        """Read-only ``(N,)`` ``int64`` labels, or ``None``."""
        return self._labels

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """Shape of one sample, e.g. ``(3, 32, 32)``."""
        if isinstance(self._images, ImageFiles):
            return self._images.shape
        return tuple(int(s) for s in self._images.shape[1:])

    @property
    def dtype(self) -> np.dtype[Any]:
        """Stored sample dtype (``uint8`` for images; batches are float)."""
        if isinstance(self._images, ImageFiles):
            return np.dtype(np.uint8)
        return self._images.dtype

    @property
    def is_lazy(self) -> bool:
        """Whether samples are decoded from files on demand."""
        return isinstance(self._images, ImageFiles)

    @property
    def files(self) -> list[str] | None:
        """The file of each sample for a lazy dataset, else ``None``."""
        return list(self._images.paths) if isinstance(self._images, ImageFiles) else None

    def __repr__(self) -> str:
        kind = "lazy files" if self.is_lazy else str(self.dtype)
        return (
            f"ImageDataset(source={self.source!r}, split={self.split!r}, n={len(self)}, "
            f"shape={self.sample_shape}, {kind}, num_classes={self.num_classes})"
        )

    # ----------------------------------------------------------------- access
    def _indices(self, indices: Sequence[int] | np.ndarray | None) -> np.ndarray:
        n = len(self)
        if indices is None:
            return np.arange(n)
        idx = np.asarray(indices)
        if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
            raise DataError(f"indices must be a 1-D sequence of integers, got shape {idx.shape}")
        idx = idx.astype(np.int64)
        if idx.size and (idx.min() < -n or idx.max() >= n):
            bad = int(idx.min()) if idx.min() < -n else int(idx.max())
            raise DataError(f"index {bad} is out of range for {n} samples")
        return np.where(idx < 0, idx + n, idx)

    def read_images(
        self, indices: Sequence[int] | np.ndarray | None = None, *, num_workers: int | None = None
    ) -> np.ndarray:
        """Raw (unnormalised) samples at ``indices`` (all when ``None``), decoding files if lazy."""
        idx = self._indices(indices)
        if isinstance(self._images, ImageFiles):
            return self._images.read(idx, num_workers)
        return self._images[idx]

    def _to_inputs(self, raw: np.ndarray) -> torch.Tensor:
        x = torch.from_numpy(np.ascontiguousarray(raw))
        if x.dtype == torch.uint8:
            x = x.float().div_(255.0)
        if self.mean is not None and self.std is not None:
            view = (1, -1) + (1,) * (x.ndim - 2)
            mean = torch.tensor(self.mean, dtype=x.dtype).view(view)
            std = torch.tensor(self.std, dtype=x.dtype).view(view)
            x = (x - mean) / std
        return x

    def batch(
        self,
        indices: Sequence[int] | np.ndarray | None = None,
        *,
        source: str | None = None,
        num_workers: int | None = None,
    ) -> Batch:
        """Normalised :class:`Batch` of the samples at ``indices`` (all when ``None``).

        Args:
            indices: Sample positions, in the order wanted.
            source: Provenance for :attr:`Batch.source` (default: the dataset's source,
                split and size).
            num_workers: Decoding threads for lazy datasets.
        """
        idx = self._indices(indices)
        if idx.size == 0:
            raise DataError("a batch needs at least one index, got none")
        inputs = self._to_inputs(self.read_images(idx, num_workers=num_workers))
        targets = None if self._labels is None else torch.from_numpy(self._labels[idx].copy())
        if source is None:
            source = f"{self.source} split={self.split} n={idx.size}"
        return Batch(inputs, targets, self.num_classes, source)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int] | torch.Tensor:
        """One normalised sample ``(x, label)`` (``x`` alone without labels).

        Makes the dataset usable as a map-style ``torch.utils.data.Dataset``.
        """
        idx = self._indices([int(index)])
        x = self._to_inputs(self.read_images(idx, num_workers=1))[0]
        if self._labels is None:
            return x
        return x, int(self._labels[idx[0]])

    # ----------------------------------------------------------------- sampling
    @staticmethod
    def _check_batch_size(batch_size: int, name: str = "batch_size") -> int:
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
            raise DataError(f"{name} must be a positive integer, got {batch_size!r}")
        if batch_size < 1:
            raise DataError(f"{name} must be a positive integer, got {batch_size}")
        return int(batch_size)

    def sample_batch(
        self,
        batch_size: int,
        seed: SeedLike = 0,
        *,
        replace: bool = False,
        num_workers: int | None = None,
    ) -> Batch:
        """Draw ``batch_size`` samples at random, reproducibly from ``seed``.

        The same dataset and seed give an identical batch (same samples, same order);
        different seeds give different batches.

        Args:
            batch_size: Number of samples.
            seed: Integer seed (or a ``numpy.random.Generator``, which is advanced).
            replace: Sample with replacement (allows ``batch_size > len(self)``).
            num_workers: Decoding threads for lazy datasets.

        Raises:
            DataError: ``batch_size`` is not positive, or exceeds the dataset without
                ``replace``.
        """
        batch_size = self._check_batch_size(batch_size)
        if not replace and batch_size > len(self):
            raise DataError(
                f"batch_size {batch_size} exceeds the {len(self)} samples of {self.source} "
                f"({self.split}); use a smaller batch_size or replace=True"
            )
        idx = as_rng(seed).choice(len(self), size=batch_size, replace=replace)
        seed_text = seed if isinstance(seed, (int, np.integer)) or seed is None else "rng"
        source = f"{self.source} split={self.split} seed={seed_text} n={batch_size}"
        return self.batch(idx, source=source, num_workers=num_workers)

    def iter_batches(
        self,
        batch_size: int,
        seed: SeedLike = 0,
        *,
        shuffle: bool = True,
        drop_last: bool = False,
        num_workers: int | None = None,
    ) -> Iterator[Batch]:
        """Iterate over the dataset once in mini-batches (one training epoch).

        Args:
            batch_size: Samples per batch.
            seed: Seed of the shuffle; use e.g. ``seed + epoch`` for a new order each epoch.
            shuffle: Visit samples in a seeded random order (else in stored order).
            drop_last: Skip the final batch when it is smaller than ``batch_size``.
            num_workers: Decoding threads for lazy datasets (or :meth:`materialize` first).

        Returns:
            An iterator of :class:`Batch`; every sample appears exactly once (except those of
            a dropped last batch).

        Raises:
            DataError: ``batch_size`` is not positive, or ``drop_last`` leaves no batch.
        """
        batch_size = self._check_batch_size(batch_size)
        n = len(self)
        if drop_last and batch_size > n:
            raise DataError(
                f"batch_size {batch_size} exceeds the {n} samples of {self.source} and "
                "drop_last=True leaves no batch; use a smaller batch_size or drop_last=False"
            )
        order = as_rng(seed).permutation(n) if shuffle else np.arange(n)
        stop = n - n % batch_size if drop_last else n
        seed_text = seed if isinstance(seed, (int, np.integer)) or seed is None else "rng"

        def generate() -> Iterator[Batch]:
            for number, start in enumerate(range(0, stop, batch_size)):
                idx = order[start : start + batch_size]
                source = (
                    f"{self.source} split={self.split} seed={seed_text} batch={number} n={idx.size}"
                )
                yield self.batch(idx, source=source, num_workers=num_workers)

        return generate()

    def num_batches(self, batch_size: int, *, drop_last: bool = False) -> int:
        """Number of batches :meth:`iter_batches` yields."""
        batch_size = self._check_batch_size(batch_size)
        return len(self) // batch_size if drop_last else -(-len(self) // batch_size)

    # ----------------------------------------------------------------- derived datasets
    def _derive(
        self,
        images: np.ndarray | ImageFiles,
        labels: np.ndarray | None,
        source: str,
        split: str | None = None,
    ) -> ImageDataset:
        return ImageDataset(
            images,
            labels,
            classes=self.classes,
            split=self.split if split is None else split,
            source=source,
            mean=self.mean,
            std=self.std,
        )

    def subset(
        self, indices: Sequence[int] | np.ndarray, *, tag: str | None = None
    ) -> ImageDataset:
        """A dataset of the samples at ``indices`` (same classes and normalisation).

        Args:
            indices: Sample positions, in the order wanted.
            tag: Text added to :attr:`source` (default ``subset n=<len>``).
        """
        idx = self._indices(indices)
        if idx.size == 0:
            raise DataError("a subset needs at least one index, got none")
        if isinstance(self._images, ImageFiles):
            images: np.ndarray | ImageFiles = self._images.subset(idx)
        else:
            images = self._images[idx]
        labels = None if self._labels is None else self._labels[idx]
        tag = f"subset n={idx.size}" if tag is None else tag
        return self._derive(images, labels, f"{self.source}[{tag}]")

    def take(self, n: int, *, seed: SeedLike = None, stratified: bool = False) -> ImageDataset:
        """The first ``n`` samples, or ``n`` random ones when a seed is given.

        Args:
            n: Number of samples to keep (all when ``n >= len(self)``).
            seed: ``None`` keeps the first ``n`` in stored order; an integer draws ``n``
                distinct samples reproducibly.
            stratified: With a seed, draw (nearly) the same number from every class.
                Image folders are stored class by class, so the first ``n`` are rarely
                what a small training run wants: pass a seed.

        Raises:
            DataError: ``n`` is not positive, or ``stratified`` without labels or seed.
        """
        n = self._check_batch_size(n, "n")
        count = min(n, len(self))
        if seed is None:
            if stratified:
                raise DataError("stratified=True needs a seed to choose samples within classes")
            return self.subset(np.arange(count), tag=f"first {count}")
        rng = as_rng(seed)
        seed_text = seed if isinstance(seed, (int, np.integer)) else "rng"
        if not stratified:
            idx = rng.choice(len(self), size=count, replace=False)
            return self.subset(idx, tag=f"random {count} seed={seed_text}")
        if self._labels is None or self.num_classes is None:
            raise DataError(f"{self.source}: stratified=True needs labelled data")
        by_class = [
            rng.permutation(np.flatnonzero(self._labels == c)) for c in range(self.num_classes)
        ]
        picked: list[int] = []
        depth = 0
        while len(picked) < count:  # round-robin over classes, each in random order
            for members in by_class:
                if depth < len(members) and len(picked) < count:
                    picked.append(int(members[depth]))
            depth += 1
        idx = rng.permutation(np.asarray(picked, dtype=np.int64))
        return self.subset(idx, tag=f"stratified {count} seed={seed_text}")

    def materialize(self, num_workers: int | None = None) -> ImageDataset:
        """Decode every file now (thread pool) and return an in-memory dataset.

        In-memory datasets are returned unchanged. 50,000 CIFAR-sized images take about
        150 MB.
        """
        if not isinstance(self._images, ImageFiles):
            return self
        array = self._images.read(np.arange(len(self)), num_workers)
        return self._derive(array, self._labels, self.source)

    def with_normalization(
        self, mean: Sequence[float] | None, std: Sequence[float] | None
    ) -> ImageDataset:
        """The same samples with another per-channel mean/std (``None, None`` disables it)."""
        return ImageDataset(
            self._images,
            self._labels,
            classes=self.classes,
            split=self.split,
            source=self.source,
            mean=mean,
            std=std,
        )

    # ----------------------------------------------------------------- statistics
    def label_histogram(self) -> dict[str, int]:
        """Number of samples per class, in class order.

        Raises:
            DataError: The dataset has no labels.
        """
        if self._labels is None or self.classes is None:
            raise DataError(f"{self.source}: the dataset has no labels to count")
        counts = np.bincount(self._labels, minlength=len(self.classes))
        return {name: int(c) for name, c in zip(self.classes, counts, strict=True)}


def concat_datasets(
    datasets: Sequence[ImageDataset], *, split: str = "all", source: str | None = None
) -> ImageDataset:
    """Concatenate datasets of the same kind, classes and normalisation (e.g. train + test).

    Raises:
        DataError: The datasets disagree in classes, sample shape, storage or normalisation.
    """
    if not datasets:
        raise DataError("concat_datasets needs at least one dataset")
    first = datasets[0]
    for other in datasets[1:]:
        same = (
            other.classes == first.classes
            and other.sample_shape == first.sample_shape
            and other.is_lazy == first.is_lazy
            and other.dtype == first.dtype
            and other.mean == first.mean
            and other.std == first.std
            and (other.labels is None) == (first.labels is None)
        )
        if not same:
            raise DataError(
                f"cannot concatenate {first!r} and {other!r}: classes, sample shape, storage "
                "and normalisation must agree"
            )
    images: np.ndarray | ImageFiles
    if first.is_lazy:
        parts = [d._images for d in datasets]
        assert all(isinstance(p, ImageFiles) for p in parts)
        paths = [p for part in parts for p in part.paths]  # type: ignore[union-attr]
        images = ImageFiles(
            paths,
            parts[0].decode,  # type: ignore[union-attr]
            first.sample_shape,
            parts[0].num_workers,  # type: ignore[union-attr]
        )
    else:
        images = np.concatenate([d._images for d in datasets])  # type: ignore[misc]
    labels = None
    if first.labels is not None:
        labels = np.concatenate([d.labels for d in datasets])  # type: ignore[misc]
    return ImageDataset(
        images,
        labels,
        classes=first.classes,
        split=split,
        source=first.source if source is None else source,
        mean=first.mean,
        std=first.std,
    )


def _as_numpy(value: Any, name: str) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        tensor = value.detach().cpu()
        if tensor.is_floating_point() and tensor.dtype != torch.float32:
            tensor = tensor.float()  # numpy has no bfloat16
        return tensor.numpy()
    try:
        return np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name} must be a tensor or array, got {type(value).__name__}") from exc


def from_tensors(
    x: torch.Tensor | np.ndarray,
    y: torch.Tensor | np.ndarray | Sequence[int] | None = None,
    num_classes: int | None = None,
    *,
    classes: Sequence[str] | None = None,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
    split: str = "train",
    source: str = "tensors",
) -> ImageDataset:
    """Wrap user tensors as a dataset, validating shapes, dtypes and label range.

    Args:
        x: ``(N, ...)`` samples. ``uint8`` must be images ``(N, C, H, W)`` and are scaled to
            ``[0, 1]`` in batches; floating point samples (any shape) are used as given (as
            ``float32``) — already normalised, unless ``mean``/``std`` are passed; integer
            samples (e.g. ``(N, T)`` token ids) are kept as ``int64``.
        y: ``(N,)`` integer labels, or ``None`` for label-free data.
        num_classes: Number of classes; default ``max(y) + 1`` (or ``len(classes)``).
        classes: Class names (default ``"0"``, ``"1"``, ...).
        mean: Per-channel mean to subtract after scaling (channels = ``x.shape[1]``).
        std: Per-channel standard deviation (with ``mean``).
        split: Split name recorded in batches.
        source: Provenance recorded in batches.

    Raises:
        DataError: Wrong shapes or dtypes, non-finite samples, labels that are not integers,
            do not match ``N`` or fall outside ``[0, num_classes)``.
    """
    xs = _checked_samples(x)
    labels = None if y is None else _checked_labels(y, xs.shape[0])
    classes = _checked_classes(labels, num_classes, classes)
    return ImageDataset(xs, labels, classes=classes, split=split, source=source, mean=mean, std=std)


def _checked_samples(x: torch.Tensor | np.ndarray) -> np.ndarray:
    """``x`` as numpy: ``uint8`` images ``(N, C, H, W)``, finite ``float32`` or ``int64``."""
    xs = _as_numpy(x, "x")
    if xs.ndim < 2:
        raise DataError(
            f"x must have shape (N, ...) with a sample dimension, got shape {xs.shape}; "
            "for a single sample use x[None]"
        )
    if xs.shape[0] == 0:
        raise DataError("x is empty (N = 0); it needs at least one sample")
    if xs.dtype == np.uint8:
        if xs.ndim != 4:
            raise DataError(f"uint8 x must be images of shape (N, C, H, W), got shape {xs.shape}")
        if xs.shape[1] not in (1, 3, 4) and xs.shape[3] in (1, 3, 4):
            raise DataError(
                f"uint8 x of shape {xs.shape} looks channels-last (N, H, W, C); images must be "
                "(N, C, H, W): use x.permute(0, 3, 1, 2)"
            )
    elif xs.dtype.kind == "f":
        xs = xs.astype(np.float32, copy=False)
        if not np.isfinite(xs).all():
            raise DataError("x contains NaN or infinite values; samples must be finite")
    elif xs.dtype.kind in "iu":
        xs = xs.astype(np.int64, copy=False)
    else:
        raise DataError(f"x must be uint8, floating point or integer, got dtype {xs.dtype}")
    return xs


def _checked_labels(y: torch.Tensor | np.ndarray | Sequence[int], n: int) -> np.ndarray:
    """``y`` as ``(n,)`` ``int64`` class indices."""
    labels = _as_numpy(y, "y")
    if labels.ndim != 1:
        raise DataError(
            f"y must have shape (N,) = ({n},), got {labels.shape}; "
            "use y.view(-1) for (N, 1) labels or y.argmax(1) for one-hot labels"
        )
    if labels.shape[0] != n:
        raise DataError(f"y has {labels.shape[0]} labels but x has {n} samples")
    if labels.dtype.kind not in "iu":
        raise DataError(
            f"y must hold integer class indices, got dtype {labels.dtype}; use y.long()"
        )
    return labels.astype(np.int64)


def _checked_classes(
    labels: np.ndarray | None, num_classes: int | None, classes: Sequence[str] | None
) -> Sequence[str] | None:
    """The class names: ``classes``, or ``"0"``, ``"1"``, ... for ``num_classes`` (default
    ``len(classes)``, else ``max(labels) + 1``); labels must lie in ``[0, num_classes)``."""
    if labels is not None:
        if classes is not None and num_classes is None:
            num_classes = len(classes)
        if num_classes is None:
            if labels.min() < 0:
                raise DataError(f"label {int(labels.min())} is negative; labels must be >= 0")
            num_classes = int(labels.max()) + 1
    if num_classes is not None:
        if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
            raise DataError(f"num_classes must be a positive integer, got {num_classes!r}")
        if num_classes < 1:
            raise DataError(f"num_classes must be a positive integer, got {num_classes}")
        if classes is not None and len(classes) != num_classes:
            raise DataError(f"classes has {len(classes)} names but num_classes is {num_classes}")
        if labels is not None:
            bad = labels[(labels < 0) | (labels >= num_classes)]
            if bad.size:
                raise DataError(
                    f"label {int(bad[0])} is out of range; labels must lie in "
                    f"[0, {num_classes - 1}] for num_classes={num_classes}"
                )
        if classes is None:
            classes = [str(i) for i in range(int(num_classes))]
    return classes
