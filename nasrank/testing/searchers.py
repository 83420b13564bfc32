"""The searcher contract, checked on the toy NAS-Bench-201 problem of :mod:`nasrank.testing.toy`.

A searcher passes when, for a seed, its run is reproducible; it never queries an
architecture twice, stays inside its pool and spends at most its budget; an external
``ask``/``tell`` loop proposes what :meth:`~nasrank.search.Searcher.run` evaluates;
:meth:`~nasrank.search.Searcher.restore` replays a logged run (and refuses a log it would
not have produced); a finite pool ends the run cleanly; it honours minimisation and
refuses an objective of the other direction; and it runs with a scored pool, an unscored
pool and no pool at all -- or, when it ranks by proxy scores (``needs_scores``), refuses
the last two with a clear ``ValueError``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nasrank.benchmarks import Benchmark
from nasrank.search.base import SEARCHERS, ResumeMismatch, Searcher, SearchExhausted
from nasrank.search.objectives import BenchmarkObjective
from nasrank.search.pool import CandidatePool, benchmark_scores, make_pool
from nasrank.search.results import Evaluation
from nasrank.testing.toy import SPACE, RidgeEnsemble, ToyObjective, toy_benchmark

__all__ = [
    "FAST_OPTIONS",
    "SEARCHER_CHECKS",
    "SearcherCase",
    "check_searcher",
    "searcher_case",
    "check_reproducible",
    "check_distinct_queries_within_budget",
    "check_ask_tell_matches_run",
    "check_restore",
    "check_exhausts_a_finite_pool",
    "check_direction",
    "check_pool_modes",
]

#: Constructor options of the registered searchers in the checks: short initial phases,
#: so that a budget of :data:`BUDGET` reaches each method's main phase, and a fast
#: stand-in predictor for ``bo``.
FAST_OPTIONS: dict[str, dict[str, Any]] = {
    "re": {"population_size": 4, "sample_size": 2},
    "ls": {"n_init": 3},
    "robot": {"bo_queries": 3, "patience": 3},
    "bo": {"n_init": 3, "predictor": RidgeEnsemble},
}

#: Queries per run in the checks.
BUDGET = 8

_DEFAULT: Any = object()  # "the case's scored pool"


@functools.lru_cache(maxsize=1)
def _toy() -> tuple[Benchmark, CandidatePool, CandidatePool]:
    """The toy benchmark, a scored 60-candidate pool of it, and the same pool unscored."""
    bench = toy_benchmark()
    unscored = make_pool(SPACE, 60, benchmark=bench, seed=0)
    return bench, benchmark_scores(unscored, bench), unscored


class _CountingObjective:
    """A benchmark lookup recording every call (``sign=-1``: a loss to minimise)."""

    def __init__(self, bench: Benchmark, sign: float = 1.0) -> None:
        self.inner = BenchmarkObjective(bench)
        self.maximize = sign > 0
        self.sign = sign
        self.calls: list[str] = []

    def __call__(self, arch: str) -> Evaluation:
        self.calls.append(arch)
        e = self.inner(arch)
        return Evaluation(e.arch, self.sign * e.value, e.cost)


@dataclass(frozen=True)
class SearcherCase:
    """A searcher class with the options it is built with in the checks.

    Attributes:
        cls: The searcher class.
        options: Keyword arguments of every construction (besides space, pool, seed,
            maximize).
    """

    cls: type[Searcher]
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"searcher {getattr(self.cls, 'name', self.cls.__name__)!r}"

    @property
    def bench(self) -> Benchmark:
        return _toy()[0]

    @property
    def pool(self) -> CandidatePool:
        """The scored 60-candidate toy pool."""
        return _toy()[1]

    def build(self, seed: int = 0, pool: Any = _DEFAULT, maximize: bool = True) -> Searcher:
        """A fresh searcher over the toy space (``pool`` default: the scored pool)."""
        pool = self.pool if pool is _DEFAULT else pool
        return self.cls(SPACE, pool=pool, seed=seed, maximize=maximize, **self.options)

    def archs(self, seed: int, budget: int = BUDGET) -> list[str]:
        """The architectures of a run of ``budget`` queries on the scored pool."""
        result = self.build(seed).run(BenchmarkObjective(self.bench), budget)
        return [e.arch for e in result.evaluations]


def _check_run_queries(case: SearcherCase, searcher: Searcher, objective: Any) -> None:
    """One run of :data:`BUDGET`: distinct canonical queries, inside the pool, counted."""
    result = searcher.run(objective, BUDGET)
    calls = objective.calls
    archs = [e.arch for e in result.evaluations]
    assert result.queries == len(calls) <= BUDGET, (
        f"{case.label}: {len(calls)} objective calls, {result.queries} evaluations, budget {BUDGET}"
    )
    assert archs == calls, f"{case.label}: the result's evaluations are not the calls made"
    assert len(set(calls)) == len(calls), f"{case.label} queried an architecture twice"
    assert all(SPACE.canonical(a) == a for a in calls), f"{case.label}: a non-canonical query"
    if searcher.pool is not None:
        outside = [a for a in calls if a not in searcher.pool]
        assert not outside, f"{case.label} queried {outside[0]!r} outside its pool"


def check_reproducible(case: SearcherCase) -> None:
    """Two runs with one seed evaluate the same architectures in the same order."""
    first, second = case.archs(3), case.archs(3)
    if first != second:
        i = next((i for i, (a, b) in enumerate(zip(first, second)) if a != b), len(first))
        a, b = (run[i] if i < len(run) else None for run in (first, second))
        raise AssertionError(
            f"{case.label} is not reproducible: with seed 3, query {i + 1} was {a!r} in one "
            f"run and {b!r} in another"
        )


def check_distinct_queries_within_budget(case: SearcherCase) -> None:
    """No architecture is queried twice; at most the budget; only pool members."""
    _check_run_queries(case, case.build(0), _CountingObjective(case.bench))


def check_ask_tell_matches_run(case: SearcherCase) -> None:
    """``ask`` is idempotent until ``tell``; an external loop matches ``run``; telling an
    architecture twice raises ``ValueError``."""
    searcher = case.build(5)
    for _ in range(BUDGET):
        arch = searcher.ask()
        assert searcher.ask() == arch, f"{case.label}: ask() changed before tell()"
        searcher.tell(arch, case.bench.query(arch))
    told = [e.arch for e in searcher.history]
    ran = case.archs(5)
    assert told == ran, f"{case.label}: ask/tell proposed {told}, run evaluated {ran}"
    try:
        searcher.tell(told[0], 1.0)
    except ValueError as err:
        assert "already told" in str(err), f"{case.label}: unclear message {err}"
    else:
        raise AssertionError(f"{case.label} accepted an architecture told twice")


def check_restore(case: SearcherCase) -> None:
    """A searcher restored from the first half of a run finishes it identically; a log
    in another order raises :class:`ResumeMismatch`."""
    full = case.build(7).run(BenchmarkObjective(case.bench), BUDGET).evaluations
    half = len(full) // 2
    searcher = case.build(7)
    assert searcher.restore(full[:half]) == half, f"{case.label}: restore miscounted"
    resumed = searcher.run(BenchmarkObjective(case.bench), BUDGET).evaluations
    assert resumed == full, f"{case.label}: the restored run ended otherwise than the full run"
    try:
        case.build(7).restore(tuple(reversed(full)))
    except ResumeMismatch:
        return
    raise AssertionError(f"{case.label} restored a log it would not have produced")


def check_exhausts_a_finite_pool(case: SearcherCase) -> None:
    """On a 5-candidate pool a budget of 10 stops after 5 queries; then ``ask`` raises
    :class:`SearchExhausted`."""
    small = benchmark_scores(make_pool(SPACE, 5, benchmark=case.bench, seed=1), case.bench)
    result = case.build(0, small).run(BenchmarkObjective(case.bench), 10)
    assert result.queries == 5, f"{case.label}: {result.queries} queries on a pool of 5"
    searcher = case.build(0, small)
    for _ in range(5):
        searcher.tell(searcher.ask(), 0.0)
    try:
        searcher.ask()
    except SearchExhausted:
        return
    raise AssertionError(f"{case.label}: ask() on a used-up pool did not raise SearchExhausted")


def check_direction(case: SearcherCase) -> None:
    """With ``maximize=False`` the best evaluation is the smallest value; an objective
    of the other direction is refused with ``ValueError``."""
    loss = _CountingObjective(case.bench, sign=-1.0)
    result = case.build(0, maximize=False).run(loss, BUDGET)
    assert result.best is not None
    assert result.best.value == min(e.value for e in result.evaluations), (
        f"{case.label}: with maximize=False the best is not the smallest value"
    )
    try:
        case.build(0, maximize=False).run(BenchmarkObjective(case.bench), 3)
    except ValueError as err:
        assert "maximize" in str(err), f"{case.label}: unclear message {err}"
        return
    raise AssertionError(f"{case.label} ran a maximising objective with maximize=False")


def check_pool_modes(case: SearcherCase) -> None:
    """Runs on an unscored pool and on the open space, or (``needs_scores``) refuses
    both with a ``ValueError`` naming proxy scores."""
    unscored = _toy()[2]
    if case.cls.needs_scores:
        for pool in (unscored, None):
            try:
                case.build(0, pool)
            except ValueError as err:
                assert "proxy scores" in str(err), f"{case.label}: unclear message {err}"
            else:
                raise AssertionError(f"{case.label} needs scores but accepted pool={pool!r}")
        return
    _check_run_queries(case, case.build(0, unscored), _CountingObjective(case.bench))
    _check_run_queries(case, case.build(0, None), ToyObjective())


#: Every check of the contract, in the order :func:`check_searcher` runs them.
SEARCHER_CHECKS: tuple[Callable[[SearcherCase], None], ...] = (
    check_reproducible,
    check_distinct_queries_within_budget,
    check_ask_tell_matches_run,
    check_restore,
    check_exhausts_a_finite_pool,
    check_direction,
    check_pool_modes,
)


def searcher_case(
    searcher: str | type[Searcher], options: dict[str, Any] | None = None
) -> SearcherCase:
    """The case of a registered name or a class (``options`` default: :data:`FAST_OPTIONS`)."""
    cls = SEARCHERS.resolve(searcher)
    if options is None:
        options = FAST_OPTIONS.get(getattr(cls, "name", ""), {})
    return SearcherCase(cls, dict(options))


def check_searcher(searcher: str | type[Searcher], options: dict[str, Any] | None = None) -> None:
    """Run the whole searcher contract on the toy NAS-Bench-201 problem.

    Args:
        searcher: A registered name or a :class:`~nasrank.search.Searcher` subclass.
        options: Constructor keywords besides ``space``, ``pool``, ``seed`` and
            ``maximize`` (default :data:`FAST_OPTIONS` for registered names, else none).

    Raises:
        AssertionError: On the first violated rule, naming the searcher.
    """
    case = searcher_case(searcher, options)
    for check in SEARCHER_CHECKS:
        check(case)
