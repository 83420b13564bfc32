"""The score store: proxy scores of many architectures in one SQLite file.

One row per ``(space, arch, proxy, data, seed, version)``:

* ``space``, ``arch`` -- the search space's name and the id of the network scored: the
  canonical id, or another id of the same architecture where its spelling builds a
  different network (:meth:`nasrank.spaces.SearchSpace.network_id`; NAS-Bench-101);
* ``proxy`` -- the registered proxy name;
* ``data`` -- the fingerprint of the batch (:meth:`nasrank.data.Batch.fingerprint`, see
  :func:`nasrank.store.data_key`);
* ``seed`` -- the seed of the run (model initialisation and proxy randomness derive from it);
* ``version`` -- :attr:`nasrank.proxies.ProxySpec.store_version` (the proxy's own version
  plus nasrank's), so a changed proxy never reuses old scores;

holding the ``score`` (``NULL`` where the proxy gave NaN), the ``seconds`` it took, the
``error`` text explaining a NaN, and the ``created`` time. A ``meta`` table records, per
``(data, seed, space)``, what the batch was (its description, size, shape) and which
nasrank version wrote it.

The file is in WAL mode with a busy timeout, so several processes may read and write it at
once (readers never block writers); every write is one short ``BEGIN IMMEDIATE``
transaction. A process killed at any moment leaves every committed transaction intact.

Usage::

    store = ScoreStore("scores.sqlite")
    store.put_many(records)
    have = store.get_many("nb201", archs, ["synflow", "nwot"], data, seed=0)
    todo = store.missing("nb201", archs, ["synflow", "nwot"], data, seed=0)
    archs, values = store.wide("nb201", ["synflow", "nwot"], data, seed=0)
    store.export("scores.parquet")
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nasrank._files import (
    SCORE_STORE_ID,
    describe,
    has_store_tables,
    replace_atomically,
    sqlite_application_id,
    sqlite_tables,
)
from nasrank._version import __version__
from nasrank.errors import StoreError
from nasrank.proxies.registry import ProxySpec, resolve_proxies

__all__ = [
    "ProxiesLike",
    "ScoreRecord",
    "ScoreStore",
    "StoreLike",
    "check_store_file",
    "default_store_path",
    "open_store",
    "opened_store",
]

#: Proxy names or specs; versions come from the registry.
ProxiesLike = Sequence[str | ProxySpec]

#: 1: scores + meta; 2: + claims (work shared between processes, see nasrank.store.claims).
_SCHEMA_VERSION = 2
_SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS scores (
        space TEXT NOT NULL,
        data TEXT NOT NULL,
        seed INTEGER NOT NULL,
        proxy TEXT NOT NULL,
        version TEXT NOT NULL,
        arch TEXT NOT NULL,
        score REAL,
        seconds REAL,
        error TEXT,
        created REAL NOT NULL,
        PRIMARY KEY (space, data, seed, proxy, version, arch)
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE IF NOT EXISTS meta (
        space TEXT NOT NULL,
        data TEXT NOT NULL,
        seed INTEGER NOT NULL,
        description TEXT,
        nasrank_version TEXT,
        info TEXT,
        created REAL NOT NULL,
        updated REAL NOT NULL,
        PRIMARY KEY (space, data, seed)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS claims (
        space TEXT NOT NULL,
        data TEXT NOT NULL,
        seed INTEGER NOT NULL,
        arch TEXT NOT NULL,
        owner TEXT NOT NULL,
        expires REAL NOT NULL,
        PRIMARY KEY (space, data, seed, arch)
    ) WITHOUT ROWID
    """,
)
_CHUNK = 500  # architectures per SELECT (bound-parameter limits)
_COLUMNS = (
    "space",
    "arch",
    "proxy",
    "data",
    "seed",
    "version",
    "score",
    "seconds",
    "error",
    "created",
)


@dataclass(frozen=True)
class ScoreRecord:
    """One stored proxy score.

    Attributes:
        space: Search-space name.
        arch: Canonical architecture id.
        proxy: Proxy name.
        data: Data fingerprint.
        seed: Run seed.
        version: Proxy store version (:attr:`ProxySpec.store_version`).
        score: The score; NaN where the proxy failed.
        seconds: Wall seconds the proxy took (``None`` when unknown).
        error: Why the score is NaN (``None`` when it is not).
        created: UNIX time the row was written (``None`` before it is).
    """

    space: str
    arch: str
    proxy: str
    data: str
    seed: int
    version: str
    score: float
    seconds: float | None = None
    error: str | None = None
    created: float | None = None

    @property
    def failed(self) -> bool:
        """Whether the proxy gave NaN."""
        return math.isnan(self.score)


