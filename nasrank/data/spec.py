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
``graph[:N[:F[:K]]]``      one seeded random graph: ``N`` nodes (2708), ``F`` features (1433),
                           ``K`` classes (7), edges in ``extras["edge_index"]``; see
                           :mod:`nasrank.data.graph`
``graph:PATH``             the graph in an ``.npz`` with ``x`` (N, F), ``edge_index`` (2, E),
                           ``y`` (N,) and optionally ``num_classes``
=========================  ==============================================================

Only the first ``:`` separates scheme and argument, so Windows paths (``images:C:\\data``)
work. ``~`` in a directory expands to the home folder. A ``graph:`` argument of one to
three integers is a synthetic size, anything else a path (write ``graph:./123`` for a
file named ``123``).

Every scheme has a *kind* (:data:`SCHEME_KINDS`: ``images``, ``tokens`` or ``graph``). A
search space names the data its models take in its ``default_data`` spec, and
:func:`resolve_data` fits a requested spec to it: no spec gives the default, a bare or
partial spec of the default's kind is completed from it (``tokens`` for NAS-Bench-BERT is
``tokens:30522:128:2``), and a spec the models cannot take (another kind, more token ids
than the embedding holds, images with another channel count) raises a one-line
:class:`~nasrank.errors.DataError` saying what the space takes -- before any model is
built.

A graph spec is one whole graph: :func:`load_batch` returns all of it (``batch_size`` does
not subsample nodes), and :func:`load_dataset` refuses it (there is no dataset of graph
samples to train on).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import numpy as np

from nasrank.data.batch import Batch
from nasrank.data.cifar import load_cifar10, load_cifar100
from nasrank.data.dataset import ImageDataset
from nasrank.data.folder import load_image_folder
from nasrank.data.graph import DEFAULT_GRAPH_SIZE, load_graph, synthetic_graph
from nasrank.data.synthetic import (
    DEFAULT_NUM_CLASSES,
    DEFAULT_SHAPE,
    max_generated_samples,
    synthetic_batch,
    synthetic_dataset,
)
from nasrank.data.tokens import DEFAULT_SEQ_LEN, DEFAULT_VOCAB, token_dataset
from nasrank.errors import DataError, UnknownNameError
from nasrank.registry import Registry

__all__ = [
    "DataSpec",
    "DATA_SOURCES",
    "SCHEME_KINDS",
    "DataDefaults",
    "parse_spec",
    "resolve_data",
    "load_dataset",
    "load_batch",
    "max_samples",
]

_SHAPE = re.compile(r"^\d+(x\d+)*$")
_GRAPH_SIZE = re.compile(r"^\s*\d+\s*(:\s*\d+\s*){0,2}$")


@dataclass(frozen=True)
class DataSpec:
    """A parsed data spec.

    Attributes:
        text: The spec as written.
        scheme: The part before the first ``:`` (``cifar10``, ``images``, ``synthetic`` ...).
        path: The directory for file-backed schemes (the file for ``graph:PATH``), else
            ``None``.
        shape: Sample shape for ``synthetic``; ``(vocab_size, seq_len)`` for ``tokens``;
            ``(num_nodes, num_features)`` for a synthetic ``graph``.
        num_classes: Number of classes for ``synthetic``, ``tokens`` and a synthetic
            ``graph``, else ``None``.
    """

    text: str
    scheme: str
    path: Path | None = None
    shape: tuple[int, ...] | None = None
    num_classes: int | None = None

    @property
    def kind(self) -> str:
        """What the data is: ``"images"``, ``"tokens"`` or ``"graph"`` (see
        :data:`SCHEME_KINDS`; a scheme registered without a kind is its own kind)."""
        return SCHEME_KINDS.get(self.scheme, self.scheme)


_Loader = Callable[..., ImageDataset]

#: Data spec schemes -> loader ``(spec, *, split, image_size, normalize, synthetic_size)``.
DATA_SOURCES: Registry[_Loader] = Registry("data scheme")
#: Data spec schemes -> the kind of data they give; models of a space take one kind.
SCHEME_KINDS: dict[str, str] = {
    "cifar10": "images",
    "cifar100": "images",
    "images": "images",
    "synthetic": "images",
    "tokens": "tokens",
    "graph": "graph",
}
#: The spec forms of each kind, for error messages.
_KIND_FORMS: dict[str, str] = {
    "images": "cifar10:DIR, cifar100:DIR, images:DIR or synthetic[:CxHxW[:K]]",
    "tokens": "tokens[:VOCAB[:SEQ_LEN[:CLASSES]]]",
    "graph": "graph[:NODES[:FEATURES[:CLASSES]]] or graph:PATH.npz",
}
_KIND_WORDS: dict[str, str] = {"images": "images", "tokens": "token ids", "graph": "a graph"}
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


