"""``nasrank correlate``: rank correlation of proxies with a benchmark's ground truth.

Samples N architectures the benchmark covers, scores them (progress bar), and reports per
proxy Spearman, Kendall, top-10 % precision, NaN count and median seconds per
architecture; loss-like metrics are oriented so that higher = better. Where the benchmark
stores its own reference score of a proxy (NAS-Bench-Suite-Zero), that score's Spearman
on the same architectures is shown beside ours. Ctrl-C stops early and still reports the
architectures scored so far. Without --data each space uses its own data
(``default_data``: synthetic images; for nbnlp/nbbert Zipfian token ids of the space's
vocabulary and sequence length; for nbgraph a Cora-sized synthetic graph); a --data its
models cannot take is an error before any work. Only architectures with a value of the
metric are sampled. With --store PATH (or
$NASRANK_STORE) scores are read from and written to a score store (see ``nasrank
score-space``), so nothing is computed twice.
"""

from __future__ import annotations

import argparse
import logging
import statistics
from collections.abc import Sequence
from typing import Any

import numpy as np

from nasrank.cli._common import (
    NUM_CLASSES,
    add_data_arguments,
    add_device_argument,
    add_store_argument,
    add_threads_argument,
    check_device,
    cli_threads,
    load_cli_batch,
    model_kwargs,
    open_cli_store,
    parse_proxies,
    resolve_cli_data,
    torch_threads,
)
from nasrank.cli._output import open_output, print_table, progress, save_figure, write_json

logger = logging.getLogger(__name__)


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "correlate", help="rank correlation of proxies with benchmark accuracy", description=__doc__
    )
    p.add_argument("--space", required=True, help="search space of the benchmark's architectures")
    p.add_argument(
        "--benchmark", required=True, help="nb201-analog, suite-zero:PATH, table:PATH, ..."
    )
    p.add_argument(
        "--task", help="task of a multi-task benchmark (Suite-Zero: cifar10, cifar100, ...)"
    )
    p.add_argument("--metric", help="ground-truth metric (default: the benchmark's)")
    p.add_argument(
        "--proxies", default="all", help="comma-separated proxy names or 'all' (default)"
    )
    p.add_argument(
        "--ensemble",
        action="append",
        metavar="SPEC",
        help="also report this rank ensemble of proxies over the pool (repeatable): members "
        "joined by '+', optional ':AGGREGATION' (mean, geometric, log_rank) and 'W*' weights, "
        "e.g. meco+jacov+synflow:log_rank; its members are scored. The named ensembles "
        "(label_free_ensemble, az_nas, vkdnw_agg) are reported whenever their members are",
    )
    add_data_arguments(p)
    p.add_argument("--n", default="100", help="architectures to sample, or 'all' (default 100)")
    p.add_argument(
        "--num-classes", type=NUM_CLASSES, help="classifier outputs (default: the data's)"
    )
    p.add_argument("--json", metavar="PATH", help="write the summary as JSON")
    p.add_argument("--csv", metavar="PATH", help="write per-architecture scores and ground truth")
    p.add_argument("--plot", metavar="PATH", help="write score-vs-accuracy scatter plots (PNG)")
    add_store_argument(p)
    add_threads_argument(p)
    add_device_argument(p)
    p.set_defaults(run=run)


def _pool(bench: Any, n_text: str, seed: int, metric: str) -> list[str]:
    from nasrank.cli import UsageError

    # Only architectures with a ground-truth value (e.g. NAS-Bench-NLP's PTB loss exists
    # for 213 of 263): the others would be scored for nothing.
    archs = [a for a, v in zip(bench.archs(), bench.column(metric)) if np.isfinite(v)]
    if len(archs) < len(bench):
        logger.info(
            "%d of %d architectures have no %s and are left out",
            len(bench) - len(archs),
            len(bench),
            metric,
        )
    if n_text == "all":
        return archs
    try:
        n = int(n_text)
    except ValueError:
        raise UsageError(f"--n must be a positive integer or 'all', got {n_text!r}") from None
    if n < 2:
        raise UsageError(f"--n must be at least 2 to correlate, got {n}")
    if n >= len(archs):
        return archs
    rng = np.random.default_rng(seed)
    return [archs[i] for i in sorted(rng.choice(len(archs), size=n, replace=False))]