def _chunks(items: Sequence[str], size: int = _CHUNK) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def check_store_file(path: str | os.PathLike[str]) -> None:
    """Refuse an existing file that is not a score store, with one line naming what it
    is (a foreign SQLite file would otherwise silently get nasrank's tables); a missing
    or empty file passes. Reads only the file's header and table names.

    Raises:
        StoreError: The file is something else (JSON, a search storage, junk ...).
    """
    path = Path(path).expanduser()
    if not path.is_file() or path.stat().st_size == 0:
        return
    app_id = sqlite_application_id(path)
    if app_id == SCORE_STORE_ID:
        return
    if app_id == 0:
        try:
            tables = sqlite_tables(path)
        except sqlite3.Error:
            tables = {"?"}
        if not tables or has_store_tables(tables):
            return  # a new database, or a store written before the stamp
    kind = describe(path)
    hint = " (did you mean `nasrank search --storage`?)" if "storage" in kind else ""
    raise StoreError(
        f"{str(path)!r} is {kind}, not a nasrank score store{hint}; give a new path or a "
        "file that `--store` wrote"
    )


class ScoreStore:
    """Proxy scores keyed by (space, arch, proxy, data, seed, version) in a SQLite file.

    The file (and its parent folder) is created when missing. A store object may be used
    from one thread at a time; each process opens its own connection (a store passed to
    a forked child reconnects there).

    Args:
        path: The SQLite file.
        timeout: Seconds a write waits for another process's transaction to finish.
        read_only: Open the file read-only (``mode=ro``): it must exist, nothing is
            created or changed (no schema, no journal-mode switch), and writes raise
            :class:`StoreError`. Safe beside a running writer (WAL readers never block it).

    Raises:
        StoreError: ``path`` cannot be opened as a SQLite file (a folder, an unreadable
            or non-SQLite file, a read-only location; a missing file with
            ``read_only``), or was written by a newer nasrank.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, timeout: float = 60.0, read_only: bool = False
    ) -> None:
        self.path = Path(path).expanduser()
        self.timeout = float(timeout)
        self.read_only = bool(read_only)
        self._conn: sqlite3.Connection | None = None
        self._pid = -1
        self._connection()  # fail now, not in the middle of a long run

    def __repr__(self) -> str:
        flag = ", read_only=True" if self.read_only else ""
        return f"ScoreStore({str(self.path)!r}{flag})"

    # ---- connection --------------------------------------------------------------------
    def _error(self, exc: BaseException, doing: str) -> StoreError:
        return StoreError(
            f"cannot {doing} score store {str(self.path)!r}: {exc}; give a writable path "
            "to a SQLite file (it is created when missing)"
        )

    def _connection(self) -> sqlite3.Connection:
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        if self.path.is_dir():
            raise StoreError(
                f"score store path {str(self.path)!r} is a folder; give a file path such as "
                f"{str(self.path / 'scores.sqlite')!r}"
            )
        check_store_file(self.path)
        if self.read_only:
            return self._connect_read_only()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise self._error(exc, "open") from None
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > _SCHEMA_VERSION:
                raise StoreError(
                    f"score store {str(self.path)!r} has schema version {version}, newer "
                    f"than this nasrank's {_SCHEMA_VERSION}; upgrade nasrank"
                )
            conn.execute("PRAGMA journal_mode = WAL")
            # WAL + NORMAL: a commit survives a killed process (not a power cut) without
            # an fsync per transaction
            conn.execute("PRAGMA synchronous = NORMAL")
            stamped = conn.execute("PRAGMA application_id").fetchone()[0] == SCORE_STORE_ID
            if version < _SCHEMA_VERSION or not stamped:
                self._create_schema(conn)
        except StoreError:
            conn.close()
            raise
        except sqlite3.Error as exc:
            conn.close()
            raise self._error(exc, "open") from None
        self._conn, self._pid = conn, os.getpid()
        return conn

    @staticmethod
    def _create_schema(conn: sqlite3.Connection) -> None:
        """Create the tables (or add those of a newer schema) and stamp the file."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
            conn.execute(f"PRAGMA application_id = {SCORE_STORE_ID}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _connect_read_only(self) -> sqlite3.Connection:
        if not self.path.is_file():
            raise StoreError(
                f"score store {str(self.path)!r} does not exist; a read-only store must be "
                "an existing file (give the path `nasrank score-space --store` wrote)"
            )
        uri = f"{self.path.resolve().as_uri()}?mode=ro"
        try:
            conn = sqlite3.connect(uri, uri=True, timeout=self.timeout, isolation_level=None)
            conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.Error as exc:
            raise self._error(exc, "open") from None
        if not 1 <= version <= _SCHEMA_VERSION:  # version 1 lacks only the claims
            conn.close()
            raise StoreError(
                f"score store {str(self.path)!r} has schema version {version}; this nasrank "
                f"reads versions 1-{_SCHEMA_VERSION}"
                + ("; upgrade nasrank" if version > _SCHEMA_VERSION else " (is it a store?)")
            )
        self._conn, self._pid = conn, os.getpid()
        return conn

    def _check_writable(self) -> None:
        if self.read_only:
            raise StoreError(
                f"score store {str(self.path)!r} was opened read-only; open it with "
                "ScoreStore(path) to write"
            )

    def close(self) -> None:
        """Close this process's connection (reopened on next use)."""
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = None

    def __enter__(self) -> ScoreStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path, "timeout": self.timeout, "read_only": self.read_only}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.path, self.timeout = state["path"], state["timeout"]
        self.read_only = bool(state.get("read_only", False))
        self._conn, self._pid = None, -1

    def _query(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        try:
            return self._connection().execute(sql, params)
        except sqlite3.Error as exc:
            raise self._error(exc, "read") from None

    # ---- writing -----------------------------------------------------------------------
    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction (``BEGIN IMMEDIATE``): committed when the body
        ends, rolled back on any error; SQLite errors become :class:`StoreError`."""
        self._check_writable()
        conn = self._connection()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise self._error(exc, "write to") from None

    def put_many(self, records: Iterable[ScoreRecord]) -> int:
        """Write ``records`` in one transaction (replacing rows with the same key).

        Returns:
            The number of rows written.

        Raises:
            StoreError: The store is read-only, or the write failed.
        """
        self._check_writable()
        now = time.time()
        rows = [
            (
                r.space,
                r.data,
                int(r.seed),
                r.proxy,
                r.version,
                r.arch,
                float(r.score) if math.isfinite(r.score) else None,
                None if r.seconds is None else float(r.seconds),
                r.error if not math.isfinite(r.score) else None,
                r.created if r.created is not None else now,
            )
            for r in records
        ]
        if not rows:
            return 0
        with self._transaction() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO scores (space, data, seed, proxy, version, arch, "
                "score, seconds, error, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        return len(rows)

    def record_run(
        self,
        space: str,
        data: str,
        seed: int,
        *,
        description: str,
        info: Mapping[str, Any] | None = None,
    ) -> None:
        """Record what ``data`` is (batch description, size, shape ...) in the ``meta`` table.

        The first record of a ``(space, data, seed)`` keeps its ``created`` time; later
        ones update the description, info and nasrank version.
        """
        self._check_writable()
        now = time.time()
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO meta (space, data, seed, description, nasrank_version, info, "
                "created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (space, data, seed) DO UPDATE SET "
                "description = excluded.description, info = excluded.info, "
                "nasrank_version = excluded.nasrank_version, updated = excluded.updated",
                (
                    space,
                    data,
                    int(seed),
                    description,
                    __version__,
                    json.dumps(dict(info or {}), sort_keys=True),
                    now,
                    now,
                ),
            )

    # ---- claims: work shared between processes (see nasrank.store.claims) --------------
    def _write(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement in its own write transaction; the rows it changed."""
        with self._transaction() as conn:
            changed = conn.execute(sql, params).rowcount
        return changed

    def claim(
        self,
        space: str,
        data: str,
        seed: int,
        archs: Sequence[str],
        *,
        owner: str,
        ttl: float,
        free: Callable[[str, float], bool],
    ) -> list[str]:
        """Claim ``archs`` for ``owner`` until ``ttl`` seconds from now, in one transaction.

        An architecture is taken when nobody holds it, ``owner`` does, or
        ``free(holder, expires)`` says its holder's claim may be taken over.

        Returns:
            The architectures now claimed by ``owner``.
        """
        now = time.time()
        taken: list[str] = []
        with self._transaction() as conn:
            for arch in archs:
                row = conn.execute(
                    "SELECT owner, expires FROM claims WHERE space = ? AND data = ? "
                    "AND seed = ? AND arch = ?",
                    (space, data, int(seed), arch),
                ).fetchone()
                if row is None or row[0] == owner or free(str(row[0]), float(row[1])):
                    conn.execute(
                        "INSERT OR REPLACE INTO claims (space, data, seed, arch, owner, "
                        "expires) VALUES (?, ?, ?, ?, ?, ?)",
                        (space, data, int(seed), arch, owner, now + ttl),
                    )
                    taken.append(arch)
        return taken

    def release(self, space: str, data: str, seed: int, arch: str, *, owner: str) -> None:
        """Drop ``owner``'s claim on ``arch`` (nothing when it holds none)."""
        self._write(
            "DELETE FROM claims WHERE space = ? AND data = ? AND seed = ? AND arch = ? "
            "AND owner = ?",
            (space, data, int(seed), arch, owner),
        )

    def renew_claims(self, owner: str, ttl: float) -> int:
        """Extend every claim of ``owner`` to ``ttl`` seconds from now; how many."""
        return self._write(
            "UPDATE claims SET expires = ? WHERE owner = ?", (time.time() + ttl, owner)
        )

    def release_claims(self, owner: str) -> int:
        """Drop every claim of ``owner``; how many."""
        return self._write("DELETE FROM claims WHERE owner = ?", (owner,))

    def claims(self) -> list[tuple[str, str, int, str, str, float]]:
        """Every claim: ``(space, data, seed, arch, owner, expires)``."""
        cur = self._query("SELECT space, data, seed, arch, owner, expires FROM claims")
        return [tuple(r) for r in cur.fetchall()]

    def runs(self) -> list[dict[str, Any]]:
        """The ``meta`` rows: space, data, seed, description, nasrank_version, info, times."""
        cur = self._query(
            "SELECT space, data, seed, description, nasrank_version, info, created, updated "
            "FROM meta ORDER BY created"
        )
        keys = (
            "space",
            "data",
            "seed",
            "description",
            "nasrank_version",
            "info",
            "created",
            "updated",
        )
        out = []
        for row in cur.fetchall():
            entry = dict(zip(keys, row))
            entry["info"] = json.loads(entry["info"] or "{}")
            out.append(entry)
        return out

    # ---- reading -----------------------------------------------------------------------
    @staticmethod
    def _versions(proxies: ProxiesLike) -> list[tuple[str, str]]:
        return [(s.name, s.store_version) for s in resolve_proxies(list(proxies))]

    def get_many(
        self,
        space: str,
        archs: Iterable[str],
        proxies: ProxiesLike,
        data: str,
        seed: int,
    ) -> dict[tuple[str, str], ScoreRecord]:
        """Stored records of ``archs`` x ``proxies`` (current proxy versions only).

        Returns:
            ``(arch, proxy) -> ScoreRecord`` for the pairs that are stored.

        Raises:
            UnknownNameError: A proxy name is not registered.
        """
        archs = list(dict.fromkeys(archs))
        out: dict[tuple[str, str], ScoreRecord] = {}
        for name, version in self._versions(proxies):
            for chunk in _chunks(archs):
                marks = ",".join("?" * len(chunk))
                cur = self._query(
                    "SELECT arch, score, seconds, error, created FROM scores WHERE space = ? "
                    "AND data = ? AND seed = ? AND proxy = ? AND version = ? "
                    f"AND arch IN ({marks})",
                    (space, data, int(seed), name, version, *chunk),
                )
                for arch, value, seconds, error, created in cur:
                    out[(arch, name)] = ScoreRecord(
                        space,
                        arch,
                        name,
                        data,
                        int(seed),
                        version,
                        math.nan if value is None else float(value),
                        seconds,
                        error,
                        created,
                    )
        return out

    def missing(
        self,
        space: str,
        archs: Iterable[str],
        proxies: ProxiesLike,
        data: str,
        seed: int,
    ) -> dict[str, list[str]]:
        """The proxies not yet stored, per architecture (architectures complete are left
        out; order follows ``archs`` and ``proxies``)."""
        archs = list(dict.fromkeys(archs))
        names = [n for n, _ in self._versions(proxies)]
        have = self.get_many(space, archs, proxies, data, seed)
        out: dict[str, list[str]] = {}
        for arch in archs:
            todo = [n for n in names if (arch, n) not in have]
            if todo:
                out[arch] = todo
        return out

    def iter_wide(
        self,
        space: str,
        proxies: ProxiesLike,
        data: str,
        seed: int,
        archs: Iterable[str] | None = None,
    ) -> Iterator[tuple[str, list[float]]]:
        """Rows ``(arch, [score per proxy])`` of the (arch x proxy) table, NaN where a
        proxy failed or is not stored.

        Args:
            archs: The rows to give, in this order (read in chunks, so a generator over a
                whole space is fine); default every architecture with at least one of
                the proxies stored, sorted by id.
        """
        pairs = self._versions(proxies)
        names = [n for n, _ in pairs]
        if archs is None:
            where = " OR ".join("(proxy = ? AND version = ?)" for _ in pairs)
            cur = self._query(
                "SELECT arch, proxy, score FROM scores WHERE space = ? AND data = ? AND seed = ? "
                f"AND ({where}) ORDER BY arch",
                (space, data, int(seed), *(v for pair in pairs for v in pair)),
            )
            column = {n: j for j, n in enumerate(names)}
            current: str | None = None
            row: list[float] = []
            for arch, proxy, value in cur:
                if arch != current:
                    if current is not None:
                        yield current, row
                    current, row = arch, [math.nan] * len(names)
                row[column[proxy]] = math.nan if value is None else float(value)
            if current is not None:
                yield current, row
            return
        chunk: list[str] = []
        iterator = iter(archs)
        while True:
            chunk = [a for _, a in zip(range(_CHUNK), iterator)]
            if not chunk:
                return
            have = self.get_many(space, chunk, proxies, data, seed)
            for arch in chunk:
                yield (
                    arch,
                    [have[(arch, n)].score if (arch, n) in have else math.nan for n in names],
                )

    def wide(
        self,
        space: str,
        proxies: ProxiesLike,
        data: str,
        seed: int,
        archs: Iterable[str] | None = None,
    ) -> tuple[list[str], np.ndarray]:
        """The (arch x proxy) table as ``(archs, scores)``, ``scores`` of shape
        ``(len(archs), len(proxies))`` -- what a
        :class:`~nasrank.search.pool.CandidatePool` takes."""
        ids: list[str] = []
        rows: list[list[float]] = []
        for arch, row in self.iter_wide(space, proxies, data, seed, archs):
            ids.append(arch)
            rows.append(row)
        n = len(resolve_proxies(list(proxies)))
        return ids, np.array(rows, dtype=np.float64).reshape(len(ids), n)

    def stored_versions(self, space: str, data: str, seed: int) -> list[tuple[str, str]]:
        """The ``(proxy, version)`` pairs with at least one stored row of
        ``(space, data, seed)``, sorted."""
        cur = self._query(
            "SELECT DISTINCT proxy, version FROM scores WHERE space = ? AND data = ? "
            "AND seed = ? ORDER BY proxy, version",
            (space, data, int(seed)),
        )
        return [(str(p), str(v)) for p, v in cur.fetchall()]

    def count(self, space: str | None = None) -> int:
        """Number of stored rows (of one space, or all)."""
        if space is None:
            return int(self._query("SELECT COUNT(*) FROM scores").fetchone()[0])
        return int(
            self._query("SELECT COUNT(*) FROM scores WHERE space = ?", (space,)).fetchone()[0]
        )

    def records(self, space: str | None = None) -> Iterator[ScoreRecord]:
        """Every stored record (of one space, or all), in key order."""
        sql = f"SELECT {', '.join(_COLUMNS)} FROM scores"
        params: tuple[Any, ...] = ()
        if space is not None:
            sql, params = sql + " WHERE space = ?", (space,)
        for row in self._query(sql + " ORDER BY space, data, seed, proxy, version, arch", params):
            values = dict(zip(_COLUMNS, row))
            values["score"] = math.nan if values["score"] is None else float(values["score"])
            yield ScoreRecord(**values)

    # ---- export ------------------------------------------------------------------------
    def export(
        self,
        path: str | os.PathLike[str],
        *,
        space: str | None = None,
        proxies: ProxiesLike | None = None,
        data: str | None = None,
        seed: int | None = None,
        archs: Iterable[str] | None = None,
    ) -> int:
        """Write stored scores to CSV (``.csv``) or Parquet (``.parquet``/``.pq``).

        Without ``proxies``: every stored row (of ``space`` when given), long form with
        all columns. With ``space``, ``proxies``, ``data`` and ``seed``: the wide
        (arch x proxy) table of :meth:`iter_wide` (``archs`` picks and orders the rows),
        one ``arch`` column and one column per proxy, empty where NaN.

        Returns:
            The number of rows written.

        Raises:
            ValueError: Unknown suffix, or a wide export without its key.
        """
        import pandas as pd

        path = Path(path).expanduser()
        suffix = path.suffix.lower()
        if suffix not in (".csv", ".parquet", ".pq"):
            raise ValueError(
                f"export path {str(path)!r} must end in .csv or .parquet (the format follows "
                "the suffix)"
            )
        if proxies is not None:
            if space is None or data is None or seed is None:
                raise ValueError("a wide export (proxies given) needs space, data and seed")
            names = [s.name for s in resolve_proxies(list(proxies))]
            ids, values = self.wide(space, proxies, data, seed, archs)
            frame = pd.DataFrame(values, columns=names)
            frame.insert(0, "arch", ids)
        else:
            frame = pd.DataFrame(
                [[getattr(r, c) for c in _COLUMNS] for r in self.records(space)],
                columns=list(_COLUMNS),
            )
        with replace_atomically(path) as tmp:
            if suffix == ".csv":
                frame.to_csv(tmp, index=False)
            else:
                frame.to_parquet(tmp, index=False)
        return len(frame)

    def import_records(self, path: str | os.PathLike[str]) -> int:
        """Add the rows of a long-form :meth:`export` (CSV or Parquet, every column), e.g.
        a run scored on another machine or carried between sessions; rows with the same
        key are replaced (their scores are the same computation).

        Returns:
            The number of rows written.

        Raises:
            StoreError: The file is missing, unreadable, not a long-form export, or the
                store is read-only.
        """
        import pandas as pd

        path = Path(path).expanduser()
        suffix = path.suffix.lower()
        if not path.is_file():
            raise StoreError(f"cannot read score rows from {str(path)!r}: no such file")
        try:
            frame = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
        except (OSError, ValueError, ImportError) as exc:
            raise StoreError(f"cannot read score rows from {str(path)!r}: {exc}") from None
        absent = [c for c in _COLUMNS if c not in frame.columns]
        if absent:
            raise StoreError(
                f"{str(path)!r} is not a long-form score export (no column "
                f"{', '.join(absent)}); write one with ScoreStore.export(path)"
            )

        def value(v: Any) -> Any:
            return None if v is None or (isinstance(v, float) and math.isnan(v)) else v

        records = (
            ScoreRecord(
                space=str(r.space),
                arch=str(r.arch),
                proxy=str(r.proxy),
                data=str(r.data),
                seed=int(r.seed),
                version=str(r.version),
                score=math.nan if value(r.score) is None else float(r.score),
                seconds=value(r.seconds),
                error=value(r.error),
                created=value(r.created),
            )
            for r in frame.itertuples(index=False)
        )
        return self.put_many(records)


#: A score store, a path to one, ``True`` (the default store) or ``False``/``None`` (none).
StoreLike = ScoreStore | str | os.PathLike[str] | bool | None


def default_store_path() -> Path:
    """The default score store: ``$NASRANK_STORE`` when set, else ``scores.sqlite`` in
    ``$NASRANK_CACHE_DIR`` (default ``$XDG_CACHE_HOME/nasrank``, ``~/.cache/nasrank``)."""
    if os.environ.get("NASRANK_STORE"):
        return Path(os.environ["NASRANK_STORE"]).expanduser()
    root = os.environ.get("NASRANK_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "nasrank"
    )
    return Path(root).expanduser() / "scores.sqlite"


@contextmanager
def opened_store(store: StoreLike) -> Iterator[ScoreStore | None]:
    """:func:`open_store` for a block: a store it opened (from a path or ``True``) is
    closed at the end, so its file is complete (the WAL checkpointed) when the block
    ends rather than whenever the garbage collector reaches the connection; a
    :class:`ScoreStore` passed in stays open (its owner closes it)."""
    db = open_store(store)
    try:
        yield db
    finally:
        if db is not None and db is not store:
            db.close()


def open_store(store: StoreLike) -> ScoreStore | None:
    """The :class:`ScoreStore` ``store`` names: ``True`` the default
    (:func:`default_store_path`), a path that file, ``None``/``False`` none."""
    if store is None or store is False:
        return None
    if store is True:
        return ScoreStore(default_store_path())
    if isinstance(store, ScoreStore):
        return store
    return ScoreStore(store)
