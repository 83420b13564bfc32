"""NAS-Bench-Graph search space (Qin et al., "NAS-Bench-Graph: Benchmarking Graph Neural
Architecture Search", NeurIPS 2022 Datasets and Benchmarks).

A GNN has four computing nodes. Node ``i`` (1..4) reads exactly one earlier tensor,
``link[i-1]`` in ``0..i-1`` (0 is the pre-processed node features) and applies one
operation from :data:`OPS`; the outputs of the leaf nodes (nodes no other node reads) are
concatenated and fed to the classifier. ``skip`` is the identity.

Many (link, ops) pairs compute the same network. The benchmark keeps one layout per
equivalence class, 26,206 in all, and keys its tables by an integer hash of that layout.
This module re-derives the classes from the semantics (the reference implementation,
``nas_bench_graph/architecture.py`` of the PyPI package ``nas-bench-graph``, reaches the same
classes with a sequence of rewrite rules; it is not imported here):

1. *Contract the identities.* Every ``skip`` node takes the value of its input, so the
   network is a rooted tree of computing (non-skip) nodes, each marked with how many leaf
   outputs carry its value. A leaf that carries the raw input (a chain of skips from node
   0) adds nothing: the benchmark treats it as absent.
2. *Re-express the tree with four nodes.* A computing node whose value is output ``c``
   times gets ``c`` skip leaves under it, except a childless node output once, which is
   itself the leaf. The remaining nodes become a chain of skips in front (the input passed
   through), and everything that read the input reads the end of that chain.
3. *Lay it out in the benchmark's order.* The resulting 4-node tree has one of nine rooted
   shapes, :data:`LINKS`, each with a fixed node order; among the orders of that shape
   (its automorphisms) the one with the lexicographically smallest ops, in :data:`OPS`
   order, is canonical.

Two architectures are equivalent exactly when their canonical layouts agree; on all 157,440
inputs (24 link lists x 9^4 op lists, minus the all-skip ones) this agrees with the
reference implementation's ``Arch(link, ops).valid_hash()`` (checked in the test suite).

Canonical id: ``link=0,0,1,3;ops=gcn,gat,sage,fc`` (the canonical layout). Accepted
spellings (all parsed by :meth:`NBGraphSpace.canonical`):

* the id string, in any layout (it is canonicalised; whitespace ignored, fields in any order);
* a mapping ``{"link": [0, 0, 1, 2], "ops": ["gcn", "gat", "sage", "skip"]}``;
* a pair ``(link, ops)``;
* the benchmark's hash as a string, ``"30124"`` or ``"hash=30124"``: ``index in LINKS *
  10**4`` plus the four op indices into :data:`OPS` as decimal digits. A bare ``int`` is
  rejected: the space contract (``tests/spaces/test_contract.py``) requires integers such
  as ``12345``, itself a valid hash, to be invalid ids; convert one with :func:`from_hash`.
"""

from __future__ import annotations

import difflib
import functools
import itertools
import numbers
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from nasrank._random import SeedLike, as_rng
from nasrank.errors import InvalidArchitecture, UnknownNameError
from nasrank.spaces._nbgraph_model import NBGraphNetwork
from nasrank.spaces.base import ArchLike, SearchSpace
from nasrank.spaces.registry import SPACES

if TYPE_CHECKING:
    from torch import nn

__all__ = [
    "NBGraphSpace",
    "OPS",
    "PROTEINS_OPS",
    "LINKS",
    "NUM_NODES",
    "arch_hash",
    "from_hash",
    "format_id",
    "DATASETS",
    "DatasetSetting",
    "dataset_setting",
]

