"""``PREDICTORS``: predictor classes by name (``gbdt``, ``gnn``, ``ensemble``)."""

from __future__ import annotations

from typing import Any

from nasrank.predictors.base import Predictor
from nasrank.registry import Registry

__all__ = ["PREDICTORS", "get_predictor"]

PREDICTORS: Registry[type[Predictor]] = Registry(
    "predictor", accepts=lambda obj: isinstance(obj, type) and issubclass(obj, Predictor)
)


def get_predictor(name: Any, **params: Any) -> Any:
    """An unfitted predictor: ``name`` is a registered name (``gbdt``, ``gnn``,
    ``ensemble``), a predictor class or a predictor instance (cloned, ``params`` set).

    Raises:
        UnknownNameError: Unknown name (with did-you-mean and the choices).
        ValueError: A parameter the predictor does not take.
    """
    if isinstance(name, Predictor):
        return name.clone().set_params(**params)
    cls = PREDICTORS.resolve(name)
    valid = cls._param_names()
    bad = [k for k in params if k.partition("__")[0] not in valid]
    if bad:
        raise ValueError(
            f"invalid parameter {bad[0]!r} for {cls.__name__}; valid parameters: {', '.join(valid)}"
        )
    return cls().set_params(**params)
