"""Files on disk: what an existing file is, whether a path can be written, and
replacing a file so that a crash never leaves it half-written.

Every file nasrank writes for its user (``--json``, plots, CSV/Parquet exports, proxy
tables) goes through :func:`replace_atomically` (training checkpoints have their own
fsync'ed writer, :mod:`nasrank.training._checkpoint_file`):

* a regular file (or a new path) is written to a temporary file beside it and renamed
  over it; a new file gets the permissions the process umask gives (``0666 & ~umask``),
  an existing one keeps its own;
* a symbolic link is followed: its target is replaced, the link stays;
* a FIFO or a character device (``/dev/null``, a terminal) is written through in place:
  nothing is created beside it and the node stays what it was;
* a folder, a block device or a socket is refused (:class:`OutputPathError`).

:func:`describe` names an existing file's kind in words ("a JSON file", "a nasrank
score store", "a SQLite database of another program (tables: users)") so that an error
can say what a file is and which option was probably meant. nasrank's two SQLite
formats carry their own ``PRAGMA application_id`` (:data:`SCORE_STORE_ID`,
:data:`SEARCH_STORAGE_ID`).
"""

from __future__ import annotations

import os
import sqlite3
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from nasrank.errors import NasrankError

__all__ = [
    "OutputPathError",
    "SCORE_STORE_ID",
    "SEARCH_STORAGE_ID",
    "describe",
    "has_store_tables",
    "replace_atomically",
    "same_file",
    "sqlite_application_id",
    "sqlite_tables",
    "unwritable_reason",
]

#: ``PRAGMA application_id`` of a score store ("NRSS").
SCORE_STORE_ID = 0x4E525353
#: ``PRAGMA application_id`` of a search storage ("NRSR").
SEARCH_STORAGE_ID = 0x4E525352

_SQLITE_HEADER = b"SQLite format 3\x00"
#: Tables Optuna's RDB storage creates (any of them marks an Optuna database).
OPTUNA_TABLES = frozenset({"studies", "trials", "alembic_version", "version_info"})
#: Tables of a score store (``claims`` since schema 2).
STORE_TABLES = frozenset({"scores", "meta"})


def has_store_tables(tables: set[str]) -> bool:
    """Whether ``tables`` are a score store's (of schema 1 or 2)."""
    return STORE_TABLES <= tables <= STORE_TABLES | {"claims"}


class OutputPathError(NasrankError, OSError):
    """An output path cannot be written (a folder, a block device, no permission ...)."""

    def __str__(self) -> str:  # OSError formats (errno, strerror) pairs oddly
        return str(self.args[0]) if self.args else ""


# ---- what a file is ----------------------------------------------------------------------
def _head(path: Path, size: int = 100) -> bytes:
    try:
        with path.open("rb") as f:
            return f.read(size)
    except OSError:
        return b""


