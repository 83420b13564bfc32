"""The type of a space's own architecture encodings (one-hot, adjacency, path)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

__all__ = ["SpaceEncoding", "indexed_names"]


@dataclass(frozen=True)
class SpaceEncoding:
    """A fixed-length vector encoding of one space's architectures.

    A space lists its encodings in :attr:`~nasrank.spaces.SearchSpace.encodings`;
    :meth:`~nasrank.spaces.SearchSpace.encode` and
    :meth:`~nasrank.spaces.SearchSpace.encoding_names` look them up by name.

    Attributes:
        name: The encoding's name (``"onehot"``, ``"onehot-pruned"``, ``"path"``).
        encode: Architecture (any spelling the space accepts) -> 1-D float vector.
        names: () -> the vector's column names, one per entry, in order.
    """

    name: str
    encode: Callable[[Any], np.ndarray]
    names: Callable[[], list[str]]


def indexed_names(name: str, space: str, width: int) -> list[str]:
    """Column names ``name:space:index`` of an encoding without readable columns."""
    return [f"{name}:{space}:{i}" for i in range(width)]
