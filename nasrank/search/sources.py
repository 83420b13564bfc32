"""Where a search's proxy scores come from: one small protocol, three sources, a resolver.

A :class:`ScoreSource` says whether it can serve a :class:`ScoreRequest` (``refusal``
returns ``None`` or the reason it cannot) and builds the scored candidate pool
(``pool``). The sources, in the order :func:`resolve_source` tries them:

* :class:`BenchmarkSource` -- the benchmark's stored score columns (NAS-Bench-Suite-Zero);
* :class:`TableSource` -- a proxy table shipped with nasrank (or a user's ``NAME.npz``)
  that holds every requested proxy at its current definition and fits the data;
* :class:`EngineSource` -- the proxy engine, through the score store.

The resolver returns the source used and why each one before it was refused, which is
what ``nasrank search`` prints as its notice::

    request = ScoreRequest(space, bench, proxies=["synflow", "nwot"])
    resolution = resolve_source(request)
    resolution.source.name, resolution.refusals   # "table", {"benchmark": "... stores no ..."}
    pool, info = resolution.source.pool(request, resolution.proxies)
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from nasrank.data import load_batch, resolve_data
from nasrank.errors import NasrankError
from nasrank.proxies import PROXIES, resolve_proxies
from nasrank.search._progress import ProgressFactory
from nasrank.search.pool import (
    CandidatePool,
    StoreLike,
    benchmark_scores,
    make_pool,
    score_pool,
    stored_proxies,
    subsample,
    table_scores,
)
from nasrank.tables import available_tables, load_table

if TYPE_CHECKING:
    from nasrank.benchmarks import Benchmark
    from nasrank.spaces import SearchSpace
    from nasrank.tables import ProxyTable

__all__ = [
    "DEFAULT_ENGINE_PROXIES",
    "DEFAULT_PROXY_COUNT",
    "DEFAULT_PROXY_PREFERENCE",
    "BenchmarkSource",
    "EngineSource",
    "PlanError",
    "Resolution",
    "ScoreRequest",
    "ScoreSource",
    "SourceInfo",
    "TableSource",
    "default_proxy_set",
    "feature_table",
    "resolve_source",
]

logger = logging.getLogger(__name__)

#: Label-free proxies in the order a search prefers them when none are named: every
#: label-free proxy the NAS-Bench-Suite-Zero files of NB-101 and TransNAS-Bench-101
#: (micro and macro, 4 tasks each) store, with a positive mean Spearman rho with
#: accuracy over those 9 tasks, best first (``benchmarks/search_default_proxies.py
#: --parts order``; NB-201 was not looked at). Proxies those files do not store (meco,
#: zico, swap, ...) are not in it: nothing measured them on the selection data.
DEFAULT_PROXY_PREFERENCE: tuple[str, ...] = (
    "nwot",
    "flops",
    "synflow",
    "params",
    "jacov",
    "l2_norm",
)
#: How many of the preference order a search takes: the k with the smallest RoBoT regret
#: at 20 queries over the same selection runs (``--parts choose,regret``; the first
#: criterion, runs finding the optimum, picked k = 1, which lost on NB-201 -- both are
#: in docs/BENCHMARKS.md, "Default search proxies").
DEFAULT_PROXY_COUNT = 4


def default_proxy_set(
    available: Sequence[str],
    *,
    preference: Sequence[str] = DEFAULT_PROXY_PREFERENCE,
    count: int = DEFAULT_PROXY_COUNT,
) -> tuple[str, ...]:
    """The proxies a search uses when none are named: the first ``count`` of
    ``preference`` that the source has (``available``), in the source's order. A source
    with none of them gives its label-free proxies, else all it has.

    >>> default_proxy_set(["snip", "flops", "jacov", "nwot"], count=2)
    ('flops', 'nwot')
    """
    have = list(dict.fromkeys(available))
    chosen = set([p for p in preference if p in have][:count])
    if chosen:
        return tuple(p for p in have if p in chosen)
    label_free = tuple(p for p in have if p in PROXIES and not PROXIES.get(p).needs_labels)
    return label_free or tuple(have)


def _data_free_proxies() -> list[str]:
    """Registered proxies that read neither the batch's values nor its labels."""
    return [
        n for n in PROXIES.names() if not (PROXIES.get(n).needs_data or PROXIES.get(n).needs_labels)
    ]


