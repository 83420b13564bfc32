"""The outcome of a :class:`~nasrank.search.plan.SearchPlan`: every run, the optimum it is
measured against, the summary per method and the trained top picks.

``SearchReport.to_json()`` is exactly what ``nasrank search --json`` writes; the CLI's
tables are drawn from :meth:`SearchReport.best_rows` and :meth:`SearchReport.summary_rows`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from nasrank.search.base import Searcher, SearchResult, summarise
from nasrank.search.objectives import BenchmarkObjective

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
    ) -> SearchReport:
        """The report of ``runs``, measured against ``benchmark``'s optima (if any)."""
        optimum = table_optimum = None
        if benchmark is not None:
            reference = BenchmarkObjective(benchmark, metric)
            table_optimum = reference.optimum()
            optimum = reference.optimum(list(pool.archs))
        name = benchmark.name if benchmark is not None else None
        return cls(
            config, runs, metric, name, optimum, table_optimum, maximize, pool, info, searchers
        )

    @property
    def summary(self) -> dict[str, dict[str, Any]]:
        """Method -> :func:`~nasrank.search.base.summarise` of its runs."""
        target = self.optimum[1] if self.optimum is not None else None
        return {m: summarise(runs, target) for m, runs in self.runs.items()}

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
        payload: dict[str, Any] = {"config": self.config}
        if self.interrupted:
            payload["interrupted"] = True
        if self.optimum is not None and self.table_optimum is not None:
            payload["optimum"] = {"arch": self.optimum[0], "value": self.optimum[1]}
            payload["table_optimum"] = {
                "arch": self.table_optimum[0],
                "value": self.table_optimum[1],
            }
        payload["runs"] = [self._run_json(r) for r in self.all_runs()]
        payload["summary"] = self.summary
        if self.trained is not None:
            payload["trained"] = self.trained
        return payload

    def _run_json(self, run: SearchResult) -> dict[str, Any]:
        entry = run.to_dict()
        if self.optimum is not None and self.table_optimum is not None:
            entry["optimum"] = self.optimum[1]
            entry["queries_to_optimum"] = run.queries_to(self.optimum[1])
            entry["table_optimum"] = self.table_optimum[1]
            entry["queries_to_table_optimum"] = run.queries_to(self.table_optimum[1])
        if run.info:
            entry["info"] = run.info
        return entry

    # ---- what the CLI's tables show ------------------------------------------------------
    def tables(self) -> list[tuple[str, list[str], list[list[Any]]]]:
        """``(title, header, rows)`` of the tables ``nasrank search`` prints: the best
        architecture of each run (when there are at most 5 runs) and the summary per
        method (with the pool's optimum, when there is a benchmark)."""
        metric, bench = self.metric, self.benchmark_name or "objective"
        out = []
        if len(self.all_runs()) <= 5:
            header = ["method", "seed", "architecture", metric, "queries", "queries to optimum"]
            out.append((f"{bench} {metric}: best architecture found", header, self.best_rows()))
        title = (
            f"{bench} {metric}: pool of {self.config['pool_size']}, budget {self.config['budget']}"
        )
        if self.optimum is not None and self.table_optimum is not None:
            title += f"; optimum {self.optimum[1]:g}"
            if self.optimum_outside_pool:
                title += f" (pool), table optimum {self.table_optimum[1]:g}"
        header = ["method", "runs", "mean best", "std", "mean best @20", "median q. to optimum"]
        out.append((title, [*header, "found"], self.summary_rows()))
        return out

    def best_rows(self) -> list[list[Any]]:
        """Per run: method, seed, best architecture and value, queries, queries to optimum."""
        target = self.optimum[1] if self.optimum is not None else None
        rows = []
        for r in self.all_runs():
            best = r.best
            reached = r.queries_to(target) if target is not None else None
            rows.append(
                [
                    r.method,
                    r.seed,
                    best.arch if best else None,
                    best.value if best else None,
                    r.queries,
                    reached,
                ]
            )
        return rows

    def summary_rows(self) -> list[list[Any]]:
        """Per method: runs, mean and std best, mean best @20, median queries, found."""
        rows = []
        for m, s in self.summary.items():
            rows.append(
                [
                    m,
                    s["runs"],
                    s["mean_best"],
                    s["std_best"],
                    s.get("mean_best_at", {}).get(20),
                    s.get("median_queries_to_optimum"),
                    f"{s.get('found', '-')}/{s['runs']}",
                ]
            )
        return rows

    @property
    def optimum_outside_pool(self) -> bool:
        """Whether the benchmark's optimum is better than the pool's."""
        if self.optimum is None or self.table_optimum is None:
            return False
        return not math.isclose(self.optimum[1], self.table_optimum[1])
