"""Candidate pools: the architectures a search may propose, with their proxy scores.

A pool is the whole finite space, a benchmark task's architectures, or ``N`` seeded
samples. Its proxy scores come either from the proxy engine (:func:`score_pool`, with a
progress callback and an on-disk cache keyed by space / architecture / proxy / data /
seed) or from a benchmark's stored score columns (:func:`benchmark_scores`, e.g. the
reference scores of NAS-Bench-Suite-Zero).

Usage::

    space = get_space("nb201")
    bench = load_benchmark("suite-zero:zc_nasbench201.json", task="cifar10")
    pool = benchmark_scores(make_pool(space, "benchmark", benchmark=bench), bench,
                            ["synflow", "nwot", "jacov"])
    pool.scores.shape  # (725, 3)
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from nasrank.errors import NasrankError, UnknownNameError

if TYPE_CHECKING:
    from torch import nn

    from nasrank.benchmarks import Benchmark
    from nasrank.data import Batch
    from nasrank.spaces import SearchSpace

__all__ = [
    "CandidatePool",
    "ProxyCache",
    "make_pool",
    "benchmark_scores",
    "score_pool",
    "standardise",
    "stored_proxies",
    "default_cache_dir",
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

    def __post_init__(self) -> None:
        archs = tuple(self.archs)
        object.__setattr__(self, "archs", archs)
        index = {a: i for i, a in enumerate(archs)}
        if len(index) != len(archs):
            raise ValueError("a candidate pool must not contain duplicate architectures")
        if not archs:
            raise NasrankError("the candidate pool is empty; give at least one architecture")
        object.__setattr__(self, "_index", index)
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
        return CandidatePool(
            self.space, self.archs, scores, tuple(proxies), source or self.source
        )

    def standardised(self, transform: str = "gauss") -> np.ndarray:
        """Proxy scores standardised per column over the pool (see :func:`standardise`)."""
        if self.scores is None:
            raise ValueError("this pool has no proxy scores")
        return standardise(self.scores, transform)

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
    from nasrank.proxies import PROXIES

    return [m for m in benchmark.metrics if m in PROXIES and m != benchmark.default_metric]


def default_cache_dir() -> Path:
    """``$NASRANK_CACHE_DIR`` or ``~/.cache/nasrank``, plus ``/proxy-scores``."""
    root = os.environ.get("NASRANK_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "nasrank"
    )
    return Path(root) / "proxy-scores"


class ProxyCache:
    """Proxy scores on disk, one append-only JSON-lines file per (space, data, seed).

    Each line is ``{"arch": ..., "scores": {proxy: value or null}}``; a later line for the
    same architecture adds or overrides proxies. A torn last line (a crash while writing)
    is ignored.

    Args:
        directory: Where the files live (default :func:`default_cache_dir`).
    """

    def __init__(self, directory: str | Path | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_dir()

    def path(self, space: str, data: str, seed: int) -> Path:
        key = hashlib.sha1(f"{space}\x00{data}\x00{seed}".encode()).hexdigest()[:16]
        return self.directory / f"{space}-{key}.jsonl"

    def load(self, space: str, data: str, seed: int) -> dict[str, dict[str, float]]:
        path = self.path(space, data, seed)
        out: dict[str, dict[str, float]] = {}
        if not path.is_file():
            return out
        with path.open() as f:
            for line in f:
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if not isinstance(record, dict) or "arch" not in record:
                    continue
                entry = out.setdefault(str(record["arch"]), {})
                for k, v in (record.get("scores") or {}).items():
                    entry[k] = math.nan if v is None else float(v)
        return out

    def append(
        self, space: str, data: str, seed: int, arch: str, scores: dict[str, float]
    ) -> None:
        path = self.path(space, data, seed)
        path.parent.mkdir(parents=True, exist_ok=True)
        clean = {k: (v if math.isfinite(v) else None) for k, v in scores.items()}
        with path.open("a") as f:
            f.write(json.dumps({"arch": arch, "scores": clean}) + "\n")


def score_pool(
    pool: CandidatePool,
    proxies: Sequence[str],
    batch: Batch | None,
    *,
    seed: int = 0,
    num_classes: int | None = None,
    build: Callable[[str], nn.Module] | None = None,
    cache: ProxyCache | bool | None = True,
    cache_key: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> CandidatePool:
    """Score every candidate with the proxy engine (:func:`nasrank.proxies.score`).

    Args:
        pool: The candidates.
        proxies: Proxy names (see ``nasrank.proxies.PROXIES``).
        batch: The batch the proxies see (``None`` only for data-free ones such as params).
        seed: Proxy seed.
        num_classes: Classifier outputs of the built models (default the batch's, else 10).
        build: ``arch -> nn.Module`` (default ``pool.space.build(arch, num_classes=...)``).
        cache: ``True`` for the default on-disk cache, a :class:`ProxyCache`, or
            ``False``/``None`` for none.
        cache_key: Space part of the cache key (default the space's name); custom spaces
            must give one.
        progress: Called as ``progress(done, total)`` after each candidate.

    Returns:
        A copy of ``pool`` with ``(P, len(proxies))`` scores (NaN where a proxy failed).
    """
    from nasrank.proxies import resolve_proxies, score

    specs = resolve_proxies(list(proxies))
    names = [s.name for s in specs]
    k = num_classes or (batch.num_classes if batch is not None else None) or 10
    if build is None:
        if pool.space is None:
            raise ValueError("score_pool needs build= for a pool without a search space")
        space = pool.space

        def build(arch: str) -> nn.Module:
            return space.build(arch, num_classes=k)

    space_key = cache_key or (pool.space.name if pool.space is not None else None)
    store: ProxyCache | None
    if cache is True:
        store = ProxyCache()
    elif isinstance(cache, ProxyCache):
        store = cache
    else:
        store = None
    if store is not None and space_key is None:
        raise ValueError("score_pool needs cache_key= to cache scores of a custom space")
    data_key = f"{batch.source if batch is not None else 'none'} classes={k}"
    cached = store.load(space_key, data_key, seed) if store is not None else {}  # type: ignore[arg-type]
    scores = np.full((len(pool), len(names)), np.nan)
    total = len(pool)
    hits = 0
    for i, arch in enumerate(pool.archs):
        have = cached.get(arch, {})
        missing = [n for n in names if n not in have]
        if missing:
            result = score(build(arch), batch, missing, seed=seed)
            fresh = {n: float(result[n]) for n in missing}
            if store is not None:
                store.append(space_key, data_key, seed, arch, fresh)  # type: ignore[arg-type]
            have = {**have, **fresh}
        else:
            hits += 1
        scores[i] = [have[n] for n in names]
        if progress is not None:
            progress(i + 1, total)
    if hits:
        logger.info("proxy scores of %d/%d candidates came from the cache", hits, total)
    source = f"{pool.source}; engine {','.join(names)} on {data_key} seed={seed}"
    return pool.with_scores(scores, names, source)
