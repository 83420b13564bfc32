from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnx")
torch = pytest.importorskip("torch")

from nasrank.encodings import (  # noqa: E402
    NODE_FEATURE_NAMES,
    OpGraph,
    OpNode,
    arch_opgraph,
    feature_names,
    opgraph_features,
)
from nasrank.encodings.features import WL_BUCKETS, WL_ITERATIONS  # noqa: E402
from nasrank.spaces import get_space  # noqa: E402


def _chain(ops):
    nodes = (OpNode("Input"),) + tuple(
        OpNode(op, kernel=(3, 3) if op == "Conv" else (), in_channels=8, out_channels=8,
               output_shape=(1, 8, 16, 16), params=576 if op == "Conv" else 0, flops=100)
        for op in ops
    ) + (OpNode("Output"),)
    return OpGraph(nodes, tuple((i, i + 1) for i in range(len(nodes) - 1)))


def test_features_have_one_fixed_length_across_spaces_and_frameworks():
    from torch import nn

    graphs = [
        arch_opgraph(get_space("nb201"), "(2, 3, 4, 0, 2, 0)", level="cell"),
        arch_opgraph(get_space("nb101"), "input,conv3x3-bn-relu,output|011/001/000", level="cell"),
        arch_opgraph(get_space("nb301"), get_space("nb301").sample(1), level="cell"),
        OpGraph.from_torch(nn.Sequential(nn.Linear(4, 3), nn.Tanh()), torch.randn(1, 4)),
        _chain(["Conv", "Relu"]),
    ]
    vectors = [opgraph_features(g) for g in graphs]
    assert {v.shape for v in vectors} == {(len(feature_names()),)}
    assert all(np.all(np.isfinite(v)) for v in vectors)
    assert len(set(feature_names())) == len(feature_names())


def test_features_are_deterministic_and_structural():
    g = _chain(["Conv", "BatchNormalization", "Relu", "Conv"])
    v = opgraph_features(g)
    assert np.array_equal(v, opgraph_features(OpGraph.from_dict(g.to_dict())))
    named = dict(zip(feature_names(), v))
    assert named["op:Conv"] == 2 and named["op:Relu"] == 1
    assert named["num_nodes"] == 6 and named["num_edges"] == 5 and named["depth"] == 5
    assert named["max_weighted_on_path"] == 2
    assert named["log_max_receptive_field"] == pytest.approx(np.log1p(4))
    for it in range(WL_ITERATIONS + 1):  # every round counts every node once
        assert sum(named[f"wl{it}:{b}"] for b in range(WL_BUCKETS)) == g.num_nodes
    other = opgraph_features(_chain(["Conv", "Relu", "BatchNormalization", "Conv"]))
    assert not np.array_equal(v, other)  # same op histogram, different order: WL differs


def test_pyg_data_has_one_hot_ops_and_edges():
    from nasrank.encodings import opgraph_to_data

    g = _chain(["Conv", "Relu"])
    data = opgraph_to_data(g)
    assert tuple(data.x.shape) == (4, len(NODE_FEATURE_NAMES))
    assert data.edge_index.tolist() == [[0, 1, 2], [1, 2, 3]]
    assert data.x[:, : len(NODE_FEATURE_NAMES) - 10].sum(dim=1).tolist() == [1.0] * 4
    empty = opgraph_to_data(OpGraph((OpNode("Input"), OpNode("Output")), ()))
    assert tuple(empty.edge_index.shape) == (2, 0)
