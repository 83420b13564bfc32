"""``nasrank search``: find the best architecture of a benchmark with few queries.

Runs one or more search methods (``robot``, ``bo``, ``re``, ``ls``, ``random``,
``zc-topk``; comma-separated to compare them) for several seeds against a benchmark
table, counting distinct queries, and reports per method the best value at the budget
and the queries needed to reach the optimum of the candidate pool. Optionally trains the
best architectures found for real (``--train-top K``; several at once with
``--workers``, or on a Ray cluster with a GPU each: ``--executor ray --gpus-per-worker 1``)
and persists every evaluation (``--storage``, and ``--checkpoint-dir`` for the trainings)
so that a killed run, restarted with the same command, continues where it stopped.

Proxy scores come from the benchmark's stored columns when it has them (Suite-Zero),
else from a proxy table shipped with nasrank when it holds every requested proxy
(NB-201: ``nb201-cifar10``, scores on a 64-image CIFAR-10 batch; no computation, the
whole space in seconds), else from the proxy engine (through the score store --store /
$NASRANK_STORE, default ~/.cache/nasrank/scores.sqlite). ``--proxy-source`` forces one.
A table that covers only part of the space (still being computed) gives a pool of the
architectures it covers; a notice says which table was used and its coverage.

``--report-metric B`` follows the field's protocol (RoBoT, the NAS-Bench-201 papers):
the searches optimise --metric A alone, and each run reports B of the architecture it
picked by A, read from the benchmark (never the best B among those queried); the summary
gives B's mean and std at the budget and at 10/20/50 queries.

Without --proxies, a search uses a label-free default set, one rule for every source:
the first few of a preference order (nwot, flops, synflow, params, jacov, l2_norm;
chosen on NAS-Bench-Suite-Zero NB-101 and TransNAS-Bench-101, see docs/BENCHMARKS.md)
that the source has -- the benchmark's stored scores, the table's columns, or, for the
engine without --data (synthetic images), its data-free proxies.

With no options, ``nasrank search`` runs RoBoT on NAS-Bench-201 with the ``nb201-analog``
ground truth, ranking candidates by that default set read from the shipped table over
every architecture it covers, or computed on synthetic data for 64 sampled
architectures when no table applies.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from typing import TYPE_CHECKING, Any

import numpy as np

from nasrank.cli._common import (
    BATCH_SIZE,
    MAX_SEED,
    NUM_CLASSES,
    add_device_argument,
    add_executor_arguments,
    check_device,
    cli_executor,
    cli_threads,
    int_arg,
    seed_arg,
    torch_threads,
)
from nasrank.cli._output import print_note, print_table, progress, save_figure, write_json
from nasrank.errors import NasrankError

if TYPE_CHECKING:
    from nasrank.search import SearchPlan, SearchReport

logger = logging.getLogger(__name__)

#: Size of the sampled pool when proxies must be computed by the engine (see
#: :data:`nasrank.search.plan.DEFAULT_ENGINE_POOL`; kept here so ``--help`` needs no torch).
DEFAULT_ENGINE_POOL = 64
#: Most seeds one ``--seeds`` may name (a typo such as ``0..100000000`` is an error).
MAX_SEEDS = 10_000


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "search",
        help="search a benchmark with RoBoT, predictor BO or a baseline",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_search_arguments(p)
    _add_score_arguments(p)
    _add_feature_arguments(p)
    _add_training_arguments(p)
    _add_output_arguments(p)
    p.set_defaults(run=run)


def _add_search_arguments(p: argparse.ArgumentParser) -> None:
    """What is searched, against what, with which methods, budget and seeds."""
    p.add_argument("--space", default="nb201", help="search space (default nb201)")
    p.add_argument(
        "--benchmark",
        default="nb201-analog",
        help="ground truth: nb201-analog (default), suite-zero:PATH, table:PATH, ...",
    )
    p.add_argument("--task", help="task of a multi-task benchmark (Suite-Zero: cifar10, ...)")
    p.add_argument("--metric", help="column to optimise (default: the benchmark's)")
    p.add_argument(
        "--report-metric",
        metavar="B",
        help="another column to report: B of the architecture each run picks by --metric "
        "(the searches never see B), and B's mean at the budget and at 10/20/50 queries",
    )
    p.add_argument(
        "--method",
        default="robot",
        help="robot, bo, re, ls, random, zc-topk, or a comma list to compare (default robot)",
    )
    p.add_argument("--budget", default="20", help="distinct queries per run (default 20)")
    p.add_argument(
        "--seeds", default="0", help="seeds: '0..19' (inclusive range), '0,3,5' or mixed"
    )


def _add_score_arguments(p: argparse.ArgumentParser) -> None:
    """Where the candidates' proxy scores come from."""
    p.add_argument(
        "--proxies",
        default="auto",
        help="comma list of proxies, 'none', or 'auto' (default: the first few of nwot, "
        "flops, synflow, params, jacov, l2_norm that the score source has)",
    )
    p.add_argument(
        "--pool",
        default="auto",
        help="candidates: all (finite space), benchmark (its archs) or N samples "
        f"(default: benchmark, or {DEFAULT_ENGINE_POOL} samples when the engine scores them)",
    )
    p.add_argument(
        "--pool-seed", type=seed_arg, default=0, help="seed of a sampled pool (default 0)"
    )
    p.add_argument(
        "--proxy-source",
        choices=("auto", "benchmark", "table", "engine"),
        default="auto",
        help="proxy scores from the benchmark's stored columns, a proxy table (--table), or "
        "computed by the engine; auto (default): the benchmark's when it stores scores, else "
        "the table when it holds every requested proxy and fits --data/--num-classes, else "
        "the engine",
    )
    p.add_argument(
        "--table",
        metavar="NAME|PATH",
        help="proxy table for --proxy-source table/auto: a shipped name or NAME.npz "
        "(default: the table shipped for --space, e.g. nb201-cifar10)",
    )
    p.add_argument(
        "--data",
        default=None,
        help="data for engine proxies and --train-top: cifar10:DIR, images:DIR, "
        "synthetic, tokens[:VOCAB:SEQ_LEN:K], graph[:N:F:K] (default: the space's own "
        "data, e.g. synthetic images, nbbert's tokens; one the space's models cannot take "
        "is an error; auto uses a table only when --data is left out, names the table's "
        "dataset, or every proxy is data-free)",
    )
    p.add_argument(
        "--batch-size", type=BATCH_SIZE, default=32, help="images per proxy batch (default 32)"
    )
    p.add_argument(
        "--num-classes", type=NUM_CLASSES, help="classifier outputs (default: the data's)"
    )
    p.add_argument(
        "--store",
        metavar="PATH",
        default=os.environ.get("NASRANK_STORE") or None,
        help="score store engine proxy scores are read from and written to (default "
        "$NASRANK_STORE, else ~/.cache/nasrank/scores.sqlite)",
    )
    p.add_argument(
        "--no-cache",
        action="store_true",
        help="do not keep engine proxy scores in the default store "
        "~/.cache/nasrank/scores.sqlite (--store / $NASRANK_STORE still apply)",
    )
    add_device_argument(p)  # of engine proxies (and zc-engine features); not --train-top's