#: Proxies computed by the engine when none are named and no data is given (its batch is
#: then synthetic, so only data-free proxies are meaningful): the preference order's.
DEFAULT_ENGINE_PROXIES = default_proxy_set(_data_free_proxies())


class PlanError(NasrankError, ValueError):
    """A search plan that cannot run; ``option`` names the setting at fault (the CLI
    shows it as ``--option``)."""

    def __init__(self, option: str, reason: str) -> None:
        super().__init__(f"{option}: {reason}")
        self.option = option
        self.reason = reason


@dataclass(frozen=True)
class ScoreRequest:
    """What a search needs scores for.

    Attributes:
        space: The search space.
        benchmark: The ground truth (its architectures bound the pool).
        proxies: Proxy names; ``None`` for the source's default set.
        pool: ``"all"``, ``"benchmark"`` or a number of samples.
        pool_seed: Seed of a sampled pool and of the engine's batch and initialisation.
        data: Data spec of the engine's batch (``None``: the space's ``default_data``; a
            table is used only when this is ``None``, names the table's dataset, or every
            proxy is data-free).
        batch_size: Samples in the engine's batch.
        num_classes: Classifier outputs (``None``: the data's).
        store: Score store of the engine.
        table: A proxy table's name or path (default: the one shipped for the space).
        device: Where the engine computes (``"cpu"``, ``"cuda"``, ``"cuda:N"``; ``None``:
            the CPU); stored scores are read whichever device wrote them.
    """

    space: SearchSpace
    benchmark: Benchmark
    proxies: tuple[str, ...] | None = None
    pool: str | int = "benchmark"
    pool_seed: int = 0
    data: str | None = None
    batch_size: int = 32
    num_classes: int | None = None
    store: StoreLike = True
    table: str | None = None
    device: str | None = None


@dataclass(frozen=True)
class SourceInfo:
    """Provenance of a scored pool: the data description, a table's record, the
    one-line notice ``nasrank search`` prints (empty when there is nothing to say), the
    name of the source and the kind of pool (``"all"``, ``"benchmark"``, ``"64"``, ...)."""

    data: str | None = None
    table: dict[str, Any] | None = None
    notice: str = ""
    source: str | None = None
    pool: str = "benchmark"


class ScoreSource(Protocol):
    """A place proxy scores come from."""

    name: ClassVar[str]

    def available_proxies(self, request: ScoreRequest) -> tuple[str, ...]:
        """The proxies this source can give for the request."""
        ...

    def default_proxies(self, request: ScoreRequest) -> tuple[str, ...]:
        """The proxies used when the request names none:
        :func:`default_proxy_set` of :meth:`available_proxies`."""
        ...

    def refusal(self, request: ScoreRequest, proxies: Sequence[str], *, forced: bool) -> str | None:
        """``None`` when this source can serve ``proxies``, else the reason it cannot."""
        ...

    def pool(
        self, request: ScoreRequest, proxies: Sequence[str], progress: ProgressFactory
    ) -> tuple[CandidatePool, SourceInfo]:
        """The request's candidate pool with ``proxies``' scores attached."""
        ...


