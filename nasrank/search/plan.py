"""The search workflow as one library object: what ``nasrank search`` runs.

A :class:`SearchPlan` names the space, the candidates, where their proxy scores come
from, the searchers, budget and seeds, the objective, the run storage and the training
of the top picks; :meth:`SearchPlan.run` carries it out and returns a
:class:`~nasrank.search.report.SearchReport` whose ``to_json()`` is exactly the CLI's
``--json``::

    from nasrank.search import SearchPlan, TopTraining

    plan = SearchPlan(space="nb201", benchmark="nb201-analog", methods=("robot", "bo"),
                      budget=50, seeds=tuple(range(5)))
    report = plan.run()
    report.summary["robot"]["mean_best"], report.to_json()

The path of one run: :func:`~nasrank.search.sources.resolve_source` picks the score
source, the source builds the scored :class:`~nasrank.search.pool.CandidatePool`, each
(method, seed) searcher queries the objective (a fresh
:class:`~nasrank.search.objectives.BenchmarkObjective` per run, or the plan's own
objective), and :func:`~nasrank.search.top_training.train_top` trains the best picks.

Optimise one metric, report another (the protocol of RoBoT and the NAS-Bench-201 papers):
``SearchPlan(metric="A", report_metric="B")`` queries A only and reports, for every run,
B of the architecture it picked by A, read from the benchmark (see
:mod:`nasrank.search.reported`)::

    plan = SearchPlan(benchmark="nb201-analog", metric="baseline_accuracy",
                      report_metric="analog_drift_2592000", methods=("robot", "re"))
    plan.run().summary["robot"]["report"]["mean_at"][20]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from nasrank.benchmarks import load_benchmark
from nasrank.data import load_batch, load_dataset, parse_spec, resolve_data
from nasrank.encodings import EncodingCache
from nasrank.errors import DataError, NasrankError
from nasrank.predictors.featurize import Featurizer, parse_feature_spec
from nasrank.search._progress import ProgressFactory, silent_progress
from nasrank.search.base import SEARCHERS, Objective, Searcher, SearchResult, get_searcher
from nasrank.search.objectives import BenchmarkObjective
from nasrank.search.pool import CandidatePool, make_pool
from nasrank.search.report import SearchReport
from nasrank.search.reported import ReportMetric
from nasrank.search.sources import (
    PlanError,
    ScoreRequest,
    SourceInfo,
    feature_table,
    resolve_source,
)
from nasrank.search.storage import RunStorage, open_storage, run_key
from nasrank.search.top_training import TrainJob, train_top
from nasrank.spaces import get_space
from nasrank.store import InlineExecutor, StoreLike, opened_store
from nasrank.training import TrainConfig

if TYPE_CHECKING:
    from nasrank.benchmarks import Benchmark
    from nasrank.spaces import SearchSpace

__all__ = [
    "DEFAULT_ENGINE_POOL",
    "SearchInterrupted",
    "SearchPlan",
    "TopTraining",
    "TrainingWorkerFailed",
]

#: Size of the sampled pool when proxies must be computed by the engine.
DEFAULT_ENGINE_POOL = 64


class TrainingWorkerFailed(NasrankError):
    """A training worker died (killed, out of memory, data missing on a node); the
    trainings that finished are in the report."""

    def __init__(self, message: str, finished: int, total: int) -> None:
        super().__init__(message)
        self.finished = finished
        self.total = total


class SearchInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM, in the CLI) stopped the searches.

    Attributes:
        report: The report of the runs that finished (``interrupted=True``), or
            ``None`` when none did. With run storage, every evaluation of the stopped run
            is stored too, and running the plan again resumes it.
        finished: Runs that finished.
        planned: Runs of the plan.
    """

    def __init__(self, report: SearchReport | None, finished: int, planned: int) -> None:
        super().__init__(f"interrupted after {finished} of {planned} runs")
        self.report, self.finished, self.planned = report, finished, planned


