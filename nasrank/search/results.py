"""Frozen records of a search: one :class:`Evaluation` per query, one :class:`SearchResult`
per run (best-so-far curve, queries to a target, JSON form)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Evaluation", "SearchResult"]


@dataclass(frozen=True)
class Evaluation:
    """One evaluated architecture.

    Attributes:
        arch: Canonical architecture id.
        value: Objective value as the objective reports it (accuracy, loss, ...); NaN when
            the evaluation failed.
        cost: Seconds the evaluation took or would have taken (simulated training time of
            a benchmark table); NaN when unknown.
    """

    arch: str
    value: float
    cost: float = math.nan

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"arch": self.arch, "value": _finite_or_none(self.value)}
        if not math.isnan(self.cost):
            out["cost"] = self.cost
        return out


def _finite_or_none(v: float) -> float | None:
    return v if math.isfinite(v) else None


@dataclass(frozen=True)
class SearchResult:
    """The record of one search run.

    Attributes:
        method: Registry name of the searcher.
        seed: Its seed.
        budget: Distinct queries allowed.
        maximize: Whether larger objective values are better.
        evaluations: Distinct evaluations in query order.
        restored: How many of them were replayed from storage rather than queried.
    """

    method: str
    seed: int
    budget: int
    maximize: bool
    evaluations: tuple[Evaluation, ...]
    restored: int = 0
    info: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def queries(self) -> int:
        return len(self.evaluations)

    def _oriented(self) -> np.ndarray:
        v = np.array([e.value for e in self.evaluations], dtype=np.float64)
        v = v if self.maximize else -v
        return np.where(np.isnan(v), -np.inf, v)

    @property
    def best(self) -> Evaluation | None:
        """The first evaluation with the best value (``None`` if nothing was evaluated)."""
        if not self.evaluations:
            return None
        return self.evaluations[int(np.argmax(self._oriented()))]

    def best_so_far(self) -> np.ndarray:
        """Best value after each query (objective's own orientation).

        Shapes:
            ``(queries,)``.
        """
        if not self.evaluations:
            return np.zeros(0)
        running = np.maximum.accumulate(self._oriented())
        running = np.where(np.isinf(running), np.nan, running)
        return running if self.maximize else -running

    def queries_to(self, target: float, *, tol: float = 1e-9) -> int | None:
        """Number of queries until a value at least as good as ``target`` was seen."""
        goal = target if self.maximize else -target
        hits = np.nonzero(self._oriented() >= goal - tol)[0]
        return int(hits[0]) + 1 if hits.size else None

    def top(self, k: int) -> list[Evaluation]:
        """The ``k`` best distinct evaluations, best first."""
        order = np.argsort(-self._oriented(), kind="stable")
        return [self.evaluations[i] for i in order[:k]]

    def to_dict(self) -> dict[str, Any]:
        best = self.best
        return {
            "method": self.method,
            "seed": self.seed,
            "budget": self.budget,
            "queries": self.queries,
            "restored": self.restored,
            "best": best.to_dict() if best is not None else None,
            "history": [e.to_dict() for e in self.evaluations],
        }
