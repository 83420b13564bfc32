"""``nb201-analog``: all 15,625 NAS-Bench-201 architectures on CIFAR-10 from AnalogNAS-Bench.

Source: the PyPI package ``analog-nasbench`` (Benmeziane et al., "AnalogNAS-Bench", 2025),
file ``analognasbench/data.anb``: for every NB-201 cell (keyed by NASLib's 6-tuple) the
CIFAR-10 test accuracy of the digitally trained network (``baseline_accuracy``; rank
correlation 0.98-0.99 with the official NB-201 table), after post-training quantisation
(``ptq_accuracy``), quantisation-aware training (``qat_accuracy``), with weight noise
(``noisy_accuracy``), on analog hardware (``analog_accuracy``) and after conductance drift
for 60 s, 1 h, 1 day and 30 days (``baseline_drift_*``, ``analog_drift_*``; accuracies).

The package's own module does not import on recent setuptools (it needs
``pkg_resources``), so the file is located without importing it and read with a
restricted unpickler that maps its two record classes to inert stand-ins.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from nasrank._pickle import restricted_load
from nasrank.benchmarks.base import Benchmark
from nasrank.benchmarks.registry import BENCHMARKS
from nasrank.errors import BenchmarkDataNotFound, DataError
from nasrank.spaces.nb201 import from_naslib

__all__ = ["load_nb201_analog", "METRICS"]

_ACCURACIES = (
    "baseline_accuracy",
    "ptq_accuracy",
    "qat_accuracy",
    "noisy_accuracy",
    "analog_accuracy",
)
_DRIFTS = tuple(
    f"{kind}_drift_{seconds}"
    for kind in ("baseline", "analog")
    for seconds in (60, 3600, 86400, 2592000)
)
METRICS: tuple[str, ...] = _ACCURACIES + _DRIFTS


class _Record:
    """Inert stand-in for the package's record classes: only ``__dict__`` is restored."""


class _Architecture(_Record):
    pass


class _DriftMeasurement(_Record):
    pass


_ALLOWED = {
    ("analognasbench.data", "Architecture"): _Architecture,
    ("analognasbench.data", "DriftMeasurement"): _DriftMeasurement,
}


def data_file() -> Path:
    """Path of ``analognasbench/data.anb`` (found without importing the package)."""
    spec = importlib.util.find_spec("analognasbench")
    if spec is None or not spec.submodule_search_locations:
        raise BenchmarkDataNotFound(
            "benchmark 'nb201-analog' needs the PyPI package analog-nasbench; "
            "install it with: pip install analog-nasbench"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "data.anb"
    if not path.is_file():
        raise BenchmarkDataNotFound(
            f"analog-nasbench is installed but {path} is missing; reinstall it with: "
            "pip install --force-reinstall analog-nasbench"
        )
    return path


def _value(v: Any) -> float:
    if isinstance(v, _DriftMeasurement):
        return float(vars(v).get("value", float("nan")))
    return float(v)


_CACHE: dict[Path, Benchmark] = {}


@BENCHMARKS.register("nb201-analog")
def load_nb201_analog(
    arg: str = "", *, task: str | None = None, space: str | None = None
) -> Benchmark:
    """Load the table (cached per process; about 1 s the first time)."""
    if arg:
        raise DataError(f"benchmark 'nb201-analog' takes no argument, got {arg!r}")
    if task not in (None, "cifar10"):
        raise DataError(f"benchmark 'nb201-analog' has only task 'cifar10', got {task!r}")
    if space not in (None, "nb201"):
        raise DataError(f"benchmark 'nb201-analog' covers space 'nb201', not {space!r}")
    path = data_file()
    if path in _CACHE:
        return _CACHE[path]
    try:
        with path.open("rb") as f:
            table = restricted_load(f, numpy=False, extra=_ALLOWED)
    except Exception as exc:  # corrupt or truncated file
        raise DataError(f"cannot read {path}: {exc}") from exc
    archs: list[str] = []
    columns: dict[str, list[float]] = {m: [] for m in METRICS}
    for key in sorted(table):
        fields = vars(table[key])
        archs.append(from_naslib(key))
        for m in METRICS:
            columns[m].append(_value(fields.get(m, float("nan"))))
    bench = Benchmark(
        name="nb201-analog",
        space="nb201",
        archs=archs,
        values=columns,
        default_metric="baseline_accuracy",
        description="NAS-Bench-201 CIFAR-10, all 15,625 archs (analog-nasbench)",
    )
    _CACHE[path] = bench
    return bench
