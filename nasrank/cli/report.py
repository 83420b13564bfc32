"""``nasrank report``: one self-contained HTML page from a command's ``--json``.

Reads the JSON that ``nasrank search``, ``correlate``, ``predict-eval`` or ``score-space``
wrote with ``--json`` and writes a static page (default: the JSON's name with ``.html``)
with the exact command, the nasrank version, the data and settings, the tables the
command printed and its plots (embedded as PNG). The page needs nothing else: no script,
no font, no link, no URL; open it offline or attach it to a paper's supplement.

For ``correlate`` the page plots each proxy's rank correlation; when the command also
wrote ``--csv`` and that file is still where the command put it, the page adds the
per-architecture scatter plots of ``correlate --plot``.

Examples::

    nasrank search --method robot,random --seeds 0..9 --json run.json
    nasrank report run.json                      # writes run.html
    nasrank report corr.json -o supplement/proxies.html
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from nasrank.cli._output import open_output, print_note
from nasrank.cli._report_html import Figure, Page, Section, Table, figure_png, render_page

#: The commands whose JSON a report reads, by the keys that tell them apart.
KINDS = ("search", "correlate", "predict-eval", "score-space")
#: Largest JSON shown in full at the end of the page (characters).
MAX_RAW_JSON = 2_000_000


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "report",
        help="one self-contained HTML page from a command's --json",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("run_json", metavar="RUN.json", help="a --json of search, correlate, "
                   "predict-eval or score-space")  # fmt: skip
    p.add_argument(
        "-o", "--output", metavar="PATH", help="the HTML file (default: RUN.json's name, .html)"
    )
    p.add_argument("--title", help="page title (default: the command and its benchmark)")
    p.set_defaults(run=run)


# ---- reading ---------------------------------------------------------------------------
def read_run(path: str) -> dict[str, Any]:
    """The JSON object at ``path``; a missing, unreadable or non-object file is one line."""
    from nasrank.errors import NasrankError

    file = Path(path).expanduser()
    if not file.exists():
        raise NasrankError(f"RUN.json {path!r} not found")
    if file.is_dir():
        raise NasrankError(f"RUN.json {path!r} is a folder; give the --json file of a command")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NasrankError(f"RUN.json {path!r} is not a JSON file ({exc})") from None
    if not isinstance(data, dict):
        raise NasrankError(f"RUN.json {path!r} holds a {type(data).__name__}, not a JSON object")
    return data


def detect_kind(data: dict[str, Any]) -> str | None:
    """Which command wrote ``data`` (one of :data:`KINDS`), or ``None``."""
    if isinstance(data.get("config"), dict) and isinstance(data.get("runs"), list):
        return "search"
    if "predictor" in data and isinstance(data.get("results"), list):
        return "predict-eval"
    if isinstance(data.get("proxies"), dict) and "metric" in data and "n" in data:
        return "correlate"
    if "archs_total" in data and isinstance(data.get("proxies"), list):
        return "score-space"
    return None


def _output_path(args: argparse.Namespace) -> Path:
    """``-o``, else RUN.json with ``.html``; refused (one line) where it cannot be
    written or is the input itself."""
    from nasrank._files import same_file, unwritable_reason
    from nasrank.errors import NasrankError

    source = Path(args.run_json).expanduser()
    out = Path(args.output).expanduser() if args.output else source.with_suffix(".html")
    if args.output is not None and (not args.output.strip() or "\x00" in args.output):
        raise NasrankError(f"--output needs a path, got {args.output!r}")
    if source.exists() and same_file(out, source):
        raise NasrankError(
            f"--output {str(out)!r} is RUN.json itself; writing it would destroy the input"
        )
    reason = unwritable_reason(out)
    if reason is not None:
        raise NasrankError(f"--output {str(out)!r}: {reason}")
    return out


def run(args: argparse.Namespace) -> int:
    from nasrank.errors import NasrankError

    data = read_run(args.run_json)
    kind = detect_kind(data)
    if kind is None:
        keys = ", ".join(list(data)[:12]) or "none"
        raise NasrankError(
            f"RUN.json {args.run_json!r} is not the --json of {', '.join(KINDS)} (its keys: {keys})"
        )
    out = _output_path(args)
    page = build_page(kind, data, title=args.title)
    with open_output(out, encoding="utf-8") as f:
        f.write(render_page(page))
    figures = sum(len(s.figures) for s in page.sections)
    tables = sum(len(s.tables) for s in page.sections)
    print_note(f"wrote {out} ({kind} report: {tables} tables, {figures} figures)")
    return 0


# ---- the page --------------------------------------------------------------------------
def build_page(kind: str, data: dict[str, Any], *, title: str | None = None) -> Page:
    """The :class:`Page` of a ``kind`` JSON (see :data:`KINDS`)."""
    import datetime as dt

    from nasrank._version import __version__
    from nasrank.cli._plots import benchmark_label

    builder = {
        "search": _search,
        "correlate": _correlate,
        "predict-eval": _predict_eval,
        "score-space": _score_space,
    }[kind]
    facts, sections = builder(data)
    found = data.get("provenance")
    prov: dict[str, Any] = found if isinstance(found, dict) else {}
    bench = data.get("benchmark") or (data.get("config") or {}).get("benchmark")
    space = data.get("space") or (data.get("config") or {}).get("space")
    subject = benchmark_label(str(bench)) if bench else f"space {space}"
    raw = json.dumps(data, indent=1)
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    return Page(
        title=title or f"nasrank {kind}: {subject}",
        subtitle=f"Report of a nasrank {kind} run"
        + (f", made {prov['created']}" if prov.get("created") else ""),
        facts=facts,
        sections=sections,
        command=prov.get("command"),
        provenance=[
            ("nasrank version", str(prov.get("nasrank_version", "not recorded"))),
            ("python", str(prov.get("python", ""))),
            ("working folder", str(prov.get("cwd", ""))),
            ("written", str(prov.get("created", ""))),
        ],
        footer=f"Made by nasrank {__version__} (nasrank report) on {now}; a static page "
        "with no script and no external reference.",
        raw_json=raw if len(raw) <= MAX_RAW_JSON else None,
    )


def _text(value: Any) -> str:
    from nasrank.cli._output import fmt

    if value is None:
        return "-"
    if isinstance(value, float):
        return fmt(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value)) or "-"
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items()) or "-"
    return str(value)


def _png(fig: Any) -> bytes:
    from nasrank.cli._plots import close

    try:
        return figure_png(fig)
    finally:
        close(fig)


# ---- search ----------------------------------------------------------------------------
def _maximize(runs: list[dict[str, Any]], optimum: float | None) -> bool:
    """Whether larger values are better: the optimum is the largest value seen."""
    values = [
        e["value"] for r in runs for e in r.get("history") or [] if e.get("value") is not None
    ]
    if optimum is None or not values:
        return True
    return not (optimum <= min(values) and optimum < max(values))


def search_curves(runs: list[dict[str, Any]], maximize: bool) -> dict[str, np.ndarray]:
    """method -> ``(runs, budget)`` best value so far, from each run's history (NaN or
    missing values skipped; a run that stopped early keeps its last best)."""
    from nasrank.search.results import Evaluation, SearchResult

    by_method: dict[str, list[np.ndarray]] = {}
    budgets: dict[str, int] = {}
    for r in runs:
        history = r.get("history") or []
        if not history:
            continue
        evaluations = tuple(
            Evaluation(e.get("arch", ""), np.nan if e.get("value") is None else e["value"])
            for e in history
        )
        budget = int(r.get("budget") or len(evaluations))
        seed = int(r.get("seed") or 0)
        run = SearchResult(str(r.get("method")), seed, budget, maximize, evaluations)
        by_method.setdefault(run.method, []).append(run.best_so_far())
        budgets[run.method] = max(budgets.get(run.method, 0), budget)
    curves = {}
    for method, rows in by_method.items():
        n = max(budgets[method], max(len(c) for c in rows))
        padded = [np.concatenate([c, np.full(n - len(c), c[-1])]) for c in rows]
        stacked = np.vstack(padded)
        if np.isnan(stacked).any():  # a run whose first values were NaN: from its first value
            stacked = _fill_forward(stacked)
        curves[method] = stacked
    return curves


def _fill_forward(curves: np.ndarray) -> np.ndarray:
    out = curves.copy()
    for row in out:
        finite = np.flatnonzero(np.isfinite(row))
        if finite.size:
            row[: finite[0]] = row[finite[0]]
    return out


def _search_summary(summary: dict[str, Any]) -> Table:
    checkpoints = sorted({int(k) for e in summary.values() for k in (e.get("mean_best_at") or {})})
    columns = ["method", "runs", "budget", "mean best", "std", "median best"]
    columns += [f"mean best @{k}" for k in checkpoints]
    columns += ["found optimum", "median q. to optimum", "mean q. to optimum"]
    rows = []
    for method, e in summary.items():
        at = e.get("mean_best_at") or {}
        rows.append(
            [method, e.get("runs"), e.get("budget"), e.get("mean_best"), e.get("std_best"),
             e.get("median_best"), *(at.get(str(k)) for k in checkpoints),
             f"{e.get('found')}/{e.get('runs')}", e.get("median_queries_to_optimum"),
             e.get("mean_queries_to_optimum")]
        )  # fmt: skip
    return Table("Per method: best value at the budget, over runs", columns, rows)


def _search_runs(runs: list[dict[str, Any]]) -> Table:
    rows = []
    for r in runs:
        best = r.get("best") or {}
        report = r.get("report") or {}
        rows.append(
            [r.get("method"), r.get("seed"), r.get("queries"), best.get("value"),
             r.get("queries_to_optimum"), report.get("value") if report else None,
             best.get("arch")]
        )  # fmt: skip
    columns = ["method", "seed", "queries", "best", "q. to optimum", "reported B", "best arch"]
    if not any(r.get("report") for r in runs):
        columns.pop(5)
        rows = [row[:5] + row[6:] for row in rows]
    return Table("Every run", columns, rows)


def _search(data: dict[str, Any]) -> tuple[list[tuple[str, str]], list[Section]]:
    from nasrank.cli._plots import benchmark_label, search_figure

    config = data.get("config") or {}
    runs = [r for r in data.get("runs") or [] if isinstance(r, dict)]
    optimum = (data.get("optimum") or {}).get("value")
    table = config.get("table") or {}
    seeds = sorted({int(r["seed"]) for r in runs if isinstance(r.get("seed"), int)})
    facts = [
        ("benchmark", _text(config.get("benchmark"))),
        ("space", _text(config.get("space"))),
        ("task", _text(config.get("task")) if config.get("task") else ""),
        ("metric", _text(config.get("metric"))),
        ("methods", ", ".join(dict.fromkeys(str(r.get("method")) for r in runs))),
        ("seeds", f"{len(seeds)} ({_text(seeds[:20])}{', ...' if len(seeds) > 20 else ''})"),
        ("budget", _text(config.get("budget"))),
        ("pool", f"{_text(config.get('pool'))} ({_text(config.get('pool_size'))} archs)"),
        ("proxies", _text(config.get("proxies"))),
        ("proxy source", _text(config.get("proxy_source"))),
        ("data", _text(config.get("data"))),
        ("proxy table", f"{table.get('name')} (sha256 {table.get('sha256')})" if table else ""),
        ("interrupted", "yes: runs so far" if data.get("interrupted") else ""),
    ]
    results = Section("Results")
    if data.get("optimum"):
        results.paragraphs.append(
            f"Pool optimum: {_text(optimum)} ({data['optimum'].get('arch')}); table optimum: "
            f"{_text((data.get('table_optimum') or {}).get('value'))}."
        )
    results.tables.append(_search_summary(data.get("summary") or {}))
    curves = search_curves(runs, _maximize(runs, optimum))
    if curves:
        name = benchmark_label(str(config.get("benchmark")))
        fig = search_figure(curves, optimum, str(config.get("metric")), name)
        results.figures.append(
            Figure(_png(fig), "Best value so far against queries: the median run (bold), the "
                   "middle half of the runs (band) and each run (thin).", "search curves")
        )  # fmt: skip
    sections = [results, Section("Runs", tables=[_search_runs(runs)])]
    if isinstance(data.get("report_metric"), dict):
        sections.append(_report_metric_section(data, runs))
    if data.get("trained"):
        trained = data["trained"]
        keys = list(dict.fromkeys(k for t in trained for k in t))
        sections.append(
            Section("Top picks trained", tables=[Table("trained", keys, [[t.get(k) for k in keys]
                                                                         for t in trained])])
        )  # fmt: skip
    return facts, sections


def _report_metric_section(data: dict[str, Any], runs: list[dict[str, Any]]) -> Section:
    """``--report-metric B``: B of each run's pick by the searched metric, per method and
    against queries."""
    from nasrank.cli._plots import search_figure

    info, metric = data["report_metric"], (data.get("config") or {}).get("metric")
    b = str(info.get("metric"))
    direction = "higher" if info.get("higher_is_better", True) else "lower"
    section = Section(f"Reported metric {b}")
    section.paragraphs.append(
        f"The searches optimise {metric} alone; each run reports {b} of the architecture it "
        f"picked by {metric}, read from the benchmark ({direction} is better)."
    )
    for key, what in (
        ("of_optimum", f"{b} of the pool optimum by {metric}"),
        ("optimum", f"pool optimum by {b}"),
    ):
        entry = info.get(key)
        if isinstance(entry, dict):
            section.paragraphs.append(f"{what}: {_text(entry.get('value'))} ({entry.get('arch')})")
    section.paragraphs += [f"note: {n}" for n in info.get("notes") or []]
    section.tables.append(_report_metric_table(data.get("summary") or {}, b))
    stacked = {m: _fill_forward(c) for m, c in _trajectories(runs).items()}
    if stacked:
        best = (info.get("optimum") or {}).get("value")
        ylabel = f"{b} of the best by {metric} so far"
        fig = search_figure(stacked, best, b, f"{b} of the pick by {metric}", ylabel=ylabel)
        section.figures.append(
            Figure(
                _png(fig),
                f"{b} of each run's current pick by {metric} against queries (median, middle "
                f"half, each run); dashed: the pool's best {b}.",
                f"{b} curves",
            )
        )
    return section


def _report_metric_table(summary: dict[str, Any], b: str) -> Table:
    reports = {m: e.get("report") for m, e in summary.items() if isinstance(e, dict)}
    reports = {m: e for m, e in reports.items() if isinstance(e, dict)}
    ks = sorted({int(k) for e in reports.values() for k in (e.get("mean_at") or {})})
    columns = ["method", "runs", "missing", f"mean {b}", "std", "median"]
    rows = [
        [m, e.get("runs"), e.get("missing"), e.get("mean"), e.get("std"), e.get("median")]
        + [(e.get("mean_at") or {}).get(str(k)) for k in ks]
        for m, e in reports.items()
    ]
    return Table(f"{b} of each run's pick, over runs", columns + [f"mean @{k}" for k in ks], rows)


def _trajectories(runs: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """method -> ``(runs, queries)`` B of the current pick after each query."""
    curves: dict[str, list[np.ndarray]] = {}
    for r in runs:
        trajectory = (r.get("report") or {}).get("trajectory")
        if trajectory:
            values = np.array([np.nan if v is None else v for v in trajectory], dtype=float)
            curves.setdefault(str(r.get("method")), []).append(values)
    out = {}
    for method, rows in curves.items():
        n = max(len(c) for c in rows)
        out[method] = np.vstack([np.concatenate([c, np.full(n - len(c), c[-1])]) for c in rows])
    return out


# ---- correlate -------------------------------------------------------------------------
def _correlate_table(summary: dict[str, Any]) -> Table:
    has_ref = any("reference_spearman" in e for e in summary.values())
    columns = ["proxy", "spearman", "kendall", "top10%", "NaN", "median s"]
    columns += ["ref. spearman"] if has_ref else []

    def key(item: tuple[str, Any]) -> float:
        value = item[1].get("spearman")
        return -value if isinstance(value, (int, float)) and math.isfinite(value) else 9.0

    rows = []
    for name, e in sorted(summary.items(), key=key):
        row = [name, e.get("spearman"), e.get("kendall"), e.get("top10_precision"),
               e.get("nan_count"), e.get("median_seconds")]  # fmt: skip
        rows.append(row + ([e.get("reference_spearman")] if has_ref else []))
    return Table("Rank correlation with the ground truth, best first", columns, rows)


def _csv_of(data: dict[str, Any]) -> Path | None:
    """The ``--csv`` the command wrote, if the provenance names one that still exists."""
    import shlex

    prov = data.get("provenance") or {}
    try:
        argv = shlex.split(str(prov.get("command") or ""))
    except ValueError:
        return None
    for i, word in enumerate(argv):
        text = argv[i + 1] if word == "--csv" and i + 1 < len(argv) else None
        if word.startswith("--csv="):
            text = word.split("=", 1)[1]
        if text:
            path = Path(text).expanduser()
            path = path if path.is_absolute() else Path(str(prov.get("cwd") or ".")) / path
            return path if path.is_file() else None
    return None


def _scatter(data: dict[str, Any], title: str) -> Figure | None:
    """``correlate --plot``'s figure from the command's ``--csv``."""
    import csv

    from nasrank.cli._plots import correlation_figure

    path, metric = _csv_of(data), str(data.get("metric"))
    if path is None:
        return None
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    if len(rows) < 3 or rows[0][:2] != ["arch", metric]:
        return None

    def number(text: str) -> float:
        try:
            return float(text)
        except ValueError:
            return math.nan

    names = rows[0][2:]
    truth = [number(r[1]) for r in rows[1:]]
    scores = {n: [number(r[2 + i]) for r in rows[1:]] for i, n in enumerate(names)}
    rho = {n: (data["proxies"].get(n) or {}).get("spearman") for n in names}
    fig = correlation_figure(scores, truth, metric, rho, title)
    return Figure(
        _png(fig),
        f"{metric} against each proxy's score rank (percentile in the sample), from {path.name}.",
        "score rank against ground truth",
    )


def _correlate(data: dict[str, Any]) -> tuple[list[tuple[str, str]], list[Section]]:
    from nasrank.cli._plots import benchmark_label, spearman_figure

    summary = {k: v for k, v in (data.get("proxies") or {}).items() if isinstance(v, dict)}
    facts = [
        ("benchmark", _text(data.get("benchmark"))),
        ("space", _text(data.get("space"))),
        ("metric", f"{data.get('metric')} ("
                   f"{'higher' if data.get('higher_is_better', True) else 'lower'} is better)"),
        ("architectures", _text(data.get("n"))),
        ("data", _text(data.get("data"))),
        ("seed", _text(data.get("seed"))),
        ("threads", _text(data.get("threads"))),
        ("scores from the store", _text(data.get("scores_from_store"))),
        ("interrupted", "yes: the architectures scored so far" if data.get("interrupted") else ""),
    ]  # fmt: skip
    title = f"{benchmark_label(str(data.get('benchmark')))} {data.get('metric')}: n={data.get('n')}"
    section = Section("Results", tables=[_correlate_table(summary)])
    if summary:
        fig = spearman_figure(summary, title)
        section.figures.append(
            Figure(_png(fig), "Spearman's rho and Kendall's tau of each proxy (and the "
                   "benchmark's own stored score, where it has one).", "rank correlations")
        )  # fmt: skip
    scatter = _scatter(data, title)
    if scatter is not None:
        section.figures.append(scatter)
    else:
        section.paragraphs.append(
            "Per-architecture scatter plots need the command's --csv file (not found)."
        )
    return facts, [section]


# ---- predict-eval ----------------------------------------------------------------------
def _predict_eval(data: dict[str, Any]) -> tuple[list[tuple[str, str]], list[Section]]:
    from nasrank.cli._plots import predictor_figure
    from nasrank.cli.predict_eval import plot_title

    results = [r for r in data.get("results") or [] if isinstance(r, dict)]
    facts = [
        ("benchmark", _text(data.get("benchmark"))),
        ("space", _text(data.get("space"))),
        ("metric", _text(data.get("metric"))),
        ("predictor", f"{data.get('predictor')} ({_text(data.get('params'))})"),
        ("features", f"{data.get('features')} ({data.get('n_features')} columns)"),
        ("ONNX level / proxy transform", f"{data.get('onnx_level')} / {data.get('zc_transform')}"),
        ("rank features", _text(data.get("rank_features"))),
        ("seeds", _text(data.get("seeds"))),
        ("trained on (transfer)", _text(data.get("train_on")) if data.get("train_on") else ""),
        ("data (zc-engine)", _text(data.get("data")) if data.get("data") else ""),
        ("threads", _text(data.get("threads"))),
    ]

    def spread(e: Any) -> str:
        if not isinstance(e, dict) or e.get("mean") is None:
            return "-"
        return f"{e['mean']:.3f} ± {e.get('std') or 0:.3f}"

    rows = [
        [r.get("mode"), r.get("train_size"), spread(r.get("kendall")), spread(r.get("spearman")),
         spread(r.get("top10_precision")), r.get("fit_seconds"), r.get("predict_seconds"),
         r.get("n_test")]
        for r in results
    ]  # fmt: skip
    columns = ["mode", "train", "kendall", "spearman", "top10%", "fit s", "predict s", "n test"]
    section = Section("Results", tables=[Table("Mean ± std over seeds", columns, rows)])
    names = [str(t).split(":", 1)[-1] for t in data.get("train_on") or []]
    title = plot_title(data, names) if {"benchmark", "metric", "predictor"} <= set(data) else ""
    if results:
        for metric in ("kendall", "spearman"):
            if all(isinstance(r.get(metric), dict) for r in results):
                fig = predictor_figure(results, title, metric=metric)
                section.figures.append(
                    Figure(_png(fig), f"{metric.capitalize()} rank correlation of the "
                           "predictions on the held-out architectures against the number of "
                           "training architectures.", f"{metric} against training size")
                )  # fmt: skip
    return facts, [section]


# ---- score-space -----------------------------------------------------------------------
def _score_space(data: dict[str, Any]) -> tuple[list[tuple[str, str]], list[Section]]:
    from nasrank.cli._plots import coverage_figure

    proxies = [str(p) for p in data.get("proxies") or []]
    facts = [
        ("space", _text(data.get("space"))),
        ("pool", _text(data.get("pool"))),
        ("proxies", ", ".join(proxies)),
        ("data", _text(data.get("data"))),
        ("data fingerprint", _text(data.get("data_fingerprint"))),
        ("seed", _text(data.get("seed"))),
        ("store", _text(data.get("store"))),
        ("executor", f"{data.get('executor')}: {data.get('workers')} worker(s) x "
                     f"{data.get('threads')} thread(s)"),
        ("interrupted", "yes: what was stored so far" if data.get("interrupted") else ""),
    ]  # fmt: skip
    work = Table(
        "Work",
        ["field", "value"],
        [[k.replace("_", " "), data.get(k)] for k in (
            "archs_total", "archs_reached", "archs_scored", "archs_complete", "archs_skipped",
            "pairs_computed", "pairs_reused", "rows_written", "median_seconds_per_arch",
            "wall_seconds", "archs_per_second") if k in data],
    )  # fmt: skip
    stored, nan = data.get("stored_counts") or {}, data.get("nan_counts") or {}
    per_proxy = Table(
        "Per proxy: architectures with a stored score, and how many of them are NaN",
        ["proxy", "stored", "NaN"],
        [[p, stored.get(p), nan.get(p)] for p in proxies],
    )
    section = Section("Results", tables=[per_proxy, work])
    if proxies and stored:
        section.figures.append(
            Figure(_png(coverage_figure(proxies, stored, nan, data.get("archs_total"))),
                   "Stored scores per proxy (finite and NaN) against the architectures in the "
                   "pool.", "coverage per proxy")
        )  # fmt: skip
    return facts, [section]
