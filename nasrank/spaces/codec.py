"""The type of a finite space's dense integer index (compact row keys of proxy tables)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["IndexCodec"]


@dataclass(frozen=True)
class IndexCodec:
    """A bijection between a finite space's canonical ids and ``0 .. size - 1``.

    A space with a natural index returns one from
    :attr:`~nasrank.spaces.SearchSpace.index_codec`; proxy tables of that space store
    their rows as these integers instead of id strings.

    Attributes:
        space: The space's name.
        size: Number of architectures.
        description: How the index is formed (written into a table's metadata).
        to_index: Canonical id -> index (raises ``ValueError`` on a foreign id).
        to_arch: Index -> canonical id.
    """

    space: str
    size: int
    description: str
    to_index: Callable[[str], int]
    to_arch: Callable[[int], str]
