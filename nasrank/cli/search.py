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

With no options, ``nasrank search`` runs RoBoT on NAS-Bench-201 with the ``nb201-analog``
ground truth, ranking candidates by data-free proxies (params, flops, synflow): read from
the shipped table over every architecture it covers, or computed on synthetic data for
64 sampled architectures when no table applies.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import re
import sys
from typing import Any

import numpy as np

from nasrank.cli._common import add_executor_arguments, cli_executor
from nasrank.cli._output import print_table, progress, write_json

logger = logging.getLogger(__name__)

#: Proxies computed by the engine when none are named: they need no real data.
DEFAULT_ENGINE_PROXIES = ("params", "flops", "synflow")
#: Size of the sampled pool when proxies must be computed by the engine.
DEFAULT_ENGINE_POOL = 64


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "search",
        help="search a benchmark with RoBoT, predictor BO or a baseline",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--space", default="nb201", help="search space (default nb201)")
    p.add_argument(
        "--benchmark",
        default="nb201-analog",
        help="ground truth: nb201-analog (default), suite-zero:PATH, table:PATH, ...",
    )
    p.add_argument("--task", help="task of a multi-task benchmark (Suite-Zero: cifar10, ...)")
    p.add_argument("--metric", help="column to optimise (default: the benchmark's)")
    p.add_argument(
        "--method",
        default="robot",
        help="robot, bo, re, ls, random, zc-topk, or a comma list to compare (default robot)",
    )
    p.add_argument("--budget", default="20", help="distinct queries per run (default 20)")
    p.add_argument(
        "--seeds", default="0", help="seeds: '0..19' (inclusive range), '0,3,5' or mixed"
    )
    p.add_argument(
        "--proxies",
        default="auto",
        help="comma list of proxies, 'none', or 'auto' (default: the benchmark's stored "
        "scores, else params,flops,synflow from the engine)",
    )
    p.add_argument(
        "--pool",
        default="auto",
        help="candidates: all (finite space), benchmark (its archs) or N samples "
        f"(default: benchmark, or {DEFAULT_ENGINE_POOL} samples when the engine scores them)",
    )
    p.add_argument("--pool-seed", type=int, default=0, help="seed of a sampled pool (default 0)")
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
        help="data for engine proxies and --train-top: cifar10:DIR, images:DIR, synthetic "
        "(default synthetic; auto uses a table only when --data is left out, names the "
        "table's dataset, or every proxy is data-free)",
    )
    p.add_argument("--batch-size", type=int, default=32, help="images per proxy batch (default 32)")
    p.add_argument("--num-classes", type=int, help="classifier outputs (default: the data's)")
    p.add_argument(
        "--store",
        metavar="PATH",
        default=os.environ.get("NASRANK_STORE"),
        help="score store engine proxy scores are read from and written to (default "
        "$NASRANK_STORE, else ~/.cache/nasrank/scores.sqlite)",
    )
    p.add_argument(
        "--no-cache",
        action="store_true",
        help="do not keep engine proxy scores in the default store "
        "~/.cache/nasrank/scores.sqlite (--store / $NASRANK_STORE still apply)",
    )
    p.add_argument(
        "--train-top", type=int, default=0, metavar="K", help="train the K best found for real"
    )
    p.add_argument("--epochs", type=int, default=1, help="epochs for --train-top (default 1)")
    p.add_argument(
        "--train-size",
        type=int,
        help="--train-top: class-balanced training images drawn from --data (default all)",
    )
    p.add_argument(
        "--checkpoint-dir",
        metavar="DIR",
        help="--train-top: checkpoint each training every epoch; the same command resumes",
    )
    add_executor_arguments(p, work="trainings", prefix="--train-top: ")
    p.add_argument(
        "--gpus-per-worker",
        type=float,
        default=0.0,
        help="--executor ray: GPUs reserved per training (default 0; 1 for one GPU each)",
    )
    p.add_argument(
        "--storage",
        metavar="URL",
        help="persist runs to resume after a crash: PATH (SQLite), sqlite:///..., any RDB "
        "URL, or PATH.jsonl (JSON-lines log)",
    )
    p.add_argument("--json", metavar="PATH", help="write runs and summary as JSON")
    p.add_argument("--plot", metavar="PATH", help="plot best-so-far vs queries (PNG)")
    p.set_defaults(run=run)


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
            seeds.extend(range(lo, hi + 1))
        elif re.fullmatch(r"\d+", part):
            seeds.append(int(part))
        else:
            raise UsageError(
                f"--seeds got {part!r}; expected non-negative integers like '0..19' or '0,3,5'"
            )
    if len(set(seeds)) != len(seeds):
        raise UsageError(f"--seeds {text!r} names a seed twice")
    return seeds


