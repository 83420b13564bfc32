"""pytest helpers: one test per registry entry, one test per contract check.

pytest is a development dependency only, so it is imported inside the helpers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from nasrank.registry import Registry

__all__ = ["parametrize_checks", "parametrize_registry"]


def parametrize_registry(
    registry: Registry[Any],
    argname: str = "name",
    *,
    marks: Mapping[str, Any] | None = None,
) -> Any:
    """``pytest.mark.parametrize`` over every name of ``registry`` (the name is the id).

    Args:
        registry: E.g. ``PROXIES``, ``SPACES``, ``PREDICTORS``, ``SEARCHERS``.
        argname: The test argument receiving the name.
        marks: Name -> mark (or marks) for that entry, e.g. ``{"gnn": pytest.mark.slow}``.

    Example::

        @parametrize_registry(PROXIES)
        def test_proxy(name):
            check_proxy(name)
    """
    import pytest

    marks = marks or {}
    params = [pytest.param(n, id=n, marks=marks.get(n, ())) for n in registry.names()]
    return pytest.mark.parametrize(argname, params)


def parametrize_checks(checks: Sequence[Callable[..., None]], argname: str = "check") -> Any:
    """``pytest.mark.parametrize`` over a contract's checks (``SPACE_CHECKS``, ...), one
    test each, named after the check without its ``check_`` prefix."""
    import pytest

    return pytest.mark.parametrize(argname, list(checks), ids=_check_ids(checks))


def _check_ids(checks: Iterable[Callable[..., None]]) -> list[str]:
    return [c.__name__.removeprefix("check_") for c in checks]
