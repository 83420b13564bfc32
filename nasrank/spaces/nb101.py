"""NAS-Bench-101 search space (Ying et al., "NAS-Bench-101: Towards Reproducible Neural
Architecture Search", ICML 2019).

A cell is a DAG of at most 7 vertices and 9 edges: an ``input`` vertex, up to five interior
vertices each labelled ``conv3x3-bn-relu``, ``conv1x1-bn-relu`` or ``maxpool3x3``, and an
``output`` vertex; the adjacency matrix is strictly upper-triangular. As in the benchmark's
``ModelSpec``, vertices that are not on a path from input to output are pruned first, and
the vertex/edge limits apply to the pruned cell. The benchmark holds 423,624 unique cells.

Canonical id: the ops of the pruned cell, ``|``, and the rows of its adjacency matrix as
bit strings separated by ``/``::

    input,conv3x3-bn-relu,maxpool3x3,output|0110/0001/0001/0000

The vertex order is canonical: among all orders of the interior vertices that keep the
matrix upper-triangular, the one nasbench's ``generate_graphs`` met first and stored for
the cell's hash bucket -- the smallest integer ``bits`` (edge x->y at bit x + y(y-1)/2),
then the smallest labels (conv3x3-bn-relu < conv1x1-bn-relu < maxpool3x3, first interior
vertex most significant). Isomorphic cells therefore share one id, and the id's vertex
order is the one the benchmark trained: nasbench trains one representative per
isomorphism class, the cell its ``generate_graphs`` stored for the hash.

Network ids. The vertex order matters for the network: a cell splits its output channels
over the interior vertices that feed the output, the remainder going to the first of them
(:func:`~nasrank.spaces._nb101_model.compute_vertex_channels`), so two isomorphic
spellings may build networks a few channels apart. :meth:`NB101Space.canonical` names the
isomorphism class (benchmark lookups, deduplication); :meth:`NB101Space.network_id` names
the network a spelling builds: the canonical id when the spelling builds the benchmark's
representative, else the same cell spelled in the first vertex order (in the canonical
order's sense) that keeps every vertex's width in every stack of the benchmark network
(cells of 128, 256 and 512 channels). Such an id is an ordinary id string whose vertex
order is not canonical: it parses, canonicalises to its class and builds its own network.
About one NAS-Bench-Suite-Zero key in 17 is such a spelling (NASLib draws random vertex
orders; Suite-Zero scored the network of the key as given).

Accepted spellings (all parsed by :meth:`NB101Space.canonical`):

* an id string as above, in any vertex order, pruned or not;
* NASLib's flat 56-tuple: the 7x7 matrix row-major, then seven op indices (0 input,
  1 output, 2 maxpool3x3, 3 conv1x1-bn-relu, 4 conv3x3-bn-relu), as a tuple/list of ints
  or its text ``"(0, 1, 0, ..., 0, 4, 1)"`` (the keys of NAS-Bench-Suite-Zero);
* a ``{"matrix": [[...]], "ops": [...]}`` dict (nasbench's ``ModelSpec`` fields; op names)
  or its JSON text.
"""

from __future__ import annotations

import itertools
import json
import numbers
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from nasrank._random import SeedLike, as_rng
from nasrank.errors import InvalidArchitecture
from nasrank.spaces._nb101_encodings import make_encodings
from nasrank.spaces._nb101_model import NB101Cell, NB101Network, compute_vertex_channels
from nasrank.spaces.base import ArchLike, SearchSpace
from nasrank.spaces.encoding import SpaceEncoding
from nasrank.spaces.registry import SPACES

__all__ = [
    "NB101Space",
    "CellSpec",
    "OPS",
    "INTERIOR_OPS",
    "NASLIB_OPS",
    "MAX_VERTICES",
    "MAX_EDGES",
    "NUM_ARCHITECTURES",
    "CELL_WIDTHS",
    "prune",
    "to_naslib",
    "from_naslib",
]