class BenchmarkSource:
    """The benchmark's stored score columns (e.g. the 12 of NAS-Bench-Suite-Zero)."""

    name: ClassVar[str] = "benchmark"

    def available_proxies(self, request: ScoreRequest) -> tuple[str, ...]:
        return tuple(stored_proxies(request.benchmark))

    def default_proxies(self, request: ScoreRequest) -> tuple[str, ...]:
        return default_proxy_set(self.available_proxies(request))

    def refusal(self, request: ScoreRequest, proxies: Sequence[str], *, forced: bool) -> str | None:
        if stored_proxies(request.benchmark):
            return None
        return f"{request.benchmark.name} stores no proxy scores"

    def pool(
        self, request: ScoreRequest, proxies: Sequence[str], progress: ProgressFactory
    ) -> tuple[CandidatePool, SourceInfo]:
        base = _base_pool(request, request.pool)
        return benchmark_scores(base, request.benchmark, list(proxies)), SourceInfo()


@dataclass
class TableSource:
    """A proxy table: no computation, the whole space in seconds."""

    name: ClassVar[str] = "table"
    _table: Any = field(default=None, init=False, repr=False)

    def available_proxies(self, request: ScoreRequest) -> tuple[str, ...]:
        """The table's columns at their current definition (none without a table)."""
        table = _request_table(request)
        if table is None or table.space != request.space.name:
            return ()
        stale = set(table.stale_proxies())
        return tuple(p for p in table.proxies if p not in stale)

    def default_proxies(self, request: ScoreRequest) -> tuple[str, ...]:
        return default_proxy_set(self.available_proxies(request))

    def refusal(self, request: ScoreRequest, proxies: Sequence[str], *, forced: bool) -> str | None:
        table = _request_table(request)
        if table is None:
            return f"no proxy table ships for space {request.space.name!r}"
        why = _table_mismatch(table, request.space, proxies) or (
            None if forced else _data_mismatch(table, request, proxies)
        )
        self._table = None if why else table
        return why

    def pool(
        self, request: ScoreRequest, proxies: Sequence[str], progress: ProgressFactory
    ) -> tuple[CandidatePool, SourceInfo]:
        table = self._table
        assert table is not None, "refusal() chooses the table before pool()"
        base = _base_pool(request, "all" if request.pool == "all" else "benchmark")
        pool = table_scores(base, table, list(proxies))
        dropped = len(base) - len(pool)
        if isinstance(request.pool, int):
            pool = subsample(pool, request.pool, request.pool_seed)
        meta_data = table.meta.get("data") or {}
        covered, total = table.coverage
        record = {
            "name": table.name,
            "path": request.table,
            "shipped": not request.table,
            "archs": covered,
            "space_size": total,
            "complete": table.complete,
            "candidates_not_in_table": dropped,
            "data_key": meta_data.get("key"),
            "seed": table.meta.get("seed"),
            "nasrank_version": table.meta.get("nasrank_version"),
            "sha256": table.meta.get("sha256"),
        }
        notice = _table_notice(table, request.table, len(base), dropped, len(pool))
        return pool, SourceInfo(meta_data.get("description"), record, notice)


class EngineSource:
    """The proxy engine: every candidate built from its own seed and scored on a batch of
    ``request.data``, through the score store."""

    name: ClassVar[str] = "engine"

    def available_proxies(self, request: ScoreRequest) -> tuple[str, ...]:
        """Every registered label-free proxy; only data-free ones when the request names
        no data (the batch is then the space's synthetic default)."""
        if request.data is None:
            return tuple(_data_free_proxies())
        return tuple(n for n in PROXIES.names() if not PROXIES.get(n).needs_labels)

    def default_proxies(self, request: ScoreRequest) -> tuple[str, ...]:
        return default_proxy_set(self.available_proxies(request))

    def refusal(self, request: ScoreRequest, proxies: Sequence[str], *, forced: bool) -> str | None:
        resolve_proxies(list(proxies))  # an unknown name fails here, before any work
        return None

    def pool(
        self, request: ScoreRequest, proxies: Sequence[str], progress: ProgressFactory
    ) -> tuple[CandidatePool, SourceInfo]:
        pool = _base_pool(request, request.pool)
        batch = load_batch(
            resolve_data(request.space, request.data),  # None: the space's default_data
            batch_size=request.batch_size,
            seed=request.pool_seed,
        )
        if len(pool) > 2000:
            logger.warning(
                "scoring %d candidates with the proxy engine will take long; consider --pool N",
                len(pool),
            )
        with progress(f"scoring {len(pool)} candidates", len(pool)) as bar:
            pool = score_pool(
                pool,
                list(proxies),
                batch,
                seed=request.pool_seed,
                num_classes=request.num_classes,
                store=request.store,
                progress=lambda done, total: bar.advance(),
                device=request.device,
            )
        return pool, SourceInfo(batch.source)


