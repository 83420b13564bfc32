"""Graph batches: the seeded synthetic graph, graph:PATH .npz files and their checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nasrank.data import (
    DEFAULT_GRAPH_SIZE,
    load_batch,
    load_dataset,
    load_graph,
    parse_spec,
    save_graph,
    synthetic_graph,
)
from nasrank.errors import DataError


def test_synthetic_graph_shapes_dtypes_and_edges():
    batch = synthetic_graph(50, 6, 3, seed=0)
    x, y, edges = batch.inputs, batch.targets, batch.extras["edge_index"]
    assert x.shape == (50, 6) and x.dtype == torch.float32
    assert y.shape == (50,) and y.dtype == torch.int64
    assert int(y.min()) >= 0 and int(y.max()) < 3 and batch.num_classes == 3
    assert edges.shape[0] == 2 and edges.dtype == torch.int64
    assert int(edges.min()) >= 0 and int(edges.max()) < 50
    assert not bool((edges[0] == edges[1]).any())  # no self loops
    pairs = set(map(tuple, edges.T.tolist()))
    assert all((b, a) in pairs for a, b in pairs)  # undirected: both directions stored
    assert len(pairs) == edges.shape[1]  # no duplicates
    assert 2 <= edges.shape[1] / 50 <= 4  # a few neighbours per node
    assert len(batch) == 50  # the nodes are the samples


def test_synthetic_graph_is_seeded():
    a, b, c = synthetic_graph(30, 4, 2, seed=1), synthetic_graph(30, 4, 2, seed=1), synthetic_graph(30, 4, 2, seed=2)
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()
    assert torch.equal(a.extras["edge_index"], b.extras["edge_index"])
    assert synthetic_graph(30, 4, 2, seed=1, split="test").fingerprint() != a.fingerprint()


def test_a_one_node_graph_has_no_edges():
    assert synthetic_graph(1, 3, 2).extras["edge_index"].shape == (2, 0)


@pytest.mark.parametrize("kwargs", [{"num_nodes": 0}, {"num_features": -1}, {"num_classes": 0}, {"degree": -1}])
def test_synthetic_graph_bad_sizes(kwargs):
    with pytest.raises(DataError):
        synthetic_graph(**{"num_nodes": 5, "num_features": 2, "num_classes": 2, **kwargs})


def test_graph_specs_parse():
    assert parse_spec("graph").shape == DEFAULT_GRAPH_SIZE[:2] == (2708, 1433)
    assert parse_spec("graph").num_classes == 7 and parse_spec("graph").kind == "graph"
    spec = parse_spec("graph:100:8:3")
    assert (spec.shape, spec.num_classes, spec.path) == ((100, 8), 3, None)
    assert parse_spec("graph:100").shape == (100, 1433)
    assert parse_spec("graph:data/cora.npz").path is not None
    assert parse_spec("graph:./123").path is not None  # a path that is not all digits
    with pytest.raises(DataError, match="positive"):
        parse_spec("graph:0:4:2")


def test_load_batch_gives_the_whole_graph_whatever_the_batch_size():
    batch = load_batch("graph:40:5:3", batch_size=8, seed=3)
    assert len(batch) == 40 and batch.inputs.shape == (40, 5) and batch.num_classes == 3
    assert batch.source == "graph:40:5:3 split=train seed=3 n=40"
    assert load_batch("graph:40:5:3", batch_size=64, seed=3).fingerprint() == batch.fingerprint()
    assert load_batch("graph:40:5:3", seed=4).fingerprint() != batch.fingerprint()


def test_load_dataset_refuses_a_graph():
    with pytest.raises(DataError, match="one graph") as info:
        load_dataset("graph")
    assert "\n" not in str(info.value)


def test_npz_round_trip(tmp_path):
    original = synthetic_graph(25, 4, 5, seed=0)
    path = save_graph(tmp_path / "g.npz", original)
    batch = load_batch(f"graph:{path}", batch_size=3)
    assert batch.fingerprint() == original.fingerprint()
    assert torch.equal(batch.extras["edge_index"], original.extras["edge_index"])
    assert batch.num_classes == 5 and batch.source == f"graph:{path} n=25"


def test_npz_without_num_classes_and_with_other_dtypes(tmp_path):
    path = tmp_path / "g.npz"
    x = np.arange(12, dtype=np.int32).reshape(4, 3)  # integer features become float32
    edges = np.array([[0, 1, 2], [1, 2, 3]], dtype=np.int32)
    np.savez(path, x=x, edge_index=edges, y=np.array([0, 2, 1, 2]), train_mask=np.ones(4, bool))
    batch = load_graph(path)
    assert batch.num_classes == 3 and batch.inputs.dtype == torch.float32
    assert batch.extras["edge_index"].dtype == torch.int64


def _write(path, **arrays):
    good = {
        "x": np.zeros((4, 2), np.float32),
        "edge_index": np.array([[0, 1], [1, 0]]),
        "y": np.array([0, 1, 0, 1]),
    }
    good.update(arrays)
    np.savez(path, **{k: v for k, v in good.items() if v is not None})
    return path


@pytest.mark.parametrize(
    "arrays, message",
    [
        ({"y": None}, "lacks the array(s) y"),
        ({"x": np.zeros(4, np.float32)}, "x must be (N, F)"),
        ({"x": np.array([["a", "b"]] * 4)}, "real numbers"),
        ({"x": np.full((4, 2), np.nan, np.float32)}, "NaN"),
        ({"edge_index": np.array([[0, 1], [1, 2], [2, 3]])}, "(2, E)"),
        ({"edge_index": np.array([[0.0, 1.0], [1.0, 0.0]])}, "integers"),
        ({"edge_index": np.array([[0, 4], [1, 0]])}, "nodes 0..3"),
        ({"edge_index": np.array([[0, -1], [1, 0]])}, "nodes 0..3"),
        ({"y": np.array([0, 1, 0])}, "y must be (N,)"),
        ({"y": np.array([0.0, 1.0, 0.0, 1.0])}, "integer class labels"),
        ({"y": np.array([0, -1, 0, 1])}, "negative label"),
        ({"num_classes": np.array(1)}, "num_classes is 1"),
        ({"num_classes": np.array([2, 2])}, "one integer"),
        ({"x": np.array([[object()] * 2] * 4, dtype=object)}, "object arrays"),
    ],
)
def test_bad_npz_is_a_one_line_data_error(tmp_path, arrays, message):
    path = _write(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DataError) as info:
        load_batch(f"graph:{path}")
    text = str(info.value)
    assert message in text and "\n" not in text and str(path) in text


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "not found"),
        (b"not a numpy file", "not a readable .npz"),
        ("npy", "single .npy array"),
        (b"PK\x03\x04 truncated zip", "not a readable .npz"),
    ],
)
def test_unreadable_graph_files(tmp_path, content, message):
    path = tmp_path / "g.npz"
    if content == "npy":
        with open(path, "wb") as f:
            np.save(f, np.zeros(3))
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(DataError) as info:
        load_graph(path)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_save_graph_needs_a_graph_batch(tmp_path):
    with pytest.raises(DataError, match="edge_index"):
        save_graph(tmp_path / "g.npz", load_batch("synthetic", batch_size=2))
