"""CIFAR-10 and CIFAR-100 in the official python-pickle batch format (Krizhevsky, 2009).

The official archives ``cifar-10-python.tar.gz`` / ``cifar-100-python.tar.gz`` from
https://www.cs.toronto.edu/~kriz/cifar.html extract to

* ``cifar-10-batches-py/``: ``data_batch_1`` .. ``data_batch_5`` (train), ``test_batch``,
  ``batches.meta`` (``label_names``);
* ``cifar-100-python/``: ``train``, ``test``, ``meta`` (``fine_label_names``,
  ``coarse_label_names``).

Each batch is a Python 2 pickle (protocol 2) of a dict with ``data`` (``uint8`` array of
shape ``(N, 3072)``: 1024 red, then green, then blue values, row-major 32x32) and
``labels`` (CIFAR-10) or ``fine_labels``/``coarse_labels`` (CIFAR-100). Any number of
images per batch is accepted. Files are read with :func:`nasrank._pickle.restricted_load`,
which admits only numpy array reconstruction: a pickle naming any other global (e.g.
``os.system``) is refused.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal

import numpy as np

from nasrank._pickle import restricted_load
from nasrank.data.dataset import (
    CIFAR10_MEAN,
    CIFAR10_STD,
    CIFAR100_MEAN,
    CIFAR100_STD,
    ImageDataset,
    concat_datasets,
)
from nasrank.errors import DataError

__all__ = [
    "CIFAR10_DIRNAME",
    "CIFAR100_DIRNAME",
    "CIFAR10_TRAIN_FILES",
    "load_cifar10",
    "load_cifar100",
    "read_cifar_batch",
]

logger = logging.getLogger(__name__)

#: Folder name inside the official CIFAR-10 python archive.
CIFAR10_DIRNAME = "cifar-10-batches-py"
#: Folder name inside the official CIFAR-100 python archive.
CIFAR100_DIRNAME = "cifar-100-python"
#: The five CIFAR-10 training batch files.
CIFAR10_TRAIN_FILES: tuple[str, ...] = tuple(f"data_batch_{i}" for i in range(1, 6))
_CIFAR10_FILES = (*CIFAR10_TRAIN_FILES, "test_batch", "batches.meta")
_CIFAR100_FILES = ("train", "test", "meta")
_DOWNLOAD = "https://www.cs.toronto.edu/~kriz/cifar.html"
_SPLITS = ("train", "test", "all")

Split = Literal["train", "test", "all"]


def _find_dir(root: str | Path, dirname: str, files: tuple[str, ...], archive: str) -> Path:
    path = Path(root).expanduser()
    if not path.is_dir():
        raise DataError(
            f"CIFAR directory {path} does not exist or is not a folder; pass the {dirname} "
            f"folder (or its parent) extracted from {archive} ({_DOWNLOAD})"
        )
    if any((path / name).is_file() for name in files):
        return path
    if (path / dirname).is_dir():
        return path / dirname
    raise DataError(
        f"{path} holds no CIFAR python batches: expected {', '.join(files)} in it or in "
        f"{path / dirname}; extract {archive} from {_DOWNLOAD}"
    )


def _text(value: Any) -> Any:
    return value.decode("latin1") if isinstance(value, bytes) else value


def read_cifar_batch(path: str | Path) -> dict[str, Any]:
    """Read one CIFAR python batch/meta file into a dict with ``str`` keys.

    Uses the restricted unpickler (numpy arrays only) with ``encoding="latin1"``; ``bytes``
    keys and values (Python 3 re-pickles, ``encoding="bytes"`` conventions) become ``str``.

    Raises:
        DataError: The file is missing, truncated, corrupt, refers to a forbidden global
            or is not a dict; the message names the file.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(
            f"missing CIFAR file {path}; re-extract the official archive from {_DOWNLOAD}"
        )
    try:
        with path.open("rb") as fh:
            obj = restricted_load(fh, encoding="latin1")
    except Exception as exc:  # pickle raises many types on damaged input
        raise DataError(
            f"{path} is not a readable CIFAR python batch ({type(exc).__name__}: {exc}); "
            f"the file is corrupt, truncated or not a CIFAR batch: re-extract it from the "
            f"official archive ({_DOWNLOAD})"
        ) from exc
    if not isinstance(obj, dict):
        raise DataError(
            f"{path} holds a {type(obj).__name__}, not the dict of a CIFAR python batch"
        )
    return {_text(k): v for k, v in obj.items()}


def _parse_batch(
    path: Path, batch: dict[str, Any], label_key: str, num_classes: int
) -> tuple[np.ndarray, np.ndarray]:
    if "data" not in batch or label_key not in batch:
        missing = "data" if "data" not in batch else label_key
        raise DataError(
            f"{path} has no {missing!r} entry (keys: {', '.join(sorted(map(str, batch)))}); "
            "not a CIFAR python batch of this dataset"
        )
    data = batch["data"]
    if (
        not isinstance(data, np.ndarray)
        or data.dtype != np.uint8
        or data.ndim != 2
        or data.shape[1] != 3 * 32 * 32
    ):
        got = (
            f"{data.dtype} array of shape {data.shape}"
            if isinstance(data, np.ndarray)
            else type(data).__name__
        )
        raise DataError(
            f"{path}: 'data' must be a uint8 array of shape (N, 3072) (N images of 3x32x32), "
            f"got {got}"
        )
    labels = np.asarray(batch[label_key])
    if labels.ndim != 1 or labels.shape[0] != data.shape[0]:
        raise DataError(
            f"{path}: {label_key!r} must hold one label per image ({data.shape[0]}), "
            f"got shape {labels.shape}"
        )
    if labels.size and labels.dtype.kind not in "iu":
        raise DataError(f"{path}: {label_key!r} must be integers, got dtype {labels.dtype}")
    labels = labels.astype(np.int64)
    bad = labels[(labels < 0) | (labels >= num_classes)]
    if bad.size:
        raise DataError(
            f"{path}: label {int(bad[0])} in {label_key!r} is out of range; expected 0.."
            f"{num_classes - 1}"
        )
    return data.reshape(-1, 3, 32, 32), labels