@dataclass(frozen=True)
class Resolution:
    """The outcome of :func:`resolve_source`.

    Attributes:
        source: The source to use (``None`` when no proxies are wanted).
        proxies: The proxies it serves (the source's default when none were named).
        refusals: Source name -> why it was passed over, in the order tried.
    """

    source: ScoreSource | None
    proxies: tuple[str, ...]
    refusals: dict[str, str] = field(default_factory=dict)


def default_sources() -> list[ScoreSource]:
    """Benchmark, table, engine: the order :func:`resolve_source` tries them in."""
    return [BenchmarkSource(), TableSource(), EngineSource()]


def resolve_source(
    request: ScoreRequest,
    mode: str = "auto",
    sources: Sequence[ScoreSource] | None = None,
) -> Resolution:
    """Pick the source of ``request``'s scores.

    Args:
        request: What is needed; ``proxies=()`` for none.
        mode: ``"auto"`` (the first source that can serve the request) or a source's name
            (that source or a :class:`PlanError` saying why not).
        sources: Candidates in order (default :func:`default_sources`).

    Raises:
        PlanError: ``mode`` names a source that refuses (option ``proxy-source NAME``),
            or ``mode`` is not a source's name.
    """
    sources = list(sources) if sources is not None else default_sources()
    by_name = {s.name: s for s in sources}
    if mode != "auto" and mode not in by_name:
        raise PlanError(
            "proxy-source", f"unknown source {mode!r}; choices: auto, {', '.join(by_name)}"
        )
    benchmark = by_name.get("benchmark")
    if benchmark is not None and mode in ("auto", "benchmark"):
        why = benchmark.refusal(request, (), forced=mode == "benchmark")
        if why is None:
            return _serve(benchmark, request)
        if mode == "benchmark":
            raise PlanError("proxy-source benchmark", why)
    if request.proxies == ():
        return Resolution(None, ())
    refusals: dict[str, str] = {}
    for source in sources:
        if source.name == "benchmark" or mode not in ("auto", source.name):
            continue
        proxies = request.proxies or source.default_proxies(request)
        why = source.refusal(request, proxies, forced=mode != "auto")
        if why is None:
            return Resolution(source, tuple(proxies), refusals)
        if mode != "auto":
            raise PlanError(f"proxy-source {source.name}", why)
        refusals[source.name] = why
        logger.info("proxy scores not from the %s: %s", source.name, why)
    raise PlanError(
        "proxy-source", "no source can serve the proxies: " + "; ".join(refusals.values())
    )


def _serve(source: ScoreSource, request: ScoreRequest) -> Resolution:
    if request.proxies == ():
        return Resolution(None, ())
    return Resolution(source, tuple(request.proxies or source.default_proxies(request)))


def feature_table(
    space: SearchSpace, benchmark: Benchmark, table: str | None = None
) -> tuple[ProxyTable | None, str]:
    """The proxy table a predictor's ``zc`` features read (``nasrank predict-eval``),
    and the one-line notice saying so: ``(None, "")`` when the benchmark stores proxy
    scores itself (those are used) or no table serves the space; else the table named
    (``table``: a name or path) or shipped for the space, at its current definitions.

    Raises:
        PlanError: ``table`` cannot be loaded or is of another space (option ``table``).
    """
    if stored_proxies(benchmark):
        return None, ""
    request = ScoreRequest(space, benchmark, table=table)
    found = _request_table(request)
    if found is None:
        return None, ""
    if found.space != space.name:
        why = f"table {found.name!r} is of space {found.space!r}, not {space.name!r}"
        if table:
            raise PlanError("table", why)
        return None, ""
    archs = benchmark.archs()
    covered = int(found.covers(archs).sum())
    line = f"proxy features (zc) from {_provenance(found, table)}: {covered:,} of {len(archs):,} "
    line += f"{benchmark.name} archs"
    if covered < len(archs):
        line += f"; the other {len(archs) - covered:,} get NaN proxy features"
    return found, line


