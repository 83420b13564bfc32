"""DARTS / NAS-Bench-301 search space (Liu, Simonyan & Yang, "DARTS: Differentiable
Architecture Search", ICLR 2019; Siems et al., "NAS-Bench-301 and the Case for Surrogate
Benchmarks for Neural Architecture Search", 2020).

An architecture is a DARTS genotype: a normal and a reduction cell, each with four
intermediate nodes 2..5; node ``n`` sums two operations applied to two *distinct* earlier
states (0 and 1 are the cell's inputs, the outputs of the cells two and one back;
2..n-1 are earlier intermediate nodes); the cell output concatenates nodes 2-5. Operations
(:data:`OPS`): max_pool_3x3, avg_pool_3x3, skip_connect, sep_conv_3x3, sep_conv_5x5,
dil_conv_3x3, dil_conv_5x5. There are (1*3*6*10 * 7^8)^2 ~ 1.08e18 distinct ids
(:data:`NUM_ARCHITECTURES`); the space is not enumerable.

Canonical id: each cell as in the NAS-Bench-201 string, node by node (separated by ``+``),
each incoming edge as ``op~input``, then ``;`` between the cells::

    normal=|sep_conv_3x3~0|sep_conv_3x3~1|+|sep_conv_3x3~0|sep_conv_3x3~1|+|skip_connect~0|sep_conv_3x3~1|+|skip_connect~0|dil_conv_3x3~2|;reduce=|max_pool_3x3~0|max_pool_3x3~1|+|max_pool_3x3~1|skip_connect~2|+|max_pool_3x3~0|skip_connect~2|+|max_pool_3x3~1|skip_connect~2|

(DARTS-V2). **Ordering rule:** a node is the *sum* of its two edges, so the order in which
a genotype lists them carries no meaning; the canonical id lists the two edges of every
node in increasing order of their input (inputs of a node always differ). Genotypes that
differ only in that order share one id. No other equivalence (e.g. renumbering
independent nodes) is folded.

Accepted spellings (all parsed by :meth:`NB301Space.canonical`, whitespace ignored):

* the canonical id (edge order within a node free);
* the DARTS ``Genotype`` text, parsed without ``eval``:
  ``Genotype(normal=[('sep_conv_3x3', 0), ...], normal_concat=[2, 3, 4, 5], reduce=[...],
  reduce_concat=[2, 3, 4, 5])`` (``range(2, 6)`` accepted for the concats), or any object
  with ``normal`` and ``reduce`` attributes (DARTS' ``Genotype`` namedtuple) or a mapping
  with those keys;
* NASLib's compact form ``[[(input, op) x 8], [(input, op) x 8]]`` (normal, reduce) with op
  indices into :data:`OPS` and entries ``2i, 2i+1`` feeding node ``i + 2``, as a Python
  object or its text;
* a pair ``(normal, reduce)`` of eight ``(op_name, input)`` pairs each.
"""

from __future__ import annotations

import ast
import difflib
import numbers
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import torch
from torch import nn

from nasrank._random import SeedLike, as_rng
from nasrank.errors import InvalidArchitecture, UnknownNameError
from nasrank.spaces._darts_model import DartsCellPair, DartsNetwork
from nasrank.spaces._nb301_encodings import make_encodings
from nasrank.spaces.base import ArchLike, SearchSpace
from nasrank.spaces.encoding import SpaceEncoding
from nasrank.spaces.registry import SPACES

__all__ = [
    "NB301Space",
    "DartsGenotype",
    "OPS",
    "CELLS",
    "CONCAT",
    "NUM_NODES",
    "NUM_ARCHITECTURES",
    "VARIANTS",
    "to_naslib",
    "from_naslib",
    "to_darts",
]

#: Operation vocabulary in the benchmark's spelling; NASLib's op index is the position here.
OPS: tuple[str, ...] = (
    "max_pool_3x3",
    "avg_pool_3x3",
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_conv_3x3",
    "dil_conv_5x5",
)
#: The two cell types, in the order every spelling lists them.
CELLS: tuple[str, ...] = ("normal", "reduce")
#: Intermediate nodes per cell (numbered 2..5; 0 and 1 are the cell inputs).
NUM_NODES = 4
#: The nodes a cell's output concatenates.
CONCAT: tuple[int, ...] = (2, 3, 4, 5)
_EDGES = 2 * NUM_NODES
_INPUT_PAIRS_PER_CELL = 1 * 3 * 6 * 10  # C(n, 2) distinct input pairs for nodes 2..5
#: Number of distinct canonical ids.
NUM_ARCHITECTURES = (_INPUT_PAIRS_PER_CELL * len(OPS) ** _EDGES) ** 2