@DATA_SOURCES.register("graph")
def _graph(
    spec: DataSpec, *, split: str, image_size: object, normalize: bool, synthetic_size: int
) -> ImageDataset:
    raise DataError(
        f"data spec {spec.text!r} is one graph, not a dataset of samples: load_batch gives "
        "the whole graph as one batch (for proxies); training on graph data is not supported"
    )


def _parse_graph(text: str, argument: str) -> DataSpec:
    if argument.strip() and not _GRAPH_SIZE.match(argument):
        return DataSpec(text, "graph", path=Path(argument.strip()).expanduser())
    fields = [int(f) for f in argument.split(":")] if argument.strip() else []
    if any(f < 1 for f in fields):
        raise DataError(
            f"bad graph spec {text!r}: sizes must be positive; expected graph, "
            "graph:NODES[:FEATURES[:CLASSES]] or graph:PATH.npz, e.g. graph:2708:1433:7"
        )
    n, f, k = (*fields, *DEFAULT_GRAPH_SIZE[len(fields) :])
    return DataSpec(text, "graph", shape=(n, f), num_classes=k)


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


#: Most classes a spec may ask for (a classifier's last layer stays in memory).
MAX_CLASSES = 1_000_000
#: Largest size of one dimension a spec may ask for (nodes, vocabulary, pixels ...).
MAX_DIMENSION = 2**31 - 1


def parse_spec(spec: str) -> DataSpec:
    """Parse a data spec string (see the module docstring for the forms).

    Raises:
        UnknownNameError: Unknown scheme; the message lists the choices and the closest one.
        DataError: Empty spec, a missing directory, a malformed synthetic shape, or sizes
            over :data:`MAX_CLASSES` / :data:`MAX_DIMENSION`.
    """
    parsed = _parse(spec)
    if parsed.num_classes is not None and parsed.num_classes > MAX_CLASSES:
        raise DataError(
            f"data spec {parsed.text!r} asks for {parsed.num_classes:,} classes; at most "
            f"{MAX_CLASSES:,}"
        )
    if parsed.shape is not None and max(parsed.shape) > MAX_DIMENSION:
        raise DataError(
            f"data spec {parsed.text!r} has a size over {MAX_DIMENSION:,}: {parsed.shape}"
        )
    return parsed


