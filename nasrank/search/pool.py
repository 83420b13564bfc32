"""Candidate pools: the architectures a search may propose, with their proxy scores.

A pool is the whole finite space, a benchmark task's architectures, or ``N`` seeded
samples. Its proxy scores come from one of three places:

* a shipped or exported proxy table (:func:`table_scores`, e.g.
  ``load_table("nb201-cifar10")``): no computation at all; candidates the table does not
  cover are dropped (or refused with ``missing="raise"``);
* the proxy engine (:func:`score_pool`): every model initialised from its own seed and
  every score read from / written to a :class:`~nasrank.store.ScoreStore` (the one
  ``nasrank score-space`` fills; by default :func:`default_store_path`);
* a benchmark's stored score columns (:func:`benchmark_scores`, e.g. the reference
  scores of NAS-Bench-Suite-Zero).

Usage::

    space = get_space("nb201")
    pool = table_scores(make_pool(space, "all"), load_table("nb201-cifar10"),
                        ["synflow", "nwot", "jacov"])
    bench = load_benchmark("suite-zero:zc_nasbench201.json", task="cifar10")
    pool = benchmark_scores(make_pool(space, "benchmark", benchmark=bench), bench,
                            ["synflow", "nwot", "jacov"])
    pool.scores.shape  # (725, 3)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from nasrank.errors import NasrankError, UnknownNameError
from nasrank.proxies import PROXIES, resolve_proxies
from nasrank.store import StoreLike, default_store_path, opened_store, score_archs

if TYPE_CHECKING:
    from torch import nn

    from nasrank.benchmarks import Benchmark
    from nasrank.data import Batch
    from nasrank.spaces import SearchSpace
    from nasrank.tables import ProxyTable

__all__ = [
    "CandidatePool",
    "StoreLike",
    "make_pool",
    "benchmark_scores",
    "score_pool",
    "table_scores",
    "subsample",
    "standardise",
    "stored_proxies",
    "default_store_path",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class CandidatePool:
    """A finite, ordered set of candidate architectures and (optionally) their proxy scores.

    Attributes:
        space: The search space of the ids (``None`` for opaque ids, e.g. custom spaces).
        archs: Canonical ids, no duplicates.
        scores: ``(P, M)`` proxy scores aligned with ``archs`` and ``proxies`` (NaN where
            a proxy failed), or ``None``.
        proxies: Names of the score columns.
        source: Provenance ("nb201 all", "suite-zero ... stored scores", ...).
    """

    space: SearchSpace | None
    archs: tuple[str, ...]
    scores: np.ndarray | None = None
    proxies: tuple[str, ...] = ()
    source: str = ""
    _index: dict[str, int] = field(init=False, repr=False, compare=False)
    _standardised: dict[str, np.ndarray] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        archs = tuple(self.archs)
        object.__setattr__(self, "archs", archs)
        index = {a: i for i, a in enumerate(archs)}
        if len(index) != len(archs):
            raise ValueError("a candidate pool must not contain duplicate architectures")
        if not archs:
            raise NasrankError("the candidate pool is empty; give at least one architecture")
        object.__setattr__(self, "_index", index)
        object.__setattr__(self, "_standardised", {})
        if self.scores is not None:
            scores = np.asarray(self.scores, dtype=np.float64)
            if scores.ndim != 2 or scores.shape != (len(archs), len(self.proxies)):
                raise ValueError(
                    f"scores must have shape (pool size, proxies) = ({len(archs)}, "
                    f"{len(self.proxies)}); got {scores.shape}"
                )
            object.__setattr__(self, "scores", scores)
            object.__setattr__(self, "proxies", tuple(self.proxies))

    def __len__(self) -> int:
        return len(self.archs)

    def __contains__(self, arch: object) -> bool:
        return arch in self._index

    def index(self, arch: str) -> int:
        """Row of ``arch`` (KeyError when it is not in the pool)."""
        return self._index[arch]

    def with_scores(
        self, scores: np.ndarray, proxies: Sequence[str], source: str | None = None
    ) -> CandidatePool:
        """A copy of this pool carrying ``scores`` for ``proxies``."""
        return CandidatePool(self.space, self.archs, scores, tuple(proxies), source or self.source)

    def standardised(self, transform: str = "gauss") -> np.ndarray:
        """Proxy scores standardised per column over the pool (see :func:`standardise`);
        computed once per transform (every seed of a search shares it), returned as a
        fresh copy."""
        if self.scores is None:
            raise ValueError("this pool has no proxy scores")
        if transform not in self._standardised:
            self._standardised[transform] = standardise(self.scores, transform)
        return self._standardised[transform].copy()

    def __repr__(self) -> str:
        return f"CandidatePool(n={len(self)}, proxies={list(self.proxies)}, source={self.source!r})"


def standardise(scores: np.ndarray, transform: str = "gauss") -> np.ndarray:
    """Standardise each column of ``scores`` over the rows: zero mean, unit variance.

    Args:
        scores: ``(P, M)`` raw scores, NaN where missing. Infinite values (a proxy that
            overflowed, log(0) = -inf) count as the extremes they are.
        transform: ``"gauss"`` (normal scores: ranks mapped through the normal quantile
            function; robust to heavy tails and to sentinel values such as NASLib's
            -1e8), ``"rank"`` (uniform ranks) or ``"zscore"`` (the raw values; a column
            whose positive values span more than three decades is log-transformed first,
            infinities are clipped to the finite range).

    Returns:
        ``(P, M)`` finite array; missing values become the column mean (0), constant
        columns become 0.
    """
    from scipy.stats import norm, rankdata

    x = np.array(scores, dtype=np.float64, copy=True)
    if x.ndim != 2:
        raise ValueError(f"scores must be 2-D (pool, proxies); got shape {x.shape}")
    if transform not in ("gauss", "rank", "zscore"):
        raise ValueError(f"unknown transform {transform!r}; choices: gauss, rank, zscore")
    out = np.zeros_like(x)
    for j in range(x.shape[1]):
        col = x[:, j]
        ok = ~np.isnan(col)
        if ok.sum() < 2:
            continue
        v = col[ok]
        if transform in ("rank", "gauss"):
            r = rankdata(v, method="average")
            v = norm.ppf((r - 0.5) / len(r)) if transform == "gauss" else r
        else:
            finite = v[np.isfinite(v)]
            if finite.size == 0:
                continue
            v = np.clip(v, finite.min(), finite.max())
            if v.min() > 0 and v.max() / v.min() > 1e3:
                v = np.log(v)
        std = v.std()
        if std > 0:
            out[ok, j] = (v - v.mean()) / std
    return out


# ---- building pools --------------------------------------------------------------------
def make_pool(
    space: SearchSpace,
    kind: str | int,
    *,
    benchmark: Benchmark | None = None,
    seed: int = 0,
) -> CandidatePool:
    """Build a pool of candidate architectures.

    Args:
        space: The search space.
        kind: ``"all"`` (every architecture of a finite space), ``"benchmark"`` (the
            architectures ``benchmark`` covers) or an integer ``N`` (``N`` distinct seeded
            samples, drawn from the benchmark's architectures when one is given, else from
            the space).
        benchmark: Ground truth the pool must stay inside of (queries outside it fail).
        seed: Seed of the samples.

    Raises:
        NasrankError: The space is not enumerable for ``"all"``, ``"benchmark"`` without
            a benchmark, or ``N`` < 1.
    """
    if kind == "all":
        if space.size is None:
            raise NasrankError(
                f"space {space.name!r} is not enumerable; use a pool of N samples instead"
            )
        archs = list(space.enumerate())
        if benchmark is not None:
            covered = set(benchmark.archs())
            missing = sum(a not in covered for a in archs)
            if missing:
                raise NasrankError(
                    f"pool 'all' has {len(archs)} architectures but benchmark "
                    f"{benchmark.name!r} lacks {missing} of them; use pool 'benchmark'"
                )
        return CandidatePool(space, archs, source=f"{space.name} all")
    if kind == "benchmark":
        if benchmark is None:
            raise NasrankError("pool 'benchmark' needs a benchmark")
        return CandidatePool(space, benchmark.archs(), source=f"{benchmark.name} archs")
    try:
        n = int(kind)
    except (TypeError, ValueError):
        raise NasrankError(
            f"unknown pool {kind!r}; expected 'all', 'benchmark' or a number of samples"
        ) from None
    if n < 1:
        raise NasrankError(f"a pool of samples needs N >= 1, got {n}")
    rng = np.random.default_rng(seed)
    if benchmark is not None:
        archs = benchmark.archs()
        if n >= len(archs):
            return CandidatePool(space, archs, source=f"{benchmark.name} archs")
        picked = rng.choice(len(archs), size=n, replace=False)
        return CandidatePool(
            space, [archs[i] for i in picked], source=f"{n} samples of {benchmark.name} seed={seed}"
        )
    if space.size is not None and n >= space.size:
        return make_pool(space, "all")
    seen: dict[str, None] = {}
    tries = 0
    while len(seen) < n:
        seen.setdefault(space.sample(rng), None)
        tries += 1
        if tries > 50 * n:
            raise NasrankError(f"could not draw {n} distinct architectures of {space.name!r}")
    return CandidatePool(space, list(seen), source=f"{n} samples of {space.name} seed={seed}")


def benchmark_scores(
    pool: CandidatePool, benchmark: Benchmark, proxies: Sequence[str] | None = None
) -> CandidatePool:
    """Attach a benchmark's stored proxy-score columns to ``pool``.

    Args:
        pool: Candidates, all covered by ``benchmark``.
        benchmark: A table with score columns (NAS-Bench-Suite-Zero stores 12-13 proxies).
        proxies: Column names; ``None``: every column named like a registered proxy
            (:func:`stored_proxies`), so ground-truth columns never leak into the scores.

    Raises:
        UnknownNameError: A proxy is not a column of the table (the message lists them).
    """
    available = stored_proxies(benchmark)
    names = list(proxies) if proxies is not None else available
    for name in names:
        if name not in available:
            raise UnknownNameError(
                f"benchmark {benchmark.name!r} stores no score {name!r}; stored scores: "
                f"{', '.join(available) or 'none'}"
            )
    if not names:
        raise NasrankError(f"benchmark {benchmark.name!r} stores no proxy scores")
    columns = {m: benchmark.column(m) for m in names}
    rows = {a: i for i, a in enumerate(benchmark.archs())}
    idx = np.array([rows[a] for a in pool.archs])
    scores = np.stack([columns[m][idx] for m in names], axis=1)
    return pool.with_scores(scores, names, f"{pool.source}; stored scores of {benchmark.name}")


def stored_proxies(benchmark: Benchmark) -> list[str]:
    """The benchmark's columns that are scores of a registered proxy (Suite-Zero: 12)."""
    return [m for m in benchmark.metrics if m in PROXIES and m != benchmark.default_metric]