def _names(path: Path, meta: dict[str, Any], key: str, expected: int) -> tuple[str, ...]:
    names = meta.get(key)
    if not isinstance(names, (list, tuple)) or len(names) != expected:
        got = len(names) if isinstance(names, (list, tuple)) else type(names).__name__
        raise DataError(f"{path}: {key!r} must list {expected} class names, got {got}")
    return tuple(str(_text(n)) for n in names)


def _build(
    files: list[Path],
    label_key: str,
    classes: tuple[str, ...],
    split: str,
    source: str,
    mean: tuple[float, ...] | None,
    std: tuple[float, ...] | None,
) -> ImageDataset:
    images, labels = [], []
    for file in files:
        x, y = _parse_batch(file, read_cifar_batch(file), label_key, len(classes))
        images.append(x)
        labels.append(y)
    data = np.concatenate(images) if len(images) > 1 else images[0]
    if len(data) == 0:
        raise DataError(f"{', '.join(map(str, files))} hold no images")
    logger.debug("read %d images from %d CIFAR batch file(s)", len(data), len(files))
    return ImageDataset(
        data,
        np.concatenate(labels),
        classes=classes,
        split=split,
        source=source,
        mean=mean,
        std=std,
    )


def _check_split(split: str) -> None:
    if split not in _SPLITS:
        raise DataError(f"unknown CIFAR split {split!r}; choose one of {', '.join(_SPLITS)}")


def load_cifar10(
    root: str | Path,
    split: Split = "train",
    *,
    normalize: bool = True,
    source: str | None = None,
) -> ImageDataset:
    """Load CIFAR-10 from the official python batches.

    Args:
        root: The ``cifar-10-batches-py`` folder or its parent.
        split: ``"train"`` (``data_batch_1..5``), ``"test"`` (``test_batch``) or ``"all"``
            (train then test).
        normalize: Apply :data:`~nasrank.data.CIFAR10_MEAN`/``CIFAR10_STD`` in batches
            (else images are only scaled to ``[0, 1]``).
        source: Provenance for batches (default ``"cifar10:<root>"``).

    Returns:
        An in-memory ``uint8`` dataset of ``(3, 32, 32)`` images with 10 classes named
        from ``batches.meta``.

    Raises:
        DataError: A missing, corrupt or malformed file (named in the message), or an
            unknown split.
    """
    _check_split(split)
    folder = _find_dir(root, CIFAR10_DIRNAME, _CIFAR10_FILES, "cifar-10-python.tar.gz")
    source = f"cifar10:{root}" if source is None else source
    meta_path = folder / "batches.meta"
    classes = _names(meta_path, read_cifar_batch(meta_path), "label_names", 10)
    mean, std = (CIFAR10_MEAN, CIFAR10_STD) if normalize else (None, None)
    if split == "all":
        parts = [
            load_cifar10(folder, s, normalize=normalize, source=source) for s in ("train", "test")
        ]
        return concat_datasets(parts, split="all", source=source)
    names = CIFAR10_TRAIN_FILES if split == "train" else ("test_batch",)
    files = [folder / name for name in names]
    return _build(files, "labels", classes, split, source, mean, std)


def load_cifar100(
    root: str | Path,
    split: Split = "train",
    *,
    label_type: Literal["fine", "coarse"] = "fine",
    normalize: bool = True,
    source: str | None = None,
) -> ImageDataset:
    """Load CIFAR-100 from the official python files.

    Args:
        root: The ``cifar-100-python`` folder or its parent.
        split: ``"train"``, ``"test"`` or ``"all"`` (train then test).
        label_type: ``"fine"`` (100 classes) or ``"coarse"`` (20 superclasses).
        normalize: Apply :data:`~nasrank.data.CIFAR100_MEAN`/``CIFAR100_STD`` in batches.
        source: Provenance for batches (default ``"cifar100:<root>"``).

    Raises:
        DataError: A missing, corrupt or malformed file (named in the message), an unknown
            split or label type.
    """
    _check_split(split)
    if label_type not in ("fine", "coarse"):
        raise DataError(f"unknown CIFAR-100 label_type {label_type!r}; choose fine or coarse")
    folder = _find_dir(root, CIFAR100_DIRNAME, _CIFAR100_FILES, "cifar-100-python.tar.gz")
    source = f"cifar100:{root}" if source is None else source
    meta_path = folder / "meta"
    count = 100 if label_type == "fine" else 20
    classes = _names(meta_path, read_cifar_batch(meta_path), f"{label_type}_label_names", count)
    mean, std = (CIFAR100_MEAN, CIFAR100_STD) if normalize else (None, None)
    if split == "all":
        parts = [
            load_cifar100(folder, s, label_type=label_type, normalize=normalize, source=source)
            for s in ("train", "test")
        ]
        return concat_datasets(parts, split="all", source=source)
    return _build([folder / split], f"{label_type}_labels", classes, split, source, mean, std)
