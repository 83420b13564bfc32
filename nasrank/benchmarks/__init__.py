"""Ground-truth tables: look up accuracy (and cost metrics) of an architecture id."""

from nasrank.benchmarks.base import Benchmark, is_lower_better
from nasrank.benchmarks.registry import BENCHMARKS, load_benchmark

# Registration happens here, explicitly, one import per benchmark module.
from nasrank.benchmarks import nb201_analog, nb_graph, nbbert, nbnlp, suite_zero, table  # noqa: E402,F401  isort: skip

__all__ = ["BENCHMARKS", "Benchmark", "is_lower_better", "load_benchmark"]
