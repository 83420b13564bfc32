"""Search: find the best architecture with few expensive evaluations, then train it.

Searchers (registered in :data:`SEARCHERS` under their CLI names):

============  ==========================================================================
``robot``     :class:`RoBoT`: BO (Optuna GP sampler) over proxy weights + exploitation
``bo``        :class:`PredictorBO`: BANANAS-style ensemble-predictor BO
``re``        :class:`RegularizedEvolution` (Real et al. 2019)
``ls``        :class:`LocalSearch` (White et al. 2021)
``random``    :class:`RandomSearch`
``zc-topk``   :class:`ZeroCostTopK`: query in proxy-ranking order
============  ==========================================================================

Usage::

    from nasrank.benchmarks import load_benchmark
    from nasrank.search import BenchmarkObjective, RoBoT, benchmark_scores, make_pool
    from nasrank.spaces import get_space

    bench = load_benchmark("suite-zero:zc_nasbench201.json", task="cifar10")
    pool = benchmark_scores(make_pool(get_space("nb201"), "benchmark", benchmark=bench), bench)
    result = RoBoT(pool=pool, seed=0).run(BenchmarkObjective(bench), budget=20)
    result.best, result.queries_to(bench.optimum()[1])
"""

from __future__ import annotations

from nasrank.search.base import (
    SEARCHERS,
    Evaluation,
    Objective,
    ResumeMismatch,
    Searcher,
    SearchExhausted,
    SearchResult,
    get_searcher,
    summarise,
)
from nasrank.search.objectives import BenchmarkObjective, TrainingObjective
from nasrank.search.pool import (
    CandidatePool,
    benchmark_scores,
    make_pool,
    score_pool,
    standardise,
    stored_proxies,
    subsample,
    table_scores,
)
from nasrank.search.storage import open_storage, run_key
from nasrank.search.top_training import TrainJob, train_top
from nasrank.training import TrainConfig, TrainResult, train

# Registration happens here, explicitly, one import per searcher module.
from nasrank.search.random_search import RandomSearch  # noqa: E402  isort: skip
from nasrank.search.evolution import RegularizedEvolution  # noqa: E402  isort: skip
from nasrank.search.local_search import LocalSearch  # noqa: E402  isort: skip
from nasrank.search.zc_topk import ZeroCostTopK  # noqa: E402  isort: skip
from nasrank.search.robot import RoBoT  # noqa: E402  isort: skip
from nasrank.search.bo import PredictorBO  # noqa: E402  isort: skip
from nasrank.search.custom import CustomSearchResult, custom  # noqa: E402  isort: skip
from nasrank.search.plan import (  # noqa: E402  isort: skip
    SearchInterrupted,
    SearchPlan,
    TopTraining,
    TrainingWorkerFailed,
)
from nasrank.search.report import SearchReport  # noqa: E402  isort: skip
from nasrank.search.sources import (  # noqa: E402  isort: skip
    PlanError,
    ScoreRequest,
    ScoreSource,
    resolve_source,
)

__all__ = [
    "SEARCHERS",
    "BenchmarkObjective",
    "CandidatePool",
    "CustomSearchResult",
    "Evaluation",
    "LocalSearch",
    "Objective",
    "PlanError",
    "PredictorBO",
    "RandomSearch",
    "RegularizedEvolution",
    "ResumeMismatch",
    "RoBoT",
    "ScoreRequest",
    "ScoreSource",
    "SearchExhausted",
    "SearchInterrupted",
    "SearchPlan",
    "SearchReport",
    "SearchResult",
    "Searcher",
    "TrainConfig",
    "TrainJob",
    "TopTraining",
    "TrainResult",
    "TrainingWorkerFailed",
    "TrainingObjective",
    "ZeroCostTopK",
    "benchmark_scores",
    "custom",
    "get_searcher",
    "make_pool",
    "open_storage",
    "resolve_source",
    "run_key",
    "score_pool",
    "standardise",
    "stored_proxies",
    "subsample",
    "summarise",
    "table_scores",
    "train",
    "train_top",
]
