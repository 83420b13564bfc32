"""The registry of search spaces."""

from __future__ import annotations

from nasrank.registry import Registry
from nasrank.spaces.base import SearchSpace

__all__ = ["SPACES", "get_space"]

SPACES: Registry[type[SearchSpace]] = Registry(
    "space", accepts=lambda obj: isinstance(obj, type) and issubclass(obj, SearchSpace)
)


def get_space(space: str | type[SearchSpace] | SearchSpace) -> SearchSpace:
    """Return a space instance from its registry name or class (an instance is passed
    through)."""
    if isinstance(space, SearchSpace):
        return space
    return SPACES.resolve(space)()