@dataclass(frozen=True)
class TopTraining:
    """Train the ``k`` best architectures a search found, for real.

    Attributes:
        k: How many (best by objective value over every run).
        data: Data spec (default: the plan's ``data``, else the space's ``default_data``).
        epochs: Epochs of each training.
        train_size: Class-balanced training samples (default all).
        checkpoint_dir: Checkpoint each training every epoch; the same plan resumes.
        executor: From :func:`nasrank.store.make_executor` (default: in this process).
    """

    k: int
    data: str | None = None
    epochs: int = 1
    train_size: int | None = None
    checkpoint_dir: str | None = None
    executor: Any = None

    def __post_init__(self) -> None:
        if self.k < 0:
            raise PlanError("train-top", f"must be >= 0, got {self.k}")
        if self.epochs < 1:
            raise PlanError("epochs", f"must be >= 1, got {self.epochs}")
        if self.train_size is not None and self.train_size < 1:
            raise PlanError("train-size", f"must be >= 1, got {self.train_size}")


@dataclass(frozen=True)
class SearchPlan:
    """Everything one search needs; :meth:`run` carries it out.

    Attributes:
        space: Search space name or object (``None`` with ``candidates`` of opaque ids).
        benchmark: Ground truth (spec or object); each run queries a fresh
            :class:`BenchmarkObjective` of it. ``None`` when ``objective`` is given.
        task: Task of a multi-task benchmark.
        metric: Benchmark column to optimise (default: the benchmark's).
        report_metric: A second benchmark column B to report: each run's pick (its best
            by ``metric``) is reported with its B, read from ``benchmark``, and the summary
            gives B's mean and std at the budget and at 10/20/50 queries. B never enters
            the search (the runs are those without it). B must be a column of the
            benchmark other than ``metric``; with ``objective`` (e.g. real training) B is
            read from ``benchmark``, which must then be given.
        objective: An objective to use instead of a benchmark (e.g. real training).
        methods: Searcher names or classes (see ``SEARCHERS``), compared run by run.
        budget: Distinct queries per run.
        seeds: One run per method and seed.
        proxies: Proxy names; ``None`` for the source's default, ``()`` for none.
        pool: ``"auto"``, ``"all"``, ``"benchmark"`` or a number of samples.
        candidates: A ready (scored) pool; replaces ``pool`` and the score sources.
        pool_seed: Seed of a sampled pool and of the engine's batch.
        proxy_source: ``"auto"``, ``"benchmark"``, ``"table"`` or ``"engine"``.
        table: A proxy table's name or path (default: the one shipped for the space).
        data: Data spec of engine proxies and of ``train_top`` (``None``: the space's
            ``default_data``; see :func:`nasrank.data.resolve_data`). One the space's
            models cannot take fails before any work.
        batch_size: Samples per proxy batch.
        num_classes: Classifier outputs (default: the data's).
        store: Score store of the engine (a path, ``True`` for the default, ``False``).
        storage: Run storage URL or a :class:`RunStorage` (one run only): a killed
            search, run again with the same plan, continues where it stopped.
        searcher_options: Method name -> extra keyword arguments of its searcher.
        features: Predictor features of the model-based searchers (``bo``): a feature
            spec such as ``"onnx,zc"`` (see :mod:`nasrank.predictors.featurize`; the
            universal ONNX encoding works in every space) or a
            :class:`~nasrank.predictors.Featurizer`. Default: the searcher's own (the
            space's path or one-hot encoding, plus the pool's proxy scores).
        train_top: Train the best picks at the end.
        device: Where the engine computes proxy scores (``"cpu"``, ``"cuda"``,
            ``"cuda:N"``; ``None``: the CPU). Not part of the score store's key nor of the
            run storage's: a GPU's scores equal the CPU's up to float rounding.
    """

    space: str | SearchSpace | None = "nb201"
    benchmark: str | Benchmark | None = "nb201-analog"
    task: str | None = None
    metric: str | None = None
    report_metric: str | None = None
    objective: Objective | None = None
    methods: tuple[str | type[Searcher], ...] = ("robot",)
    budget: int = 20
    seeds: tuple[int, ...] = (0,)
    proxies: tuple[str, ...] | None = None
    pool: str | int = "auto"
    candidates: CandidatePool | None = field(default=None, repr=False)
    pool_seed: int = 0
    proxy_source: str = "auto"
    table: str | None = None
    data: str | None = None
    batch_size: int = 32
    num_classes: int | None = None
    store: StoreLike = True
    storage: str | RunStorage | None = None
    searcher_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    features: str | Featurizer | None = None
    train_top: TopTraining | None = None
    device: str | None = None

    def __post_init__(self) -> None:
        _check_plan(self)

    def run(
        self,
        *,
        progress: ProgressFactory = silent_progress,
        on_notice: Callable[[str], None] | None = None,
        on_update: Callable[[SearchReport], None] | None = None,
    ) -> SearchReport:
        """Resolve the scores, run every (method, seed) and train the top picks.

        Args:
            progress: Progress factory for scoring, searching and training.
            on_notice: Called with the line saying which proxy table was used, as soon
                as the candidates are known (nothing when no table is used).
            on_update: Called with the report once the searches end and again after
                each training (to save partial results).

        Raises:
            PlanError: A setting that cannot work (before any expensive work).
            TrainingWorkerFailed: A training worker died; finished ones are reported.
        """
        setup = _Setup.of(self)
        _check_data(self, setup.space)
        pool, info = _candidates(self, setup, progress)
        _check_report_coverage(setup.reporter, pool)
        if info.notice and on_notice is not None:
            on_notice(info.notice)
        report = _search(self, setup, pool, info, progress)
        if on_update is not None:
            on_update(report)
        if self.train_top is not None and self.train_top.k:
            _train_picks(self, setup, report, progress, on_update)
        return report