#: Operation vocabulary in the benchmark's own spelling and order (hash digits index it).
OPS: tuple[str, ...] = ("gat", "gcn", "gin", "cheb", "sage", "arma", "graph", "fc", "skip")
#: The reduced vocabulary the benchmark evaluated on ogbn-proteins.
PROTEINS_OPS: tuple[str, ...] = ("gcn", "sage", "arma", "fc", "skip")
#: The nine canonical link patterns (one per rooted tree shape), in hash order.
LINKS: tuple[tuple[int, ...], ...] = (
    (0, 0, 0, 0),
    (0, 0, 0, 1),
    (0, 0, 1, 1),
    (0, 0, 1, 2),
    (0, 0, 1, 3),
    (0, 1, 1, 1),
    (0, 1, 1, 2),
    (0, 1, 2, 2),
    (0, 1, 2, 3),
)
#: Computing nodes per architecture.
NUM_NODES = 4


class DatasetSetting(NamedTuple):
    """The benchmark's network for one dataset: feature width, classes and the shape
    hyper-parameters (pre-/post-processing layers, width)."""

    in_channels: int
    num_classes: int
    hidden: int
    num_pre: int
    num_post: int


#: The nine datasets of the benchmark and the network it trained on each. Widths and layer
#: counts are those for which the builder's parameter counts reproduce the table's ``para``
#: column (each setting is the only one of hidden in {64, 128, 256} x num_pre, num_post in
#: {0, 1, 2} that does); ogbn-proteins' 8 input features are its edge features averaged per
#: node, its 112 outputs binary tasks (metric: ROC-AUC) and its table covers only
#: :data:`PROTEINS_OPS`.
DATASETS: dict[str, DatasetSetting] = {
    "cora": DatasetSetting(1433, 7, 256, 0, 1),
    "citeseer": DatasetSetting(3703, 6, 256, 0, 1),
    "pubmed": DatasetSetting(500, 3, 128, 0, 0),
    "cs": DatasetSetting(6805, 15, 128, 1, 0),
    "physics": DatasetSetting(8415, 5, 256, 1, 0),
    "photo": DatasetSetting(745, 8, 128, 0, 0),
    "computers": DatasetSetting(767, 10, 64, 1, 1),
    "arxiv": DatasetSetting(128, 40, 128, 0, 1),
    "proteins": DatasetSetting(8, 112, 256, 1, 1),
}


