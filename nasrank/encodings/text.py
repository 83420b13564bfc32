"""A compact, deterministic text description of an :class:`~nasrank.encodings.OpGraph`.

One line per operator, in topological order::

    %3 = Conv k3x3 16->16 out=1x16x32x32 params=2304 (%2)

``%i`` is the node index, the label is :attr:`OpNode.label` (op and the attributes that
change its function), then channels, output shape, parameters and the input nodes. A
header line gives totals. Useful for diffs, logs and language-model prompts.
"""

from __future__ import annotations

from nasrank.encodings.opgraph import OpGraph

__all__ = ["opgraph_text"]


def opgraph_text(g: OpGraph, *, header: bool = True) -> str:
    """The text form of ``g`` (ends without a newline)."""
    preds = g.predecessors()
    lines = []
    if header:
        lines.append(
            f"# OpGraph nodes={g.num_nodes} edges={g.num_edges} depth={g.depth} "
            f"width={g.width} params={g.params} flops={g.flops}"
        )
    for i, node in enumerate(g.nodes):
        parts = [f"%{i} = {node.label.replace(':', ' ')}"]
        if node.in_channels or node.out_channels:
            parts.append(f"{node.in_channels}->{node.out_channels}")
        if node.output_shape:
            parts.append("out=" + "x".join("?" if s < 0 else str(s) for s in node.output_shape))
        if node.params:
            parts.append(f"params={node.params}")
        if preds[i]:
            parts.append("(" + ", ".join(f"%{p}" for p in preds[i]) + ")")
        lines.append(" ".join(parts))
    return "\n".join(lines)
