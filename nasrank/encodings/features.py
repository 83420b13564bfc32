"""Fixed-length feature vectors of an :class:`~nasrank.encodings.OpGraph` (for GBDTs).

The vector has the same length and meaning for every graph, whatever the space or the
framework it came from, so one predictor can be trained across spaces:

* op-type histogram over a fixed vocabulary of ONNX operators (+ ``other``);
* attribute histograms: convolution kernel size, stride, dilation, grouping (dense,
  depthwise, grouped), output channels (log2 buckets), pooling kernel/stride, output
  resolution of 4-D tensors (log2 buckets);
* global structure: nodes, edges, depth, width, merge/branch nodes, maximum in/out
  degree, parameters and FLOPs (log), the FLOP share of convolutions/products,
  normalisation and pooling;
* input-to-output path statistics: number of paths (log), most and fewest weighted
  operators (convolutions/products) on a path, largest and smallest receptive field,
  most FLOPs on a path, outputs connected to an input;
* hashed Weisfeiler-Lehman subtree features (Shervashidze et al., "Weisfeiler-Lehman
  Graph Kernels", JMLR 2011), directed (predecessor and successor multisets), over the
  node labels :attr:`OpNode.label`, ``WL_ITERATIONS + 1`` rounds x ``WL_BUCKETS`` buckets
  with a stable hash (BLAKE2b), so the vector is deterministic across processes.
"""

from __future__ import annotations

import hashlib
import math
from functools import lru_cache

import numpy as np

from nasrank.encodings.opgraph import OpGraph, OpNode

__all__ = [
    "OP_VOCAB",
    "WL_ITERATIONS",
    "WL_BUCKETS",
    "FEATURES_VERSION",
    "feature_names",
    "opgraph_features",
]

#: Bumped whenever :func:`opgraph_features` may change for the same graph (cache key).
FEATURES_VERSION = 1
#: ONNX operators counted one by one; anything else counts as ``other``.
OP_VOCAB: tuple[str, ...] = (
    "Input",
    "Output",
    "Conv",
    "ConvTranspose",
    "Gemm",
    "MatMul",
    "BatchNormalization",
    "LayerNormalization",
    "InstanceNormalization",
    "Relu",
    "LeakyRelu",
    "PRelu",
    "Sigmoid",
    "Tanh",
    "Gelu",
    "Erf",
    "Softmax",
    "HardSwish",
    "HardSigmoid",
    "Elu",
    "MaxPool",
    "AveragePool",
    "GlobalAveragePool",
    "GlobalMaxPool",
    "ReduceMean",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Pow",
    "Sqrt",
    "Concat",
    "Split",
    "Slice",
    "Gather",
    "Reshape",
    "Flatten",
    "Transpose",
    "Squeeze",
    "Unsqueeze",
    "Pad",
    "Resize",
    "Where",
    "Cast",
    "Clip",
    "other",
)
WL_ITERATIONS = 2
WL_BUCKETS = 64

