"""Restricted unpickling: the default unpickler never touches a file.

Pickle can run arbitrary code while loading. Formats nasrank reads that happen to be
pickles (CIFAR python batches, the analog-nasbench and NAS-Bench-Graph tables) are read
with :func:`restricted_load`, which resolves only the globals the caller allows.
"""

from __future__ import annotations

import codecs
import pickle
from collections.abc import Callable, Mapping
from typing import IO, Any

import numpy as np

__all__ = ["NUMPY_GLOBALS", "restricted_load"]


def _numpy_reconstruct() -> Callable[..., Any]:
    from numpy.core.multiarray import _reconstruct  # type: ignore[attr-defined]

    return _reconstruct


def _numpy_scalar() -> Callable[..., Any]:
    try:
        from numpy._core.multiarray import scalar  # type: ignore[attr-defined]
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import scalar  # type: ignore[attr-defined,no-redef]
    return scalar


def _lazy_numpy_globals() -> dict[tuple[str, str], Any]:
    import warnings

    with warnings.catch_warnings():  # numpy 2 warns on the numpy.core alias
        warnings.simplefilter("ignore", DeprecationWarning)
        reconstruct = _numpy_reconstruct()
        scalar = _numpy_scalar()
    table: dict[tuple[str, str], Any] = {}
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        table[(module, "_reconstruct")] = reconstruct
        table[(module, "scalar")] = scalar
    table[("numpy", "ndarray")] = np.ndarray
    table[("numpy", "dtype")] = np.dtype
    # Python 3 writes bytes in protocol-2 pickles as _codecs.encode(text, "latin1"): inert.
    table[("_codecs", "encode")] = codecs.encode
    return table


#: Names allowed for plain numpy arrays/scalars (numpy 1 and 2 spellings).
NUMPY_GLOBALS: tuple[tuple[str, str], ...] = (
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),
)


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file: IO[bytes], allowed: Mapping[tuple[str, str], Any], **kw: Any):
        super().__init__(file, **kw)
        self._allowed = allowed

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing to load global {module}.{name}: not part of this file format"
            ) from None


def restricted_load(
    file: IO[bytes],
    *,
    numpy: bool = True,
    extra: Mapping[tuple[str, str], Any] | None = None,
    encoding: str = "ASCII",
) -> Any:
    """Unpickle ``file`` admitting only numpy array reconstruction and ``extra`` globals.

    Args:
        file: Binary file object.
        numpy: Allow the numpy globals needed for arrays, dtypes and scalars.
        extra: Additional ``(module, name) -> object`` mappings the format needs.
        encoding: Passed to :class:`pickle.Unpickler` (``"latin1"`` or ``"bytes"`` for
            Python 2 pickles such as the CIFAR batches).

    Raises:
        pickle.UnpicklingError: The stream is corrupt or names a disallowed global.
    """
    allowed: dict[tuple[str, str], Any] = _lazy_numpy_globals() if numpy else {}
    if extra:
        allowed.update(extra)
    return _RestrictedUnpickler(file, allowed, encoding=encoding).load()
