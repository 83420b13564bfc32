"""Rank ensembles of proxies over a candidate pool, used like any other ranking signal.

A proxy scores one model; an ensemble scores a *pool*: given one score dict per
candidate (as :func:`~nasrank.proxies.engine.score` returns them), it returns one value
per candidate. :class:`RankEnsemble` averages each member proxy's normalised rank over the
pool (rank 0 = worst, 1 = best), so members on different scales weigh equally and a
monotone transform of a member changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from nasrank.proxies.registry import PROXIES

__all__ = ["RankEnsemble", "LABEL_FREE_ENSEMBLE", "label_free_ensemble", "normalised_ranks"]


def normalised_ranks(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Ranks of ``values`` scaled to ``[0, 1]`` (ties averaged; NaN stays NaN).

    Shapes:
        ``(P,)`` -> ``(P,)``.
    """
    from scipy.stats import rankdata

    v = np.asarray(values, dtype=np.float64)
    out = np.full(v.shape, np.nan)
    ok = ~np.isnan(v)
    n = int(ok.sum())
    if n == 1:
        out[ok] = 0.5
    elif n > 1:
        out[ok] = (rankdata(v[ok], method="average") - 1.0) / (n - 1)
    return out


@dataclass(frozen=True)
class RankEnsemble:
    """Mean normalised rank of several proxies over a pool.

    Args:
        proxies: Member proxy names (keys of the score dicts).
        name: Name under which the signal is reported.
        weights: Optional non-negative weight per member (default equal).

    A candidate's value is the weighted mean of its members' normalised ranks over the
    members that are finite for it (NaN if none is). Larger = predicted better.
    """

    proxies: tuple[str, ...]
    name: str = "ensemble"
    weights: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if not self.proxies:
            raise ValueError("a RankEnsemble needs at least one member proxy")
        if self.weights is not None:
            if len(self.weights) != len(self.proxies):
                raise ValueError(
                    f"got {len(self.weights)} weights for {len(self.proxies)} proxies"
                )
            if any(w < 0 for w in self.weights) or sum(self.weights) <= 0:
                raise ValueError(f"weights must be non-negative, not all 0; got {self.weights}")

    def __call__(self, pool: Sequence[Mapping[str, float]]) -> np.ndarray:
        """One value per candidate of ``pool`` (a missing member counts as NaN).

        Shapes:
            ``P`` score dicts -> ``(P,)``.
        """
        if len(pool) == 0:
            return np.zeros(0)
        ranks = np.stack([
            normalised_ranks([float(s.get(name, np.nan)) for s in pool]) for name in self.proxies
        ])  # (M, P)
        w = np.ones(len(self.proxies)) if self.weights is None else np.asarray(self.weights)
        ok = ~np.isnan(ranks)
        wsum = (w[:, None] * ok).sum(0)
        total = (w[:, None] * np.where(ok, ranks, 0.0)).sum(0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(wsum > 0, total / np.where(wsum > 0, wsum, 1.0), np.nan)


#: Members of the default label-free ensemble: one proxy from each label-free family --
#: feature correlation (MeCo), input-Jacobian correlation (jacov) and data-free synaptic
#: flow (synflow). Chosen on NB-201 by split-half selection over every 2-4 member
#: combination of label-free proxies (see ``docs/BENCHMARKS.md``).
LABEL_FREE_ENSEMBLE = RankEnsemble(("meco", "jacov", "synflow"), name="label_free_ensemble")


def label_free_ensemble(
    pool: Sequence[Mapping[str, float]],
    proxies: Sequence[str] | None = None,
) -> np.ndarray:
    """The label-free ensemble signal: mean normalised rank of label-free proxies.

    Args:
        pool: One score dict per candidate architecture.
        proxies: Members (default ``LABEL_FREE_ENSEMBLE.proxies``); each must be a
            registered proxy that needs no labels.

    Returns:
        ``(P,)`` values, larger = predicted better.

    Raises:
        ValueError: A member needs labels.
        UnknownNameError: A member is not a registered proxy.
    """
    members = tuple(proxies) if proxies is not None else LABEL_FREE_ENSEMBLE.proxies
    for name in members:
        if PROXIES.get(name).needs_labels:
            raise ValueError(f"proxy {name!r} needs labels; a label-free ensemble cannot use it")
    return RankEnsemble(members, name="label_free_ensemble")(pool)
