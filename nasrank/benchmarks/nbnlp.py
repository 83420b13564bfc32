"""``nbnlp:PATH``: NAS-Bench-NLP language-model losses (Klyuchnikov et al., 2020).

Reads the derived CSV ``derived_nbnlp_wt2_recipes_losses.csv`` (one row per trained model:
``recepie_id``, ``status``, ``num_params``, final WikiText-2 train/val/test loss, best val
loss, final PTB test loss where known, and the cell ``recipe`` as JSON). ``PATH`` may also be
the folder holding that file.

Only rows whose ``status`` is ``OK`` are kept (341 of 345; the others diverged). The
benchmark trained some cells more than once (same recipe, or the same cell with other node
names / input order), so rows are grouped by canonical architecture id and each metric is
the mean over that architecture's runs (NaNs ignored); ``runs`` counts them. On the shipped
file: 341 OK rows -> 263 architectures, 271 rows with a PTB loss -> 213 architectures.
:func:`read_nbnlp_rows` gives the per-row table for row-level comparisons.

Metrics (losses are lower-is-better; :meth:`Benchmark.oriented` negates them):

=====================  =================================  ========================
metric                 CSV column                         note
=====================  =================================  ========================
``wt2_test_loss``      ``final_test_loss``                default metric
``wt2_val_loss``       ``final_val_loss``
``wt2_train_loss``     ``final_train_loss``
``wt2_best_val_loss``  ``best_val_loss``
``ptb_test_loss``      ``ptb_final_test_loss``            NaN where not trained
``num_params``         ``num_params``                     equals the built model's
``runs``               (rows merged)
=====================  =================================  ========================
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from nasrank.benchmarks.base import Benchmark
from nasrank.benchmarks.registry import BENCHMARKS
from nasrank.errors import BenchmarkDataNotFound, DataError, InvalidArchitecture
from nasrank.spaces.nbnlp import canonical_recipe

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["load_nbnlp", "read_nbnlp_rows", "NBNLP_FILE", "METRIC_COLUMNS"]

logger = logging.getLogger(__name__)

#: File name of the derived table inside a NAS-Bench-NLP data folder.
NBNLP_FILE = "derived_nbnlp_wt2_recipes_losses.csv"
#: nasrank metric -> CSV column.
METRIC_COLUMNS: dict[str, str] = {
    "wt2_test_loss": "final_test_loss",
    "wt2_val_loss": "final_val_loss",
    "wt2_train_loss": "final_train_loss",
    "wt2_best_val_loss": "best_val_loss",
    "ptb_test_loss": "ptb_final_test_loss",
    "num_params": "num_params",
}
_LOSSES = tuple(m for m in METRIC_COLUMNS if m.endswith("_loss"))


def _resolve(arg: str) -> Path:
    if not arg:
        raise DataError(
            f"benchmark 'nbnlp' needs a path: nbnlp:PATH/{NBNLP_FILE} (or the folder holding it)"
        )
    path = Path(arg).expanduser()
    if path.is_dir():
        path = path / NBNLP_FILE
    if not path.is_file():
        raise BenchmarkDataNotFound(
            f"NAS-Bench-NLP table {str(path)!r} not found; pass the path of {NBNLP_FILE} "
            "(the derived NAS-Bench-NLP CSV with columns recipe, status, final_test_loss, ...; "
            "in the development data it is ../shared/data/nas-bench-nlp/)"
        )
    return path


def read_nbnlp_rows(arg: str | Path, *, ok_only: bool = True) -> pd.DataFrame:
    """The NAS-Bench-NLP CSV as a DataFrame, one row per trained model, with an ``arch``
    column of canonical ids first (status-OK rows only unless ``ok_only=False``).

    Raises:
        BenchmarkDataNotFound: no file at ``arg``.
        DataError: unreadable file, missing columns, or an invalid recipe.
    """
    import pandas as pd


    path = _resolve(str(arg))
    try:
        frame = pd.read_csv(path)
    except Exception as exc:
        raise DataError(f"cannot read NAS-Bench-NLP table {path}: {exc}") from None
    required = ["recipe", "final_test_loss"]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataError(
            f"{path} lacks column(s) {', '.join(missing)}; not a NAS-Bench-NLP table "
            f"(columns: {', '.join(map(str, frame.columns))})"
        )
    if ok_only and "status" in frame.columns:
        frame = frame[frame["status"] == "OK"]
    if frame.empty:
        raise DataError(f"{path} has no status-OK rows")
    ids = []
    for row, recipe in zip(frame.index, frame["recipe"]):
        try:
            ids.append(canonical_recipe(str(recipe)))
        except InvalidArchitecture as exc:
            raise DataError(f"{path} row {row}: invalid recipe: {exc}") from None
    frame = frame.reset_index(drop=True)
    frame.insert(0, "arch", ids)
    return frame


@BENCHMARKS.register("nbnlp")
def load_nbnlp(arg: str, *, task: str | None = None, space: str | None = None) -> Benchmark:
    """Load the NAS-Bench-NLP table (see the module docstring)."""
    if task is not None:
        raise DataError("benchmark 'nbnlp' has no tasks; pick a column with metric=")
    if space is not None and space != "nbnlp":
        raise DataError(f"benchmark 'nbnlp' is over space 'nbnlp', not {space!r}")
    path = _resolve(arg)
    frame = read_nbnlp_rows(path)
    present = {m: c for m, c in METRIC_COLUMNS.items() if c in frame.columns}
    columns = {m: frame[c].to_numpy(dtype=np.float64) for m, c in present.items()}
    groups: dict[str, list[int]] = {}
    for i, arch in enumerate(frame["arch"]):
        groups.setdefault(arch, []).append(i)
    archs = list(groups)
    values: dict[str, list[float]] = {m: [] for m in columns}
    for arch in archs:
        rows = groups[arch]
        for m, col in columns.items():
            picked = col[rows]
            picked = picked[~np.isnan(picked)]
            values[m].append(float(picked.mean()) if picked.size else math.nan)
    merged = len(frame) - len(archs)
    if merged:
        logger.info(
            "%s: %d rows of repeated architectures averaged (%d rows -> %d architectures)",
            path,
            merged,
            len(frame),
            len(archs),
        )
    out: dict[str, list[float]] = {**values, "runs": [float(len(groups[a])) for a in archs]}
    return Benchmark(
        name=f"nbnlp:{path}",
        space="nbnlp",
        archs=archs,
        values=out,
        default_metric="wt2_test_loss",
        lower_is_better=[m for m in _LOSSES if m in out],
        description=f"NAS-Bench-NLP WikiText-2/PTB losses, {len(archs)} archs ({len(frame)} runs)",
    )
