"""``OpGraph``: the universal architecture representation, built from an ONNX graph.

Nodes are ONNX operators with the attributes that matter for a network's behaviour (op
type, kernel, stride, dilation, group, input/output channels read from the weight
initializers' shapes, output shape from ONNX shape inference, parameter and FLOP counts);
edges are tensor flows between operators. Everything that does not compute on the data is
folded away: initializers and ``Constant`` nodes become node attributes (their sizes are
the node's parameters), ``Identity``/``Dropout`` are bypassed, and shape plumbing
(``Shape``, ``Gather`` on shapes, ``Unsqueeze``/``Concat`` building a shape, ...) is
constant-folded because all its inputs are constants. ``BatchNormalization`` and ``Relu``
stay nodes.

With ``fold_zeros=True`` (default) multiplications by a constant zero -- how cell-based
spaces spell a missing edge (NAS-Bench-201's ``none``) -- are propagated: their outputs
are known zeros, an ``Add``/``Sum`` ignores zero inputs, zero-preserving operators of a
zero are zeros, and operators whose output no longer reaches a graph output are dropped.
The graph is then the network that actually computes on the input, so two spellings of one
function get one graph. Graph inputs and outputs are the pseudo-operators ``Input`` and
``Output``.

The encoding follows the idea of ONNX-based universal encodings (GENNAPE, Mills et al.,
AAAI 2023; ONNX-Net, 2025): any framework that exports ONNX can be ranked by one model.

Deterministic: the same ONNX graph gives the same ``OpGraph`` (node order is the ONNX
graph's topological order; names are not kept).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nasrank.errors import DataError

if TYPE_CHECKING:
    import onnx
    import torch
    from torch import nn

__all__ = ["OpNode", "OpGraph", "ENCODER_VERSION"]

#: Bumped whenever the graph built from the same ONNX model may change (cache key).
ENCODER_VERSION = 1

# Ops that only forward their (first) input.
_ALIAS_OPS = frozenset({"Identity", "Dropout"})
# Ops whose outputs are shape plumbing (constants once shapes are static).
_PLUMBING_OPS = frozenset({"Shape", "Size"})
# f(0) = 0 for every input that is zero: a zero input gives a zero output.
_ZERO_PRESERVING = frozenset(
    {
        "Relu",
        "LeakyRelu",
        "Tanh",
        "Gelu",
        "Elu",
        "Selu",
        "Neg",
        "Abs",
        "AveragePool",
        "MaxPool",
        "GlobalAveragePool",
        "GlobalMaxPool",
        "Slice",
        "Reshape",
        "Flatten",
        "Transpose",
        "Squeeze",
        "Unsqueeze",
        "ReduceMean",
        "ReduceSum",
        "ReduceMax",
        "Resize",
        "Upsample",
        "DepthToSpace",
        "SpaceToDepth",
        "Pad",
        "Cast",
        "Split",
    }
)
# Ops whose zero-ness follows from their weights: a bias-free convolution/product of zero.
_LINEAR_OPS = frozenset({"Conv", "ConvTranspose", "MatMul", "Gemm"})
_ELEMENTWISE_OPS = frozenset(
    {
        "Add",
        "Sub",
        "Mul",
        "Div",
        "Relu",
        "LeakyRelu",
        "PRelu",
        "Sigmoid",
        "HardSigmoid",
        "HardSwish",
        "Tanh",
        "Gelu",
        "Elu",
        "Selu",
        "Softplus",
        "Erf",
        "Exp",
        "Log",
        "Sqrt",
        "Pow",
        "Neg",
        "Abs",
        "Clip",
        "Max",
        "Min",
        "Sum",
        "Mean",
        "Where",
    }
)
_FLOAT_TYPES = frozenset({1, 10, 11, 16})  # TensorProto FLOAT, FLOAT16, DOUBLE, BFLOAT16
_RUNNING_STAT_INPUTS = {"BatchNormalization": (3, 4)}  # running mean/var: buffers, not params


def _looks_like(data: bytes) -> str | None:
    """What non-ONNX content ``data`` resembles (``"JSON text"``, ...), or ``None`` when it
    looks like binary data of no known kind."""
    head = data[:4096].lstrip()
    if head[:1] in (b"{", b"["):
        return "JSON text"
    if head.startswith(b"PK\x03\x04"):
        return "a ZIP archive, e.g. a PyTorch checkpoint"
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "a Python pickle"
    for cut in range(4):  # the 4096-byte window may end inside a multi-byte character
        try:
            text = head[: len(head) - cut].decode("utf-8")
        except UnicodeDecodeError:
            continue
        if text and all(c.isprintable() or c in "\t\r\n" for c in text):
            return "text"
        break
    return None


def _parse_onnx(data: bytes, what: str) -> onnx.ModelProto:
    """``data`` parsed as a binary ONNX protobuf; else a one-line :class:`DataError` that
    says what ``what`` (a file name, "the ONNX bytes") is instead."""
    import onnx

    if not data:
        raise DataError(f"{what} is empty (0 bytes), not an ONNX model")
    try:
        model = onnx.load_model_from_string(data)
    except Exception as exc:  # protobuf's DecodeError and friends
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    else:
        reason = "no IR version" if not model.ir_version else "no graph"
        if model.ir_version and model.HasField("graph"):
            return model
    looks = _looks_like(data)
    if looks is not None:
        raise DataError(
            f"{what} is not an ONNX model (it looks like {looks}); give a binary .onnx file, "
            "e.g. from torch.onnx.export"
        )
    raise DataError(
        f"{what} is not an ONNX model: its {len(data):,} bytes do not parse as an ONNX "
        f"protobuf ({reason}); is it truncated or corrupt?"
    )


def _load_onnx_file(path: Path, what: str) -> onnx.ModelProto:
    """The model in the binary ONNX file ``path``, external tensor data included."""
    from onnx.external_data_helper import load_external_data_for_model, uses_external_data

    if path.is_dir():
        raise DataError(f"{what} is a directory, not a file")
    if not path.is_file():
        raise DataError(f"{what} not found")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {what}: {exc.strerror or exc}") from None
    model = _parse_onnx(data, what)
    if any(uses_external_data(t) for t in model.graph.initializer):
        try:
            load_external_data_for_model(model, str(path.parent))
        except Exception as exc:
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise DataError(f"cannot load the external tensor data of {what}: {reason}") from None
    return model


@dataclass(frozen=True)
class OpNode:
    """One operator of an :class:`OpGraph`.

    Attributes:
        op: ONNX op type (``Conv``, ``Relu``, ...) or ``Input``/``Output``.
        kernel: Kernel shape (convolutions, pooling), else ``()``.
        stride: Strides, else ``()``.
        dilation: Dilations, else ``()``.
        group: Convolution groups (1 otherwise).
        in_channels: Input channels/features from the weight initializer (0 when the op
            has no weights).
        out_channels: Output channels/features from the weight initializer (0 likewise).
        output_shape: Shape of the first output from ONNX shape inference (batch
            dimension included as exported; unknown dimensions are -1; ``()`` when
            inference gave nothing).
        params: Parameters held by the node's initializers (batch-norm running
            statistics excluded).
        flops: Multiply-accumulates (convolutions, products) or element operations
            (pooling: per window element; batch norm: 2 per element; element-wise ops: 1
            per element), per sample.
        attrs: Other scalar attributes of the ONNX node as sorted ``(name, text)`` pairs.
    """

    op: str
    kernel: tuple[int, ...] = ()
    stride: tuple[int, ...] = ()
    dilation: tuple[int, ...] = ()
    group: int = 1
    in_channels: int = 0
    out_channels: int = 0
    output_shape: tuple[int, ...] = ()
    params: int = 0
    flops: int = 0
    attrs: tuple[tuple[str, str], ...] = ()

    @property
    def label(self) -> str:
        """A short structural label (op and the attributes that change its function),
        used by Weisfeiler-Lehman features and the text form."""
        parts = [self.op]
        if self.kernel:
            parts.append("k" + "x".join(map(str, self.kernel)))
        if self.stride and any(s != 1 for s in self.stride):
            parts.append("s" + "x".join(map(str, self.stride)))
        if self.dilation and any(d != 1 for d in self.dilation):
            parts.append("d" + "x".join(map(str, self.dilation)))
        if self.group != 1:
            parts.append("dw" if self.group == self.in_channels else f"g{self.group}")
        return ":".join(parts)


@dataclass(frozen=True)
class OpGraph:
    """A directed acyclic graph of :class:`OpNode` (see the module docstring).

    Attributes:
        nodes: Operators in topological order (``Input`` nodes first, ``Output`` last).
        edges: ``(src, dst)`` node indices, sorted, without duplicates.
    """

    nodes: tuple[OpNode, ...]
    edges: tuple[tuple[int, int], ...]
    _cache: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    # ---- constructors -------------------------------------------------------------------
    @classmethod
    def from_onnx(
        cls, model: onnx.ModelProto | str | Path | bytes, *, fold_zeros: bool = True
    ) -> OpGraph:
        """Build the graph of an ONNX model (a ``ModelProto``, a file path or bytes).

        Raises:
            DataError: The file is missing, empty or not a binary ONNX model (the message
                says what it looks like: JSON or other text, truncated or corrupt data),
                or the model's graph has no operator nodes.
        """
        import onnx

        what = "the ONNX model"
        if isinstance(model, (str, Path)):
            what = f"ONNX file {str(model)!r}"
            model = _load_onnx_file(Path(model), what)
        elif isinstance(model, (bytes, bytearray)):
            what = "the ONNX bytes"
            model = _parse_onnx(bytes(model), "the data given")
        if not isinstance(model, onnx.ModelProto):
            raise DataError(
                f"expected an onnx.ModelProto, a path or bytes, got {type(model).__name__}"
            )
        if not model.graph.node:
            raise DataError(
                f"{what} has no operator nodes (graph {model.graph.name or '(unnamed)'!r} is "
                "empty: no architecture to encode); export a model that computes something"
            )
        return _Builder(model, fold_zeros=fold_zeros).build()

    @classmethod
    def from_torch(
        cls,
        model: nn.Module,
        example_input: torch.Tensor | Sequence[torch.Tensor],
        *,
        fold_zeros: bool = True,
        opset: int = 17,
        num_threads: int | None = 1,
    ) -> OpGraph:
        """Export ``model`` to ONNX (TorchScript exporter, ``dynamo=False``, inference
        mode, no constant folding so batch norms stay nodes) and build its graph.

        ``model``'s training mode is restored afterwards; its weights are not changed.
        ``example_input`` fixes the shapes (a batch of one sample is enough). The trace
        runs with ``num_threads`` torch threads (restored afterwards; ``None`` leaves the
        setting alone): one thread is fastest for batch-of-one tracing, and much faster
        on a busy machine.
        """
        import torch

        inputs = (
            (example_input,) if isinstance(example_input, torch.Tensor) else tuple(example_input)
        )
        buffer = io.BytesIO()
        was_training = model.training
        threads = torch.get_num_threads()
        try:
            if num_threads is not None:
                torch.set_num_threads(int(num_threads))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    model,
                    inputs,
                    buffer,
                    dynamo=False,
                    training=torch.onnx.TrainingMode.EVAL,
                    do_constant_folding=False,
                    opset_version=opset,
                )
        finally:
            model.train(was_training)
            torch.set_num_threads(threads)
        return cls.from_onnx(buffer.getvalue(), fold_zeros=fold_zeros)

    # ---- structure ----------------------------------------------------------------------
    @property
    def num_nodes(self) -> int:
        return len(self.nodes)

    @property
    def num_edges(self) -> int:
        return len(self.edges)

    @property
    def params(self) -> int:
        return sum(n.params for n in self.nodes)

    @property
    def flops(self) -> int:
        return sum(n.flops for n in self.nodes)

    def predecessors(self) -> list[list[int]]:
        preds: list[list[int]] = [[] for _ in self.nodes]
        for s, d in self.edges:
            preds[d].append(s)
        return preds

    def successors(self) -> list[list[int]]:
        succs: list[list[int]] = [[] for _ in self.nodes]
        for s, d in self.edges:
            succs[s].append(d)
        return succs

    def levels(self) -> list[int]:
        """Longest-path depth of every node from the graph's sources (sources are 0)."""
        if "levels" not in self._cache:
            level = [0] * len(self.nodes)
            preds = self.predecessors()
            for i in range(len(self.nodes)):
                if preds[i]:
                    level[i] = 1 + max(level[p] for p in preds[i])
            self._cache["levels"] = level
        return list(self._cache["levels"])

    @property
    def depth(self) -> int:
        """Number of edges on the longest path."""
        return max(self.levels(), default=0)

    @property
    def width(self) -> int:
        """Largest number of nodes sharing one depth level."""
        counts: dict[int, int] = {}
        for lv in self.levels():
            counts[lv] = counts.get(lv, 0) + 1
        return max(counts.values(), default=0)

    def op_counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for n in self.nodes:
            out[n.op] = out.get(n.op, 0) + 1
        return dict(sorted(out.items()))

    def fingerprint(self) -> str:
        """A stable hash of the graph (nodes and edges), equal for equal graphs."""
        payload = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.blake2b(payload.encode(), digest_size=16).hexdigest()

    # ---- serialisation ------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (lists instead of tuples); :meth:`from_dict` inverts it."""
        nodes = []
        for n in self.nodes:
            d = asdict(n)
            d["attrs"] = [list(a) for a in n.attrs]
            for k in ("kernel", "stride", "dilation", "output_shape"):
                d[k] = list(d[k])
            nodes.append(d)
        return {"nodes": nodes, "edges": [list(e) for e in self.edges]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OpGraph:
        nodes = []
        for d in data["nodes"]:
            d = dict(d)
            for k in ("kernel", "stride", "dilation", "output_shape"):
                d[k] = tuple(int(v) for v in d.get(k, ()))
            d["attrs"] = tuple((str(a), str(b)) for a, b in d.get("attrs", ()))
            nodes.append(OpNode(**d))
        edges = tuple(sorted({(int(s), int(t)) for s, t in data["edges"]}))
        return cls(tuple(nodes), edges)

    def __repr__(self) -> str:
        return (
            f"OpGraph(nodes={self.num_nodes}, edges={self.num_edges}, depth={self.depth}, "
            f"params={self.params}, flops={self.flops})"
        )


# ---- building from ONNX -----------------------------------------------------------------
def _ints(values: Iterable[Any]) -> tuple[int, ...]:
    return tuple(int(v) for v in values)


def _numel(shape: Sequence[int]) -> int:
    return math.prod(shape) if all(s >= 0 for s in shape) else 0


def _per_sample(shape: Sequence[int]) -> int:
    """Elements per sample of a tensor shape (batch = first dimension)."""
    if not shape or any(s < 0 for s in shape):
        return 0
    return math.prod(shape[1:]) if len(shape) > 1 else math.prod(shape)


class _Builder:
    def __init__(self, model: onnx.ModelProto, *, fold_zeros: bool) -> None:
        import onnx

        self.model = model
        self.fold_zeros = fold_zeros
        try:
            inferred = onnx.shape_inference.infer_shapes(model)
        except Exception:  # inference is best effort; graphs without it keep () shapes
            inferred = model
        self.shapes: dict[str, tuple[int, ...]] = {}
        for vi in (
            list(inferred.graph.value_info)
            + list(inferred.graph.input)
            + list(inferred.graph.output)
        ):
            t = vi.type.tensor_type
            if t.HasField("shape"):
                self.shapes[vi.name] = tuple(
                    d.dim_value if d.HasField("dim_value") else -1 for d in t.shape.dim
                )

    def build(self) -> OpGraph:
        graph = self.model.graph
        self._read_initializers(graph)
        self._zeros: set[str] = set()  # constant tensors known to be all zeros
        self._alias: dict[str, str] = {}  # tensor -> tensor it equals
        self._producer: dict[str, int] = {}  # tensor -> node index
        self._nodes: list[OpNode] = []
        self._preds: list[list[int]] = []
        for inp in graph.input:
            if inp.name in self._const_shape:  # old exporters list initializers as inputs
                continue
            self._producer[inp.name] = len(self._nodes)
            self._nodes.append(OpNode("Input", output_shape=self.shapes.get(inp.name, ())))
            self._preds.append([])
        for node in graph.node:
            self._add(node)
        for out in graph.output:
            name = self._resolve(out.name)
            self._nodes.append(OpNode("Output", output_shape=self.shapes.get(out.name, ())))
            live = name in self._producer and name not in self._zeros
            self._preds.append([self._producer[name]] if live else [])
        return _prune(self._nodes, self._preds)

    def _read_initializers(self, graph: onnx.GraphProto) -> None:
        """Constant tensors: name -> shape; small ones also keep their values."""
        from onnx import numpy_helper

        self._const_shape: dict[str, tuple[int, ...]] = {}
        self._const_value: dict[str, Any] = {}
        self._weights: set[str] = set()  # constants that hold learnable values (float tensors)
        for init in graph.initializer:
            self._const_shape[init.name] = _ints(init.dims)
            if init.data_type in _FLOAT_TYPES:
                self._weights.add(init.name)
            if _numel(self._const_shape[init.name]) <= 64:
                self._const_value[init.name] = numpy_helper.to_array(init)

    def _resolve(self, name: str) -> str:
        while name in self._alias:
            name = self._alias[name]
        return name

    def _is_const(self, name: str) -> bool:
        return name == "" or self._resolve(name) in self._const_shape

    def _add(self, node: onnx.NodeProto) -> None:
        """Fold ``node`` into the constants or aliases, or add it as an operator."""
        op = node.op_type
        ins = [self._resolve(n) if n else "" for n in node.input]
        outs = list(node.output)
        if op == "Constant":
            self._add_constant(node, outs[0])
            return
        if op in _ALIAS_OPS and ins and ins[0]:
            self._alias[outs[0]] = ins[0]
            for extra in outs[1:]:
                self._const_shape[extra] = self.shapes.get(extra, ())
            return
        data_ins = [n for n in ins if n and not self._is_const(n)]
        if op in _PLUMBING_OPS or not data_ins:
            self._fold_constant(op, ins, outs)
            return
        if self.fold_zeros and self._fold_zero_inputs(
            op, ins, outs, data_ins, self._zeros, self._alias
        ):
            return
        # A real operator.
        index = len(self._nodes)
        self._nodes.append(
            self._make_node(node, ins, self._const_shape, self._const_value, self._weights)
        )
        self._preds.append(sorted({self._producer[n] for n in data_ins if n in self._producer}))
        for o in outs:
            self._producer[o] = index

    def _add_constant(self, node: onnx.NodeProto, out: str) -> None:
        from onnx import numpy_helper

        for attr in node.attribute:
            if attr.name == "value":
                arr = numpy_helper.to_array(attr.t)
                self._const_shape[out] = tuple(arr.shape)
                if attr.t.data_type in _FLOAT_TYPES and arr.size > 1:
                    self._weights.add(out)
                self._const_value[out] = arr if arr.size <= 64 else None
                if arr.size and not arr.any():
                    self._zeros.add(out)
                return
        self._const_shape[out] = ()

    def _fold_constant(self, op: str, ins: list[str], outs: list[str]) -> None:
        """Shape plumbing or a function of constants: its outputs become constants."""
        zeros = self._zeros
        zero_out = (
            self.fold_zeros and any(n in zeros for n in ins) and self._zero_output(op, ins, zeros)
        )
        derived = op not in _PLUMBING_OPS and any(n in self._weights for n in ins)
        for o in outs:
            self._const_shape[o] = self.shapes.get(o, ())
            if zero_out:
                zeros.add(o)
            elif derived:  # e.g. a transposed or reshaped weight
                self._weights.add(o)

    # -- zero folding --------------------------------------------------------------------
    @staticmethod
    def _zero_output(op: str, ins: list[str], zeros: set[str]) -> bool:
        data = [n for n in ins if n]
        if op == "Mul":
            return any(n in zeros for n in data)
        if op in ("Add", "Sum", "Sub", "Concat"):
            return all(n in zeros for n in data)
        if op in _ZERO_PRESERVING:
            return bool(data) and data[0] in zeros
        if op in ("Conv", "ConvTranspose", "MatMul", "Gemm"):
            return bool(data) and data[0] in zeros and (len(data) < 3 or op == "MatMul")
        return False

    def _fold_zero_inputs(
        self,
        op: str,
        ins: list[str],
        outs: list[str],
        data_ins: list[str],
        zeros: set[str],
        alias: dict[str, str],
    ) -> bool:
        """Fold an operator with zero inputs; True when it disappeared."""
        if op == "Mul" and any(n in zeros for n in ins):
            self._mark_zero(outs, zeros)
            return True
        if op in ("Add", "Sum") or (op == "Sub"):
            live = [n for n in ins if n and n not in zeros]
            if op == "Sub" and ins and ins[0] in zeros:
                return False  # 0 - x is a negation, keep it
            if len(live) == 0:
                self._mark_zero(outs, zeros)
                return True
            if len(live) == 1 and live[0] in data_ins and len(live) < len([n for n in ins if n]):
                alias[outs[0]] = live[0]
                return True
            return False
        if op in _ZERO_PRESERVING and data_ins == [] and ins and ins[0] in zeros:
            self._mark_zero(outs, zeros)
            return True
        return False

    def _mark_zero(self, outs: list[str], zeros: set[str]) -> None:
        for o in outs:
            zeros.add(o)
            self._const_shape[o] = self.shapes.get(o, ())

    # -- node attributes -----------------------------------------------------------------
    def _make_node(
        self,
        node: onnx.NodeProto,
        ins: list[str],
        const_shape: Mapping[str, tuple[int, ...]],
        const_value: Mapping[str, Any],
        weights: set[str],
    ) -> OpNode:
        op = node.op_type
        attrs = _attributes(node)
        weight_ins = [(i, n) for i, n in enumerate(ins) if n and n in const_shape]
        skip = _RUNNING_STAT_INPUTS.get(op, ())
        params = sum(
            _numel(const_shape[n]) for i, n in weight_ins if i not in skip and n in weights
        )
        out_shape = self.shapes.get(node.output[0], ()) if node.output else ()
        in_shape = self.shapes.get(ins[0], ()) if ins and ins[0] else ()
        kernel, stride, dilation, group, c_in, c_out = _geometry(op, ins, attrs, const_shape)
        other = _other_attributes(attrs)
        for i, n in weight_ins:  # small constant operands (scalars) carry meaning too
            if i in skip or _numel(const_shape[n]) != 1:
                continue
            v = const_value.get(n)
            if v is not None and v.size == 1:
                other.append((f"const{i}", _fmt_number(float(v.reshape(-1)[0]))))
        flops = _flops(op, kernel, group, c_in, c_out, in_shape, out_shape, bool(len(ins) > 2))
        return OpNode(
            op=op,
            kernel=kernel,
            stride=stride,
            dilation=dilation,
            group=group,
            in_channels=int(c_in),
            out_channels=int(c_out),
            output_shape=tuple(int(s) for s in out_shape),
            params=int(params),
            flops=int(flops),
            attrs=tuple(other),
        )


def _attributes(node: onnx.NodeProto) -> dict[str, Any]:
    """The node's scalar, string and list attributes (strings decoded)."""
    from onnx import AttributeProto, helper

    attrs: dict[str, Any] = {}
    for a in node.attribute:
        if a.type in (
            AttributeProto.INT,
            AttributeProto.FLOAT,
            AttributeProto.STRING,
            AttributeProto.INTS,
            AttributeProto.FLOATS,
        ):
            value = helper.get_attribute_value(a)
            if isinstance(value, bytes):
                value = value.decode(errors="replace")
            attrs[a.name] = value
    return attrs


def _geometry(
    op: str, ins: list[str], attrs: Mapping[str, Any], const_shape: Mapping[str, tuple[int, ...]]
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], int, int, int]:
    """``(kernel, stride, dilation, group, channels in, channels out)`` of an operator,
    from its attributes and the shapes of its weights (zeros/empty where not defined)."""
    kernel: tuple[int, ...] = ()
    stride: tuple[int, ...] = ()
    dilation: tuple[int, ...] = ()
    group = 1
    c_in = c_out = 0
    if op in ("Conv", "ConvTranspose"):
        w = const_shape.get(ins[1], ()) if len(ins) > 1 else ()
        group = int(attrs.get("group", 1))
        kernel = _ints(attrs.get("kernel_shape", w[2:]))
        nd = len(kernel)
        stride = _ints(attrs.get("strides", (1,) * nd))
        dilation = _ints(attrs.get("dilations", (1,) * nd))
        if len(w) >= 2 and op == "Conv":
            c_out, c_in = w[0], w[1] * group
        elif len(w) >= 2:
            c_in, c_out = w[0], w[1] * group
    elif op in ("MaxPool", "AveragePool", "LpPool"):
        kernel = _ints(attrs.get("kernel_shape", ()))
        nd = len(kernel)
        stride = _ints(attrs.get("strides", (1,) * nd))
        dilation = _ints(attrs.get("dilations", (1,) * nd)) if op == "MaxPool" else ()
    elif op == "Gemm" and len(ins) > 1 and ins[1] in const_shape:
        w = const_shape[ins[1]]
        if len(w) == 2:
            k, n = (w[1], w[0]) if int(attrs.get("transB", 0)) else (w[0], w[1])
            c_in, c_out = k, n
    elif op == "MatMul" and len(ins) > 1 and ins[1] in const_shape:
        w = const_shape[ins[1]]
        if len(w) >= 2:
            c_in, c_out = w[-2], w[-1]
    elif op in ("BatchNormalization", "InstanceNormalization", "LayerNormalization"):
        if len(ins) > 1 and ins[1] in const_shape and const_shape[ins[1]]:
            c_in = c_out = (
                const_shape[ins[1]][-1] if op == "LayerNormalization" else (const_shape[ins[1]][0])
            )
    return kernel, stride, dilation, group, c_in, c_out


