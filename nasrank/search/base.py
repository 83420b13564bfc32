"""The searcher interface: frozen evaluation records, ask/tell, a budgeted run loop, resume.

A searcher proposes architectures (:meth:`Searcher.ask`) and learns their objective values
(:meth:`Searcher.tell`); :meth:`Searcher.run` drives that loop against an objective for a
budget of *distinct* queries and returns a frozen :class:`SearchResult`.

Determinism and resumability rest on one rule: a searcher's proposals are a deterministic
function of its seed and the evaluations it has been told, in order. :meth:`Searcher.restore`
replays logged evaluations (asking, checking that the proposal is the logged architecture,
telling its stored value), so a run restarted from its log repeats no evaluation and ends
exactly as the uninterrupted run would.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from nasrank.errors import NasrankError
from nasrank.proxies.ensemble import normalised_ranks
from nasrank.registry import Registry
from nasrank.search.results import Evaluation, SearchResult

if TYPE_CHECKING:
    from nasrank.search.pool import CandidatePool
    from nasrank.search.storage import RunStorage
    from nasrank.spaces import SearchSpace

__all__ = [
    "Evaluation",
    "SearchResult",
    "Searcher",
    "SearchExhausted",
    "ResumeMismatch",
    "Objective",
    "SEARCHERS",
    "get_searcher",
    "summarise",
]


class SearchExhausted(NasrankError):
    """The searcher has no unevaluated architecture left to propose (finite pool used up)."""


class ResumeMismatch(NasrankError):
    """A stored run does not replay: it was written by a different configuration or seed."""


@runtime_checkable
class Objective(Protocol):
    """What :meth:`Searcher.run` evaluates: ``objective(arch) -> Evaluation``.

    A plain function returning a float is accepted too (see :func:`as_evaluation`).
    ``maximize`` (default ``True`` when absent) says whether larger values are better.
    """

    def __call__(self, arch: str) -> Evaluation | float: ...


def as_evaluation(arch: str, out: Evaluation | float) -> Evaluation:
    """Normalise an objective's return value to an :class:`Evaluation` of ``arch``."""
    if isinstance(out, Evaluation):
        if out.arch != arch:
            return Evaluation(arch, out.value, out.cost)
        return out
    try:
        return Evaluation(arch, float(out))
    except (TypeError, ValueError):
        raise TypeError(
            f"an objective must return an Evaluation or a number; got {type(out).__name__} "
            f"for {arch!r}"
        ) from None


