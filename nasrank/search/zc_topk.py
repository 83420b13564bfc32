"""Proxy-only top-k: evaluate the pool in the order a zero-cost ranking gives.

The training-free baseline of Abdelfattah et al., "Zero-Cost Proxies for Lightweight NAS",
ICLR 2021 (their "zero-cost warmup" without the subsequent search).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nasrank.proxies.ensemble import normalised_ranks
from nasrank.search.base import SEARCHERS, Searcher, SearchExhausted

__all__ = ["ZeroCostTopK"]


@SEARCHERS.register("zc-topk")
class ZeroCostTopK(Searcher):
    """Query the pool's candidates best-ranked first by their proxy scores.

    The ranking is one proxy's score, or (default) the mean normalised rank of all the
    pool's proxies (:class:`nasrank.proxies.RankEnsemble`); candidates whose score is NaN
    come last, ties keep pool order.

    Args:
        proxy: Rank by this one proxy (a column of the pool's scores); ``None``: all.
        weights: Weight per proxy for the rank mean (default equal).
        **kwargs: See :class:`~nasrank.search.base.Searcher`; ``pool`` with scores is
            required.
    """

    name = "zc-topk"
    needs_scores = True

    def __init__(
        self,
        space: Any = None,
        *,
        proxy: str | None = None,
        weights: Sequence[float] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(space, **kwargs)
        assert self.pool is not None and self.pool.scores is not None
        if proxy is not None:
            if proxy not in self.pool.proxies:
                raise ValueError(
                    f"proxy {proxy!r} is not scored in the pool; scored: "
                    f"{', '.join(self.pool.proxies)}"
                )
            signal = self.pool.scores[:, self.pool.proxies.index(proxy)]
        else:
            ranks = np.stack(
                [normalised_ranks(self.pool.scores[:, j]) for j in range(len(self.pool.proxies))]
            )
            w = np.ones(len(ranks)) if weights is None else np.asarray(weights, dtype=float)
            if w.shape != (len(ranks),):
                raise ValueError(f"got {w.size} weights for {len(ranks)} proxies")
            ok = ~np.isnan(ranks)
            total = (np.where(ok, ranks, 0.0) * w[:, None]).sum(0)
            norm = (ok * w[:, None]).sum(0)
            signal = np.where(norm > 0, total / np.where(norm > 0, norm, 1.0), np.nan)
        key = np.where(np.isnan(signal), -np.inf, signal)
        self.ranking = np.argsort(-key, kind="stable")
        self._cursor = 0

    def _propose(self) -> str:
        assert self.pool is not None
        while self._cursor < len(self.ranking):
            arch = self.pool.archs[int(self.ranking[self._cursor])]
            if arch not in self._values:
                return arch
            self._cursor += 1
        raise SearchExhausted(f"all {len(self.pool)} candidates of the pool have been evaluated")
