"""``nasrank encode``: the encodings of one architecture or one ONNX file.

``--kind features`` (default) prints the fixed-length ONNX-graph feature vector (non-zero
entries), ``graph`` the operator graph node by node, ``text`` its compact text form,
``onehot``/``path`` the space's own encodings. ``--level cell`` encodes one cell instead
of the whole network where the space supports it.

Examples::

    nasrank encode --space nb201 --arch "(2, 2, 4, 0, 2, 0)" --kind graph --level cell
    nasrank encode --onnx model.onnx --kind text
"""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING, Any

from nasrank.cli._common import NUM_CLASSES
from nasrank.cli._output import print_table, write_json

if TYPE_CHECKING:
    from nasrank.encodings import OpGraph
    from nasrank.spaces import SearchSpace

KINDS = ("features", "graph", "text", "onehot", "path")


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "encode",
        help="encode an architecture or ONNX file (features, graph, text, ...)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--space", help="search space of --arch")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--arch", help="architecture id (any spelling the space accepts)")
    src.add_argument("--onnx", metavar="FILE", help="an ONNX model file")
    p.add_argument("--kind", default="features", choices=KINDS, help="what to print")
    p.add_argument(
        "--level",
        default="network",
        choices=("network", "cell"),
        help="graph of the whole network (default) or of one cell",
    )
    p.add_argument(
        "--no-fold-zeros",
        action="store_true",
        help="keep multiplications by zero and what only they consume",
    )
    p.add_argument(
        "--num-classes", type=NUM_CLASSES, default=10, help="classifier outputs (default 10)"
    )
    p.add_argument("--json", metavar="PATH", help="write the encoding as JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # Imported here: nasrank.cli imports this module (a cycle), nasrank.spaces imports torch
    # and nasrank.encodings numpy; `nasrank --help` stays fast.
    from nasrank.cli import UsageError
    from nasrank.spaces import get_space

    space = None
    arch = None
    if args.arch is not None:
        if not args.space:
            raise UsageError("--arch needs --space (e.g. --space nb201)")
        space = get_space(args.space)
        arch = space.network_id(args.arch)  # the network the spelling describes
    elif args.kind in ("onehot", "path"):
        raise UsageError(f"--kind {args.kind} is a space encoding; give --space and --arch")
    payload: dict[str, Any] = {"kind": args.kind, "space": args.space, "arch": arch}
    if args.kind in ("onehot", "path"):
        assert space is not None and arch is not None
        _show_space_encoding(args.kind, space, arch, payload)
    else:
        _show_graph(args, space, arch, payload)
    if args.json:
        write_json(args.json, payload)
    return 0


def _show_space_encoding(kind: str, space: SearchSpace, arch: str, payload: dict[str, Any]) -> None:
    """Print the non-zero entries of the space's own encoding ``kind``; fill ``payload``."""
    values = space.encode(kind, arch)
    names = space.encoding_names(kind)
    rows = [[n, float(v)] for n, v in zip(names, values) if v]
    print_table(f"{kind} of {arch} ({len(values)} values)", ["feature", "value"], rows)
    payload.update(names=names, values=values.tolist())


def _opgraph(args: argparse.Namespace, space: SearchSpace | None, arch: str | None) -> OpGraph:
    """The OpGraph of --onnx, or of --arch at --level."""
    from nasrank.cli import UsageError
    from nasrank.encodings import OpGraph, arch_opgraph

    fold = not args.no_fold_zeros
    if args.onnx is not None:
        return OpGraph.from_onnx(args.onnx, fold_zeros=fold)
    assert space is not None
    try:
        return arch_opgraph(
            space, arch, level=args.level, num_classes=args.num_classes, fold_zeros=fold
        )
    except NotImplementedError as exc:
        raise UsageError(str(exc)) from None


def _show_graph(
    args: argparse.Namespace, space: SearchSpace | None, arch: str | None, payload: dict[str, Any]
) -> None:
    """Encode the graph of --onnx or --arch and print it as --kind says; fill ``payload``."""
    from nasrank.encodings import opgraph_text

    t0 = time.perf_counter()
    graph = _opgraph(args, space, arch)
    if args.onnx is not None:
        payload["onnx"] = args.onnx
    seconds = time.perf_counter() - t0
    payload.update(level=args.level if args.onnx is None else None, seconds=seconds)
    label = str(args.onnx or arch)
    summary = (
        f"{graph.num_nodes} nodes, {graph.num_edges} edges, depth {graph.depth}, "
        f"{graph.params} params, {graph.flops} FLOPs, {seconds:.3f} s"
    )
    if args.kind == "features":
        _show_features(graph, label, summary, payload)
    elif args.kind == "graph":
        _show_nodes(graph, label, summary, payload)
    else:
        text = opgraph_text(graph)
        print(text)
        payload["text"] = text


def _show_features(graph: OpGraph, label: str, summary: str, payload: dict[str, Any]) -> None:
    """Print the non-zero ONNX-graph features; fill ``payload``."""
    from nasrank.encodings import feature_names, opgraph_features

    values = opgraph_features(graph)
    names = feature_names()
    rows = [[n, float(v)] for n, v in zip(names, values) if v]
    print_table(
        f"ONNX features of {label}: {summary} ({len(values)} features, {len(rows)} non-zero)",
        ["feature", "value"],
        rows,
    )
    payload.update(names=list(names), values=values.tolist())


def _show_nodes(graph: OpGraph, label: str, summary: str, payload: dict[str, Any]) -> None:
    """Print the operator graph node by node; fill ``payload``."""
    preds = graph.predecessors()
    rows = [
        [
            i,
            node.label,
            f"{node.in_channels}->{node.out_channels}" if node.out_channels else "",
            "x".join(str(s) for s in node.output_shape),
            node.params,
            node.flops,
            ",".join(map(str, preds[i])),
        ]
        for i, node in enumerate(graph.nodes)
    ]
    print_table(
        f"OpGraph of {label}: {summary}",
        ["#", "op", "channels", "output", "params", "flops", "inputs"],
        rows,
    )
    payload["graph"] = graph.to_dict()