def _provenance(table: ProxyTable, path: str | None) -> str:
    """``the shipped table NAME (N/M archs; DATA, seed S, nasrank V)``."""
    covered, total = table.coverage
    which = f"table {path}" if path else f"the shipped table {table.name}"
    cov = f"{covered:,}/{total:,} archs" if total else f"{covered:,} archs"
    data = (table.meta.get("data") or {}).get("description") or "?"
    return (
        f"{which} ({cov}; {data}, seed {table.meta.get('seed', '?')}, "
        f"nasrank {table.meta.get('nasrank_version', '?')})"
    )


def _request_table(request: ScoreRequest) -> ProxyTable | None:
    """The table the request names (a bad name or path: :class:`PlanError`), else the
    one shipped for its space (``None`` when none ships)."""
    if request.table:
        try:
            return load_table(request.table)
        except NasrankError as exc:
            raise PlanError("table", str(exc)) from None
    names = [n for n in available_tables() if n.startswith(f"{request.space.name}-")]
    return load_table(names[0]) if names else None


def _base_pool(request: ScoreRequest, kind: str | int) -> CandidatePool:
    return make_pool(request.space, kind, benchmark=request.benchmark, seed=request.pool_seed)


def _table_mismatch(table: ProxyTable, space: SearchSpace, proxies: Sequence[str]) -> str | None:
    """Why ``table`` cannot give ``proxies`` of ``space`` at their current definition."""
    if table.space != space.name:
        return f"table {table.name!r} is of space {table.space!r}, not {space.name!r}"
    lacking = [p for p in proxies if p not in table.proxies]
    if lacking:
        return (
            f"table {table.name!r} has no {', '.join(lacking)} (it has "
            f"{', '.join(table.proxies)}); use --proxy-source engine to compute them"
        )
    stale = [p for p in table.stale_proxies() if p in proxies]
    if stale:
        return f"table {table.name!r} predates the current definition of {', '.join(stale)}"
    return None


def _data_mismatch(table: ProxyTable, request: ScoreRequest, proxies: Sequence[str]) -> str | None:
    """Why ``table``'s scores do not fit the data the request asks for (auto mode only):
    a different class count, or data proxies on another dataset than the table's."""
    data = table.meta.get("data") or {}
    classes = data.get("num_classes")
    if request.num_classes is not None and classes and request.num_classes != classes:
        return f"--num-classes {request.num_classes} differs from the table's {classes}"
    if request.data is None:
        return None
    data_free = all(not (s.needs_data or s.needs_labels) for s in resolve_proxies(list(proxies)))
    scheme = str(request.data).partition(":")[0].strip().lower()
    table_scheme = str(data.get("spec") or data.get("description") or "").partition(":")[0]
    if not data_free and scheme != table_scheme.strip().lower():
        return (
            f"table {table.name!r} was computed on {table_scheme or 'other'} data, not "
            f"--data {request.data}"
        )
    return None


def _table_notice(table: Any, path: str | None, candidates: int, dropped: int, size: int) -> str:
    """The one-line notice naming the table, its coverage and what was left out."""
    line = f"proxy scores from {_provenance(table, path)}: pool of {size:,}"
    if dropped:
        line += (
            f"; {dropped:,} of {candidates:,} candidates are not in the table and are left out "
            "(--proxy-source engine computes them)"
        )
    return line
