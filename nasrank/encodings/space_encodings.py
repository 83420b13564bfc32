"""Per-space encodings: one-hot op vectors, adjacency + ops, and BANANAS path encodings.

These are the classic encodings of the NAS-Bench literature (compared in White et al.,
"A Study on Encodings for Neural Architecture Search", NeurIPS 2020); each space's op
vocabulary is imported from the space module, never re-listed here.

* :func:`nb201_onehot`: 6 edges x 5 ops (``nasrank.spaces.nb201.OPS`` order), official
  edge order. ``pruned=True`` first replaces the op of every edge that lies on no
  input-to-output path of non-``none`` edges by ``none`` (those edges do not change the
  function), the NB-201 analogue of NB-101's pruning.
* :func:`nb101_adjacency`: the pruned cell in canonical vertex order, padded to 7
  vertices: the 21 upper-triangular adjacency bits, then a one-hot op per vertex
  (``nasrank.spaces.nb101.OPS`` plus "absent") -- 21 + 7 x 6 = 63 values.
* :func:`nb301_onehot`: per cell and edge, a one-hot op (7) and a one-hot input (5).
* :func:`path_encoding`: BANANAS' path encoding (White, Neiswanger & Savani, "BANANAS:
  Bayesian Optimization with Neural Architectures for Neural Architecture Search",
  AAAI 2021): one count per possible input-to-output op sequence. NB-201: sequences of
  1-3 ops over the four non-``none`` ops (84); NB-101: 0-5 interior ops over the three
  ops (364); NB-301: per cell, per cell input (0, 1), sequences of 1-4 ops over the seven
  ops (2 x 2 x 2,800 = 11,200).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np

from nasrank.errors import UnknownNameError

__all__ = [
    "SPACE_ENCODINGS",
    "space_encoding",
    "space_encoding_names",
    "nb201_onehot",
    "nb101_adjacency",
    "nb301_onehot",
    "path_encoding",
]

# NB-201 input-to-output paths over official edges (src, dst).
_NB201_PATHS: tuple[tuple[tuple[int, int], ...], ...] = (
    ((0, 3),),
    ((0, 1), (1, 3)),
    ((0, 2), (2, 3)),
    ((0, 1), (1, 2), (2, 3)),
)


def _space_name(space: Any) -> str:
    return space if isinstance(space, str) else space.name


def _live_nb201_edges(ops: tuple[str, ...]) -> set[tuple[int, int]]:
    from nasrank.spaces.nb201 import EDGES

    op_of = dict(zip(EDGES, ops))
    live: set[tuple[int, int]] = set()
    for path in _NB201_PATHS:
        if all(op_of[e] != "none" for e in path):
            live.update(path)
    return live


# ---- NB-201 -------------------------------------------------------------------------------
def nb201_onehot(arch: Any, *, pruned: bool = False) -> np.ndarray:
    """``(30,)`` one-hot ops of the six edges (see the module docstring)."""
    from nasrank.spaces.nb201 import EDGES, OPS, NB201Space

    ops = NB201Space.ops_of(NB201Space().canonical(arch))
    live = _live_nb201_edges(ops) if pruned else set(EDGES)
    out = np.zeros(len(EDGES) * len(OPS))
    for i, (edge, op) in enumerate(zip(EDGES, ops)):
        out[i * len(OPS) + OPS.index(op if edge in live else "none")] = 1.0
    return out


@cache
def _sequences(alphabet: tuple[str, ...], lengths: tuple[int, ...]) -> dict[tuple[str, ...], int]:
    seqs = [s for n in lengths for s in itertools.product(alphabet, repeat=n)]
    return {s: i for i, s in enumerate(seqs)}


def _nb201_paths(arch: Any) -> np.ndarray:
    from nasrank.spaces.nb201 import EDGES, OPS, NB201Space

    ops = NB201Space.ops_of(NB201Space().canonical(arch))
    op_of = dict(zip(EDGES, ops))
    index = _sequences(tuple(o for o in OPS if o != "none"), (1, 2, 3))
    out = np.zeros(len(index))
    for path in _NB201_PATHS:
        seq = tuple(op_of[e] for e in path)
        if "none" not in seq:
            out[index[seq]] += 1
    return out


# ---- NB-101 -------------------------------------------------------------------------------
def nb101_adjacency(arch: Any) -> np.ndarray:
    """``(63,)`` padded adjacency bits + one-hot vertex ops (see the module docstring)."""
    from nasrank.spaces.nb101 import MAX_VERTICES, OPS, NB101Space

    spec = NB101Space().spec(arch)
    n = spec.num_vertices
    # Pad in the middle so that input stays vertex 0 and output vertex 6.
    pos = list(range(n - 1)) + [MAX_VERTICES - 1]
    matrix = np.zeros((MAX_VERTICES, MAX_VERTICES))
    for i in range(n):
        for j in range(n):
            if spec.matrix[i][j]:
                matrix[pos[i], pos[j]] = 1.0
    bits = matrix[np.triu_indices(MAX_VERTICES, k=1)]
    vocab = len(OPS) + 1  # + "absent"
    ops = np.zeros((MAX_VERTICES, vocab))
    ops[:, -1] = 1.0
    for i, op in enumerate(spec.ops):
        ops[pos[i]] = 0.0
        ops[pos[i], OPS.index(op)] = 1.0
    return np.concatenate([bits, ops.ravel()])


def _nb101_paths(arch: Any) -> np.ndarray:
    from nasrank.spaces.nb101 import INTERIOR_OPS, NB101Space

    spec = NB101Space().spec(arch)
    n = spec.num_vertices
    index = _sequences(INTERIOR_OPS, (0, 1, 2, 3, 4, 5))
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


# ---- NB-301 -------------------------------------------------------------------------------
def nb301_onehot(arch: Any) -> np.ndarray:
    """``(2 x 8 x (7 + 5),) = (192,)``: per cell and edge, one-hot op and one-hot input."""
    from nasrank.spaces.nb301 import NUM_NODES, OPS, NB301Space

    g = NB301Space.genotype_of(arch)
    n_inputs = NUM_NODES + 1
    width = len(OPS) + n_inputs
    out = np.zeros(2 * 2 * NUM_NODES * width)
    for c, cell in enumerate((g.normal, g.reduce)):
        for k, (op, src) in enumerate(cell):
            base = (c * 2 * NUM_NODES + k) * width
            out[base + OPS.index(op)] = 1.0
            out[base + len(OPS) + src] = 1.0
    return out


def _nb301_paths(arch: Any) -> np.ndarray:
    from nasrank.spaces.nb301 import CONCAT, NUM_NODES, OPS, NB301Space

    g = NB301Space.genotype_of(arch)
    index = _sequences(OPS, (1, 2, 3, 4))
    per_input = len(index)
    out = np.zeros(2 * 2 * per_input)
    for c, cell in enumerate((g.normal, g.reduce)):
        # paths[node] = list of (cell input, op sequence) reaching that node
        paths: dict[int, list[tuple[int, tuple[str, ...]]]] = {0: [(0, ())], 1: [(1, ())]}
        for node in range(2, 2 + NUM_NODES):
            paths[node] = []
            for op, src in cell[2 * (node - 2) : 2 * (node - 2) + 2]:
                paths[node].extend((start, seq + (op,)) for start, seq in paths[src])
        for node in CONCAT:
            for start, seq in paths[node]:
                out[(c * 2 + start) * per_input + index[seq]] += 1
    return out


def path_encoding(space: Any, arch: Any) -> np.ndarray:
    """BANANAS path encoding of ``arch`` in ``space`` (``"nb201"``, ``"nb101"``,
    ``"nb301"`` or the space object)."""
    name = _space_name(space)
    fn = {"nb201": _nb201_paths, "nb101": _nb101_paths, "nb301": _nb301_paths}.get(name)
    if fn is None:
        raise UnknownNameError(
            f"no path encoding for space {name!r}; spaces with one: nb101, nb201, nb301"
        )
    return fn(arch)


# ---- registry of per-space encodings --------------------------------------------------------
Encoder = Callable[[Any], np.ndarray]

#: encoding name -> space name -> function of an architecture.
SPACE_ENCODINGS: dict[str, dict[str, Encoder]] = {
    "onehot": {
        "nb201": nb201_onehot,
        "nb101": nb101_adjacency,
        "nb301": nb301_onehot,
    },
    "onehot-pruned": {
        "nb201": lambda a: nb201_onehot(a, pruned=True),
        "nb101": nb101_adjacency,  # NB-101 ids are pruned already
    },
    "path": {
        "nb201": _nb201_paths,
        "nb101": _nb101_paths,
        "nb301": _nb301_paths,
    },
}


def space_encoding(name: str, space: Any, arch: Any) -> np.ndarray:
    """Encode ``arch`` with the per-space encoding ``name`` (``onehot``,
    ``onehot-pruned``, ``path``).

    Raises:
        UnknownNameError: Unknown encoding, or the space has no such encoding.
    """
    space_name = _space_name(space)
    if name not in SPACE_ENCODINGS:
        raise UnknownNameError(
            f"unknown space encoding {name!r}; choices: {', '.join(SPACE_ENCODINGS)}"
        )
    table = SPACE_ENCODINGS[name]
    if space_name not in table:
        raise UnknownNameError(
            f"encoding {name!r} is not defined for space {space_name!r}; it is for: "
            f"{', '.join(table)} (the 'onnx' features work for every space)"
        )
    return table[space_name](arch)


def space_encoding_names(name: str, space: Any) -> list[str]:
    """Feature names of :func:`space_encoding` (``name:space:index`` with a readable
    suffix where there is one)."""
    space_name = _space_name(space)
    if name in ("onehot", "onehot-pruned") and space_name == "nb201":
        from nasrank.spaces.nb201 import EDGES, OPS

        return [f"{name}:{s}->{d}={op}" for s, d in EDGES for op in OPS]
    if name == "path" and space_name == "nb201":
        from nasrank.spaces.nb201 import OPS

        seqs = _sequences(tuple(o for o in OPS if o != "none"), (1, 2, 3))
        return [f"path:{'>'.join(s)}" for s in seqs]
    sample = {
        "nb201": "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
        "nb101": "input,output|01/00",
        "nb301": None,
    }.get(space_name)
    if space_name == "nb301":
        from nasrank.spaces import get_space

        sample = get_space("nb301").sample(0)
    width = space_encoding(name, space_name, sample).shape[0]
    return [f"{name}:{space_name}:{i}" for i in range(width)]
