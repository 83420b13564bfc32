"""The registry of search spaces."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nasrank.registry import Registry

if TYPE_CHECKING:
    from nasrank.spaces.base import SearchSpace

__all__ = ["SPACES", "get_space"]

SPACES: Registry[type[SearchSpace]] = Registry("space")


def get_space(space: str | SearchSpace) -> SearchSpace:
    """Return a space instance from its registry name (or pass an instance through)."""
    from nasrank.spaces.base import SearchSpace

    if isinstance(space, SearchSpace):
        return space
    return SPACES.get(space)()
