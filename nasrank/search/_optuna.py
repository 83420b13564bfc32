"""Optuna made quiet: the searchers drive Optuna studies whose chatter users do not need."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["quiet_optuna"]


@contextlib.contextmanager
def quiet_optuna() -> Iterator[None]:
    """Silence Optuna inside the block only: per-trial INFO lines, the experimental-feature
    warning of ``deterministic_objective`` and the note that the optional ``greenlet``
    package (parallel L-BFGS-B restarts) is absent."""
    import warnings

    import optuna

    previous = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            yield
    finally:
        optuna.logging.set_verbosity(previous)
