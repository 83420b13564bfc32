"""Image folders: one sub-folder per class, images decoded lazily with Pillow.

Layout (the torchvision ``ImageFolder`` convention)::

    DIR/<class>/<image>.jpg            one split
    DIR/train/<class>/<image>.png      splits: train/ and test/ (and val/ if present)
    DIR/test/<class>/<image>.png

Class order (= label index) is the sorted folder names. Listing only reads directory
entries, so tens of thousands of files are indexed in well under a second; images are
decoded on demand (a batch at a time) or all at once with
:meth:`~nasrank.data.ImageDataset.materialize`; images larger than 64x64 pixels are decoded
by a thread pool (Pillow releases the GIL while decoding), small ones in the calling thread,
where threads measured slower. Every image is converted to RGB. Without
``image_size`` all images must share the size of the first one; with it, each is resized
(bilinear) to ``image_size``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from nasrank.data.dataset import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    ImageDataset,
    ImageFiles,
    concat_datasets,
)
from nasrank.errors import DataError

__all__ = ["IMAGE_EXTENSIONS", "load_image_folder", "index_image_folder", "split_folders"]

logger = logging.getLogger(__name__)

#: File extensions (lower case) treated as images.
IMAGE_EXTENSIONS: tuple[str, ...] = (
    ".jpg",
    ".jpeg",
    ".png",
    ".bmp",
    ".gif",
    ".ppm",
    ".pgm",
    ".tif",
    ".tiff",
    ".webp",
)
_SPLIT_NAMES = ("train", "val", "test")
_SMALL_IMAGE_PIXELS = 64 * 64


def _image_size(image_size: int | Sequence[int] | None) -> tuple[int, int] | None:
    """``image_size`` as ``(height, width)``."""
    if image_size is None:
        return None
    if isinstance(image_size, (int, np.integer)) and not isinstance(image_size, bool):
        size = (int(image_size), int(image_size))
    elif (
        isinstance(image_size, Sequence)
        and len(image_size) == 2
        and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in image_size)
    ):
        size = (int(image_size[0]), int(image_size[1]))
    else:
        raise DataError(
            f"image_size must be an integer or a (height, width) pair, got {image_size!r}"
        )
    if min(size) < 1:
        raise DataError(f"image_size must be positive, got {image_size!r}")
    return size


class _PILDecoder:
    """Decode one image file to a ``(3, H, W)`` ``uint8`` array (picklable, thread-safe)."""

    def __init__(
        self, size: tuple[int, int] | None, expected: tuple[int, int], reference: str
    ) -> None:
        self.size = size  # (h, w) to resize to, or None
        self.expected = expected  # (h, w) every image must have when size is None
        self.reference = reference

    def __call__(self, path: str) -> np.ndarray:
        from PIL import Image

        try:
            with Image.open(path) as img:
                if self.size is not None:
                    height, width = self.size
                    if img.format == "JPEG":  # let the decoder downscale large JPEGs
                        img.draft("RGB", (width, height))
                    rgb = img.convert("RGB")
                    if rgb.size != (width, height):
                        rgb = rgb.resize((width, height), Image.Resampling.BILINEAR)
                else:
                    img.load()
                    rgb = img if img.mode == "RGB" else img.convert("RGB")
                size = (rgb.height, rgb.width)
                array = np.asarray(rgb, dtype=np.uint8)
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
            raise DataError(
                f"cannot read image {path} ({type(exc).__name__}: {exc}); remove or replace "
                "the file"
            ) from exc
        if self.size is None and size != self.expected:
            h, w = self.expected
            raise DataError(
                f"image {path} is {size[1]}x{size[0]} (WxH) but {self.reference} is "
                f"{w}x{h}; all images must share one size: pass image_size=... to resize them"
            )
        return array.transpose(2, 0, 1)


def split_folders(root: str | Path) -> dict[str, Path] | None:
    """The split folders of ``root`` when it has ``train/`` and ``test/``, else ``None``."""
    path = Path(root)
    with os.scandir(path) as entries:
        subdirs = {e.name for e in entries if e.is_dir() and not e.name.startswith(".")}
    if "train" in subdirs and "test" in subdirs:
        return {name: path / name for name in _SPLIT_NAMES if name in subdirs}
    return None


def _walk_images(folder: str, extensions: tuple[str, ...]) -> Iterable[str]:
    stack = [folder]
    while stack:
        current = stack.pop()
        with os.scandir(current) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                if entry.is_dir():
                    stack.append(entry.path)
                elif os.path.splitext(entry.name)[1].lower() in extensions:
                    yield entry.path


def index_image_folder(
    folder: str | Path, *, extensions: Sequence[str] = IMAGE_EXTENSIONS
) -> tuple[list[str], np.ndarray, tuple[str, ...]]:
    """List the images of a class-per-folder directory without decoding them.

    Args:
        folder: A folder holding one sub-folder per class (searched recursively).
        extensions: Lower-case file extensions that count as images.

    Returns:
        ``(paths, labels, classes)``: file paths sorted by class then name, their ``int64``
        labels, and the sorted class names.

    Raises:
        DataError: The folder is missing, has no class sub-folders, or a class folder holds
            no images.
    """
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise DataError(f"image folder {path} does not exist or is not a folder")
    exts = tuple(e.lower() for e in extensions)
    with os.scandir(path) as entries:
        listing = [e for e in entries if not e.name.startswith(".")]
    classes = tuple(sorted(e.name for e in listing if e.is_dir()))
    if not classes:
        loose = sum(os.path.splitext(e.name)[1].lower() in exts for e in listing)
        found = f"found {loose} images directly in it but " if loose else ""
        raise DataError(
            f"image folder {path}: {found}no class sub-folders; an image folder holds one "
            f"sub-folder per class: {path}/<class>/<image>.jpg"
        )
    paths: list[str] = []
    counts: list[int] = []
    for name in classes:
        files = sorted(_walk_images(str(path / name), exts))
        if not files:
            raise DataError(
                f"class folder {path / name} holds no images ({', '.join(exts)}); add images "
                "or remove the folder"
            )
        paths.extend(files)
        counts.append(len(files))
    labels = np.repeat(np.arange(len(classes), dtype=np.int64), counts)
    return paths, labels, classes


def _load_split(
    folder: Path,
    split: str,
    size: tuple[int, int] | None,
    mean: Sequence[float] | None,
    std: Sequence[float] | None,
    source: str,
    extensions: Sequence[str],
) -> ImageDataset:
    from PIL import Image

    paths, labels, classes = index_image_folder(folder, extensions=extensions)
    first = paths[0]
    try:
        with Image.open(first) as img:  # reads the header only
            source_size = (img.height, img.width)
    except (OSError, ValueError, SyntaxError) as exc:
        raise DataError(
            f"cannot read image {first} ({type(exc).__name__}: {exc}); remove or replace the file"
        ) from exc
    expected = source_size if size is None else size
    shape = (3, *expected)
    # Small images decode faster in one thread (Python overhead, not pixels, dominates).
    workers = 1 if source_size[0] * source_size[1] <= _SMALL_IMAGE_PIXELS else None
    decode = _PILDecoder(size, expected, first)
    logger.debug("indexed %d images in %d classes under %s", len(paths), len(classes), folder)
    return ImageDataset(
        ImageFiles(paths, decode, shape, workers),
        labels,
        classes=classes,
        split=split,
        source=source,
        mean=mean,
        std=std,
    )


def load_image_folder(
    root: str | Path,
    split: str = "train",
    *,
    image_size: int | Sequence[int] | None = None,
    normalize: bool = True,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
    extensions: Sequence[str] = IMAGE_EXTENSIONS,
    source: str | None = None,
) -> ImageDataset:
    """Index an image folder (one sub-folder per class) as a lazily decoded dataset.

    Args:
        root: ``DIR`` with ``DIR/<class>/*.jpg``, or with split folders ``DIR/train/<class>``,
            ``DIR/test/<class>`` (and optionally ``DIR/val/<class>``).
        split: With split folders, one of them or ``"all"`` (all concatenated; they must
            have the same classes). Without, ``DIR`` is the only split: ``"train"`` or
            ``"all"``.
        image_size: Resize every image to this size (``int`` or ``(height, width)``);
            ``None`` requires all images to share one size.
        normalize: Normalise batches with ``mean``/``std`` (default the ImageNet statistics
            :data:`~nasrank.data.IMAGENET_MEAN`/``IMAGENET_STD``); else only scale to ``[0, 1]``.
        mean: Per-channel mean overriding the ImageNet default (e.g. ``CIFAR10_MEAN``).
        std: Per-channel standard deviation overriding the ImageNet default.
        extensions: Lower-case file extensions that count as images.
        source: Provenance for batches (default ``"images:<root>"``).

    Returns:
        A lazy ``(3, H, W)`` ``uint8`` dataset; image errors (unreadable file, other size)
        surface as :class:`~nasrank.errors.DataError` naming the file when it is decoded.

    Raises:
        DataError: Missing folder, no class sub-folders, an empty class folder, an unknown
            split, or an unreadable first image.
    """
    path = Path(root).expanduser()
    if not path.is_dir():
        raise DataError(f"image folder {path} does not exist or is not a folder")
    size = _image_size(image_size)
    source = f"images:{root}" if source is None else source
    if normalize or mean is not None or std is not None:
        mean = IMAGENET_MEAN if mean is None else mean
        std = IMAGENET_STD if std is None else std
    else:
        mean = std = None
    splits = split_folders(path)
    if splits is None:
        if split not in ("train", "all"):
            raise DataError(
                f"image folder {path} has no train/ and test/ sub-folders, so it is a single "
                f"split; split {split!r} does not exist: use split='train' (or 'all')"
            )
        return _load_split(path, split, size, mean, std, source, extensions)
    if split == "all":
        parts = [
            _load_split(folder, name, size, mean, std, source, extensions)
            for name, folder in splits.items()
        ]
        first = parts[0]
        for part in parts[1:]:
            if part.classes != first.classes:
                raise DataError(
                    f"cannot combine the splits of {path}: {part.split}/ has classes "
                    f"{list(part.classes or ())} but {first.split}/ has "
                    f"{list(first.classes or ())}"
                )
            if part.sample_shape != first.sample_shape:
                raise DataError(
                    f"the splits of {path} have different image sizes ({first.split}/: "
                    f"{first.sample_shape}, {part.split}/: {part.sample_shape}); pass "
                    "image_size=... to resize them"
                )
        return concat_datasets(parts, split="all", source=source)
    if split not in splits:
        raise DataError(
            f"image folder {path} has no split {split!r}; choose one of "
            f"{', '.join([*splits, 'all'])}"
        )
    return _load_split(splits[split], split, size, mean, std, source, extensions)