_WEIGHTED = frozenset({"Conv", "ConvTranspose", "Gemm", "MatMul"})
_NORMS = frozenset({"BatchNormalization", "LayerNormalization", "InstanceNormalization"})
_POOLS = frozenset(
    {"MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "ReduceMean", "LpPool"}
)
_CHANNEL_BUCKETS = (8, 16, 32, 64, 128, 256, 512)
_RESOLUTION_BUCKETS = (1, 2, 4, 8, 16, 32, 64)


def _bucket_names(prefix: str, bounds: tuple[int, ...]) -> list[str]:
    return [f"{prefix}<={b}" for b in bounds] + [f"{prefix}>{bounds[-1]}"]


@lru_cache(maxsize=1)
def feature_names() -> tuple[str, ...]:
    """Names of the entries of :func:`opgraph_features`, in order."""
    names = [f"op:{op}" for op in OP_VOCAB]
    names += [f"conv_kernel:{k}" for k in ("1", "3", "5", "7", "other")]
    names += [f"conv_stride:{s}" for s in ("1", "2", ">2")]
    names += ["conv_dilation:1", "conv_dilation:>1"]
    names += ["conv_group:dense", "conv_group:depthwise", "conv_group:grouped"]
    names += _bucket_names("conv_out_channels", _CHANNEL_BUCKETS)
    names += [f"pool_kernel:{k}" for k in ("2", "3", "other")]
    names += [f"pool_stride:{s}" for s in ("1", ">1")]
    names += _bucket_names("resolution", _RESOLUTION_BUCKETS)
    names += [
        "num_nodes",
        "num_edges",
        "depth",
        "width",
        "merge_nodes",
        "branch_nodes",
        "max_in_degree",
        "max_out_degree",
        "log_paths",
        "max_weighted_on_path",
        "min_weighted_on_path",
        "log_max_receptive_field",
        "log_min_receptive_field",
        "log_max_path_flops",
        "connected_outputs",
        "log_params",
        "log_flops",
        "flops_share:weighted",
        "flops_share:norm",
        "flops_share:pool",
        "flops_share:other",
    ]
    names += [f"wl{it}:{b}" for it in range(WL_ITERATIONS + 1) for b in range(WL_BUCKETS)]
    return tuple(names)


def _stable_hash(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


def _bucket(value: int, bounds: tuple[int, ...]) -> int:
    for i, b in enumerate(bounds):
        if value <= b:
            return i
    return len(bounds)


def _path_stats(g: OpGraph) -> np.ndarray:
    """Statistics over input-to-output paths, by dynamic programming over the DAG:
    log(1 + #paths), most and fewest weighted operators (convolutions, products) on a
    path, largest and smallest receptive field (``sum (k_eff - 1) * jump`` along the
    path, ``jump`` the product of strides so far), and log(1 + most FLOPs on a path)."""
    preds = g.predecessors()
    n = g.num_nodes
    paths = [0.0] * n
    reach = [False] * n
    most = [0] * n
    least = [0] * n
    rf_max = [0.0] * n
    rf_min = [0.0] * n
    jump = [1.0] * n
    flops = [0.0] * n
    for i, node in enumerate(g.nodes):
        if node.op == "Input":
            paths[i], reach[i] = 1.0, True
            continue
        ps = [p for p in preds[i] if reach[p]]
        if not ps:
            continue
        reach[i] = True
        w = 1 if node.op in _WEIGHTED else 0
        paths[i] = sum(paths[p] for p in ps)
        most[i] = w + max(most[p] for p in ps)
        least[i] = w + min(least[p] for p in ps)
        j = max(jump[p] for p in ps)
        grow = 0.0
        if node.kernel:
            k = max(node.kernel)
            d = max(node.dilation, default=1)
            grow = (d * (k - 1)) * j
            jump[i] = j * max(node.stride, default=1)
        else:
            jump[i] = j
        rf_max[i] = grow + max(rf_max[p] for p in ps)
        rf_min[i] = grow + min(rf_min[p] for p in ps)
        flops[i] = node.flops + max(flops[p] for p in ps)
    outs = [i for i, node in enumerate(g.nodes) if node.op == "Output" and reach[i]]
    if not outs:
        return np.zeros(7)
    return np.array(
        [
            math.log1p(sum(paths[i] for i in outs)),
            max(most[i] for i in outs),
            min(least[i] for i in outs),
            math.log1p(max(rf_max[i] for i in outs)),
            math.log1p(min(rf_min[i] for i in outs)),
            math.log1p(max(flops[i] for i in outs)),
            float(len(outs)),
        ]
    )


def _wl_features(g: OpGraph) -> np.ndarray:
    preds = g.predecessors()
    succs = g.successors()
    labels = [node.label for node in g.nodes]
    out = np.zeros((WL_ITERATIONS + 1, WL_BUCKETS))
    for it in range(WL_ITERATIONS + 1):
        hashed = [_stable_hash(f"{it}|{lab}") for lab in labels]
        for h in hashed:
            out[it, h % WL_BUCKETS] += 1
        if it == WL_ITERATIONS:
            break
        labels = [
            f"{labels[i]}<({','.join(sorted(labels[p] for p in preds[i]))})"
            f">({','.join(sorted(labels[s] for s in succs[i]))})"
            for i in range(g.num_nodes)
        ]
        # Compress long labels so that later rounds stay cheap.
        labels = [format(_stable_hash(lab), "x") for lab in labels]
    return out.ravel()


def opgraph_features(g: OpGraph) -> np.ndarray:
    """The fixed-length feature vector of ``g`` (``float64``, ``len(feature_names())``)."""
    histograms, flops_by = _node_histograms(g)
    vec = np.concatenate([*histograms, _structure(g, flops_by), _wl_features(g)])
    assert vec.shape == (len(feature_names()),)
    return vec


def _node_histograms(g: OpGraph) -> tuple[list[np.ndarray], np.ndarray]:
    """``(histograms, flops by kind)``: op counts, conv kernel / stride / dilation / group /
    channel, pool kernel / stride and resolution histograms, in feature order; FLOPs of
    weighted, normalisation, pooling and other operators."""
    counts = np.zeros(len(OP_VOCAB))
    other = OP_VOCAB.index("other")
    conv = [np.zeros(5), np.zeros(3), np.zeros(2), np.zeros(3), np.zeros(len(_CHANNEL_BUCKETS) + 1)]
    pool = [np.zeros(3), np.zeros(2)]
    resolution = np.zeros(len(_RESOLUTION_BUCKETS) + 1)
    flops_by = np.zeros(4)
    vocab = {op: i for i, op in enumerate(OP_VOCAB)}
    for node in g.nodes:
        counts[vocab.get(node.op, other)] += 1
        if node.op in ("Conv", "ConvTranspose"):
            _count_conv(node, *conv)
        elif node.op in ("MaxPool", "AveragePool", "LpPool"):
            _count_pool(node, *pool)
        if len(node.output_shape) == 4 and node.output_shape[-1] > 0:
            resolution[_bucket(node.output_shape[-1], _RESOLUTION_BUCKETS)] += 1
        if node.op in _WEIGHTED:
            flops_by[0] += node.flops
        elif node.op in _NORMS:
            flops_by[1] += node.flops
        elif node.op in _POOLS:
            flops_by[2] += node.flops
        else:
            flops_by[3] += node.flops
    return [counts, *conv, *pool, resolution], flops_by


def _count_conv(
    node: OpNode,
    kernel: np.ndarray,
    stride: np.ndarray,
    dilation: np.ndarray,
    group: np.ndarray,
    channels: np.ndarray,
) -> None:
    k = max(node.kernel, default=1)
    kernel[{1: 0, 3: 1, 5: 2, 7: 3}.get(k, 4)] += 1
    s = max(node.stride, default=1)
    stride[0 if s == 1 else 1 if s == 2 else 2] += 1
    dilation[0 if max(node.dilation, default=1) == 1 else 1] += 1
    if node.group == 1:
        group[0] += 1
    elif node.group == node.in_channels:
        group[1] += 1
    else:
        group[2] += 1
    channels[_bucket(node.out_channels, _CHANNEL_BUCKETS)] += 1


def _count_pool(node: OpNode, kernel: np.ndarray, stride: np.ndarray) -> None:
    k = max(node.kernel, default=0)
    kernel[{2: 0, 3: 1}.get(k, 2)] += 1
    stride[0 if max(node.stride, default=1) == 1 else 1] += 1


def _structure(g: OpGraph, flops_by: np.ndarray) -> np.ndarray:
    """Size, depth, width, branching, path statistics, log params / FLOPs, FLOP shares."""
    total_flops = flops_by.sum()
    share = flops_by / total_flops if total_flops > 0 else flops_by
    in_deg = np.zeros(g.num_nodes)
    out_deg = np.zeros(g.num_nodes)
    for s, d in g.edges:
        out_deg[s] += 1
        in_deg[d] += 1
    return np.array(
        [
            g.num_nodes,
            g.num_edges,
            g.depth,
            g.width,
            float((in_deg > 1).sum()),
            float((out_deg > 1).sum()),
            in_deg.max(initial=0),
            out_deg.max(initial=0),
            *_path_stats(g),
            math.log1p(g.params),
            math.log1p(g.flops),
            *share,
        ],
        dtype=np.float64,
    )
