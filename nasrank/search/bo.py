"""Predictor-based Bayesian optimisation, BANANAS-style (White, Neiswanger & Savani,
"BANANAS: Bayesian Optimization with Neural Architectures for Neural Architecture Search",
AAAI 2021; reference implementation: github.com/naszilla/bananas), with zero-cost proxy
scores as extra predictor features (as in White et al., "How Powerful are Performance
Predictors in Neural Architecture Search?", NeurIPS 2021, and NAS-Bench-Suite-Zero).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from nasrank.predictors import EnsemblePredictor, GBDTPredictor
from nasrank.predictors.featurize import Featurizer
from nasrank.proxies.ensemble import normalised_ranks
from nasrank.search._pareto import nondominated_order
from nasrank.search.base import SEARCHERS, Evaluation, Searcher, SearchExhausted

__all__ = ["PredictorBO", "default_predictor", "ACQUISITIONS", "INITS"]

#: Acquisition functions: independent Thompson sampling (BANANAS' default), expected
#: improvement, upper confidence bound.
ACQUISITIONS = ("its", "ei", "ucb")
#: Initial designs: "auto", random, zero-cost warm-up by mean proxy rank, or by
#: non-dominated front then mean proxy rank.
INITS = ("auto", "random", "proxy", "pareto")


def default_predictor(seed: int) -> EnsemblePredictor:
    """An ensemble of 5 bootstrapped LightGBM GBDTs, for uncertainty."""
    return EnsemblePredictor(GBDTPredictor(), n_members=5, bootstrap=True, random_state=seed)


@SEARCHERS.register("bo")
class PredictorBO(Searcher):
    """Fit an ensemble predictor on the evaluations, query the acquisition's argmax.

    Each step fits a fresh predictor (seeded by the step) on features of the evaluated
    architectures -- a per-space encoding (path encoding or one-hot) plus, when the pool
    carries proxy scores, those scores standardised over the pool -- against the
    standardised objective values, and proposes the candidate that maximises the
    acquisition on ``predict_dist``'s ``(mean, std)``. Candidates: every unevaluated pool
    member when the pool is finite and at most ``max_pool_score`` large; otherwise
    mutations (one or two edits) of the ``n_parents`` best architectures plus random
    samples, ``n_candidates`` in all, as in BANANAS.

    The first ``n_init`` proposals are random, or the top of a label-free ranking of the
    pool by its proxy scores -- the "zero-cost warm-up" of Abdelfattah et al., "Zero-Cost
    Proxies for Lightweight NAS", ICLR 2021 (also the initial design of ProxyBO, Shen et
    al., AAAI 2023): ``init="proxy"`` ranks by mean normalised proxy rank;
    ``init="pareto"`` (the default when the pool has scores) first sorts the pool into
    non-dominated fronts of its proxy scores (NSGA-II's sorting) and ranks by mean
    normalised rank inside a front, so that no candidate is queried while another one
    that every proxy scores at least as high (and one higher) is left -- a dominated
    candidate is never the choice of any positively weighted combination of the proxies.

    Args:
        predictor: A predictor instance with ``fit(X, y)`` / ``predict_dist(X)`` (cloned
            for every fit when it has ``clone()``), or a factory ``seed -> predictor`` (a
            class whose first argument is the seed works). Default
            :func:`default_predictor`.
        encoding: Per-space encoding name (``"path"``, ``"onehot"``; see
            ``nasrank.encodings.space_encodings``), ``None`` for none. Default ``"path"``
            where the space has it, else ``"onehot"`` where it has that.
        features: Features replacing the encoding: a
            :class:`~nasrank.predictors.Featurizer` (e.g. ``Featurizer("onnx,zc-engine",
            space=space)``: the universal ONNX encoding plus engine proxy scores; fitted on
            the pool, or on the first architectures featurized when there is none) or a
            function ``archs -> (n, d)`` array (custom spaces).
        use_scores: Append the pool's standardised proxy scores to the features.
        acquisition: One of :data:`ACQUISITIONS`.
        n_init: Initial proposals before the first fit (default 10, as in BANANAS).
        init: ``"random"``, ``"proxy"``, ``"pareto"`` or ``"auto"`` (``"pareto"`` when the
            pool has proxy scores, else ``"random"``).
        n_candidates: Candidates per step in an open (or very large) space.
        n_parents: Best architectures mutated per step in an open space.
        max_pool_score: Largest finite pool scored exhaustively each step.
        ucb_beta: Exploration weight of UCB.
        **kwargs: See :class:`~nasrank.search.base.Searcher`.
    """

    name = "bo"
    uses_features = True

    def __init__(
        self,
        space: Any = None,
        *,
        predictor: Any = None,
        encoding: str | None = "auto",
        features: Featurizer | Callable[[Sequence[str]], np.ndarray] | None = None,
        use_scores: bool = True,
        acquisition: str = "its",
        n_init: int | None = None,
        init: str = "auto",
        n_candidates: int = 200,
        n_parents: int = 10,
        max_pool_score: int = 2000,
        ucb_beta: float = 2.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(space, **kwargs)
        if acquisition not in ACQUISITIONS:
            raise ValueError(
                f"unknown acquisition {acquisition!r}; choices: {', '.join(ACQUISITIONS)}"
            )
        if init not in INITS:
            raise ValueError(f"unknown init {init!r}; choices: {', '.join(INITS)}")
        has_scores = self.pool is not None and self.pool.scores is not None and use_scores
        if init == "auto":
            init = "pareto" if has_scores else "random"
        if init in ("proxy", "pareto") and not has_scores:
            raise ValueError(f"init={init!r} needs a pool with proxy scores")
        if n_init is None:
            n_init = 10
        if n_init < 1 or n_candidates < 1 or n_parents < 1:
            raise ValueError("n_init, n_candidates and n_parents must be >= 1")
        self.predictor = predictor
        self.acquisition = acquisition
        self.init = init
        self.n_init = n_init
        self.n_candidates = n_candidates
        self.n_parents = n_parents
        self.max_pool_score = max_pool_score
        self.ucb_beta = ucb_beta
        self.use_scores = has_scores
        self.encoding = self._resolve_encoding(encoding) if features is None else None
        if features is None and self.encoding is not None:
            features = Featurizer(self.encoding, space=self.space)
        self._features_fn = features
        if features is None and not has_scores:
            raise ValueError(
                "predictor BO needs features: an encoding of the space, proxy scores in the "
                "pool, or features="
            )
        self._cache: dict[str, np.ndarray] = {}
        self._pool_x: np.ndarray | None = None
        self._init_order: np.ndarray | None = None
        self.last_fit_size = 0

    # ---- features ----------------------------------------------------------------------
    def _resolve_encoding(self, encoding: str | None) -> str | None:
        if encoding is None or self.space is None:
            return None
        encodings = self.space.encodings
        if encoding != "auto":
            if encoding not in encodings:
                raise ValueError(f"encoding {encoding!r} is not defined for {self.space.name!r}")
            return encoding
        for name in ("path", "onehot"):
            if name in encodings:
                return name
        return None

    def _encode(self, archs: Sequence[str]) -> np.ndarray:
        features = self._features_fn
        if features is None:
            return np.zeros((len(archs), 0))
        if not isinstance(features, Featurizer):
            return np.asarray(features(list(archs)), dtype=np.float64)
        new = [a for a in dict.fromkeys(archs) if a not in self._cache]
        if new and not hasattr(features, "feature_names_"):
            # fit on the pool (its rows are then known), else on the first architectures
            first = list(self.pool.archs) if self.pool is not None else new
            self._cache.update(zip(first, features.fit_transform(first).values))
            new = [a for a in new if a not in self._cache]
        if new:
            self._cache.update(zip(new, features.transform(new).values))
        rows = [self._cache[a] for a in archs]
        return np.stack(rows) if rows else np.zeros((0, 0))

    def _pool_features(self) -> np.ndarray:
        assert self.pool is not None
        if self._pool_x is None:
            x = self._encode(self.pool.archs)
            if self.use_scores:
                x = np.hstack([x, self.pool.standardised("gauss")])
            self._pool_x = x
        return self._pool_x

    def _features(self, archs: Sequence[str]) -> np.ndarray:
        if self.pool is not None and all(a in self.pool for a in archs):
            x = self._pool_features()
            return x[[self.pool.index(a) for a in archs]]
        x = self._encode(archs)
        if self.use_scores:  # archs outside the pool have no scores: the pool mean (0)
            assert self.pool is not None
            x = np.hstack([x, np.zeros((len(archs), len(self.pool.proxies)))])
        return x

    # ---- predictor ---------------------------------------------------------------------
    def _new_predictor(self, seed: int) -> Any:
        p = self.predictor
        if p is None:
            return default_predictor(seed)
        if not isinstance(p, type) and hasattr(p, "fit") and hasattr(p, "predict_dist"):
            return p.clone() if hasattr(p, "clone") else p
        return p(seed)

    # ---- proposals ---------------------------------------------------------------------
    def _propose(self) -> str:
        n = len(self._history)
        if n < self.n_init:
            return self._propose_init()
        return self._propose_bo()

    def _propose_init(self) -> str:
        if self.init == "random":
            return self._random_new(self._rng())
        assert self.pool is not None and self.pool.scores is not None
        if self._init_order is None:
            self._init_order = self.init_order(limit=self.n_init + len(self._values))
        for i in self._init_order:
            arch = self.pool.archs[int(i)]
            if arch not in self._values:
                return arch
        if len(self._init_order) < len(self.pool):  # a partial order used up: all of it
            self._init_order = self.init_order(limit=None)
            return self._propose_init()
        raise SearchExhausted(f"all {len(self.pool)} candidates of the pool have been evaluated")

    def init_order(self, limit: int | None = None) -> np.ndarray:
        """Pool indices in the zero-cost warm-up's order, best first (``init`` "proxy" or
        "pareto"); with ``limit``, at least its first ``limit`` entries."""
        if self.pool is None or self.pool.scores is None or self.init == "random":
            raise ValueError("the warm-up order needs init 'proxy' or 'pareto' and scores")
        scores = self.pool.scores
        if self.init == "pareto":
            return nondominated_order(scores, limit=limit)
        ranks = np.stack([normalised_ranks(c) for c in scores.T])
        signal = np.nanmean(ranks, axis=0)
        return np.argsort(-np.nan_to_num(signal, nan=-1.0), kind="stable")

    def _candidates(self, rng: np.random.Generator) -> list[str]:
        if self.pool is not None and len(self.pool) <= self.max_pool_score:
            left = [a for a in self.pool.archs if a not in self._values]
            if not left:
                raise SearchExhausted(
                    f"all {len(self.pool)} candidates of the pool have been evaluated"
                )
            return left
        assert self.space is not None
        out: dict[str, None] = {}
        parents = [e.arch for e in self._best_evaluations(self.n_parents)]
        per_parent = max(1, self.n_candidates // (2 * len(parents)))
        for parent in parents:
            for j in range(per_parent):
                child = self.space.mutate(parent, rng)
                if j % 2 == 1:
                    child = self.space.mutate(child, rng)
                if self._is_new(child):
                    out.setdefault(child, None)
        tries = 0
        while len(out) < self.n_candidates and tries < 4 * self.n_candidates:
            tries += 1
            try:
                out.setdefault(self._random_new(rng), None)
            except SearchExhausted:
                break
        if not out:
            out[self._random_new(rng)] = None
        return list(out)

    def _propose_bo(self) -> str:
        rng = self._rng()
        told = [e for e in self._history if math.isfinite(e.value)]
        y = np.array([self._oriented(e.value) for e in told])
        candidates = self._candidates(rng)
        if len(told) < 2 or np.ptp(y) == 0:
            return candidates[int(rng.integers(len(candidates)))]
        y = (y - y.mean()) / y.std()
        model = self._new_predictor(int(rng.integers(2**31 - 1)))
        model.fit(self._features([e.arch for e in told]), y)
        self.last_fit_size = len(told)
        mean, std = model.predict_dist(self._features(candidates))
        mean = np.asarray(mean, dtype=np.float64)
        std = np.maximum(np.asarray(std, dtype=np.float64), 0.0)
        acq = self._acquire(mean, std, float(y.max()), rng)
        return candidates[int(np.argmax(acq))]

    def _acquire(
        self, mean: np.ndarray, std: np.ndarray, best: float, rng: np.random.Generator
    ) -> np.ndarray:
        if self.acquisition == "its":
            return mean + std * rng.standard_normal(mean.shape)
        if self.acquisition == "ucb":
            return mean + self.ucb_beta * std
        from scipy.stats import norm

        safe = np.where(std > 0, std, 1.0)
        z = (mean - best) / safe
        ei = (mean - best) * norm.cdf(z) + safe * norm.pdf(z)
        return np.where(std > 0, ei, np.maximum(mean - best, 0.0))

    def _observe(self, evaluation: Evaluation, was_pending: bool) -> None:
        pass

    def _info(self) -> dict[str, Any]:
        return {
            "acquisition": self.acquisition,
            "encoding": self.encoding,
            "proxy_features": list(self.pool.proxies) if self.use_scores and self.pool else [],
            "init": self.init,
            "n_init": self.n_init,
        }
