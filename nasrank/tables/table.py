"""Proxy tables: the zero-cost proxy scores of a space, shipped with nasrank or exported.

A table is two files side by side:

* ``NAME.npz`` (``numpy.savez_compressed``, no pickled objects): ``scores``, float32 of
  shape ``(rows, proxies)`` with NaN where a proxy is undefined for the architecture,
  and the row keys -- ``index`` (int32; spaces with a natural index, NB-201's 5^6 index
  over its six edge operations, see ``SearchSpace.index_codec``) or ``archs``
  (canonical id strings);
* ``NAME.json``: what the scores are -- space, proxies and their store versions, the
  data (spec, description, fingerprint = store ``data`` key), seed, batch size, build
  arguments, nasrank version, date, number of architectures, the command that computed
  them, NaN counts, and the SHA-256 of the ``.npz`` (checked on load).

Only architectures with *every* proxy stored are rows; coverage (rows / space size) is
reported honestly by :attr:`ProxyTable.coverage` and :meth:`ProxyTable.describe`.

Usage::

    from nasrank.tables import load_table

    table = load_table("nb201-cifar10")          # shipped; or a path to NAME.npz
    table.describe()   # 'nb201-cifar10: 15,625/15,625 archs (100 %), 19 proxies, ...'
    table.scores(archs, ["synflow", "nwot"])      # (len(archs), 2) float64
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nasrank._files import replace_atomically
from nasrank.errors import (
    InvalidArchitecture,
    NasrankError,
    NotInTable,
    TableError,
    UnknownNameError,
)

if TYPE_CHECKING:
    from nasrank.spaces import IndexCodec

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "ProxyTable",
    "available_tables",
    "load_table",
    "shipped_table_dir",
    "table_paths",
]

FORMAT = "nasrank-proxy-table"
FORMAT_VERSION = 1


def shipped_table_dir() -> Path:
    """The folder of the tables shipped inside the package (``nasrank/tables/data``)."""
    return Path(__file__).resolve().parent / "data"


def available_tables() -> list[str]:
    """Names of the shipped tables (``["nb201-cifar10"]``)."""
    folder = shipped_table_dir()
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.json") if p.with_suffix(".npz").is_file())


def table_paths(path: str | os.PathLike[str]) -> tuple[Path, Path]:
    """``(NAME.npz, NAME.json)`` of a table path given with either suffix or none."""
    path = Path(path).expanduser()
    if path.suffix.lower() in (".npz", ".json"):
        path = path.with_suffix("")
    return path.with_name(path.name + ".npz"), path.with_name(path.name + ".json")


def _index_codec(space: str) -> IndexCodec | None:
    """The integer index of the registered space ``space`` (``SearchSpace.index_codec``),
    or ``None`` when its rows are id strings (also for a name no space is registered as)."""
    # Imported here: nasrank.spaces imports torch, and `import nasrank.tables` stays light.
    from nasrank.spaces import SPACES, get_space

    return get_space(space).index_codec if space in SPACES else None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class ProxyTable:
    """Proxy scores of the architectures of one space, computed once on one batch.

    Build one with :func:`load_table` (or :meth:`from_arrays`); write one with
    :meth:`save` or :func:`nasrank.tables.export_table`.

    Attributes:
        name: The table's name (its file stem).
        space: The search space's name.
        proxies: Proxy names of the columns.
        values: ``(rows, proxies)`` float32 scores, NaN where a proxy is undefined
            (read-only).
        meta: The metadata (see the module docstring).
    """

    def __init__(
        self,
        name: str,
        space: str,
        proxies: Sequence[str],
        values: np.ndarray,
        meta: Mapping[str, Any],
        *,
        index: np.ndarray | None = None,
        archs: Sequence[str] | None = None,
    ) -> None:
        if (index is None) == (archs is None):
            raise TableError("a proxy table needs exactly one of index= or archs= for its rows")
        values = np.asarray(values, dtype=np.float32)
        proxies = tuple(proxies)
        n = len(index) if index is not None else len(archs)  # type: ignore[arg-type]
        if values.ndim != 2 or values.shape != (n, len(proxies)):
            raise TableError(
                f"table {name!r}: scores have shape {values.shape}; expected (rows, proxies) "
                f"= ({n}, {len(proxies)})"
            )
        if len(set(proxies)) != len(proxies):
            raise TableError(f"table {name!r} names a proxy twice: {list(proxies)}")
        self.name = name
        self.space = space
        self.proxies = proxies
        self.meta = dict(meta)
        values.setflags(write=False)
        self.values = values
        self._codec: IndexCodec | None = _index_codec(space) if index is not None else None
        if index is not None and self._codec is None:
            raise TableError(f"table {name!r}: space {space!r} has no integer index; store archs")
        self._index = None if index is None else np.asarray(index, dtype=np.int64)
        self._archs: tuple[str, ...] | None = None if archs is None else tuple(archs)
        keys = self._index if self._index is not None else np.array(self._archs, dtype=str)
        if len(np.unique(keys)) != n:
            raise TableError(f"table {name!r} has {n - len(np.unique(keys))} duplicate rows")
        if (
            self._codec is not None
            and n
            and not (
                0 <= int(self._index.min()) and int(self._index.max()) < self._codec.size  # type: ignore[union-attr]
            )
        ):
            raise TableError(f"table {name!r}: a row index is outside 0..{self._codec.size - 1}")
        self._rows: dict[Any, int] | None = None

    # ---- construction ------------------------------------------------------------------
    @classmethod
    def from_arrays(
        cls,
        name: str,
        space: str,
        archs: Sequence[str],
        proxies: Sequence[str],
        values: np.ndarray,
        meta: Mapping[str, Any] | None = None,
    ) -> ProxyTable:
        """A table of canonical ids ``archs`` (stored by index where the space has one)."""
        codec = _index_codec(space)
        meta = dict(meta or {})
        meta.setdefault("space_size", codec.size if codec is not None else None)
        if codec is not None:
            index = np.array([codec.to_index(a) for a in archs], dtype=np.int64)
            order = np.argsort(index, kind="stable")
            return cls(name, space, proxies, np.asarray(values)[order], meta, index=index[order])
        return cls(name, space, proxies, values, meta, archs=list(archs))

    def save(self, path: str | os.PathLike[str]) -> tuple[Path, Path]:
        """Write ``NAME.npz`` and ``NAME.json`` (atomically, each); returns both paths.

        The metadata gains ``format``, ``name``, ``space``, ``proxies``, ``archs``,
        ``complete``, ``nan_counts``, ``rows`` and ``sha256``.
        """
        npz, js = table_paths(path)
        npz.parent.mkdir(parents=True, exist_ok=True)
        scores = np.ascontiguousarray(self.values)
        # the .json (with the .npz's sha256) lands first: a crash between the two
        # renames leaves a pair whose checksum does not match, which loading reports
        with replace_atomically(npz) as tmp, replace_atomically(js) as tmp2:
            with open(tmp, "wb") as f:
                if self._index is not None:
                    np.savez_compressed(f, scores=scores, index=self._index.astype(np.int32))
                else:
                    np.savez_compressed(f, scores=scores, archs=np.array(self.archs, dtype=str))
            digest = _sha256(Path(tmp))
            meta = self._saved_meta(npz.stem, digest)
            Path(tmp2).write_text(json.dumps(meta, indent=2) + "\n")
        self.meta = meta
        self.name = npz.stem
        return npz, js

    def _saved_meta(self, name: str, digest: str) -> dict[str, Any]:
        """The metadata :meth:`save` writes beside scores whose sha256 is ``digest``."""
        covered, total = self.coverage
        fixed = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "name": name,
            "space": self.space,
            "space_size": total,
            "archs": covered,
            "complete": total is not None and covered == total,
            "proxies": list(self.proxies),
        }
        meta = {
            **fixed,
            **{k: v for k, v in self.meta.items() if k not in fixed},
            "rows": "index" if self._index is not None else "archs",
            "nan_counts": {
                p: int(np.isnan(self.values[:, j]).sum()) for j, p in enumerate(self.proxies)
            },
            "sha256": digest,
        }
        if self._codec is not None:
            meta["index"] = self._codec.description
        return meta

    # ---- rows --------------------------------------------------------------------------
    @property
    def archs(self) -> tuple[str, ...]:
        """Canonical ids of the rows (in index order for indexed spaces)."""
        if self._archs is None:
            assert self._codec is not None and self._index is not None
            self._archs = tuple(self._codec.to_arch(int(i)) for i in self._index)
        return self._archs

    def __len__(self) -> int:
        return int(self.values.shape[0])

    def __contains__(self, arch: object) -> bool:
        return isinstance(arch, str) and self._row(arch) is not None

    def __repr__(self) -> str:
        covered, total = self.coverage
        of = f"/{total}" if total is not None else ""
        return (
            f"ProxyTable({self.name!r}, space={self.space!r}, archs={covered}{of}, "
            f"proxies={list(self.proxies)})"
        )

    def _lookup(self) -> dict[Any, int]:
        if self._rows is None:
            if self._index is not None:
                self._rows = {int(i): r for r, i in enumerate(self._index)}
            else:
                self._rows = {a: r for r, a in enumerate(self.archs)}
        return self._rows

    def _row(self, arch: str) -> int | None:
        rows = self._lookup()
        if self._codec is not None:
            try:
                return rows.get(self._codec.to_index(arch))
            except (ValueError, KeyError):
                pass
        elif arch in rows:
            return rows[arch]
        # another spelling of an id (NASLib tuple, ...): canonicalise through the space
        from nasrank.spaces import get_space

        try:
            canonical = get_space(self.space).canonical(arch)
        except (InvalidArchitecture, UnknownNameError):
            return None
        if self._codec is not None:
            return rows.get(self._codec.to_index(canonical))
        return rows.get(canonical)

    def rows(self, archs: Iterable[str]) -> np.ndarray:
        """Row of each architecture in :attr:`values`, ``-1`` where it is not covered."""
        return np.array([(-1 if (r := self._row(a)) is None else r) for a in archs], dtype=np.int64)

    def covers(self, archs: Iterable[str]) -> np.ndarray:
        """Boolean mask: which of ``archs`` have a row."""
        return self.rows(archs) >= 0

    # ---- coverage ----------------------------------------------------------------------
    @property
    def space_size(self) -> int | None:
        """Architectures in the space (``None`` when the space is not finite)."""
        if self._codec is not None:
            return self._codec.size
        size = self.meta.get("space_size")
        return int(size) if size is not None else None

    @property
    def coverage(self) -> tuple[int, int | None]:
        """``(architectures with a row, architectures in the space)``."""
        return len(self), self.space_size

    @property
    def complete(self) -> bool:
        """Whether every architecture of the (finite) space has a row."""
        covered, total = self.coverage
        return total is not None and covered == total

    def missing(self, archs: Iterable[str] | None = None) -> list[str]:
        """The architectures without a row: of ``archs``, or of the whole space when it
        has an index."""
        if archs is not None:
            archs = list(archs)
            return [a for a, ok in zip(archs, self.covers(archs)) if not ok]
        if self._codec is None or self._index is None:
            raise NasrankError(
                f"table {self.name!r}: space {self.space!r} is not indexed; pass archs= to "
                "check coverage"
            )
        have = np.zeros(self._codec.size, dtype=bool)
        have[self._index] = True
        return [self._codec.to_arch(int(i)) for i in np.flatnonzero(~have)]

    def check_complete(self, archs: Iterable[str] | None = None) -> None:
        """Raise unless every architecture (of ``archs``, default the whole space) has a row.

        Raises:
            NotInTable: Some are missing; the message gives the count and an example.
        """
        if archs is None and self.complete:
            return
        gone = self.missing(archs)
        if gone:
            total = len(list(archs)) if archs is not None else self.space_size
            raise NotInTable(
                f"table {self.name!r} lacks {len(gone)} of {total} architectures (e.g. "
                f"{gone[0]}); {self.describe()}"
            )

    def describe(self) -> str:
        """One line: name, coverage, proxies, data, seed, nasrank version."""
        covered, total = self.coverage
        if total:
            share = 100.0 * covered / total
            cov = f"{covered:,}/{total:,} archs ({share:.3g} %)"
        else:
            cov = f"{covered:,} archs"
        data = self.meta.get("data") or {}
        parts = [
            f"{self.name}: {cov}",
            f"{len(self.proxies)} proxies",
            f"data {data.get('description') or data.get('spec') or '?'}",
            f"seed {self.meta.get('seed', '?')}",
            f"nasrank {self.meta.get('nasrank_version', '?')}",
        ]
        if self.meta.get("created"):
            parts.append(str(self.meta["created"])[:10])
        return ", ".join(parts)

    # ---- scores ------------------------------------------------------------------------
    def _columns(self, proxies: Sequence[str] | None) -> list[int]:
        if proxies is None:
            return list(range(len(self.proxies)))
        out = []
        for p in proxies:
            if p not in self.proxies:
                raise UnknownNameError(
                    f"table {self.name!r} has no proxy {p!r}; its proxies: "
                    f"{', '.join(self.proxies)}"
                )
            out.append(self.proxies.index(p))
        return out

    def has_proxies(self, proxies: Iterable[str]) -> bool:
        """Whether every one of ``proxies`` is a column."""
        return all(p in self.proxies for p in proxies)

    def scores(
        self,
        archs: Iterable[str],
        proxies: Sequence[str] | None = None,
        *,
        missing: str = "raise",
    ) -> np.ndarray:
        """Scores of ``archs`` x ``proxies`` as float64 (NaN where undefined).

        Args:
            archs: Architecture ids (canonical, or any spelling the space parses).
            proxies: Columns (default all, in :attr:`proxies` order).
            missing: ``"raise"`` (default) or ``"nan"`` for architectures without a row.

        Raises:
            UnknownNameError: A proxy is not a column.
            NotInTable: An architecture has no row and ``missing="raise"``.
        """
        if missing not in ("raise", "nan"):
            raise ValueError(f"missing must be 'raise' or 'nan', got {missing!r}")
        archs = list(archs)
        cols = self._columns(proxies)
        rows = self.rows(archs)
        absent = np.flatnonzero(rows < 0)
        if absent.size and missing == "raise":
            raise NotInTable(
                f"table {self.name!r} has no row for {absent.size} of {len(archs)} "
                f"architectures (e.g. {archs[absent[0]]}); it covers "
                f"{self.coverage[0]:,} -- pass missing='nan' or check table.covers(archs)"
            )
        out = np.full((len(archs), len(cols)), np.nan, dtype=np.float64)
        ok = rows >= 0
        out[ok] = self.values[np.ix_(rows[ok], np.asarray(cols, dtype=np.int64))]
        return out

    # ---- provenance --------------------------------------------------------------------
    def stale_proxies(self) -> list[str]:
        """Proxies whose definition changed since the table was computed: the registered
        :attr:`~nasrank.proxies.ProxySpec.version` differs from the one recorded in
        ``meta["versions"]``, or the proxy is no longer registered. A proxy with no
        recorded version (a hand-made table) is not reported; nasrank's own version is
        not compared."""
        from nasrank.proxies import PROXIES

        versions = self.meta.get("versions") or {}
        out = []
        for p in self.proxies:
            if p not in PROXIES:
                out.append(p)
            elif p in versions and PROXIES.get(p).version != str(versions[p]).split("+")[0]:
                out.append(p)
        return out


def load_table(name_or_path: str | os.PathLike[str]) -> ProxyTable:
    """Load a shipped table by name (:func:`available_tables`) or a table from a path
    (``NAME.npz``, ``NAME.json`` or ``NAME``; both files must be there).

    Raises:
        UnknownNameError: An unknown shipped name (the message lists the choices).
        TableError: Missing or malformed files, or an ``.npz`` that does not match its
            metadata's checksum.
    """
    text = os.fspath(name_or_path)
    names = available_tables()
    looks_like_path = any(sep in text for sep in ("/", os.sep)) or text.endswith((".npz", ".json"))
    if not looks_like_path:
        if text not in names:
            import difflib

            close = difflib.get_close_matches(text, names, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise UnknownNameError(
                f"unknown proxy table {text!r}{hint} shipped tables: {', '.join(names) or 'none'}"
                " (or give a path to NAME.npz)"
            )
        npz, js = table_paths(shipped_table_dir() / text)
    else:
        npz, js = table_paths(text)
    for p in (npz, js):
        if not p.is_file():
            raise TableError(
                f"proxy table file {str(p)!r} not found; a table is NAME.npz + NAME.json side "
                "by side (write one with nasrank.tables.export_table)"
            )
    try:
        meta = json.loads(js.read_text())
    except (OSError, ValueError) as exc:
        raise TableError(f"cannot read proxy table metadata {str(js)!r}: {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise TableError(f"{str(js)!r} is not a nasrank proxy table (no format {FORMAT!r})")
    if int(meta.get("format_version", 0)) > FORMAT_VERSION:
        raise TableError(
            f"proxy table {str(js)!r} has format version {meta['format_version']}, newer than "
            f"this nasrank's {FORMAT_VERSION}; upgrade nasrank"
        )
    digest = meta.get("sha256")
    if digest and _sha256(npz) != digest:
        raise TableError(
            f"proxy table {str(npz)!r} does not match the checksum in {js.name}; the two "
            "files come from different exports -- export the table again"
        )
    try:
        with np.load(npz, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError) as exc:
        raise TableError(f"cannot read proxy table {str(npz)!r}: {exc}") from None
    if "scores" not in arrays or ("index" in arrays) == ("archs" in arrays):
        raise TableError(f"proxy table {str(npz)!r} needs 'scores' and one of 'index', 'archs'")
    archs = arrays.get("archs")
    return ProxyTable(
        npz.stem,
        str(meta.get("space")),
        list(meta.get("proxies") or []),
        arrays["scores"],
        meta,
        index=arrays.get("index"),
        archs=None if archs is None else [str(a) for a in archs],
    )
