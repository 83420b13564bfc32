"""Search a user-defined space: ``build(trial) -> nn.Module`` written with Optuna.

The user describes the space as a function that builds a model from an Optuna trial
(``trial.suggest_int``, ``suggest_float``, ``suggest_categorical``). nasrank samples
candidates through Optuna trials (a candidate's id is the canonical JSON of its
parameters), scores them at initialisation with zero-cost proxies, ranks them with RoBoT
or predictor BO whose objective is a short real training, and finally trains the top-k
for real::

    import nasrank.search

    def build(trial):
        width = trial.suggest_categorical("width", [16, 32, 64])
        depth = trial.suggest_int("depth", 1, 4)
        return MyNet(width, depth)

    result = nasrank.search.custom(build, "cifar10:/data/cifar-10", budget=8, top_k=2)
    result.best.params, result.best.test_accuracy
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nasrank.data import load_dataset
from nasrank.errors import NasrankError
from nasrank.search._optuna import quiet_optuna
from nasrank.search._progress import ProgressFactory
from nasrank.search.base import Searcher, SearchResult
from nasrank.search.objectives import TrainingObjective, accuracy_of
from nasrank.search.plan import SearchPlan
from nasrank.search.pool import CandidatePool, score_pool
from nasrank.training import TrainConfig, train

if TYPE_CHECKING:
    from torch import nn

    from nasrank.data import ImageDataset
    from nasrank.training import TrainResult

__all__ = [
    "custom",
    "CustomSearch",
    "CustomSearchResult",
    "RankedCandidate",
    "TrainedCandidate",
    "arch_id",
]

logger = logging.getLogger(__name__)

#: Proxies used when none are named: cheap, and among the best on image classifiers.
DEFAULT_PROXIES = ("params", "flops", "synflow", "nwot")


def arch_id(params: dict[str, Any]) -> str:
    """The candidate id: canonical JSON of the trial's parameters (sorted keys)."""
    return json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)


@dataclass(frozen=True)
class RankedCandidate:
    """One candidate in the final ranking.

    Attributes:
        arch: Its id (canonical JSON of ``params``).
        params: The Optuna parameters that build it.
        scores: Proxy name -> score at initialisation.
        value: Objective value (short-training accuracy) if the search evaluated it.
    """

    arch: str
    params: dict[str, Any]
    scores: dict[str, float]
    value: float | None


@dataclass(frozen=True)
class TrainedCandidate:
    """A top-k candidate trained for real.

    Attributes:
        rank: 1-based position in the ranking.
        arch: Id; ``params`` rebuild it with ``build(optuna.trial.FixedTrial(params))``.
        params: The Optuna parameters.
        result: The trainer's :class:`~nasrank.training.TrainResult`.
    """

    rank: int
    arch: str
    params: dict[str, Any]
    result: TrainResult

    @property
    def test_accuracy(self) -> float | None:
        return self.result.test_accuracy

    @property
    def accuracy(self) -> float:
        """Test accuracy, else validation, else train accuracy (%)."""
        r = self.result
        return float(r.test_accuracy) if r.test_accuracy is not None else accuracy_of(r)


@dataclass(frozen=True)
class CustomSearchResult:
    """Outcome of :func:`custom`.

    Attributes:
        ranking: Every candidate, best first: evaluated ones by objective value, then the
            rest in the method's final order.
        trained: The top-k trained for real, in ranking order.
        search: The search run (its evaluations are short trainings).
        pool: The scored candidate pool.
        method: ``"robot"`` or ``"bo"``.
    """

    ranking: tuple[RankedCandidate, ...]
    trained: tuple[TrainedCandidate, ...]
    search: SearchResult
    pool: CandidatePool = field(repr=False)
    method: str = "robot"

    @property
    def best(self) -> TrainedCandidate | None:
        """The trained candidate with the highest accuracy."""
        if not self.trained:
            return None
        return max(self.trained, key=lambda t: (np.nan_to_num(t.accuracy, nan=-1.0), -t.rank))

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "ranking": [
                {"arch": c.arch, "params": c.params, "scores": c.scores, "value": c.value}
                for c in self.ranking
            ],
            "search": self.search.to_dict(),
            "trained": [
                {"rank": t.rank, "params": t.params, **t.result.to_dict()} for t in self.trained
            ],
        }


def _dataset(data: Any, split: str) -> Any:
    if isinstance(data, (str, Path)):
        return load_dataset(str(data), split=split)
    return data


