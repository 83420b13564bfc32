"""NAS-Bench-301's (DARTS') own encodings: one-hot genotype and BANANAS paths.

* ``onehot``: per cell and edge, a one-hot op (:data:`~nasrank.spaces.nb301.OPS`, 7) and a
  one-hot input (5) -- 2 x 8 x 12 = 192 values.
* ``path``: BANANAS' path encoding (White, Neiswanger & Savani, "BANANAS: Bayesian
  Optimization with Neural Architectures for Neural Architecture Search", AAAI 2021):
  per cell, per cell input (0, 1), one count per sequence of 1-4 ops over the seven ops
  that reaches the cell output (2 x 2 x 2,800 = 11,200).

The space passes in its vocabulary and parser (:func:`make_encodings`), so this module
does not import the space's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np

from nasrank.spaces._paths import sequence_index
from nasrank.spaces.encoding import SpaceEncoding, indexed_names

__all__ = ["make_encodings"]

_PATH_LENGTHS: tuple[int, ...] = (1, 2, 3, 4)
#: (normal, reduce), each eight ``(op, input)`` pairs (``nasrank.spaces.nb301.DartsGenotype``).
Cells = tuple[Sequence[tuple[str, int]], Sequence[tuple[str, int]]]


def _onehot(cells: Cells, vocab: Sequence[str], num_nodes: int) -> np.ndarray:
    """``(2 x 8 x (7 + 5),) = (192,)``: per cell and edge, one-hot op and one-hot input."""
    width = len(vocab) + num_nodes + 1
    out = np.zeros(2 * 2 * num_nodes * width)
    for c, cell in enumerate(cells):
        for k, (op, src) in enumerate(cell):
            base = (c * 2 * num_nodes + k) * width
            out[base + vocab.index(op)] = 1.0
            out[base + len(vocab) + src] = 1.0
    return out


def _paths(
    cells: Cells, vocab: tuple[str, ...], num_nodes: int, concat: Sequence[int]
) -> np.ndarray:
    """``(11200,)`` counts of the op sequences from each cell input to the cell output."""
    index = sequence_index(vocab, _PATH_LENGTHS)
    per_input = len(index)
    out = np.zeros(2 * 2 * per_input)
    for c, cell in enumerate(cells):
        # reach[node] = list of (cell input, op sequence) reaching that node
        reach: dict[int, list[tuple[int, tuple[str, ...]]]] = {0: [(0, ())], 1: [(1, ())]}
        for node in range(2, 2 + num_nodes):
            reach[node] = []
            for op, src in cell[2 * (node - 2) : 2 * (node - 2) + 2]:
                reach[node].extend((start, seq + (op,)) for start, seq in reach[src])
        for node in concat:
            for start, seq in reach[node]:
                out[(c * 2 + start) * per_input + index[seq]] += 1
    return out


def make_encodings(
    cells_of: Callable[[Any], Cells],
    vocab: tuple[str, ...],
    num_nodes: int,
    concat: Sequence[int],
) -> Mapping[str, SpaceEncoding]:
    """The encodings of :attr:`NB301Space.encodings`.

    Args:
        cells_of: Any accepted spelling -> its (normal, reduce) cells.
        vocab: The op vocabulary (``OPS``).
        num_nodes: Intermediate nodes per cell (``NUM_NODES``).
        concat: The nodes the cell output concatenates (``CONCAT``).
    """
    onehot_width = 2 * 2 * num_nodes * (len(vocab) + num_nodes + 1)
    path_width = 2 * 2 * len(sequence_index(vocab, _PATH_LENGTHS))

    def encoding(name: str, encode: Callable[[Any], np.ndarray], width: int) -> SpaceEncoding:
        return SpaceEncoding(name, encode, lambda: indexed_names(name, "nb301", width))

    return MappingProxyType(
        {
            "onehot": encoding(
                "onehot", lambda a: _onehot(cells_of(a), vocab, num_nodes), onehot_width
            ),
            "path": encoding(
                "path", lambda a: _paths(cells_of(a), vocab, num_nodes, concat), path_width
            ),
        }
    )
