"""``nbbert:PATH``: NAS-Bench-BERT GLUE scores (Serianni & Kalita, ACL 2023).

Reads ``BERT_benchmark.json``: a list of records ``{"id", "completed", "time_to_train",
"scores": {"cola", "mnli", "mrpc", "qnli", "qqp", "rte", "sst", "sts", "glue"},
"hparams": {"model_hparam_overrides": {"hidden_size", "nas_config": {"encoder_layers"}}}}``
for 500 FlexiBERT-like transformers pretrained ELECTRA-small style and fine-tuned on GLUE.
``PATH`` may also be the folder holding that file. Records not ``completed`` are skipped.

Nine architectures were sampled and trained twice, so rows are grouped by canonical id and
each metric is the mean over the runs (``runs`` counts them): 500 rows -> 491 architectures.
:func:`read_nbbert_rows` gives the per-row table (with the record ``id``, which indexes
``BERT_results_activation.csv``).

Metrics: ``glue`` (default, the mean GLUE score), each task score, ``time_to_train``
(seconds; lower is better), ``runs``. Scores are higher-is-better.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nasrank.benchmarks.base import Benchmark
from nasrank.benchmarks.registry import BENCHMARKS
from nasrank.errors import BenchmarkDataNotFound, DataError, InvalidArchitecture
from nasrank.spaces.nbbert import parse_arch

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["load_nbbert", "read_nbbert_rows", "NBBERT_FILE", "TASKS"]

logger = logging.getLogger(__name__)

#: File name of the benchmark inside a NAS-Bench-BERT data folder.
NBBERT_FILE = "BERT_benchmark.json"
#: GLUE task scores stored per architecture, then their mean ``glue``.
TASKS: tuple[str, ...] = ("cola", "mnli", "mrpc", "qnli", "qqp", "rte", "sst", "sts", "glue")


def _resolve(arg: str) -> Path:
    if not arg:
        raise DataError(
            f"benchmark 'nbbert' needs a path: nbbert:PATH/{NBBERT_FILE} (or the folder holding it)"
        )
    path = Path(arg).expanduser()
    if path.is_dir():
        path = path / NBBERT_FILE
    if not path.is_file():
        raise BenchmarkDataNotFound(
            f"NAS-Bench-BERT file {str(path)!r} not found; pass the path of {NBBERT_FILE} "
            "(Serianni & Kalita's benchmark: a JSON list of records with 'scores' and "
            "'hparams'; in the development data it is ../shared/data/nas-bench-bert/)"
        )
    return path


def _number(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return math.nan
    return float(v)


def _records(path: Path) -> list[dict[str, Any]]:
    """One dict per completed record: ``id``, ``arch`` and the metrics."""
    try:
        with path.open() as f:
            data = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(data, list):
        raise DataError(f"{path}: top level is not a list of records; not a NAS-Bench-BERT file")
    rows = []
    for n, record in enumerate(data):
        if not isinstance(record, Mapping) or not isinstance(record.get("scores"), Mapping):
            raise DataError(f"{path}: record {n} has no 'scores' object")
        if record.get("completed") is False:
            continue
        try:
            arch = parse_arch(record).id
        except InvalidArchitecture as exc:
            raise DataError(f"{path}: record {record.get('id', n)!r}: {exc}") from None
        row: dict[str, Any] = {"id": record.get("id", n), "arch": arch}
        for task in TASKS:
            row[task] = _number(record["scores"].get(task))
        row["time_to_train"] = _number(record.get("time_to_train"))
        rows.append(row)
    if not rows:
        raise DataError(f"{path} has no completed records")
    return rows


def read_nbbert_rows(arg: str | Path) -> pd.DataFrame:
    """``BERT_benchmark.json`` as a DataFrame, one row per completed record: ``arch``
    (canonical id), ``id``, the task scores, ``glue`` and ``time_to_train``."""
    import pandas as pd

    rows = _records(_resolve(str(arg)))
    frame = pd.DataFrame(rows)
    return frame[["arch", "id", *TASKS, "time_to_train"]]


@BENCHMARKS.register("nbbert")
def load_nbbert(arg: str, *, task: str | None = None, space: str | None = None) -> Benchmark:
    """Load NAS-Bench-BERT (see the module docstring); ``task`` picks the default metric."""
    if space is not None and space != "nbbert":
        raise DataError(f"benchmark 'nbbert' is over space 'nbbert', not {space!r}")
    if task is not None and task not in TASKS:
        raise DataError(f"benchmark 'nbbert' has no task {task!r}; tasks: {', '.join(TASKS)}")
    path = _resolve(arg)
    rows = _records(path)
    metrics = [*TASKS, "time_to_train"]
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["arch"], []).append(row)
    archs = list(groups)
    values: dict[str, list[float]] = {m: [] for m in metrics}
    for arch in archs:
        for m in metrics:
            vals = [r[m] for r in groups[arch] if not math.isnan(r[m])]
            values[m].append(sum(vals) / len(vals) if vals else math.nan)
    values["runs"] = [float(len(groups[a])) for a in archs]
    if len(rows) != len(archs):
        logger.info(
            "%s: repeated architectures averaged (%d records -> %d architectures)",
            path,
            len(rows),
            len(archs),
        )
    return Benchmark(
        name=f"nbbert:{path}",
        space="nbbert",
        archs=archs,
        values=values,
        default_metric=task or "glue",
        lower_is_better=["time_to_train"],
        description=f"NAS-Bench-BERT GLUE scores, {len(archs)} archs ({len(rows)} runs)",
    )
