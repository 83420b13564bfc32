from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def monotone_problem():
    """A synthetic problem whose target is a noisy monotone function of 3 of 6 features."""
    from nasrank.predictors import FeatureMatrix

    rng = np.random.default_rng(0)
    values = rng.normal(size=(120, 6))
    y = 2 * values[:, 0] + np.tanh(values[:, 1]) - 0.5 * values[:, 2] ** 3
    y = y + 0.1 * rng.normal(size=120)
    names = tuple(f"f{i}" for i in range(6))
    return FeatureMatrix(values, names), y


@pytest.fixture
def graph_problem():
    """Chains of ops; the target grows with the number of Conv nodes."""
    pytest.importorskip("torch_geometric")
    from nasrank.encodings import OpGraph, OpNode, opgraph_to_data
    from nasrank.predictors import FeatureMatrix

    rng = np.random.default_rng(1)
    graphs, ys, extra = [], [], []
    for _ in range(80):
        ops = rng.choice(["Conv", "Relu", "AveragePool", "Add"], size=int(rng.integers(2, 8)))
        nodes = (OpNode("Input"),) + tuple(
            OpNode(str(op), kernel=(3, 3) if op in ("Conv", "AveragePool") else (),
                   params=100 if op == "Conv" else 0) for op in ops
        ) + (OpNode("Output"),)
        g = OpGraph(nodes, tuple((i, i + 1) for i in range(len(nodes) - 1)))
        graphs.append(opgraph_to_data(g))
        ys.append(float((ops == "Conv").sum()) + 0.1 * rng.normal())
        extra.append([rng.normal()])
    return FeatureMatrix(np.array(extra), ("noise",), graphs=graphs), np.array(ys)
