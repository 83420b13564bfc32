"""Score stores know what they are: stamped files, refused foreign files, schema checks."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest

from nasrank._files import SCORE_STORE_ID, SEARCH_STORAGE_ID
from nasrank.errors import NasrankError, StoreError
from nasrank.search.storage import open_storage
from nasrank.store import ScoreStore


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _app_id(path):
    return sqlite3.connect(path).execute("PRAGMA application_id").fetchone()[0]


def test_a_new_store_and_a_new_storage_are_stamped(tmp_path):
    ScoreStore(tmp_path / "s.sqlite").close()
    open_storage(tmp_path / "r.db")
    assert _app_id(tmp_path / "s.sqlite") == SCORE_STORE_ID
    assert _app_id(tmp_path / "r.db") == SEARCH_STORAGE_ID


def _foreign(path):
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE users (name TEXT)")
    conn.execute("INSERT INTO users VALUES ('ada')")
    conn.commit()
    conn.close()


@pytest.mark.parametrize("opener", [ScoreStore, open_storage])
def test_a_foreign_sqlite_file_is_refused_and_left_byte_identical(tmp_path, opener):
    path = tmp_path / "app.db"
    _foreign(path)
    before = _digest(path)
    with pytest.raises(NasrankError, match=r"another program \(tables: users\)"):
        opener(path)
    assert _digest(path) == before


def test_each_kind_refuses_the_other_and_names_the_option(tmp_path):
    ScoreStore(tmp_path / "s.sqlite").close()
    open_storage(tmp_path / "r.db")
    before = _digest(tmp_path / "s.sqlite"), _digest(tmp_path / "r.db")
    with pytest.raises(NasrankError, match=r"is a nasrank score store.*did you mean --store"):
        open_storage(tmp_path / "s.sqlite")
    with pytest.raises(StoreError, match=r"is a nasrank search storage.*--storage"):
        ScoreStore(tmp_path / "r.db")
    assert (_digest(tmp_path / "s.sqlite"), _digest(tmp_path / "r.db")) == before


@pytest.mark.parametrize(
    ("content", "kind"),
    [(b'{"runs": []}', "a JSON file"), (bytes(range(256)) * 4, "binary data")],
)
def test_non_sqlite_files_are_named(tmp_path, content, kind):
    path = tmp_path / "x"
    path.write_bytes(content)
    with pytest.raises(StoreError, match=kind):
        ScoreStore(path)
    with pytest.raises(NasrankError, match=kind):
        open_storage(path)
    assert path.read_bytes() == content


def test_an_unstamped_version_1_store_is_adopted_and_migrated(tmp_path):
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE scores (space TEXT, data TEXT, seed INTEGER, proxy TEXT, version TEXT, "
        "arch TEXT, score REAL, seconds REAL, error TEXT, created REAL, "
        "PRIMARY KEY (space, data, seed, proxy, version, arch))"
    )
    conn.execute(
        "CREATE TABLE meta (space TEXT, data TEXT, seed INTEGER, description TEXT, "
        "nasrank_version TEXT, info TEXT, created REAL, updated REAL, "
        "PRIMARY KEY (space, data, seed))"
    )
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    assert ScoreStore(path, read_only=True).count() == 0  # a reader changes nothing
    assert _app_id(path) == 0
    ScoreStore(path).close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    assert _app_id(path) == SCORE_STORE_ID
    assert "claims" in {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}


def test_a_newer_schema_is_refused_before_anything_is_written(tmp_path):
    path = tmp_path / "new.sqlite"
    ScoreStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    before = _digest(path)
    with pytest.raises(StoreError, match="schema version 99.*upgrade nasrank"):
        ScoreStore(path)
    assert _digest(path) == before


def test_an_unstamped_optuna_storage_of_nasrank_runs_is_adopted(tmp_path):
    import optuna

    path = tmp_path / "old.db"
    optuna.create_study(storage=f"sqlite:///{path}", study_name="nasrank:random:seed=0:x")
    assert _app_id(path) == 0
    open_storage(path)
    assert _app_id(path) == SEARCH_STORAGE_ID
    other = tmp_path / "theirs.db"
    optuna.create_study(storage=f"sqlite:///{other}", study_name="my-experiment")
    with pytest.raises(NasrankError, match="an Optuna storage, not a nasrank search storage"):
        open_storage(other)
