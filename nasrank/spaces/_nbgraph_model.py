"""The NAS-Bench-Graph network (Qin et al., NeurIPS 2022), re-implemented from the paper.

Reference implementation: the benchmark's training code (``Net``/``Cell``/``gnn_map`` in
THUMNLab's NAS-Bench-Graph model file), built on torch-geometric layers. The layers and
their widths are the same, so parameter counts match the table's ``para`` up to one
documented difference (see :class:`NBGraphNetwork`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["NBGraphNetwork", "make_op"]


class NodeLinear(nn.Module):
    """The ``fc`` operation: a linear map of every node's features; edges are ignored."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.linear = nn.Linear(in_channels, out_channels)

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        return self.linear(x)


class Skip(nn.Module):
    """The ``skip`` operation: the identity."""

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        return x


def make_op(name: str, in_channels: int, out_channels: int, *, gat_heads: int = 4) -> nn.Module:
    """One NAS-Bench-Graph operation as a module called ``op(x, edge_index)``.

    ``gat``: GAT with ``gat_heads`` concatenated heads of ``out_channels // gat_heads``;
    ``gcn``: GCN (symmetric normalisation, self-loops); ``gin``: GIN with a single linear
    layer; ``cheb``: Chebyshev convolution of order K=2; ``sage``: GraphSAGE (mean);
    ``arma``: ARMA (1 stack, 1 layer); ``graph``: k-GNN's GraphConv; ``fc``: linear;
    ``skip``: identity (``in_channels`` must equal ``out_channels`` where it matters).
    """
    from torch_geometric import nn as gnn

    if name == "gat":
        if out_channels % gat_heads:
            raise ValueError(f"GAT width {out_channels} is not divisible by gat_heads={gat_heads}")
        return gnn.GATConv(in_channels, out_channels // gat_heads, heads=gat_heads, concat=True)
    if name == "gcn":
        return gnn.GCNConv(in_channels, out_channels)
    if name == "gin":
        return gnn.GINConv(nn.Linear(in_channels, out_channels))
    if name == "cheb":
        return gnn.ChebConv(in_channels, out_channels, K=2)
    if name == "sage":
        return gnn.SAGEConv(in_channels, out_channels)
    if name == "arma":
        return gnn.ARMAConv(in_channels, out_channels)
    if name == "graph":
        return gnn.GraphConv(in_channels, out_channels)
    if name == "fc":
        return NodeLinear(in_channels, out_channels)
    if name == "skip":
        return Skip()
    raise ValueError(f"unknown NAS-Bench-Graph operation {name!r}")


class NBGraphNetwork(nn.Module):
    """Pre-processing, a 4-node cell wired by ``link``, post-processing: a node classifier.

    * input dropout, then ``num_pre`` linear layers (ELU between them) to width ``hidden``;
    * node ``i`` computes ``ops[i](h, edge_index)`` on ``h`` = the output of node
      ``link[i]`` (0 = the pre-processed input). A node input of width ``hidden`` first goes
      through the node's own BatchNorm, ReLU and dropout; the raw input (``num_pre == 0``,
      possibly passed on by skips) goes in as it is, as in the benchmark;
    * the leaf nodes (read by no other node) are concatenated, ReLU, and a linear layer maps
      them to ``hidden`` (to ``num_classes`` when ``num_post == 0``);
    * ``num_post`` linear layers (ELU between them), the last one to ``num_classes``.

    The benchmark's network also allocates a BatchNorm for each node that reads the raw
    input, although it never applies it; this one does not, so its parameter count is the
    table's ``para`` minus ``2 * hidden`` per such node.

    Args:
        link: Input of each node (``link[i]`` in ``0..i``).
        ops: Operation of each node, from ``nasrank.spaces.nbgraph.OPS``.
        in_channels: Node-feature width ``F``.
        num_classes: Output width.
        hidden: Width of every node (256 on Cora in the benchmark).
        num_pre: Pre-processing linear layers (0 on Cora).
        num_post: Post-processing linear layers (1 on Cora).
        dropout: Dropout probability on the input and on every normalised node input.
        gat_heads: Heads of the ``gat`` operation (must divide ``hidden``).

    Shapes:
        ``forward(x, edge_index=None)``: node features ``(N, F)`` and ``edge_index`` ``(2, E)``
        (``None``: no edges) -> logits ``(N, num_classes)``. A torch-geometric ``Data`` /
        ``Batch`` with ``x`` and ``edge_index`` may be passed as ``x`` instead.
    """

    def __init__(
        self,
        link: Sequence[int],
        ops: Sequence[str],
        *,
        in_channels: int,
        num_classes: int,
        hidden: int = 256,
        num_pre: int = 0,
        num_post: int = 1,
        dropout: float = 0.0,
        gat_heads: int = 4,
    ) -> None:
        super().__init__()
        if len(link) != len(ops) or any(not 0 <= src <= i for i, src in enumerate(link)):
            raise ValueError(f"invalid NAS-Bench-Graph wiring link={list(link)}, ops={list(ops)}")
        if num_pre < 0 or num_post < 0:
            raise ValueError(f"num_pre and num_post must be >= 0, got {num_pre}, {num_post}")
        self.link = tuple(link)
        self.dropout = dropout
        self.pre = nn.ModuleList(
            nn.Linear(in_channels if i == 0 else hidden, hidden) for i in range(num_pre)
        )
        # raw[n]: node n's output is the un-normalised input; width[n]: its feature width
        raw = [num_pre == 0]
        width = [hidden if num_pre else in_channels]
        self.ops = nn.ModuleList()
        self.norms = nn.ModuleDict()
        for i, (src, op) in enumerate(zip(link, ops)):
            if not raw[src]:
                self.norms[str(i)] = nn.BatchNorm1d(width[src])
            self.ops.append(make_op(op, width[src], hidden, gat_heads=gat_heads))
            raw.append(raw[src] and op == "skip")
            width.append(width[src] if op == "skip" else hidden)
        self.leaves = tuple(n for n in range(1, len(link) + 1) if n not in link)
        self.combine = nn.Linear(
            sum(width[n] for n in self.leaves), hidden if num_post else num_classes
        )
        self.post = nn.ModuleList(
            nn.Linear(hidden, num_classes if i == num_post - 1 else hidden) for i in range(num_post)
        )

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor | None = None) -> torch.Tensor:
        if not isinstance(x, torch.Tensor):  # a torch_geometric Data / Batch
            x, edge_index = x.x, x.edge_index
        if edge_index is None:
            edge_index = torch.empty((2, 0), dtype=torch.long, device=x.device)
        h = F.dropout(x, p=self.dropout, training=self.training)
        for i, layer in enumerate(self.pre):
            if i > 0:
                h = F.elu(h)
            h = layer(h)
        nodes = [h]
        for i, (src, op) in enumerate(zip(self.link, self.ops)):
            inp = nodes[src]
            if str(i) in self.norms:
                inp = F.dropout(
                    F.relu(self.norms[str(i)](inp)), p=self.dropout, training=self.training
                )
            nodes.append(op(inp, edge_index))
        out = self.combine(F.relu(torch.cat([nodes[n] for n in self.leaves], dim=1)))
        for i, layer in enumerate(self.post):
            if i > 0:
                out = F.elu(out)
            out = layer(out)
        return out
