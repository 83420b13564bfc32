"""Shared helper of the BANANAS path encodings of the cell spaces."""

from __future__ import annotations

import itertools
from functools import cache

__all__ = ["sequence_index"]


@cache
def sequence_index(
    alphabet: tuple[str, ...], lengths: tuple[int, ...]
) -> dict[tuple[str, ...], int]:
    """Position of every op sequence over ``alphabet`` of the given ``lengths``: shorter
    sequences first, then :func:`itertools.product` order (the path encoding's columns)."""
    seqs = [s for n in lengths for s in itertools.product(alphabet, repeat=n)]
    return {s: i for i, s in enumerate(seqs)}