def sqlite_application_id(path: str | os.PathLike[str]) -> int | None:
    """The ``PRAGMA application_id`` of a SQLite file (0: unset), ``None`` when ``path``
    is not a SQLite file.

    Asked of SQLite (a read-only connection), not read from the file's header: closing
    any descriptor of a file drops every POSIX lock this process holds on it, SQLite's
    too ("How To Corrupt An SQLite Database File", section 2.2.1). A header read beside
    an open connection of this process (a store's lease thread, a second ``ScoreStore``)
    let another process's close take itself for the last connection and delete the live
    WAL and shared-memory files under the running ones. The header is read only when
    SQLite cannot open the file at all (then it holds no lock on it here either).
    """
    path = Path(path)
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except (sqlite3.Error, ValueError, OSError):
        return _header_application_id(path)
    try:
        return int(conn.execute("PRAGMA application_id").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        if "not a database" in str(exc):
            return None
        return _header_application_id(path)
    finally:
        conn.close()


def _header_application_id(path: Path) -> int | None:
    head = _head(path)
    if not head.startswith(_SQLITE_HEADER) or len(head) < 72:
        return None
    return int.from_bytes(head[68:72], "big")


def sqlite_tables(path: str | os.PathLike[str]) -> set[str]:
    """The table names of a SQLite file, opened read-only (nothing is changed)."""
    uri = f"{Path(path).resolve().as_uri()}?mode=ro"
    conn = sqlite3.connect(uri, uri=True)
    try:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    finally:
        conn.close()
    return {str(r[0]) for r in rows if not str(r[0]).startswith("sqlite_")}


def _describe_sqlite(path: Path, app_id: int) -> str:
    if app_id == SCORE_STORE_ID:
        return "a nasrank score store"
    if app_id == SEARCH_STORAGE_ID:
        return "a nasrank search storage"
    try:
        tables = sqlite_tables(path)
    except sqlite3.Error as exc:
        return f"a damaged SQLite file ({exc})"
    if app_id == 0 and has_store_tables(tables):
        return "a nasrank score store"
    if app_id == 0 and tables & OPTUNA_TABLES:
        return "an Optuna storage"
    if not tables:
        return "an empty SQLite database"
    names = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
    return f"a SQLite database of another program (tables: {names})"


#: Leading bytes of the binary formats users mistake for one another.
_MAGIC = (
    ((b"PK\x03\x04",), "a zip archive (e.g. a NumPy .npz)"),
    ((b"PAR1",), "a Parquet file"),
    ((b"\x93NUMPY",), "a NumPy .npy file"),
    ((b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05"), "a Python pickle"),
    ((b"\x89PNG",), "a PNG image"),
    ((b"%PDF",), "a PDF document"),
    ((b"\x1f\x8b",), "a gzip file"),
)


def _describe_bytes(head: bytes) -> str:
    text = head.lstrip()
    for prefixes, kind in _MAGIC:
        if head.startswith(prefixes):
            return kind
    try:
        head[: len(head) - 3].decode("utf-8")  # the read may cut a character in two
    except UnicodeDecodeError:
        return "binary data"
    if any(b < 0x09 or 0x0E <= b < 0x20 for b in head):  # control bytes: not text
        return "binary data"
    if text.startswith((b"{", b"[")):
        return "a JSON file"
    if b"," in text.split(b"\n", 1)[0]:
        return "a CSV/text file"
    return "a text file"


def describe(path: str | os.PathLike[str]) -> str:
    """An existing path's kind in words: "a folder", "an empty file", "a JSON file",
    "a nasrank score store", "an Optuna storage", "a SQLite database of another program
    (tables: ...)", "binary data", ...; "nothing (it does not exist)" when missing."""
    p = Path(path)
    try:
        mode = p.stat().st_mode
    except OSError:
        return "nothing (it does not exist)"
    if stat.S_ISDIR(mode):
        return "a folder"
    if not stat.S_ISREG(mode):
        return _special_kind(mode)
    if p.stat().st_size == 0:
        return "an empty file"
    app_id = sqlite_application_id(p)
    if app_id is not None:
        return _describe_sqlite(p, app_id)
    head = _head(p)  # not a database SQLite can open: it holds no lock on it here
    if head.startswith(_SQLITE_HEADER):
        return "a truncated SQLite file"
    return _describe_bytes(head)


def _special_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether two paths name one file (after links; hard links too when both exist)."""
    try:
        if os.path.realpath(a) == os.path.realpath(b):
            return True
        return os.path.samefile(a, b)
    except (OSError, ValueError):  # missing, or a NUL in a name
        return False


# ---- whether a path can be written ----------------------------------------------------------
def _nearest_existing(path: Path) -> Path:
    for parent in path.parents:
        if parent.exists():
            return parent
    return Path(path.anchor or ".")


#: Longest file name (bytes) the common file systems take.
_NAME_MAX = 255


def _why_not(folder: Path, exc: OSError) -> str:
    """Why creating a file in ``folder`` failed: its file system when that tells (root
    meets these where permission bits say yes), else the OS's reason."""
    try:
        fs = os.statvfs(folder)
    except (AttributeError, OSError):  # no statvfs (Windows)
        fs = None
    if fs is not None and fs.f_flag & os.ST_RDONLY:
        return "it is on a read-only file system"
    if fs is not None and fs.f_blocks == 0:
        return "it is on a virtual file system with no storage, like /proc and /sys"
    return str(exc.strerror or exc)


def _probe_folder(folder: Path) -> str | None:
    """Why nothing can be created in ``folder`` (None: a file can), found by creating
    and removing a temporary file -- permission bits do not tell root's limits."""
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".nasrank-probe-")
    except OSError as exc:
        return f"cannot create files in {str(folder)!r} ({_why_not(folder, exc)})"
    os.close(fd)
    os.unlink(tmp)
    return None


def unwritable_reason(path: str | os.PathLike[str], *, folder: bool = False) -> str | None:
    """Why ``path`` cannot be written as a file (``folder``: created as a folder), or
    ``None`` when it can. Creates nothing that stays: a temporary probe file is made and
    removed in the nearest existing folder above ``path``."""
    text = os.fspath(path)
    if not text.strip():
        return "the path is empty"
    if "\x00" in text:
        return "the path contains a NUL character"
    long = [part for part in Path(text).parts if len(os.fsencode(part)) > _NAME_MAX]
    if long:
        return f"the name {long[0][:20]!r}... is longer than {_NAME_MAX} bytes"
    target = Path(os.path.realpath(Path(text).expanduser()))
    if target.exists():
        mode = target.stat().st_mode
        if stat.S_ISDIR(mode):
            return _probe_folder(target) if folder else f"{str(path)!r} is a folder"
        if folder:
            return f"{str(path)!r} is {describe(target)}, not a folder"
        if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode):
            return None if os.access(target, os.W_OK) else f"{str(path)!r} is not writable"
        if not stat.S_ISREG(mode):
            return f"{str(path)!r} is {_special_kind(mode)}; give a file path"
        if not os.access(target, os.W_OK):
            return f"{str(path)!r} is read-only"
        return _probe_folder(target.parent)
    base = _nearest_existing(target)
    if not base.is_dir():
        return f"{str(base)!r} is {describe(base)}, not a folder"
    return _probe_folder(base)


# ---- replacing a file ----------------------------------------------------------------------
def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def replace_atomically(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a path to write ``path``'s new content to; on success it replaces ``path``
    (see the module docstring for links, FIFOs and devices). On an exception the old
    file is left as it was and the temporary file is removed.

    Raises:
        OutputPathError: ``path`` is a folder, a block device or a socket.
    """
    target = Path(os.path.realpath(Path(path).expanduser()))
    if target.exists():
        mode = target.stat().st_mode
        if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode):
            yield target  # written through: a rename would replace the node
            return
        if not stat.S_ISREG(mode):
            raise OutputPathError(f"{str(path)!r} is {describe(target)}; give a file path")
        perms = stat.S_IMODE(mode)
    else:
        perms = 0o666 & ~_umask()
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        os.chmod(tmp, perms)
        yield Path(tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
