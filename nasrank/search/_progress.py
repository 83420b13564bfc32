"""Progress reporting injected into long library work (the CLI passes its bars)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

__all__ = ["ProgressFactory", "silent_progress"]

#: ``progress(description, total)`` -> a context manager yielding an object with
#: ``advance(n=1)``; :func:`nasrank.cli._output.progress` is one.
ProgressFactory = Callable[[str, "int | None"], AbstractContextManager[Any]]


class _Silent:
    def advance(self, n: int = 1) -> None:
        """Nothing to show."""


@contextlib.contextmanager
def silent_progress(description: str, total: int | None) -> Iterator[_Silent]:
    """A progress factory that shows nothing (the library default)."""
    yield _Silent()