#: Network presets of :meth:`NB301Space.build`.
VARIANTS: dict[str, dict[str, Any]] = {
    # NASLib's NasBench301SearchSpace graph, which NAS-Bench-Suite-Zero scored: the
    # NAS-Bench-301 training macro-architecture (32/64/128 channels, 8 cells, 96-channel
    # stem) with non-affine batch norms inside the edge operations and a non-affine
    # batch norm after each pooling edge.
    "suite_zero": {"channels": 32, "layers": 8, "affine": False, "pool_bn": True},
    # The DARTS CIFAR-10 evaluation network.
    "darts": {"channels": 36, "layers": 20, "affine": True, "pool_bn": False},
}

Edge = tuple[str, int]  # (op name, input)


class DartsGenotype(NamedTuple):
    """A validated genotype: eight ``(op, input)`` pairs per cell, entries ``2i, 2i+1``
    feeding node ``i + 2`` (canonically ordered when produced by this module)."""

    normal: tuple[Edge, ...]
    reduce: tuple[Edge, ...]


_ID_CELL = re.compile(r"^(normal|reduce)=(.*)$", re.S)
_TOKEN = re.compile(r"^([a-z0-9_]+)~(\d+)$")
_RANGE = re.compile(r"^range\((\d+),(\d+)\)$")
_GENOTYPE_TEXT = re.compile(r"^(?:[A-Za-z_][\w.]*\.)?Genotype\((.*)\)$", re.S)
_MAX_TEXT = 20_000
_EXPECTED = (
    "expected the canonical id 'normal=|op~in|op~in|+|...|;reduce=|...|', a DARTS "
    "'Genotype(normal=[(op, input), ...], normal_concat=[2, 3, 4, 5], reduce=[...], "
    "reduce_concat=[2, 3, 4, 5])' or NASLib's '[[(input, op) x 8], [(input, op) x 8]]'"
)


# ---- validation and formatting ------------------------------------------------------------
def _ops_listing() -> str:
    return ", ".join(f"{i} {op}" for i, op in enumerate(OPS))


