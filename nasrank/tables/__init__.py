"""Proxy tables: zero-cost proxy scores of whole spaces, shipped with nasrank.

``nasrank/tables/data/`` holds the tables shipped in the wheel; :func:`available_tables`
lists them (``nb201-cifar10``: NB-201 on a 64-image CIFAR-10 batch). A table lets a
search rank a whole space with no proxy computation; :attr:`ProxyTable.coverage` says
how many architectures it holds.

* :func:`load_table` -- a shipped table by name, or one from a path;
* :class:`ProxyTable` -- ``.proxies``, ``.meta``, ``.scores(archs, proxies)``,
  ``.coverage`` / ``.complete`` / ``.check_complete()``, ``.describe()``;
* :func:`export_table` -- write a table from a :class:`~nasrank.store.ScoreStore`
  (``nasrank score-space ... --export-table PATH``, ``benchmarks/ship_nb201_table.py``);
* :func:`join_tables` -- the columns of two tables of the same run side by side.

Usage::

    from nasrank.tables import load_table

    table = load_table("nb201-cifar10")
    print(table.describe())
    values = table.scores(archs, ["synflow", "nwot"])
"""

from nasrank.tables.export import export_table, stored_proxy_names
from nasrank.tables.join import join_tables
from nasrank.tables.table import (
    FORMAT,
    FORMAT_VERSION,
    ProxyTable,
    available_tables,
    load_table,
    shipped_table_dir,
    table_paths,
)

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "ProxyTable",
    "available_tables",
    "export_table",
    "join_tables",
    "load_table",
    "shipped_table_dir",
    "stored_proxy_names",
    "table_paths",
]
