"""Composable feature sets for predictors: encodings, zero-cost proxy scores, or both.

A feature spec is a comma-separated list of parts, e.g. ``"onehot,zc"``:

======================  ==================================================================
part                    columns
======================  ==================================================================
``onehot``              the space's one-hot encoding (NB-201 ops, NB-101 adjacency + ops,
                        NB-301 genotype); see :mod:`nasrank.encodings.space_encodings`
``onehot-pruned``       NB-201 one-hot with edges on no input-output path set to ``none``
``path``                BANANAS path encoding
``onnx``                the universal :func:`~nasrank.encodings.opgraph_features` of the
                        architecture's ONNX graph (histograms, structure, paths, WL)
``onnx-core``           the same without the hashed Weisfeiler-Lehman columns
``zc``                  zero-cost proxy scores the benchmark stores (NAS-Bench-Suite-Zero),
                        every stored column that is a registered proxy name; for a
                        benchmark that stores none, the columns of a proxy table
                        (``table=``, e.g. the shipped ``nb201-cifar10``)
``zc-engine``           proxy scores computed with :func:`nasrank.proxies.score` on a batch
======================  ==================================================================

Proxy columns are turned into percentile ranks over the featurized pool by default
(``zc_transform="rank"``): proxies span many orders of magnitude and differ in scale
between spaces, and ranks make one predictor usable across spaces. This uses only the
(label-free) proxy scores of the candidate pool, never accuracies. NaN scores stay NaN
(LightGBM routes them; the GNN reads them as the median rank 0.5). ``transform="rank"``
does the same to every column (for cross-space training).

``onnx`` parts use the cell-level graph where the space has one (``onnx_level="auto"``),
else the whole network; graphs are cached on disk (:class:`~nasrank.encodings.EncodingCache`).
``zc-engine`` scores come from the scoring service (:func:`nasrank.store.score_archs`):
per-architecture seeds, and a :class:`~nasrank.store.ScoreStore` when one is given.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from nasrank.encodings.cells import LEVELS, encode_graphs
from nasrank.encodings.features import feature_names, opgraph_features
from nasrank.encodings.graph import opgraph_to_data  # torch_geometric: on use
from nasrank.errors import NasrankError, UnknownNameError

if TYPE_CHECKING:
    from nasrank.benchmarks import Benchmark
    from nasrank.data.batch import Batch
    from nasrank.encodings import EncodingCache
    from nasrank.spaces import SearchSpace
    from nasrank.store import ScoreStore
    from nasrank.tables import ProxyTable

__all__ = [
    "FEATURE_PARTS",
    "FeatureMatrix",
    "FeatureSetError",
    "Featurizer",
    "featurize",
    "parse_feature_spec",
    "stored_proxy_columns",
    "table_proxy_columns",
]

logger = logging.getLogger(__name__)

#: Known feature parts (see the module docstring).
FEATURE_PARTS: tuple[str, ...] = (
    "onehot",
    "onehot-pruned",
    "path",
    "onnx",
    "onnx-core",
    "zc",
    "zc-engine",
)
ZC_TRANSFORMS: tuple[str, ...] = ("rank", "log", "raw")


class FeatureSetError(NasrankError, ValueError):
    """A feature set cannot be built (unknown part, missing proxy scores, ...)."""


@dataclass(frozen=True, eq=False)
class FeatureMatrix:
    """Features of ``n`` architectures.

    Attributes:
        values: ``(n, d)`` float64 (NaN where a value is missing).
        names: ``d`` column names; predictors refuse features whose names differ from
            those they were fitted on.
        archs: The ``n`` architecture ids (may be empty when unknown).
        graphs: ``n`` ``torch_geometric.data.Data`` for graph predictors, or ``None``.
    """

    values: np.ndarray
    names: tuple[str, ...]
    archs: tuple[str, ...] = ()
    graphs: tuple[Any, ...] | None = None

    def __post_init__(self) -> None:
        values = np.asarray(self.values, dtype=np.float64)
        if values.ndim != 2:
            raise ValueError(f"values must be 2-D, got shape {values.shape}")
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "names", tuple(self.names))
        object.__setattr__(self, "archs", tuple(self.archs))
        if len(self.names) != values.shape[1]:
            raise ValueError(f"{len(self.names)} names for {values.shape[1]} columns")
        if self.archs and len(self.archs) != values.shape[0]:
            raise ValueError(f"{len(self.archs)} archs for {values.shape[0]} rows")
        if self.graphs is not None:
            object.__setattr__(self, "graphs", tuple(self.graphs))
            if len(self.graphs) != values.shape[0]:
                raise ValueError(f"{len(self.graphs)} graphs for {values.shape[0]} rows")

    def __len__(self) -> int:
        return int(self.values.shape[0])

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.values.shape[0]), int(self.values.shape[1]))

    def take(self, index: Sequence[int] | np.ndarray) -> FeatureMatrix:
        """Rows ``index`` (in that order)."""
        idx = np.asarray(index, dtype=np.int64)
        return FeatureMatrix(
            self.values[idx],
            self.names,
            tuple(self.archs[i] for i in idx) if self.archs else (),
            tuple(self.graphs[i] for i in idx) if self.graphs is not None else None,
        )

    def select(self, names: Sequence[str]) -> FeatureMatrix:
        """Columns ``names`` (in that order).

        Raises:
            FeatureSetError: A name is not a column.
        """
        where = {n: i for i, n in enumerate(self.names)}
        missing = [n for n in names if n not in where]
        if missing:
            raise FeatureSetError(
                f"{len(missing)} requested features are not columns here, e.g. {missing[0]!r}"
            )
        cols = [where[n] for n in names]
        return FeatureMatrix(self.values[:, cols], tuple(names), self.archs, self.graphs)

    @staticmethod
    def hstack(parts: Sequence[FeatureMatrix]) -> FeatureMatrix:
        if not parts:
            raise ValueError("nothing to stack")
        graphs = next((p.graphs for p in parts if p.graphs is not None), None)
        return FeatureMatrix(
            np.hstack([p.values for p in parts]),
            tuple(n for p in parts for n in p.names),
            parts[0].archs,
            graphs,
        )

    @staticmethod
    def vstack(parts: Sequence[FeatureMatrix]) -> FeatureMatrix:
        """Rows of several matrices with identical column names.

        Raises:
            FeatureSetError: The column names differ.
        """
        if not parts:
            raise ValueError("nothing to stack")
        for p in parts[1:]:
            if p.names != parts[0].names:
                raise FeatureSetError(
                    "cannot stack feature matrices with different columns "
                    f"({len(parts[0].names)} vs {len(p.names)} features); use features "
                    "every space shares (onnx, zc) for cross-space training"
                )
        graphs = (
            tuple(g for p in parts for g in p.graphs)  # type: ignore[union-attr]
            if all(p.graphs is not None for p in parts)
            else None
        )
        archs = tuple(a for p in parts for a in p.archs) if all(p.archs for p in parts) else ()
        return FeatureMatrix(np.vstack([p.values for p in parts]), parts[0].names, archs, graphs)


def parse_feature_spec(spec: str | Sequence[str]) -> list[str]:
    """``"onehot,zc"`` -> ``["onehot", "zc"]`` (validated, duplicates removed).

    Raises:
        UnknownNameError: An unknown part (with did-you-mean and the choices).
    """
    parts = [p.strip() for p in (spec.split(",") if isinstance(spec, str) else spec)]
    parts = [p.lstrip("+") for p in parts if p.strip("+")]
    if not parts:
        raise FeatureSetError(f"empty feature spec {spec!r}; e.g. 'onehot,zc'")
    for p in parts:
        if p not in FEATURE_PARTS:
            close = difflib.get_close_matches(p, FEATURE_PARTS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise UnknownNameError(
                f"unknown feature part {p!r}{hint} choices: {', '.join(FEATURE_PARTS)}"
            )
    return list(dict.fromkeys(parts))


def stored_proxy_columns(benchmark: Benchmark, *, exclude: Sequence[str] = ()) -> list[str]:
    """The benchmark's columns that are registered proxy names (Suite-Zero stores 11-12)."""
    from nasrank.proxies import PROXIES

    return [m for m in benchmark.metrics if m in PROXIES and m not in exclude]