def _positive_int(text: str, flag: str) -> int:
    from nasrank.cli import UsageError

    try:
        value = int(text)
    except ValueError:
        raise UsageError(f"{flag} must be a positive integer, got {text!r}") from None
    if value < 1:
        raise UsageError(f"{flag} must be a positive integer, got {value}")
    return value


def _methods(text: str) -> list[str]:
    from nasrank.cli import UsageError
    from nasrank.search import SEARCHERS

    names = [t.strip() for t in text.split(",") if t.strip()]
    if not names:
        raise UsageError("--method is empty; choices: " + ", ".join(SEARCHERS.names()))
    for name in names:
        SEARCHERS.get(name)  # UnknownNameError with did-you-mean
    if len(set(names)) != len(names):
        raise UsageError(f"--method {text!r} names a method twice")
    return names


# ---- proxy tables ----------------------------------------------------------------------
def _pick_table(
    args: argparse.Namespace, space: Any, proxies: list[str], *, explicit: bool
) -> tuple[Any, str]:
    """The proxy table to read ``proxies`` from, or ``(None, why not)``.

    Auto mode (``explicit=False``) takes the table only when it holds every proxy at its
    current definition, is of ``space``, and fits the data: ``--data`` left out, naming
    the table's dataset (``cifar10:...``), or every proxy data-free; and ``--num-classes``
    left out or equal to the table's. ``--proxy-source table`` skips the data checks (the
    notice names the table's data).
    """
    from nasrank.cli import UsageError
    from nasrank.errors import NasrankError
    from nasrank.tables import available_tables, load_table

    if args.table:
        try:
            table = load_table(args.table)
        except NasrankError as exc:
            raise UsageError(f"--table: {exc}") from None
    else:
        names = [n for n in available_tables() if n.startswith(f"{space.name}-")]
        if not names:
            return None, f"no proxy table ships for space {space.name!r}"
        table = load_table(names[0])
    if table.space != space.name:
        return None, f"table {table.name!r} is of space {table.space!r}, not {space.name!r}"
    lacking = [p for p in proxies if p not in table.proxies]
    if lacking:
        return None, (
            f"table {table.name!r} has no {', '.join(lacking)} (it has "
            f"{', '.join(table.proxies)}); use --proxy-source engine to compute them"
        )
    stale = [p for p in table.stale_proxies() if p in proxies]
    if stale:
        return None, f"table {table.name!r} predates the current definition of {', '.join(stale)}"
    if explicit:
        return table, ""
    data = table.meta.get("data") or {}
    table_classes = data.get("num_classes")
    if args.num_classes is not None and table_classes and args.num_classes != table_classes:
        return None, f"--num-classes {args.num_classes} differs from the table's {table_classes}"
    if args.data is not None:
        from nasrank.proxies import resolve_proxies

        data_free = all(not (s.needs_data or s.needs_labels) for s in resolve_proxies(proxies))
        scheme = str(args.data).partition(":")[0].strip().lower()
        table_scheme = str(data.get("spec") or data.get("description") or "").partition(":")[0]
        if not data_free and scheme != table_scheme.strip().lower():
            return None, (
                f"table {table.name!r} was computed on {table_scheme or 'other'} data, not "
                f"--data {args.data}"
            )
    return table, ""


def _table_notice(table: Any, path: str | None, candidates: int, dropped: int, size: int) -> str:
    """The one-line notice naming the table, its coverage and what was left out."""
    covered, total = table.coverage
    which = f"table {path}" if path else f"the shipped table {table.name}"
    cov = f"{covered:,}/{total:,} archs" if total else f"{covered:,} archs"
    data = (table.meta.get("data") or {}).get("description") or "?"
    line = (
        f"proxy scores from {which} ({cov}; {data}, seed {table.meta.get('seed', '?')}, "
        f"nasrank {table.meta.get('nasrank_version', '?')}): pool of {size:,}"
    )
    if dropped:
        line += (
            f"; {dropped:,} of {candidates:,} candidates are not in the table and are left out "
            "(--proxy-source engine computes them)"
        )
    return line


