"""Exporting a proxy table from a score store.

:func:`export_table` reads the (architecture x proxy) scores of one
``(space, data, seed)`` run from a :class:`~nasrank.store.ScoreStore` (current proxy
versions only), keeps the architectures that have every proxy stored, and writes them as
a :class:`~nasrank.tables.ProxyTable` (``NAME.npz`` + ``NAME.json``) with the run's
metadata from the store's ``meta`` table.
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from nasrank._version import __version__
from nasrank.errors import NasrankError
from nasrank.tables.table import ProxyTable, load_table, table_paths

if TYPE_CHECKING:
    from nasrank.proxies.registry import ProxySpec
    from nasrank.spaces.base import SearchSpace
    from nasrank.store.store import ScoreStore

__all__ = ["export_table", "stored_proxy_names"]


def stored_proxy_names(store: ScoreStore, space: str, data: str, seed: int) -> list[str]:
    """Registered proxies with at least one score of ``(space, data, seed)`` at their
    current version, in registry order."""
    from nasrank.proxies import PROXIES

    have = set(store.stored_versions(space, data, seed))
    return [n for n in PROXIES.names() if (n, PROXIES.get(n).store_version) in have]


def export_table(
    store: ScoreStore,
    space: SearchSpace | str,
    data: str,
    seed: int,
    proxies: Sequence[str | ProxySpec] | None,
    path: str | os.PathLike[str],
    *,
    archs: Iterable[str] | None = None,
    data_spec: str | None = None,
    command: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> ProxyTable:
    """Write the stored scores of one run as a proxy table.

    Args:
        store: The score store (read only; a ``ScoreStore(path, read_only=True)`` is fine).
        space: The search space (or its name).
        data: The store's data key (:func:`nasrank.store.data_key`).
        seed: The run seed.
        proxies: Columns, in order (``None``: every registered proxy stored for this run).
        path: ``NAME.npz`` (or ``NAME``); ``NAME.json`` is written beside it.
        archs: Candidate rows (default: the whole space when it is finite, else every
            architecture with a stored score). Only those with every proxy stored
            become rows.
        data_spec: The data spec the scores were computed on (``cifar10:DIR``), recorded
            in the metadata.
        command: The command that computed the scores, recorded in the metadata.
        extra: More metadata entries.

    Returns:
        The table, as loaded back from ``path``.

    Raises:
        NasrankError: No proxy is stored for the run, or no architecture has them all.
    """
    from nasrank.spaces import get_space  # the space modules import torch

    space_obj = get_space(space) if isinstance(space, str) else space
    name = space_obj.name
    specs = _export_specs(store, name, data, seed, proxies)
    names = [s.name for s in specs]
    rows, values = _complete_rows(store, space_obj, specs, data, seed, archs)
    meta = _table_meta(store, name, data, seed, specs, data_spec, command, extra)
    npz, _ = table_paths(path)
    meta["space_size"] = space_obj.size
    table = ProxyTable.from_arrays(
        npz.stem, name, rows, names, np.array(values, dtype=np.float64), meta
    )
    table.save(npz)
    return load_table(npz)


def _export_specs(
    store: ScoreStore,
    space: str,
    data: str,
    seed: int,
    proxies: Sequence[str | ProxySpec] | None,
) -> list[ProxySpec]:
    """The table's columns: ``proxies``, or every registered proxy stored for the run."""
    from nasrank.proxies import resolve_proxies  # the proxy package imports torch

    if proxies is not None:
        return resolve_proxies(list(proxies))
    names = stored_proxy_names(store, space, data, seed)
    if not names:
        raise NasrankError(
            f"the store {str(store.path)!r} holds no scores of space {space!r}, data "
            f"{data!r}, seed {seed} at the current proxy versions"
        )
    return resolve_proxies(names)


def _complete_rows(
    store: ScoreStore,
    space: SearchSpace,
    specs: Sequence[ProxySpec],
    data: str,
    seed: int,
    archs: Iterable[str] | None,
) -> tuple[list[str], list[list[float]]]:
    """``(rows, scores)``: the candidates with every proxy stored, read through the
    scoring service (:func:`nasrank.store.stored_scores`)."""
    # nasrank.store imports torch (through the proxy engine); nasrank.tables stays light
    from nasrank.store.service import stored_scores

    name = space.name
    names = [s.name for s in specs]
    if archs is not None:
        candidates = list(dict.fromkeys(archs))
    elif space.size is not None:
        candidates = list(space.enumerate())
    else:
        candidates = [a for a, _ in store.iter_wide(name, specs, data, seed)]
    found = stored_scores(store, name, candidates, specs, data=data, seed=seed)
    rows = found.complete()
    if not rows:
        raise NasrankError(
            f"no architecture of space {name!r} has all of {', '.join(names)} stored for data "
            f"{data!r}, seed {seed} in {str(store.path)!r}"
        )
    return rows, [[found[a].scores[n] for n in names] for a in rows]


def _table_meta(
    store: ScoreStore,
    space: str,
    data: str,
    seed: int,
    specs: Sequence[ProxySpec],
    data_spec: str | None,
    command: str | None,
    extra: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The table's metadata: proxy versions, the run's data and seed, provenance."""
    run = next(
        (r for r in store.runs() if (r["space"], r["data"], r["seed"]) == (space, data, seed)),
        None,
    )
    info = dict(run["info"]) if run else {}
    return {
        "versions": {s.name: s.store_version for s in specs},
        "data": {
            "spec": data_spec,
            "description": run["description"] if run else None,
            "key": data,
            "batch_size": info.get("batch_size"),
            "num_classes": info.get("num_classes"),
            "input_shape": info.get("input_shape"),
        },
        "seed": int(seed),
        "build_kwargs": info.get("build_kwargs", {}),
        "nasrank_version": __version__,
        "scored_by_nasrank": run["nasrank_version"] if run else None,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "command": command,
        "store": os.path.basename(str(store.path)),
        **dict(extra or {}),
    }
