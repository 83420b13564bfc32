"""The registry of search spaces."""

from __future__ import annotations

from nasrank.errors import UnknownNameError
from nasrank.registry import Registry
from nasrank.spaces.base import SearchSpace

__all__ = ["SPACES", "get_space"]

SPACES: Registry[type[SearchSpace]] = Registry(
    "space", accepts=lambda obj: isinstance(obj, type) and issubclass(obj, SearchSpace)
)


def get_space(
    space: str | type[SearchSpace] | SearchSpace, *, task: str | None = None
) -> SearchSpace:
    """Return a space instance from its registry name or class (an instance is passed
    through).

    A space with tasks (its class has a non-empty ``tasks``: the task changes the
    networks) takes ``NAME:TASK``, e.g. ``"tnb101-micro:jigsaw"``, or ``task=``; the
    instance's ``name`` is then ``NAME:TASK``. For other spaces ``task`` is a benchmark's
    task only (``cifar100``) and is ignored here.

    Raises:
        UnknownNameError: Unknown space or task, or ``NAME:TASK`` for a space without tasks.
    """
    if isinstance(space, SearchSpace):
        return space
    if isinstance(space, str) and ":" in space:  # NAME:TASK
        space, task = space.split(":", 1)
        cls = SPACES.resolve(space)
        if not getattr(cls, "tasks", ()):
            raise UnknownNameError(
                f"space {space!r} has no tasks, so {space + ':' + task!r} names nothing; "
                f"give {space!r}"
            )
        return cls(task=task)  # type: ignore[call-arg]
    cls = SPACES.resolve(space)
    if task is not None and isinstance(space, str) and getattr(cls, "tasks", ()):
        return cls(task=task)  # type: ignore[call-arg]
    return cls()