def _sorted_columns(values: np.ndarray) -> list[np.ndarray]:
    """Each column's finite values, sorted: the reference a rank transform is fitted on."""
    return [np.sort(col[~np.isnan(col)]) for col in values.T]


def _rank_against(values: np.ndarray, reference: Sequence[np.ndarray]) -> np.ndarray:
    """Percentile ranks of ``values`` within the fitted ``reference`` columns.

    A value of the reference gets its average rank over ``n`` (exactly
    ``scipy.stats.rankdata(column) / n`` on the fitted rows); a value between reference
    values gets the midpoint; NaN stays NaN.
    """
    out = np.full(values.shape, np.nan)
    for j, ref in enumerate(reference):
        col = values[:, j]
        ok = ~np.isnan(col)
        if ref.size and ok.any():
            left = np.searchsorted(ref, col[ok], side="left")
            right = np.searchsorted(ref, col[ok], side="right")
            out[ok, j] = (left + right + 1) / 2 / ref.size
    return out


def _check_options(transform: str, zc_transform: str) -> None:
    if transform not in ("none", "rank"):
        raise FeatureSetError(f"transform must be 'none' or 'rank', got {transform!r}")
    if zc_transform not in ZC_TRANSFORMS:
        raise FeatureSetError(
            f"zc_transform must be one of {', '.join(ZC_TRANSFORMS)}, got {zc_transform!r}"
        )


