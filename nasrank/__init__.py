"""nasrank: rank neural-network architectures without training them."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