def _check_plan(plan: SearchPlan) -> None:
    """Settings that are wrong whatever the data: fail before any work."""
    if not plan.methods:
        raise PlanError("method", "is empty; choices: " + ", ".join(SEARCHERS.names()))
    names = [m if isinstance(m, str) else m.name for m in plan.methods]
    if len(set(names)) != len(names):
        raise PlanError("method", f"{','.join(names)!r} names a method twice")
    if not isinstance(plan.budget, (int, np.integer)) or plan.budget < 1:
        raise PlanError("budget", f"must be a positive integer, got {plan.budget}")
    if not plan.seeds:
        raise PlanError("seeds", "is empty")
    if len(set(plan.seeds)) != len(plan.seeds):
        raise PlanError("seeds", f"{plan.seeds!r} names a seed twice")
    if plan.batch_size < 1:
        raise PlanError("batch-size", f"must be >= 1, got {plan.batch_size}")
    if plan.benchmark is None and plan.objective is None:
        raise PlanError("benchmark", "a plan needs a benchmark or an objective")
    if plan.candidates is None and plan.space is None:
        raise PlanError("space", "a plan without candidates needs a search space")
    if plan.report_metric is not None:
        if not isinstance(plan.report_metric, str) or not plan.report_metric.strip():
            raise PlanError("report-metric", f"must name a column, got {plan.report_metric!r}")
        if plan.benchmark is None:
            raise PlanError(
                "report-metric",
                "needs a benchmark to read it from; this plan has only an objective",
            )


def _check_report_coverage(reporter: ReportMetric | None, pool: CandidatePool) -> None:
    """A report metric its benchmark has for none of the candidates reports nothing:
    refused before the searches (partial coverage is a note in the report)."""
    if reporter is not None and len(pool) and not reporter.covers(pool.archs):
        example = reporter.lookup(pool.archs[0])[1]
        raise PlanError(
            "report-metric",
            f"{reporter.benchmark.name!r} has no {reporter.metric!r} value for any of the "
            f"{len(pool)} candidates (e.g. {example})",
        )