def _add_feature_arguments(p: argparse.ArgumentParser) -> None:
    """Predictor features of model-based searchers."""
    p.add_argument(
        "--bo-features",
        metavar="SPEC",
        help="predictor features of bo: parts of nasrank predict-eval's --features, e.g. "
        "onnx,zc (the universal ONNX encoding + the benchmark's stored proxy scores) or "
        "onnx-core,zc-engine (default: the space's path or one-hot encoding)",
    )


def _add_training_arguments(p: argparse.ArgumentParser) -> None:
    """``--train-top``: training the best picks for real."""
    p.add_argument(
        "--train-top",
        type=int_arg(0, 10_000),
        default=0,
        metavar="K",
        help="train the K best found for real",
    )
    p.add_argument(
        "--epochs", type=int_arg(1, 100_000), default=1, help="epochs for --train-top (default 1)"
    )
    p.add_argument(
        "--train-size",
        type=int_arg(1, 100_000_000),
        help="--train-top: class-balanced training images drawn from --data (default all)",
    )
    p.add_argument(
        "--checkpoint-dir",
        metavar="DIR",
        help="--train-top: checkpoint each training every epoch; the same command resumes",
    )
    add_executor_arguments(
        p, work="trainings", prefix="--train-top: ", threads_also=", and of the proxy scoring"
    )
    p.add_argument(
        "--gpus-per-worker",
        type=float,
        default=0.0,
        help="--executor ray: GPUs reserved per training (default 0; 1 for one GPU each)",
    )


def _add_output_arguments(p: argparse.ArgumentParser) -> None:
    """Run storage (resume), JSON and plot."""
    p.add_argument(
        "--storage",
        metavar="URL",
        help="persist runs to resume after a crash: PATH (SQLite), sqlite:///..., any RDB "
        "URL, or PATH.jsonl (JSON-lines log)",
    )
    p.add_argument("--json", metavar="PATH", help="write runs and summary as JSON")
    p.add_argument("--plot", metavar="PATH", help="plot best-so-far vs queries (PNG)")