def _split_train(train: ImageDataset, fraction: float, seed: int) -> tuple[Any, Any]:
    n = len(train)
    n_val = max(1, int(round(n * fraction)))
    if n_val >= n:
        raise NasrankError(
            f"the training data has {n} samples; too few to hold out a validation split"
        )
    order = np.random.default_rng([seed, 0xDA7A]).permutation(n)
    return train.subset(np.sort(order[n_val:]), tag="search-train"), train.subset(
        np.sort(order[:n_val]), tag="search-val"
    )


class _ParamFeatures:
    """Numeric features of Optuna parameters: numbers as they are (log for log-scaled
    distributions), categoricals one-hot."""

    def __init__(self, distributions: dict[str, Any]) -> None:
        self.distributions = distributions

    def __call__(self, params_list: Sequence[dict[str, Any]]) -> np.ndarray:
        import optuna

        cols: list[np.ndarray] = []
        for name in sorted(self.distributions):
            d = self.distributions[name]
            values = [p.get(name) for p in params_list]
            if isinstance(d, optuna.distributions.CategoricalDistribution):
                for choice in d.choices:
                    cols.append(np.array([float(v == choice) for v in values]))
            else:
                x = np.array([np.nan if v is None else float(v) for v in values])
                if getattr(d, "log", False):
                    x = np.log(x)
                lo, hi = float(d.low), float(d.high)
                if getattr(d, "log", False):
                    lo, hi = math.log(lo), math.log(hi)
                span = hi - lo if hi > lo else 1.0
                cols.append(np.nan_to_num((x - lo) / span, nan=-1.0))
        if not cols:
            return np.zeros((len(params_list), 0))
        return np.stack(cols, axis=1)