class Featurizer:
    """Feature matrices of architectures, fitted on a pool (scikit-learn style).

    ``fit(pool)`` learns what the label-free transforms need (the pool's proxy-score
    distribution for percentile ranks); ``transform(archs)`` gives any architectures'
    features on that scale, so a search can featurize candidates outside the pool.
    predict-eval and predictor BO (:class:`~nasrank.search.PredictorBO` with
    ``features=Featurizer(...)``) share it.

    Args:
        spec: Feature parts, ``"onehot,zc"`` or a list (see the module docstring).
        space: Search space (object or registry name).
        benchmark: Source of stored proxy scores for ``zc``.
        table: Proxy table ``zc`` reads when the benchmark stores no proxy scores (every
            column at its current definition, or ``proxies``); architectures the table
            does not cover get NaN.
        target_metric: Never used as a feature (default: the benchmark's default metric).
        graphs: Also attach PyG graphs of the ONNX graphs (for :class:`GNNPredictor`).
        onnx_level: ``"auto"`` (cell where the space has one, else network),
            ``"cell"`` or ``"network"``.
        zc_transform: ``"rank"`` (percentile rank within the fitted pool), ``"log"``
            or ``"raw"``.
        transform: ``"none"``, or ``"rank"`` to turn every column into percentile ranks
            within the fitted pool (puts spaces of different sizes on one scale, which
            helps cross-space transfer).
        proxies: Proxies for ``zc-engine`` (default synflow, nwot, jacov, snip, grad_norm)
            and the table columns of ``zc`` (default all).
        batch: Data for ``zc-engine`` (default: a synthetic CIFAR-shaped batch).
        seed: Seed of ``zc-engine`` scoring: each model is initialised from
            :func:`~nasrank.store.arch_seed` ``(seed, space, arch)``, so an
            architecture's scores do not depend on which others are featurized.
        cache: Cache for ONNX graphs (``None``: no caching).
        store: Score store ``zc-engine`` reads from and writes to (``None``: compute
            every score), the same one ``nasrank score-space`` and search pools use.
        device: Where ``zc-engine`` computes (``"cpu"``, ``"cuda"``, ``"cuda:N"``;
            ``None``: the CPU); not part of the store key (GPU scores equal CPU ones up
            to float rounding).
        on_progress: Called with counts of architectures encoded (ONNX, engine).

    Attributes:
        feature_names_: Column names, after :meth:`fit`.
    """

    def __init__(
        self,
        spec: str | Sequence[str],
        *,
        space: SearchSpace | str,
        benchmark: Benchmark | None = None,
        table: ProxyTable | None = None,
        target_metric: str | None = None,
        graphs: bool = False,
        onnx_level: str = "auto",
        zc_transform: str = "rank",
        transform: str = "none",
        proxies: Sequence[str] | None = None,
        batch: Batch | None = None,
        seed: int = 0,
        cache: EncodingCache | None = None,
        store: ScoreStore | None = None,
        device: str | None = None,
        on_progress: Callable[[int], None] | None = None,
    ) -> None:
        self.spec = spec
        self.space = space
        self.benchmark = benchmark
        self.table = table
        self.target_metric = target_metric
        self.graphs = graphs
        self.onnx_level = onnx_level
        self.zc_transform = zc_transform
        self.transform_all = transform
        self.proxies = proxies
        self.batch = batch
        self.seed = seed
        self.cache = cache
        self.store = store
        self.device = device
        self.on_progress = on_progress

    def fit(self, archs: Sequence[Any]) -> Featurizer:
        """Learn the pool's scales from ``archs`` (no labels are read)."""
        self._fit(self._raw(archs))
        return self

    def transform(self, archs: Sequence[Any]) -> FeatureMatrix:
        """Features of ``archs`` on the fitted scales.

        Raises:
            FeatureSetError: Not fitted yet.
        """
        if not hasattr(self, "feature_names_"):
            raise FeatureSetError("this Featurizer is not fitted yet; call fit(pool) first")
        return self._apply(self._raw(archs))

    def fit_transform(self, archs: Sequence[Any]) -> FeatureMatrix:
        """``fit(archs).transform(archs)``, computing the features once."""
        raw = self._raw(archs)
        self._fit(raw)
        return self._apply(raw)

    # ---- internals -------------------------------------------------------------------------
    def _raw(self, archs: Sequence[Any]) -> _RawFeatures:
        """Untransformed blocks of ``archs`` and which columns are proxy scores."""
        from nasrank.spaces import get_space

        space = get_space(self.space) if isinstance(self.space, str) else self.space
        parts = parse_feature_spec(self.spec)
        _check_options(self.transform_all, self.zc_transform)
        ids = [space.canonical(a) for a in archs]
        need_graphs = self.graphs or any(p in ("onnx", "onnx-core") for p in parts)
        opgraphs = (
            _opgraphs(space, ids, self.onnx_level, self.cache, self.on_progress)
            if need_graphs
            else None
        )
        blocks = [self._block(part, parts, space, ids, opgraphs) for part in parts]
        zc = np.concatenate(
            [np.full(b.shape[1], p in ("zc", "zc-engine")) for p, b in zip(parts, blocks)]
        )
        data = None
        if self.graphs:
            assert opgraphs is not None
            data = tuple(opgraph_to_data(g) for g in opgraphs)
        out = FeatureMatrix.hstack(blocks)
        return _RawFeatures(FeatureMatrix(out.values, out.names, tuple(ids), data), zc)

    def _block(
        self,
        part: str,
        parts: Sequence[str],
        space: SearchSpace,
        ids: list[str],
        opgraphs: Sequence[Any] | None,
    ) -> FeatureMatrix:
        if part in ("onehot", "onehot-pruned", "path"):
            return _space_block(part, space, ids)
        if part in ("onnx", "onnx-core"):
            assert opgraphs is not None
            return _onnx_block(opgraphs, core=part == "onnx-core")
        if part == "zc":
            return _stored_zc_block(
                self.benchmark, ids, self.target_metric, self.table, self.proxies
            )
        prefix = "zc-engine" if "zc" in parts else "zc"
        return _engine_zc_block(
            space,
            ids,
            self.proxies,
            self.batch,
            self.seed,
            self.store,
            self.on_progress,
            prefix,
            device=self.device,
        )

    def _fit(self, raw: _RawFeatures) -> None:
        values = raw.matrix.values
        self.zc_reference_ = _sorted_columns(values[:, raw.zc])
        self.feature_names_ = raw.matrix.names
        self.reference_ = _sorted_columns(self._zc_scaled(raw))

    def _zc_scaled(self, raw: _RawFeatures) -> np.ndarray:
        values = raw.matrix.values.copy()
        zc = values[:, raw.zc]
        if self.zc_transform == "rank":
            zc = _rank_against(zc, self.zc_reference_)
        elif self.zc_transform == "log":
            zc = np.sign(zc) * np.log1p(np.abs(zc))
        values[:, raw.zc] = zc
        return values

    def _apply(self, raw: _RawFeatures) -> FeatureMatrix:
        if raw.matrix.names != self.feature_names_:
            raise FeatureSetError("the architectures' feature columns differ from the fitted ones")
        values = self._zc_scaled(raw)
        if self.transform_all == "rank":
            values = _rank_against(values, self.reference_)
        m = raw.matrix
        return FeatureMatrix(values, m.names, m.archs, m.graphs)

    def __repr__(self) -> str:
        return f"Featurizer({self.spec!r}, space={getattr(self.space, 'name', self.space)!r})"