# ---- parsing -------------------------------------------------------------------------
def parse_seeds(text: str) -> list[int]:
    """``"0..19"`` -> 0..19 inclusive; ``"0,3,5"``; parts may be mixed: ``"0..4,10"``."""
    from nasrank.cli import UsageError

    seeds: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        m = re.fullmatch(r"(\d+)\s*\.\.\s*(\d+)", part)
        if m:
            lo, hi = int(m.group(1)), int(m.group(2))
            if hi < lo:
                raise UsageError(
                    f"--seeds range {part!r} is empty; write LOW..HIGH with LOW <= HIGH"
                )
            if hi > MAX_SEED or len(seeds) + hi - lo + 1 > MAX_SEEDS:
                raise UsageError(f"--seeds {part!r}: at most {MAX_SEEDS} seeds, each 0..2**63-1")
            seeds.extend(range(lo, hi + 1))
        elif re.fullmatch(r"\d+", part) and int(part) <= MAX_SEED:
            seeds.append(int(part))
        else:
            raise UsageError(
                f"--seeds got {part!r}; expected non-negative integers like '0..19' or '0,3,5'"
            )
    if len(set(seeds)) != len(seeds):
        raise UsageError(f"--seeds {text!r} names a seed twice")
    return seeds


def _integer(text: str, flag: str) -> int:
    """``text`` as an integer (its range is the plan's to check)."""
    from nasrank.cli import UsageError

    try:
        return int(text)
    except ValueError:
        raise UsageError(f"{flag} must be a positive integer, got {text!r}") from None


# ---- the command -----------------------------------------------------------------------
def run(args: argparse.Namespace) -> int:
    from nasrank.cli import UsageError
    from nasrank.search import PlanError, SearchInterrupted, TrainingWorkerFailed

    def update(report: SearchReport) -> None:
        if report.trained is None:  # the searches just ended (no training yet): show them
            _print_report(report)
        if args.json:  # the search's results are safe before any training starts
            write_json(args.json, report.to_json())

    check_device(args.device)
    try:
        with torch_threads(cli_threads(args)):
            report = _plan(args).run(progress=progress, on_notice=_notice, on_update=update)
    except PlanError as exc:
        raise UsageError(f"--{exc.option}: {exc.reason}") from None
    except TrainingWorkerFailed as exc:
        where = f" and are in {args.json}" if args.json else ""
        raise NasrankError(f"{exc}{where}") from None
    except SearchInterrupted as exc:
        if exc.report is not None:
            _print_report(exc.report)
            if args.json:
                write_json(args.json, exc.report.to_json())
        saved = f"; they are in {args.json}" if args.json and exc.report is not None else ""
        print(f"interrupted: {exc.finished} of {exc.planned} runs finished{saved}")
        _print_resume(args)
        return 130
    except KeyboardInterrupt:  # in the trainings: the JSON holds the searches and each done
        print(
            "interrupted while training the top picks" + (f"; see {args.json}" if args.json else "")
        )
        _print_resume(args)
        return 130
    if report.trained is not None:
        _print_trained(report, args)
    if args.plot:
        assert report.optimum is not None
        pool = report.config.get("pool_size")
        title = str(report.benchmark_name) + (f", pool of {pool:,}" if pool else "")
        plot_runs(args.plot, report.runs, report.optimum[1], report.metric, title)
    return 0


def _plan(args: argparse.Namespace) -> SearchPlan:
    """The :class:`~nasrank.search.SearchPlan` the options describe (values it refuses
    raise :class:`~nasrank.search.PlanError`)."""
    from nasrank.search import SearchPlan, TopTraining

    methods = [t.strip() for t in args.method.split(",") if t.strip()]
    budget = _integer(args.budget, "--budget")
    seeds = parse_seeds(args.seeds)
    executor = cli_executor(args, gpus=args.gpus_per_worker) if args.train_top > 0 else None
    top = TopTraining(  # checked even when nothing is trained: a bad --epochs is an error
        args.train_top, args.data, args.epochs, args.train_size, args.checkpoint_dir, executor
    )
    return SearchPlan(
        space=args.space,
        benchmark=args.benchmark,
        task=args.task,
        metric=args.metric,
        report_metric=args.report_metric,
        methods=tuple(methods),
        budget=budget,
        seeds=tuple(seeds),
        proxies=_proxies(args.proxies),
        pool=args.pool.strip(),
        pool_seed=args.pool_seed,
        proxy_source=args.proxy_source,
        table=args.table,
        data=args.data,
        batch_size=args.batch_size,
        num_classes=args.num_classes,
        store=args.store if args.store else not args.no_cache,
        storage=args.storage,
        features=_features(args.bo_features),
        train_top=top if top.k else None,
        device=args.device,
    )


