"""The benchmark interface: ground-truth metrics of architectures, looked up by id."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from nasrank.errors import InvalidArchitecture, NotInBenchmark, UnknownNameError
from nasrank.spaces import get_space

if TYPE_CHECKING:
    from nasrank.spaces import SearchSpace

__all__ = ["Benchmark", "is_lower_better"]

_LOWER_IS_BETTER_WORDS = ("loss", "error", "latency", "perplexity", "ppl", "time", "regret")


def is_lower_better(metric: str) -> bool:
    """Heuristic orientation of a metric from its name (losses, errors, latency...)."""
    lowered = metric.lower()
    return any(word in lowered for word in _LOWER_IS_BETTER_WORDS)


class Benchmark:
    """A table of metrics for a set of architectures of one search space.

    Architectures are stored under their canonical ids (when the space is known), so
    :meth:`query` accepts any spelling the space parses. Missing values are NaN.

    Args:
        name: Display name ("nb201-analog", "suite-zero:PATH[cifar10]", ...).
        space: Registry name of the search space, or ``None`` for opaque ids.
        archs: Canonical ids, one per row.
        values: Metric name -> array aligned with ``archs``.
        default_metric: The metric a search optimises unless told otherwise.
        lower_is_better: Metrics where smaller is better (losses, errors, latency).
        description: One line for listings.
    """

    def __init__(
        self,
        *,
        name: str,
        space: str | None,
        archs: Sequence[str],
        values: Mapping[str, Sequence[float] | np.ndarray],
        default_metric: str,
        lower_is_better: Iterable[str] = (),
        description: str = "",
    ) -> None:
        if default_metric not in values:
            raise ValueError(f"default metric {default_metric!r} not among {sorted(values)}")
        self.name = name
        self.space = space
        self.description = description
        self._archs = list(archs)
        self._index = {a: i for i, a in enumerate(self._archs)}
        if len(self._index) != len(self._archs):
            raise ValueError(f"benchmark {name!r} has duplicate architecture ids")
        self._values = {m: np.asarray(v, dtype=np.float64) for m, v in values.items()}
        for m, v in self._values.items():
            if v.shape != (len(self._archs),):
                raise ValueError(f"metric {m!r} has {v.shape} values for {len(self._archs)} archs")
        self.default_metric = default_metric
        self._lower = frozenset(lower_is_better)
        self._space_impl: SearchSpace | None = None

    # ---- metadata ----------------------------------------------------------------------
    @property
    def metrics(self) -> tuple[str, ...]:
        return tuple(self._values)

    def higher_is_better(self, metric: str | None = None) -> bool:
        return self._metric(metric) not in self._lower

    def __len__(self) -> int:
        return len(self._archs)

    def __contains__(self, arch: object) -> bool:
        try:
            return self._canonical(arch) in self._index
        except InvalidArchitecture:
            return False

    def __repr__(self) -> str:
        return f"Benchmark({self.name!r}, space={self.space!r}, n={len(self)})"

    # ---- lookups -----------------------------------------------------------------------
    def archs(self) -> list[str]:
        """Canonical ids of every architecture in the table, in table order."""
        return list(self._archs)

    def query(self, arch: object, metric: str | None = None) -> float:
        """The value of ``metric`` (default: :attr:`default_metric`) for ``arch``.

        Raises:
            NotInBenchmark: The table has no row for ``arch``.
            UnknownNameError: ``metric`` is not a column of this table.
            InvalidArchitecture: ``arch`` is not a valid id of the space.
        """
        metric = self._metric(metric)
        arch_id = self._canonical(arch)
        try:
            row = self._index[arch_id]
        except KeyError:
            raise NotInBenchmark(
                f"benchmark {self.name!r} has no entry for architecture {arch_id!r} "
                f"({len(self)} architectures covered)"
            ) from None
        return float(self._values[metric][row])

    def column(self, metric: str | None = None) -> np.ndarray:
        """All values of ``metric`` aligned with :meth:`archs` (a copy)."""
        return self._values[self._metric(metric)].copy()

    def oriented(self, metric: str | None = None) -> np.ndarray:
        """:meth:`column` with lower-is-better metrics negated, so larger is better."""
        values = self.column(metric)
        return values if self.higher_is_better(metric) else -values

    def optimum(self, metric: str | None = None) -> tuple[str, float]:
        """The best architecture and its value (NaNs ignored)."""
        return self.top(1, metric)[0]

    def top(self, k: int = 10, metric: str | None = None) -> list[tuple[str, float]]:
        """The ``k`` best architectures by ``metric``, best first (NaNs last, ties by id)."""
        metric = self._metric(metric)
        score = self.oriented(metric)
        order = sorted(
            (i for i in range(len(self._archs)) if not np.isnan(score[i])),
            key=lambda i: (-score[i], self._archs[i]),
        )
        return [(self._archs[i], float(self._values[metric][i])) for i in order[:k]]

    # ---- helpers -----------------------------------------------------------------------
    def _metric(self, metric: str | None) -> str:
        if metric is None:
            return self.default_metric
        if metric not in self._values:
            import difflib

            close = difflib.get_close_matches(metric, list(self._values), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise UnknownNameError(
                f"benchmark {self.name!r} has no metric {metric!r}{hint} "
                f"metrics: {', '.join(self._values)}"
            )
        return metric

    def _canonical(self, arch: object) -> str:
        if self.space is None:
            return str(arch)
        if self._space_impl is None:
            self._space_impl = get_space(self.space)
        return self._space_impl.canonical(arch)