def _expand_ensembles(names: list[str] | None, ensembles: Sequence[Any] = ()) -> list[str] | None:
    """The proxies to score: ``--proxies`` with every rank-ensemble name (``az_nas``,
    ``vkdnw_agg``, ``label_free_ensemble``) replaced by its members, then the members of
    every ``--ensemble`` (``None``: all proxies). An ensemble ranks a pool, so its members
    are what is scored, and the ensemble is reported from them."""
    from nasrank.proxies import ENSEMBLES, PROXIES

    if names is None:
        return None
    out: list[str] = []
    for name in names:
        members = ENSEMBLES[name].proxies if name in ENSEMBLES and name not in PROXIES else (name,)
        out.extend(m for m in members if m not in out)
    out.extend(m for e in ensembles for m in e.proxies if m not in out)
    return out


def _cli_ensembles(texts: list[str] | None) -> list[Any]:
    """``--ensemble`` specs as rank ensembles; a malformed one is a usage error."""
    from nasrank.cli import UsageError
    from nasrank.proxies import parse_ensemble

    out = []
    for text in texts or []:
        try:
            out.append(parse_ensemble(text))
        except ValueError as exc:
            raise UsageError(f"--ensemble: {exc}") from None
    return out


def run(args: argparse.Namespace) -> int:
    from nasrank.benchmarks import load_benchmark
    from nasrank.proxies import resolve_proxies
    from nasrank.spaces import get_space
    from nasrank.store import data_key

    check_device(args.device)
    ensembles = _cli_ensembles(args.ensemble)
    space = get_space(args.space, task=args.task)
    resolve_cli_data(args, space)  # the space's own data, or a --data its models take
    threads = cli_threads(args)
    bench = load_benchmark(args.benchmark, task=args.task, space=space.name)
    metric = args.metric or bench.default_metric
    bench.query(bench.archs()[0], metric)  # validates the metric name before the long run
    specs = resolve_proxies(_expand_ensembles(parse_proxies(args.proxies), ensembles))
    names = [s.name for s in specs]
    pool = _pool(bench, args.n, args.seed, metric)
    with open_cli_store(args) as store, torch_threads(threads) as threads:
        store_path = store.path if store is not None else None
        batch = load_cli_batch(args)
        kwargs = model_kwargs(space, args.num_classes, batch)
        data = data_key(batch, kwargs)
        results, from_store, interrupted = _score_pool(
            pool, store, space, batch, specs, args.seed, kwargs, data, args.device
        )
    scored = pool[: len(results)]
    if len(scored) < 2:
        from nasrank.cli import UsageError

        raise UsageError("fewer than 2 architectures scored; nothing to correlate")
    sign = 1.0 if bench.higher_is_better(metric) else -1.0
    truth = np.array([sign * bench.query(a, metric) for a in scored])
    summary = _summarize(bench, metric, names, scored, results, truth, ensembles)
    if store_path is not None:
        logger.info(
            "%d of %d scores came from the store %s",
            from_store,
            len(results) * len(names),
            store_path,
        )
    note = " (interrupted)" if interrupted else ""
    _print_summary(f"{bench.name} {metric}: n={len(scored)}{note}, data {batch.source}", summary)

    payload = {
        "n": len(scored),
        "space": space.name,
        "benchmark": bench.name,
        "metric": metric,
        "higher_is_better": bench.higher_is_better(metric),
        "data": batch.source,
        "data_spec": args.data,
        "seed": args.seed,
        "threads": threads,
        "device": args.device,
        "interrupted": interrupted,
        "scores_from_store": from_store,
        "proxies": summary,
    }
    if args.json:
        write_json(args.json, payload)
    if args.csv:
        _write_csv(
            args.csv, scored, results, names, [bench.query(a, metric) for a in scored], metric
        )
    if args.plot:
        from nasrank.cli._plots import benchmark_label

        truth_values = [bench.query(a, metric) for a in scored]
        title = (
            f"{benchmark_label(bench.name)} {metric}: n={len(scored)}{note}, data {batch.source}"
        )
        _plot(args.plot, results, names, truth_values, metric, summary, title)
    return 130 if interrupted else 0


