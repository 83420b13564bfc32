"""RoBoT: Bayesian optimisation of the weights of a linear proxy combination, then greedy
exploitation (He, Lin, Dai, Foo, Low & Ng, "Robustifying and Boosting Training-Free Neural
Architecture Search", ICLR 2024; reference implementation: github.com/hzf1174/RoBoT).

Re-implemented from the paper on Optuna's public API (``create_study``, ``GPSampler``,
``Study.ask``/``Study.tell``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from nasrank.search._optuna import quiet_optuna
from nasrank.search.base import SEARCHERS, Evaluation, Searcher, SearchExhausted

__all__ = ["RoBoT"]


@SEARCHERS.register("robot")
class RoBoT(Searcher):
    """Robustified, boosted training-free NAS: BO over proxy weights, then exploitation.

    The ``M`` proxy scores of the pool are standardised per proxy (``transform``). A
    weight vector ``w`` in ``weight_bounds^M`` ranks the pool by ``sum_m w_m z_m(A)``.

    Phase 1 (Bayesian optimisation): Optuna's Gaussian-process sampler proposes ``w``,
    the objective is queried on the pool's argmax under ``w`` and its value is the
    trial's value; when the argmax was already evaluated the trial costs no query (its
    known value is told again). The first trial is the equal-weight combination (the
    mean standardised score, i.e. the plain proxy ensemble), then come
    ``n_startup_trials - 1`` random weight vectors and GP-proposed ones. Phase 1 ends
    after ``bo_trials`` trials (free ones included: the reference implementation runs a
    fixed number of BO iterations and its ``T0`` is the number of distinct argmaxes they
    hit), after ``bo_queries`` distinct queries, or when ``patience`` consecutive
    GP-proposed trials repeat an evaluated argmax. Phase 2 (exploitation): the
    candidates are queried in the order of the best trial's ranking, skipping evaluated
    ones, until the budget is spent.

    Weights are non-negative by default: every registered proxy is oriented larger =
    better, so a negative weight would ask for architectures a proxy predicts to be
    worse (the paper searches ``[-1, 1]^M`` for metrics of unknown orientation; pass
    ``weight_bounds=(-1, 1)`` for that). On a finite pool, the argmax regions of
    non-negative weights are the supported points of the pool's proxy Pareto front.

    The defaults (10 startup trials, 2 GP trials) keep the BO phase short. Measured on
    the NAS-Bench-Suite-Zero NB-201 pools (``benchmarks/search_nb201.py``), a longer GP
    phase finds weights whose argmax is better but whose ranking puts the pool's best
    architecture lower (CIFAR-10: every better argmax region ranks it 21st or worse,
    the equal weights 8th), so exploitation starts from a worse ranking; raise
    ``bo_trials`` when the budget is large.

    Args:
        bo_trials: Weight trials (free ones included) of the BO phase.
        bo_queries: Most distinct queries spent in the BO phase.
        patience: Consecutive free GP-proposed trials that end the BO phase early.
        n_startup_trials: Trials before the GP takes over, the equal-weight trial
            included (Optuna's ``GPSampler(n_startup_trials=...)``; 10 is its default).
        transform: Per-proxy standardisation: ``"gauss"``, ``"zscore"`` or ``"rank"``
            (see :func:`nasrank.search.pool.standardise`).
        weight_bounds: ``(low, high)`` of every weight; the equal-weight trial sets all
            of them to ``high``.
        **kwargs: See :class:`~nasrank.search.base.Searcher`; ``pool`` with scores is
            required.

    Attributes:
        sampler: The ``optuna.samplers.GPSampler`` used (after the first :meth:`ask`).
        study: The in-memory Optuna study of weight trials.
    """

    name = "robot"
    needs_scores = True

    def __init__(
        self,
        space: Any = None,
        *,
        bo_trials: int = 12,
        bo_queries: int = 10,
        patience: int = 5,
        n_startup_trials: int = 10,
        transform: str = "gauss",
        weight_bounds: tuple[float, float] = (0.0, 1.0),
        **kwargs: Any,
    ) -> None:
        super().__init__(space, **kwargs)
        if bo_trials < 0 or bo_queries < 0 or patience < 1 or n_startup_trials < 0:
            raise ValueError(
                "need bo_trials >= 0, bo_queries >= 0, patience >= 1 and "
                f"n_startup_trials >= 0; got {bo_trials}, {bo_queries}, {patience}, "
                f"{n_startup_trials}"
            )
        low, high = (float(b) for b in weight_bounds)
        if not (math.isfinite(low) and math.isfinite(high) and low < high and high > 0):
            raise ValueError(
                f"weight_bounds must be finite (low, high) with low < high and high > 0; "
                f"got {tuple(weight_bounds)}"
            )
        assert self.pool is not None
        self.bo_trials = bo_trials
        self.bo_queries = bo_queries
        self.patience = patience
        self.n_startup_trials = n_startup_trials
        self.transform = transform
        self.weight_bounds = (low, high)
        self._z = self.pool.standardised(transform)  # (P, M)
        self._m = self._z.shape[1]
        self.study: Any = None
        self.sampler: Any = None
        self._pending_trial: tuple[Any, np.ndarray, str] | None = None
        self._weights: list[tuple[np.ndarray, float]] = []  # (w, oriented value) per trial
        self._bo_queries_done = 0
        self._free_streak = 0
        self._phase = "bo"
        self._ranking: np.ndarray | None = None
        self._cursor = 0

    # ---- the weight study --------------------------------------------------------------
    def _make_study(self) -> None:
        import optuna

        with quiet_optuna():
            self.sampler = optuna.samplers.GPSampler(
                seed=self.seed,
                n_startup_trials=self.n_startup_trials,
                deterministic_objective=True,
                independent_sampler=optuna.samplers.RandomSampler(seed=self.seed),
                warn_independent_sampling=False,
            )
            self.study = optuna.create_study(direction="maximize", sampler=self.sampler)
            high = self.weight_bounds[1]
            self.study.enqueue_trial({f"w{j}": high for j in range(self._m)})
        self._distributions = {
            f"w{j}": optuna.distributions.FloatDistribution(*self.weight_bounds)
            for j in range(self._m)
        }

    def _argmax(self, w: np.ndarray) -> str:
        assert self.pool is not None
        return self.pool.archs[int(np.argmax(self._z @ w))]

    def _tell_trial(self, trial: Any, w: np.ndarray, value: float) -> None:
        import optuna

        oriented = self._oriented(value)
        with quiet_optuna():
            if math.isinf(oriented):
                self.study.tell(trial, state=optuna.trial.TrialState.FAIL)
            else:
                self.study.tell(trial, oriented)
        self._weights.append((w, oriented))

    # ---- Searcher ----------------------------------------------------------------------
    def _propose(self) -> str:
        if self._phase == "bo":
            arch = self._propose_bo()
            if arch is not None:
                return arch
            self._phase = "exploit"
        return self._propose_exploit()

    def _propose_bo(self) -> str | None:
        if self.study is None:
            self._make_study()
        while (
            len(self._weights) < self.bo_trials
            and self._bo_queries_done < self.bo_queries
            and self._free_streak < self.patience
        ):
            if self._pending_trial is not None:
                trial, w, arch = self._pending_trial
                if arch not in self._values:
                    return arch
                # told from outside the loop: finish the trial with the known value
                self._pending_trial = None
                self._tell_trial(trial, w, self._values[arch])
                continue
            with quiet_optuna():
                trial = self.study.ask(self._distributions)
            w = np.array([trial.params[f"w{j}"] for j in range(self._m)])
            arch = self._argmax(w)
            if arch in self._values:  # repeated argmax: free
                self._tell_trial(trial, w, self._values[arch])
                if len(self._weights) > self.n_startup_trials:  # a GP proposal repeated
                    self._free_streak += 1
                continue
            self._pending_trial = (trial, w, arch)
            return arch
        return None

    def ranking(self) -> np.ndarray:
        """Pool indices, best first, under the best weights so far (equal weights before
        the first trial); ties keep pool order."""
        w = self.best_weights
        score = self._z @ w if w is not None else self._z.sum(1)
        return np.argsort(-score, kind="stable")

    def _propose_exploit(self) -> str:
        assert self.pool is not None
        if self._ranking is None:
            self._ranking = self.ranking()
        while self._cursor < len(self._ranking):
            arch = self.pool.archs[int(self._ranking[self._cursor])]
            if arch not in self._values:
                return arch
            self._cursor += 1
        raise SearchExhausted(f"all {len(self.pool)} candidates of the pool have been evaluated")

    def _observe(self, evaluation: Evaluation, was_pending: bool) -> None:
        if self._pending_trial is not None and evaluation.arch == self._pending_trial[2]:
            trial, w, _ = self._pending_trial
            self._pending_trial = None
            self._tell_trial(trial, w, evaluation.value)
            self._bo_queries_done += 1
            self._free_streak = 0

    # ---- results -----------------------------------------------------------------------
    @property
    def best_weights(self) -> np.ndarray | None:
        """The weights of the best trial so far, or ``None`` before the first trial.

        Trials tied at the best value (their argmax is the same architecture, as happens
        for every repeated argmax) are averaged: the set of weights with a given argmax is
        a convex cone, so the mean stays in it and sits away from its boundary.
        """
        if not self._weights:
            return None
        top = max(v for _, v in self._weights)
        tied = [w for w, v in self._weights if v == top]
        return np.mean(tied, axis=0)

    @property
    def n_trials(self) -> int:
        """Weight trials told so far (free ones included)."""
        return len(self._weights)

    def _info(self) -> dict[str, Any]:
        assert self.pool is not None
        w = self.best_weights
        return {
            "trials": self.n_trials,
            "bo_queries": self._bo_queries_done,
            "best_weights": (
                {p: float(v) for p, v in zip(self.pool.proxies, w)} if w is not None else None
            ),
        }