def _check_op_name(op: object, cell: str, text: str) -> str:
    if not isinstance(op, str) or op not in OPS:
        close = difflib.get_close_matches(str(op), OPS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ";"
        raise InvalidArchitecture(
            f"unknown DARTS operation {op!r} in the {cell} cell of {text}{hint} expected one "
            f"of {', '.join(OPS)}"
        )
    return op


def _check_int(value: object, what: str, cell: str, text: str) -> int:
    """``value`` as an int (NumPy integers included, booleans not)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidArchitecture(
            f"{what} {value!r} in the {cell} cell of {text} is not an integer"
        )
    return int(value)


def _check_cell(edges: Sequence[Edge], cell: str, text: str) -> tuple[Edge, ...]:
    """Validate eight ``(op, input)`` pairs and order each node's pair by input."""
    if len(edges) != _EDGES:
        raise InvalidArchitecture(
            f"the {cell} cell of {text} has {len(edges)} edges; expected {_EDGES}, two per "
            f"intermediate node 2..{NUM_NODES + 1}"
        )
    out: list[Edge] = []
    for i in range(NUM_NODES):
        node = i + 2
        pair = []
        for k in (2 * i, 2 * i + 1):
            op, src = edges[k]
            _check_op_name(op, cell, text)
            src = _check_int(src, "input", cell, text)
            if not 0 <= src < node:
                raise InvalidArchitecture(
                    f"edge {k} ({op}~{src}) of the {cell} cell of {text} feeds node {node} "
                    f"from input {src}; node {node} may only take inputs 0..{node - 1} "
                    "(0, 1 the cell inputs, 2.. earlier intermediate nodes)"
                )
            pair.append((op, src))
        if pair[0][1] == pair[1][1]:
            raise InvalidArchitecture(
                f"node {node} of the {cell} cell of {text} takes input {pair[0][1]} twice; "
                "the two inputs of a node must differ (DARTS keeps the two strongest edges "
                "from distinct predecessors)"
            )
        out.extend(sorted(pair, key=lambda e: e[1]))
    return tuple(out)


def _format_cell(edges: Sequence[Edge]) -> str:
    groups = [
        "|" + "|".join(f"{op}~{src}" for op, src in edges[2 * i : 2 * i + 2]) + "|"
        for i in range(NUM_NODES)
    ]
    return "+".join(groups)


def _format(genotype: DartsGenotype) -> str:
    return f"normal={_format_cell(genotype.normal)};reduce={_format_cell(genotype.reduce)}"


def _make(normal: Sequence[Edge], reduce: Sequence[Edge], text: str) -> DartsGenotype:
    return DartsGenotype(_check_cell(normal, "normal", text), _check_cell(reduce, "reduce", text))


def _short(arch: object) -> str:
    text = repr(arch)
    return text if len(text) <= 300 else text[:297] + "..."


# ---- the spellings ------------------------------------------------------------------------
def _parse_id(text: str) -> DartsGenotype:
    compact = re.sub(r"\s+", "", text)
    parts = compact.split(";")
    if len(parts) != 2:
        raise InvalidArchitecture(
            f"NAS-Bench-301 id {_short(text)} has {len(parts)} cell(s) separated by ';'; "
            + _EXPECTED
        )
    cells: dict[str, list[Edge]] = {}
    for part, cell in zip(parts, CELLS, strict=True):
        m = _ID_CELL.match(part)
        if not m or m.group(1) != cell:
            raise InvalidArchitecture(
                f"cell {part[:80]!r} of NAS-Bench-301 id {_short(text)} must start with "
                f"'{cell}='; " + _EXPECTED
            )
        groups = m.group(2).split("+")
        if len(groups) != NUM_NODES:
            raise InvalidArchitecture(
                f"the {cell} cell of NAS-Bench-301 id {_short(text)} has {len(groups)} node "
                f"groups separated by '+'; expected {NUM_NODES} ('|op~in|op~in|' each)"
            )
        edges: list[Edge] = []
        for node, group in enumerate(groups, start=2):
            tokens = group[1:-1].split("|") if len(group) >= 2 else []
            if not (group.startswith("|") and group.endswith("|")) or len(tokens) != 2:
                raise InvalidArchitecture(
                    f"node {node} of the {cell} cell of NAS-Bench-301 id {_short(text)} is "
                    f"{group!r}; expected two edges '|op~in|op~in|'"
                )
            for tok in tokens:
                t = _TOKEN.match(tok)
                if not t:
                    raise InvalidArchitecture(
                        f"edge {tok!r} of NAS-Bench-301 id {_short(text)} is not 'op~input' "
                        f"with op in {', '.join(OPS)}"
                    )
                edges.append((t.group(1), int(t.group(2))))
        cells[cell] = edges
    return _make(cells["normal"], cells["reduce"], _short(text))


def _split_top_level(body: str) -> list[str]:
    parts, depth, start, quote = [], 0, 0, ""
    for i, ch in enumerate(body):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(body[start:i])
            start = i + 1
    parts.append(body[start:])
    return [p for p in parts if p.strip()]


def _literal(value: str, where: str) -> Any:
    m = _RANGE.match(re.sub(r"\s+", "", value))
    if m:
        return list(range(int(m.group(1)), int(m.group(2))))
    try:
        return ast.literal_eval(value.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise InvalidArchitecture(
            f"cannot read {value.strip()[:80]!r} in {where}; expected a list literal of "
            "(op, input) pairs, or [2, 3, 4, 5] / range(2, 6) for a concat"
        ) from None


def _check_concat(value: object, key: str, text: str) -> None:
    concat = tuple(value) if isinstance(value, Iterable) else (value,)
    if concat != CONCAT:
        raise InvalidArchitecture(
            f"{key}={value!r} in {text}; every NAS-Bench-301 cell concatenates nodes {list(CONCAT)}"
        )


def _pairs(value: object, key: str, text: str) -> list[Edge]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise InvalidArchitecture(
            f"{key} of {text} is {_short(value)}; expected a list of (op, input) pairs"
        )
    out: list[Edge] = []
    for item in value:
        if (
            isinstance(item, (str, bytes))
            or not isinstance(item, Sequence)
            or len(item) != 2
            or not isinstance(item[0], str)
        ):
            raise InvalidArchitecture(
                f"entry {_short(item)} of {key} in {text} is not an (op, input) pair like "
                "('sep_conv_3x3', 0)"
            )
        out.append((item[0], item[1]))
    return out


def _from_fields(fields: Mapping[str, Any], text: str) -> DartsGenotype:
    for cell in CELLS:
        if cell not in fields:
            raise InvalidArchitecture(f"{text} has no '{cell}' cell; " + _EXPECTED)
        concat_key = f"{cell}_concat"
        if concat_key in fields:
            _check_concat(fields[concat_key], concat_key, text)
    return _make(
        _pairs(fields["normal"], "normal", text), _pairs(fields["reduce"], "reduce", text), text
    )


def _parse_genotype_text(text: str) -> DartsGenotype:
    m = _GENOTYPE_TEXT.match(text)
    short = _short(text)
    if not m:
        raise InvalidArchitecture(f"cannot parse DARTS genotype {short}; " + _EXPECTED)
    fields: dict[str, Any] = {}
    allowed = ("normal", "normal_concat", "reduce", "reduce_concat")
    for part in _split_top_level(m.group(1)):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or key not in allowed:
            raise InvalidArchitecture(
                f"argument {part.strip()[:80]!r} of DARTS genotype {short} is not one of "
                f"{', '.join(k + '=...' for k in allowed)}"
            )
        if key in fields:
            raise InvalidArchitecture(f"DARTS genotype {short} gives {key}= twice")
        fields[key] = _literal(value, f"{key}= of DARTS genotype {short}")
    return _from_fields(fields, short)


def _from_compact(compact: Sequence[Any], text: str) -> DartsGenotype:
    """NASLib's ``[[(input, op) x 8], [(input, op) x 8]]``."""
    cells = []
    for cell, edges in zip(CELLS, compact, strict=True):
        if isinstance(edges, (str, bytes)) or not isinstance(edges, Sequence):
            raise InvalidArchitecture(
                f"the {cell} cell of NASLib architecture {text} is {_short(edges)}; expected "
                "8 (input, op) pairs"
            )
        pairs: list[Edge] = []
        for item in edges:
            if isinstance(item, (str, bytes)) or not isinstance(item, Sequence) or len(item) != 2:
                raise InvalidArchitecture(
                    f"entry {_short(item)} of the {cell} cell of NASLib architecture {text} "
                    "is not an (input, op) pair of integers"
                )
            src = _check_int(item[0], "input", cell, text)
            op = _check_int(item[1], "op index", cell, text)
            if not 0 <= op < len(OPS):
                raise InvalidArchitecture(
                    f"op index {op} in the {cell} cell of NASLib architecture {text} is out of "
                    f"range; expected 0..{len(OPS) - 1} ({_ops_listing()})"
                )
            pairs.append((OPS[op], src))
        cells.append(pairs)
    return _make(cells[0], cells[1], text)


def _from_sequence(arch: Sequence[Any], text: str) -> DartsGenotype:
    items = list(arch)
    if len(items) != 2:
        raise InvalidArchitecture(
            f"NAS-Bench-301 architecture {text} has {len(items)} cell(s); expected 2 (normal, "
            "reduce); " + _EXPECTED
        )
    first = _first_pair(items)
    if first is not None and isinstance(first[0], str):
        return _make(_pairs(items[0], "normal", text), _pairs(items[1], "reduce", text), text)
    return _from_compact(items, text)


def _first_pair(items: Sequence[Any]) -> Sequence[Any] | None:
    for cell in items:
        if isinstance(cell, Sequence) and not isinstance(cell, (str, bytes)) and len(cell):
            first = cell[0]
            if isinstance(first, Sequence) and not isinstance(first, (str, bytes)) and first:
                return first
    return None


def _parse(arch: ArchLike) -> DartsGenotype:
    if isinstance(arch, str):
        text = arch.strip()
        if len(text) > _MAX_TEXT:
            raise InvalidArchitecture(
                f"NAS-Bench-301 architecture text of {len(text)} characters is too long; "
                + _EXPECTED
            )
        if not text:
            raise InvalidArchitecture("empty NAS-Bench-301 architecture; " + _EXPECTED)
        if "~" in text:
            return _parse_id(text)
        if "Genotype" in text:
            return _parse_genotype_text(text)
        if text[0] in "[(":
            value = _literal(text, f"NAS-Bench-301 architecture {_short(text)}")
            if isinstance(value, (list, tuple)):
                return _from_sequence(value, _short(text))
        raise InvalidArchitecture(
            f"cannot parse NAS-Bench-301 architecture {_short(arch)}; " + _EXPECTED
        )
    if isinstance(arch, Mapping):
        return _from_fields(arch, _short(arch))
    if hasattr(arch, "normal") and hasattr(arch, "reduce"):
        fields = {
            k: getattr(arch, k)
            for k in ("normal", "normal_concat", "reduce", "reduce_concat")
            if hasattr(arch, k)
        }
        return _from_fields(fields, _short(arch))
    if hasattr(arch, "tolist"):  # a NumPy array of NASLib's compact form
        arch = arch.tolist()
    if isinstance(arch, Sequence) and not isinstance(arch, bytes):
        return _from_sequence(arch, _short(arch))
    raise InvalidArchitecture(
        f"cannot interpret {_short(arch)} of type {type(arch).__name__} as a NAS-Bench-301 "
        "architecture; " + _EXPECTED
    )


# ---- conversions ----------------------------------------------------------------------------
def to_naslib(arch: ArchLike) -> tuple[tuple[tuple[int, int], ...], ...]:
    """Any spelling -> NASLib's compact ``((input, op) x 8, (input, op) x 8)``, canonically
    ordered."""
    g = _parse(arch)
    return tuple(tuple((src, OPS.index(op)) for op, src in cell) for cell in g)


def from_naslib(compact: Sequence[Sequence[Sequence[int]]]) -> str:
    """NASLib's compact form -> canonical id."""
    if isinstance(compact, (str, bytes)) or not isinstance(compact, Sequence):
        raise InvalidArchitecture(
            f"NASLib architecture {_short(compact)} is not a pair of cells; expected "
            "[[(input, op) x 8], [(input, op) x 8]] (use NB301Space.canonical for text)"
        )
    return _format(_from_sequence(compact, _short(compact)))


def to_darts(arch: ArchLike) -> str:
    """Any spelling -> the DARTS ``Genotype(...)`` text (canonical edge order)."""
    g = _parse(arch)
    concat = list(CONCAT)
    return (
        f"Genotype(normal={list(g.normal)}, normal_concat={concat}, "
        f"reduce={list(g.reduce)}, reduce_concat={concat})"
    )


# ---- the space ------------------------------------------------------------------------------
@SPACES.register("nb301")
class NB301Space(SearchSpace):
    """DARTS / NAS-Bench-301: normal + reduction cell, 4 nodes x 2 edges x 7 operations."""

    name = "nb301"
    description = "DARTS / NAS-Bench-301 cell space, ~1e18 archs (Liu et al., ICLR 2019)"
    input_shape = (3, 32, 32)

    # ---- ids -------------------------------------------------------------------------
    def canonical(self, arch: ArchLike) -> str:
        return _format(_parse(arch))

    @staticmethod
    def genotype_of(arch: ArchLike) -> DartsGenotype:
        """The validated genotype of any spelling (edges canonically ordered)."""
        return _parse(arch)

    # ---- sampling and edits ------------------------------------------------------------
    def sample(self, seed: SeedLike = None) -> str:
        """Uniform over ids, as NASLib samples: per node two distinct inputs and two ops."""
        rng = as_rng(seed)
        cells = []
        for _ in CELLS:
            edges: list[Edge] = []
            for i in range(NUM_NODES):
                inputs = rng.choice(i + 2, size=2, replace=False)
                ops = rng.integers(len(OPS), size=2)
                edges.extend((OPS[int(o)], int(s)) for o, s in zip(ops, inputs, strict=True))
            cells.append(edges)
        return _format(_make(cells[0], cells[1], "a sampled architecture"))

    def mutate(self, arch: ArchLike, seed: SeedLike = None) -> str:
        """One NASLib-style edit: pick a cell and one of its eight edges uniformly, then
        (with probability 1/2) rewire it to another input not used by its node, or change
        its operation to a different one (always the latter when no other input exists)."""
        rng = as_rng(seed)
        cells = [list(c) for c in _parse(arch)]
        cell = int(rng.integers(len(CELLS)))
        k = int(rng.integers(_EDGES))
        rewire = bool(rng.integers(2))
        op, src = cells[cell][k]
        node = k // 2 + 2
        other = cells[cell][k ^ 1][1]
        inputs = [j for j in range(node) if j not in (src, other)]
        if rewire and inputs:
            cells[cell][k] = (op, inputs[int(rng.integers(len(inputs)))])
        else:
            ops = [o for o in OPS if o != op]
            cells[cell][k] = (ops[int(rng.integers(len(ops)))], src)
        return _format(_make(cells[0], cells[1], "a mutated architecture"))

    def neighbours(self, arch: ArchLike) -> list[str]:
        """Every single edit (one edge's op, or one edge's input), deduplicated: 120 ids
        (per cell 8 x 6 op changes and 0 + 2 + 4 + 6 rewirings)."""
        base = [list(c) for c in _parse(arch)]
        me = _format(DartsGenotype(tuple(base[0]), tuple(base[1])))
        out: dict[str, None] = {}
        for cell in range(len(CELLS)):
            for k in range(_EDGES):
                op, src = base[cell][k]
                other = base[cell][k ^ 1][1]
                edits = [(o, src) for o in OPS if o != op]
                edits += [(op, j) for j in range(k // 2 + 2) if j not in (src, other)]
                for edge in edits:
                    cells = [list(c) for c in base]
                    cells[cell][k] = edge
                    out.setdefault(_format(_make(cells[0], cells[1], "a neighbour")), None)
        out.pop(me, None)
        return list(out)

    # ---- models ------------------------------------------------------------------------
    def build(
        self,
        arch: ArchLike,
        *,
        num_classes: int = 10,
        variant: str = "suite_zero",
        channels: int | None = None,
        layers: int | None = None,
        auxiliary: bool = False,
    ) -> nn.Module:
        """Build the DARTS network of ``arch`` (freshly initialised, drop-path off).

        Args:
            num_classes: Output size.
            variant: ``"suite_zero"`` (default): the network NAS-Bench-Suite-Zero scored,
                NASLib's NAS-Bench-301 graph (initial width 32, 8 cells, stem 96 channels,
                non-affine batch norms inside the edge operations and after pooling edges);
                it reproduces Suite-Zero's ``params`` exactly. ``"darts"``: the DARTS CIFAR
                evaluation network (width 36, 20 cells, affine batch norms).
            channels: Initial width ``C`` (stages C, 2C, 4C); default from ``variant``.
                ``channels=16`` gives the DARTS search-phase width (stem 48).
            layers: Number of cells, reductions at ``layers // 3`` and
                ``2 * layers // 3``; default from ``variant``.
            auxiliary: Add the DARTS auxiliary head (its logits are stored on the model's
                ``aux_logits`` in training mode; ``forward`` returns the main logits).
        """
        g = _parse(arch)
        if variant not in VARIANTS:
            close = difflib.get_close_matches(str(variant), VARIANTS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise UnknownNameError(
                f"unknown NAS-Bench-301 network variant {variant!r}{hint} choices: "
                f"{', '.join(VARIANTS)}"
            )
        cfg = dict(VARIANTS[variant])
        if channels is not None:
            cfg["channels"] = channels
        if layers is not None:
            cfg["layers"] = layers
        return DartsNetwork(
            g.normal,
            g.reduce,
            num_classes=num_classes,
            auxiliary=auxiliary,
            **cfg,
        )

    def cell_module(
        self, arch: ArchLike, *, seed: int = 0
    ) -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
        """The normal cell followed by the reduction cell of the ``suite_zero`` network
        (initial width 32), inputs two ``(1, 128, 32, 32)`` states."""
        generator = torch.Generator().manual_seed(seed)
        g = _parse(arch)
        cfg = VARIANTS["suite_zero"]
        module = DartsCellPair(
            g.normal, g.reduce, cfg["channels"], affine=cfg["affine"], pool_bn=cfg["pool_bn"]
        )
        x = torch.randn(1, 128, 32, 32, generator=generator)
        return module, (x, x.clone())

    # ---- capabilities ------------------------------------------------------------------
    @property
    def encodings(self) -> Mapping[str, SpaceEncoding]:
        """``onehot`` and ``path`` (see :mod:`nasrank.spaces._nb301_encodings`)."""
        return _ENCODINGS


_ENCODINGS = make_encodings(_parse, OPS, NUM_NODES, CONCAT)
