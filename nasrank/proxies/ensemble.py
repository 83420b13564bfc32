"""Rank ensembles of proxies over a candidate pool, used like any other ranking signal.

A proxy scores one model; an ensemble scores a *pool*: given one score dict per
candidate (as :func:`~nasrank.proxies.engine.score` returns them), it returns one value
per candidate, computed from the members' ranks over the pool, so members on different
scales weigh equally and a monotone transform of a member changes nothing. Some
published "proxies" are such aggregations and exist only over a pool -- AZ-NAS (Lee &
Ham, CVPR 2024) and VKDNW_agg (Tybl & Neumann, CVPR 2025) -- so they live here, not in
the per-model registry: :data:`AZ_NAS`, :data:`VKDNW_AGG`, and :data:`ENSEMBLES` by name.

Aggregations (:class:`RankEnsemble` ``aggregation=``), with ``r_m`` the member's rank
among the ``n`` candidates (1 = worst, ties averaged):

* ``"mean"``: weighted mean of normalised ranks ``(r_m - 1) / (n - 1)`` in ``[0, 1]``
  (the label-free ensemble; a Borda count);
* ``"geometric"``: weighted geometric mean of relative ranks ``r_m / n`` in ``(0, 1]``;
* ``"log_rank"``: ``sum_m w_m log(r_m / n)``, the log of the product of relative ranks
  -- AZ-NAS's non-linear aggregation, which favours candidates ranked well by *every*
  member (one bad rank costs more than in a mean). It orders candidates as
  ``"geometric"`` does; the values are AZ-NAS's.

A member that is NaN for a candidate is, with ``missing="skip"``, left out of that
candidate's aggregate (``"log_rank"`` then scales the remaining members' sum to the full
weight, i.e. imputes their mean log rank), and with ``missing="worst"`` ranked below every
finite value (ties among the NaNs averaged) -- AZ-NAS's and VKDNW's reference code turn a
NaN score into ``-inf``, which ranks it so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from nasrank.proxies.registry import PROXIES, note_pool_signal

__all__ = [
    "AGGREGATIONS",
    "AZ_NAS",
    "ENSEMBLES",
    "LABEL_FREE_ENSEMBLE",
    "RankEnsemble",
    "VKDNW_AGG",
    "label_free_ensemble",
    "normalised_ranks",
    "parse_ensemble",
    "relative_ranks",
]

#: The aggregations a :class:`RankEnsemble` offers (see the module docstring).
AGGREGATIONS: tuple[str, ...] = ("mean", "geometric", "log_rank")
#: How a NaN member is treated.
MISSING: tuple[str, ...] = ("skip", "worst")


def _ranks(values: Sequence[float] | np.ndarray, missing: str) -> tuple[np.ndarray, int]:
    """``(ranks 1..n with ties averaged, NaN where skipped; n)``."""
    from scipy.stats import rankdata

    v = np.asarray(values, dtype=np.float64)
    out = np.full(v.shape, np.nan)
    if missing == "worst":
        return rankdata(np.where(np.isnan(v), -np.inf, v), method="average"), int(v.size)
    ok = ~np.isnan(v)
    n = int(ok.sum())
    if n:
        out[ok] = rankdata(v[ok], method="average")
    return out, n


def normalised_ranks(values: Sequence[float] | np.ndarray, missing: str = "skip") -> np.ndarray:
    """Ranks of ``values`` scaled to ``[0, 1]`` (ties averaged; NaN stays NaN, or with
    ``missing="worst"`` ranks below every finite value). A single candidate gets 0.5.

    Shapes:
        ``(P,)`` -> ``(P,)``.
    """
    r, n = _ranks(values, missing)
    if n == 1:
        return np.where(np.isnan(r), np.nan, 0.5)
    return (r - 1.0) / (n - 1) if n > 1 else r


def relative_ranks(values: Sequence[float] | np.ndarray, missing: str = "skip") -> np.ndarray:
    """Ranks of ``values`` divided by their count, in ``(0, 1]`` (1 = the best; ties
    averaged; NaN as in :func:`normalised_ranks`): AZ-NAS's ``rankdata(s) / P``.

    Shapes:
        ``(P,)`` -> ``(P,)``.
    """
    r, n = _ranks(values, missing)
    return r / n if n else r


@dataclass(frozen=True)
class RankEnsemble:
    """A rank aggregation of several proxies over a pool.

    Args:
        proxies: Member proxy names (keys of the score dicts).
        name: Name under which the signal is reported.
        weights: Optional non-negative weight per member (default equal).
        aggregation: ``"mean"`` (default), ``"geometric"`` or ``"log_rank"`` (see the
            module docstring).
        missing: ``"skip"`` (default) or ``"worst"``: how a NaN member counts.
        citation: Where the aggregation was published, if it was.

    Calling it on a pool (one score dict per candidate) gives one value per candidate,
    larger = predicted better; NaN only where every member is NaN and ``missing`` is
    ``"skip"``.
    """

    proxies: tuple[str, ...]
    name: str = "ensemble"
    weights: tuple[float, ...] | None = None
    aggregation: str = "mean"
    missing: str = "skip"
    citation: str = ""

    def __post_init__(self) -> None:
        if not self.proxies:
            raise ValueError("a RankEnsemble needs at least one member proxy")
        if len(set(self.proxies)) != len(self.proxies):
            raise ValueError(f"a RankEnsemble's members must differ; got {self.proxies}")
        if self.weights is not None:
            if len(self.weights) != len(self.proxies):
                raise ValueError(f"got {len(self.weights)} weights for {len(self.proxies)} proxies")
            if any(w < 0 for w in self.weights) or sum(self.weights) <= 0:
                raise ValueError(f"weights must be non-negative, not all 0; got {self.weights}")
        if self.aggregation not in AGGREGATIONS:
            raise ValueError(
                f"unknown aggregation {self.aggregation!r}; expected one of "
                f"{', '.join(AGGREGATIONS)}"
            )
        if self.missing not in MISSING:
            raise ValueError(
                f"unknown missing-value rule {self.missing!r}; expected one of {', '.join(MISSING)}"
            )

    @property
    def needs_labels(self) -> bool:
        """Whether a member needs labels (unregistered members count as label-free)."""
        return any(n in PROXIES and PROXIES.get(n).needs_labels for n in self.proxies)

    def __call__(self, pool: Sequence[Mapping[str, float]]) -> np.ndarray:
        """One value per candidate of ``pool`` (a missing member counts as NaN).

        Shapes:
            ``P`` score dicts -> ``(P,)``.
        """
        if len(pool) == 0:
            return np.zeros(0)
        columns = [[float(s.get(name, np.nan)) for s in pool] for name in self.proxies]
        if self.aggregation == "mean":
            ranks = np.stack([normalised_ranks(c, self.missing) for c in columns])  # (M, P)
        else:
            ranks = np.log(np.stack([relative_ranks(c, self.missing) for c in columns]))
        w = np.ones(len(self.proxies)) if self.weights is None else np.asarray(self.weights)
        ok = ~np.isnan(ranks)
        wsum = (w[:, None] * ok).sum(0)
        total = (w[:, None] * np.where(ok, ranks, 0.0)).sum(0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(wsum > 0, total / np.where(wsum > 0, wsum, 1.0), np.nan)
        if self.aggregation == "geometric":
            return np.exp(mean)
        if self.aggregation == "log_rank":
            return mean * w.sum()
        return mean


#: The default label-free ensemble: the mean rank of MeCo (feature correlation), FLOPs
#: and AZ-NAS's expressivity, NaN members ranked worst. Chosen on a space it is not
#: reported on: every 2-5 member mean/log-rank ensemble of 12 label-free proxies, ranked
#: by Kendall tau on 200 NAS-Bench-101 Suite-Zero architectures, then the one-standard-
#: error rule (``benchmarks/label_free_ensemble.py``; figures in ``docs/BENCHMARKS.md``).
#: It replaced meco+jacov+synflow, chosen on NB-201 itself, whose tau on NB-101 is 0.37.
LABEL_FREE_ENSEMBLE = RankEnsemble(
    ("meco", "flops", "az_expressivity"), name="label_free_ensemble", missing="worst"
)

#: AZ-NAS (Lee & Ham, "AZ-NAS: Assembling Zero-Cost Proxies for Network Architecture
#: Search", CVPR 2024, Eq. 8): ``sum log(rank / P)`` over expressivity, progressivity,
#: trainability and complexity (FLOPs), a NaN member ranked worst as the reference's
#: ``-inf`` is. Label-free.
AZ_NAS = RankEnsemble(
    ("az_expressivity", "az_progressivity", "az_trainability", "flops"),
    name="az_nas",
    aggregation="log_rank",
    missing="worst",
    citation="Lee & Ham, AZ-NAS: Assembling Zero-Cost Proxies for Network Architecture "
    "Search, CVPR 2024",
)

#: VKDNW_agg (Tybl & Neumann, "Training-free Neural Architecture Search through Variance
#: of Knowledge of Deep Network Weights", CVPR 2025): ``sum log rank`` over VKDNW_single
#: (the FIM dimension, then VKDNW: ``vkdnw_single``), jacov, AZ-NAS's expressivity and
#: trainability, and FLOPs -- the authors' ``vkdnw_comb_rank`` (ondratybl/VKDNW
#: ``NB201/tss_utils.py``). Label-free.
VKDNW_AGG = RankEnsemble(
    ("vkdnw_single", "jacov", "az_expressivity", "az_trainability", "flops"),
    name="vkdnw_agg",
    aggregation="log_rank",
    missing="worst",
    citation="Tybl & Neumann, Training-free Neural Architecture Search through Variance "
    "of Knowledge of Deep Network Weights, CVPR 2025",
)

#: The named ensembles, by name: reported by ``nasrank correlate`` when their members are
#: scored, and accepted there in ``--proxies`` (each standing for its members).
ENSEMBLES: dict[str, RankEnsemble] = {e.name: e for e in (LABEL_FREE_ENSEMBLE, AZ_NAS, VKDNW_AGG)}
for _ens in ENSEMBLES.values():
    note_pool_signal(_ens.name, _ens.proxies)


def parse_ensemble(text: str) -> RankEnsemble:
    """A rank ensemble from its spelling on the command line.

    ``"meco+jacov+synflow"`` is the mean-rank ensemble of three proxies;
    ``"meco+jacov+synflow:log_rank"`` names the aggregation (``mean``, ``geometric``,
    ``log_rank``); ``"2*meco+jacov"`` weighs a member; a name of :data:`ENSEMBLES`
    (``az_nas``, ``vkdnw_agg``, ``label_free_ensemble``) is that ensemble. NaN members
    count as ``missing="worst"`` (a proxy is NaN where the network's output ignores its
    input or weights), except in a named ensemble, which keeps its own rule.

    Raises:
        ValueError: Malformed text (the message says what is expected), an unknown
            aggregation or proxy, or a member given twice.
    """
    from nasrank.errors import UnknownNameError

    text = text.strip()
    if text in ENSEMBLES:
        return ENSEMBLES[text]
    body, _, aggregation = text.partition(":")
    terms = [t.strip() for t in body.split("+")]
    if len(terms) < 2 or not all(terms):
        raise ValueError(
            f"ensemble {text!r}: expected two or more proxies joined by '+', optionally "
            f"':AGGREGATION' ({', '.join(AGGREGATIONS)}), e.g. meco+jacov+synflow:log_rank"
        )
    members, weights = [], []
    for term in terms:
        weight, star, name = term.rpartition("*")
        try:
            weights.append(float(weight) if star else 1.0)
        except ValueError:
            raise ValueError(f"ensemble {text!r}: weight {weight!r} is not a number") from None
        name = name.strip()
        try:
            PROXIES.get(name)
        except UnknownNameError as exc:
            raise ValueError(f"ensemble {text!r}: {exc}") from None
        members.append(name)
    return RankEnsemble(
        tuple(members),
        name=text,
        weights=None if all(w == 1.0 for w in weights) else tuple(weights),
        aggregation=aggregation.strip() or "mean",
        missing="worst",
    )


def label_free_ensemble(
    pool: Sequence[Mapping[str, float]],
    proxies: Sequence[str] | None = None,
    *,
    aggregation: str = "mean",
    missing: str = "worst",
) -> np.ndarray:
    """The label-free ensemble signal: a rank aggregation of label-free proxies.

    Args:
        pool: One score dict per candidate architecture.
        proxies: Members (default ``LABEL_FREE_ENSEMBLE.proxies``); each must be a
            registered proxy that needs no labels.
        aggregation: ``"mean"`` (default), ``"geometric"`` or ``"log_rank"``.
        missing: ``"worst"`` (default, as :data:`LABEL_FREE_ENSEMBLE`) or ``"skip"``.

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
    return RankEnsemble(
        members, name="label_free_ensemble", aggregation=aggregation, missing=missing
    )(pool)