#: Vertex labels in the benchmark's own spelling.
OPS: tuple[str, ...] = ("input", "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3", "output")
#: Labels an interior vertex may carry (the benchmark's ``available_ops``).
INTERIOR_OPS: tuple[str, ...] = OPS[1:4]
#: NASLib's op index -> op name.
NASLIB_OPS: tuple[str, ...] = (
    "input",
    "output",
    "maxpool3x3",
    "conv1x1-bn-relu",
    "conv3x3-bn-relu",
)
#: Limits of the benchmark, applied to the pruned cell.
MAX_VERTICES = 7
MAX_EDGES = 9
#: Unique (pruned, non-isomorphic) cells in the benchmark.
NUM_ARCHITECTURES = 423_624
#: Output channels of the cells of the benchmark network's three stacks (stem 128,
#: doubling): the widths at which :meth:`NB101Space.network_id` compares vertex orders.
CELL_WIDTHS: tuple[int, ...] = (128, 256, 512)

_NASLIB_LEN = MAX_VERTICES * MAX_VERTICES + MAX_VERTICES
_INT_LIST = re.compile(r"^[\(\[]?\s*-?\d+(\s*,\s*-?\d+)*\s*,?\s*[\)\]]?$")
_EXPECTED = (
    "expected an id like 'input,conv3x3-bn-relu,output|011/001/000', NASLib's 56-tuple "
    '(7x7 matrix row-major, then 7 op indices) or a {"matrix": ..., "ops": ...} dict'
)

Matrix = tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class CellSpec:
    """A validated, pruned cell. :meth:`NB101Space.spec` returns it in canonical vertex
    order (what an id spells out), :meth:`NB101Space.pruned_spec` in the given order,
    :meth:`NB101Space.network_spec` in the order of its network id.

    Attributes:
        matrix: ``n x n`` strictly upper-triangular 0/1 adjacency, ``2 <= n <= 7``.
        ops: ``n`` labels, ``input`` first, ``output`` last.
    """

    matrix: Matrix
    ops: tuple[str, ...]

    @property
    def num_vertices(self) -> int:
        return len(self.ops)

    @property
    def num_edges(self) -> int:
        return sum(map(sum, self.matrix))

    @property
    def id(self) -> str:
        rows = "/".join("".join(str(b) for b in row) for row in self.matrix)
        return ",".join(self.ops) + "|" + rows

    def to_dict(self) -> dict[str, Any]:
        """``{"matrix": [[...]], "ops": [...]}`` (nasbench ``ModelSpec`` fields)."""
        return {"matrix": [list(row) for row in self.matrix], "ops": list(self.ops)}


# ---- graph helpers ---------------------------------------------------------------------
def prune(
    matrix: Sequence[Sequence[int]], ops: Sequence[str]
) -> tuple[list[list[int]], list[str]] | None:
    """Drop vertices not on an input->output path (nasbench ``ModelSpec._prune``).

    ``matrix`` must be strictly upper-triangular. Returns the pruned ``(matrix, ops)``, or
    ``None`` when the output is not reachable from the input.
    """
    n = len(matrix)
    from_input = [False] * n
    from_input[0] = True
    for i in range(n):
        if from_input[i]:
            for j in range(i + 1, n):
                if matrix[i][j]:
                    from_input[j] = True
    to_output = [False] * n
    to_output[n - 1] = True
    for j in range(n - 1, -1, -1):
        if to_output[j]:
            for i in range(j):
                if matrix[i][j]:
                    to_output[i] = True
    keep = [v for v in range(n) if from_input[v] and to_output[v]]
    if len(keep) < 2:
        return None
    return [[int(matrix[i][j]) for j in keep] for i in keep], [ops[i] for i in keep]


def _topological_orders(matrix: Sequence[Sequence[int]]) -> Iterator[list[int]]:
    n = len(matrix)
    indegree = [sum(matrix[i][j] for i in range(n)) for j in range(n)]
    order: list[int] = []
    used = [False] * n

    def extend() -> Iterator[list[int]]:
        if len(order) == n:
            yield list(order)
            return
        for v in range(n):
            if not used[v] and indegree[v] == 0:
                used[v] = True
                order.append(v)
                for w in range(n):
                    if matrix[v][w]:
                        indegree[w] -= 1
                yield from extend()
                for w in range(n):
                    if matrix[v][w]:
                        indegree[w] += 1
                order.pop()
                used[v] = False

    yield from extend()


