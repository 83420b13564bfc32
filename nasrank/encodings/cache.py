"""On-disk cache of encodings keyed by (space, canonical id, encoder, encoder version).

Exporting a network to ONNX costs a fraction of a second; a benchmark of 15,625
architectures is worth caching. Entries live in one SQLite file,
``<directory>/encodings.sqlite`` (default directory ``~/.cache/nasrank``, or
``$NASRANK_CACHE_DIR``), safe to share between processes. Arrays are stored as ``.npy``
bytes, graphs as compressed JSON. Changing an encoder's version makes old entries
invisible (they are not deleted; :meth:`EncodingCache.clear` removes everything).
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from nasrank.encodings.opgraph import OpGraph

__all__ = ["EncodingCache", "default_cache_dir"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS encodings (
    space TEXT NOT NULL,
    arch TEXT NOT NULL,
    encoder TEXT NOT NULL,
    version TEXT NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (space, arch, encoder, version)
)
"""
_CHUNK = 500  # ids per SELECT (SQLite limits bound parameters)


def default_cache_dir() -> Path:
    """``$NASRANK_CACHE_DIR`` when set, else ``~/.cache/nasrank``."""
    env = os.environ.get("NASRANK_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "nasrank"


class EncodingCache:
    """A persistent ``(space, arch, encoder, version) -> value`` store.

    Args:
        directory: Where ``encodings.sqlite`` lives (created on first write); default
            :func:`default_cache_dir`.
    """

    def __init__(self, directory: str | Path | None = None) -> None:
        self.directory = Path(directory).expanduser() if directory else default_cache_dir()
        self.path = self.directory / "encodings.sqlite"

    def __repr__(self) -> str:
        return f"EncodingCache({str(self.directory)!r})"

    def _connect(self, create: bool) -> sqlite3.Connection | None:
        if not create and not self.path.is_file():
            return None
        self.directory.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=60)
        con.execute(_SCHEMA)
        return con

    # ---- raw bytes ----------------------------------------------------------------------
    def get_many(
        self, space: str, encoder: str, version: str | int, archs: Iterable[str]
    ) -> dict[str, bytes]:
        """Stored values of the given ids (missing ids are absent from the result)."""
        archs = list(archs)
        con = self._connect(create=False)
        if con is None:
            return {}
        out: dict[str, bytes] = {}
        try:
            for start in range(0, len(archs), _CHUNK):
                chunk = archs[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = con.execute(
                    f"SELECT arch, value FROM encodings WHERE space=? AND encoder=? "
                    f"AND version=? AND arch IN ({marks})",
                    (space, encoder, str(version), *chunk),
                )
                out.update({a: bytes(v) for a, v in rows})
        finally:
            con.close()
        return out

    def put_many(
        self, space: str, encoder: str, version: str | int, values: Mapping[str, bytes]
    ) -> None:
        if not values:
            return
        con = self._connect(create=True)
        assert con is not None
        try:
            with con:
                con.executemany(
                    "INSERT OR REPLACE INTO encodings VALUES (?, ?, ?, ?, ?)",
                    [(space, a, encoder, str(version), v) for a, v in values.items()],
                )
        finally:
            con.close()

    def clear(self) -> None:
        """Delete every entry."""
        con = self._connect(create=False)
        if con is None:
            return
        try:
            with con:
                con.execute("DELETE FROM encodings")
        finally:
            con.close()

    def __len__(self) -> int:
        con = self._connect(create=False)
        if con is None:
            return 0
        try:
            return int(con.execute("SELECT COUNT(*) FROM encodings").fetchone()[0])
        finally:
            con.close()

    # ---- typed helpers ------------------------------------------------------------------
    def get_arrays(
        self, space: str, encoder: str, version: str | int, archs: Iterable[str]
    ) -> dict[str, np.ndarray]:
        return {
            a: np.load(io.BytesIO(v), allow_pickle=False)
            for a, v in self.get_many(space, encoder, version, archs).items()
        }

    def put_arrays(
        self, space: str, encoder: str, version: str | int, values: Mapping[str, np.ndarray]
    ) -> None:
        packed = {}
        for a, arr in values.items():
            buf = io.BytesIO()
            np.save(buf, np.asarray(arr), allow_pickle=False)
            packed[a] = buf.getvalue()
        self.put_many(space, encoder, version, packed)

    def get_graphs(
        self, space: str, encoder: str, version: str | int, archs: Iterable[str]
    ) -> dict[str, OpGraph]:
        return {
            a: OpGraph.from_dict(json.loads(zlib.decompress(v)))
            for a, v in self.get_many(space, encoder, version, archs).items()
        }

    def put_graphs(
        self, space: str, encoder: str, version: str | int, graphs: Mapping[str, OpGraph]
    ) -> None:
        self.put_many(
            space,
            encoder,
            version,
            {
                a: zlib.compress(json.dumps(g.to_dict(), separators=(",", ":")).encode())
                for a, g in graphs.items()
            },
        )
