"""NAS-Bench-NLP search space (Klyuchnikov et al., "NAS-Bench-NLP: Neural Architecture
Search Benchmark for Natural Language Processing", IEEE Access 2022, arXiv:2006.07116).

An architecture is a recurrent cell given as a *recipe*: a DAG whose nodes compute one
operation each from named inputs::

    {"f": {"op": "linear", "input": ["x", "h_prev_0"]},
     "h_new_0": {"op": "activation_tanh", "input": ["f"]}}

Cell inputs are ``x`` (the layer input at this time step) and the previous hidden states
``h_prev_0 .. h_prev_{k-1}``; the cell outputs the new hidden states ``h_new_0 ..
h_new_{k-1}`` (``k`` <= 3, ``h_new_0`` required; ``h_new_0`` is also what the layer emits).
Operations (:data:`OPS`, the benchmark's spelling), as in the reference ``CustomRNNCell``
(fmsnew/nas-bench-nlp-release, ``custom_rnn.py``):

* ``linear``: ``W_1 a_1 + ... + W_n a_n + b`` -- one weight matrix per input and one bias
  (n >= 1; the benchmark's cells use 2 or 3 inputs);
* ``elementwise_sum`` / ``elementwise_prod``: sum / product of n >= 2 inputs;
* ``blend``: ``z * a + (1 - z) * b`` for inputs ``[z, a, b]`` (order matters);
* ``activation_tanh`` / ``activation_sigm`` / ``activation_leaky_relu`` (slope 0.01): one input.

A recipe is valid when (checked in this order, each with its own message): it is a
non-empty mapping of node name -> ``{"op", "input"}``; node names do not redefine the cell
inputs; every op is known and has the right number of inputs; ``h_new_0`` exists and the
output indices are ``0..k-1`` with ``k <= 3``; only ``linear`` nodes read ``x`` (its width,
400 in the first layer, differs from the hidden size); every ``h_prev_j`` read has
``j < k``; every other input names a node (no dangling inputs); the graph is acyclic;
every node feeds some output (no dead nodes); and the cell reads ``x`` (otherwise the
language model ignores its tokens). All 345 recipes of the benchmark are valid.

Canonical id: the recipe as compact JSON with sorted inputs of the commutative ops
(``linear``, ``elementwise_*``) and with internal nodes renamed ``n0, n1, ...`` in a
canonical topological order; outputs keep their names ``h_new_k``. Recipes that differ
only in internal node names, in the order of the keys, or in the order of a commutative
op's inputs are isomorphic and share one id (a canonical labelling found by colour
refinement plus individualisation, i.e. an exact graph canonical form). Example::

    {"n0":{"op":"linear","input":["x","h_prev_0"]},"h_new_0":{"op":"activation_tanh","input":["n0"]}}

Accepted spellings: a recipe mapping, or its JSON text (the benchmark's ``recipe`` /
``recepie`` field, the canonical id).

The network (:meth:`NBNLPSpace.build`) is the benchmark's AWD-style language model: a
400-d embedding, three layers of the cell (hidden 600, 600, then 400 so that the decoder
can be tied to the embedding) and a decoder tied to the embedding with its own bias. With
the WikiText-2 vocabulary (33,278) its parameter count equals the benchmark's
``num_params`` for all 341 status-OK rows (and the 4 failed ones).
"""

from __future__ import annotations

import difflib
import functools
import heapq
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from nasrank._random import SeedLike, as_rng
from nasrank.errors import InvalidArchitecture
from nasrank.spaces._nbnlp_model import NBNLPLanguageModel
from nasrank.spaces.base import ArchLike, SearchSpace
from nasrank.spaces.registry import SPACES

__all__ = [
    "NBNLPSpace",
    "OPS",
    "ACTIVATIONS",
    "COMMUTATIVE_OPS",
    "MAX_HIDDEN_STATES",
    "WT2_VOCAB_SIZE",
    "parse_recipe",
    "canonical_recipe",
    "count_params",
]