class Searcher(abc.ABC):
    """Base class of every search method.

    Subclasses implement :meth:`_propose` (the next architecture to evaluate, never one
    already evaluated) and may override :meth:`_observe` (learn from a new evaluation).
    Randomness comes from :meth:`_rng`, seeded by ``(seed, evaluations so far)``, so a
    proposal depends only on the seed and the history.

    Args:
        space: The search space (used to canonicalise, sample, mutate); ``None`` for a
            pool of opaque ids (custom spaces).
        pool: A finite candidate pool; proposals are restricted to it. ``None``: the whole
            space (sampled and mutated freely).
        seed: Seed of every random choice.
        maximize: Whether larger objective values are better.
    """

    #: Registry name.
    name: ClassVar[str] = "searcher"
    #: Whether the method needs proxy scores on the pool.
    needs_scores: ClassVar[bool] = False
    #: Whether the method learns from architecture features (``features=``).
    uses_features: ClassVar[bool] = False

    def __init__(
        self,
        space: SearchSpace | None = None,
        *,
        pool: CandidatePool | None = None,
        seed: int = 0,
        maximize: bool = True,
    ) -> None:
        if space is None and pool is None:
            raise ValueError(f"{type(self).__name__} needs a search space or a candidate pool")
        if space is None and pool is not None:
            space = pool.space
        if self.needs_scores and (pool is None or pool.scores is None):
            raise ValueError(
                f"searcher {self.name!r} ranks a candidate pool by proxy scores; pass "
                "pool=CandidatePool(...) with scores (see nasrank.search.pool)"
            )
        self.space = space
        self.pool = pool
        self.seed = int(seed)
        self.maximize = bool(maximize)
        self._history: list[Evaluation] = []
        self._values: dict[str, float] = {}
        self._pending: str | None = None
        self._left_cache: tuple[int, int, list[int]] | None = None  # see _unevaluated

    # ---- public loop -------------------------------------------------------------------
    @property
    def history(self) -> tuple[Evaluation, ...]:
        """Evaluations told so far, in order."""
        return tuple(self._history)

    def ask(self) -> str:
        """The next architecture to evaluate (the same one until :meth:`tell` is called).

        Raises:
            SearchExhausted: Every candidate of a finite pool has been evaluated.
        """
        if self._pending is None:
            arch = self._propose()
            assert arch not in self._values, f"{self.name} proposed an evaluated arch {arch}"
            self._pending = arch
        return self._pending

    def tell(self, arch: Any, value: float, cost: float = math.nan) -> Evaluation:
        """Record the objective value of ``arch`` (normally the last :meth:`ask`).

        Raises:
            ValueError: ``arch`` was already told (every evaluation is told once).
        """
        arch_id = self.canonical(arch)
        if arch_id in self._values:
            raise ValueError(f"architecture {arch_id!r} was already told to {self.name}")
        evaluation = Evaluation(arch_id, float(value), float(cost))
        self._history.append(evaluation)
        self._values[arch_id] = evaluation.value
        was_pending = self._pending == arch_id
        self._pending = None
        self._observe(evaluation, was_pending)
        return evaluation

    def restore(self, evaluations: Iterable[Evaluation]) -> int:
        """Replay logged evaluations into a fresh searcher; returns how many.

        Raises:
            ResumeMismatch: The searcher would have proposed a different architecture, i.e.
                the log comes from another configuration, seed or nasrank version.
        """
        n = 0
        for e in evaluations:
            try:
                proposed = self.ask()
            except SearchExhausted:
                proposed = None
            if proposed != e.arch:
                raise ResumeMismatch(
                    f"stored evaluation {len(self._history) + 1} is {e.arch!r} but {self.name} "
                    f"(seed {self.seed}) proposes {proposed!r}; the stored run was made with "
                    "another configuration: use a fresh storage or the original command"
                )
            self.tell(e.arch, e.value, e.cost)
            n += 1
        return n

    def run(
        self,
        objective: Callable[[str], Evaluation | float],
        budget: int,
        *,
        storage: RunStorage | None = None,
        callback: Callable[[Evaluation], None] | None = None,
    ) -> SearchResult:
        """Ask, evaluate, tell until ``budget`` distinct architectures are evaluated.

        Args:
            objective: ``arch -> Evaluation | float``; its ``maximize`` attribute (if any)
                must agree with the searcher's.
            budget: Distinct queries to spend (a finite pool may end the run earlier).
            storage: Where evaluations are appended as they complete; evaluations already
                there are replayed first (no objective call), so a killed run restarted
                with the same storage continues where it stopped.
            callback: Called with each new evaluation (progress bars).
        """
        if not isinstance(budget, (int, np.integer)) or budget < 1:
            raise ValueError(f"budget must be a positive integer, got {budget!r}")
        wanted = getattr(objective, "maximize", self.maximize)
        if bool(wanted) != self.maximize:
            raise ValueError(
                f"the objective {'maximises' if wanted else 'minimises'} but the searcher was "
                f"built with maximize={self.maximize}"
            )
        restored = 0
        if storage is not None:
            logged = storage.load()
            if self._history:
                raise ValueError("restore needs a fresh searcher; this one has evaluations")
            restored = self.restore(logged[:budget])
        while len(self._history) < budget:
            try:
                arch = self.ask()
            except SearchExhausted:
                break
            evaluation = as_evaluation(arch, objective(arch))
            if storage is not None:
                storage.append(evaluation, step=len(self._history))
            self.tell(arch, evaluation.value, evaluation.cost)
            if callback is not None:
                callback(evaluation)
        return self.result(budget, restored=restored)

    def result(self, budget: int | None = None, *, restored: int = 0) -> SearchResult:
        """The frozen record of the evaluations so far."""
        return SearchResult(
            method=self.name,
            seed=self.seed,
            budget=int(budget if budget is not None else len(self._history)),
            maximize=self.maximize,
            evaluations=tuple(self._history),
            restored=restored,
            info=self._info(),
        )

    def ranking(self) -> np.ndarray:
        """Pool indices in the method's final preference order, best first.

        The default is the mean normalised rank over the pool's proxy scores (pool order
        without scores); searchers with a learned order (RoBoT's best weights) override it.
        """
        if self.pool is None:
            raise ValueError(f"searcher {self.name!r} ranks a pool; it was built without one")
        if self.pool.scores is None:
            return np.arange(len(self.pool))
        ranks = np.stack([normalised_ranks(c) for c in self.pool.scores.T])
        return np.argsort(-np.nan_to_num(np.nanmean(ranks, axis=0), nan=-1.0), kind="stable")

    # ---- helpers for subclasses --------------------------------------------------------
    def canonical(self, arch: Any) -> str:
        if self.pool is not None and isinstance(arch, str) and arch in self.pool:
            return arch
        if self.space is None:
            return str(arch)
        return self.space.canonical(arch)

    def _rng(self, salt: int = 0) -> np.random.Generator:
        """A generator seeded by (seed, evaluations so far, salt)."""
        return np.random.default_rng([self.seed, len(self._history), salt])

    def _oriented(self, value: float) -> float:
        """``value`` with larger = better (NaN -> -inf)."""
        if math.isnan(value):
            return -math.inf
        return value if self.maximize else -value

    def _is_new(self, arch: str) -> bool:
        return arch not in self._values and (self.pool is None or arch in self.pool)

    def _best_evaluations(self, k: int) -> list[Evaluation]:
        order = sorted(
            range(len(self._history)), key=lambda i: (-self._oriented(self._history[i].value), i)
        )
        return [self._history[i] for i in order[:k]]

    def _random_new(self, rng: np.random.Generator, tries: int = 200) -> str:
        """A uniformly drawn unevaluated candidate (pool member when there is a pool)."""
        if self.pool is not None:
            left = self._unevaluated()
            if not left:
                raise SearchExhausted(
                    f"all {len(self.pool)} candidates of the pool have been evaluated"
                )
            return self.pool.archs[left[int(rng.integers(len(left)))]]
        assert self.space is not None
        for _ in range(tries):
            arch = self.space.sample(rng)
            if arch not in self._values:
                return arch
        raise SearchExhausted(
            f"{tries} random samples of space {self.space.name!r} were all evaluated already"
        )

    def _unevaluated(self) -> list[int]:
        """Pool indices not evaluated yet, in pool order; rebuilt only after a new
        evaluation (``_values`` only grows), not on every random draw."""
        assert self.pool is not None
        key = (id(self.pool), len(self._values))
        if self._left_cache is None or self._left_cache[:2] != key:
            left = [i for i, a in enumerate(self.pool.archs) if a not in self._values]
            self._left_cache = (*key, left)
        return self._left_cache[2]

    def _mutate_new(self, parent: str, rng: np.random.Generator, tries: int = 200) -> str | None:
        """A one-edit mutation of ``parent`` not yet evaluated (and in the pool), or None."""
        assert self.space is not None
        for _ in range(tries):
            child = self.space.mutate(parent, rng)
            if self._is_new(child):
                return child
        return None

    @abc.abstractmethod
    def _propose(self) -> str:
        """The next unevaluated architecture (raise :class:`SearchExhausted` if none)."""

    def _observe(self, evaluation: Evaluation, was_pending: bool) -> None:  # noqa: B027
        """Learn from a new evaluation (default: nothing beyond the history)."""

    def _info(self) -> dict[str, Any]:
        """Method-specific facts for the result (e.g. RoBoT's best weights)."""
        return {}

    def __repr__(self) -> str:
        pool = f", pool={len(self.pool)}" if self.pool is not None else ""
        space = self.space.name if self.space is not None else None
        return f"{type(self).__name__}(space={space!r}{pool}, seed={self.seed})"


