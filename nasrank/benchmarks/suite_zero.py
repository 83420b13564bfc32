"""``suite-zero:PATH``: NAS-Bench-Suite-Zero JSON files.

Krishnakumar et al., "NAS-Bench-Suite-Zero: Accelerating Research on Zero Cost Proxies",
NeurIPS 2022 Datasets and Benchmarks. Each file maps (search space ->) task -> arch key ->
record with ``val_accuracy`` and the reference scores of zero-cost proxies, stored as
``{"score": ..., "time": ...}`` or bare numbers. Both layouts are read:

* ``{"cifar10": {"(0, 2, 3, 2, 3, 1)": {...}}, ...}`` (task at the top, NB-201 samples);
* ``{"nasbench101": {"cifar10": {"(0, 1, ..., 1)": {...}}}}`` (search space at the top).

Arch keys are tuple literals parsed with :func:`ast.literal_eval` (never ``eval``) and
canonicalised by the matching nasrank space; spaces nasrank does not implement keep the
normalised tuple text as id. Keys that are spellings of one architecture (NB-101 cells
before pruning) become one row whose values are the mean of theirs.

TransNAS-Bench-101 tasks (``class_scene``, ``jigsaw``, ...) belong to the task-bound space
``tnb101-micro:TASK`` / ``tnb101-macro:TASK`` (the file's space key, else the caller's
``space``, else told from the keys); their ``val_accuracy`` is each task's own metric as
Suite-Zero stores it (accuracy, pixel accuracy), larger = better.
"""

from __future__ import annotations

import ast
import json
import logging
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from nasrank.benchmarks.base import Benchmark
from nasrank.benchmarks.registry import BENCHMARKS
from nasrank.errors import BenchmarkDataNotFound, DataError, InvalidArchitecture
from nasrank.spaces import SPACES, get_space
from nasrank.spaces.tnb101 import TASKS as TNB_TASKS

__all__ = ["load_suite_zero", "SPACE_OF"]

logger = logging.getLogger(__name__)

#: Suite-Zero search-space key -> nasrank space name (None: ids kept as tuple text).
SPACE_OF: dict[str, str | None] = {
    "nasbench101": "nb101",
    "nasbench201": "nb201",
    "nasbench301": "nb301",
    "transbench101_micro": "tnb101-micro",
    "transbench101_macro": "tnb101-macro",
}
#: TransNAS-Bench-101 task names (files with these tasks at the top are TNB samples).
_TNB_TASKS = frozenset(TNB_TASKS)
_NOT_METRICS = {"idx", "arch", "id"}


def _parse_key(key: str) -> Any:
    try:
        return ast.literal_eval(key)
    except (ValueError, SyntaxError):
        raise DataError(f"Suite-Zero arch key {key!r} is not a tuple literal") from None


def _flat(obj: Any) -> list[Any]:
    if isinstance(obj, (list, tuple)):
        return [x for item in obj for x in _flat(item)]
    return [obj]


def _infer_space(key: Any) -> str | None:
    if isinstance(key, tuple) and all(isinstance(v, int) for v in key):
        return {6: "nb201", 56: "nb101"}.get(len(key))
    if isinstance(key, (tuple, list)) and len(key) == 2 and len(_flat(key)) == 32:
        return "nb301"
    return None


def _number(v: Any) -> float:
    if isinstance(v, Mapping):
        v = v.get("score", math.nan)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return math.nan
    return float(v)


def _nanmean(values: np.ndarray) -> float:
    finite = values[~np.isnan(values)]
    return float(finite.mean()) if finite.size else math.nan


def _layout(data: Mapping[str, Any], path: Path) -> dict[tuple[str | None, str], Mapping[str, Any]]:
    """(search space or None, task) -> arch table."""
    tables: dict[tuple[str | None, str], Mapping[str, Any]] = {}
    for top, inner in data.items():
        if not isinstance(inner, Mapping):
            raise DataError(f"{path}: entry {top!r} is not an object; not a Suite-Zero file")
        if top in SPACE_OF:
            for task, table in inner.items():
                tables[(top, task)] = table
        else:
            tables[(None, top)] = inner
    return tables


def _load_json(path: Path) -> Any:
    if not path.is_file():
        raise BenchmarkDataNotFound(
            f"Suite-Zero file {str(path)!r} not found; pass the path of a NAS-Bench-Suite-Zero "
            "JSON file such as zc_nasbench201.json"
        )
    try:
        with path.open() as f:
            return json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{path} is not valid JSON: {exc}") from None


def _family(space: str) -> str:
    """``tnb101-micro`` of ``tnb101-micro:jigsaw`` (a space name without its task)."""
    return space.split(":", 1)[0]