def _check_data(plan: SearchPlan, space: SearchSpace | None) -> None:
    """The plan's data specs must fit the space's models: fail in one line before any
    work (the engine and the trainings resolve them again where they load them)."""
    if space is None:
        return
    try:
        resolve_data(space, plan.data)
        if plan.train_top is not None and plan.train_top.k:
            train = resolve_data(space, plan.train_top.data or plan.data)
            if parse_spec(train).kind == "graph":
                raise DataError(
                    f"training on a graph ({train!r}) is not supported; --train-top needs "
                    "a space whose models take images or token ids"
                )
    except DataError as exc:
        raise PlanError("data", str(exc)) from None


@dataclass(frozen=True)
class _Setup:
    """The plan's objects, built once: space, benchmark, searcher classes, metric, and
    the report metric's reader."""

    space: SearchSpace | None
    benchmark: Benchmark | None
    classes: tuple[type[Searcher], ...]
    metric: str
    maximize: bool
    reporter: ReportMetric | None = None

    @staticmethod
    def of(plan: SearchPlan) -> _Setup:
        classes = tuple(get_searcher(m) for m in plan.methods)
        space = get_space(plan.space, task=plan.task) if isinstance(plan.space, str) else plan.space
        if plan.objective is not None:
            metric = getattr(plan.objective, "metric", "value")
            reporter = None
            if plan.report_metric is not None:  # B of the objective's picks, from the table
                reporter = ReportMetric(_load(plan, space), plan.report_metric)
            maximize = bool(plan.objective.maximize)
            return _Setup(space, None, classes, metric, maximize, reporter)
        bench = _load(plan, space)
        objective = BenchmarkObjective(bench, plan.metric)
        reporter = None
        if plan.report_metric is not None:
            reporter = ReportMetric(bench, plan.report_metric, optimised=objective.metric)
        return _Setup(space, bench, classes, objective.metric, objective.maximize, reporter)

    def objective(self, plan: SearchPlan) -> Objective:
        """A fresh objective for one run (a benchmark lookup counts its own queries;
        it reads the optimised metric only, never the report metric)."""
        if plan.objective is not None:
            return plan.objective
        assert self.benchmark is not None
        return BenchmarkObjective(self.benchmark, self.metric)


def _load(plan: SearchPlan, space: SearchSpace | None) -> Benchmark:
    bench = plan.benchmark
    assert bench is not None
    if isinstance(bench, str):
        bench = load_benchmark(bench, task=plan.task, space=space.name if space else None)
    return bench


def _candidates(
    plan: SearchPlan, setup: _Setup, progress: ProgressFactory
) -> tuple[CandidatePool, SourceInfo]:
    """The scored pool the searchers choose from, and where it came from."""
    if plan.candidates is not None:
        return plan.candidates, SourceInfo(pool="candidates")
    assert setup.space is not None and setup.benchmark is not None
    needs_scores = [m for m, c in zip(_names(plan), setup.classes) if c.needs_scores]
    if plan.proxies == () and needs_scores:
        raise PlanError(
            "proxies", f"none, but {', '.join(needs_scores)} ranks candidates by proxy scores"
        )
    request = ScoreRequest(
        setup.space, setup.benchmark, plan.proxies, "benchmark", plan.pool_seed, plan.data,
        plan.batch_size, plan.num_classes, plan.store, plan.table, plan.device,
    )  # fmt: skip
    resolution = resolve_source(request, plan.proxy_source)
    source = resolution.source
    pool_text = str(plan.pool).strip()
    # BO uses proxy features when scoring is affordable: stored scores or a sampled pool.
    use_scores = source is not None and (
        bool(needs_scores)
        or ("bo" in _names(plan) and (source.name != "engine" or pool_text.isdigit()))
    )
    kind = _pool_kind(pool_text, engine=use_scores and source.name == "engine")
    request = dataclasses.replace(request, pool=kind)
    if not use_scores:
        pool = make_pool(setup.space, kind, benchmark=setup.benchmark, seed=plan.pool_seed)
        return pool, SourceInfo(pool=str(kind))
    pool, info = source.pool(request, resolution.proxies, progress)
    return pool, SourceInfo(info.data, info.table, info.notice, source.name, str(kind))


