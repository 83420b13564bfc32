"""Joining proxy tables: new columns beside a table's existing ones.

A table's columns can be computed at different times -- the shipped NB-201 table gained
AZ-NAS's proxies long after its first 19 columns were scored -- so :func:`join_tables`
puts the columns of two tables of the *same run* (space, data fingerprint, seed, batch
size, build arguments) side by side, over the architectures both cover. Scores of two
different runs never share a table: the columns would rank different networks or batches.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import numpy as np

from nasrank._version import __version__
from nasrank.errors import TableError
from nasrank.tables.table import ProxyTable

__all__ = ["join_tables", "run_of"]


def run_of(table: ProxyTable) -> dict[str, Any]:
    """What makes two tables' scores comparable: space, data key, seed, batch size,
    classes, input shape and build arguments."""
    data = table.meta.get("data") or {}
    return {
        "space": table.space,
        "data": data.get("key"),
        "seed": table.meta.get("seed"),
        "batch_size": data.get("batch_size"),
        "num_classes": data.get("num_classes"),
        "input_shape": data.get("input_shape"),
        "build_kwargs": table.meta.get("build_kwargs", {}),
    }


def join_tables(base: ProxyTable, extra: ProxyTable, *, name: str | None = None) -> ProxyTable:
    """``base``'s columns then ``extra``'s, over the architectures both have.

    The result's metadata is ``base``'s with the proxy versions of both, every command
    that computed a column (``commands``) and a new ``created`` date; save it with
    :meth:`ProxyTable.save`.

    Raises:
        TableError: The tables are of different runs (the message names what differs),
            share a proxy, or have no architecture in common.
    """
    mine, theirs = run_of(base), run_of(extra)
    differ = [f"{k} {mine[k]!r} vs {theirs[k]!r}" for k in mine if mine[k] != theirs[k]]
    if differ:
        raise TableError(
            f"tables {base.name!r} and {extra.name!r} are of different runs: {'; '.join(differ)}"
        )
    shared = [p for p in extra.proxies if p in base.proxies]
    if shared:
        raise TableError(f"tables {base.name!r} and {extra.name!r} both have {', '.join(shared)}")
    rows = extra.rows(base.archs)
    keep = np.flatnonzero(rows >= 0)
    if keep.size == 0:
        raise TableError(f"tables {base.name!r} and {extra.name!r} share no architecture")
    values = np.concatenate([base.values[keep], extra.values[rows[keep]]], axis=1)
    return ProxyTable.from_arrays(
        name or base.name,
        base.space,
        [base.archs[i] for i in keep],
        base.proxies + extra.proxies,
        values,
        _joined_meta(base, extra),
    )


def _provenance(table: ProxyTable, key: str) -> list[str]:
    """The table's ``key`` (``command``, ``store``) entries: its ``key + "s"`` list when it
    is a join already, else its single ``key``."""
    meta = table.meta
    if meta.get(key + "s"):
        return list(meta[key + "s"])
    return [meta[key]] if meta.get(key) else []


def _joined_meta(base: ProxyTable, extra: ProxyTable) -> dict[str, Any]:
    drop = {"archs", "complete", "nan_counts", "sha256", "proxies", "command", "store"}
    meta = {k: v for k, v in base.meta.items() if k not in drop}
    meta["versions"] = {**(base.meta.get("versions") or {}), **(extra.meta.get("versions") or {})}
    meta["commands"] = _provenance(base, "command") + _provenance(extra, "command")
    meta["stores"] = _provenance(base, "store") + _provenance(extra, "store")
    meta["nasrank_version"] = __version__
    meta["created"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    return meta
