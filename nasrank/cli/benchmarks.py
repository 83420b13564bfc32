"""``nasrank benchmarks``: list benchmark kinds or show one (size, metrics, optimum, top-k)."""

from __future__ import annotations

import argparse
from typing import Any

from nasrank.cli._common import int_arg
from nasrank.cli._output import print_table, write_json

_KINDS = (
    (
        "nb201-analog",
        "nb201",
        "all 15,625 NB-201 archs, CIFAR-10 digital/PTQ/QAT/analog/drift accuracy",
        "pip package analog-nasbench",
    ),
    (
        "suite-zero:PATH",
        "nb101/nb201/nb301/tnb101-micro/tnb101-macro",
        "NAS-Bench-Suite-Zero JSON: val_accuracy + reference proxy scores",
        "a file you have",
    ),
    (
        "table:PATH",
        "any (--space)",
        "CSV/Parquet with an 'arch' column and numeric metric columns",
        "a file you have",
    ),
    (
        "nbnlp:PATH",
        "nbnlp",
        "NAS-Bench-NLP: WikiText-2 train/val/test and PTB test losses of RNN cells",
        "derived_nbnlp_wt2_recipes_losses.csv (a file you have)",
    ),
    (
        "nbbert:PATH",
        "nbbert",
        "NAS-Bench-BERT: GLUE task scores of FlexiBERT-like transformers",
        "BERT_benchmark.json (a file you have)",
    ),
    (
        "nb-graph:DATASET",
        "nbgraph",
        "NAS-Bench-Graph: 26,206 GNN archs x 9 graph datasets",
        "pip package nas-bench-graph",
    ),
)


def add_parser(sub: Any) -> None:
    p = sub.add_parser("benchmarks", help="list benchmarks or show one", description=__doc__)
    p.add_argument(
        "spec", nargs="?", help="benchmark to show, e.g. nb201-analog or suite-zero:PATH"
    )
    p.add_argument(
        "--task", help="task inside a multi-task file (Suite-Zero: cifar10, cifar100, ...)"
    )
    p.add_argument("--space", help="search space of a table: file's arch column")
    p.add_argument("--metric", help="metric to rank by (default: the benchmark's)")
    p.add_argument(
        "--top",
        type=int_arg(1, 10**9),
        default=10,
        metavar="K",
        help="show the K best (default 10)",
    )
    p.add_argument("--json", metavar="PATH", help="write the listing / summary as JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.spec is None:
        return _list(args)
    return _show(args)


def _list(args: argparse.Namespace) -> int:
    from nasrank.benchmarks import BENCHMARKS

    kinds = [k for k in _KINDS if k[0].split(":")[0] in BENCHMARKS]
    listed = {k[0].split(":")[0] for k in kinds}
    kinds += [  # a kind registered without a line here is still listed
        (f"{name}:ARG", "-", "(no description)", "-")
        for name in sorted(BENCHMARKS.names())
        if name not in listed
    ]
    print_table("Benchmarks (ground truth)", ["spec", "space", "what", "data"], kinds)
    if args.json:
        write_json(
            args.json,
            {"benchmarks": [dict(zip(("spec", "space", "description", "data"), k)) for k in kinds]},
        )
    return 0


def _show(args: argparse.Namespace) -> int:
    from nasrank.benchmarks import load_benchmark
    from nasrank.cli import UsageError

    if args.top < 0:
        raise UsageError(f"--top must be >= 0, got {args.top}")
    bench = load_benchmark(args.spec, task=args.task, space=args.space)
    metric = args.metric or bench.default_metric
    top = bench.top(args.top, metric)
    best_arch, best_value = bench.optimum(metric)
    summary = {
        "name": bench.name,
        "space": bench.space,
        "size": len(bench),
        "metrics": list(bench.metrics),
        "metric": metric,
        "higher_is_better": bench.higher_is_better(metric),
        "optimum": {"arch": best_arch, "value": best_value},
        "top": [{"rank": i + 1, "arch": a, "value": v} for i, (a, v) in enumerate(top)],
    }
    print_table(
        bench.name,
        ["field", "value"],
        [
            ["space", bench.space or "-"],
            ["architectures", f"{len(bench):,}"],
            ["metrics", ", ".join(bench.metrics)],
            [
                "ranked by",
                f"{metric} ({'higher' if summary['higher_is_better'] else 'lower'} is better)",
            ],
            ["optimum", f"{best_value:.4f}  {best_arch}"],
        ],
    )
    if top:
        print_table(
            f"Top {len(top)} by {metric}",
            ["rank", metric, "arch"],
            [[i + 1, v, a] for i, (a, v) in enumerate(top)],
        )
    if args.json:
        write_json(args.json, summary)
    return 0
