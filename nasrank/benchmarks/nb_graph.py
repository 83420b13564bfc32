"""``nb-graph:DATASET``: NAS-Bench-Graph's 26,206 GNNs on one of nine graph datasets.

Source: the PyPI package ``nas-bench-graph`` (Qin et al., "NAS-Bench-Graph: Benchmarking
Graph Neural Architecture Search", NeurIPS 2022 Datasets and Benchmarks), files
``nas_bench_graph/light/<dataset>.bench``: pickles of ``{hash: {"valid_perf", "perf",
"latency", "para"}}`` keyed by the benchmark's architecture hash (see
:mod:`nasrank.spaces.nbgraph`). Datasets: cora, citeseer, pubmed, cs, physics, photo,
computers, arxiv (26,206 architectures each) and proteins (2,021: only the architectures
built from :data:`~nasrank.spaces.nbgraph.PROTEINS_OPS`; others are ``NotInBenchmark``).

Metrics: ``valid_perf`` (validation accuracy; ROC-AUC on proteins; the default), ``perf``
(the same on the test split), ``latency`` (seconds per inference, lower is better) and
``para`` (parameters in millions, lower is better).

The files hold only builtins and numpy scalars; they are located without importing the
package and read with :func:`nasrank._pickle.restricted_load`.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nasrank._pickle import restricted_load
from nasrank.benchmarks.base import Benchmark
from nasrank.benchmarks.registry import BENCHMARKS
from nasrank.errors import BenchmarkDataNotFound, DataError, InvalidArchitecture
from nasrank.spaces.nbgraph import DATASETS, dataset_setting, from_hash

__all__ = ["load_nb_graph", "data_file", "METRICS", "DATASET_NAMES"]

#: Columns of every table, in file order.
METRICS: tuple[str, ...] = ("valid_perf", "perf", "latency", "para")
#: The datasets, as accepted after ``nb-graph:``.
DATASET_NAMES: tuple[str, ...] = tuple(DATASETS)

_INSTALL = "install it with: pip install nas-bench-graph"


def data_file(dataset: str) -> Path:
    """Path of ``nas_bench_graph/light/<dataset>.bench`` (found without importing it).

    Raises:
        UnknownNameError: ``dataset`` is not one of :data:`DATASET_NAMES`.
        BenchmarkDataNotFound: The package or the file is missing.
    """
    dataset_setting(dataset)  # validates the name
    spec = importlib.util.find_spec("nas_bench_graph")
    if spec is None or not spec.submodule_search_locations:
        raise BenchmarkDataNotFound(
            "benchmark 'nb-graph' needs the PyPI package nas-bench-graph; " + _INSTALL
        )
    path = (
        Path(next(iter(spec.submodule_search_locations)))
        / "light"
        / f"{dataset.strip().lower()}.bench"
    )
    if not path.is_file():
        raise BenchmarkDataNotFound(
            f"nas-bench-graph is installed but {path} is missing; reinstall it with: "
            "pip install --force-reinstall nas-bench-graph"
        )
    return path


def _rows(table: Any, path: Path) -> list[tuple[int, Mapping[str, Any]]]:
    if not isinstance(table, Mapping) or not table:
        raise DataError(
            f"{path} is not a non-empty NAS-Bench-Graph table (a dict of hash -> metrics)"
        )
    rows = []
    for key, record in table.items():
        if not isinstance(key, int) or not isinstance(record, Mapping):
            raise DataError(f"{path}: entry {key!r} is not 'int hash -> dict of metrics'")
        missing = [m for m in METRICS if m not in record]
        if missing:
            raise DataError(f"{path}: entry {key} lacks metric(s) {', '.join(missing)}")
        rows.append((key, record))
    return sorted(rows, key=lambda row: row[0])


_CACHE: dict[Path, Benchmark] = {}


@BENCHMARKS.register("nb-graph")
def load_nb_graph(arg: str = "", *, task: str | None = None, space: str | None = None) -> Benchmark:
    """Load ``nb-graph:DATASET`` (cached per process; about 0.3 s the first time).

    The dataset is the text after ``nb-graph:`` or, equivalently, ``task``.

    Raises:
        DataError: No dataset given, ``arg`` and ``task`` disagree, a space other than
            ``nbgraph`` requested, or the file is malformed.
        UnknownNameError: Unknown dataset (with the closest match).
        BenchmarkDataNotFound: nas-bench-graph is not installed.
    """
    if arg and task and arg.strip().lower() != task.strip().lower():
        raise DataError(
            f"benchmark 'nb-graph:{arg}' got a different task {task!r}; give one dataset"
        )
    dataset = (arg or task or "").strip().lower()
    if not dataset:
        raise DataError(
            "benchmark 'nb-graph' needs a dataset, e.g. 'nb-graph:cora'; choices: "
            + ", ".join(DATASET_NAMES)
        )
    if space not in (None, "nbgraph"):
        raise DataError(f"benchmark 'nb-graph' covers space 'nbgraph', not {space!r}")
    path = data_file(dataset)
    if path in _CACHE:
        return _CACHE[path]
    try:
        with path.open("rb") as f:
            table = restricted_load(f)
    except Exception as exc:  # corrupt or truncated file
        raise DataError(f"cannot read {path}: {exc}") from exc
    archs: list[str] = []
    columns: dict[str, list[float]] = {m: [] for m in METRICS}
    for key, record in _rows(table, path):
        try:
            archs.append(from_hash(key))
        except InvalidArchitecture as exc:
            raise DataError(f"{path}: key {key} is not a NAS-Bench-Graph hash ({exc})") from None
        for m in METRICS:
            value = float(record[m])
            columns[m].append(value if math.isfinite(value) else math.nan)
    bench = Benchmark(
        name=f"nb-graph:{dataset}",
        space="nbgraph",
        archs=archs,
        values=columns,
        default_metric="valid_perf",
        lower_is_better=("latency", "para"),
        description=(
            f"NAS-Bench-Graph {dataset}, {len(archs):,} GNN archs (nas-bench-graph)"
            + (", reduced op set gcn/sage/arma/fc/skip" if dataset == "proteins" else "")
        ),
    )
    _CACHE[path] = bench
    return bench