@dataclass(frozen=True)
class _RawFeatures:
    matrix: FeatureMatrix
    zc: np.ndarray  # bool mask of the proxy-score columns


def featurize(
    space: SearchSpace | str,
    archs: Sequence[Any],
    spec: str | Sequence[str],
    *,
    benchmark: Benchmark | None = None,
    table: ProxyTable | None = None,
    target_metric: str | None = None,
    graphs: bool = False,
    onnx_level: str = "auto",
    zc_transform: str = "rank",
    transform: str = "none",
    proxies: Sequence[str] | None = None,
    batch: Batch | None = None,
    seed: int = 0,
    cache: EncodingCache | None = None,
    store: ScoreStore | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> FeatureMatrix:
    """The features ``spec`` names for ``archs`` of ``space``, scaled on ``archs``
    themselves: ``Featurizer(spec, space=space, ...).fit_transform(archs)`` (the
    options are :class:`Featurizer`'s).

    Raises:
        FeatureSetError: ``zc`` without stored proxy scores, a part the space lacks.
        UnknownNameError: Unknown part.
    """
    featurizer = Featurizer(
        spec, space=space, benchmark=benchmark, table=table, target_metric=target_metric,
        graphs=graphs,
        onnx_level=onnx_level, zc_transform=zc_transform, transform=transform,
        proxies=proxies, batch=batch, seed=seed, cache=cache, store=store,
        on_progress=on_progress,
    )  # fmt: skip
    return featurizer.fit_transform(archs)


# ---- parts ---------------------------------------------------------------------------------
def _space_block(part: str, space: SearchSpace, ids: list[str]) -> FeatureMatrix:
    if part not in space.encodings:
        raise FeatureSetError(
            f"feature part {part!r} is not defined for space {space.name!r} (its encodings: "
            f"{', '.join(space.encodings) or 'none'}); use 'onnx', which works for every space"
        )
    values = np.stack([space.encode(part, a) for a in ids]) if ids else np.zeros((0, 0))
    names = space.encoding_names(part)
    if values.shape[1] != len(names):
        values = values.reshape(len(ids), len(names))
    return FeatureMatrix(values, tuple(names))


def _resolve_level(space: SearchSpace, level: str) -> str:
    if level == "auto":
        return "cell" if space.has_cell_module else "network"
    if level not in LEVELS:
        raise FeatureSetError(f"onnx_level must be auto, cell or network, got {level!r}")
    return level


def _opgraphs(
    space: SearchSpace,
    ids: list[str],
    level: str,
    cache: EncodingCache | None,
    on_progress: Callable[[int], None] | None,
) -> list[Any]:
    return encode_graphs(
        space, ids, level=_resolve_level(space, level), cache=cache, on_progress=on_progress
    )


def _onnx_block(opgraphs: Sequence[Any], *, core: bool) -> FeatureMatrix:
    names = feature_names()
    values = (
        np.stack([opgraph_features(g) for g in opgraphs]) if opgraphs else np.zeros((0, len(names)))
    )
    if core:
        keep = [i for i, n in enumerate(names) if not n.startswith("wl")]
        values = values[:, keep]
        names = tuple(names[i] for i in keep)
    return FeatureMatrix(values, tuple(f"onnx:{n}" for n in names))


def _stored_zc_block(
    benchmark: Benchmark | None,
    ids: list[str],
    target: str | None,
    table: ProxyTable | None = None,
    proxies: Sequence[str] | None = None,
) -> FeatureMatrix:
    """The benchmark's stored proxy columns; when it stores none, ``table``'s."""
    columns: list[str] = []
    if benchmark is not None:
        columns = stored_proxy_columns(benchmark, exclude=[target or benchmark.default_metric])
    if not columns and table is not None:
        return _table_zc_block(table, ids, proxies)
    if benchmark is None:
        raise FeatureSetError(
            "feature part 'zc' reads a benchmark's stored proxy scores or a proxy table; "
            "pass benchmark= (e.g. a NAS-Bench-Suite-Zero file), table=, or use 'zc-engine' "
            "to compute them"
        )
    if not columns:
        raise FeatureSetError(
            f"benchmark {benchmark.name!r} stores no zero-cost proxy scores (metrics: "
            f"{', '.join(benchmark.metrics)}); pass a proxy table (table=) or use "
            "'zc-engine' to compute them"
        )
    values = np.array([[benchmark.query(a, m) for m in columns] for a in ids], dtype=np.float64)
    if values.size == 0:
        values = values.reshape(len(ids), len(columns))
    return FeatureMatrix(values, tuple(f"zc:{m}" for m in columns))


def table_proxy_columns(table: ProxyTable, proxies: Sequence[str] | None = None) -> list[str]:
    """The columns ``zc`` reads from ``table``: ``proxies`` (each must be a column at its
    current definition), else every column whose proxy definition is current.

    Raises:
        FeatureSetError: A requested proxy is not a current column; no column is current.
    """
    stale = set(table.stale_proxies())
    if proxies is not None:
        bad = [p for p in proxies if p not in table.proxies or p in stale]
        if bad:
            raise FeatureSetError(
                f"table {table.name!r} has no current {bad[0]!r} column (its proxies: "
                f"{', '.join(p for p in table.proxies if p not in stale)})"
            )
        return list(proxies)
    columns = [p for p in table.proxies if p not in stale]
    if not columns:
        raise FeatureSetError(f"table {table.name!r} predates every proxy's current definition")
    return columns


def _table_zc_block(
    table: ProxyTable, ids: list[str], proxies: Sequence[str] | None
) -> FeatureMatrix:
    columns = table_proxy_columns(table, proxies)
    values = table.scores(ids, columns, missing="nan")
    return FeatureMatrix(values.reshape(len(ids), len(columns)), tuple(f"zc:{m}" for m in columns))


_DEFAULT_ENGINE_PROXIES = ("synflow", "nwot", "jacov", "snip", "grad_norm")


def _engine_zc_block(
    space: SearchSpace,
    ids: list[str],
    proxies: Sequence[str] | None,
    batch: Batch | None,
    seed: int,
    store: ScoreStore | None,
    on_progress: Callable[[int], None] | None,
    prefix: str,
    *,
    device: str | None = None,
) -> FeatureMatrix:
    """Proxy scores from the scoring service: every model from its own seed
    (:func:`~nasrank.store.arch_seed`), read from and written to ``store``."""
    from nasrank.data import load_batch
    from nasrank.proxies import resolve_proxies
    from nasrank.store import score_archs

    names = [s.name for s in resolve_proxies(list(proxies or _DEFAULT_ENGINE_PROXIES))]
    if batch is None:
        batch = load_batch("synthetic", batch_size=64, seed=seed)
    progress = None if on_progress is None else (lambda done, total: on_progress(1))
    scored = score_archs(
        space,
        ids,
        names,
        batch,
        seed=seed,
        build_kwargs={"num_classes": batch.num_classes or 10},
        store=store,
        progress=progress,
        device=device,
    )
    return FeatureMatrix(scored.matrix(), tuple(f"{prefix}:{n}" for n in names))