# ---- the command -----------------------------------------------------------------------
def run(args: argparse.Namespace) -> int:
    from nasrank.benchmarks import load_benchmark
    from nasrank.cli import UsageError
    from nasrank.search import SEARCHERS, BenchmarkObjective, stored_proxies
    from nasrank.spaces import get_space

    methods = _methods(args.method)
    budget = _positive_int(args.budget, "--budget")
    seeds = parse_seeds(args.seeds)
    if args.train_top < 0:
        raise UsageError(f"--train-top must be >= 0, got {args.train_top}")
    if args.epochs < 1:
        raise UsageError(f"--epochs must be >= 1, got {args.epochs}")
    if args.train_size is not None and args.train_size < 1:
        raise UsageError(f"--train-size must be >= 1, got {args.train_size}")
    executor = cli_executor(args, gpus=args.gpus_per_worker) if args.train_top else None
    if args.batch_size < 1:
        raise UsageError(f"--batch-size must be >= 1, got {args.batch_size}")
    space = get_space(args.space)
    bench = load_benchmark(args.benchmark, task=args.task, space=space.name)
    objective0 = BenchmarkObjective(bench, args.metric)
    metric = objective0.metric

    classes = [SEARCHERS.get(m) for m in methods]
    needs_scores = any(c.needs_scores for c in classes)
    stored = stored_proxies(bench)
    proxies_text = args.proxies.strip()
    source = args.proxy_source
    if source == "auto" and stored:
        source = "benchmark"
    if source == "benchmark" and not stored:
        raise UsageError(f"--proxy-source benchmark: {bench.name} stores no proxy scores")
    if proxies_text == "none":
        proxies: list[str] = []
        if needs_scores:
            users = ", ".join(m for m, c in zip(methods, classes) if c.needs_scores)
            raise UsageError(f"--proxies none, but {users} ranks candidates by proxy scores")
    elif proxies_text == "auto":
        proxies = list(stored) if source == "benchmark" else list(DEFAULT_ENGINE_PROXIES)
    else:
        proxies = [t.strip() for t in proxies_text.split(",") if t.strip()]
        if not proxies:
            raise UsageError("--proxies is empty; give names, 'auto' or 'none'")

    table = None
    if source in ("auto", "table") and proxies:
        table, why_not = _pick_table(args, space, proxies, explicit=source == "table")
        if table is None and source == "table":
            raise UsageError(f"--proxy-source table: {why_not}")
        if table is None:
            logger.info("proxy scores from the engine: %s", why_not)
        source = "table" if table is not None else "engine"
    elif source == "auto":
        source = "engine"
    if source == "engine" and proxies:
        from nasrank.proxies import resolve_proxies

        resolve_proxies(proxies)
    data_text = args.data or "synthetic"

    pool_text = args.pool.strip()
    # BO uses proxy features when scoring is affordable: stored scores or a sampled pool.
    use_scores = bool(proxies) and (
        needs_scores
        or ("bo" in methods and (source in ("benchmark", "table") or pool_text.isdigit()))
    )
    if pool_text == "auto":
        pool_kind: str | int = (
            DEFAULT_ENGINE_POOL if use_scores and source == "engine" else "benchmark"
        )
    elif pool_text in ("all", "benchmark"):
        pool_kind = pool_text
    else:
        pool_kind = _positive_int(pool_text, "--pool")

    from nasrank.search.pool import (
        benchmark_scores,
        make_pool,
        score_pool,
        subsample,
        table_scores,
    )

    data_source = None
    table_info = None
    if use_scores and source == "table":
        assert table is not None
        base = make_pool(space, "all" if pool_kind == "all" else "benchmark", benchmark=bench)
        pool = table_scores(base, table, proxies)
        dropped = len(base) - len(pool)
        if isinstance(pool_kind, int):
            pool = subsample(pool, pool_kind, args.pool_seed)
        data_source = (table.meta.get("data") or {}).get("description")
        covered, total = table.coverage
        table_info = {
            "name": table.name,
            "path": args.table,
            "shipped": not args.table,
            "archs": covered,
            "space_size": total,
            "complete": table.complete,
            "candidates_not_in_table": dropped,
            "data_key": (table.meta.get("data") or {}).get("key"),
            "seed": table.meta.get("seed"),
            "nasrank_version": table.meta.get("nasrank_version"),
            "sha256": table.meta.get("sha256"),
        }
        print(_table_notice(table, args.table, len(base), dropped, len(pool)), file=sys.stderr)
    else:
        pool = make_pool(space, pool_kind, benchmark=bench, seed=args.pool_seed)
    if use_scores and source == "benchmark":
        pool = benchmark_scores(pool, bench, proxies)
    elif use_scores and source == "engine":
        from nasrank.data import load_batch

        batch = load_batch(data_text, batch_size=args.batch_size, seed=args.pool_seed)
        data_source = batch.source
        if len(pool) > 2000:
            logger.warning(
                "scoring %d candidates with the proxy engine will take long; consider --pool N",
                len(pool),
            )
        store = args.store if args.store else not args.no_cache
        with progress(f"scoring {len(pool)} candidates", len(pool)) as bar:
            pool = score_pool(
                pool,
                proxies,
                batch,
                seed=args.pool_seed,
                num_classes=args.num_classes,
                store=store,
                progress=lambda done, total: bar.advance(),
            )

    table_arch, table_opt = objective0.optimum()
    pool_arch, pool_opt = objective0.optimum(list(pool.archs))
    config = {
        "space": space.name,
        "benchmark": args.benchmark,
        "task": args.task,
        "metric": metric,
        "budget": budget,
        "pool": str(pool_kind),
        "pool_seed": args.pool_seed,
        "pool_size": len(pool),
        "proxies": list(pool.proxies) if pool.scores is not None else [],
        "proxy_source": source if pool.scores is not None else None,
        "data": data_source,
        "table": table_info,
    }
    backend = None
    if args.storage:
        from nasrank.search import open_storage

        backend = open_storage(args.storage)

    results: dict[str, list[Any]] = {m: [] for m in methods}
    total = len(methods) * len(seeds) * budget
    with progress(f"searching ({len(methods)} x {len(seeds)} runs)", total) as bar:
        for method, cls in zip(methods, classes):
            for seed in seeds:
                searcher = cls(space, pool=pool, seed=seed, maximize=objective0.maximize)
                objective = BenchmarkObjective(bench, metric)
                storage = None
                if backend is not None:
                    from nasrank.search import run_key

                    run_config = {"method": method, "seed": seed, **config}
                    storage = backend.run(
                        run_key(**run_config), maximize=objective0.maximize, metadata=run_config
                    )
                result = searcher.run(
                    objective, budget, storage=storage, callback=lambda e: bar.advance()
                )
                bar.advance(budget - (result.queries - result.restored))
                results[method].append(result)

    payload = _report(results, pool_opt, table_opt, pool_arch, table_arch, metric, bench, config)
    if args.json:  # the search's results are safe before any training starts
        write_json(args.json, payload)
    if args.train_top:
        args.data = data_text

        def save(trained: list[dict[str, Any]]) -> None:
            payload["trained"] = trained
            if args.json:
                write_json(args.json, payload)

        _train_top(args, space, results, objective0.maximize, executor, save)
    if args.plot:
        plot_runs(args.plot, results, pool_opt, metric, bench.name)
    return 0


