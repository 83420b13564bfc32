"""A tiny name -> object registry with did-you-mean errors."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from nasrank.errors import UnknownNameError

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps stable snake_case names to objects of one kind.

    Entries are added with :meth:`register` (usable as a decorator) from the module that
    defines them; the subpackage ``__init__`` imports those modules explicitly.

    Args:
        kind: What the registry holds, used in error messages ("proxy", "space", ...).
        accepts: Says whether an object is of the registry's kind (a ``ProxySpec``, a
            ``Searcher`` subclass, ...); :meth:`resolve` passes such objects through
            unchanged. ``None``: only names resolve.
    """

    def __init__(self, kind: str, *, accepts: Callable[[Any], bool] | None = None) -> None:
        self.kind = kind
        self._accepts = accepts
        self._entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Return a decorator that registers its argument under ``name``."""

        def decorator(obj: T) -> T:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._entries[name] = obj
            return obj

        return decorator

    def get(self, name: str) -> T:
        """Return the entry called ``name``.

        Raises:
            UnknownNameError: ``name`` is not registered; the message lists the choices
                and the closest match.
        """
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownNameError(self.unknown_message(name)) from None

    def resolve(self, name_or_obj: str | T) -> T:
        """The entry called ``name_or_obj``, or ``name_or_obj`` itself when it is an object
        of the registry's kind (see ``accepts``).

        Raises:
            UnknownNameError: Neither an accepted object nor a registered name; the
                message lists the choices and the closest match.
        """
        if not isinstance(name_or_obj, str) and self._accepts is not None:
            if self._accepts(name_or_obj):
                return name_or_obj
        return self.get(name_or_obj)  # type: ignore[arg-type]

    def unknown_message(self, name: str) -> str:
        choices = sorted(self._entries)
        close = difflib.get_close_matches(str(name), choices, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"unknown {self.kind} {name!r}{hint} choices: {', '.join(choices)}"

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {self.names()})"