@dataclass(frozen=True)
class CustomSearch:
    """A search of a user-defined space: sample, score, rank, train the top-k.

    Attributes:
        build: ``build(trial) -> nn.Module``; calls ``trial.suggest_*`` to define the space
            (may raise ``optuna.TrialPruned`` to reject a combination).
        data: A data spec (``"cifar10:DIR"``, ``"images:DIR"``, ``"synthetic"``) or an
            :class:`~nasrank.data.ImageDataset` with labels (its training split).
        budget: Short trainings the ranking may spend (the search's queries).
        top_k: Candidates trained for real at the end.
        proxies: Zero-cost proxies scoring every candidate (default
            :data:`DEFAULT_PROXIES`).
        method: ``"robot"`` (BO over proxy weights) or ``"bo"`` (predictor BO on the
            parameters' features + proxy scores).
        n_candidates: Distinct candidates to sample.
        seed: Seeds sampling, proxies, search and training.
        epochs: Epochs of the final training of the top-k (ignored with ``train_config``).
        search_epochs: Epochs of each short training during the search.
        search_train_size: Training samples of each short training (default: all but the
            held-out validation split).
        val_fraction: Share of the training data held out to score short trainings.
        train_config: Full :class:`~nasrank.training.TrainConfig` of the final
            training.
        proxy_batch_size: Batch size the proxies see.
        test_data: Data for the final test accuracy (default: the spec's ``test`` split).
        device: Training device (default CUDA when available).
        storage: A :class:`~nasrank.search.storage.RunStorage` so that an interrupted
            search resumes (e.g. ``open_storage("runs.db").run("my-search")``).
        searcher_options: Extra keyword arguments of the searcher.
    """

    build: Callable[[Any], nn.Module]
    data: Any
    budget: int = 8
    top_k: int = 3
    proxies: Sequence[str] | None = None
    method: str = "robot"
    n_candidates: int = 50
    seed: int = 0
    epochs: int = 3
    search_epochs: int = 1
    search_train_size: int | None = None
    val_fraction: float = 0.2
    train_config: TrainConfig | None = None
    proxy_batch_size: int = 64
    test_data: Any = None
    device: Any = None
    storage: Any = None
    searcher_options: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        _check_custom_args(self.method, self.budget, self.n_candidates, self.epochs, self.top_k)

    def run(self, progress: Callable[[str, int, int], None] | None = None) -> CustomSearchResult:
        """Run it; ``progress(stage, done, total)`` hears of ``"sampling"``,
        ``"scoring"``, ``"searching"`` and ``"training"``.

        Raises:
            NasrankError: ``build`` yields fewer than 2 distinct candidates, or the data
                has no labels.
        """
        report = progress or (lambda stage, done, total: None)
        params_of, distributions = _sample_candidates(
            self.build, self.n_candidates, self.seed, report
        )

        def build_arch(arch: str) -> nn.Module:
            import optuna

            return self.build(optuna.trial.FixedTrial(params_of[arch]))

        train_all = _dataset(self.data, "train")
        if getattr(train_all, "labels", None) is None:
            raise NasrankError(f"data {self.data!r} has no labels; the search trains candidates")
        proxies = list(self.proxies) if self.proxies is not None else list(DEFAULT_PROXIES)
        pool = _score_candidates(
            list(params_of), build_arch, proxies, train_all, self.proxy_batch_size, self.seed,
            report,
        )  # fmt: skip
        objective = _short_training(self, build_arch, train_all)
        plan = SearchPlan(
            space=None, benchmark=None, objective=objective, methods=(self.method,),
            budget=min(self.budget, len(pool)), seeds=(self.seed,), candidates=pool,
            storage=self.storage,
            searcher_options={self.method: self._options(distributions, params_of)},
        )  # fmt: skip
        outcome = plan.run(progress=_stage_progress(report, "searching", self.budget))
        search, searcher = outcome.runs[self.method][0], outcome.searchers[self.method][0]
        ranking = _final_ranking(search, searcher, pool, params_of)
        trained = self._train_top(ranking, build_arch, train_all, report)
        return CustomSearchResult(ranking, trained, search, pool, self.method)

    def _options(
        self, distributions: dict[str, Any], params_of: dict[str, dict[str, Any]]
    ) -> dict[str, Any]:
        """The searcher's keyword arguments: RoBoT spends half the budget on BO trials;
        predictor BO learns from the parameters' features."""
        options = dict(self.searcher_options or {})
        if self.method == "robot":
            options.setdefault("bo_queries", max(1, self.budget // 2))
        else:
            featurize = _ParamFeatures(distributions)
            options["features"] = lambda archs: featurize([params_of[a] for a in archs])
        return options

    def _train_top(
        self,
        ranking: tuple[RankedCandidate, ...],
        build_arch: Callable[[str], nn.Module],
        train_all: Any,
        report: Callable[[str, int, int], None],
    ) -> tuple[TrainedCandidate, ...]:
        """Train the ``top_k`` best of ``ranking`` for real, in ranking order."""
        config = (
            self.train_config if self.train_config is not None else TrainConfig(epochs=self.epochs)
        )
        test = self.test_data if self.test_data is not None else _maybe_test(self.data)
        trained = []
        for rank, cand in enumerate(ranking[: self.top_k], start=1):
            result = train(
                build_arch(cand.arch), train_all, config=config, test_data=test,
                device=self.device, seed=self.seed,
            )  # fmt: skip
            trained.append(TrainedCandidate(rank, cand.arch, cand.params, result))
            report("training", rank, min(self.top_k, len(ranking)))
        return tuple(trained)


def custom(
    build: Callable[[Any], nn.Module],
    data: Any,
    *,
    budget: int = 8,
    top_k: int = 3,
    proxies: Sequence[str] | None = None,
    method: str = "robot",
    n_candidates: int = 50,
    seed: int = 0,
    epochs: int = 3,
    search_epochs: int = 1,
    search_train_size: int | None = None,
    val_fraction: float = 0.2,
    train_config: TrainConfig | None = None,
    proxy_batch_size: int = 64,
    test_data: Any = None,
    device: Any = None,
    storage: Any = None,
    searcher_options: dict[str, Any] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> CustomSearchResult:
    """Sample, score, rank and train architectures of a user-defined space:
    ``CustomSearch(build, data, ...).run(progress)``; the arguments are the attributes
    of :class:`CustomSearch`.

    Returns:
        A :class:`CustomSearchResult` with the ranking and the trained accuracies.

    Raises:
        NasrankError: Bad arguments, or ``build`` yields fewer than 2 distinct candidates.
    """
    search = CustomSearch(
        build, data, budget, top_k, proxies, method, n_candidates, seed, epochs,
        search_epochs, search_train_size, val_fraction, train_config, proxy_batch_size,
        test_data, device, storage, searcher_options,
    )  # fmt: skip
    return search.run(progress)


def _check_custom_args(
    method: str, budget: int, n_candidates: int, epochs: int, top_k: int
) -> None:
    if method not in ("robot", "bo"):
        raise NasrankError(f"custom search method must be 'robot' or 'bo', got {method!r}")
    for name, value in (("budget", budget), ("n_candidates", n_candidates), ("epochs", epochs)):
        if value < 1:
            raise NasrankError(f"{name} must be >= 1, got {value}")
    if top_k < 0:
        raise NasrankError(f"top_k must be >= 0, got {top_k}")


def _sample_candidates(
    build: Callable[[Any], nn.Module],
    n_candidates: int,
    seed: int,
    report: Callable[[str, int, int], None],
) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Distinct candidates drawn through Optuna trials: id -> params, and the union of the
    trials' distributions."""
    import optuna

    with quiet_optuna():
        study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    params_of: dict[str, dict[str, Any]] = {}
    distributions: dict[str, Any] = {}
    attempts = 0
    while len(params_of) < n_candidates and attempts < 20 * n_candidates:
        attempts += 1
        with quiet_optuna():
            trial = study.ask()
        try:
            build(trial)
        except optuna.TrialPruned:
            with quiet_optuna():
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            continue
        params = dict(trial.params)
        distributions.update(trial.distributions)
        with quiet_optuna():
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        if arch_id(params) not in params_of:
            params_of[arch_id(params)] = params
            report("sampling", len(params_of), n_candidates)
    if len(params_of) < 2:
        raise NasrankError(
            f"build(trial) produced {len(params_of)} distinct candidate(s) in {attempts} trials; "
            "the space needs at least 2"
        )
    return params_of, distributions


def _score_candidates(
    archs: list[str],
    build_arch: Callable[[str], nn.Module],
    proxies: list[str],
    train_all: Any,
    batch_size: int,
    seed: int,
    report: Callable[[str, int, int], None],
) -> CandidatePool:
    """The candidates scored by the proxy engine on a batch of the training data."""
    batch = train_all.sample_batch(min(batch_size, len(train_all)), seed=seed)
    pool = CandidatePool(None, archs, source=f"{len(archs)} Optuna samples")
    return score_pool(
        pool,
        proxies,
        batch,
        seed=seed,
        build=build_arch,
        store=False,
        progress=lambda done, total: report("scoring", done, total),
    )


def _short_training(
    search: CustomSearch, build_arch: Callable[[str], nn.Module], train_all: Any
) -> TrainingObjective:
    """The search's objective: a short training scored on a held-out split."""
    search_train, search_val = _split_train(train_all, search.val_fraction, search.seed)
    if search.search_train_size is not None:
        search_train = search_train.take(search.search_train_size, seed=search.seed)
    final = search.train_config
    short = TrainConfig(
        epochs=search.search_epochs,
        batch_size=(final.batch_size if final is not None else 64),
        lr=(final.lr if final is not None else 0.1),
    )
    return TrainingObjective(
        build_arch, search_train, val_data=search_val, config=short, device=search.device,
        seed=search.seed,
    )  # fmt: skip


def _stage_progress(
    report: Callable[[str, int, int], None], stage: str, total: int
) -> ProgressFactory:
    """A progress factory that reports ``(stage, done, total)`` per evaluation."""

    @contextlib.contextmanager
    def factory(description: str, _total: int | None) -> Iterator[Any]:
        done = [0]

        class _Bar:
            def advance(self, n: int = 1) -> None:
                if n > 0:
                    done[0] += n
                    report(stage, done[0], total)

        yield _Bar()

    return factory


def _final_ranking(
    search: SearchResult,
    searcher: Searcher,
    pool: CandidatePool,
    params_of: dict[str, dict[str, Any]],
) -> tuple[RankedCandidate, ...]:
    """Evaluated candidates by value, then the rest in the searcher's final order."""
    values = {e.arch: e.value for e in search.evaluations}
    evaluated = sorted(values, key=lambda a: -np.nan_to_num(values[a], nan=-np.inf))
    order = [pool.archs[int(i)] for i in searcher.ranking()]
    rest = [a for a in order if a not in values]
    return tuple(
        RankedCandidate(
            arch=a,
            params=params_of[a],
            scores={p: float(pool.scores[pool.index(a), j]) for j, p in enumerate(pool.proxies)}
            if pool.scores is not None
            else {},
            value=values.get(a),
        )
        for a in evaluated + rest
    )


def _maybe_test(data: Any) -> Any:
    if not isinstance(data, (str, Path)):
        return None
    try:
        return _dataset(data, "test")
    except NasrankError as exc:
        logger.info("no test split for %s (%s); reporting train accuracy", data, exc)
        return None