def _proxies(text: str) -> tuple[str, ...] | None:
    """``--proxies``: ``auto`` -> ``None`` (the source's default), ``none`` -> ``()``."""
    from nasrank.cli import UsageError

    text = text.strip()
    if text == "auto":
        return None
    if text == "none":
        return ()
    names = tuple(t.strip() for t in text.split(",") if t.strip())
    if not names:
        raise UsageError("--proxies is empty; give names, 'auto' or 'none'")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise UsageError(f"--proxies names {', '.join(twice)} twice")
    return names


def _features(text: str | None) -> str | None:
    """``--bo-features``: validated before any work (unknown parts: one line)."""
    if text is None:
        return None
    from nasrank.predictors.featurize import parse_feature_spec

    return ",".join(parse_feature_spec(text))


def _notice(line: str) -> None:
    print(line, file=sys.stderr)


def _print_report(report: SearchReport) -> None:
    """The per-run table (few runs), the per-method summary and the optimum lines."""
    for title, header, rows in report.tables():
        print_table(title, header, rows)
    assert report.optimum is not None and report.table_optimum is not None
    (pool_arch, pool_opt), (table_arch, table_opt) = report.optimum, report.table_optimum
    print_note(f"pool optimum: {pool_arch} {report.metric}={pool_opt:g}")
    if report.optimum_outside_pool:
        print_note(f"table optimum: {table_arch} {report.metric}={table_opt:g} (outside the pool)")
    if report.reporter is not None:
        _print_report_metric(report)


def _print_report_metric(report: SearchReport) -> None:
    """B of the pool's optimum by the searched metric, B's own optimum, and the notes."""
    info = report.report_metric_json()
    b = info["metric"]
    of = info.get("of_optimum")
    if of is not None:
        value = "n/a" if of["value"] is None else f"{of['value']:g}"
        print_note(f"{b} of the pool optimum by {report.metric}: {value}")
    best = info.get("optimum")
    if best is not None:
        direction = "higher" if info["higher_is_better"] else "lower"
        print_note(
            f"pool optimum by {b} ({direction} is better): {best['arch']} {b}={best['value']:g}"
        )
    for note in info["notes"]:
        print_note(f"note: {note}")


def _print_resume(args: argparse.Namespace) -> None:
    """How to continue an interrupted search."""
    import shlex

    command = shlex.join(["nasrank", *args.argv])
    if args.storage:
        print(f"--storage {args.storage} keeps every evaluation; resume with: {command}")
    else:
        print(
            "without --storage a rerun starts over; to make it resumable run: "
            f"{command} --storage runs.db"
        )


def _print_trained(report: SearchReport, args: argparse.Namespace) -> None:
    from nasrank.data import resolve_data
    from nasrank.spaces import get_space

    out = report.trained or []
    data = resolve_data(get_space(args.space, task=args.task), args.data)
    print_table(
        f"top {len(out)} trained for {args.epochs} epoch(s) on {data}",
        ["architecture", "benchmark", "train acc", "test acc", "seconds", "device"],
        [
            [
                o["arch"],
                o["benchmark_value"],
                o.get("train_accuracy", o.get("error")),
                o.get("test_accuracy"),
                o.get("seconds"),
                o.get("device"),
            ]
            for o in out
        ],
    )


def run_curves(results: dict[str, list[Any]]) -> dict[str, np.ndarray]:
    """method -> ``(runs, budget)`` best value so far after each query (a run that
    stopped early keeps its last value; a run with no query is left out)."""
    curves: dict[str, np.ndarray] = {}
    for method, runs in results.items():
        budget = max(r.budget for r in runs)
        rows = []
        for r in runs:
            c = r.best_so_far()[:budget]
            if c.size:
                rows.append(np.concatenate([c, np.full(budget - c.size, c[-1])]))
        if rows:
            curves[method] = np.vstack(rows)
    return curves


def plot_runs(
    path: str, results: dict[str, list[Any]], optimum: float, metric: str, title: str
) -> None:
    """``--plot``: best-so-far against queries (:func:`nasrank.cli._plots.search_figure`:
    each run faint, median and interquartile band), titled by the benchmark's name."""
    from pathlib import Path

    from nasrank.cli._plots import benchmark_label, close, search_figure

    fig = search_figure(run_curves(results), optimum, metric, benchmark_label(title))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    save_figure(fig, path)
    close(fig)