def _report(
    results: dict[str, list[Any]],
    pool_opt: float,
    table_opt: float,
    pool_arch: str,
    table_arch: str,
    metric: str,
    bench: Any,
    config: dict[str, Any],
) -> dict[str, Any]:
    from nasrank.search import summarise

    runs_json = []
    for runs in results.values():
        for r in runs:
            entry = r.to_dict()
            entry["optimum"] = pool_opt
            entry["queries_to_optimum"] = r.queries_to(pool_opt)
            entry["table_optimum"] = table_opt
            entry["queries_to_table_optimum"] = r.queries_to(table_opt)
            if r.info:
                entry["info"] = r.info
            runs_json.append(entry)
    summary = {m: summarise(runs, pool_opt) for m, runs in results.items()}
    all_runs = [r for runs in results.values() for r in runs]
    if len(all_runs) <= 5:
        rows = []
        for r in all_runs:
            best = r.best
            rows.append(
                [
                    r.method,
                    r.seed,
                    best.arch if best else None,
                    best.value if best else None,
                    r.queries,
                    r.queries_to(pool_opt),
                ]
            )
        print_table(
            f"{bench.name} {metric}: best architecture found",
            ["method", "seed", "architecture", metric, "queries", "queries to optimum"],
            rows,
        )
    same = math.isclose(pool_opt, table_opt)
    rows = []
    for m, s in summary.items():
        rows.append(
            [
                m,
                s["runs"],
                s["mean_best"],
                s["std_best"],
                s.get("mean_best_at", {}).get(20),
                s.get("median_queries_to_optimum"),
                f"{s['found']}/{s['runs']}",
            ]
        )
    title = (
        f"{bench.name} {metric}: pool of {config['pool_size']}, budget {config['budget']}; "
        f"optimum {pool_opt:g}" + ("" if same else f" (pool), table optimum {table_opt:g}")
    )
    print_table(
        title,
        ["method", "runs", "mean best", "std", "mean best @20", "median q. to optimum", "found"],
        rows,
    )
    print(f"pool optimum: {pool_arch} {metric}={pool_opt:g}")
    if not same:
        print(f"table optimum: {table_arch} {metric}={table_opt:g} (outside the pool)")
    return {
        "config": config,
        "optimum": {"arch": pool_arch, "value": pool_opt},
        "table_optimum": {"arch": table_arch, "value": table_opt},
        "runs": runs_json,
        "summary": summary,
    }