def _score_pool(
    pool: list[str],
    store: Any,
    space: Any,
    batch: Any,
    specs: list[Any],
    seed: int,
    kwargs: dict[str, Any],
    data: str,
    device: str | None = None,
) -> tuple[list[Any], int, bool]:
    """``(results, scores read from the store, interrupted)``, with a progress bar;
    Ctrl-C stops early and keeps the architectures scored so far."""
    from nasrank.store import score_arch_stored  # the store imports torch

    results: list[Any] = []
    from_store = 0
    with progress(f"scoring {len(pool)} archs", len(pool)) as bar:
        try:
            for arch in pool:
                # initialisation seeded from (--seed, space, arch), as in score-space
                result, stored = score_arch_stored(
                    store,
                    space,
                    arch,
                    batch,
                    specs,
                    seed=seed,
                    build_kwargs=kwargs,
                    data=data,
                    device=device,
                )
                results.append(result)
                from_store += len(stored)
                bar.advance()
        except KeyboardInterrupt:
            logger.warning(
                "interrupted: reporting the %d architectures scored so far", len(results)
            )
            return results, from_store, True
    return results, from_store, False


def _summarize(
    bench: Any,
    metric: str,
    names: list[str],
    scored: list[str],
    results: list[Any],
    truth: np.ndarray,
    ensembles: Sequence[Any] = (),
) -> dict[str, dict[str, Any]]:
    """Per proxy (and each rank ensemble of ``nasrank.proxies.ENSEMBLES`` whose members
    are all scored -- the label-free ensemble, AZ-NAS, VKDNW_agg -- and of ``ensembles``):
    rank correlations with ``truth``, median seconds and the benchmark's reference
    Spearman."""
    from nasrank.metrics import rank_summary
    from nasrank.proxies import ENSEMBLES  # the proxy package imports torch

    summary: dict[str, dict[str, Any]] = {}
    for name in names:
        values = np.array([r[name] for r in results])
        entry: dict[str, Any] = rank_summary(values, truth)
        entry["median_seconds"] = statistics.median(
            r.seconds.get(name, float("nan")) for r in results
        )
        if name in bench.metrics and name != metric:
            entry["reference_spearman"] = rank_summary(
                np.array([bench.query(a, name) for a in scored]), truth
            )["spearman"]
        summary[name] = entry
    for ens in [*ENSEMBLES.values(), *ensembles]:
        if not set(ens.proxies) <= set(names):
            continue
        ensemble: dict[str, Any] = dict(rank_summary(ens(results), truth))
        # the members' shares of shared passes add up to the passes' time
        ensemble["median_seconds"] = sum(summary[m]["median_seconds"] for m in ens.proxies)
        ensemble["members"] = list(ens.proxies)
        ensemble["aggregation"] = ens.aggregation
        if ens.weights is not None:
            ensemble["weights"] = list(ens.weights)
        summary[ens.name] = ensemble
    return summary


def _print_summary(title: str, summary: dict[str, dict[str, Any]]) -> None:
    """The summary as a table, best Spearman first (NaN last)."""
    has_ref = any("reference_spearman" in e for e in summary.values())
    columns = ["proxy", "spearman", "kendall", "top10%", "NaN", "median s"] + (
        ["ref. spearman"] if has_ref else []
    )
    rows = []
    for name, e in sorted(
        summary.items(), key=lambda kv: -np.nan_to_num(kv[1]["spearman"], nan=-9)
    ):
        row = [
            name,
            e["spearman"],
            e["kendall"],
            e["top10_precision"],
            e["nan_count"],
            e["median_seconds"],
        ]
        rows.append(row + ([e.get("reference_spearman")] if has_ref else []))
    print_table(title, columns, rows)


def _write_csv(
    path: str,
    archs: list[str],
    results: list[Any],
    names: list[str],
    truth: list[float],
    metric: str,
) -> None:
    import csv

    with open_output(path, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["arch", metric, *names])
        for arch, value, r in zip(archs, truth, results):
            writer.writerow([arch, value, *(r[n] for n in names)])


def _plot(
    path: str,
    results: list[Any],
    names: list[str],
    truth: list[float],
    metric: str,
    summary: dict[str, Any],
    title: str,
) -> None:
    """``--plot``: the ground truth against each proxy's score rank
    (:func:`nasrank.cli._plots.correlation_figure`)."""
    from nasrank.cli._plots import close, correlation_figure

    scores = {name: [r[name] for r in results] for name in names}
    spearman = {name: summary[name]["spearman"] for name in names}
    fig = correlation_figure(scores, truth, metric, spearman, title)
    save_figure(fig, path)
    close(fig)