def _other_attributes(attrs: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(name, text)`` of the attributes not in the node's own fields, sorted by name."""
    other: list[tuple[str, str]] = []
    for name in sorted(attrs):
        if name in ("kernel_shape", "strides", "dilations", "group"):
            continue
        value = attrs[name]
        if isinstance(value, list):
            value = ",".join(_fmt_number(v) for v in value)
        else:
            value = _fmt_number(value)
        other.append((name, str(value)))
    return other


def _fmt_number(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def _flops(
    op: str,
    kernel: tuple[int, ...],
    group: int,
    c_in: int,
    c_out: int,
    in_shape: tuple[int, ...],
    out_shape: tuple[int, ...],
    has_bias: bool,
) -> int:
    out = _per_sample(out_shape)
    if op == "Conv" and c_in and out:
        positions = out // max(c_out, 1)
        total = positions * c_out * (c_in // max(group, 1)) * math.prod(kernel or (1,))
        return total + (out if has_bias else 0)
    if op == "ConvTranspose" and c_in:
        return _per_sample(in_shape) * (c_out // max(group, 1)) * math.prod(kernel or (1,))
    if op in ("Gemm", "MatMul") and c_in and out:
        return out * c_in
    if op in ("MaxPool", "AveragePool", "LpPool"):
        return out * math.prod(kernel or (1,))
    if op in ("GlobalAveragePool", "GlobalMaxPool", "ReduceMean", "ReduceSum", "ReduceMax"):
        return _per_sample(in_shape)
    if op == "BatchNormalization":
        return 2 * out
    if op in ("LayerNormalization", "InstanceNormalization", "Softmax", "LogSoftmax"):
        return 5 * out
    if op in _ELEMENTWISE_OPS:
        return out
    return 0


def _prune(nodes: list[OpNode], preds: list[list[int]]) -> OpGraph:
    """Drop operators that reach no ``Output`` (``Input`` nodes are always kept)."""
    n = len(nodes)
    live = [False] * n
    for i in range(n - 1, -1, -1):
        if nodes[i].op == "Output":
            live[i] = True
        if live[i]:
            for p in preds[i]:
                live[p] = True
    for i in range(n):
        if nodes[i].op == "Input":
            live[i] = True
    new_index: dict[int, int] = {}
    kept: list[OpNode] = []
    for i in range(n):
        if live[i]:
            new_index[i] = len(kept)
            kept.append(nodes[i])
    edges = sorted(
        {(new_index[p], new_index[i]) for i in range(n) if live[i] for p in preds[i] if live[p]}
    )
    return OpGraph(tuple(kept), tuple(edges))
