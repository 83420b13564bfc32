"""Optimise one metric, report another: the value of a *report metric* B for the
architecture each run picks by the optimised metric A.

This is the protocol of the NAS-Bench-201 papers and RoBoT (He et al., "Robustifying and
Boosting Training-Free Neural Architecture Search", ICLR 2024): a search queries a cheap
metric (e.g. 12-epoch validation accuracy) and the paper reports another (200-epoch test
accuracy) of the architecture it found. B never enters the search: the searchers query A
only, the architecture a run picks is its best by A (:attr:`SearchResult.best`, the first
evaluation with the best A), and B is then read from the benchmark for that architecture
-- never "the best B among the queried", which would let B choose.

Where the benchmark has no B for the picked architecture (NaN in the table, or no row),
the value is NaN and :attr:`ReportedRun.missing` says why; summaries average the runs
that have a value and count those that do not.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from nasrank.errors import InvalidArchitecture, NotInBenchmark
from nasrank.search.sources import PlanError

if TYPE_CHECKING:
    from nasrank.benchmarks import Benchmark
    from nasrank.search.results import SearchResult

__all__ = ["ReportMetric", "ReportedRun"]

#: Query counts at which B is summarised (those <= the budget), as :func:`summarise` does.
REPORT_AT = (10, 20, 50, 100)


@dataclass(frozen=True)
class ReportedRun:
    """B of the architecture one run picks by A.

    Attributes:
        arch: The run's best architecture by A (``None`` when it evaluated nothing).
        value: Its B, read from the benchmark (NaN when the benchmark lacks it).
        trajectory: B of the best-by-A architecture after each query (the run's pick had
            it stopped there).
        missing: Why ``value`` is NaN (``None`` when it is not).

    Shapes:
        ``trajectory``: ``(queries,)``.
    """

    arch: str | None
    value: float
    trajectory: tuple[float, ...]
    missing: str | None = None

    def at(self, queries: int) -> float:
        """B of the pick after ``queries`` queries (the last pick for a run that ended
        earlier; NaN for a run that evaluated nothing)."""
        if not self.trajectory:
            return math.nan
        return self.trajectory[min(queries, len(self.trajectory)) - 1]


class ReportMetric:
    """Reads the report metric B of a benchmark for the architectures runs pick by A.

    Args:
        benchmark: Where B is read from.
        metric: B, a column of ``benchmark``.
        optimised: A, the column (or objective) the searches optimise; ``B == A`` is
            refused (the report shows A already).

    Raises:
        PlanError: B is not a column of ``benchmark`` (the error lists its metrics), or
            is the optimised column.

    Attributes:
        higher_is_better: B's direction, from the benchmark (used for B's optimum only:
            which architecture is picked depends on A alone).
    """

    def __init__(self, benchmark: Benchmark, metric: str, *, optimised: str | None = None) -> None:
        if metric not in benchmark.metrics:
            close = difflib.get_close_matches(metric, list(benchmark.metrics), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise PlanError(
                "report-metric",
                f"benchmark {benchmark.name!r} has no metric {metric!r}{hint}; "
                f"its metrics: {', '.join(benchmark.metrics)}",
            )
        if metric == optimised:
            raise PlanError(
                "report-metric",
                f"{metric!r} is the optimised --metric; a report metric is another column "
                "(without --report-metric the report shows the optimised one)",
            )
        self.benchmark = benchmark
        self.metric = metric
        self.higher_is_better = benchmark.higher_is_better(metric)
        self._cache: dict[str, tuple[float, str | None]] = {}

    def __repr__(self) -> str:
        return f"ReportMetric({self.benchmark.name!r}, {self.metric!r})"

    # ---- lookups -------------------------------------------------------------------------
    def lookup(self, arch: str) -> tuple[float, str | None]:
        """``(B of arch, reason it is missing or None)``."""
        if arch not in self._cache:
            self._cache[arch] = self._read(arch)
        return self._cache[arch]

    def _read(self, arch: str) -> tuple[float, str | None]:
        name = self.benchmark.name
        try:
            value = self.benchmark.query(arch, self.metric)
        except NotInBenchmark:
            return math.nan, f"benchmark {name!r} has no entry for {arch!r}"
        except InvalidArchitecture as exc:
            return math.nan, f"{arch!r} is not an architecture of benchmark {name!r}: {exc}"
        if math.isnan(value):
            return value, f"benchmark {name!r} has no {self.metric!r} value for {arch!r} (NaN)"
        return value, None

    def covers(self, archs: Iterable[str]) -> int:
        """How many of ``archs`` have a B value."""
        return sum(1 for a in archs if self.lookup(a)[1] is None)

    def optimum(self, archs: Sequence[str]) -> tuple[str, float] | None:
        """The best of ``archs`` by B (B's own direction; ``None`` when none has B)."""
        sign = 1.0 if self.higher_is_better else -1.0
        known = [(a, self.lookup(a)[0]) for a in archs if self.lookup(a)[1] is None]
        if not known:
            return None
        return max(known, key=lambda av: sign * av[1])

    # ---- runs ------------------------------------------------------------------------------
    def of_run(self, run: SearchResult) -> ReportedRun:
        """B of the run's pick (its best by A) after each query and at the end."""
        if not run.evaluations:
            return ReportedRun(None, math.nan, (), "the run evaluated nothing")
        values = np.array([e.value for e in run.evaluations], dtype=np.float64)
        oriented = values if run.maximize else -values
        oriented = np.where(np.isnan(oriented), -np.inf, oriented)
        trajectory, best = [], 0
        for i, v in enumerate(oriented):  # the first evaluation with the best A so far,
            if v > oriented[best]:  # as SearchResult.best picks it
                best = i
            trajectory.append(self.lookup(run.evaluations[best].arch)[0])
        arch = run.evaluations[best].arch
        assert run.best is not None and arch == run.best.arch
        value, missing = self.lookup(arch)
        return ReportedRun(arch, value, tuple(trajectory), missing)


def reported_json(reported: ReportedRun, budget: int) -> dict[str, Any]:
    """One run's ``report`` entry of the JSON."""
    out: dict[str, Any] = {
        "arch": reported.arch,
        "value": _finite_or_none(reported.value),
        "at": {q: _finite_or_none(reported.at(q)) for q in REPORT_AT if q <= budget},
        "trajectory": [_finite_or_none(v) for v in reported.trajectory],
    }
    if reported.missing is not None:
        out["missing"] = reported.missing
    return out


def summarise_reported(
    reported: Sequence[ReportedRun], budget: int, *, at: Iterable[int] = REPORT_AT
) -> dict[str, Any]:
    """Mean, std and median over runs of B at the budget, and mean/std at ``at`` queries
    (those <= ``budget``). Runs without B are left out of the means and counted in
    ``missing``; a statistic over no value is ``None``."""
    final = np.array([r.at(budget) for r in reported], dtype=np.float64)
    points = sorted(q for q in set(at) if q <= budget)
    columns = {q: np.array([r.at(q) for r in reported], dtype=np.float64) for q in points}
    return {
        "runs": len(reported),
        "missing": int(np.isnan(final).sum()),
        "mean": _stat(np.mean, final),
        "std": _stat(np.std, final),
        "median": _stat(np.median, final),
        "mean_at": {q: _stat(np.mean, c) for q, c in columns.items()},
        "std_at": {q: _stat(np.std, c) for q, c in columns.items()},
    }


def _stat(fn: Any, values: np.ndarray) -> float | None:
    finite = values[~np.isnan(values)]
    return float(fn(finite)) if finite.size else None


def _finite_or_none(v: float) -> float | None:
    return v if math.isfinite(v) else None
