"""NAS-Bench-201 search space (Dong & Yang, "NAS-Bench-201: Extending the Scope of
Reproducible Neural Architecture Search", ICLR 2020).

A cell is a 4-node DAG whose six edges each carry one of five operations: 5^6 = 15,625
architectures. The canonical id is the benchmark's official string::

    |nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|

listing, node by node, each incoming edge as ``op~source``: edges 0->1 | 0->2, 1->2 |
0->3, 1->3, 2->3.

Accepted spellings (all parsed by :meth:`NB201Space.canonical`):

* the official string (whitespace ignored);
* NASLib's 6-tuple of op indices (0 skip_connect, 1 none, 2 nor_conv_3x3, 3 nor_conv_1x1,
  4 avg_pool_3x3) over edges (1,2),(1,3),(1,4),(2,3),(2,4),(3,4) of nodes 1..4, i.e.
  tuple position k <-> official edges 0->1, 0->2, 0->3, 1->2, 1->3, 2->3; as a tuple/list
  of ints or its text ``"(2, 2, 4, 0, 2, 0)"``;
* a list of six op names in official edge order.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping, Sequence

import torch
from torch import nn

from nasrank._random import SeedLike, as_rng
from nasrank.errors import InvalidArchitecture
from nasrank.spaces._nb201_encodings import make_encodings
from nasrank.spaces._nb201_model import Cell, NB201Network
from nasrank.spaces.base import ArchLike, SearchSpace
from nasrank.spaces.codec import IndexCodec
from nasrank.spaces.encoding import SpaceEncoding
from nasrank.spaces.registry import SPACES

__all__ = ["NB201Space", "OPS", "EDGES", "NASLIB_OPS", "to_naslib", "from_naslib"]

#: Operation vocabulary in the benchmark's own spelling and order.
OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
#: Edges ``(src, dst)`` in the official string's order.
EDGES: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
#: NASLib's op index -> op name.
NASLIB_OPS: tuple[str, ...] = (
    "skip_connect",
    "none",
    "nor_conv_3x3",
    "nor_conv_1x1",
    "avg_pool_3x3",
)
#: NASLib tuple position of each official edge (official order 0->1, 0->2, 1->2, 0->3, 1->3, 2->3).
_NASLIB_POSITION: tuple[int, ...] = (0, 1, 3, 2, 4, 5)

_TOKEN = re.compile(r"^([a-z0-9_]+)~(\d+)$")
_INT_LIST = re.compile(r"^[\(\[]?\s*\d+(\s*,\s*\d+)*\s*,?\s*[\)\]]?$")


def _format(ops: Sequence[str]) -> str:
    a, b, c, d, e, f = ops
    return f"|{a}~0|+|{b}~0|{c}~1|+|{d}~0|{e}~1|{f}~2|"


def _index_of(arch: str) -> int:
    """Canonical id -> position in :meth:`NB201Space.enumerate` (base-5 digits of the ops)."""
    ops = list(NB201Space.ops_of(arch))
    if len(ops) != len(EDGES) or any(op not in OPS for op in ops) or _format(ops) != arch:
        raise ValueError(f"not a canonical NB-201 id: {arch!r}")
    index = 0
    for op in ops:
        index = index * len(OPS) + OPS.index(op)
    return index


def _arch_at(index: int) -> str:
    """Position in :meth:`NB201Space.enumerate` -> canonical id."""
    size = len(OPS) ** len(EDGES)
    if not 0 <= index < size:
        raise ValueError(f"NB-201 index {index} is outside 0..{size - 1}")
    ops = []
    for _ in EDGES:
        index, digit = divmod(index, len(OPS))
        ops.append(OPS[digit])
    return _format(ops[::-1])


_INDEX_CODEC = IndexCodec(
    "nb201",
    len(OPS) ** len(EDGES),
    "sum over the 6 edges k in official order (0->1, 0->2, 1->2, 0->3, 1->3, 2->3) of "
    f"OPS.index(op_k) * 5**(5 - k), OPS = {list(OPS)}; equals the position in "
    "NB201Space.enumerate()",
    _index_of,
    _arch_at,
)


def to_naslib(arch: str) -> tuple[int, ...]:
    """Canonical id -> NASLib 6-tuple of op indices."""
    ops = NB201Space.ops_of(arch)
    out = [0] * 6
    for official, pos in enumerate(_NASLIB_POSITION):
        out[pos] = NASLIB_OPS.index(ops[official])
    return tuple(out)


def from_naslib(indices: Sequence[int]) -> str:
    """NASLib 6-tuple of op indices -> canonical id."""
    text = repr(tuple(indices))
    if len(indices) != 6:
        raise InvalidArchitecture(
            f"NAS-Bench-201 NASLib tuple {text} has {len(indices)} entries; expected 6 op "
            f"indices in 0..4 ({', '.join(f'{i} {o}' for i, o in enumerate(NASLIB_OPS))})"
        )
    for v in indices:
        if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v < len(NASLIB_OPS):
            raise InvalidArchitecture(
                f"NAS-Bench-201 NASLib tuple {text} contains {v!r}; expected op indices in 0..4 "
                f"({', '.join(f'{i} {o}' for i, o in enumerate(NASLIB_OPS))})"
            )
    return _format([NASLIB_OPS[indices[pos]] for pos in _NASLIB_POSITION])


@SPACES.register("nb201")
class NB201Space(SearchSpace):
    """NAS-Bench-201: 15,625 cells of 6 edges x 5 operations, stacked 3 x 5 (C = 16/32/64)."""

    name = "nb201"
    description = "NAS-Bench-201 cell space, 15,625 archs (Dong & Yang, ICLR 2020)"
    input_shape = (3, 32, 32)

    # ---- ids -------------------------------------------------------------------------
    def canonical(self, arch: ArchLike) -> str:
        if isinstance(arch, str):
            text = arch.strip()
            if "~" in text or "|" in text:
                return _format(self._parse_official(text))
            if _INT_LIST.match(text):
                return from_naslib([int(v) for v in re.findall(r"\d+", text)])
            raise InvalidArchitecture(
                f"cannot parse NAS-Bench-201 architecture {arch!r}; expected the official string "
                "like '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|"
                "nor_conv_3x3~1|skip_connect~2|' or a NASLib tuple like '(2, 2, 4, 0, 2, 0)'"
            )
        if isinstance(arch, Sequence):
            items = list(arch)
            if items and all(isinstance(v, str) for v in items):
                return _format(self._check_op_names(items, repr(arch)))
            return from_naslib(items)
        raise InvalidArchitecture(
            f"cannot interpret {arch!r} of type {type(arch).__name__} as a NAS-Bench-201 "
            "architecture; expected the official string, a NASLib 6-tuple or 6 op names"
        )

    @staticmethod
    def ops_of(arch: str) -> tuple[str, ...]:
        """Op names of a canonical id, in official edge order."""
        return tuple(tok.split("~")[0] for tok in arch.strip("|").replace("|+|", "|").split("|"))

    @staticmethod
    def _check_op_names(ops: Sequence[str], text: str) -> list[str]:
        if len(ops) != 6:
            raise InvalidArchitecture(
                f"NAS-Bench-201 op list {text} has {len(ops)} ops; expected 6, one per edge "
                "0->1, 0->2, 1->2, 0->3, 1->3, 2->3"
            )
        for op in ops:
            if op not in OPS:
                raise InvalidArchitecture(
                    f"unknown NAS-Bench-201 operation {op!r} in {text}; expected one of "
                    f"{', '.join(OPS)}"
                )
        return list(ops)

    def _parse_official(self, text: str) -> list[str]:
        compact = re.sub(r"\s+", "", text)
        nodes = compact.split("+")
        expected = "expected '|op~0|+|op~0|op~1|+|op~0|op~1|op~2|' with op in " + ", ".join(OPS)
        if len(nodes) != 3:
            raise InvalidArchitecture(
                f"NAS-Bench-201 string {text!r} has {len(nodes)} node groups separated by '+'; "
                + expected
            )
        ops: list[str] = []
        for dst, group in enumerate(nodes, start=1):
            if not (group.startswith("|") and group.endswith("|")):
                raise InvalidArchitecture(
                    f"node group {group!r} of NAS-Bench-201 string {text!r} must start and end "
                    f"with '|'; " + expected
                )
            tokens = group[1:-1].split("|")
            if len(tokens) != dst:
                raise InvalidArchitecture(
                    f"node {dst} of NAS-Bench-201 string {text!r} has {len(tokens)} incoming "
                    f"edges; expected {dst}; " + expected
                )
            for src, tok in enumerate(tokens):
                m = _TOKEN.match(tok)
                if not m:
                    raise InvalidArchitecture(
                        f"edge {tok!r} of NAS-Bench-201 string {text!r} is not 'op~source'; "
                        + expected
                    )
                op, given_src = m.group(1), int(m.group(2))
                if op not in OPS:
                    raise InvalidArchitecture(
                        f"unknown NAS-Bench-201 operation {op!r} in {text!r}; expected one of "
                        f"{', '.join(OPS)}"
                    )
                if given_src != src:
                    raise InvalidArchitecture(
                        f"edge {tok!r} into node {dst} of {text!r} names source {given_src}; "
                        f"expected source {src} (edges are listed in source order)"
                    )
                ops.append(op)
        return ops

    # ---- enumeration, sampling, edits ----------------------------------------------------
    @property
    def size(self) -> int:
        return len(OPS) ** len(EDGES)

    def enumerate(self) -> Iterator[str]:
        """All 15,625 ids, the last edge varying fastest (ops in :data:`OPS` order)."""
        for ops in itertools.product(OPS, repeat=len(EDGES)):
            yield _format(ops)

    def sample(self, seed: SeedLike = None) -> str:
        rng = as_rng(seed)
        return _format([OPS[i] for i in rng.integers(len(OPS), size=len(EDGES))])

    def mutate(self, arch: ArchLike, seed: SeedLike = None) -> str:
        """Change the operation of one uniformly chosen edge to a different one."""
        rng = as_rng(seed)
        ops = list(self.ops_of(self.canonical(arch)))
        edge = int(rng.integers(len(EDGES)))
        choices = [op for op in OPS if op != ops[edge]]
        ops[edge] = choices[int(rng.integers(len(choices)))]
        return _format(ops)

    def neighbours(self, arch: ArchLike) -> list[str]:
        """The 24 architectures that differ in exactly one edge's operation."""
        ops = list(self.ops_of(self.canonical(arch)))
        out = []
        for edge in range(len(EDGES)):
            for op in OPS:
                if op != ops[edge]:
                    out.append(_format(ops[:edge] + [op] + ops[edge + 1 :]))
        return out

    # ---- models ------------------------------------------------------------------------
    def build(
        self,
        arch: ArchLike,
        *,
        num_classes: int = 10,
        channels: int = 16,
        cells_per_stage: int = 5,
    ) -> nn.Module:
        """The benchmark network: stem, 3 stages x ``cells_per_stage`` cells of width
        ``channels``, 2x, 4x, residual reductions, BN-ReLU, global pool, linear."""
        ops = self.ops_of(self.canonical(arch))
        edges = [(src, dst, op) for (src, dst), op in zip(EDGES, ops)]
        return NB201Network(
            edges, channels=channels, cells_per_stage=cells_per_stage, num_classes=num_classes
        )

    def cell_module(
        self, arch: ArchLike, *, seed: int = 0
    ) -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
        """One cell at 16 channels (the first stage's), input ``(1, 16, 32, 32)``."""
        ops = self.ops_of(self.canonical(arch))
        edges = [(s, d, op) for (s, d), op in zip(EDGES, ops)]
        generator = torch.Generator().manual_seed(seed)
        return Cell(edges, 16), (torch.randn(1, 16, 32, 32, generator=generator),)

    # ---- capabilities ------------------------------------------------------------------
    @property
    def encodings(self) -> Mapping[str, SpaceEncoding]:
        """``onehot``, ``onehot-pruned`` and ``path`` (see
        :mod:`nasrank.spaces._nb201_encodings`)."""
        return _ENCODINGS

    @property
    def index_codec(self) -> IndexCodec:
        """The 5^6 index over the six edge ops; equals the position in :meth:`enumerate`."""
        return _INDEX_CODEC


def _ops_of_any(arch: ArchLike) -> tuple[str, ...]:
    return NB201Space.ops_of(NB201Space().canonical(arch))


_ENCODINGS = make_encodings(_ops_of_any, EDGES, OPS)