def _parse(spec: str) -> DataSpec:
    if not isinstance(spec, str):
        raise DataError(f"a data spec must be a string like 'cifar10:DIR', got {spec!r}")
    text = spec.strip()
    if not text:
        raise DataError(
            "empty data spec; use cifar10:DIR, cifar100:DIR, images:DIR, synthetic[:CxHxW[:K]], "
            "tokens[:VOCAB[:SEQ_LEN[:CLASSES]]] or graph[:N:F:K]"
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
    if scheme == "graph":
        return _parse_graph(text, argument)
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


class DataDefaults(Protocol):
    """What :func:`resolve_data` reads of a search space (any object with these)."""

    @property
    def name(self) -> str:
        """The space's name, for messages."""
        ...

    @property
    def default_data(self) -> str:
        """The data spec its models take when none is given; its kind is the kind they
        take."""
        ...


def resolve_data(space: DataDefaults, text: str | None) -> str:
    """The data spec ``space``'s models are scored on when ``text`` is requested.

    ``None`` gives the space's ``default_data``. Otherwise the spec must be of the
    default's kind (:attr:`DataSpec.kind`); a bare or partial spec is completed from the
    default (``tokens`` -> ``tokens:VOCAB:SEQ_LEN:CLASSES`` of the default, ``graph`` ->
    the default graph's sizes, ``synthetic`` -> the default's shape). Per kind:

    * ``tokens``: the vocabulary may not exceed the default's (ids index the model's
      embedding), nor the length the space's ``max_seq_len`` attribute, when it has one;
    * ``images``: the channel count must be the default's (3 for CIFAR and image folders);
    * ``graph``: any size (a graph space builds its input and output layers to fit).

    Only the spec text is checked (no file is opened), so this is cheap enough to run
    before any other work.

    Returns:
        The spec to load, e.g. ``"tokens:30522:128:2"``.

    Raises:
        UnknownNameError: Unknown scheme.
        DataError: A malformed spec, or one the space's models cannot take; one line that
            says what the space takes.
    """
    default = parse_spec(space.default_data)
    if text is None:
        return default.text
    spec = parse_spec(text)
    if spec.kind != default.kind:
        forms = _KIND_FORMS.get(default.kind, f"{default.scheme} specs")
        raise DataError(
            f"space {space.name!r} takes {_KIND_WORDS.get(default.kind, default.kind)} "
            f"({forms}; default {default.text}), not "
            f"{_KIND_WORDS.get(spec.kind, spec.kind)} ({spec.text!r})"
        )
    if spec.kind == "tokens":
        return _fit_tokens(spec, default, space)
    if spec.kind == "graph":
        return _fit_graph(spec, default)
    if spec.kind == "images":
        return _fit_images(spec, default, space)
    return spec.text


def _given(spec: DataSpec) -> int:
    """How many ``:``-separated fields the spec's argument writes out."""
    argument = spec.text.partition(":")[2].strip()
    return len(argument.split(":")) if argument else 0


def _fit_tokens(spec: DataSpec, default: DataSpec, space: DataDefaults) -> str:
    assert spec.shape is not None and default.shape is not None
    given = _given(spec)
    written = (*spec.shape, spec.num_classes or 2)
    ours = (*default.shape, default.num_classes or 2)
    vocab, seq_len, classes = written[:given] + ours[given:]
    if vocab > default.shape[0]:
        raise DataError(
            f"space {space.name!r} takes token ids below its vocabulary of {default.shape[0]}; "
            f"data spec {spec.text!r} has vocabulary {vocab} (write tokens:VOCAB with "
            f"VOCAB <= {default.shape[0]}; default {default.text})"
        )
    max_len = getattr(space, "max_seq_len", None)
    if max_len is not None and seq_len > max_len:
        raise DataError(
            f"space {space.name!r} takes sequences of at most {max_len} tokens; data spec "
            f"{spec.text!r} has length {seq_len} (default {default.text})"
        )
    return spec.text if given == 3 else f"tokens:{vocab}:{seq_len}:{classes}"


def _fit_graph(spec: DataSpec, default: DataSpec) -> str:
    if spec.path is not None:
        return spec.text
    assert spec.shape is not None
    given = _given(spec)
    ours = (*default.shape, default.num_classes) if default.shape else DEFAULT_GRAPH_SIZE
    n, f, k = (*spec.shape, spec.num_classes)[:given] + tuple(ours)[given:]
    return spec.text if given == 3 else f"graph:{n}:{f}:{k}"


def _channels(spec: DataSpec) -> int | None:
    if spec.scheme == "synthetic":
        return (spec.shape or DEFAULT_SHAPE)[0]
    return 3 if spec.scheme in _FILE_SCHEMES else None  # CIFAR; folders convert to RGB


def _fit_images(spec: DataSpec, default: DataSpec, space: DataDefaults) -> str:
    if spec.scheme == default.scheme == "synthetic" and not _given(spec):
        return default.text  # bare synthetic: the default's shape and classes
    ours, theirs = _channels(default), _channels(spec)
    if ours is not None and theirs is not None and ours != theirs:
        raise DataError(
            f"space {space.name!r} takes {ours}-channel images; data spec {spec.text!r} has "
            f"{theirs} channel(s) (default {default.text})"
        )
    return spec.text


def max_samples(spec: str | DataSpec) -> int | None:
    """The most samples one split of a spec's dataset can have, when the spec alone tells:
    generated data (``synthetic``, ``tokens``) holds at most
    :data:`~nasrank.data.synthetic.MAX_GENERATED_BYTES` (e.g. 349,525 images of
    ``3x32x32``); ``None`` for data read from files (known once read) and graphs."""
    parsed = spec if isinstance(spec, DataSpec) else parse_spec(spec)
    if parsed.scheme == "synthetic":
        shape = parsed.shape or DEFAULT_SHAPE
        return max_generated_samples(4 * int(np.prod(shape)))
    if parsed.scheme == "tokens":
        seq_len = (parsed.shape or (DEFAULT_VOCAB, DEFAULT_SEQ_LEN))[1]
        return max_generated_samples(8 * seq_len)
    return None


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
    samples generated from ``seed``. Graph data (``graph...``): the whole graph, whatever
    ``batch_size`` (its nodes are the samples; a synthetic graph is drawn from ``seed``),
    with ``extras["edge_index"]``. :attr:`Batch.source` records spec, split, seed and size,
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
    if parsed.scheme == "graph":
        _check_no_image_size(parsed, image_size)
        if parsed.path is not None:
            graph = load_graph(parsed.path)
            return replace(graph, source=f"{parsed.text} n={len(graph)}")
        assert parsed.shape is not None and parsed.num_classes is not None
        n, f = parsed.shape
        return synthetic_graph(
            n,
            f,
            parsed.num_classes,
            seed=seed,
            split=split,
            source=f"{parsed.text} split={split} seed={seed} n={n}",
        )
    dataset = load_dataset(parsed, split=split, image_size=image_size, normalize=normalize)
    return dataset.sample_batch(batch_size, seed)
