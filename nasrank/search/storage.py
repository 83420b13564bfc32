"""Persistence of search runs, so a killed run restarts where it stopped.

Every completed evaluation is written before the searcher learns it. On restart,
:meth:`nasrank.search.Searcher.run` loads the run's evaluations and replays them (no
objective call); since proposals are a deterministic function of (seed, evaluations so
far), the continued run repeats no evaluation and ends exactly as an uninterrupted one.

Two backends, chosen from the URL given to :func:`open_storage`:

* Optuna storage (default): one Optuna study per run, one trial per evaluation (added
  with ``Study.add_trial``, atomically committed). A bare path means a SQLite file
  (``runs.db`` -> ``sqlite:///runs.db``); any RDB URL Optuna accepts works
  (``postgresql://...``, ``mysql+pymysql://...``).
* An append-only JSON-lines file (``runs.jsonl``, or ``jsonl:PATH``): one line per
  evaluation, flushed and fsync'ed; a torn last line from a crash is dropped.

Runs are identified by a key derived from everything that shapes them (method, seed,
space, benchmark, pool, proxies, budget, ...), see :func:`run_key`.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sqlite3
from pathlib import Path
from typing import Any, Protocol

from nasrank._files import (
    OPTUNA_TABLES,
    SEARCH_STORAGE_ID,
    describe,
    sqlite_application_id,
    sqlite_tables,
)
from nasrank.errors import NasrankError
from nasrank.search._optuna import quiet_optuna
from nasrank.search.results import Evaluation

__all__ = [
    "RunStorage",
    "StorageBackend",
    "OptunaBackend",
    "JsonlBackend",
    "check_storage_file",
    "open_storage",
    "run_key",
]


class RunStorage(Protocol):
    """The evaluations of one run, in query order."""

    def load(self) -> list[Evaluation]:
        """Evaluations stored so far (steps 0, 1, ... without gaps)."""

    def append(self, evaluation: Evaluation, *, step: int) -> None:
        """Persist ``evaluation`` as query number ``step`` (0-based) before returning."""


class StorageBackend(Protocol):
    """A place holding many runs; :meth:`run` opens one of them."""

    url: str

    def run(
        self, key: str, *, maximize: bool = True, metadata: dict[str, Any] | None = None
    ) -> RunStorage: ...


def run_key(**config: Any) -> str:
    """A stable key for a run: ``method:seed=S:`` + a hash of the whole configuration."""
    text = json.dumps(config, sort_keys=True, default=str)
    digest = hashlib.sha1(text.encode()).hexdigest()[:16]
    return f"{config.get('method', 'search')}:seed={config.get('seed', 0)}:{digest}"


def _contiguous(records: dict[int, Evaluation]) -> list[Evaluation]:
    out = []
    while len(out) in records:
        out.append(records[len(out)])
    return out


# ---- Optuna -----------------------------------------------------------------------------
class _OptunaRun:
    def __init__(self, study: Any) -> None:
        self.study = study

    def load(self) -> list[Evaluation]:
        records: dict[int, Evaluation] = {}
        for t in self.study.get_trials(deepcopy=False):
            attrs = t.user_attrs
            if "arch" not in attrs or "step" not in attrs:
                continue
            value = attrs.get("value")
            cost = attrs.get("cost")
            records.setdefault(
                int(attrs["step"]),
                Evaluation(
                    str(attrs["arch"]),
                    math.nan if value is None else float(value),
                    math.nan if cost is None else float(cost),
                ),
            )
        return _contiguous(records)

    def append(self, evaluation: Evaluation, *, step: int) -> None:
        import optuna

        finite = math.isfinite(evaluation.value)
        trial = optuna.trial.create_trial(
            state=optuna.trial.TrialState.COMPLETE if finite else optuna.trial.TrialState.FAIL,
            value=evaluation.value if finite else None,
            params={},
            distributions={},
            user_attrs={
                "arch": evaluation.arch,
                "step": int(step),
                "value": evaluation.value if finite else None,
                "cost": evaluation.cost if math.isfinite(evaluation.cost) else None,
            },
        )
        self.study.add_trial(trial)


class OptunaBackend:
    """Runs as Optuna studies in an RDB storage (``sqlite:///runs.db``, ``postgresql://``...).

    Args:
        url: An SQLAlchemy URL Optuna accepts.
    """

    def __init__(self, url: str) -> None:
        import optuna

        self.url = url
        try:
            self._storage = optuna.storages.RDBStorage(url)
        except Exception as exc:  # noqa: BLE001 - any driver error becomes a clear message
            raise NasrankError(f"cannot open Optuna storage {url!r}: {exc}") from None

    def run(
        self, key: str, *, maximize: bool = True, metadata: dict[str, Any] | None = None
    ) -> RunStorage:
        import optuna


        with quiet_optuna():
            study = optuna.create_study(
                storage=self._storage,
                study_name=f"nasrank:{key}",
                direction="maximize" if maximize else "minimize",
                load_if_exists=True,
            )
        if metadata is not None and "config" not in study.user_attrs:
            study.set_user_attr("config", json.loads(json.dumps(metadata, default=str)))
        return _OptunaRun(study)

    def __repr__(self) -> str:
        return f"OptunaBackend({self.url!r})"


# ---- JSON lines -------------------------------------------------------------------------
class _JsonlRun:
    def __init__(self, backend: JsonlBackend, key: str) -> None:
        self.backend = backend
        self.key = key

    def load(self) -> list[Evaluation]:
        records: dict[int, Evaluation] = {}
        for record in self.backend._records():
            if record.get("run") != self.key or record.get("kind") != "evaluation":
                continue
            value, cost = record.get("value"), record.get("cost")
            records.setdefault(
                int(record["step"]),
                Evaluation(
                    str(record["arch"]),
                    math.nan if value is None else float(value),
                    math.nan if cost is None else float(cost),
                ),
            )
        return _contiguous(records)

    def append(self, evaluation: Evaluation, *, step: int) -> None:
        self.backend._write(
            {
                "kind": "evaluation",
                "run": self.key,
                "step": int(step),
                "arch": evaluation.arch,
                "value": evaluation.value if math.isfinite(evaluation.value) else None,
                "cost": evaluation.cost if math.isfinite(evaluation.cost) else None,
            }
        )


class JsonlBackend:
    """Runs in one append-only JSON-lines file.

    Args:
        path: The file (created on first write). A torn last line left by a crash is cut
            off when the file is opened.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self.url = str(self.path)
        if self.path.is_dir():
            raise NasrankError(f"storage {str(self.path)!r} is a directory; give a file path")
        self._repair()

    def _repair(self) -> None:
        if not self.path.is_file():
            return
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            cut = data.rfind(b"\n") + 1
            with self.path.open("r+b") as f:
                f.truncate(cut)

    def _records(self) -> list[dict[str, Any]]:
        if not self.path.is_file():
            return []
        out = []
        with self.path.open() as f:
            for line in f:
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(record, dict):
                    out.append(record)
        return out

    def _write(self, record: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as f:
            f.write(json.dumps(record, default=str) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def run(
        self, key: str, *, maximize: bool = True, metadata: dict[str, Any] | None = None
    ) -> RunStorage:
        if metadata is not None and not any(
            r.get("kind") == "run" and r.get("run") == key for r in self._records()
        ):
            self._write({"kind": "run", "run": key, "maximize": maximize, "config": metadata})
        return _JsonlRun(self, key)

    def __repr__(self) -> str:
        return f"JsonlBackend({self.url!r})"


def _local_file(url: str) -> tuple[Path | None, str]:
    """``(file, kind)`` of a storage URL: kind ``"jsonl"``, ``"sqlite"`` or ``"rdb"``
    (a server database: no local file)."""
    if url.startswith("jsonl:"):
        return Path(url[len("jsonl:") :]).expanduser(), "jsonl"
    if url.endswith((".jsonl", ".ndjson")) and "://" not in url:
        return Path(url).expanduser(), "jsonl"
    if url.startswith("sqlite:///"):
        return Path(url[len("sqlite:///") :]).expanduser(), "sqlite"
    if "://" in url:
        return None, "rdb"
    return Path(url).expanduser(), "sqlite"


def _refuse(path: Path, kind: str, wanted: str) -> NasrankError:
    hint = " (did you mean --store?)" if "score store" in kind else ""
    return NasrankError(
        f"storage {str(path)!r} is {kind}, not {wanted}{hint}; give a new path or a "
        "storage `nasrank search --storage` wrote"
    )


def _check_jsonl(path: Path) -> None:
    with path.open("rb") as f:
        first = f.readline()
    try:
        record = json.loads(first)
    except ValueError:
        record = None
    if not isinstance(record, dict) or "kind" not in record:
        raise _refuse(path, describe(path), "a nasrank JSON-lines run log")


def _ours(path: Path) -> bool:
    """Whether an unstamped SQLite file is new or an Optuna storage of nasrank runs only."""
    tables = sqlite_tables(path)
    if not tables:
        return True
    if not tables & OPTUNA_TABLES:
        return False
    if "studies" not in tables:
        return True
    uri = f"{path.resolve().as_uri()}?mode=ro"
    conn = sqlite3.connect(uri, uri=True)
    try:
        names = [r[0] for r in conn.execute("SELECT study_name FROM studies").fetchall()]
    finally:
        conn.close()
    return all(str(n).startswith("nasrank:") for n in names)


def check_storage_file(url: str | Path) -> None:
    """Refuse an existing file that is not a run storage, with one line naming what it
    is (a score store, JSON, another program's database, junk); creates nothing.

    Raises:
        NasrankError: The file is not a run storage of nasrank.
    """
    path, kind = _local_file(str(url))
    if path is None or not path.exists():
        return
    if path.is_dir():
        raise NasrankError(
            f"storage {str(path)!r} is a directory; give a file path such as runs.db"
        )
    if path.stat().st_size == 0:
        return
    app_id = sqlite_application_id(path)
    if kind == "jsonl":
        if app_id is not None:
            raise _refuse(path, describe(path), "a nasrank JSON-lines run log")
        _check_jsonl(path)
        return
    if app_id == SEARCH_STORAGE_ID:
        return
    try:
        legacy = app_id == 0 and _ours(path)
    except sqlite3.Error:
        legacy = False
    if not legacy:
        raise _refuse(path, describe(path), "a nasrank search storage")


def _stamp(path: Path) -> None:
    """Mark a SQLite run storage as nasrank's (``PRAGMA application_id``)."""
    conn = sqlite3.connect(path)
    try:
        conn.execute(f"PRAGMA application_id = {SEARCH_STORAGE_ID}")
        conn.commit()
    finally:
        conn.close()


def open_storage(url: str | Path) -> StorageBackend:
    """Open the run storage named by ``url``.

    Args:
        url: ``PATH.jsonl`` / ``jsonl:PATH`` (JSON-lines log), an RDB URL with ``://``
            (Optuna storage), or any other path (a SQLite file through Optuna, stamped
            with ``PRAGMA application_id`` as nasrank's).

    Raises:
        NasrankError: The storage cannot be opened, or its file is not a run storage
            (see :func:`check_storage_file`).
    """
    text = str(url)
    check_storage_file(text)
    path, kind = _local_file(text)
    if kind == "jsonl":
        return JsonlBackend(text[len("jsonl:") :] if text.startswith("jsonl:") else text)
    if path is None:
        return OptunaBackend(text)
    path = path.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    backend = OptunaBackend(f"sqlite:///{path}")
    if sqlite_application_id(path) != SEARCH_STORAGE_ID:
        _stamp(path)
    return backend
