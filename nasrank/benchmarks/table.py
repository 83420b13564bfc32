"""``table:PATH``: any CSV or Parquet file with an ``arch`` column and metric columns."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nasrank.benchmarks.base import Benchmark, is_lower_better
from nasrank.benchmarks.registry import BENCHMARKS
from nasrank.errors import BenchmarkDataNotFound, DataError, InvalidArchitecture
from nasrank.spaces import get_space

__all__ = ["load_table"]


@BENCHMARKS.register("table")
def load_table(arg: str, *, task: str | None = None, space: str | None = None) -> Benchmark:
    """Load a user table.

    The ``arch`` column holds ids in any spelling ``space`` accepts (canonicalised when
    ``space`` is given); every numeric column becomes a metric. Metrics whose names say
    loss/error/latency/perplexity/time are lower-is-better. The default metric is the
    first column named like ``*acc*``, else the first numeric column.
    """
    import pandas as pd

    if task is not None:
        raise DataError("benchmark 'table' has no tasks; pick a column with metric=")
    if not arg:
        raise DataError("benchmark 'table' needs a path: table:PATH.csv or table:PATH.parquet")
    path = Path(arg).expanduser()
    if not path.is_file():
        raise BenchmarkDataNotFound(f"table file {str(path)!r} not found")
    try:
        frame = pd.read_parquet(path) if path.suffix in (".parquet", ".pq") else pd.read_csv(path)
    except Exception as exc:
        raise DataError(f"cannot read table {path}: {exc}") from None
    if "arch" not in frame.columns:
        raise DataError(
            f"table {path} has no 'arch' column; columns: {', '.join(map(str, frame.columns))}"
        )
    numeric = [
        c for c in frame.columns if c != "arch" and pd.api.types.is_numeric_dtype(frame[c].dtype)
    ]
    if not numeric:
        raise DataError(f"table {path} has no numeric metric columns besides 'arch'")
    if space is not None:
        impl = get_space(space)
        try:
            ids = [impl.canonical(a) for a in frame["arch"]]
        except InvalidArchitecture as exc:
            raise DataError(f"table {path}: {exc}") from None
    else:
        ids = [str(a) for a in frame["arch"]]
    if len(set(ids)) != len(ids):
        raise DataError(
            f"table {path} lists some architecture more than once (after canonicalisation)"
        )
    default = next((c for c in numeric if "acc" in str(c).lower()), numeric[0])
    return Benchmark(
        name=f"table:{path}",
        space=space,
        archs=ids,
        values={str(c): frame[c].to_numpy(dtype=np.float64) for c in numeric},
        default_metric=str(default),
        lower_is_better=[str(c) for c in numeric if is_lower_better(str(c))],
        description=f"user table {path.name}, {len(ids)} archs",
    )