#: Search methods by CLI name (``robot``, ``bo``, ``re``, ``ls``, ``random``, ``zc-topk``).
SEARCHERS: Registry[type[Searcher]] = Registry(
    "search method", accepts=lambda obj: isinstance(obj, type) and issubclass(obj, Searcher)
)


def get_searcher(name: str | type[Searcher]) -> type[Searcher]:
    """The searcher class registered as ``name`` (a class is returned as is)."""
    return SEARCHERS.resolve(name if isinstance(name, type) else str(name))


def summarise(
    results: Iterable[SearchResult],
    optimum: float | None = None,
    *,
    at: Iterable[int] = (10, 20, 50, 100),
) -> dict[str, Any]:
    """Aggregate runs of one method: best at budget, queries to the optimum, best at q.

    Args:
        results: Runs of one method (different seeds).
        optimum: The value counted as "optimum found" (e.g. the pool's best).
        at: Query counts at which the mean best-so-far is reported (those <= budget).

    Returns:
        ``runs``, ``mean_best``, ``std_best``, ``median_best``, ``mean_best_at`` {q: mean},
        and with ``optimum``: ``optimum``, ``found`` (runs that reached it),
        ``median_queries_to_optimum`` (runs that never did count as infinitely many;
        ``None`` when that median is infinite) and ``mean_queries_to_optimum`` (over the
        runs that found it).
    """
    runs = list(results)
    if not runs:
        return {"runs": 0}
    budget = max(r.budget for r in runs)
    curves = np.full((len(runs), budget), np.nan)
    for i, r in enumerate(runs):
        c = r.best_so_far()[:budget]
        if c.size:
            curves[i, : c.size] = c
            curves[i, c.size :] = c[-1]
    final = curves[:, -1]
    out: dict[str, Any] = {
        "runs": len(runs),
        "budget": budget,
        "mean_best": float(np.nanmean(final)),
        "std_best": float(np.nanstd(final)),
        "median_best": float(np.nanmedian(final)),
        "mean_best_at": {
            int(q): float(np.nanmean(curves[:, q - 1])) for q in sorted(set(at)) if q <= budget
        },
    }
    if optimum is not None:
        hits = [r.queries_to(optimum) for r in runs]
        steps = np.array([math.inf if h is None else h for h in hits], dtype=float)
        median = float(np.median(steps))
        found = [h for h in hits if h is not None]
        out.update(
            {
                "optimum": optimum,
                "found": len(found),
                "median_queries_to_optimum": None if math.isinf(median) else median,
                "mean_queries_to_optimum": float(np.mean(found)) if found else None,
            }
        )
    return out