def _canonical_spec(
    matrix: Sequence[Sequence[int]],
    ops: Sequence[str],
    keep: Callable[[list[int]], bool] | None = None,
) -> CellSpec:
    """Relabel a pruned cell into its canonical vertex order (see module docstring);
    with ``keep``, the first in that sense of the orders ``keep`` accepts (``keep(order)``:
    ``order[i]`` is the old vertex at new position ``i``; it must accept some order)."""
    n = len(matrix)
    rank = [OPS.index(op) for op in ops]
    best_key: tuple[tuple[int, ...], tuple[int, ...]] | None = None
    best_order: list[int] = list(range(n))
    # After pruning, input is the only source and output the only sink, so every
    # topological order starts at 0 and ends at n - 1.
    for order in _topological_orders(matrix):
        if keep is not None and not keep(order):
            continue
        # nasbench's generate_graphs reads an integer ``bits`` with edge x->y at bit
        # x + y(y-1)/2 and keeps the first (bits, labeling) of each hash bucket: compare
        # edges from the highest bit down, then the labels vertex by vertex.
        key = (
            tuple(
                matrix[order[x]][order[y]]
                for y in range(n - 1, 0, -1)
                for x in range(y - 1, -1, -1)
            ),
            tuple(rank[v] for v in order),
        )
        if best_key is None or key < best_key:
            best_key, best_order = key, order
    return CellSpec(
        tuple(tuple(int(matrix[a][b]) for b in best_order) for a in best_order),
        tuple(ops[v] for v in best_order),
    )


def _vertex_widths(matrix: Sequence[Sequence[int]]) -> list[tuple[int, ...]]:
    """Each vertex's channels in a cell of each stack of the benchmark network."""
    stacks = [compute_vertex_channels(c, c, matrix) for c in CELL_WIDTHS]
    return [tuple(widths[v] for widths in stacks) for v in range(len(matrix))]


def _network_spec(matrix: Sequence[Sequence[int]], ops: Sequence[str]) -> CellSpec:
    """Relabel a pruned cell into the first vertex order (canonical sense) that builds
    the same network: every vertex keeps its op, its edges and its width in every stack.

    The orders kept are the same set of relabelled cells for every spelling of one
    network, so the result names the network; it is the canonical spec exactly when the
    canonical order builds this network too.
    """
    widths = _vertex_widths(matrix)
    n = len(matrix)

    def same_network(order: list[int]) -> bool:
        relabelled = [[matrix[a][b] for b in order] for a in order]
        return _vertex_widths(relabelled) == [widths[v] for v in order]

    if n <= 3:  # at most one interior vertex: every order is the given one
        return CellSpec(tuple(map(tuple, matrix)), tuple(ops))
    return _canonical_spec(matrix, ops, keep=same_network)


