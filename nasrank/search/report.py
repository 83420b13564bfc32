"""The outcome of a :class:`~nasrank.search.plan.SearchPlan`: every run, the optimum it is
measured against, the summary per method and the trained top picks.

``SearchReport.to_json()`` is exactly what ``nasrank search --json`` writes; the CLI's
tables are drawn from :meth:`SearchReport.best_rows` and :meth:`SearchReport.summary_rows`.

With a report metric B (:class:`~nasrank.search.reported.ReportMetric`, the plan's
``report_metric``), every run also reports B of the architecture it picked by the optimised
metric, and the summary of each method B's mean at the budget and at 10/20/50 queries;
without one the report is unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from nasrank.search.base import Searcher, SearchResult, summarise
from nasrank.search.objectives import BenchmarkObjective
from nasrank.search.reported import (
    ReportedRun,
    ReportMetric,
    reported_json,
    summarise_reported,
)

if TYPE_CHECKING:
    from nasrank.benchmarks import Benchmark
    from nasrank.search.pool import CandidatePool
    from nasrank.search.sources import SourceInfo

__all__ = ["SearchReport"]


@dataclass(eq=False)
class SearchReport:
    """Runs of a search plan.

    Attributes:
        config: The run configuration (space, benchmark, metric, budget, pool, proxies,
            their source and data, the table's record).
        runs: Method -> one :class:`SearchResult` per seed.
        metric: The optimised column.
        benchmark_name: The ground truth's name (``None`` with a custom objective).
        optimum: ``(arch, value)`` best in the pool (``None`` without a benchmark).
        table_optimum: ``(arch, value)`` best in the whole benchmark.
        maximize: Whether larger values are better.
        pool: The candidates with their scores.
        source: Where the scores came from (its ``notice`` is the CLI's notice).
        searchers: Method -> the searcher of each run (its final state, e.g. RoBoT's
            ranking under the best weights).
        trained: The trained top picks (best first), once :class:`TopTraining` ran.
        interrupted: The searches were stopped; :attr:`runs` holds the finished ones.
        reporter: The report metric B (``None``: only the optimised metric is reported).
        reported: Method -> B of each run's pick (aligned with :attr:`runs`).
        device: Where engine proxies were to be computed (``None``: the CPU); in the
            JSON's config, not in the run storage's key (GPU scores equal CPU ones up to
            float rounding).
    """

    config: dict[str, Any]
    runs: dict[str, list[SearchResult]]
    metric: str
    benchmark_name: str | None
    optimum: tuple[str, float] | None
    table_optimum: tuple[str, float] | None
    maximize: bool
    pool: CandidatePool = field(repr=False)
    source: SourceInfo = field(repr=False)
    searchers: dict[str, list[Searcher]] = field(repr=False, default_factory=dict)
    trained: list[dict[str, Any]] | None = None
    interrupted: bool = False
    reporter: ReportMetric | None = field(repr=False, default=None)
    reported: dict[str, list[ReportedRun]] = field(repr=False, default_factory=dict)
    device: str | None = None

    @classmethod
    def of(
        cls,
        benchmark: Benchmark | None,
        metric: str,
        maximize: bool,
        pool: CandidatePool,
        info: SourceInfo,
        config: dict[str, Any],
        runs: dict[str, list[SearchResult]],
        searchers: dict[str, list[Searcher]],
        reporter: ReportMetric | None = None,
        device: str | None = None,
    ) -> SearchReport:
        """The report of ``runs``, measured against ``benchmark``'s optima (if any), with
        B of each run's pick when there is a ``reporter``."""
        optimum = table_optimum = None
        if benchmark is not None:
            reference = BenchmarkObjective(benchmark, metric)
            table_optimum = reference.optimum()
            optimum = reference.optimum(list(pool.archs))
        name = benchmark.name if benchmark is not None else None
        reported = {}
        if reporter is not None:
            reported = {m: [reporter.of_run(r) for r in rs] for m, rs in runs.items()}
        return cls(
            config, runs, metric, name, optimum, table_optimum, maximize, pool, info, searchers,
            reporter=reporter, reported=reported, device=device,
        )  # fmt: skip

    @property
    def report_metric(self) -> str | None:
        """The report metric B (``None`` without one)."""
        return self.reporter.metric if self.reporter is not None else None

    @property
    def summary(self) -> dict[str, dict[str, Any]]:
        """Method -> :func:`~nasrank.search.base.summarise` of its runs."""
        target = self.optimum[1] if self.optimum is not None else None
        out = {m: summarise(runs, target) for m, runs in self.runs.items()}
        for m, reported in self.reported.items():
            budget = max(r.budget for r in self.runs[m])
            out[m]["report"] = {
                "metric": self.report_metric,
                **summarise_reported(reported, budget),
            }
        return out

    def all_reported(self) -> list[ReportedRun]:
        """B of each run's pick, aligned with :meth:`all_runs` (empty without B)."""
        return [r for reported in self.reported.values() for r in reported]

    def all_runs(self) -> list[SearchResult]:
        return [r for runs in self.runs.values() for r in runs]

    def best_values(self) -> dict[str, float]:
        """Architecture -> objective value, over every run's evaluations."""
        return {e.arch: e.value for r in self.all_runs() for e in r.evaluations}

    def best_archs(self, k: int) -> list[str]:
        """The ``k`` best distinct architectures evaluated by any run (ties by id)."""
        best = self.best_values()
        sign = 1.0 if self.maximize else -1.0
        ranked = sorted(best, key=lambda a: (-(sign * np.nan_to_num(best[a], nan=-np.inf)), a))
        return ranked[:k]

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` payload of ``nasrank search``."""
        config = self.config
        if self.reporter is not None:  # not in the run storage's key: B changes no run
            config = {**config, "report_metric": self.reporter.metric}
        config = {**config, "device": self.device or "cpu"}  # nor is the device
        payload: dict[str, Any] = {"config": config}
        if self.interrupted:
            payload["interrupted"] = True
        if self.optimum is not None and self.table_optimum is not None:
            payload["optimum"] = {"arch": self.optimum[0], "value": self.optimum[1]}
            payload["table_optimum"] = {
                "arch": self.table_optimum[0],
                "value": self.table_optimum[1],
            }
        if self.reporter is not None:
            payload["report_metric"] = self.report_metric_json()
        reported: list[ReportedRun | None] = [*self.all_reported()] or [None] * len(self.all_runs())
        payload["runs"] = [self._run_json(r, b) for r, b in zip(self.all_runs(), reported)]
        payload["summary"] = self.summary
        if self.trained is not None:
            payload["trained"] = self.trained
        return payload

    def _run_json(self, run: SearchResult, reported: ReportedRun | None) -> dict[str, Any]:
        entry = run.to_dict()
        if self.optimum is not None and self.table_optimum is not None:
            entry["optimum"] = self.optimum[1]
            entry["queries_to_optimum"] = run.queries_to(self.optimum[1])
            entry["table_optimum"] = self.table_optimum[1]
            entry["queries_to_table_optimum"] = run.queries_to(self.table_optimum[1])
        if reported is not None:
            entry["report"] = {"metric": self.report_metric, **reported_json(reported, run.budget)}
        if run.info:
            entry["info"] = run.info
        return entry

    def report_metric_json(self) -> dict[str, Any]:
        """B, its direction, the pool's best by B, B of the pool's best by the optimised
        metric (what a search that found the optimum reports), and notes (missing values;
        B also a proxy the searchers rank by)."""
        reporter = self.reporter
        assert reporter is not None
        out: dict[str, Any] = {
            "metric": reporter.metric,
            "benchmark": reporter.benchmark.name,
            "higher_is_better": reporter.higher_is_better,
        }
        best = reporter.optimum(list(self.pool.archs))
        if best is not None:
            out["optimum"] = {"arch": best[0], "value": best[1]}
        if self.optimum is not None:
            value, missing = reporter.lookup(self.optimum[0])
            out["of_optimum"] = {"arch": self.optimum[0], "value": _finite_or_none(value)}
            if missing is not None:
                out["of_optimum"]["missing"] = missing
        out["notes"] = self.report_notes()
        return out

    def report_notes(self) -> list[str]:
        """What a reader of B should know: runs whose pick has no B, and B being one of the
        proxy scores the searchers rank candidates by."""
        reporter = self.reporter
        if reporter is None:
            return []
        notes = []
        missing = [(r, b) for r, b in zip(self.all_runs(), self.all_reported()) if b.missing]
        if missing:
            run, b = missing[0]
            notes.append(
                f"{len(missing)} of {len(self.all_runs())} runs picked an architecture without "
                f"a {reporter.metric} value (left out of the means), e.g. {run.method} seed "
                f"{run.seed}: {b.missing}"
            )
        covered = reporter.covers(self.pool.archs)
        if covered < len(self.pool):
            notes.append(
                f"{len(self.pool) - covered} of {len(self.pool)} candidates have no "
                f"{reporter.metric} value in {reporter.benchmark.name!r}"
            )
        if self.pool.scores is not None and reporter.metric in self.pool.proxies:
            notes.append(
                f"{reporter.metric} is also one of the proxy scores the searchers rank "
                "candidates by (leave it out of --proxies to keep it out of the search)"
            )
        return notes

    # ---- what the CLI's tables show ------------------------------------------------------
    def tables(self) -> list[tuple[str, list[str], list[list[Any]]]]:
        """``(title, header, rows)`` of the tables ``nasrank search`` prints: the best
        architecture of each run (when there are at most 5 runs) and the summary per
        method (with the pool's optimum, when there is a benchmark)."""
        metric, bench = self.metric, self.benchmark_name or "objective"
        b = self.report_metric
        out = []
        if len(self.all_runs()) <= 5:
            header = ["method", "seed", "architecture", metric, *([b] if b else [])]
            header += ["queries", "queries to optimum"]
            out.append((f"{bench} {metric}: best architecture found", header, self.best_rows()))
        title = (
            f"{bench} {metric}: pool of {self.config['pool_size']}, budget {self.config['budget']}"
        )
        if self.optimum is not None and self.table_optimum is not None:
            title += f"; optimum {self.optimum[1]:g}"
            if self.optimum_outside_pool:
                title += f" (pool), table optimum {self.table_optimum[1]:g}"
        header = ["method", "runs", "mean best", "std", "mean best @20", "median q. to optimum"]
        header += ["found", *([f"mean {b}", f"std {b}", f"mean {b} @20"] if b else [])]
        out.append((title, header, self.summary_rows()))
        return out

    def best_rows(self) -> list[list[Any]]:
        """Per run: method, seed, best architecture and value (and its B, with a report
        metric), queries, queries to optimum."""
        target = self.optimum[1] if self.optimum is not None else None
        reported = self.all_reported()
        rows = []
        for i, r in enumerate(self.all_runs()):
            best = r.best
            reached = r.queries_to(target) if target is not None else None
            b = [reported[i].value] if reported else []
            rows.append(
                [
                    r.method,
                    r.seed,
                    best.arch if best else None,
                    best.value if best else None,
                    *b,
                    r.queries,
                    reached,
                ]
            )
        return rows

    def summary_rows(self) -> list[list[Any]]:
        """Per method: runs, mean and std best, mean best @20, median queries, found (and
        mean, std and mean @20 of B, with a report metric)."""
        rows = []
        for m, s in self.summary.items():
            b = s.get("report")
            rows.append(
                [
                    m,
                    s["runs"],
                    s["mean_best"],
                    s["std_best"],
                    s.get("mean_best_at", {}).get(20),
                    s.get("median_queries_to_optimum"),
                    f"{s.get('found', '-')}/{s['runs']}",
                    *([b["mean"], b["std"], b["mean_at"].get(20)] if b else []),
                ]
            )
        return rows

    @property
    def optimum_outside_pool(self) -> bool:
        """Whether the benchmark's optimum is better than the pool's."""
        if self.optimum is None or self.table_optimum is None:
            return False
        return not math.isclose(self.optimum[1], self.table_optimum[1])


def _finite_or_none(v: float) -> float | None:
    return v if math.isfinite(v) else None