def _train_top(
    args: argparse.Namespace,
    space: Any,
    results: dict[str, list[Any]],
    maximize: bool,
    executor: Any,
    save: Any,
) -> list[dict[str, Any]]:
    """Train the ``--train-top`` best architectures found; ``save`` gets the records so
    far after each one ends (best first; pending ones absent)."""
    from nasrank.errors import NasrankError
    from nasrank.search.top_training import TrainJob, train_top
    from nasrank.search.trainer import TrainConfig

    best: dict[str, float] = {}
    for runs in results.values():
        for r in runs:
            for e in r.evaluations:
                best[e.arch] = e.value
    sign = 1.0 if maximize else -1.0
    ranked = sorted(best, key=lambda a: (-(sign * np.nan_to_num(best[a], nan=-np.inf)), a))
    top = ranked[: args.train_top]
    job = TrainJob(
        space.name,
        args.data,
        TrainConfig(epochs=args.epochs),
        num_classes=args.num_classes,
        train_size=args.train_size,
        checkpoint_dir=args.checkpoint_dir,
    )
    if executor.name != "inline" and args.address is None:
        from nasrank.data import load_dataset

        # bad --data fails here in one line, not inside a worker process
        load_dataset(args.data, split="train")
        load_dataset(args.data, split="test")
    done: dict[str, dict[str, Any]] = {}

    def record(r: dict[str, Any]) -> None:
        done[r["arch"]] = {"arch": r["arch"], "benchmark_value": best[r["arch"]], **r}
        save([done[a] for a in top if a in done])
        bar.advance()

    where = f"{executor.name}, {executor.workers or 'auto'} worker(s)"
    with progress(f"training the top {len(top)} ({where})", len(top)) as bar:
        try:
            train_top(top, job, executor, on_result=record)
        except Exception as exc:
            if type(exc).__module__.split(".")[0] not in ("ray", "concurrent"):
                raise
            # a worker died (killed, out of memory, data missing on a node): one line
            lines = str(exc).strip().splitlines()
            raise NasrankError(
                f"a training worker failed ({type(exc).__name__}"
                + (f": {lines[-1]}" if lines else "")
                + f"); {len(done)} of {len(top)} trainings finished"
                + (f" and are in {args.json}" if args.json else "")
            ) from None
    out = [done[a] for a in top]
    print_table(
        f"top {len(top)} trained for {args.epochs} epoch(s) on {args.data}",
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
    return out


def plot_runs(
    path: str, results: dict[str, list[Any]], optimum: float, metric: str, title: str
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    shown: list[float] = [optimum]  # y-range: the curves after their first few queries
    for method, runs in results.items():
        budget = max(r.budget for r in runs)
        curves = np.full((len(runs), budget), np.nan)
        for i, r in enumerate(runs):
            c = r.best_so_far()[:budget]
            if c.size:
                curves[i, : c.size] = c
                curves[i, c.size :] = c[-1]
        x = np.arange(1, budget + 1)
        mean, std = np.nanmean(curves, 0), np.nanstd(curves, 0)
        ax.plot(x, mean, label=f"{method} (n={len(runs)})")
        ax.fill_between(x, mean - std, mean + std, alpha=0.2)
        tail = slice(min(3, budget - 1), None)
        shown += [float(np.nanmin(mean[tail])), float(np.nanmax(mean[tail]))]
    lo, hi = min(shown), max(shown)
    pad = 0.08 * (hi - lo) if hi > lo else 1.0
    ax.set_ylim(lo - pad, hi + pad)
    ax.axhline(optimum, color="k", linestyle="--", linewidth=0.8, label="optimum")
    ax.set_xlabel("queries")
    ax.set_ylabel(f"best {metric} so far")
    ax.set_xscale("log")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    from pathlib import Path

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
