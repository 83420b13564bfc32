"""NAS-Bench-201's own encodings: one-hot ops (plain and pruned) and BANANAS paths.

* ``onehot``: 6 edges x 5 ops (:data:`~nasrank.spaces.nb201.OPS` order), official edge
  order -- 30 values.
* ``onehot-pruned``: the same after replacing the op of every edge that lies on no
  input-to-output path of non-``none`` edges by ``none`` (those edges do not change the
  function), the NB-201 analogue of NB-101's pruning.
* ``path``: BANANAS' path encoding (White, Neiswanger & Savani, "BANANAS: Bayesian
  Optimization with Neural Architectures for Neural Architecture Search", AAAI 2021):
  one count per input-to-output sequence of 1-3 ops over the four non-``none`` ops (84).

The space passes in its vocabulary and parser (:func:`make_encodings`), so this module
does not import the space's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np

from nasrank.spaces._paths import sequence_index
from nasrank.spaces.encoding import SpaceEncoding

__all__ = ["make_encodings"]

Edge = tuple[int, int]

# Input-to-output paths over official edges (src, dst).
_PATHS: tuple[tuple[Edge, ...], ...] = (
    ((0, 3),),
    ((0, 1), (1, 3)),
    ((0, 2), (2, 3)),
    ((0, 1), (1, 2), (2, 3)),
)
_PATH_LENGTHS: tuple[int, ...] = (1, 2, 3)


def _live_edges(op_of: Mapping[Edge, str]) -> set[Edge]:
    live: set[Edge] = set()
    for path in _PATHS:
        if all(op_of[e] != "none" for e in path):
            live.update(path)
    return live


def _onehot(
    ops: Sequence[str], edges: Sequence[Edge], vocab: Sequence[str], *, pruned: bool
) -> np.ndarray:
    """``(30,)`` one-hot ops of the six edges (see the module docstring)."""
    live = _live_edges(dict(zip(edges, ops))) if pruned else set(edges)
    out = np.zeros(len(edges) * len(vocab))
    for i, (edge, op) in enumerate(zip(edges, ops)):
        out[i * len(vocab) + vocab.index(op if edge in live else "none")] = 1.0
    return out


def _paths(ops: Sequence[str], edges: Sequence[Edge], vocab: tuple[str, ...]) -> np.ndarray:
    """``(84,)`` counts of the live input-to-output op sequences."""
    op_of = dict(zip(edges, ops))
    index = sequence_index(tuple(o for o in vocab if o != "none"), _PATH_LENGTHS)
    out = np.zeros(len(index))
    for path in _PATHS:
        seq = tuple(op_of[e] for e in path)
        if "none" not in seq:
            out[index[seq]] += 1
    return out


def make_encodings(
    ops_of: Callable[[Any], tuple[str, ...]], edges: Sequence[Edge], vocab: tuple[str, ...]
) -> Mapping[str, SpaceEncoding]:
    """The encodings of :attr:`NB201Space.encodings`.

    Args:
        ops_of: Any accepted spelling -> the six op names in official edge order.
        edges: The official edges ``(src, dst)``.
        vocab: The op vocabulary (``OPS``).
    """

    def onehot_names(name: str) -> Callable[[], list[str]]:
        return lambda: [f"{name}:{s}->{d}={op}" for s, d in edges for op in vocab]

    def path_names() -> list[str]:
        seqs = sequence_index(tuple(o for o in vocab if o != "none"), _PATH_LENGTHS)
        return [f"path:{'>'.join(s)}" for s in seqs]

    return MappingProxyType(
        {
            "onehot": SpaceEncoding(
                "onehot",
                lambda a: _onehot(ops_of(a), edges, vocab, pruned=False),
                onehot_names("onehot"),
            ),
            "onehot-pruned": SpaceEncoding(
                "onehot-pruned",
                lambda a: _onehot(ops_of(a), edges, vocab, pruned=True),
                onehot_names("onehot-pruned"),
            ),
            "path": SpaceEncoding("path", lambda a: _paths(ops_of(a), edges, vocab), path_names),
        }
    )
