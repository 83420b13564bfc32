"""nasrank._files: what a file is, whether a path can be written, atomic replacement."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading

import pytest

from nasrank._files import (
    SCORE_STORE_ID,
    OutputPathError,
    describe,
    replace_atomically,
    same_file,
    sqlite_application_id,
    unwritable_reason,
)


def _write(path, text):
    with replace_atomically(path) as target, open(target, "w") as f:
        f.write(text)


def test_a_new_file_gets_the_umask_permissions_and_no_temporary_file_stays(tmp_path):
    old = os.umask(0o027)
    try:
        _write(tmp_path / "sub" / "x.json", "{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "sub" / "x.json").stat().st_mode) == 0o640
    assert os.listdir(tmp_path / "sub") == ["x.json"]


def test_an_existing_file_keeps_its_permissions(tmp_path):
    path = tmp_path / "x.json"
    path.write_text("old")
    path.chmod(0o604)
    _write(path, "new")
    assert path.read_text() == "new" and stat.S_IMODE(path.stat().st_mode) == 0o604


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "x.json"
    path.write_text("old")
    with pytest.raises(RuntimeError), replace_atomically(path) as target:
        target.write_text("half")
        raise RuntimeError("crash")
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["x.json"]


def test_a_symlink_stays_and_its_target_is_replaced(tmp_path):
    target = tmp_path / "real.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    _write(link, "new")
    assert link.is_symlink() and target.read_text() == "new"


def test_a_fifo_is_written_through_and_stays_a_fifo(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo).read()))
    reader.start()
    _write(fifo, "hello")
    reader.join(30)
    assert got == ["hello"] and stat.S_ISFIFO(fifo.stat().st_mode)
    assert sorted(os.listdir(tmp_path)) == ["pipe"]


def test_a_character_device_is_written_through():
    _write("/dev/null", "x")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_folder_is_refused(tmp_path):
    with pytest.raises(OutputPathError, match="folder"), replace_atomically(tmp_path):
        pass


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/proc/x.json", "cannot create files in '/proc'"),
        ("", "empty"),
        ("a\x00b", "NUL"),
        ("a" * 300, "longer than 255 bytes"),
    ],
)
def test_unwritable_reasons(path, reason):
    assert reason in unwritable_reason(path)


def test_writable_paths_create_nothing(tmp_path):
    assert unwritable_reason(tmp_path / "a" / "b" / "x.json") is None
    assert unwritable_reason(tmp_path / "ck", folder=True) is None
    assert unwritable_reason("/dev/null") is None
    assert os.listdir(tmp_path) == []
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert "not a folder" in unwritable_reason(blocker / "x.json")
    assert "is a folder" in unwritable_reason(tmp_path)


def test_describe_names_the_kind(tmp_path):
    (tmp_path / "j").write_text('{"a": 1}')
    (tmp_path / "e").write_bytes(b"")
    (tmp_path / "b").write_bytes(bytes(range(256)))
    conn = sqlite3.connect(tmp_path / "f.db")
    conn.execute("CREATE TABLE users (x)")
    conn.execute(f"PRAGMA application_id = {SCORE_STORE_ID + 1}")
    conn.commit()
    conn.close()
    assert describe(tmp_path / "j") == "a JSON file"
    assert describe(tmp_path / "e") == "an empty file"
    assert describe(tmp_path / "b") == "binary data"
    assert describe(tmp_path / "f.db") == "a SQLite database of another program (tables: users)"
    assert describe(tmp_path / "nope") == "nothing (it does not exist)"
    assert sqlite_application_id(tmp_path / "f.db") == SCORE_STORE_ID + 1
    assert sqlite_application_id(tmp_path / "j") is None


def test_same_file_follows_links(tmp_path):
    (tmp_path / "a").write_text("x")
    (tmp_path / "l").symlink_to(tmp_path / "a")
    os.link(tmp_path / "a", tmp_path / "h")
    assert same_file(tmp_path / "l", tmp_path / "a") and same_file(tmp_path / "h", tmp_path / "a")
    assert not same_file(tmp_path / "a", tmp_path / "other")
