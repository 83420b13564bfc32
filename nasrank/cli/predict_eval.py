"""``nasrank predict-eval``: how well a predictor ranks a benchmark after n training archs.

For every seed and training size, trains the predictor on n random architectures of the
benchmark and ranks all the others; reports Kendall's tau, Spearman's rho and top-10 %
precision (mean +- std over seeds) and fit/predict seconds. With ``--train-on`` the
predictor is trained on other spaces' benchmarks and tested on this one zero-shot and with
``--target-sizes`` target samples (the same samples alone are reported as
``target-only``). ONNX graphs are cached in ``--cache-dir``; engine proxy scores go to the
score store there (default: the store ``nasrank search`` uses). ``zc-engine`` scores each
space on its own data unless --data names one (synthetic images, token ids of the space's
vocabulary for nbnlp/nbbert, a Cora-sized graph for nbgraph); a --data that a space's
models cannot take is an error before any work.

Defaults (chosen on other data than the full NB-201 table, see docs/BENCHMARKS.md,
"Default predictor"): the default predictor (GBDT, pairwise objective) on the
space's pruned one-hot (else one-hot), the ONNX cell features without WL columns
(spaces with a cell module), and ``zc`` -- every proxy score the benchmark stores, or,
for a benchmark that stores none (nb201-analog), the proxy table shipped for the space
(``--table`` picks another; a one-line notice names it). Without such scores the
features have no ``zc``.

Examples::

    nasrank predict-eval --space nb201 --benchmark nb201-analog --train-sizes 100 --seeds 20
    nasrank predict-eval --space nb201 --benchmark suite-zero:zc_nasbench201.json \\
        --predictor gbdt --features onehot,zc --train-sizes 20,50,100 --seeds 20
    nasrank predict-eval --space nb201 --benchmark suite-zero:zc_nasbench201.json \\
        --train-on nb101:suite-zero:zc_nasbench101.json --features onnx,zc
"""

from __future__ import annotations

import argparse
import ast
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from nasrank.cli._common import add_threads_argument, cli_threads, int_arg, torch_threads
from nasrank.cli._output import print_table, progress, save_figure, write_json

