"""NAS-Bench-101's own encodings: adjacency + ops and BANANAS paths.

* ``onehot`` (also ``onehot-pruned``: NB-101 ids are pruned already): the pruned cell in
  canonical vertex order, padded to 7 vertices: the 21 upper-triangular adjacency bits,
  then a one-hot op per vertex (:data:`~nasrank.spaces.nb101.OPS` plus "absent") --
  21 + 7 x 6 = 63 values.
* ``path``: BANANAS' path encoding (White, Neiswanger & Savani, "BANANAS: Bayesian
  Optimization with Neural Architectures for Neural Architecture Search", AAAI 2021):
  one count per input-to-output sequence of 0-5 interior ops over the three ops (364).

The space passes in its vocabulary and parser (:func:`make_encodings`), so this module
does not import the space's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, Protocol

import numpy as np

from nasrank.spaces._paths import sequence_index
from nasrank.spaces.encoding import SpaceEncoding, indexed_names

__all__ = ["make_encodings"]

_PATH_LENGTHS: tuple[int, ...] = (0, 1, 2, 3, 4, 5)


class _Cell(Protocol):
    """What the encodings read of a pruned cell (``nasrank.spaces.nb101.CellSpec``)."""

    @property
    def matrix(self) -> Sequence[Sequence[int]]: ...
    @property
    def ops(self) -> Sequence[str]: ...
    @property
    def num_vertices(self) -> int: ...


def _adjacency(spec: _Cell, vocab: Sequence[str], max_vertices: int) -> np.ndarray:
    """``(63,)`` padded adjacency bits + one-hot vertex ops (see the module docstring)."""
    n = spec.num_vertices
    # Pad in the middle so that input stays vertex 0 and output vertex 6.
    pos = list(range(n - 1)) + [max_vertices - 1]
    matrix = np.zeros((max_vertices, max_vertices))
    for i in range(n):
        for j in range(n):
            if spec.matrix[i][j]:
                matrix[pos[i], pos[j]] = 1.0
    bits = matrix[np.triu_indices(max_vertices, k=1)]
    width = len(vocab) + 1  # + "absent"
    ops = np.zeros((max_vertices, width))
    ops[:, -1] = 1.0
    for i, op in enumerate(spec.ops):
        ops[pos[i]] = 0.0
        ops[pos[i], vocab.index(op)] = 1.0
    return np.concatenate([bits, ops.ravel()])


def _paths(spec: _Cell, interior_ops: tuple[str, ...]) -> np.ndarray:
    """``(364,)`` counts of the input-to-output sequences of interior ops."""
    n = spec.num_vertices
    index = sequence_index(interior_ops, _PATH_LENGTHS)
    out = np.zeros(len(index))

    def walk(v: int, seq: tuple[str, ...]) -> None:
        if v == n - 1:
            out[index[seq]] += 1
            return
        for w in range(v + 1, n):
            if spec.matrix[v][w]:
                walk(w, seq if w == n - 1 else seq + (spec.ops[w],))

    walk(0, ())
    return out


def make_encodings(
    spec_of: Callable[[Any], _Cell],
    vocab: Sequence[str],
    interior_ops: tuple[str, ...],
    max_vertices: int,
) -> Mapping[str, SpaceEncoding]:
    """The encodings of :attr:`NB101Space.encodings`.

    Args:
        spec_of: Any accepted spelling -> the pruned cell in canonical vertex order.
        vocab: The vertex labels (``OPS``).
        interior_ops: The labels of interior vertices (``INTERIOR_OPS``).
        max_vertices: The most vertices of a cell (``MAX_VERTICES``).
    """
    adjacency_width = max_vertices * (max_vertices - 1) // 2 + max_vertices * (len(vocab) + 1)
    path_width = len(sequence_index(interior_ops, _PATH_LENGTHS))

    def adjacency(arch: Any) -> np.ndarray:
        return _adjacency(spec_of(arch), vocab, max_vertices)

    def encoding(name: str, encode: Callable[[Any], np.ndarray], width: int) -> SpaceEncoding:
        return SpaceEncoding(name, encode, lambda: indexed_names(name, "nb101", width))

    return MappingProxyType(
        {
            "onehot": encoding("onehot", adjacency, adjacency_width),
            "onehot-pruned": encoding("onehot-pruned", adjacency, adjacency_width),
            "path": encoding("path", lambda a: _paths(spec_of(a), interior_ops), path_width),
        }
    )
