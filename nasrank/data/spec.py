"""Data spec strings, as the command line takes them: ``SCHEME[:ARGUMENT]``.

=========================  ==============================================================
spec                       data
=========================  ==============================================================
``cifar10:DIR``            CIFAR-10 python batches in ``DIR`` (or ``DIR/cifar-10-batches-py``)
``cifar100:DIR``           CIFAR-100 python files in ``DIR`` (or ``DIR/cifar-100-python``)
``images:DIR``             class-per-folder images (``DIR/<class>/*`` or ``DIR/train|test/...``)
``synthetic``              Gaussian images ``3x32x32``, 10 classes
``synthetic:CxHxW``        Gaussian images of that shape, 10 classes
``synthetic:CxHxW:K``      Gaussian images of that shape, ``K`` classes
``tokens[:V[:T[:K]]]``     Zipfian token ids, vocabulary ``V`` (33278), length ``T`` (35),
                           ``K`` random sequence labels (2); see :mod:`nasrank.data.tokens`
=========================  ==============================================================

Only the first ``:`` separates scheme and argument, so Windows paths (``images:C:\\data``)
work. ``~`` in a directory expands to the home folder.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from nasrank.data.batch import Batch
from nasrank.data.cifar import load_cifar10, load_cifar100
from nasrank.data.dataset import ImageDataset
from nasrank.data.folder import load_image_folder
from nasrank.data.synthetic import (
    DEFAULT_NUM_CLASSES,
    DEFAULT_SHAPE,
    synthetic_batch,
    synthetic_dataset,
)
from nasrank.data.tokens import DEFAULT_SEQ_LEN, DEFAULT_VOCAB, token_dataset
from nasrank.errors import DataError, UnknownNameError
from nasrank.registry import Registry

__all__ = ["DataSpec", "DATA_SOURCES", "parse_spec", "load_dataset", "load_batch"]

_SHAPE = re.compile(r"^\d+(x\d+)*$")


@dataclass(frozen=True)
class DataSpec:
    """A parsed data spec.

    Attributes:
        text: The spec as written.
        scheme: The part before the first ``:`` (``cifar10``, ``images``, ``synthetic`` ...).
        path: The directory for file-backed schemes, else ``None``.
        shape: Sample shape for ``synthetic``; ``(vocab_size, seq_len)`` for ``tokens``.
        num_classes: Number of classes for ``synthetic`` and ``tokens``, else ``None``.
    """

    text: str
    scheme: str
    path: Path | None = None
    shape: tuple[int, ...] | None = None
    num_classes: int | None = None


_Loader = Callable[..., ImageDataset]

#: Data spec schemes -> loader ``(spec, *, split, image_size, normalize, synthetic_size)``.
DATA_SOURCES: Registry[_Loader] = Registry("data scheme")
_FILE_SCHEMES: dict[str, str] = {
    "cifar10": "the cifar-10-batches-py folder or its parent",
    "cifar100": "the cifar-100-python folder or its parent",
    "images": "a folder with one sub-folder of images per class",
}


def _check_no_image_size(spec: DataSpec, image_size: object) -> None:
    if image_size is not None:
        raise DataError(
            f"image_size applies to images: specs only, not {spec.text!r} (its images are "
            f"fixed-size); drop image_size"
        )


def _path(spec: DataSpec) -> Path:
    if spec.path is None:
        raise DataError(f"data spec {spec.text!r} names no directory; write {spec.scheme}:DIR")
    return spec.path


@DATA_SOURCES.register("cifar10")
def _cifar10(
    spec: DataSpec, *, split: str, image_size: object, normalize: bool, synthetic_size: int
) -> ImageDataset:
    _check_no_image_size(spec, image_size)
    return load_cifar10(_path(spec), split, normalize=normalize, source=spec.text)  # type: ignore[arg-type]


@DATA_SOURCES.register("cifar100")
def _cifar100(
    spec: DataSpec, *, split: str, image_size: object, normalize: bool, synthetic_size: int
) -> ImageDataset:
    _check_no_image_size(spec, image_size)
    return load_cifar100(_path(spec), split, normalize=normalize, source=spec.text)  # type: ignore[arg-type]


@DATA_SOURCES.register("images")
def _images(
    spec: DataSpec,
    *,
    split: str,
    image_size: int | Sequence[int] | None,
    normalize: bool,
    synthetic_size: int,
) -> ImageDataset:
    return load_image_folder(
        _path(spec), split, image_size=image_size, normalize=normalize, source=spec.text
    )


@DATA_SOURCES.register("synthetic")
def _synthetic(
    spec: DataSpec, *, split: str, image_size: object, normalize: bool, synthetic_size: int
) -> ImageDataset:
    _check_no_image_size(spec, image_size)
    return synthetic_dataset(
        synthetic_size,
        spec.shape or DEFAULT_SHAPE,
        spec.num_classes or DEFAULT_NUM_CLASSES,
        split=split,
        source=spec.text,
    )


@DATA_SOURCES.register("tokens")
def _tokens(
    spec: DataSpec, *, split: str, image_size: object, normalize: bool, synthetic_size: int
) -> ImageDataset:
    _check_no_image_size(spec, image_size)
    vocab, seq_len = spec.shape or (DEFAULT_VOCAB, DEFAULT_SEQ_LEN)
    seed = 0 if split == "train" else 1
    return token_dataset(
        synthetic_size,
        seq_len,
        vocab,
        spec.num_classes or 2,
        seed=seed,
        split=split,
        source=spec.text,
    )


def _parse_tokens(text: str, argument: str) -> DataSpec:
    fields = [f.strip() for f in argument.split(":")] if argument.strip() else []
    values = [DEFAULT_VOCAB, DEFAULT_SEQ_LEN, 2]
    if len(fields) > 3 or not all(f.isdigit() and int(f) > 0 for f in fields):
        raise DataError(
            f"bad tokens spec {text!r}; expected tokens, tokens:VOCAB, tokens:VOCAB:SEQ_LEN or "
            "tokens:VOCAB:SEQ_LEN:CLASSES with positive integers, e.g. tokens:33278:35"
        )
    for i, f in enumerate(fields):
        values[i] = int(f)
    return DataSpec(text, "tokens", shape=(values[0], values[1]), num_classes=values[2])


def _bad_synthetic(text: str, why: str) -> DataError:
    return DataError(
        f"bad synthetic spec {text!r}: {why}; expected synthetic, synthetic:CxHxW or "
        "synthetic:CxHxW:K with positive integers, e.g. synthetic:3x32x32:10"
    )


def parse_spec(spec: str) -> DataSpec:
    """Parse a data spec string (see the module docstring for the forms).

    Raises:
        UnknownNameError: Unknown scheme; the message lists the choices and the closest one.
        DataError: Empty spec, a missing directory, or a malformed synthetic shape.
    """
    if not isinstance(spec, str):
        raise DataError(f"a data spec must be a string like 'cifar10:DIR', got {spec!r}")
    text = spec.strip()
    if not text:
        raise DataError(
            "empty data spec; use cifar10:DIR, cifar100:DIR, images:DIR or synthetic[:CxHxW[:K]]"
        )
    scheme, sep, argument = text.partition(":")
    scheme = scheme.strip().lower()
    if scheme not in DATA_SOURCES:
        message = DATA_SOURCES.unknown_message(scheme)
        raise UnknownNameError(
            f"{message} (a data spec is SCHEME[:ARGUMENT], e.g. cifar10:/data/cifar-10-batches-py)"
        )
    if scheme in _FILE_SCHEMES:
        if not argument.strip():
            raise DataError(
                f"data spec {text!r} names no directory; write {scheme}:DIR with DIR "
                f"{_FILE_SCHEMES[scheme]}"
            )
        return DataSpec(text, scheme, path=Path(argument.strip()).expanduser())
    if scheme == "tokens":
        return _parse_tokens(text, argument)
    # synthetic[:CxHxW[:K]]
    if not sep:
        return DataSpec(text, scheme)
    parts = [p.strip().lower() for p in argument.split(":")]
    if len(parts) > 2:
        raise _bad_synthetic(text, f"{len(parts)} fields after 'synthetic:'")
    shape_text = parts[0]
    shape: tuple[int, ...] = DEFAULT_SHAPE
    if shape_text:
        if not _SHAPE.match(shape_text):
            raise _bad_synthetic(text, f"shape {shape_text!r} is not CxHxW")
        shape = tuple(int(v) for v in shape_text.split("x"))
        if len(shape) != 3:
            raise _bad_synthetic(text, f"shape {shape_text!r} has {len(shape)} dimensions, not 3")
        if min(shape) < 1:
            raise _bad_synthetic(text, f"shape {shape_text!r} has a zero dimension")
    num_classes = DEFAULT_NUM_CLASSES
    if len(parts) == 2:
        if not parts[1].isdigit() or int(parts[1]) < 1:
            raise _bad_synthetic(text, f"class count {parts[1]!r} is not a positive integer")
        num_classes = int(parts[1])
    return DataSpec(text, scheme, shape=shape, num_classes=num_classes)


def load_dataset(
    spec: str | DataSpec,
    *,
    split: str = "train",
    image_size: int | Sequence[int] | None = None,
    normalize: bool = True,
    synthetic_size: int = 1024,
) -> ImageDataset:
    """Load the dataset a spec string names.

    Args:
        spec: ``cifar10:DIR``, ``cifar100:DIR``, ``images:DIR``, ``synthetic`` or
            ``synthetic:CxHxW[:K]`` (or a parsed :class:`DataSpec`).
        split: ``"train"``, ``"test"`` or ``"all"`` (image folders: also ``"val"`` when
            present; a folder without split sub-folders is ``"train"``).
        image_size: Resize images of ``images:`` specs (``int`` or ``(height, width)``).
        normalize: Apply the dataset's standard mean/std (CIFAR statistics for CIFAR,
            ImageNet statistics for image folders); synthetic data is never normalised.
        synthetic_size: Number of samples of a ``synthetic`` dataset.

    Raises:
        UnknownNameError: Unknown scheme.
        DataError: Malformed spec, missing or malformed data.
    """
    parsed = spec if isinstance(spec, DataSpec) else parse_spec(spec)
    loader = DATA_SOURCES.get(parsed.scheme)
    return loader(
        parsed,
        split=split,
        image_size=image_size,
        normalize=normalize,
        synthetic_size=synthetic_size,
    )


def load_batch(
    spec: str | DataSpec,
    batch_size: int = 64,
    seed: int = 0,
    split: str = "train",
    *,
    image_size: int | Sequence[int] | None = None,
    normalize: bool = True,
) -> Batch:
    """One batch drawn reproducibly from the data a spec names.

    File-backed data: ``load_dataset(spec, split=split).sample_batch(batch_size, seed)``
    (image folders decode only the drawn images). Synthetic data: ``batch_size`` fresh
    samples generated from ``seed``. :attr:`Batch.source` records spec, split, seed and size,
    e.g. ``"cifar10:/data split=train seed=0 n=64"``.

    Raises:
        UnknownNameError: Unknown scheme.
        DataError: Malformed spec, missing or malformed data, or a bad batch size.
    """
    parsed = spec if isinstance(spec, DataSpec) else parse_spec(spec)
    if parsed.scheme == "synthetic":
        _check_no_image_size(parsed, image_size)
        batch = synthetic_batch(
            batch_size,
            parsed.shape or DEFAULT_SHAPE,
            parsed.num_classes or DEFAULT_NUM_CLASSES,
            seed=seed,
            split=split,
        )
        return Batch(
            batch.inputs,
            batch.targets,
            batch.num_classes,
            f"{parsed.text} split={split} seed={seed} n={len(batch)}",
        )
    dataset = load_dataset(parsed, split=split, image_size=image_size, normalize=normalize)
    return dataset.sample_batch(batch_size, seed)
