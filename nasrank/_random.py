"""Seed handling shared by spaces, data and searchers."""

from __future__ import annotations

import numpy as np

__all__ = ["SeedLike", "as_rng"]

SeedLike = int | np.random.Generator | None


def as_rng(seed: SeedLike) -> np.random.Generator:
    """Return ``seed`` if it is a Generator, else a new Generator seeded with it."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)
