"""nasrank: rank neural-network architectures without training them.

``nasrank.score(model, batch, proxies=["synflow", "gradsign"])`` scores any PyTorch model
at initialisation; subpackages hold search spaces (``nasrank.spaces``), ground-truth
tables (``nasrank.benchmarks``), data (``nasrank.data``) and proxies (``nasrank.proxies``).
Heavy modules are imported on first use so ``import nasrank`` stays fast.
"""

from __future__ import annotations

from typing import Any

from nasrank._version import __version__

__all__ = ["__version__", "score"]


def __getattr__(name: str) -> Any:
    if name == "score":
        from nasrank.proxies import score

        return score
    raise AttributeError(f"module 'nasrank' has no attribute {name!r}")