def _pool_kind(text: str, *, engine: bool) -> str | int:
    if text == "auto":
        return DEFAULT_ENGINE_POOL if engine else "benchmark"
    if text in ("all", "benchmark"):
        return text
    try:
        value = int(text)
    except ValueError:
        raise PlanError("pool", f"must be a positive integer, got {text!r}") from None
    if value < 1:
        raise PlanError("pool", f"must be a positive integer, got {value}")
    return value


def _names(plan: SearchPlan) -> list[str]:
    return [m if isinstance(m, str) else m.name for m in plan.methods]


def _search(
    plan: SearchPlan,
    setup: _Setup,
    pool: CandidatePool,
    info: SourceInfo,
    progress: ProgressFactory,
) -> SearchReport:
    """Every (method, seed) run against a fresh objective, with storage if asked."""
    config = _config(plan, setup, pool, info)
    backend = open_storage(plan.storage) if isinstance(plan.storage, str) else None
    runs: dict[str, list[SearchResult]] = {m: [] for m in _names(plan)}
    searchers: dict[str, list[Searcher]] = {m: [] for m in _names(plan)}
    total = len(plan.methods) * len(plan.seeds) * plan.budget
    title = f"searching ({len(plan.methods)} x {len(plan.seeds)} runs)"
    try:
        with _featurizer(plan, setup) as featurizer, progress(title, total) as bar:
            for method, cls in zip(_names(plan), setup.classes):
                options = dict(plan.searcher_options.get(method, {}))
                if featurizer is not None and cls.uses_features:
                    options.setdefault("features", featurizer)
                for seed in plan.seeds:
                    searcher = cls(
                        setup.space, pool=pool, seed=seed, maximize=setup.maximize, **options
                    )
                    storage = _run_storage(plan, backend, method, seed, config, setup.maximize)
                    result = searcher.run(
                        setup.objective(plan),
                        plan.budget,
                        storage=storage,
                        callback=lambda e: bar.advance(),
                    )
                    bar.advance(plan.budget - (result.queries - result.restored))
                    runs[method].append(result)
                    searchers[method].append(searcher)
    except KeyboardInterrupt:
        finished = {m: r for m, r in runs.items() if r}
        report = None
        if finished:
            report = SearchReport.of(
                setup.benchmark,
                setup.metric,
                setup.maximize,
                pool,
                info,
                config,
                finished,
                {m: searchers[m] for m in finished},
                setup.reporter,
                plan.device,
            )
            report = dataclasses.replace(report, interrupted=True)
        planned = len(plan.methods) * len(plan.seeds)
        raise SearchInterrupted(report, sum(map(len, runs.values())), planned) from None
    return SearchReport.of(
        setup.benchmark, setup.metric, setup.maximize, pool, info, config, runs, searchers,
        setup.reporter, plan.device,
    )  # fmt: skip


@contextmanager
def _featurizer(plan: SearchPlan, setup: _Setup) -> Iterator[Featurizer | None]:
    """The plan's predictor features (one featurizer, fitted on the pool once, serves
    every run); the score store it opened is closed at the end."""
    if plan.features is None or isinstance(plan.features, Featurizer):
        yield plan.features
        return
    batch = None
    table = None
    parts = parse_feature_spec(plan.features)
    if "zc" in parts and setup.benchmark is not None and setup.space is not None:
        table = feature_table(setup.space, setup.benchmark, plan.table)[0]
    if "zc-engine" in parts:
        assert setup.space is not None
        batch = load_batch(
            resolve_data(setup.space, plan.data), batch_size=plan.batch_size, seed=plan.pool_seed
        )
    with opened_store(plan.store) as store:
        yield Featurizer(
            plan.features,
            space=setup.space,
            benchmark=setup.benchmark,
            table=table,
            target_metric=setup.metric,
            batch=batch,
            seed=plan.pool_seed,
            cache=None if plan.store is False else EncodingCache(),
            store=store,
            device=plan.device,
        )