def _tnb_space(
    suite_space: str | None, asked: str | None, keys: list[Any], path: Path, task: str
) -> str:
    """The task-bound TransNAS-Bench-101 space of a TNB task's table: from the file's
    space key, else the caller's space, else the keys (micro digits are 0-3 at any
    position, macro codes 1-4 padded with trailing zeros)."""
    family = SPACE_OF.get(suite_space or "") or (_family(asked) if asked else None)
    if family is None:
        flat = [v for key in keys for v in _flat(key)]
        texts = ["".join(map(str, _flat(key))) for key in keys]
        if any(v == 4 for v in flat):
            family = "tnb101-macro"
        elif any("0" in t.rstrip("0") for t in texts):
            family = "tnb101-micro"
        else:
            raise DataError(
                f"{path}: cannot tell whether task {task!r} is TransNAS-Bench-101 micro or "
                "macro from its keys; give the space (--space tnb101-micro or tnb101-macro)"
            )
    if family not in ("tnb101-micro", "tnb101-macro"):
        raise DataError(
            f"{path} task {task!r} is a TransNAS-Bench-101 task, not one of space {asked!r}; "
            "give --space tnb101-micro or tnb101-macro"
        )
    return f"{family}:{task}"


@BENCHMARKS.register("suite-zero")
def load_suite_zero(arg: str, *, task: str | None = None, space: str | None = None) -> Benchmark:
    """Load one task of a Suite-Zero JSON file (default task ``cifar10`` when present)."""
    if not arg:
        raise DataError("benchmark 'suite-zero' needs a path: suite-zero:PATH/zc_nasbench201.json")
    path = Path(arg).expanduser()
    data = _load_json(path)
    if not isinstance(data, Mapping):
        raise DataError(f"{path}: top level is not an object; not a Suite-Zero file")
    tables = _layout(data, path)
    tasks = sorted({t for _, t in tables})
    chosen = task if task is not None else ("cifar10" if "cifar10" in tasks else None)
    if chosen is None:
        if len(tasks) == 1:
            chosen = tasks[0]
        else:
            raise DataError(f"{path} has several tasks; choose one with task=: {', '.join(tasks)}")
    matches = [k for k in tables if k[1] == chosen]
    if not matches:
        raise DataError(f"{path} has no task {chosen!r}; tasks: {', '.join(tasks)}")
    suite_space, _ = matches[0]
    table = tables[matches[0]]
    if not table:
        raise DataError(f"{path}: task {chosen!r} has no architectures")

    parsed = {k: _parse_key(k) for k in table}
    if chosen in _TNB_TASKS:
        space_name = _tnb_space(suite_space, space, list(parsed.values()), path, chosen)
    else:
        space_name = (
            SPACE_OF.get(suite_space) if suite_space else _infer_space(next(iter(parsed.values())))
        )
    if space is not None and space_name and space not in (space_name, _family(space_name)):
        raise DataError(f"{path} task {chosen!r} is space {space_name!r}, not {space!r}")

    impl = get_space(space_name) if space_name and _family(space_name) in SPACES else None
    metric_names: list[str] = []
    for record in table.values():
        for m, v in record.items():
            if m not in _NOT_METRICS and m not in metric_names and not math.isnan(_number(v)):
                metric_names.append(m)
    if "val_accuracy" not in metric_names:
        raise DataError(f"{path} task {chosen!r} has no 'val_accuracy' values")

    # Keys that canonicalise to one id (unpruned spellings of one NB-101 cell, whose stored
    # accuracies are different training repeats) are averaged, NaN-aware.
    rows: dict[str, list[list[float]]] = {}
    for key, record in table.items():
        try:
            arch = impl.canonical(parsed[key]) if impl is not None else repr(parsed[key])
        except InvalidArchitecture as exc:
            raise DataError(f"{path}: arch key {key!r} is invalid: {exc}") from None
        rows.setdefault(arch, []).append([_number(record.get(m)) for m in metric_names])
    merged = len(table) - len(rows)
    if merged:
        logger.info("%s: %d keys share a canonical id with another; values averaged", path, merged)
    archs = list(rows)
    stacked = [np.asarray(rows[a], dtype=np.float64) for a in archs]
    columns = {
        m: [_nanmean(values[:, j]) for values in stacked] for j, m in enumerate(metric_names)
    }
    return Benchmark(
        name=f"suite-zero:{path}[{chosen}]",
        space=space_name if impl is not None else None,
        archs=archs,
        values=columns,
        default_metric="val_accuracy",
        description=f"Suite-Zero {suite_space or space_name} {chosen}, {len(archs)} archs",
    )
