"""Local search (White, Nolen, Ravi & Savani, "Exploring the Loss Landscape in Neural
Architecture Search", UAI 2021; reference implementation: NASLib ``optimizers/discrete/ls``)."""

from __future__ import annotations

from typing import Any

from nasrank.search.base import SEARCHERS, Evaluation, Searcher

__all__ = ["LocalSearch"]


@SEARCHERS.register("ls")
class LocalSearch(Searcher):
    """Steepest-ascent hill climbing over one-edit neighbourhoods with random restarts.

    ``n_init`` random architectures are evaluated and the best becomes the centre. All
    neighbours of the centre (:meth:`~nasrank.spaces.SearchSpace.neighbours`, in a seeded
    random order, restricted to the pool) are evaluated; already evaluated neighbours are
    free. If the best neighbour beats the centre it becomes the new centre; otherwise the
    centre is a local optimum and the search restarts from a new random architecture.

    Args:
        n_init: Random architectures before the first climb.
        **kwargs: See :class:`~nasrank.search.base.Searcher`.
    """

    name = "ls"

    def __init__(self, space: Any = None, *, n_init: int = 10, **kwargs: Any) -> None:
        super().__init__(space, **kwargs)
        if n_init < 1:
            raise ValueError(f"n_init must be >= 1, got {n_init}")
        if self.space is None:
            raise ValueError("local search walks neighbourhoods; it needs a search space")
        self.n_init = n_init
        self._center: Evaluation | None = None
        self._best: Evaluation | None = None
        self._queue: list[str] = []
        self._nbhd: set[str] = set()
        self._restart: str | None = None
        self.restarts = 0

    def _better(self, a: Evaluation, b: Evaluation | None) -> bool:
        return b is None or self._oriented(a.value) > self._oriented(b.value)

    def _set_center(self, center: Evaluation) -> None:
        assert self.space is not None
        self._center = self._best = center
        rng = self._rng(salt=1)
        neighbours = self.space.neighbours(center.arch)
        if self.pool is not None:
            neighbours = [a for a in neighbours if a in self.pool]
        self._nbhd = set(neighbours)
        self._queue = [neighbours[int(i)] for i in rng.permutation(len(neighbours))]

    def _propose(self) -> str:
        if self._center is None and self._restart is None:
            if len(self._history) < self.n_init:
                return self._random_new(self._rng())
            best = self._best_evaluations(1)[0]
            self._set_center(best)
        if self._restart is not None:
            return self._restart
        while True:
            while self._queue:
                arch = self._queue[0]
                if arch not in self._values:
                    return arch
                self._queue.pop(0)  # evaluated earlier: its value is known, free
                known = Evaluation(arch, self._values[arch])
                if self._better(known, self._best):
                    self._best = known
            assert self._center is not None and self._best is not None
            if self._best.arch != self._center.arch:
                self._set_center(self._best)
                continue
            # local optimum: restart from a random architecture
            self.restarts += 1
            self._center = self._best = None
            self._restart = self._random_new(self._rng())
            return self._restart

    def _observe(self, evaluation: Evaluation, was_pending: bool) -> None:
        if self._restart is not None and evaluation.arch == self._restart:
            self._restart = None
            self._set_center(evaluation)
            return
        if self._queue and evaluation.arch == self._queue[0]:
            self._queue.pop(0)
        elif evaluation.arch in self._queue:
            self._queue.remove(evaluation.arch)
        if evaluation.arch in self._nbhd and self._better(evaluation, self._best):
            self._best = evaluation

    def _info(self) -> dict[str, Any]:
        return {"restarts": self.restarts}
