"""Regularized evolution (Real, Aggarwal, Huang & Le, "Regularized Evolution for Image
Classifier Architecture Search", AAAI 2019)."""

from __future__ import annotations

from typing import Any

from nasrank.search.base import SEARCHERS, Searcher

__all__ = ["RegularizedEvolution"]


@SEARCHERS.register("re")
class RegularizedEvolution(Searcher):
    """Aging evolution: tournament selection over the most recent evaluations.

    The first ``population_size`` proposals are random. After that the population is the
    ``population_size`` most recent evaluations (the oldest dies as each child is born);
    each step draws ``sample_size`` of them without replacement, mutates the best one
    (one edit, :meth:`~nasrank.spaces.SearchSpace.mutate`) and proposes the child. A child
    that was already evaluated (or lies outside the pool) is redrawn; when no new child is
    found after many tries a random candidate is proposed instead.

    Args:
        population_size: Population (P in the paper).
        sample_size: Tournament size (S in the paper).
        **kwargs: See :class:`~nasrank.search.base.Searcher`.
    """

    name = "re"

    def __init__(
        self, space: Any = None, *, population_size: int = 20, sample_size: int = 5, **kwargs: Any
    ) -> None:
        super().__init__(space, **kwargs)
        if population_size < 1 or not 1 <= sample_size <= population_size:
            raise ValueError(
                f"need population_size >= 1 and 1 <= sample_size <= population_size; got "
                f"{population_size} and {sample_size}"
            )
        if self.space is None:
            raise ValueError("regularized evolution mutates architectures; it needs a space")
        self.population_size = population_size
        self.sample_size = sample_size

    def _propose(self) -> str:
        rng = self._rng()
        if len(self._history) < self.population_size:
            return self._random_new(rng)
        population = self._history[-self.population_size :]
        picks = rng.choice(len(population), size=self.sample_size, replace=False)
        parent = max(
            (population[int(i)] for i in sorted(picks)),
            key=lambda e: self._oriented(e.value),
        )
        child = self._mutate_new(parent.arch, rng)
        return child if child is not None else self._random_new(rng)
