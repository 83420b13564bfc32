from __future__ import annotations

import math
import multiprocessing
import sqlite3

import pandas as pd
import pytest

from nasrank.errors import NasrankError, StoreError
from nasrank.proxies import PROXIES
from nasrank.store import ScoreRecord, ScoreStore

DATA = "f" * 32


def _records(archs, proxies=("params", "nwot"), seed=0, offset=0.0):
    out = []
    for i, arch in enumerate(archs):
        for j, proxy in enumerate(proxies):
            value = math.nan if (i + j) % 5 == 4 else offset + i + j / 10
            out.append(
                ScoreRecord(
                    "nb201",
                    arch,
                    proxy,
                    DATA,
                    seed,
                    PROXIES.get(proxy).store_version,
                    value,
                    0.01 * i,
                    "boom" if math.isnan(value) else None,
                )
            )
    return out


def test_round_trip_keeps_scores_nan_reasons_and_seconds(tmp_path):
    store = ScoreStore(tmp_path / "s.sqlite")
    archs = [f"a{i}" for i in range(7)]
    records = _records(archs)
    assert store.put_many(records) == len(records)
    got = store.get_many("nb201", archs, ["params", "nwot"], DATA, 0)
    assert len(got) == len(records)
    for r in records:
        g = got[(r.arch, r.proxy)]
        assert (math.isnan(g.score) and math.isnan(r.score)) or g.score == r.score
        assert g.seconds == pytest.approx(r.seconds)
        assert g.error == r.error and g.version == r.version and g.created > 0
    assert got[("a4", "params")].failed and got[("a4", "params")].error == "boom"
    # other seed, data or proxy version: not stored
    assert store.get_many("nb201", archs, ["params"], DATA, 1) == {}
    assert store.get_many("nb201", archs, ["params"], "other", 0) == {}
    assert store.get_many("nb101", archs, ["params"], DATA, 0) == {}


def test_proxies_have_a_version_combined_with_nasranks():
    import nasrank

    spec = PROXIES.get("params")  # never redefined since version 1
    assert spec.version == "1"
    assert spec.store_version == f"1+nasrank-{nasrank.__version__}"


def test_a_new_proxy_version_hides_old_scores(tmp_path, monkeypatch):
    import dataclasses

    store = ScoreStore(tmp_path / "s.sqlite")
    store.put_many(_records(["a0"], ("params",)))
    assert store.missing("nb201", ["a0"], ["params"], DATA, 0) == {}
    bumped = dataclasses.replace(PROXIES.get("params"), version="2")
    assert store.missing("nb201", ["a0"], [bumped], DATA, 0) == {"a0": ["params"]}


def test_missing_lists_proxies_per_arch_in_order(tmp_path):
    store = ScoreStore(tmp_path / "s.sqlite")
    store.put_many(_records(["a0", "a1"], ("params",)))
    store.put_many(_records(["a1"], ("nwot",)))
    todo = store.missing("nb201", ["a2", "a1", "a0"], ["params", "nwot"], DATA, 0)
    assert todo == {"a2": ["params", "nwot"], "a0": ["nwot"]}
    assert list(todo) == ["a2", "a0"]


def test_wide_form_and_export_csv_parquet(tmp_path):
    store = ScoreStore(tmp_path / "s.sqlite")
    archs = [f"a{i}" for i in range(6)]
    store.put_many(_records(archs))
    ids, values = store.wide("nb201", ["nwot", "params"], DATA, 0)
    assert ids == sorted(archs) and values.shape == (6, 2)
    assert values[1, 1] == 1.0 and values[1, 0] == pytest.approx(1.1)
    assert math.isnan(values[3, 0])  # a3/nwot: i + j = 4 -> NaN
    # explicit rows (a generator works), unknown ones are NaN
    ids2, values2 = store.wide("nb201", ["params"], DATA, 0, archs=(a for a in ["a2", "zz"]))
    assert ids2 == ["a2", "zz"] and values2[0, 0] == 2.0 and math.isnan(values2[1, 0])

    n = store.export(tmp_path / "long.csv")
    frame = pd.read_csv(tmp_path / "long.csv")
    assert n == len(frame) == 12
    assert set(frame.columns) >= {
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
    }
    store.export(
        tmp_path / "wide.parquet", space="nb201", proxies=["params", "nwot"], data=DATA, seed=0
    )
    wide = pd.read_parquet(tmp_path / "wide.parquet")
    assert list(wide.columns) == ["arch", "params", "nwot"] and len(wide) == 6
    with pytest.raises(ValueError, match="csv or .parquet"):
        store.export(tmp_path / "x.txt")


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_long_export_imports_into_another_store(tmp_path, suffix):
    store = ScoreStore(tmp_path / "s.sqlite")
    archs = [f"a{i}" for i in range(6)]
    store.put_many(_records(archs))
    store.export(tmp_path / f"long{suffix}")
    other = ScoreStore(tmp_path / "other.sqlite")
    other.put_many(_records(["a0"], offset=100.0))  # replaced by the import
    assert other.import_records(tmp_path / f"long{suffix}") == 12
    assert list(other.records()) == list(store.records())  # NaN errors, seconds, times kept
    assert not other.missing("nb201", archs, ["params", "nwot"], DATA, seed=0)