def score_pool(
    pool: CandidatePool,
    proxies: Sequence[str],
    batch: Batch | None,
    *,
    seed: int = 0,
    num_classes: int | None = None,
    build: Callable[[str], nn.Module] | None = None,
    store: StoreLike = True,
    cache_key: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    device: str | None = None,
) -> CandidatePool:
    """Score every candidate with the proxy engine, through a score store.

    Every model is initialised from its own seed (:func:`nasrank.store.arch_seed` of
    ``(seed, space, arch)``, as :func:`nasrank.store.build_model` does), so a candidate's
    scores do not depend on the pool it is in, and are the very scores
    ``nasrank score-space`` stores for the same space, batch and seed: the two share one
    :class:`~nasrank.store.ScoreStore` and the scoring service
    (:func:`nasrank.store.score_archs`).

    Args:
        pool: The candidates.
        proxies: Proxy names (see ``nasrank.proxies.PROXIES``).
        batch: The batch the proxies see (``None`` only for data-free ones such as params).
        seed: Run seed (initialisation and the proxies' randomness).
        num_classes: Classifier outputs of the built models (default the batch's, else 10).
        build: ``arch -> nn.Module`` (default ``pool.space.build(arch, num_classes=...)``);
            called under the architecture's seed.
        store: Where scores are read from and written to: ``True`` (default) for
            :func:`default_store_path`, a :class:`~nasrank.store.ScoreStore` or a path,
            ``False``/``None`` for none.
        cache_key: Space part of the store key with a custom ``build`` (required to store
            the scores of a custom ``build``; a custom ``build`` without it is not stored).
        progress: Called as ``progress(done, total)`` after each candidate.
        device: Where the proxies are computed (``"cpu"``, ``"cuda"``, ``"cuda:N"``;
            ``None``: the CPU). Not part of the store key (data, seed and proxy version):
            a GPU's scores equal the CPU's up to float rounding.

    Returns:
        A copy of ``pool`` with ``(P, len(proxies))`` scores (NaN where a proxy failed).

    Raises:
        ValueError: No ``build`` for a pool without a space, or an explicit ``store``
            for a custom ``build`` without ``cache_key``.
    """
    names = [s.name for s in resolve_proxies(list(proxies))]
    k = num_classes or (batch.num_classes if batch is not None else None) or 10
    space_key = _pool_space_key(pool, build, cache_key, store)
    with opened_store(store if space_key is not None else None) as db:
        scored = score_archs(
            pool.space if build is None else None,
            pool.archs,
            names,
            batch,
            seed=seed,
            build=build,
            cache_key=cache_key,
            build_kwargs={"num_classes": k} if build is None else None,
            store=db,
            progress=progress,
            device=device,
        )
    if scored.hits:
        logger.info("proxy scores of %d/%d candidates came from %s", scored.hits, len(pool), db)
    described = batch.source if batch is not None else "no data"
    source = f"{pool.source}; engine {','.join(names)} on {described} [{scored.data}] seed={seed}"
    return pool.with_scores(scored.matrix(), names, source)


