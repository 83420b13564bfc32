from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
torch = pytest.importorskip("torch")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from nasrank.encodings import OpGraph, arch_opgraph, opgraph_text  # noqa: E402
from nasrank.errors import DataError  # noqa: E402
from nasrank.spaces import get_space  # noqa: E402


def _model(nodes, inits, out_shape=(1, 4 * 8 * 8)):
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(out_shape))],
        initializer=inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _conv_relu_reshape(extra_zero_branch=False):
    w = numpy_helper.from_array(np.ones((4, 3, 3, 3), np.float32), "w")
    nodes = [
        helper.make_node("Identity", ["x"], ["x_id"]),
        helper.make_node("Conv", ["x_id", "w"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c", "s", "b", "m", "v"], ["bn"]),
        helper.make_node("Relu", ["bn"], ["r"]),
        # shape plumbing: Shape -> Gather -> Unsqueeze -> Concat -> Reshape
        helper.make_node("Shape", ["r"], ["shape"]),
        helper.make_node("Constant", [], ["zero_idx"], value=numpy_helper.from_array(np.array(0, np.int64))),
        helper.make_node("Gather", ["shape", "zero_idx"], ["n"], axis=0),
        helper.make_node("Constant", [], ["axes"], value=numpy_helper.from_array(np.array([0], np.int64))),
        helper.make_node("Unsqueeze", ["n", "axes"], ["n1"]),
        helper.make_node("Constant", [], ["minus1"], value=numpy_helper.from_array(np.array([-1], np.int64))),
        helper.make_node("Concat", ["n1", "minus1"], ["target"], axis=0),
        helper.make_node("Reshape", ["r", "target"], ["flat"]),
    ]
    if extra_zero_branch:
        nodes += [
            helper.make_node("Conv", ["x", "w"], ["c2"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
            helper.make_node("Constant", [], ["z"], value=numpy_helper.from_array(np.array(0.0, np.float32))),
            helper.make_node("Mul", ["c2", "z"], ["dead"]),
            helper.make_node("Relu", ["dead"], ["dead_r"]),
            helper.make_node("Add", ["r", "dead_r"], ["sum"]),
        ]
        nodes[11] = helper.make_node("Reshape", ["sum", "target"], ["flat"])
        nodes.append(nodes.pop(11))
    nodes.append(helper.make_node("Identity", ["flat"], ["y"]))
    bn = [numpy_helper.from_array(np.ones(4, np.float32), n) for n in ("s", "b", "m", "v")]
    return _model(nodes, [w, *bn])


def test_constants_identity_and_shape_plumbing_are_folded():
    g = OpGraph.from_onnx(_conv_relu_reshape())
    assert [n.op for n in g.nodes] == [
        "Input", "Conv", "BatchNormalization", "Relu", "Reshape", "Output"
    ]
    assert g.edges == ((0, 1), (1, 2), (2, 3), (3, 4), (4, 5))
    conv, bn = g.nodes[1], g.nodes[2]
    assert (conv.in_channels, conv.out_channels, conv.kernel) == (3, 4, (3, 3))
    assert conv.params == 4 * 3 * 9
    assert conv.output_shape == (1, 4, 8, 8)  # from ONNX shape inference
    assert conv.flops == 8 * 8 * 4 * 3 * 9
    assert bn.params == 8  # scale + bias; running statistics are buffers
    assert g.params == 108 + 8


def test_multiplication_by_zero_is_propagated_and_dead_branch_dropped():
    folded = OpGraph.from_onnx(_conv_relu_reshape(extra_zero_branch=True))
    assert [n.op for n in folded.nodes].count("Conv") == 1
    assert "Mul" not in {n.op for n in folded.nodes}
    assert "Add" not in {n.op for n in folded.nodes}
    assert folded.fingerprint() == OpGraph.from_onnx(_conv_relu_reshape()).fingerprint()
    kept = OpGraph.from_onnx(_conv_relu_reshape(extra_zero_branch=True), fold_zeros=False)
    assert {"Mul", "Add"} <= {n.op for n in kept.nodes}
    assert [n.op for n in kept.nodes].count("Conv") == 2


def test_bad_inputs_raise_data_error(tmp_path):
    with pytest.raises(DataError, match="not found"):
        OpGraph.from_onnx(tmp_path / "missing.onnx")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not an onnx file at all")
    with pytest.raises(DataError):
        OpGraph.from_onnx(bad)


def test_from_torch_is_deterministic_and_keeps_bn_relu_and_training_mode():
    from torch import nn

    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                          nn.Dropout(0.5), nn.Flatten(), nn.Linear(8 * 4 * 4, 2))
    model.train()
    x = torch.randn(1, 3, 4, 4)
    a = OpGraph.from_torch(model, x)
    b = OpGraph.from_torch(model, x)
    assert model.training
    assert a == b and a.fingerprint() == b.fingerprint()
    ops = [n.op for n in a.nodes]
    assert ops == ["Input", "Conv", "BatchNormalization", "Relu", "Flatten", "Gemm", "Output"]
    gemm = a.nodes[5]
    assert (gemm.in_channels, gemm.out_channels) == (128, 2)
    assert OpGraph.from_dict(a.to_dict()) == a


def test_nb201_equivalent_cells_share_one_graph_and_dead_cells_collapse():
    space = get_space("nb201")
    # Edge 1->2 and 0->2 feed node 2, which only reaches the output through 'none'.
    a = "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|"
    b = "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|"
    ga = arch_opgraph(space, a, level="cell")
    gb = arch_opgraph(space, b, level="cell")
    assert ga.fingerprint() == gb.fingerprint()
    assert [n.op for n in ga.nodes].count("Conv") == 2
    dead = arch_opgraph(space, "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|nor_conv_3x3~2|",
                        level="cell")
    assert [n.op for n in dead.nodes] == ["Input", "Output"] and dead.params == 0


def test_whole_nb201_network_matches_the_benchmark_parameter_count():
    space = get_space("nb201")
    g = arch_opgraph(space, "(2, 2, 2, 2, 2, 2)")
    assert g.params == 1_531_546  # Suite-Zero's params for all-nor_conv_3x3, 10 classes
    assert g.nodes[0].op == "Input" and g.nodes[-1].op == "Output"


def test_cell_level_for_nb101_and_nb301_and_unsupported_space():
    g101 = arch_opgraph(get_space("nb101"), "input,conv3x3-bn-relu,maxpool3x3,output|0110/0001/0001/0000",
                        level="cell")
    assert {"Conv", "MaxPool", "Relu"} <= {n.op for n in g101.nodes}
    g301 = arch_opgraph(get_space("nb301"), get_space("nb301").sample(0), level="cell")
    assert sum(n.op == "Input" for n in g301.nodes) == 2
    with pytest.raises(NotImplementedError, match="no cell-level graph"):
        from nasrank.encodings import cell_module

        cell_module(get_space("nbgraph"), get_space("nbgraph").sample(0))


def test_text_lists_every_node_in_order():
    g = OpGraph.from_onnx(_conv_relu_reshape())
    text = opgraph_text(g)
    lines = text.splitlines()
    assert lines[0].startswith("# OpGraph nodes=6")
    assert lines[2] == "%1 = Conv k3x3 3->4 out=1x4x8x8 params=108 (%0)"
    assert len(lines) == 1 + g.num_nodes
    assert opgraph_text(g) == text