def test_import_refuses_files_that_are_not_long_exports(tmp_path):
    store = ScoreStore(tmp_path / "s.sqlite")
    store.put_many(_records(["a0", "a1"]))
    store.export(tmp_path / "wide.csv", space="nb201", proxies=["params"], data=DATA, seed=0)
    with pytest.raises(StoreError, match="not a long-form score export .*no column space"):
        store.import_records(tmp_path / "wide.csv")
    with pytest.raises(StoreError, match="cannot read score rows"):
        store.import_records(tmp_path / "nothing.parquet")


def test_meta_records_the_run(tmp_path):
    store = ScoreStore(tmp_path / "s.sqlite")
    store.record_run("nb201", DATA, 0, description="synthetic n=4", info={"batch_size": 4})
    store.record_run("nb201", DATA, 0, description="synthetic n=4", info={"batch_size": 4})
    (run,) = store.runs()
    assert run["description"] == "synthetic n=4" and run["info"] == {"batch_size": 4}
    assert run["nasrank_version"] and run["seed"] == 0


def test_wal_mode_and_busy_timeout(tmp_path):
    store = ScoreStore(tmp_path / "s.sqlite", timeout=7)
    conn = sqlite3.connect(store.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store._connection().execute("PRAGMA busy_timeout").fetchone()[0] == 7000


@pytest.mark.parametrize("kind", ["folder", "not-sqlite", "unwritable-parent"])
def test_bad_paths_raise_store_error(tmp_path, kind):
    if kind == "folder":
        path = tmp_path
    elif kind == "not-sqlite":
        path = tmp_path / "x.sqlite"
        path.write_text("this is not a database\n" * 100)
    else:
        blocker = tmp_path / "file"
        blocker.write_text("")
        path = blocker / "sub" / "s.sqlite"
    with pytest.raises(StoreError) as info:
        ScoreStore(path)
    assert isinstance(info.value, NasrankError) and str(path.name) in str(info.value)


def _writer(path: str, name: str, n: int) -> None:
    store = ScoreStore(path, timeout=30)
    for i in range(n):
        store.put_many(_records([f"{name}-{i}-{k}" for k in range(5)], offset=i))


def test_two_processes_write_concurrently(tmp_path):
    path = str(tmp_path / "s.sqlite")
    ScoreStore(path)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, name, 40)) for name in ("p", "q")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    store = ScoreStore(path)
    assert store.count() == 2 * 40 * 5 * 2
    got = store.get_many("nb201", [f"q-39-{k}" for k in range(5)], ["params"], DATA, 0)
    assert got[("q-39-0", "params")].score == 39.0


def test_read_only_store(tmp_path):
    path = tmp_path / "s.sqlite"
    with pytest.raises(StoreError, match="does not exist"):
        ScoreStore(path, read_only=True)
    assert not path.exists()
    writer = ScoreStore(path)
    writer.put_many(_records(["a0", "a1"]))
    reader = ScoreStore(path, read_only=True)
    assert len(reader.get_many("nb201", ["a0", "a1"], ["params", "nwot"], DATA, 0)) == 4
    assert reader.stored_versions("nb201", DATA, 0) == [
        ("nwot", PROXIES.get("nwot").store_version),
        ("params", PROXIES.get("params").store_version),
    ]
    with pytest.raises(StoreError, match="read-only"):
        reader.put_many(_records(["a2"]))
    with pytest.raises(StoreError, match="read-only"):
        reader.record_run("nb201", DATA, 0, description="x")
    # a writer keeps writing while the reader is open, and the reader sees it
    writer.put_many(_records(["a2"]))
    assert reader.count("nb201") == 6
    assert "read_only=True" in repr(reader)
    import pickle

    assert pickle.loads(pickle.dumps(reader)).read_only


def _count_in_new_process(path):
    """``ScoreStore(path).count()`` in a process of its own (its connection closed)."""
    import subprocess
    import sys

    code = (
        "import sys; from nasrank.store import ScoreStore; print(ScoreStore(sys.argv[1]).count())"
    )
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return int(done.stdout)


def test_a_second_store_beside_an_open_one_keeps_this_process_locks(tmp_path):
    # A second ScoreStore of one file in one process (what a lease's renewal thread
    # opens) used to read the file's header through a descriptor of its own; closing it
    # dropped the process's SQLite locks, so another process's close took itself for
    # the last one and deleted the WAL under the open connection: writes made after it
    # never reached the file, and new connections failed with "disk I/O error".
    path = tmp_path / "s.sqlite"
    held = ScoreStore(path)
    held.put_many(_records(["a"]))
    ScoreStore(path).close()
    assert _count_in_new_process(path) == 2
    held.put_many(_records(["b"]))
    assert _count_in_new_process(path) == 4
    held.close()
    assert ScoreStore(path, read_only=True).count() == 4