#: Operation vocabulary in the benchmark's own spelling.
OPS: tuple[str, ...] = (
    "linear",
    "elementwise_prod",
    "elementwise_sum",
    "activation_tanh",
    "activation_sigm",
    "activation_leaky_relu",
    "blend",
)
ACTIVATIONS: tuple[str, ...] = ("activation_tanh", "activation_sigm", "activation_leaky_relu")
#: Ops whose result does not depend on the order of their inputs.
COMMUTATIVE_OPS: frozenset[str] = frozenset({"linear", "elementwise_prod", "elementwise_sum"})
#: Most hidden states a cell may carry (``h_prev_0..2`` / ``h_new_0..2``).
MAX_HIDDEN_STATES = 3
#: Most nodes a recipe may have (the benchmark's cells have at most 15; generated ones 24).
MAX_NODES = 64
#: WikiText-2 vocabulary size of the benchmark's language models.
WT2_VOCAB_SIZE = 33_278
#: The benchmark's language model: embedding size, hidden size, layers.
EMSIZE, NHID, NLAYERS = 400, 600, 3

#: (min, max) number of inputs per op; ``None`` = unbounded.
_ARITY: dict[str, tuple[int, int | None]] = {
    "linear": (1, None),
    "elementwise_prod": (2, None),
    "elementwise_sum": (2, None),
    "blend": (3, 3),
    "activation_tanh": (1, 1),
    "activation_sigm": (1, 1),
    "activation_leaky_relu": (1, 1),
}
_OUTPUT = re.compile(r"^h_new_(\d+)$")
_PREV = re.compile(r"^h_prev_(\d+)$")
_INPUTS_TEXT = "x, h_prev_0, h_prev_1, h_prev_2"

#: A parsed recipe: node name -> (op, inputs), in a topological order.
Recipe = dict[str, tuple[str, tuple[str, ...]]]


def _arity_text(op: str) -> str:
    lo, hi = _ARITY[op]
    if hi is None:
        return f"at least {lo} input{'s' if lo > 1 else ''}"
    return f"exactly {lo} input{'s' if lo > 1 else ''}"


def _short(arch: Any, limit: int = 160) -> str:
    text = arch if isinstance(arch, str) else repr(arch)
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


# ---- parsing and validation --------------------------------------------------------------
def parse_recipe(arch: ArchLike) -> Recipe:
    """Validate a recipe (mapping or JSON text) and return it as ``{node: (op, inputs)}``
    in a topological order (inputs before the nodes that read them).

    Raises:
        InvalidArchitecture: The recipe breaks one of the rules in the module docstring;
            the message names the node and the rule.
    """
    if isinstance(arch, str):
        return _parse_text(arch)
    if isinstance(arch, Mapping):
        return _validate(arch, _short(arch))
    raise InvalidArchitecture(
        f"cannot interpret {_short(arch)} of type {type(arch).__name__} as a NAS-Bench-NLP "
        "architecture; expected a recipe {node: {'op': ..., 'input': [...]}} or its JSON text"
    )


@functools.lru_cache(maxsize=4096)
def _parse_text(text: str) -> Recipe:
    stripped = text.strip()
    if not stripped.startswith("{"):
        raise InvalidArchitecture(
            f"cannot parse NAS-Bench-NLP architecture {_short(text)}; expected the JSON text "
            'of a recipe like {"n0":{"op":"linear","input":["x","h_prev_0"]},'
            '"h_new_0":{"op":"activation_tanh","input":["n0"]}}'
        )
    try:
        data = json.loads(stripped)
    except json.JSONDecodeError as exc:
        raise InvalidArchitecture(
            f"NAS-Bench-NLP recipe {_short(text)} is not valid JSON: {exc}"
        ) from None
    if not isinstance(data, Mapping):
        raise InvalidArchitecture(
            f"NAS-Bench-NLP recipe {_short(text)} is JSON but not an object of nodes"
        )
    return _validate(data, _short(text))


