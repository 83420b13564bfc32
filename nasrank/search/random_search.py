"""Random search: the baseline every NAS method must beat (Li & Talwalkar, "Random Search
and Reproducibility for Neural Architecture Search", UAI 2019)."""

from __future__ import annotations

from typing import Any

import numpy as np

from nasrank.search.base import SEARCHERS, Searcher, SearchExhausted

__all__ = ["RandomSearch"]


@SEARCHERS.register("random")
class RandomSearch(Searcher):
    """Evaluate uniformly drawn, never repeated architectures.

    Over a finite pool it walks one seeded permutation of the pool; over an open space it
    draws :meth:`~nasrank.spaces.SearchSpace.sample` until it finds an unevaluated one.
    """

    name = "random"

    def __init__(self, space: Any = None, **kwargs: Any) -> None:
        super().__init__(space, **kwargs)
        self._order: np.ndarray | None = None
        self._cursor = 0

    def _propose(self) -> str:
        if self.pool is None:
            return self._random_new(self._rng())
        if self._order is None:
            self._order = np.random.default_rng([self.seed, 0x5EED]).permutation(len(self.pool))
        while self._cursor < len(self._order):
            arch = self.pool.archs[int(self._order[self._cursor])]
            if arch not in self._values:
                return arch
            self._cursor += 1
        raise SearchExhausted(f"all {len(self.pool)} candidates of the pool have been evaluated")
