"""Scoring one architecture of a space reproducibly (through a store:
:func:`~nasrank.store.service.score_arch_stored`).

The initialisation is part of what a proxy scores, so it is seeded per architecture:
:func:`build_model` seeds torch with :func:`arch_seed` ``(seed, space, arch)`` (a stable
hash) inside a forked RNG state. The scores of an architecture therefore depend only on
``(space, arch, proxies, batch, seed)`` -- not on the order architectures are scored in,
nor on which process or machine scores them -- which is what lets ``nasrank score``,
``nasrank correlate`` and ``nasrank score-space`` (any number of workers, local or Ray)
share one :class:`~nasrank.store.ScoreStore`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from nasrank._random import derive_seed
from nasrank.proxies.engine import ScoreResult, score
from nasrank.proxies.registry import ProxySpec, resolve_proxies
from nasrank.store.store import ScoreRecord

if TYPE_CHECKING:
    from torch import nn

    from nasrank.data.batch import Batch
    from nasrank.proxies.engine import ScoreResult
    from nasrank.spaces.base import SearchSpace
    from nasrank.store.store import ScoreRecord

__all__ = [
    "arch_seed",
    "build_model",
    "data_key",
    "score_arch",
    "to_records",
]


def arch_seed(seed: int, space: str, arch: str) -> int:
    """The torch seed of ``arch``'s initialisation in a run seeded with ``seed``."""
    return derive_seed(seed, "init", space, arch)


def build_model(space: SearchSpace, arch: str, *, seed: int = 0, **build_kwargs: Any) -> nn.Module:
    """``space.build(arch, **build_kwargs)`` initialised from :func:`arch_seed`.

    The global torch RNG state is restored afterwards.
    """
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(arch_seed(seed, space.name, arch))
        return space.build(arch, **build_kwargs)


def data_key(batch: Batch | None, build_kwargs: Mapping[str, Any] | None = None) -> str:
    """The ``data`` part of a store key: the batch fingerprint, plus the ``space.build``
    keyword arguments that change the model (a class count other than the batch's,
    ``--num-classes``; a width ...), as ``+name=value`` suffixes."""
    key = "none" if batch is None else batch.fingerprint()
    for name, value in sorted((build_kwargs or {}).items()):
        if name == "num_classes" and batch is not None and value == batch.num_classes:
            continue
        key += f"+{name}={value}"
    return key


def score_arch(
    space: SearchSpace,
    arch: str,
    batch: Batch | None,
    proxies: str | ProxySpec | Sequence[str | ProxySpec] | None,
    *,
    seed: int = 0,
    build_kwargs: Mapping[str, Any] | None = None,
    device: str | None = None,
) -> ScoreResult:
    """Build ``arch`` (seeded by :func:`build_model`) and score it with the proxy engine.

    A model that cannot be built gives NaN for every proxy, with the reason.

    Args:
        device: Where the engine computes (``"cpu"``, ``"cuda"``, ``"cuda:N"``); ``None``
            (default): the CPU, where models are built. Not part of the store key (that
            is data, seed and proxy version): a GPU's scores equal the CPU's up to float
            rounding.
    """
    specs = resolve_proxies(proxies)
    try:
        model = build_model(space, arch, seed=seed, **dict(build_kwargs or {}))
    except Exception as exc:  # noqa: BLE001 - one architecture never takes down a run
        result = ScoreResult()
        result.seed = seed
        result.source = batch.source if batch is not None else "none"
        reason = f"could not build the model: {type(exc).__name__}: {exc}".splitlines()[0]
        for spec in specs:
            result[spec.name] = math.nan
            result.reasons[spec.name] = reason
        return result
    return score(model, batch, specs, seed=seed, device=device)


def to_records(
    space: str,
    arch: str,
    data: str,
    seed: int,
    result: Mapping[str, float],
    *,
    reasons: Mapping[str, str] | None = None,
    seconds: Mapping[str, float] | None = None,
) -> list[ScoreRecord]:
    """Store records of one architecture's scores (versions from the proxy registry)."""
    reasons = reasons if reasons is not None else getattr(result, "reasons", {})
    seconds = seconds if seconds is not None else getattr(result, "seconds", {})
    out = []
    for spec in resolve_proxies(list(result)):
        value = float(result[spec.name])
        out.append(
            ScoreRecord(
                space,
                arch,
                spec.name,
                data,
                seed,
                spec.store_version,
                value,
                seconds.get(spec.name),
                None if math.isfinite(value) else reasons.get(spec.name, "NaN"),
            )
        )
    return out
