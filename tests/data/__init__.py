"""Helpers that write tiny fake datasets in the official on-disk formats."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import numpy as np

CIFAR10_NAMES = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
]


def _encode(obj: Any, out: bytearray, *, bytes_as_py3: bool) -> None:
    """Emit protocol-2 opcodes the way Python 2's cPickle wrote the CIFAR files."""
    if isinstance(obj, dict):
        out += b"}"
        if obj:
            out += b"("
            for key, value in obj.items():
                _encode(key, out, bytes_as_py3=bytes_as_py3)
                _encode(value, out, bytes_as_py3=bytes_as_py3)
            out += b"u"
    elif isinstance(obj, list):
        out += b"]"
        if obj:
            out += b"("
            for item in obj:
                _encode(item, out, bytes_as_py3=bytes_as_py3)
            out += b"e"
    elif isinstance(obj, tuple):
        out += b"("
        for item in obj:
            _encode(item, out, bytes_as_py3=bytes_as_py3)
        out += b"t"
    elif obj is None:
        out += b"N"
    elif isinstance(obj, bool):
        out += b"\x88" if obj else b"\x89"
    elif isinstance(obj, (int, np.integer)):
        value = int(obj)
        if 0 <= value < 256:
            out += b"K" + bytes([value])
        elif 0 <= value < 65536:
            out += b"M" + struct.pack("<H", value)
        else:
            out += b"J" + struct.pack("<i", value)
    elif isinstance(obj, str) or (isinstance(obj, bytes) and not bytes_as_py3):
        raw = obj.encode("latin1") if isinstance(obj, str) else obj  # a Python 2 str
        if len(raw) < 256:
            out += b"U" + bytes([len(raw)]) + raw
        else:
            out += b"T" + struct.pack("<I", len(raw)) + raw
    elif isinstance(obj, bytes):  # Python 3 bytes (protocol 3 opcode)
        out += b"B" + struct.pack("<I", len(obj)) + obj
    elif isinstance(obj, np.ndarray):
        arr = np.ascontiguousarray(obj)
        # _reconstruct(ndarray, (0,), b"b"), then BUILD with the array state
        out += b"cnumpy.core.multiarray\n_reconstruct\n"
        out += b"(cnumpy\nndarray\n(K\x00tU\x01btR"
        out += b"(K\x01"
        _encode(tuple(arr.shape), out, bytes_as_py3=False)
        out += b"cnumpy\ndtype\n"
        kind = f"{arr.dtype.kind}{arr.dtype.itemsize}"
        _encode((kind, 0, 1), out, bytes_as_py3=False)
        out += b"R"
        _encode((3, arr.dtype.str[0], None, None, None, -1, -1, 0), out, bytes_as_py3=False)
        out += b"b\x89"
        _encode(arr.tobytes(), out, bytes_as_py3=False)
        out += b"tb"
    else:  # pragma: no cover - helper misuse
        raise TypeError(f"cannot encode {type(obj).__name__}")


def py2_pickle(obj: Any, *, bytes_as_py3: bool = False) -> bytes:
    """``obj`` as a Python 2 cPickle protocol-2 stream (str as SHORT_BINSTRING/BINSTRING).

    With ``bytes_as_py3``, ``bytes`` objects become Python 3 ``BINBYTES`` (protocol 3), so
    they unpickle as ``bytes`` whatever the encoding.
    """
    out = bytearray(b"\x80\x02")
    _encode(obj, out, bytes_as_py3=bytes_as_py3)
    out += b"."
    return bytes(out)


def fake_images(n: int, seed: int) -> np.ndarray:
    """``(n, 3, 32, 32)`` uint8 random images."""
    return np.random.default_rng(seed).integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8)


def make_cifar10(
    root: Path, sizes: tuple[int, ...] = (7, 5, 6, 5, 4), test_size: int = 9, seed: int = 0
) -> dict[str, Any]:
    """Write ``root/cifar-10-batches-py`` with small batches; return what was written."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    written: dict[str, Any] = {"folder": folder, "train_x": [], "train_y": []}
    for i, n in enumerate(sizes, start=1):
        x = fake_images(n, seed + i)
        y = [int(v) for v in rng.integers(0, 10, size=n)]
        batch = {"batch_label": f"training batch {i} of 5", "labels": y, "data": x.reshape(n, -1)}
        (folder / f"data_batch_{i}").write_bytes(py2_pickle(batch))
        written["train_x"].append(x)
        written["train_y"].extend(y)
    x = fake_images(test_size, seed + 100)
    y = [int(v) for v in rng.integers(0, 10, size=test_size)]
    batch = {"batch_label": "testing batch 1 of 1", "labels": y, "data": x.reshape(test_size, -1)}
    (folder / "test_batch").write_bytes(py2_pickle(batch))
    meta = {"label_names": CIFAR10_NAMES, "num_cases_per_batch": 10000, "num_vis": 3072}
    (folder / "batches.meta").write_bytes(py2_pickle(meta))
    written["train_x"] = np.concatenate(written["train_x"])
    written["train_y"] = np.asarray(written["train_y"])
    written["test_x"], written["test_y"] = x, np.asarray(y)
    return written


def make_cifar100(root: Path, train_size: int = 12, test_size: int = 5) -> Path:
    """Write ``root/cifar-100-python`` with small train/test files; return the folder."""
    folder = root / "cifar-100-python"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(3)
    for name, n in (("train", train_size), ("test", test_size)):
        fine = [int(v) for v in rng.integers(0, 100, size=n)]
        batch = {
            "filenames": [f"img_{i}.png" for i in range(n)],
            "batch_label": f"{name} batch",
            "fine_labels": fine,
            "coarse_labels": [v // 5 for v in fine],
            "data": fake_images(n, n).reshape(n, -1),
        }
        (folder / name).write_bytes(py2_pickle(batch))
    meta = {
        "fine_label_names": [f"fine_{i:02d}" for i in range(100)],
        "coarse_label_names": [f"coarse_{i:02d}" for i in range(20)],
    }
    (folder / "meta").write_bytes(py2_pickle(meta))
    return folder


def make_image_folder(
    root: Path,
    counts: dict[str, int],
    *,
    size: tuple[int, int] = (8, 6),
    fmt: str = "png",
    seed: int = 0,
) -> dict[str, list[np.ndarray]]:
    """Write ``root/<class>/<i>.<fmt>`` RGB images of ``size`` = (height, width)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    pixels: dict[str, list[np.ndarray]] = {}
    for name, count in counts.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        pixels[name] = []
        for i in range(count):
            hwc = rng.integers(0, 256, size=(*size, 3), dtype=np.uint8)
            Image.fromarray(hwc, "RGB").save(root / name / f"{i:04d}.{fmt}")
            pixels[name].append(hwc.transpose(2, 0, 1))
    return pixels