def _pool_space_key(
    pool: CandidatePool,
    build: Callable[[str], nn.Module] | None,
    cache_key: str | None,
    store: StoreLike,
) -> str | None:
    """The store's space key of ``pool``'s scores (``None``: they are not stored)."""
    if build is None and pool.space is None:
        raise ValueError("score_pool needs build= for a pool without a search space")
    if build is None:
        return pool.space.name  # type: ignore[union-attr]
    if cache_key is None and store is not True and store not in (None, False):
        raise ValueError("score_pool needs cache_key= to store scores of a custom build")
    return cache_key


# ---- shipped proxy tables ----------------------------------------------------------------
def table_scores(
    pool: CandidatePool,
    table: ProxyTable,
    proxies: Sequence[str] | None = None,
    *,
    missing: str = "drop",
) -> CandidatePool:
    """Attach a proxy table's scores to ``pool`` (no proxy computation).

    Args:
        pool: Candidates of the table's space.
        table: A :class:`~nasrank.tables.ProxyTable` (e.g. ``load_table("nb201-cifar10")``).
        proxies: Columns (default all of the table's).
        missing: What happens to candidates the table has no row for (a partial table):
            ``"drop"`` (default) leaves them out of the returned pool -- compare its length
            with ``pool``'s -- and ``"raise"`` raises :class:`~nasrank.errors.NotInTable`.

    Raises:
        NasrankError: The table is of another space, or covers none of the candidates.
        UnknownNameError: A proxy is not a column of the table.
        NotInTable: ``missing="raise"`` and a candidate has no row.
    """
    if missing not in ("drop", "raise"):
        raise ValueError(f"missing must be 'drop' or 'raise', got {missing!r}")
    if pool.space is not None and pool.space.name != table.space:
        raise NasrankError(
            f"table {table.name!r} holds space {table.space!r}, not the pool's {pool.space.name!r}"
        )
    names = list(proxies) if proxies is not None else list(table.proxies)
    rows = table.rows(pool.archs)
    keep = np.flatnonzero(rows >= 0)
    if keep.size < len(pool) and missing == "raise":
        table.check_complete(pool.archs)
    if keep.size == 0:
        raise NasrankError(
            f"table {table.name!r} covers none of the {len(pool)} candidates "
            f"({table.describe()}); score them with the engine instead"
        )
    values = table.scores([pool.archs[i] for i in keep], names)
    covered = f"{keep.size} of {len(pool)} covered" if keep.size < len(pool) else "all covered"
    return CandidatePool(
        pool.space,
        tuple(pool.archs[i] for i in keep),
        values,
        tuple(names),
        f"{pool.source}; table {table.name} ({covered})",
    )


def subsample(pool: CandidatePool, n: int, seed: int = 0) -> CandidatePool:
    """``n`` distinct seeded samples of ``pool`` (its scores kept), or ``pool`` itself
    when ``n >= len(pool)``; the same draw as :func:`make_pool` makes from a benchmark."""
    if n < 1:
        raise NasrankError(f"a pool of samples needs N >= 1, got {n}")
    if n >= len(pool):
        return pool
    picked = np.random.default_rng(seed).choice(len(pool), size=n, replace=False)
    return CandidatePool(
        pool.space,
        tuple(pool.archs[i] for i in picked),
        None if pool.scores is None else pool.scores[picked],
        pool.proxies,
        f"{n} samples of ({pool.source}) seed={seed}",
    )