logger = logging.getLogger(__name__)


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "predict-eval",
        help="train a predictor on n archs of a benchmark, rank the rest",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--space", required=True, help="search space of the benchmark")
    p.add_argument(
        "--benchmark", required=True, help="nb201-analog, suite-zero:PATH, table:PATH, ..."
    )
    p.add_argument("--task", help="task of a multi-task benchmark (Suite-Zero: cifar10, ...)")
    p.add_argument("--metric", help="ground-truth metric (default: the benchmark's)")
    p.add_argument(
        "--predictor",
        default=None,
        help="gbdt, gnn or ensemble (default: gbdt with objective=pairwise, see above)",
    )
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="predictor parameter, repeatable (e.g. objective=pairwise, base=gnn)",
    )
    _add_feature_source_arguments(p)
    p.add_argument(
        "--onnx-level",
        default="auto",
        choices=("auto", "cell", "network"),
        help="ONNX graph of one cell or the whole network (default: cell where available)",
    )
    p.add_argument(
        "--zc-transform",
        default="rank",
        choices=("rank", "log", "raw"),
        help="proxy columns as pool percentile ranks (default), log or raw values",
    )
    p.add_argument(
        "--rank-features",
        action="store_true",
        help="turn every feature column into percentile ranks within its space's pool "
        "(label-free; helps cross-space transfer)",
    )
    p.add_argument(
        "--data",
        help="batch for zc-engine (default: each space's own data; see nasrank score --help)",
    )
    p.add_argument("--train-sizes", default="20,50,100,200,400", help="comma-separated sizes")
    p.add_argument(
        "--seeds", type=int_arg(1, 10_000), default=20, help="number of seeds (default 20)"
    )
    p.add_argument(
        "--train-on",
        action="append",
        default=[],
        metavar="SPACE:BENCH[,task=T]",
        help="cross-space: train on this space's benchmark (repeatable), test on --benchmark",
    )
    p.add_argument(
        "--target-sizes",
        default="0,20,50",
        help="cross-space: target samples added to training (default 0,20,50)",
    )
    p.add_argument(
        "--target-weight",
        type=float,
        default=1.0,
        help="cross-space: weight of a target sample relative to a source row (default 1)",
    )
    p.add_argument("--cache-dir", help="encoding cache (default ~/.cache/nasrank)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    p.add_argument("--json", metavar="PATH", help="write results as JSON")
    p.add_argument("--plot", metavar="PATH", help="write Kendall tau vs train size (PNG)")
    add_threads_argument(p)
    p.set_defaults(run=run)


def _add_feature_source_arguments(p: argparse.ArgumentParser) -> None:
    """--features, --table, --proxies: which features, and where proxy scores come from."""
    p.add_argument(
        "--features",
        default=None,
        help="comma-separated parts: onehot, onehot-pruned, path, onnx, onnx-core, zc, "
        "zc-engine (default onehot-pruned or onehot, onnx-core, and zc where proxy scores "
        "are stored or a table ships)",
    )
    p.add_argument(
        "--table",
        metavar="NAME|PATH",
        help="proxy table of zc for a benchmark that stores no proxy scores (default: the "
        "table shipped for --space, e.g. nb201-cifar10)",
    )
    p.add_argument(
        "--proxies",
        help="proxies for zc-engine, and the table columns of zc, comma-separated (default "
        "a label-free set for zc-engine, every table column for zc)",
    )


def _ints(text: str, flag: str, minimum: int) -> list[int]:
    from nasrank.cli import UsageError

    try:
        values = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise UsageError(f"{flag} must be comma-separated integers, got {text!r}") from None
    if not values or any(v < minimum for v in values):
        raise UsageError(f"{flag} needs integers >= {minimum}, got {text!r}")
    return values


def _params(items: list[str]) -> dict[str, Any]:
    from nasrank.cli import UsageError

    out: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--param must be NAME=VALUE, got {item!r}")
        try:
            value: Any = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = text
        if isinstance(value, str) and "," in value:
            value = [v.strip() for v in value.split(",")]
        out[name.strip()] = value
    return out


def _make_predictor(name: str | None, params: dict[str, Any]) -> Any:
    """``--predictor`` with ``--param``s; no name: the default predictor."""
    from nasrank.cli import UsageError
    from nasrank.predictors import default_predictor, get_predictor

    try:
        return get_predictor(default_predictor() if name is None else name, **params)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _uses_graphs(predictor: Any) -> bool:
    from nasrank.predictors import EnsemblePredictor, GNNPredictor

    if isinstance(predictor, GNNPredictor):
        return True
    if isinstance(predictor, EnsemblePredictor):
        return any(isinstance(b, GNNPredictor) for b in predictor.base_predictors())
    return False


def _parse_train_on(text: str) -> tuple[str, str, str | None]:
    from nasrank.cli import UsageError

    body, _, option = text.partition(",task=")
    space, sep, bench = body.partition(":")
    if not sep or not space or not bench:
        raise UsageError(
            f"--train-on must be SPACE:BENCHMARK[,task=T] (e.g. nb101:suite-zero:PATH), "
            f"got {text!r}"
        )
    return space, bench, option or None


def _features(
    args: argparse.Namespace,
    space: Any,
    bench: Any,
    metric: str,
    graphs: bool,
    cache: Any,
    label: str,
) -> Any:
    from nasrank.predictors import featurize, parse_feature_spec

    archs = bench.archs()
    batch = None
    proxies = [p.strip() for p in args.proxies.split(",")] if args.proxies else None
    table = None
    if "zc" in parse_feature_spec(args.features):
        table = _zc_table(args, space, bench)
    if "zc-engine" in args.features:
        from nasrank.data import load_batch, resolve_data

        batch = load_batch(resolve_data(space, args.data), batch_size=64, seed=0)
    with progress(f"encoding {label}", len(archs)) as bar, _engine_store(args) as store:
        return featurize(
            space,
            archs,
            args.features,
            benchmark=bench,
            table=table,
            target_metric=metric,
            graphs=graphs,
            onnx_level=args.onnx_level,
            zc_transform=args.zc_transform,
            transform="rank" if args.rank_features else "none",
            proxies=proxies,
            batch=batch,
            cache=cache,
            store=store,
            on_progress=bar.advance,
        )


def _zc_table(args: argparse.Namespace, space: Any, bench: Any) -> Any:
    """The proxy table of ``zc`` when ``bench`` stores no proxy scores (the one --table
    names, else the one shipped for the space; a notice on stderr names it), else
    ``None``."""
    import sys

    from nasrank.cli import UsageError
    from nasrank.search.sources import PlanError, feature_table

    try:
        table, notice = feature_table(space, bench, args.table)
    except PlanError as exc:
        raise UsageError(f"--{exc.option}: {exc.reason}") from None
    if notice:
        print(notice, file=sys.stderr)
    return table


def _default_features(args: argparse.Namespace, space: Any, bench: Any) -> str:
    """--features, or the default spec for the space: zc where the benchmark stores
    proxy scores or a proxy table serves it."""
    if args.features is not None:
        return str(args.features)
    from nasrank.predictors import default_feature_spec
    from nasrank.predictors.featurize import stored_proxy_columns
    from nasrank.search.sources import feature_table

    proxies = bool(stored_proxy_columns(bench))
    proxies = proxies or feature_table(space, bench, args.table)[0] is not None
    return default_feature_spec(space, proxies=proxies)


@contextmanager
def _engine_store(args: argparse.Namespace) -> Iterator[Any]:
    """The score store of ``zc-engine`` scores, closed on exit: ``scores.sqlite`` in
    --cache-dir, else the default store (the one ``nasrank search`` reads); none with
    --no-cache."""
    if args.no_cache or "zc-engine" not in args.features:
        yield None
        return
    from pathlib import Path

    from nasrank.store import ScoreStore, default_store_path

    path = Path(args.cache_dir).expanduser() / "scores.sqlite" if args.cache_dir else None
    with ScoreStore(path or default_store_path()) as store:
        yield store


@contextmanager
def _predictor_errors() -> Iterator[None]:
    """Bad predictor parameters surface as ``ValueError`` in ``fit``: one-line exit 2."""
    from nasrank.cli import UsageError

    try:
        yield
    except ValueError as exc:
        from nasrank.errors import NasrankError

        if isinstance(exc, NasrankError):
            raise
        raise UsageError(f"predictor: {exc}") from None


def _truth(bench: Any, metric: str) -> np.ndarray:
    values = bench.column(metric)
    return values if bench.higher_is_better(metric) else -values


def run(args: argparse.Namespace) -> int:
    from nasrank.benchmarks import load_benchmark
    from nasrank.cli import UsageError
    from nasrank.encodings import EncodingCache
    from nasrank.predictors import parse_feature_spec, summarize
    from nasrank.spaces import get_space

    if args.features is not None:
        parse_feature_spec(args.features)
    if args.seeds < 1:
        raise UsageError(f"--seeds must be >= 1, got {args.seeds}")
    space = get_space(args.space, task=args.task)
    data = _check_data(args, space)
    threads = cli_threads(args)
    predictor = _make_predictor(args.predictor, _params(args.param))
    graphs = _uses_graphs(predictor)
    cache = None if args.no_cache else EncodingCache(args.cache_dir)
    bench = load_benchmark(args.benchmark, task=args.task, space=space.name)
    metric = args.metric or bench.default_metric
    bench.query(bench.archs()[0], metric)  # validates the metric name
    args.features = _default_features(args, space, bench)
    with torch_threads(threads) as threads:
        X = _features(args, space, bench, metric, graphs, cache, bench.name)
        y = _truth(bench, metric)
        transfer = bool(args.train_on)
        if transfer:
            records, names = _fit_transfer(args, predictor, graphs, cache, X, y)
        else:
            records, names = _fit_in_space(args, predictor, X, y), []
    results = summarize(records)
    name = args.predictor or f"default predictor ({_describe(predictor)})"
    title = f"{bench.name} {metric}: {name} on {args.features}, {args.seeds} seeds" + (
        f", trained on {', '.join(names)}" if transfer else ""
    )
    _print_results(title, results)
    payload = {
        "space": space.name,
        "benchmark": bench.name,
        "metric": metric,
        "predictor": args.predictor or "default",
        "params": predictor.get_params(deep=False),
        "features": args.features,
        "n_features": X.shape[1],
        "onnx_level": args.onnx_level,
        "zc_transform": args.zc_transform,
        "rank_features": args.rank_features,
        "seeds": args.seeds,
        "train_on": list(args.train_on),
        "data": data,
        "threads": threads,
        "results": results,
        "records": [r.to_dict() for r in records],
    }
    if args.json:
        write_json(args.json, _jsonable(payload))
    if args.plot:
        _plot(args.plot, results, plot_title(payload, names))
    return 0


def _describe(predictor: Any) -> str:
    """``gbdt, objective=pairwise``: the predictor's name and its non-default parameters."""
    from nasrank.predictors import PREDICTORS

    cls = type(predictor)
    name = next((n for n in PREDICTORS.names() if PREDICTORS.get(n) is cls), cls.__name__)
    fresh = cls().get_params(deep=False)
    changed = [f"{k}={v}" for k, v in predictor.get_params(deep=False).items() if fresh.get(k) != v]
    return ", ".join([name, *changed])


def _check_data(args: argparse.Namespace, space: Any) -> str | None:
    """The zc-engine data spec of ``space`` (``None`` without zc-engine features). An
    explicit --data must fit every space scored (this one and the --train-on ones): a
    one-line error before any work."""
    from nasrank.data import resolve_data
    from nasrank.spaces import get_space

    spec = resolve_data(space, args.data)
    if args.data is not None:
        for text in args.train_on:
            name, _, task = _parse_train_on(text)
            resolve_data(get_space(name, task=task), args.data)
    return spec if "zc-engine" in (args.features or "") else None


def _fit_transfer(
    args: argparse.Namespace, predictor: Any, graphs: bool, cache: Any, X: Any, y: np.ndarray
) -> tuple[list[Any], list[str]]:
    """``(records, source benchmark names)``: train on the --train-on benchmarks (plus
    --target-sizes target samples), test on the target ``(X, y)``."""
    from nasrank.benchmarks import load_benchmark
    from nasrank.predictors import evaluate_transfer  # the predictors import torch
    from nasrank.spaces import get_space

    sizes = _ints(args.target_sizes, "--target-sizes", 0)
    sources = []
    names = []
    for text in args.train_on:
        s_space_name, s_bench_spec, s_task = _parse_train_on(text)
        s_space = get_space(s_space_name, task=s_task)
        s_bench = load_benchmark(s_bench_spec, task=s_task, space=s_space.name)
        s_metric = s_bench.default_metric
        Xs = _features(args, s_space, s_bench, s_metric, graphs, cache, s_bench.name)
        sources.append((Xs, _truth(s_bench, s_metric)))
        names.append(s_bench.name)
    total = args.seeds * sum(2 if k >= 2 else 1 for k in sizes)
    with progress("fitting", total) as bar, _predictor_errors():
        records = evaluate_transfer(
            predictor,
            sources,
            (X, y),
            target_sizes=sizes,
            seeds=args.seeds,
            target_weight=args.target_weight,
            on_record=lambda r: bar.advance(),
        )
    return records, names


def _fit_in_space(args: argparse.Namespace, predictor: Any, X: Any, y: np.ndarray) -> list[Any]:
    """Records of training on --train-sizes architectures and ranking the rest."""
    from nasrank.cli import UsageError
    from nasrank.predictors import evaluate  # the predictors import torch

    sizes = _ints(args.train_sizes, "--train-sizes", 2)
    n = int(np.isfinite(y).sum())
    too_big = [s for s in sizes if s > n - 2]
    if too_big:
        raise UsageError(
            f"--train-sizes {too_big[0]} leaves fewer than 2 test architectures "
            f"({n} in the benchmark)"
        )
    with progress("fitting", len(sizes) * args.seeds) as bar, _predictor_errors():
        return evaluate(
            predictor,
            X,
            y,
            train_sizes=sizes,
            seeds=args.seeds,
            on_record=lambda r: bar.advance(),
        )


def _print_results(title: str, results: list[dict[str, Any]]) -> None:
    """Mean +- std of each metric per (mode, train size)."""
    columns = ["mode", "train", "kendall", "spearman", "top10%", "fit s", "predict s", "n test"]
    rows = [
        [
            r["mode"],
            r["train_size"],
            f"{r['kendall']['mean']:.3f} ± {r['kendall']['std']:.3f}",
            f"{r['spearman']['mean']:.3f} ± {r['spearman']['std']:.3f}",
            f"{r['top10_precision']['mean']:.3f} ± {r['top10_precision']['std']:.3f}",
            r["fit_seconds"],
            r["predict_seconds"],
            r["n_test"],
        ]
        for r in results
    ]
    print_table(title, columns, rows)


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    return repr(obj)


def _plot(path: str, results: list[dict[str, Any]], title: str) -> None:
    """``--plot``: Kendall's tau against the training size
    (:func:`nasrank.cli._plots.predictor_figure`: integer ticks at the sizes measured)."""
    from nasrank.cli._plots import close, predictor_figure

    fig = predictor_figure(results, title)
    save_figure(fig, path)
    close(fig)


def plot_title(payload: dict[str, Any], names: list[str]) -> str:
    """The figure's title: the benchmark's kind and file name (not its folders), metric,
    predictor, features, seeds and the source benchmarks of a transfer."""
    from nasrank.cli._plots import benchmark_label

    title = (
        f"{benchmark_label(payload['benchmark'])} {payload['metric']}: {payload['predictor']} "
        f"on {payload['features']}, {payload['seeds']} seeds"
    )
    if names:
        title += ", trained on " + ", ".join(benchmark_label(n) for n in names)
    return title