def _validate(data: Mapping[Any, Any], text: str) -> Recipe:
    """Check every rule of the module docstring, in a fixed order (the first broken rule
    is the one reported); return the recipe in a topological order."""
    if not data:
        raise InvalidArchitecture(f"NAS-Bench-NLP recipe {text} has no nodes; expected h_new_0")
    if len(data) > MAX_NODES:
        raise InvalidArchitecture(
            f"NAS-Bench-NLP recipe {text} has {len(data)} nodes; at most {MAX_NODES} allowed"
        )
    nodes = {name: _parse_node(name, spec, text) for name, spec in data.items()}
    k = _num_outputs(nodes, text)
    outputs = [f"h_new_{i}" for i in range(k)]
    for name, (op, inputs) in nodes.items():
        for src in inputs:
            _check_input(name, op, src, nodes, k)
    order = _topological_order(nodes)
    _check_live(nodes, order, outputs, text)
    return {n: nodes[n] for n in order}


def _parse_node(name: Any, spec: Any, text: str) -> tuple[str, tuple[str, ...]]:
    """One node's ``(op, inputs)``: a reserved-free name, a known op, names as inputs
    and as many of them as the op takes."""
    if not isinstance(name, str) or not name:
        raise InvalidArchitecture(f"node name {name!r} in recipe {text} is not a string")
    if name == "x" or _PREV.match(name):
        raise InvalidArchitecture(
            f"node {name!r} in recipe {text} redefines a cell input; the names "
            f"{_INPUTS_TEXT} are reserved for the inputs"
        )
    if not isinstance(spec, Mapping) or set(spec) != {"op", "input"}:
        raise InvalidArchitecture(
            f"node {name!r} in recipe {text} must be an object with exactly the keys "
            f"'op' and 'input'; got {spec!r}"
        )
    op, inputs = spec["op"], spec["input"]
    if op not in OPS:
        close = difflib.get_close_matches(str(op), OPS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise InvalidArchitecture(
            f"unknown NAS-Bench-NLP operation {op!r} in node {name!r}{hint} "
            f"choices: {', '.join(OPS)}"
        )
    if isinstance(inputs, str) or not isinstance(inputs, Sequence):
        raise InvalidArchitecture(
            f"node {name!r} in recipe {text}: 'input' must be a list of names, got {inputs!r}"
        )
    if not all(isinstance(i, str) for i in inputs):
        raise InvalidArchitecture(
            f"node {name!r} in recipe {text}: inputs must be names, got {list(inputs)!r}"
        )
    lo, hi = _ARITY[op]
    if len(inputs) < lo or (hi is not None and len(inputs) > hi):
        raise InvalidArchitecture(
            f"node {name!r} ({op}) has {len(inputs)} input(s) {list(inputs)!r}; "
            f"{op} takes {_arity_text(op)}"
        )
    return op, tuple(inputs)


def _num_outputs(nodes: Mapping[str, tuple[str, tuple[str, ...]]], text: str) -> int:
    """The number ``k`` of outputs ``h_new_0 .. h_new_{k-1}`` (no gaps, ``k <= 3``)."""
    indices = sorted(int(m.group(1)) for n in nodes if (m := _OUTPUT.match(n)))
    if not indices or indices[0] != 0:
        raise InvalidArchitecture(
            f"NAS-Bench-NLP recipe {text} has no output node 'h_new_0'; the cell must "
            "compute h_new_0 (and optionally h_new_1, h_new_2)"
        )
    k = len(indices)
    if indices != list(range(k)) or k > MAX_HIDDEN_STATES:
        raise InvalidArchitecture(
            f"NAS-Bench-NLP recipe {text} has outputs "
            f"{', '.join(f'h_new_{i}' for i in indices)}; expected h_new_0 .. h_new_(k-1) "
            f"with no gaps and k <= {MAX_HIDDEN_STATES}"
        )
    return k


def _check_input(
    name: str, op: str, src: str, nodes: Mapping[str, tuple[str, tuple[str, ...]]], k: int
) -> None:
    """Input ``src`` of node ``name`` is a cell input (``x`` for linear nodes only, one of
    the ``k`` hidden states) or a node."""
    if src == "x" and op != "linear":
        raise InvalidArchitecture(
            f"node {name!r} ({op}) reads 'x'; only linear nodes may read the cell "
            "input x (its width, the embedding size, differs from the hidden size)"
        )
    if src == "x" or src in nodes:
        return
    m = _PREV.match(src)
    if m:
        j = int(m.group(1))
        if j >= k:
            raise InvalidArchitecture(
                f"node {name!r} reads {src!r} but the cell has {k} hidden state(s) "
                f"(outputs h_new_0..h_new_{k - 1}), so only h_prev_0..h_prev_{k - 1} "
                f"exist; add node 'h_new_{j}' or read another input"
            )
        return
    raise InvalidArchitecture(
        f"dangling input: node {name!r} reads {src!r}, which is neither a cell input "
        f"({_INPUTS_TEXT}) nor a node of the recipe"
    )


def _check_live(
    nodes: Mapping[str, tuple[str, tuple[str, ...]]],
    order: Sequence[str],
    outputs: Sequence[str],
    text: str,
) -> None:
    """No dead nodes (every node feeds an output), and some output depends on ``x``."""
    live: set[str] = set()
    stack = list(outputs)
    while stack:
        n = stack.pop()
        if n in live:
            continue
        live.add(n)
        if n in nodes:
            stack.extend(nodes[n][1])
    dead = [n for n in order if n not in live]
    if dead:
        raise InvalidArchitecture(
            f"unreachable node(s) {', '.join(map(repr, dead))} in recipe {text}: they feed "
            f"no output ({', '.join(outputs)}); remove them"
        )
    if "x" not in live:
        raise InvalidArchitecture(
            f"NAS-Bench-NLP recipe {text} never reads the cell input 'x': no output depends "
            "on the current token; at least one node must read 'x'"
        )


def _topological_order(nodes: Mapping[str, tuple[str, tuple[str, ...]]]) -> list[str]:
    """Nodes in a topological order (stable: recipe order among ready nodes).

    Raises:
        InvalidArchitecture: the graph has a cycle (named in the message).
    """
    state: dict[str, int] = {}  # 1 = on the DFS stack, 2 = done
    order: list[str] = []
    for root in nodes:
        if state.get(root) == 2:
            continue
        # iterative DFS over node -> its inputs
        path: list[str] = [root]
        iters = [iter(nodes[root][1])]
        state[root] = 1
        while path:
            try:
                src = next(iters[-1])
            except StopIteration:
                done = path.pop()
                iters.pop()
                state[done] = 2
                order.append(done)
                continue
            if src not in nodes or state.get(src) == 2:
                continue
            if state.get(src) == 1:
                cycle = path[path.index(src) :] + [src]
                raise InvalidArchitecture(
                    "NAS-Bench-NLP recipe has a cycle: "
                    + " -> ".join(reversed(cycle))
                    + " (each node must only read inputs computed before it)"
                )
            state[src] = 1
            path.append(src)
            iters.append(iter(nodes[src][1]))
    return order


# ---- canonical form ---------------------------------------------------------------------
def _input_key(name: str) -> tuple[int, int]:
    if name == "x":
        return (0, 0)
    if (m := _PREV.match(name)) is not None:
        return (1, int(m.group(1)))
    if (m := _OUTPUT.match(name)) is not None:
        return (3, int(m.group(1)))
    return (2, int(name[1:]))  # renamed internal node "n<i>"


def _serialise(recipe: Recipe, labels: Mapping[str, int]) -> str:
    """JSON of ``recipe`` with internal nodes renamed by a topological order that breaks
    ties by ``labels`` (outputs after internal nodes, by index)."""
    n_internal = len(labels)
    priority = {n: labels[n] if n in labels else n_internal + int(n[6:]) for n in recipe}
    consumers: dict[str, list[str]] = {n: [] for n in recipe}
    missing = {n: 0 for n in recipe}
    for n, (_, inputs) in recipe.items():
        for src in set(inputs):
            if src in recipe:
                consumers[src].append(n)
                missing[n] += 1
    ready = [(priority[n], n) for n, c in missing.items() if c == 0]
    heapq.heapify(ready)
    rename: dict[str, str] = {}
    emitted: list[str] = []
    while ready:
        _, n = heapq.heappop(ready)
        emitted.append(n)
        rename[n] = f"n{sum(1 for m in rename if m in labels)}" if n in labels else n
        for c in consumers[n]:
            missing[c] -= 1
            if missing[c] == 0:
                heapq.heappush(ready, (priority[c], c))
    out: dict[str, dict[str, Any]] = {}
    for n in emitted:
        op, inputs = recipe[n]
        names = [rename.get(i, i) for i in inputs]
        if op in COMMUTATIVE_OPS:
            names.sort(key=_input_key)
        out[rename[n]] = {"op": op, "input": names}
    return json.dumps(out, separators=(",", ":"))


def _refine(
    colours: dict[str, int],
    recipe: Recipe,
    consumers: Mapping[str, Sequence[tuple[str, int]]],
) -> dict[str, int]:
    """Colour refinement to a stable partition; colours are canonical integers."""
    n_classes = len(set(colours.values()))
    while True:
        sigs: dict[str, tuple[Any, ...]] = {}
        for v in colours:
            if v in recipe:
                op, inputs = recipe[v]
                ins = [colours[u] for u in inputs]
                ins_sig = tuple(sorted(ins)) if op in COMMUTATIVE_OPS else tuple(ins)
            else:
                ins_sig = ()
            outs_sig = tuple(sorted((colours[c], pos) for c, pos in consumers[v]))
            sigs[v] = (colours[v], ins_sig, outs_sig)
        ranking = {s: i for i, s in enumerate(sorted(set(sigs.values())))}
        colours = {v: ranking[sigs[v]] for v in colours}
        if len(ranking) == n_classes:
            return colours
        n_classes = len(ranking)


def _swap_is_automorphism(recipe: Recipe, a: str, b: str) -> bool:
    def norm(rec: Mapping[str, tuple[str, tuple[str, ...]]]) -> dict[str, Any]:
        return {
            n: (op, tuple(sorted(ins)) if op in COMMUTATIVE_OPS else ins)
            for n, (op, ins) in rec.items()
        }

    swap = {a: b, b: a}
    swapped = {
        swap.get(n, n): (op, tuple(swap.get(i, i) for i in ins)) for n, (op, ins) in recipe.items()
    }
    return norm(swapped) == norm(recipe)


def _canonical_string(recipe: Recipe) -> str:
    internal = [n for n in recipe if not _OUTPUT.match(n)]
    vertices = set(recipe) | {i for _, ins in recipe.values() for i in ins}
    consumers: dict[str, list[tuple[str, int]]] = {v: [] for v in vertices}
    for n, (op, inputs) in recipe.items():
        for pos, src in enumerate(inputs):
            consumers[src].append((n, -1 if op in COMMUTATIVE_OPS else pos))
    initial: dict[str, tuple[Any, ...]] = {}
    for v in vertices:
        if v in recipe and not _OUTPUT.match(v):
            initial[v] = (1, recipe[v][0])
        elif v in recipe:
            initial[v] = (0, v, recipe[v][0])
        else:
            initial[v] = (0, v, "")
    ranking = {s: i for i, s in enumerate(sorted(set(initial.values())))}
    colours = _refine({v: ranking[initial[v]] for v in vertices}, recipe, consumers)

    best: list[str] = []

    def search(colours: dict[str, int]) -> None:
        cells: dict[int, list[str]] = {}
        for n in internal:
            cells.setdefault(colours[n], []).append(n)
        ties = [cells[c] for c in sorted(cells) if len(cells[c]) > 1]
        if not ties:
            labels = {n: rank for rank, n in enumerate(sorted(internal, key=colours.__getitem__))}
            text = _serialise(recipe, labels)
            if not best or text < best[0]:
                best[:] = [text]
            return
        cell = sorted(ties[0])
        tried: list[str] = []
        for member in cell:
            if any(_swap_is_automorphism(recipe, member, t) for t in tried):
                continue
            tried.append(member)
            split = {v: 2 * c + (0 if v == member else 1) for v, c in colours.items()}
            search(_refine(split, recipe, consumers))

    search(colours)
    return best[0]


def canonical_recipe(arch: ArchLike) -> str:
    """The canonical id of a recipe (mapping or JSON text)."""
    if isinstance(arch, str):
        return _canonical_text(arch)
    return _canonical_string(parse_recipe(arch))


@functools.lru_cache(maxsize=65536)
def _canonical_text(text: str) -> str:
    return _canonical_string(_parse_text(text))


def count_params(
    arch: ArchLike,
    *,
    vocab_size: int = WT2_VOCAB_SIZE,
    emsize: int = EMSIZE,
    nhid: int = NHID,
    nlayers: int = NLAYERS,
    tied: bool = True,
) -> int:
    """Parameters of the benchmark's language model for ``arch``, in closed form.

    Embedding ``vocab x emsize``; layer ``l`` reads ``emsize`` (l = 0) or ``nhid`` and has
    hidden size ``nhid``, except the last, which has ``emsize`` when the decoder is tied;
    every ``linear`` node has one ``in x hidden`` matrix per input and one bias; the decoder
    adds its bias (its weight is the embedding's when tied).
    """
    recipe = parse_recipe(arch)
    total = vocab_size * emsize + vocab_size
    if not tied:
        total += nhid * vocab_size
    for layer in range(nlayers):
        n_in = emsize if layer == 0 else nhid
        hidden = emsize if (tied and layer == nlayers - 1) else nhid
        for op, inputs in recipe.values():
            if op == "linear":
                total += sum((n_in if i == "x" else hidden) * hidden for i in inputs) + hidden
    return total


# ---- the space ----------------------------------------------------------------------------
@SPACES.register("nbnlp")
class NBNLPSpace(SearchSpace):
    """NAS-Bench-NLP recurrent cells in a 3-layer AWD-style language model (WikiText-2)."""

    name = "nbnlp"
    description = "NAS-Bench-NLP recurrent cells, 3-layer LM (Klyuchnikov et al., 2020)"
    #: One example sequence of token ids (the benchmark trains with bptt 70).
    input_shape = (32,)
    #: Data spec the CLI scores these models on unless told otherwise: synthetic Zipfian
    #: WikiText-2-sized token ids, sequences of bptt 70 (no text ships with nasrank).
    default_data = f"tokens:{WT2_VOCAB_SIZE}:70"

    # ---- ids -------------------------------------------------------------------------
    def canonical(self, arch: ArchLike) -> str:
        return canonical_recipe(arch)

    def recipe(self, arch: ArchLike) -> dict[str, dict[str, Any]]:
        """The canonical recipe as a plain ``{node: {"op", "input"}}`` dict."""
        return json.loads(self.canonical(arch))

    def hidden_states(self, arch: ArchLike) -> int:
        """Number of hidden states ``k`` the cell carries (its outputs h_new_0..k-1)."""
        return sum(1 for n in self.recipe(arch) if _OUTPUT.match(n))

    # ---- sampling and edits ------------------------------------------------------------
    def sample(self, seed: SeedLike = None) -> str:
        """A random cell, roughly as NAS-Bench-NLP generated its cells.

        ``k`` hidden states (1-3, uniform) and a random DAG of ``k + 1 .. 3k + 5`` nodes:
        each node draws an op (linear 35 %, the three activations 35 %, elementwise sum and
        product 10 % each, blend 10 %) and distinct inputs among the cell inputs and earlier
        nodes (only linear nodes read ``x``; linear reads 2 inputs, or 3 with probability
        0.2); the last node becomes ``h_new_0`` and random earlier nodes ``h_new_1..``;
        dead nodes are pruned and invalid draws (e.g. ``x`` unread) are redrawn.
        """
        rng = as_rng(seed)
        for _ in range(1000):
            recipe = self._draw(rng)
            if recipe is not None:
                return canonical_recipe(recipe)
        raise RuntimeError("could not draw a valid NAS-Bench-NLP cell in 1000 attempts")

    @staticmethod
    def _draw(rng: Any) -> dict[str, dict[str, Any]] | None:
        k = int(rng.integers(1, MAX_HIDDEN_STATES + 1))
        n_nodes = int(rng.integers(k + 1, 3 * k + 6))
        available = ["x"] + [f"h_prev_{j}" for j in range(k)]
        ops = ("linear", "activation", "elementwise_sum", "elementwise_prod", "blend")
        probs = (0.35, 0.35, 0.1, 0.1, 0.1)
        nodes: dict[str, dict[str, Any]] = {}
        for i in range(n_nodes):
            op = ops[int(rng.choice(len(ops), p=probs))]
            if op == "activation":
                op = ACTIVATIONS[int(rng.integers(len(ACTIVATIONS)))]
                arity = 1
            elif op == "linear":
                arity = 3 if rng.random() < 0.2 else 2
            elif op == "blend":
                arity = 3
            else:
                arity = 2
            if arity > len(available):
                op, arity = "linear", len(available)
            # favour recent values so that the DAG grows deep rather than wide; only
            # linear nodes may read x
            weights = [
                0.0 if (name == "x" and op != "linear") else 1.0 + j
                for j, name in enumerate(available)
            ]
            if sum(w > 0 for w in weights) < arity:
                return None
            p = [w / sum(weights) for w in weights]
            picks = rng.choice(len(available), size=arity, replace=False, p=p)
            nodes[f"node_{i}"] = {"op": op, "input": [available[int(j)] for j in picks]}
            available.append(f"node_{i}")
        names = list(nodes)
        if len(names) < k:
            return None
        chosen = [names[-1]] + [
            names[int(j)] for j in rng.choice(len(names) - 1, size=k - 1, replace=False)
        ]
        rename = {old: f"h_new_{j}" for j, old in enumerate(chosen)}
        renamed = {
            rename.get(n, n): {"op": s["op"], "input": [rename.get(i, i) for i in s["input"]]}
            for n, s in nodes.items()
        }
        live: set[str] = set()
        stack = [f"h_new_{j}" for j in range(k)]
        while stack:
            n = stack.pop()
            if n not in live:
                live.add(n)
                stack.extend(renamed[n]["input"] if n in renamed else [])
        pruned = {n: s for n, s in renamed.items() if n in live}
        try:
            parse_recipe(pruned)
        except InvalidArchitecture:
            return None
        return pruned

    def _edits(self, recipe: Recipe) -> list[dict[str, dict[str, Any]]]:
        """Every single edit of ``recipe``: change one node's op (to another op taking the
        same number of inputs), or rewire one input of one node to another cell input or
        earlier node (never to one of its descendants). Results may be invalid."""
        k = sum(1 for n in recipe if _OUTPUT.match(n))
        sources = ["x"] + [f"h_prev_{j}" for j in range(k)] + list(recipe)
        descendants: dict[str, set[str]] = {n: {n} for n in recipe}
        for n in reversed(list(recipe)):  # reverse topological: consumers first
            for m, (_, ins) in recipe.items():
                if n in ins:
                    descendants[n] |= descendants[m]
        base = {n: {"op": op, "input": list(ins)} for n, (op, ins) in recipe.items()}
        out: list[dict[str, dict[str, Any]]] = []
        for n, (op, ins) in recipe.items():
            for other in OPS:
                lo, hi = _ARITY[other]
                if other != op and lo <= len(ins) and (hi is None or len(ins) <= hi):
                    edit = {m: dict(s) for m, s in base.items()}
                    edit[n] = {"op": other, "input": list(ins)}
                    out.append(edit)
        for n, (op, ins) in recipe.items():
            for pos, old in enumerate(ins):
                for src in sources:
                    if src == old or src in descendants[n]:
                        continue
                    edit = {m: dict(s) for m, s in base.items()}
                    new_inputs = list(ins)
                    new_inputs[pos] = src
                    edit[n] = {"op": op, "input": new_inputs}
                    out.append(edit)
        return out

    def _valid_edit(self, edit: Mapping[str, Any]) -> str | None:
        try:
            return canonical_recipe(edit)
        except InvalidArchitecture:
            return None

    def mutate(self, arch: ArchLike, seed: SeedLike = None) -> str:
        """One random valid edit (see :meth:`neighbours`) that changes the architecture."""
        rng = as_rng(seed)
        arch_id = self.canonical(arch)
        edits = self._edits(_parse_text(arch_id))
        for j in rng.permutation(len(edits)):
            child = self._valid_edit(edits[int(j)])
            if child is not None and child != arch_id:
                return child
        raise InvalidArchitecture(f"NAS-Bench-NLP architecture {_short(arch_id)} has no valid edit")

    def neighbours(self, arch: ArchLike) -> list[str]:
        """All distinct architectures one edit away: one node's op changed to another op
        with the same number of inputs, or one input of one node rewired to another cell
        input or non-descendant node; edits that make the recipe invalid (dead nodes,
        ``x`` unread, ...) are skipped. Order: op changes, then rewires, by canonical node."""
        arch_id = self.canonical(arch)
        out: list[str] = []
        seen = {arch_id}
        for edit in self._edits(_parse_text(arch_id)):
            child = self._valid_edit(edit)
            if child is not None and child not in seen:
                seen.add(child)
                out.append(child)
        return out

    # ---- models ------------------------------------------------------------------------
    def build(
        self,
        arch: ArchLike,
        *,
        num_classes: int | None = None,
        vocab_size: int = WT2_VOCAB_SIZE,
        emsize: int = EMSIZE,
        nhid: int = NHID,
        nlayers: int = NLAYERS,
        tied: bool = True,
        dropout: float = 0.1,
        dropouth: float = 0.25,
        dropouti: float = 0.4,
    ) -> nn.Module:
        """The benchmark's language model (:class:`~._nbnlp_model.NBNLPLanguageModel`).

        Args:
            num_classes: Size of the output layer; ``None`` (default) = ``vocab_size``, a
                language model whose decoder is tied to the embedding (the benchmark's).
                Another value gives an untied ``emsize -> num_classes`` decoder.
            vocab_size: Input vocabulary (WikiText-2: 33,278).
            emsize, nhid, nlayers: Embedding size, hidden size, number of cell layers
                (400, 600, 3 in the benchmark).
            tied: Tie the decoder to the embedding (the last layer then has ``emsize``
                hidden units, as in the benchmark); only when ``num_classes == vocab_size``.
            dropout, dropouth, dropouti: Variational (locked) dropout on the output,
                between layers and on the embedding (the benchmark's values; train mode only).

        Input ``(batch, time)`` int64 token ids; output ``(batch, time, num_classes)``
        logits. ``model.rnns[l]`` emits the hidden states ``h_new_0`` of layer ``l`` as
        ``(batch, time, hidden)`` (hook these for hidden-state proxies).
        """
        recipe = _parse_text(self.canonical(arch))
        n_out = vocab_size if num_classes is None else num_classes
        return NBNLPLanguageModel(
            {n: (op, list(ins)) for n, (op, ins) in recipe.items()},
            vocab_size=vocab_size,
            num_classes=n_out,
            emsize=emsize,
            nhid=nhid,
            nlayers=nlayers,
            tied=tied and n_out == vocab_size,
            dropout=dropout,
            dropouth=dropouth,
            dropouti=dropouti,
        )

    def example_input(
        self,
        batch_size: int = 2,
        seed: SeedLike = 0,
        *,
        seq_len: int | None = None,
        vocab_size: int = WT2_VOCAB_SIZE,
    ) -> torch.Tensor:
        """Uniform random token ids ``(batch_size, seq_len)`` (int64) in ``[0, vocab_size)``."""
        generator = torch.Generator().manual_seed(int(as_rng(seed).integers(2**31)))
        length = self.input_shape[0] if seq_len is None else seq_len
        return torch.randint(0, vocab_size, (batch_size, length), generator=generator)
