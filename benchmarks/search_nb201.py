"""Search benchmarks on NAS-Bench-201 (the "done when" measurements of the search issue).

Parts (``--parts``, default all):

``suite-zero``
    NAS-Bench-Suite-Zero NB-201 pools (725 architectures; tasks cifar10, cifar100,
    ImageNet16-120; objective ``val_accuracy``; proxy scores = the file's stored columns):
    queries until each method finds the pool's best architecture, ``--seeds`` seeds.
``nb201``
    Full NB-201 CIFAR-10 (``nb201-analog``, 15,625 architectures): queries until the
    table's optimum is found and mean best accuracy after 20 queries. Predictor BO, RE, LS
    and random search run over the whole space without proxies; RoBoT, proxy top-k and
    "bo+zc" (predictor BO with proxy features and the zero-cost warm-up) take their proxy
    scores from the shipped table ``--table`` (default ``nb201-cifar10``, produced by
    ``nasrank score-space``; see ``ship_nb201_table.py``), i.e. over every architecture
    the table covers.
``resume``
    Kill-and-resume of ``nasrank search``: SIGKILL mid-run, rerun the same command,
    compare with an uninterrupted run.

A run stops early once it has found the optimum it is measured against (the rest of its
best-so-far curve would be flat). Results go to ``--out`` (JSON, PNG plots) and a
Markdown summary is printed. The JSON is compact: per run the best architecture, the
queries to the optimum and the best-so-far curve as ``[query, value]`` pairs at the
queries where it improves (not every evaluation).

    python benchmarks/search_nb201.py --seeds 0..19
    python benchmarks/search_nb201.py --parts suite-zero --tasks ImageNet16-120 \
        --methods robot,bo --proxies synflow,nwot,jacov,params,flops --seeds 0..4
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
SUITE_ZERO = SHARED / "nas-bench-suite-zero" / "zc_nasbench201.json"
TASKS = ("cifar10", "cifar100", "ImageNet16-120")


def run_one(searcher: Any, objective: Any, budget: int, stop_at: float | None) -> Any:
    """Ask/tell until ``budget`` queries or until the value ``stop_at`` is reached."""
    from nasrank.search import SearchExhausted

    sign = 1.0 if searcher.maximize else -1.0
    while len(searcher.history) < budget:
        try:
            arch = searcher.ask()
        except SearchExhausted:
            break
        e = objective(arch)
        searcher.tell(arch, e.value, e.cost)
        if stop_at is not None and sign * e.value >= sign * stop_at - 1e-9:
            break
    return searcher.result(budget)


def run_methods(
    methods: dict[str, tuple[Any, int, dict[str, Any]]],
    bench: Any,
    seeds: list[int],
    optimum: float,
    label: str,
) -> dict[str, list[Any]]:
    from nasrank.search import BenchmarkObjective

    results: dict[str, list[Any]] = {}
    for name, (factory, budget, kwargs) in methods.items():
        t0 = time.perf_counter()
        runs = []
        for seed in seeds:
            searcher = factory(seed=seed, **kwargs)
            runs.append(run_one(searcher, BenchmarkObjective(bench), budget, optimum))
        results[name] = runs
        hits = [r.queries_to(optimum) for r in runs]
        print(
            f"  [{label}] {name:8s} budget {budget:4d}: queries to optimum {hits} "
            f"({time.perf_counter() - t0:.0f} s)",
            flush=True,
        )
    return results


def compact_run(r: Any, optimum: float | None) -> dict[str, Any]:
    """One run without its full history: best, queries to the optimum, and the best-so-far
    curve as ``[query, value]`` at the queries where it improves."""
    curve = r.best_so_far()
    steps = [
        [i + 1, float(v)]
        for i, v in enumerate(curve)
        if math.isfinite(v) and (i == 0 or not math.isfinite(curve[i - 1]) or v != curve[i - 1])
    ]
    best = r.best
    return {
        "seed": r.seed,
        "budget": r.budget,
        "queries": r.queries,
        "best": best.to_dict() if best is not None else None,
        "queries_to_optimum": r.queries_to(optimum) if optimum is not None else None,
        "curve": steps,
        "info": r.info,
    }


def _runs_json(results: dict[str, list[Any]], optimum: float | None) -> dict[str, Any]:
    return {m: [compact_run(r, optimum) for r in runs] for m, runs in results.items()}


def summary_rows(results: dict[str, list[Any]], optimum: float) -> dict[str, Any]:
    from nasrank.search import summarise

    return {m: summarise(runs, optimum, at=(10, 20, 50, 100)) for m, runs in results.items()}


def markdown(summary: dict[str, Any], title: str) -> str:
    lines = [
        f"**{title}**",
        "",
        "| method | runs | budget | found | median queries to optimum | mean best @10 | "
        "mean best @20 | mean best at budget |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for m, s in summary.items():
        med = s["median_queries_to_optimum"]
        at = {int(k): v for k, v in s["mean_best_at"].items()}  # str keys after JSON
        lines.append(
            f"| {m} | {s['runs']} | {s['budget']} | {s['found']}/{s['runs']} | "
            f"{'-' if med is None else f'{med:g}'} | {at.get(10, math.nan):.2f} | "
            f"{at.get(20, math.nan):.2f} | {s['mean_best']:.2f} |"
        )
    return "\n".join(lines)


def part_suite_zero(args: argparse.Namespace, seeds: list[int]) -> dict[str, Any]:
    from nasrank.benchmarks import load_benchmark
    from nasrank.cli.search import plot_runs
    from nasrank.search import (
        LocalSearch,
        PredictorBO,
        RandomSearch,
        RegularizedEvolution,
        RoBoT,
        ZeroCostTopK,
        benchmark_scores,
        make_pool,
    )
    from nasrank.spaces import get_space

    space = get_space("nb201")
    out: dict[str, Any] = {}
    for task in args.tasks:
        bench = load_benchmark(f"suite-zero:{args.suite_zero}", task=task)
        proxies = args.proxies.split(",") if args.proxies != "all" else None
        pool = benchmark_scores(make_pool(space, "benchmark", benchmark=bench), bench, proxies)
        opt_arch, opt = bench.optimum()
        n = len(pool)

        def make(cls: Any, pool: Any = pool) -> Any:
            return lambda seed, **kw: cls(space, pool=pool, seed=seed, **kw)

        methods = {
            "robot": (make(RoBoT), 100, {}),
            "bo": (make(PredictorBO), 100, {}),
            "zc-topk": (make(ZeroCostTopK), n, {}),
            "re": (make(RegularizedEvolution), n, {}),
            "ls": (make(LocalSearch), n, {}),
            "random": (make(RandomSearch), n, {}),
        }
        methods = {k: v for k, v in methods.items() if k in args.methods}
        print(f"suite-zero {task}: {n} archs, {len(pool.proxies)} stored proxies, optimum {opt}")
        results = run_methods(methods, bench, seeds, opt, task)
        summary = summary_rows(results, opt)
        suffix = "" if args.proxies == "all" else f"_{len(pool.proxies)}proxies"
        plot = args.out / f"search_suite_zero_{task}{suffix}.png"
        plot_runs(str(plot), results, opt, "val_accuracy", f"Suite-Zero NB-201 {task} ({n} archs)")
        out[task] = {
            "pool": n,
            "proxies": list(pool.proxies),
            "optimum": {"arch": opt_arch, "value": opt},
            "summary": summary,
            "runs": _runs_json(results, opt),
            "plot": str(plot),
        }
        title = f"Suite-Zero NB-201 {task}: {n} archs, optimum {opt:g}"
        print(markdown(summary, title), flush=True)
    return out


def part_nb201(args: argparse.Namespace, seeds: list[int]) -> dict[str, Any]:
    from nasrank.benchmarks import load_benchmark
    from nasrank.cli.search import plot_runs
    from nasrank.search import (
        LocalSearch,
        PredictorBO,
        RandomSearch,
        RegularizedEvolution,
        RoBoT,
        ZeroCostTopK,
        make_pool,
        table_scores,
    )
    from nasrank.spaces import get_space
    from nasrank.tables import load_table

    space = get_space("nb201")
    bench = load_benchmark("nb201-analog")
    opt_arch, opt = bench.optimum()
    full = make_pool(space, "benchmark", benchmark=bench)
    print(f"nb201-analog: {len(full)} archs, optimum {opt} ({opt_arch})", flush=True)
    table = load_table(args.table)
    proxies = args.table_proxies.split(",") if args.table_proxies else list(table.proxies)
    t0 = time.perf_counter()
    scored = table_scores(full, table, proxies)
    data_free = table_scores(full, table, ["params", "flops", "synflow"])
    attach_seconds = time.perf_counter() - t0
    pool_opt = max(bench.query(a) for a in scored.archs)
    print(f"  table {table.describe()}: {len(scored)} archs, pool best {pool_opt}", flush=True)

    def on(pool: Any, cls: Any) -> Any:
        return lambda seed, **kw: cls(space, pool=pool, seed=seed, **kw)

    methods = {
        "bo": (on(full, PredictorBO), 100, {}),
        "re": (on(full, RegularizedEvolution), 300, {}),
        "ls": (on(full, LocalSearch), 300, {}),
        "random": (on(full, RandomSearch), 300, {}),
        "robot": (on(scored, RoBoT), 100, {}),
        "zc-topk": (on(scored, ZeroCostTopK), 100, {}),
        "bo+zc": (on(scored, PredictorBO), 100, {}),
        # the predictor's own contribution: proxy features, random instead of warm-up init
        "bo+zc/random-init": (on(scored, PredictorBO), 100, {"init": "random"}),
        # the data-free proxies `nasrank search` uses by default
        "robot/params,flops,synflow": (on(data_free, RoBoT), 100, {}),
    }
    methods = {k: v for k, v in methods.items() if k.split("+")[0].split("/")[0] in args.methods}
    results = run_methods(methods, bench, seeds, opt, "nb201")
    summary = summary_rows(results, opt)
    plot = args.out / "search_nb201_analog.png"
    plot_runs(str(plot), results, opt, "baseline_accuracy", "NB-201 CIFAR-10 (nb201-analog)")
    print(
        markdown(
            summary,
            f"nb201-analog CIFAR-10: 15,625 archs, optimum {opt:g}; "
            f"robot/zc-topk/bo+zc on table {table.name} ({len(scored)} archs, "
            f"{','.join(proxies)}; pool best {pool_opt:g})",
        ),
        flush=True,
    )
    return {
        "optimum": {"arch": opt_arch, "value": opt},
        "proxy_pool": {
            "table": table.describe(),
            "n": len(scored),
            "best": pool_opt,
            "proxies": list(scored.proxies),
            "attach_seconds": attach_seconds,
        },
        "summary": summary,
        "runs": _runs_json(results, opt),
        "plot": str(plot),
    }


def part_resume(args: argparse.Namespace) -> dict[str, Any]:
    """SIGKILL ``nasrank search`` mid-run, rerun it, compare with an uninterrupted run."""
    tmp = Path(tempfile.mkdtemp(prefix="nasrank-resume-"))
    db = tmp / "runs.db"
    command = [
        sys.executable,
        "-m",
        "nasrank",
        "search",
        "--space",
        "nb201",
        "--benchmark",
        f"suite-zero:{args.suite_zero}",
        "--task",
        "cifar10",
        "--method",
        "robot,re",
        "--budget",
        "25",
        "--seeds",
        "0..3",
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [*command, "--storage", str(db), "--json", str(tmp / "killed.json")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def stored() -> int:
        if not db.exists():
            return 0
        import optuna

        try:
            storage = optuna.storages.RDBStorage(f"sqlite:///{db}")
            return sum(
                len(s.get_trials(deepcopy=False))
                for s in (
                    optuna.load_study(study_name=summ.study_name, storage=storage)
                    for summ in optuna.get_all_study_summaries(storage)
                )
            )
        except Exception:  # noqa: BLE001 - the database may be mid-creation
            return 0

    deadline = time.time() + 600
    while stored() < 60 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.5)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = stored()
    t0 = time.perf_counter()
    subprocess.run(
        [*command, "--storage", str(db), "--json", str(tmp / "resumed.json")],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    resumed_seconds = time.perf_counter() - t0
    subprocess.run(
        [*command, "--json", str(tmp / "clean.json")],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    resumed = json.loads((tmp / "resumed.json").read_text())["runs"]
    clean = json.loads((tmp / "clean.json").read_text())["runs"]
    same = [r["history"] for r in resumed] == [r["history"] for r in clean]
    restored = sum(r["restored"] for r in resumed)
    distinct = all(len({h["arch"] for h in r["history"]}) == len(r["history"]) for r in resumed)
    out = {
        "command": " ".join([*command[2:], "--storage", "runs.db"]),
        "evaluations_stored_at_kill": before,
        "restored_on_rerun": restored,
        "queried_on_rerun": sum(len(r["history"]) for r in resumed) - restored,
        "identical_to_uninterrupted": same,
        "no_repeated_evaluation": distinct and restored == before,
        "rerun_seconds": resumed_seconds,
    }
    print("resume:", json.dumps(out, indent=1), flush=True)
    return out


def _results_from_json(runs: dict[str, list[dict[str, Any]]]) -> dict[str, list[Any]]:
    """Runs stored by this script (compact curves, or full histories of older versions) as
    ``SearchResult``s whose best-so-far curves are the stored ones."""
    from nasrank.search import Evaluation, SearchResult

    out: dict[str, list[Any]] = {}
    for m, rs in runs.items():
        out[m] = []
        for r in rs:
            if "history" in r:
                evals = tuple(Evaluation(h["arch"], h["value"]) for h in r["history"])
            else:  # compact: the curve's value from each improving query on
                values: list[float] = []
                for q, v in r["curve"]:
                    values += [values[-1] if values else math.nan] * (q - 1 - len(values))
                    values.append(v)
                values += [values[-1]] * (r["queries"] - len(values)) if values else []
                evals = tuple(Evaluation(f"#{i}", v) for i, v in enumerate(values))
            out[m].append(
                SearchResult(
                    r.get("method", m), r["seed"], r["budget"], True, evals, info=r.get("info", {})
                )
            )
    return out


def compact_report(report: dict[str, Any]) -> dict[str, Any]:
    """Rewrite the full-history runs of an older report in the compact form."""
    parts = [
        p
        for k, v in report.items()
        if k.startswith("suite_zero") and isinstance(v, dict)
        for p in v.values()
        if isinstance(p, dict) and "runs" in p
    ]
    if isinstance(report.get("nb201"), dict) and "runs" in report["nb201"]:
        parts.append(report["nb201"])
    for part in parts:
        runs = part["runs"]
        if any("history" in r for rs in runs.values() for r in rs):
            opt = part["optimum"]["value"]
            part["runs"] = _runs_json(_results_from_json(runs), opt)
    return report


def merge_suite_zero(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """Add the methods of a new Suite-Zero run to an earlier one (same pools), replotting."""
    from nasrank.cli.search import plot_runs

    if not old:
        return new
    for task, part in new.items():
        if task not in old:
            old[task] = part
            continue
        old[task]["summary"].update(part["summary"])
        old[task]["runs"].update(part["runs"])
        results = _results_from_json(old[task]["runs"])
        opt = old[task]["optimum"]["value"]
        plot_runs(
            old[task]["plot"],
            results,
            opt,
            "val_accuracy",
            f"Suite-Zero NB-201 {task} ({old[task]['pool']} archs)",
        )
        print(markdown(old[task]["summary"], f"Suite-Zero NB-201 {task} (merged)"), flush=True)
    return old


def main() -> None:
    from nasrank.cli.search import parse_seeds

    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--parts", default="suite-zero,nb201,resume")
    p.add_argument("--seeds", default="0..19")
    p.add_argument("--methods", default="robot,bo,zc-topk,re,ls,random")
    p.add_argument("--tasks", default=",".join(TASKS), help="Suite-Zero tasks (comma list)")
    p.add_argument("--suite-zero", type=Path, default=SUITE_ZERO)
    p.add_argument("--proxies", default="all", help="stored Suite-Zero columns for the pools")
    p.add_argument("--table", default="nb201-cifar10", help="proxy table for robot/zc-topk/bo+zc")
    p.add_argument("--table-proxies", help="comma list of table columns (default all)")
    p.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    args.methods = args.methods.split(",")
    args.tasks = args.tasks.split(",")
    unknown = [t for t in args.tasks if t not in TASKS]
    if unknown:
        sys.exit(f"unknown task(s) {', '.join(unknown)}; choices: {', '.join(TASKS)}")
    seeds = parse_seeds(args.seeds)
    parts = args.parts.split(",")
    if ("suite-zero" in parts or "resume" in parts) and not args.suite_zero.is_file():
        sys.exit(f"Suite-Zero file not found: {args.suite_zero} (pass --suite-zero PATH)")
    report: dict[str, Any] = {"seeds": seeds}
    path = args.out / "search_nb201.json"
    if path.exists():
        report = compact_report({**json.loads(path.read_text()), "seeds": seeds})
    tag = "" if args.proxies == "all" else f"[{args.proxies}]"
    if "suite-zero" in parts:
        key = f"suite_zero{tag}"
        report[key] = merge_suite_zero(report.get(key), part_suite_zero(args, seeds))
        path.write_text(json.dumps(report, indent=1, default=str))
    if "nb201" in parts:
        report["nb201"] = part_nb201(args, seeds)
        path.write_text(json.dumps(report, indent=1, default=str))
    if "resume" in parts:
        report["resume"] = part_resume(args)
        path.write_text(json.dumps(report, indent=1, default=str))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
