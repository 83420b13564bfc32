"""``torch_geometric.data.Data`` of an :class:`~nasrank.encodings.OpGraph` (for GNNs).

Node features (``NODE_FEATURE_NAMES``): a one-hot op type over
:data:`~nasrank.encodings.features.OP_VOCAB` (unknown ops -> ``other``), then numeric
attributes scaled to about unit range: log2 of the largest kernel side, stride and
dilation, the group count relative to the input channels (1 for depthwise), log2 of the
input and output channels, log2 of the output's spatial size, ``log1p`` of the node's
parameters and FLOPs (divided by 10 and 20), and the node's relative depth. Edges follow
the tensor flow (``edge_index`` of shape ``(2, E)``).

Shapes:
    ``x``: ``(num_nodes, len(NODE_FEATURE_NAMES))`` float32; ``edge_index``: ``(2, E)``
    int64.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from nasrank.encodings.features import OP_VOCAB
from nasrank.encodings.opgraph import OpGraph

if TYPE_CHECKING:
    from torch_geometric.data import Data

__all__ = ["NODE_FEATURE_NAMES", "opgraph_to_data", "node_features"]

_NUMERIC = (
    "log2_kernel",
    "log2_stride",
    "log2_dilation",
    "group_ratio",
    "log2_in_channels",
    "log2_out_channels",
    "log2_spatial",
    "log_params",
    "log_flops",
    "relative_depth",
)
#: Columns of ``Data.x``.
NODE_FEATURE_NAMES: tuple[str, ...] = tuple(f"op:{op}" for op in OP_VOCAB) + _NUMERIC


def node_features(g: OpGraph) -> list[list[float]]:
    """The rows of ``Data.x`` as plain lists."""
    vocab = {op: i for i, op in enumerate(OP_VOCAB)}
    other = vocab["other"]
    levels = g.levels()
    depth = max(max(levels, default=0), 1)
    rows = []
    for node, level in zip(g.nodes, levels):
        onehot = [0.0] * len(OP_VOCAB)
        onehot[vocab.get(node.op, other)] = 1.0
        spatial = node.output_shape[2:] if len(node.output_shape) > 2 else ()
        spatial_size = math.prod(s for s in spatial if s > 0) if spatial else 0
        numeric = [
            math.log2(max(node.kernel, default=1)) / 3,
            math.log2(max(node.stride, default=1)),
            math.log2(max(node.dilation, default=1)),
            (node.group / node.in_channels) if node.group > 1 and node.in_channels else 0.0,
            math.log2(1 + node.in_channels) / 10,
            math.log2(1 + node.out_channels) / 10,
            math.log2(1 + spatial_size) / 10,
            math.log1p(node.params) / 10,
            math.log1p(node.flops) / 20,
            level / depth,
        ]
        rows.append(onehot + numeric)
    return rows


def opgraph_to_data(g: OpGraph) -> Data:
    """The PyG ``Data(x, edge_index, num_nodes)`` of ``g``."""
    import torch
    from torch_geometric.data import Data

    x = torch.tensor(node_features(g), dtype=torch.float32)
    if g.edges:
        edge_index = torch.tensor(g.edges, dtype=torch.long).t().contiguous()
    else:
        edge_index = torch.zeros((2, 0), dtype=torch.long)
    return Data(x=x, edge_index=edge_index, num_nodes=g.num_nodes)