def dataset_setting(dataset: str) -> DatasetSetting:
    """The :data:`DATASETS` entry of ``dataset`` (case-insensitive).

    Raises:
        UnknownNameError: Not one of the nine datasets (with the closest match).
    """
    key = dataset.strip().lower()
    if key not in DATASETS:
        close = difflib.get_close_matches(key, list(DATASETS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise UnknownNameError(
            f"unknown NAS-Bench-Graph dataset {dataset!r}{hint} choices: {', '.join(DATASETS)}"
        )
    return DATASETS[key]


_SKIP = OPS.index("skip")
_OP_INDEX = {op: i for i, op in enumerate(OPS)}
_LINK_INDEX = {link: i for i, link in enumerate(LINKS)}
_ID_FIELD = re.compile(r"^(link|ops|hash)=(.*)$")
_DIGITS = re.compile(r"^[0-9]+$")
_EXPECTED = (
    "expected 'link=0,0,1,3;ops=gcn,gat,sage,fc' (node i reads node 0..i-1, 0 = input; "
    f"ops from {', '.join(OPS)}), a dict {{'link': [...], 'ops': [...]}}, a (link, ops) "
    "pair or a benchmark hash string like '30124'"
)

#: A layout: (link list, op indices into :data:`OPS`).
Layout = tuple[tuple[int, ...], tuple[int, ...]]


# ---- the nine shapes ---------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _orders() -> dict[tuple[int, ...], tuple[int, tuple[tuple[int, ...], ...]]]:
    """For every valid link list: its shape's index in :data:`LINKS` and every node order
    (``order[j]`` = old node placed at position ``j``) that turns it into that pattern."""
    table: dict[tuple[int, ...], tuple[int, tuple[tuple[int, ...], ...]]] = {}
    for link in itertools.product(*(range(i + 1) for i in range(NUM_NODES))):
        found: dict[int, list[tuple[int, ...]]] = {}
        for order in itertools.permutations(range(NUM_NODES)):
            new_pos = {old: new for new, old in enumerate(order)}
            relinked = tuple(0 if link[old] == 0 else new_pos[link[old] - 1] + 1 for old in order)
            if relinked in _LINK_INDEX:
                found.setdefault(_LINK_INDEX[relinked], []).append(order)
        assert len(found) == 1, (link, found)  # one rooted shape per link list
        ((index, orders),) = found.items()
        table[link] = (index, tuple(orders))
    return table


# ---- canonicalisation ----------------------------------------------------------------------
def _normal_form(link: Sequence[int], ops: Sequence[int]) -> Layout:
    """Steps 1-2 of the module docstring: contract skips, re-express with four nodes."""
    # value[n]: the computing node whose output node n carries (0 = the raw input)
    value = [0] * (NUM_NODES + 1)
    for i in range(NUM_NODES):
        value[i + 1] = value[link[i]] if ops[i] == _SKIP else i + 1
    computing = [i + 1 for i in range(NUM_NODES) if ops[i] != _SKIP]
    parent = {n: value[link[n - 1]] for n in computing}
    has_child = set(parent.values())
    outputs = {n: 0 for n in computing}
    for n in range(1, NUM_NODES + 1):
        if n not in link and value[n] != 0:  # a leaf; raw-input leaves add nothing
            outputs[value[n]] += 1
    skip_leaves = {n: (c if (n in has_child or c > 1) else 0) for n, c in outputs.items()}
    chain = NUM_NODES - len(computing) - sum(skip_leaves.values())
    new_link: list[int] = list(range(chain))  # skips passing the input along
    new_ops: list[int] = [_SKIP] * chain
    position = {0: chain}  # the input, as seen past the chain
    for n in computing:  # already in topological order
        new_link.append(position[parent[n]])
        new_ops.append(ops[n - 1])
        position[n] = len(new_link)
    for n in computing:
        for _ in range(skip_leaves[n]):
            new_link.append(position[n])
            new_ops.append(_SKIP)
    return tuple(new_link), tuple(new_ops)


def _canonical_layout(link: Sequence[int], ops: Sequence[int]) -> tuple[int, tuple[int, ...]]:
    """(index into :data:`LINKS`, op indices) of the canonical layout of a valid arch."""
    norm_link, norm_ops = _normal_form(link, ops)
    index, orders = _orders()[norm_link]
    return index, min(tuple(norm_ops[old] for old in order) for order in orders)


def format_id(link: Sequence[int], ops: Sequence[str]) -> str:
    """``link=...;ops=...`` for a layout, without canonicalising it."""
    return f"link={','.join(str(v) for v in link)};ops={','.join(ops)}"


def _id_of(index: int, ops: Sequence[int]) -> str:
    return format_id(LINKS[index], [OPS[o] for o in ops])


def _hash_of(index: int, ops: Sequence[int]) -> int:
    value = index
    for o in ops:
        value = value * 10 + o
    return value


# ---- validation ------------------------------------------------------------------------------
def _check_link(link: Any, text: str) -> tuple[int, ...]:
    if isinstance(link, (str, bytes)) or not isinstance(link, Sequence):
        raise InvalidArchitecture(
            f"NAS-Bench-Graph link {link!r} in {text} is not a list of {NUM_NODES} integers; "
            + _EXPECTED
        )
    if len(link) != NUM_NODES:
        raise InvalidArchitecture(
            f"NAS-Bench-Graph link {list(link)!r} in {text} has {len(link)} entries; expected "
            f"{NUM_NODES}, the input of each computing node"
        )
    out = []
    for i, v in enumerate(link):
        if not isinstance(v, numbers.Integral) or isinstance(v, bool) or not 0 <= v <= i:
            raise InvalidArchitecture(
                f"NAS-Bench-Graph link {list(link)!r} in {text}: node {i + 1} reads {v!r}; "
                f"expected an integer in 0..{i} (0 = the input, j = node j's output)"
            )
        out.append(int(v))
    return tuple(out)


def _check_ops(ops: Any, text: str) -> tuple[int, ...]:
    if isinstance(ops, (str, bytes)) or not isinstance(ops, Sequence):
        raise InvalidArchitecture(
            f"NAS-Bench-Graph ops {ops!r} in {text} is not a list of {NUM_NODES} op names; "
            + _EXPECTED
        )
    if len(ops) != NUM_NODES:
        raise InvalidArchitecture(
            f"NAS-Bench-Graph op list {list(ops)!r} in {text} has {len(ops)} ops; expected "
            f"{NUM_NODES}, one per computing node, from {', '.join(OPS)}"
        )
    out = []
    for op in ops:
        if op not in _OP_INDEX:
            close = difflib.get_close_matches(str(op), OPS, n=1)
            hint = f" did you mean {close[0]!r}?" if close else ""
            raise InvalidArchitecture(
                f"unknown NAS-Bench-Graph operation {op!r} in {text};{hint} expected one of "
                f"{', '.join(OPS)}"
            )
        out.append(_OP_INDEX[op])
    if all(o == _SKIP for o in out):
        raise InvalidArchitecture(
            f"NAS-Bench-Graph architecture {text} has only 'skip' operations; at least one "
            "node must compute something"
        )
    return tuple(out)


def _split_list(text: str) -> list[str]:
    return [t for t in text.strip("[]()").split(",") if t != ""]


def _parse_id_string(arch: str) -> tuple[Any, Any] | str:
    """``link=..;ops=..`` -> (link, ops); ``hash=N`` / digits -> the digit string."""
    compact = re.sub(r"\s+", "", arch)
    if _DIGITS.match(compact):
        return compact
    fields: dict[str, str] = {}
    for part in filter(None, compact.split(";")):
        m = _ID_FIELD.match(part)
        if not m or m.group(1) in fields:
            raise InvalidArchitecture(
                f"cannot parse NAS-Bench-Graph architecture {arch!r}; " + _EXPECTED
            )
        fields[m.group(1)] = m.group(2)
    if set(fields) == {"hash"} and _DIGITS.match(fields["hash"]):
        return fields["hash"]
    if set(fields) != {"link", "ops"}:
        raise InvalidArchitecture(
            f"cannot parse NAS-Bench-Graph architecture {arch!r}; " + _EXPECTED
        )
    link_tokens = _split_list(fields["link"])
    if not all(_DIGITS.match(t) for t in link_tokens):
        raise InvalidArchitecture(
            f"NAS-Bench-Graph link {fields['link']!r} in {arch!r} is not a comma-separated list "
            "of integers; " + _EXPECTED
        )
    return [int(t) for t in link_tokens], _split_list(fields["ops"])


def _decode_hash(digits: str, text: str) -> Layout:
    value = int(digits)
    index, rest = divmod(value, 10**NUM_NODES)
    ops = tuple(int(d) for d in f"{rest:0{NUM_NODES}d}")
    if index >= len(LINKS) or any(o >= len(OPS) for o in ops):
        raise InvalidArchitecture(
            f"{text} is not a NAS-Bench-Graph hash: expected link-pattern index "
            f"0..{len(LINKS) - 1} times 10**{NUM_NODES} plus {NUM_NODES} op digits "
            f"0..{len(OPS) - 1}, e.g. '30124'"
        )
    if all(o == _SKIP for o in ops):
        raise InvalidArchitecture(
            f"NAS-Bench-Graph hash {text} encodes an all-'skip' architecture; at least one node "
            "must compute something"
        )
    return LINKS[index], ops


def _parse(arch: ArchLike) -> Layout:
    """Any accepted spelling -> validated (link, op indices), not yet canonical."""
    if isinstance(arch, str):
        parsed = _parse_id_string(arch)
        if isinstance(parsed, str):
            return _decode_hash(parsed, repr(arch))
        link, ops = parsed
        text = repr(arch)
    elif isinstance(arch, Mapping):
        if set(arch) != {"link", "ops"}:
            raise InvalidArchitecture(
                f"NAS-Bench-Graph architecture dict {dict(arch)!r} must have exactly the keys "
                "'link' and 'ops'"
            )
        link, ops, text = arch["link"], arch["ops"], repr(dict(arch))
    elif isinstance(arch, Sequence) and not isinstance(arch, bytes) and len(arch) == 2:
        link, ops, text = arch[0], arch[1], repr(arch)
    elif isinstance(arch, numbers.Integral) and not isinstance(arch, bool):
        raise InvalidArchitecture(
            f"NAS-Bench-Graph does not take a bare integer ({arch!r}); pass a benchmark hash as "
            f"a string ('{arch}' or 'hash={arch}') or convert it with "
            "nasrank.spaces.nbgraph.from_hash"
        )
    else:
        raise InvalidArchitecture(
            f"cannot interpret {arch!r} of type {type(arch).__name__} as a NAS-Bench-Graph "
            "architecture; " + _EXPECTED
        )
    return _check_link(link, text), _check_ops(ops, text)


def from_hash(value: int | str) -> str:
    """Benchmark hash (``Arch(link, ops).valid_hash()``) -> canonical id.

    Hashes of non-canonical layouts are accepted and canonicalised.
    """
    text = str(value).strip()
    if not _DIGITS.match(text):
        raise InvalidArchitecture(
            f"{value!r} is not a NAS-Bench-Graph hash (a non-negative integer)"
        )
    link, ops = _decode_hash(text, repr(value))
    return _id_of(*_canonical_layout(link, ops))


def arch_hash(arch: ArchLike) -> int:
    """Any accepted spelling -> the benchmark's integer hash of its canonical layout."""
    return _hash_of(*_canonical_layout(*_parse(arch)))


@functools.lru_cache(maxsize=1)
def _all_layouts() -> tuple[tuple[int, tuple[int, ...]], ...]:
    """Every canonical layout, sorted by hash."""
    out = []
    for index, link in enumerate(LINKS):
        for ops in itertools.product(range(len(OPS)), repeat=NUM_NODES):
            if all(o == _SKIP for o in ops):
                continue
            if _canonical_layout(link, ops) == (index, ops):
                out.append((index, ops))
    return tuple(out)


# ---- the space --------------------------------------------------------------------------------
@SPACES.register("nbgraph")
class NBGraphSpace(SearchSpace):
    """NAS-Bench-Graph: 26,206 GNNs of 4 computing nodes x 9 operations wired as a tree.

    Models (:meth:`build`) are torch-geometric node classifiers whose ``forward(x,
    edge_index=None)`` takes node features ``(N, F)``; without ``edge_index`` the nodes have
    no edges (message passing reduces to each layer's self/root term), which is what the
    space contract's plain-tensor forward exercises. ``input_shape`` is ``(1433,)``, Cora's
    feature width, matching the default ``build(..., dataset="cora")``.

    The CLI scores these models on a graph (:attr:`default_data`, a seeded synthetic graph
    of Cora's size: 2,708 nodes, 1,433 features, 7 classes, random undirected edges), or
    on ``--data graph:N:F:K`` / ``graph:PATH.npz``; a graph of another feature width or
    class count builds the network with ``in_channels`` / ``num_classes`` to fit.
    """

    name = "nbgraph"
    description = "NAS-Bench-Graph GNN space, 26,206 archs (Qin et al., NeurIPS 2022)"
    input_shape = (1433,)
    #: A synthetic graph of Cora's size (the default ``build(dataset="cora")`` network's).
    default_data = f"graph:2708:{DATASETS['cora'].in_channels}:{DATASETS['cora'].num_classes}"

    # ---- ids -------------------------------------------------------------------------
    def canonical(self, arch: ArchLike) -> str:
        return _id_of(*_canonical_layout(*_parse(arch)))

    @staticmethod
    def link_of(arch: str) -> tuple[int, ...]:
        """Link list of a canonical id (node i's input, 0 = the input features)."""
        return tuple(int(v) for v in arch.split(";")[0].removeprefix("link=").split(","))

    @staticmethod
    def ops_of(arch: str) -> tuple[str, ...]:
        """Op names of a canonical id, node 1 first."""
        return tuple(arch.split(";")[1].removeprefix("ops=").split(","))

    def hash(self, arch: ArchLike) -> int:
        """The benchmark's integer key of ``arch`` (see :func:`arch_hash`)."""
        return arch_hash(arch)

    # ---- enumeration, sampling, edits ----------------------------------------------------
    @property
    def size(self) -> int:
        return len(_all_layouts())

    def enumerate(self) -> Iterator[str]:
        """All 26,206 canonical ids in increasing benchmark-hash order."""
        for index, ops in _all_layouts():
            yield _id_of(index, ops)

    def sample(self, seed: SeedLike = None) -> str:
        """Uniform over the 26,206 canonical architectures."""
        layouts = _all_layouts()
        return _id_of(*layouts[int(as_rng(seed).integers(len(layouts)))])

    def mutate(self, arch: ArchLike, seed: SeedLike = None) -> str:
        """A uniformly chosen member of :meth:`neighbours`."""
        nbrs = self.neighbours(arch)
        return nbrs[int(as_rng(seed).integers(len(nbrs)))]

    def neighbours(self, arch: ArchLike) -> list[str]:
        """Architectures one edit away: one node's operation replaced (in :data:`OPS`
        order, node 1 first), then the link pattern replaced by another of :data:`LINKS`
        (ops kept); each canonicalised, duplicates, all-skip results and ``arch`` itself
        dropped."""
        index, ops = _canonical_layout(*_parse(arch))
        link = LINKS[index]
        candidates: list[tuple[tuple[int, ...], tuple[int, ...]]] = []
        for node in range(NUM_NODES):
            for op in range(len(OPS)):
                if op != ops[node]:
                    candidates.append((link, ops[:node] + (op,) + ops[node + 1 :]))
        candidates.extend((other, ops) for other in LINKS if other != link)
        seen = {(index, ops)}
        out = []
        for cand_link, cand_ops in candidates:
            if all(o == _SKIP for o in cand_ops):
                continue
            layout = _canonical_layout(cand_link, cand_ops)
            if layout not in seen:
                seen.add(layout)
                out.append(_id_of(*layout))
        return out

    # ---- models ------------------------------------------------------------------------
    def build(
        self,
        arch: ArchLike,
        *,
        num_classes: int | None = None,
        dataset: str = "cora",
        in_channels: int | None = None,
        hidden: int | None = None,
        num_pre: int | None = None,
        num_post: int | None = None,
        dropout: float = 0.0,
        gat_heads: int = 4,
    ) -> nn.Module:
        """The benchmark's network for ``arch`` as trained on ``dataset``.

        See :class:`~nasrank.spaces._nbgraph_model.NBGraphNetwork`. ``num_classes``,
        ``in_channels``, ``hidden``, ``num_pre`` and ``num_post`` default to the
        :data:`DATASETS` setting of ``dataset`` (Cora: 1433 features, 7 classes, width 256,
        no pre-processing layer, one post-processing layer); pass them to override it.
        """
        canonical = self.canonical(arch)
        setting = dataset_setting(dataset)
        return NBGraphNetwork(
            self.link_of(canonical),
            self.ops_of(canonical),
            in_channels=setting.in_channels if in_channels is None else in_channels,
            num_classes=setting.num_classes if num_classes is None else num_classes,
            hidden=setting.hidden if hidden is None else hidden,
            num_pre=setting.num_pre if num_pre is None else num_pre,
            num_post=setting.num_post if num_post is None else num_post,
            dropout=dropout,
            gat_heads=gat_heads,
        )