def _config(
    plan: SearchPlan, setup: _Setup, pool: CandidatePool, info: SourceInfo
) -> dict[str, Any]:
    """The run configuration the JSON reports and the run storage keys on."""
    scored = pool.scores is not None
    return {
        "space": setup.space.name if setup.space is not None else None,
        "benchmark": plan.benchmark if isinstance(plan.benchmark, str) else _name(plan),
        "task": plan.task,
        "metric": setup.metric,
        "budget": plan.budget,
        "pool": info.pool,
        "pool_seed": plan.pool_seed,
        "pool_size": len(pool),
        "proxies": list(pool.proxies) if scored else [],
        "proxy_source": info.source if scored else None,
        "data": info.data,
        "table": info.table,
    } | ({"features": str(plan.features)} if plan.features is not None else {})


def _name(plan: SearchPlan) -> str | None:
    bench = plan.benchmark
    return getattr(bench, "name", None) if bench is not None else None


def _run_storage(
    plan: SearchPlan,
    backend: Any,
    method: str,
    seed: int,
    config: dict[str, Any],
    maximize: bool,
) -> RunStorage | None:
    if isinstance(plan.storage, str):
        run_config = {"method": method, "seed": seed, **config}
        return backend.run(run_key(**run_config), maximize=maximize, metadata=run_config)
    if plan.storage is not None and len(plan.methods) * len(plan.seeds) > 1:
        raise PlanError("storage", "a RunStorage object serves one run; give a URL for several")
    return plan.storage


def _train_picks(
    plan: SearchPlan,
    setup: _Setup,
    report: SearchReport,
    progress: ProgressFactory,
    on_update: Callable[[SearchReport], None] | None,
) -> None:
    """Train the plan's top-k picks; the report's ``trained`` grows as each one ends."""
    top = plan.train_top
    assert top is not None and setup.space is not None
    data = resolve_data(setup.space, top.data or plan.data)
    picks = report.best_archs(top.k)
    job = TrainJob(
        setup.space.name,
        data,
        TrainConfig(epochs=top.epochs),
        num_classes=plan.num_classes,
        train_size=top.train_size,
        checkpoint_dir=top.checkpoint_dir,
    )
    executor = top.executor if top.executor is not None else InlineExecutor()
    if executor.name != "inline" and getattr(executor, "address", None) is None:
        _check_training_data(data)
    best = report.best_values()
    done: dict[str, dict[str, Any]] = {}

    def record(r: dict[str, Any]) -> None:
        done[r["arch"]] = {"arch": r["arch"], "benchmark_value": best[r["arch"]], **r}
        report.trained = [done[a] for a in picks if a in done]
        if on_update is not None:
            on_update(report)
        bar.advance()

    where = f"{executor.name}, {executor.workers or 'auto'} worker(s)"
    with progress(f"training the top {len(picks)} ({where})", len(picks)) as bar:
        try:
            train_top(picks, job, executor, on_result=record)
        except Exception as exc:
            if type(exc).__module__.split(".")[0] not in ("ray", "concurrent"):
                raise
            lines = str(exc).strip().splitlines()
            raise TrainingWorkerFailed(
                f"a training worker failed ({type(exc).__name__}"
                + (f": {lines[-1]}" if lines else "")
                + f"); {len(done)} of {len(picks)} trainings finished",
                len(done),
                len(picks),
            ) from None
    report.trained = [done[a] for a in picks]


def _check_training_data(data: str) -> None:
    """Bad data fails here in one line, not inside a worker process."""
    load_dataset(data, split="train")
    load_dataset(data, split="test")