def _bits_to_matrix(bits: int, n: int) -> list[list[int]]:
    """nasbench's ``gen_is_edge_fn``: edge x->y is bit x + y(y-1)/2 of ``bits``."""
    return [
        [(bits >> (x + y * (y - 1) // 2)) & 1 if y > x else 0 for y in range(n)] for x in range(n)
    ]


def _unlabeled_cells(n: int) -> Iterator[list[list[int]]]:
    """Canonical (smallest-``bits``) unpruneable DAGs of ``n`` vertices with at most
    :data:`MAX_EDGES` edges, in increasing ``bits``."""
    row_masks = [sum(1 << (x + y * (y - 1) // 2) for y in range(x + 1, n)) for x in range(n - 1)]
    col_masks = [sum(1 << (x + y * (y - 1) // 2) for x in range(y)) for y in range(1, n)]
    masks = row_masks + col_masks
    interior = ["conv3x3-bn-relu"] * (n - 2)
    for bits in range(1 << (n * (n - 1) // 2)):
        if bits.bit_count() > MAX_EDGES or not all(bits & m for m in masks):
            continue
        matrix = _bits_to_matrix(bits, n)
        if _canonical_spec(matrix, ["input", *interior, "output"]).matrix == tuple(
            map(tuple, matrix)
        ):
            yield matrix


def _automorphisms(matrix: Sequence[Sequence[int]]) -> list[tuple[int, ...]]:
    n = len(matrix)
    out = []
    for perm in itertools.permutations(range(1, n - 1)):
        p = (0, *perm, n - 1)
        if all(matrix[p[i]][p[j]] == matrix[i][j] for i in range(n) for j in range(i + 1, n)):
            out.append(p)
    return out


def _validate(matrix: Any, ops: Any, text: str) -> CellSpec:
    """Check the benchmark's rules on a raw cell; return it pruned, in its own vertex order."""
    if not isinstance(matrix, Sequence) or isinstance(matrix, str):
        raise InvalidArchitecture(
            f"NAS-Bench-101 matrix in {text} is {type(matrix).__name__}; expected a square "
            "list of 0/1 rows"
        )
    n = len(matrix)
    if n < 2:
        raise InvalidArchitecture(
            f"NAS-Bench-101 cell {text} has {n} vertices; expected 2 to {MAX_VERTICES} "
            "(input, up to 5 interior vertices, output)"
        )
    rows: list[list[int]] = []
    for i, row in enumerate(matrix):
        if not isinstance(row, Sequence) or isinstance(row, str) or len(row) != n:
            raise InvalidArchitecture(
                f"row {i} of the NAS-Bench-101 matrix in {text} is {row!r}; expected {n} "
                f"entries (the matrix must be square, {n}x{n})"
            )
        for j, v in enumerate(row):
            if not isinstance(v, numbers.Integral) or v not in (0, 1):
                raise InvalidArchitecture(
                    f"entry [{i}][{j}] of the NAS-Bench-101 matrix in {text} is {v!r}; "
                    "expected 0 or 1"
                )
        rows.append([int(v) for v in row])
    for i in range(n):
        for j in range(i + 1):
            if rows[i][j]:
                raise InvalidArchitecture(
                    f"NAS-Bench-101 matrix in {text} has an edge {i}->{j} on or below the "
                    "diagonal; the matrix must be strictly upper-triangular (edges go from a "
                    "lower to a higher vertex index)"
                )
    if isinstance(ops, str) or not isinstance(ops, Sequence):
        raise InvalidArchitecture(
            f"NAS-Bench-101 ops in {text} are {ops!r}; expected a list of {n} op names"
        )
    if len(ops) != n:
        raise InvalidArchitecture(
            f"NAS-Bench-101 cell {text} has {len(ops)} ops for a {n}x{n} matrix; expected "
            "one op per vertex"
        )
    for v, op in enumerate(ops):
        if op not in OPS:
            raise InvalidArchitecture(
                f"unknown NAS-Bench-101 operation {op!r} in {text}; expected one of "
                f"{', '.join(OPS)}"
            )
        role = "input" if v == 0 else "output" if v == n - 1 else None
        if role is not None and op != role:
            raise InvalidArchitecture(
                f"vertex {v} of NAS-Bench-101 cell {text} is {op!r}; the first vertex must "
                "be 'input' and the last 'output'"
            )
        if role is None and op not in INTERIOR_OPS:
            raise InvalidArchitecture(
                f"interior vertex {v} of NAS-Bench-101 cell {text} is {op!r}; expected one "
                f"of {', '.join(INTERIOR_OPS)}"
            )
    pruned = prune(rows, list(ops))
    if pruned is None:
        raise InvalidArchitecture(
            f"output vertex {n - 1} of NAS-Bench-101 cell {text} is not reachable from the "
            "input vertex 0; a cell needs an input->output path"
        )
    p_matrix, p_ops = pruned
    if len(p_ops) > MAX_VERTICES:
        raise InvalidArchitecture(
            f"NAS-Bench-101 cell {text} has {len(p_ops)} vertices after pruning; the "
            f"benchmark allows at most {MAX_VERTICES}"
        )
    edges = sum(map(sum, p_matrix))
    if edges > MAX_EDGES:
        raise InvalidArchitecture(
            f"NAS-Bench-101 cell {text} has {edges} edges after pruning; the benchmark "
            f"allows at most {MAX_EDGES}"
        )
    return CellSpec(tuple(map(tuple, p_matrix)), tuple(p_ops))


# ---- NASLib tuples ---------------------------------------------------------------------
def from_naslib(indices: Sequence[int]) -> str:
    """NASLib 56-tuple (7x7 matrix row-major, then 7 op indices) -> canonical id."""
    spec = _from_naslib(indices)
    return _canonical_spec(spec.matrix, spec.ops).id


def _from_naslib(indices: Sequence[Any]) -> CellSpec:
    text = repr(tuple(indices))
    if len(text) > 300:
        text = text[:300] + "...)"
    if len(indices) != _NASLIB_LEN:
        raise InvalidArchitecture(
            f"NAS-Bench-101 NASLib tuple {text} has {len(indices)} entries; expected "
            f"{_NASLIB_LEN}: the 7x7 adjacency matrix row-major, then 7 op indices "
            f"({', '.join(f'{i} {o}' for i, o in enumerate(NASLIB_OPS))})"
        )
    for v in indices:
        if not isinstance(v, numbers.Integral) or isinstance(v, bool):
            raise InvalidArchitecture(
                f"NAS-Bench-101 NASLib tuple {text} contains {v!r}; expected integers"
            )
    cut = MAX_VERTICES * MAX_VERTICES
    matrix = [list(indices[r * MAX_VERTICES : (r + 1) * MAX_VERTICES]) for r in range(7)]
    ops: list[str] = []
    for v in indices[cut:]:
        if not 0 <= v < len(NASLIB_OPS):
            raise InvalidArchitecture(
                f"NAS-Bench-101 NASLib tuple {text} has op index {v}; expected 0..4 "
                f"({', '.join(f'{i} {o}' for i, o in enumerate(NASLIB_OPS))})"
            )
        ops.append(NASLIB_OPS[int(v)])
    return _validate(matrix, ops, text)


def to_naslib(arch: ArchLike) -> tuple[int, ...]:
    """Any spelling -> NASLib 56-tuple of the canonical pruned cell.

    A cell with fewer than 7 vertices is padded with isolated ``conv3x3-bn-relu`` vertices
    placed before the output (pruned again on parsing). The tuple of a cell that was
    given unpruned is not recovered: NAS-Bench-Suite-Zero keys must be canonicalised to
    be compared.
    """
    spec = NB101Space().spec(arch)
    n = spec.num_vertices
    pad = MAX_VERTICES - n
    index = list(range(n - 1)) + [MAX_VERTICES - 1]  # old vertex -> padded position
    matrix = [[0] * MAX_VERTICES for _ in range(MAX_VERTICES)]
    for i in range(n):
        for j in range(n):
            matrix[index[i]][index[j]] = spec.matrix[i][j]
    ops = list(spec.ops[:-1]) + ["conv3x3-bn-relu"] * pad + ["output"]
    return tuple(b for row in matrix for b in row) + tuple(NASLIB_OPS.index(o) for o in ops)


# ---- the space -------------------------------------------------------------------------
@SPACES.register("nb101")
class NB101Space(SearchSpace):
    """NAS-Bench-101: cells of <= 7 vertices and <= 9 edges, 3 stacks x 3 cells (C = 128)."""

    name = "nb101"
    description = "NAS-Bench-101 cell space, 423,624 archs (Ying et al., ICML 2019)"
    input_shape = (3, 32, 32)

    # ---- ids -------------------------------------------------------------------------
    def canonical(self, arch: ArchLike) -> str:
        return self.spec(arch).id

    def spec(self, arch: ArchLike) -> CellSpec:
        """The pruned cell of ``arch`` in canonical vertex order (the order in which
        nasbench generated, hashed and trained it)."""
        pruned = self.pruned_spec(arch)
        return _canonical_spec(pruned.matrix, pruned.ops)

    def network_id(self, arch: ArchLike) -> str:
        """The id of the network ``build(arch)`` builds (see the module docstring).

        The canonical id when ``arch``'s vertex order splits channels as the benchmark's
        representative does (most spellings), else ``arch``'s cell in the first vertex
        order that builds its network -- an id of the same class
        (``canonical(network_id(a)) == canonical(a)``) that builds ``arch``'s network.
        Isomorphic spellings of one network share it.
        """
        return self.network_spec(arch).id

    def network_spec(self, arch: ArchLike) -> CellSpec:
        """The pruned cell of ``arch`` in the vertex order of :meth:`network_id`."""
        pruned = self.pruned_spec(arch)
        return _network_spec(pruned.matrix, pruned.ops)

    def pruned_spec(self, arch: ArchLike) -> CellSpec:
        """The pruned cell of ``arch`` in the vertex order it was given in (what
        :meth:`build` builds)."""
        if isinstance(arch, CellSpec):
            return _validate(arch.matrix, arch.ops, repr(arch))
        if isinstance(arch, str):
            return self._parse_text(arch)
        if isinstance(arch, Mapping):
            return self._parse_dict(arch, repr(arch))
        if hasattr(arch, "tolist") and not isinstance(arch, Sequence):  # numpy array
            arch = arch.tolist()
        if isinstance(arch, Sequence):
            return _from_naslib(arch)
        raise InvalidArchitecture(
            f"cannot interpret {arch!r} of type {type(arch).__name__} as a NAS-Bench-101 "
            f"architecture; {_EXPECTED}"
        )

    def to_dict(self, arch: ArchLike) -> dict[str, Any]:
        """``{"matrix", "ops"}`` of the canonical pruned cell."""
        return self.spec(arch).to_dict()

    def _parse_text(self, arch: str) -> CellSpec:
        text = arch.strip()
        if text.startswith("{"):
            try:
                data = json.loads(text)
            except json.JSONDecodeError as err:
                raise InvalidArchitecture(
                    f"cannot parse NAS-Bench-101 JSON {arch!r}: {err.msg} at position "
                    f"{err.pos}; {_EXPECTED}"
                ) from None
            if not isinstance(data, dict):
                raise InvalidArchitecture(f"NAS-Bench-101 JSON {arch!r} is not an object")
            return self._parse_dict(data, repr(arch))
        if _INT_LIST.match(text):
            return _from_naslib([int(v) for v in re.findall(r"-?\d+", text)])
        if "|" in text:
            return self._parse_id(text, arch)
        raise InvalidArchitecture(f"cannot parse NAS-Bench-101 architecture {arch!r}; {_EXPECTED}")

    @staticmethod
    def _parse_id(text: str, original: str) -> CellSpec:
        compact = re.sub(r"\s+", "", text)
        parts = compact.split("|")
        if len(parts) != 2 or not parts[0] or not parts[1]:
            raise InvalidArchitecture(
                f"NAS-Bench-101 id {original!r} must be 'ops|rows' with comma-separated op "
                "names and '/'-separated 0/1 rows, like "
                "'input,conv3x3-bn-relu,output|011/001/000'"
            )
        ops = parts[0].split(",")
        rows = parts[1].split("/")
        if len(rows) != len(ops):
            raise InvalidArchitecture(
                f"NAS-Bench-101 id {original!r} has {len(ops)} ops but {len(rows)} matrix "
                "rows; expected one row per op"
            )
        matrix: list[list[int]] = []
        for row in rows:
            if not re.fullmatch(r"[01]+", row):
                raise InvalidArchitecture(
                    f"row {row!r} of NAS-Bench-101 id {original!r} is not a string of 0/1 digits"
                )
            matrix.append([int(c) for c in row])
        return _validate(matrix, ops, repr(original))

    @staticmethod
    def _parse_dict(data: Mapping[Any, Any], text: str) -> CellSpec:
        keys = set(data)
        if keys != {"matrix", "ops"}:
            missing = sorted(map(str, {"matrix", "ops"} - keys))
            extra = sorted(map(str, keys - {"matrix", "ops"}))
            detail = "; ".join(
                part
                for part in (
                    f"missing {', '.join(missing)}" if missing else "",
                    f"unexpected {', '.join(extra)}" if extra else "",
                )
                if part
            )
            raise InvalidArchitecture(
                f"NAS-Bench-101 dict {text} must have exactly the keys 'matrix' and 'ops' "
                f"({detail})"
            )
        matrix = data["matrix"]
        if hasattr(matrix, "tolist") and not isinstance(matrix, Sequence):
            matrix = matrix.tolist()
        ops = data["ops"]
        if hasattr(ops, "tolist") and not isinstance(ops, Sequence):
            ops = ops.tolist()
        return _validate(matrix, ops, text)

    # ---- enumeration, sampling and edits ------------------------------------------------
    @property
    def size(self) -> int:
        return NUM_ARCHITECTURES

    def enumerate(self) -> Iterator[str]:
        """All 423,624 ids in nasbench's ``generate_graphs`` order: by vertex count, then
        by ``bits`` of the matrix, then by labels (a few seconds)."""
        for n in range(2, MAX_VERTICES + 1):
            for matrix in _unlabeled_cells(n):
                # Same matrix, labels smallest under its automorphisms: a canonical id.
                autos = _automorphisms(matrix)
                for labels in itertools.product(range(len(INTERIOR_OPS)), repeat=n - 2):
                    full = (-1, *labels, -1)
                    if all(tuple(full[p[v]] for v in range(n)) >= full for p in autos):
                        ops = ("input", *(INTERIOR_OPS[i] for i in labels), "output")
                        yield CellSpec(tuple(map(tuple, matrix)), ops).id

    def sample(self, seed: SeedLike = None) -> str:
        """The benchmark's random-spec prior (nasbench/NASLib): every upper-triangular edge
        of a 7-vertex cell present with probability 1/2, interior ops uniform, redrawn until
        valid; returns the pruned canonical id (so not uniform over the 423,624 cells)."""
        rng = as_rng(seed)
        n = MAX_VERTICES
        while True:
            bits = rng.integers(2, size=(n, n))
            matrix = [[int(bits[i][j]) if j > i else 0 for j in range(n)] for i in range(n)]
            choice = rng.integers(len(INTERIOR_OPS), size=n - 2)
            ops = ["input", *(INTERIOR_OPS[i] for i in choice), "output"]
            pruned = prune(matrix, ops)
            if pruned is None:
                continue
            p_matrix, p_ops = pruned
            if len(p_ops) <= MAX_VERTICES and sum(map(sum, p_matrix)) <= MAX_EDGES:
                return _canonical_spec(p_matrix, p_ops).id

    @staticmethod
    def _edits(spec: CellSpec) -> Iterator[tuple[list[list[int]], list[str]]]:
        """Every single edit of a cell, unvalidated: flip one edge, relabel one interior
        vertex, or (below 7 vertices) insert a vertex with one edge in and one edge out."""
        n = spec.num_vertices
        base = [list(row) for row in spec.matrix]
        ops = list(spec.ops)
        for i, j in itertools.combinations(range(n), 2):
            m = [list(row) for row in base]
            m[i][j] = 1 - m[i][j]
            yield m, ops
        for v in range(1, n - 1):
            for op in INTERIOR_OPS:
                if op != ops[v]:
                    yield base, ops[:v] + [op] + ops[v + 1 :]
        if n < MAX_VERTICES:
            # New vertex at position i + 1, fed by old vertex i, feeding old vertex j.
            for i, j in itertools.combinations(range(n), 2):
                for op in INTERIOR_OPS:
                    m = [row[: i + 1] + [0] + row[i + 1 :] for row in base]
                    m.insert(i + 1, [0] * (n + 1))
                    m[i][i + 1] = 1
                    m[i + 1][j + 1] = 1
                    yield m, ops[: i + 1] + [op] + ops[i + 1 :]

    @staticmethod
    def _edit_result(matrix: list[list[int]], ops: list[str]) -> str | None:
        pruned = prune(matrix, ops)
        if pruned is None:
            return None
        p_matrix, p_ops = pruned
        if len(p_ops) > MAX_VERTICES or sum(map(sum, p_matrix)) > MAX_EDGES:
            return None
        return _canonical_spec(p_matrix, p_ops).id

    def mutate(self, arch: ArchLike, seed: SeedLike = None) -> str:
        """One uniformly drawn single edit (see :meth:`neighbours`) whose result is valid
        and a different cell."""
        rng = as_rng(seed)
        spec = self.spec(arch)
        edits = list(self._edits(spec))
        for k in rng.permutation(len(edits)):
            child = self._edit_result(*edits[int(k)])
            if child is not None and child != spec.id:
                return child
        raise InvalidArchitecture(f"NAS-Bench-101 cell {spec.id!r} has no valid single edit")

    def neighbours(self, arch: ArchLike) -> list[str]:
        """All different valid cells one edit away, deduplicated by id, in edit order:
        flip one edge (as nasbench/NASLib mutations do), change one interior op, or, when
        the cell has fewer than 7 vertices, insert a vertex with one incoming and one
        outgoing edge (the edit that lets a pruned cell grow again)."""
        spec = self.spec(arch)
        seen = {spec.id}
        out = []
        for matrix, ops in self._edits(spec):
            child = self._edit_result(matrix, ops)
            if child is not None and child not in seen:
                seen.add(child)
                out.append(child)
        return out

    # ---- models ------------------------------------------------------------------------
    def build(
        self,
        arch: ArchLike,
        *,
        num_classes: int = 10,
        stem_channels: int = 128,
        num_stacks: int = 3,
        cells_per_stack: int = 3,
    ) -> nn.Module:
        """The benchmark network: 3x3 conv-BN-ReLU stem of ``stem_channels``, ``num_stacks``
        stacks of ``cells_per_stack`` cells with 2x2 max-pool and channel doubling between
        stacks, global average pool, linear.

        The cell keeps the vertex order ``arch`` is given in (after pruning): the
        benchmark's channel split gives the remainder channels to the first vertices that
        feed the output, so isomorphic spellings may differ by a few channels. A NASLib
        tuple builds the network NAS-Bench-Suite-Zero scored for it, a canonical id the
        network nasbench trained for its hash, and :meth:`network_id` ``(arch)`` the
        network of ``arch`` (at the benchmark's widths; at other ``stem_channels`` or
        ``num_stacks`` build the spelling itself).
        """
        spec = self.pruned_spec(arch)
        return NB101Network(
            spec.matrix,
            spec.ops,
            stem_channels=stem_channels,
            num_stacks=num_stacks,
            cells_per_stack=cells_per_stack,
            num_classes=num_classes,
        )

    def cell_module(
        self, arch: ArchLike, *, seed: int = 0
    ) -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
        """One module at 128 channels (the first stack's), input ``(1, 128, 32, 32)``;
        vertex order as in :meth:`build`."""
        generator = torch.Generator().manual_seed(seed)
        spec = self.pruned_spec(arch)
        module = NB101Cell(spec.matrix, spec.ops, 128, 128)
        return module, (torch.randn(1, 128, 32, 32, generator=generator),)

    # ---- capabilities ------------------------------------------------------------------
    @property
    def encodings(self) -> Mapping[str, SpaceEncoding]:
        """``onehot`` (= ``onehot-pruned``) and ``path`` (see
        :mod:`nasrank.spaces._nb101_encodings`)."""
        return _ENCODINGS


def _spec_of_any(arch: ArchLike) -> CellSpec:
    return NB101Space().spec(arch)


_ENCODINGS = make_encodings(_spec_of_any, OPS, INTERIOR_OPS, MAX_VERTICES)
