"""Proxy tables: codec, export -> load round trip, metadata, coverage, the shipped table."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import nasrank
from nasrank.errors import NotInTable, StoreError, TableError, UnknownNameError
from nasrank.proxies import PROXIES
from nasrank.spaces import get_space
from nasrank.spaces.nb201 import to_naslib
from nasrank.store import ScoreRecord, ScoreStore
from nasrank.tables import (
    ProxyTable,
    available_tables,
    export_table,
    join_tables,
    load_table,
    stored_proxy_names,
    table_paths,
)

SPACE = get_space("nb201")
DATA = "d" * 32
ALL = list(SPACE.enumerate())


def test_nb201_index_is_the_enumeration_order():
    codec = SPACE.index_codec
    assert codec.space == "nb201" and codec.size == 15625
    for i in (0, 1, 4, 5, 777, 15624):
        assert codec.to_arch(i) == ALL[i]
    assert [codec.to_index(a) for a in ALL] == list(range(15625))
    with pytest.raises(ValueError):
        codec.to_index("(2, 2, 4, 0, 2, 0)")  # a spelling, not a canonical id
    with pytest.raises(ValueError):
        codec.to_arch(15625)
    assert get_space("nb101").index_codec is None


def _fill(store, archs, proxies=("params", "nwot"), *, seed=0, skip=()):
    """Scores i + j/10, NaN for (i + j) % 4 == 3; (arch, proxy) pairs in skip not stored."""
    records = []
    for i, arch in enumerate(archs):
        for j, proxy in enumerate(proxies):
            if (arch, proxy) in skip:
                continue
            value = math.nan if (i + j) % 4 == 3 else i + j / 10 + 1e-7
            records.append(
                ScoreRecord(
                    "nb201",
                    arch,
                    proxy,
                    DATA,
                    seed,
                    PROXIES.get(proxy).store_version,
                    value,
                    0.01,
                    "undefined" if math.isnan(value) else None,
                )
            )
    store.put_many(records)
    store.record_run(
        "nb201",
        DATA,
        seed,
        description="synthetic:3x8x8 split=train seed=0 n=4",
        info={
            "batch_size": 4,
            "num_classes": 10,
            "input_shape": [3, 8, 8],
            "build_kwargs": {"num_classes": 10},
        },
    )


@pytest.fixture()
def exported(tmp_path):
    store = ScoreStore(tmp_path / "s.sqlite")
    archs = [ALL[i] for i in (9000, 3, 15624, 40, 77, 123)]
    _fill(store, archs, skip={(archs[5], "nwot")})  # incomplete: not a row
    table = export_table(
        store,
        SPACE,
        DATA,
        0,
        ["params", "nwot"],
        tmp_path / "t.npz",
        data_spec="synthetic:3x8x8",
        command="nasrank score-space ...",
    )
    return store, archs, table


def test_export_load_round_trip(exported, tmp_path):
    store, archs, table = exported
    again = load_table(tmp_path / "t")  # NAME, NAME.npz and NAME.json all work
    assert again.proxies == table.proxies == ("params", "nwot")
    assert len(again) == 5 and again.archs == tuple(sorted(archs[:5], key=ALL.index))
    got = again.scores(archs[:5])
    assert got.dtype == np.float64 and got.shape == (5, 2)
    for i in range(5):
        for j in range(2):
            want = math.nan if (i + j) % 4 == 3 else i + j / 10 + 1e-7
            if math.isnan(want):
                assert math.isnan(got[i, j])
            else:
                assert got[i, j] == pytest.approx(want, rel=1e-6)  # float32
    assert again.values.dtype == np.float32 and not again.values.flags.writeable
    # column subset and order, other spellings of an id
    np.testing.assert_array_equal(again.scores([archs[0]], ["nwot"]), got[:1, 1:])
    naslib = str(to_naslib(archs[1]))
    np.testing.assert_array_equal(again.scores([naslib]), got[1:2])


def test_metadata(exported, tmp_path):
    _, _, table = exported
    meta = json.loads((tmp_path / "t.json").read_text())
    assert meta == table.meta
    assert meta["format"] == "nasrank-proxy-table" and meta["format_version"] == 1
    assert meta["name"] == "t" and meta["space"] == "nb201" and meta["space_size"] == 15625
    assert meta["archs"] == 5 and meta["complete"] is False and meta["rows"] == "index"
    assert meta["proxies"] == ["params", "nwot"]
    assert meta["versions"] == {p: PROXIES.get(p).store_version for p in ("params", "nwot")}
    assert meta["data"]["key"] == DATA and meta["data"]["spec"] == "synthetic:3x8x8"
    assert meta["data"]["batch_size"] == 4 and meta["data"]["num_classes"] == 10
    assert meta["data"]["description"].startswith("synthetic:3x8x8")
    assert meta["seed"] == 0 and meta["nasrank_version"] == nasrank.__version__
    assert meta["command"] == "nasrank score-space ..." and meta["created"][:2] == "20"
    assert meta["nan_counts"] == {"params": 1, "nwot": 1}
    assert len(meta["sha256"]) == 64 and "OPS.index" in meta["index"]
    assert table.stale_proxies() == []


def test_coverage_is_reported(exported):
    _, archs, table = exported
    assert table.coverage == (5, 15625) and not table.complete
    assert "5/15,625 archs" in table.describe() and "seed 0" in table.describe()
    assert table.covers(archs).tolist() == [True] * 5 + [False]
    assert table.missing(archs) == [archs[5]]
    assert len(table.missing()) == 15620
    table.check_complete(archs[:5])
    with pytest.raises(NotInTable, match="lacks 1 of 6"):
        table.check_complete(archs)
    with pytest.raises(NotInTable, match="lacks 15620 of 15625"):
        table.check_complete()
    with pytest.raises(NotInTable, match="no row for 1 of 6"):
        table.scores(archs)
    assert np.isnan(table.scores(archs, missing="nan")[5]).all()
    assert archs[0] in table and archs[5] not in table and "garbage" not in table
    with pytest.raises(UnknownNameError, match="no proxy 'synflow'"):
        table.scores(archs[:1], ["synflow"])


def test_complete_table(tmp_path):
    values = np.arange(15625 * 2, dtype=np.float64).reshape(15625, 2)
    table = ProxyTable.from_arrays("full", "nb201", ALL[::-1], ["params", "flops"], values[::-1])
    table.save(tmp_path / "full.npz")
    full = load_table(tmp_path / "full.npz")
    assert full.complete and full.coverage == (15625, 15625) and full.missing() == []
    full.check_complete()
    np.testing.assert_array_equal(full.scores(ALL[:3]), values[:3])


def test_string_rows_for_spaces_without_an_index(tmp_path):
    table = ProxyTable.from_arrays("c", "myspace", ["b", "a"], ["params"], np.array([[1.0], [2.0]]))
    table.save(tmp_path / "c")
    back = load_table(tmp_path / "c.npz")
    assert back.meta["rows"] == "archs" and back.coverage == (2, None) and not back.complete
    np.testing.assert_array_equal(back.scores(["a", "b"]), [[2.0], [1.0]])
    assert back.covers(["a", "zz"]).tolist() == [True, False]


def test_bad_tables(exported, tmp_path):
    with pytest.raises(UnknownNameError, match="did you mean 'nb201-cifar10'"):
        load_table("nb201-cifar")
    with pytest.raises(TableError, match="not found"):
        load_table(tmp_path / "nothere.npz")
    npz, js = table_paths(tmp_path / "t.npz")
    meta = json.loads(js.read_text())
    meta["sha256"] = "0" * 64
    js.write_text(json.dumps(meta))
    with pytest.raises(TableError, match="checksum"):
        load_table(npz)
    js.write_text("{}")
    with pytest.raises(TableError, match="not a nasrank proxy table"):
        load_table(npz)


def test_export_needs_complete_rows_and_stored_proxies(tmp_path):
    store = ScoreStore(tmp_path / "s.sqlite")
    _fill(store, ALL[:3], ("params",))
    assert stored_proxy_names(store, "nb201", DATA, 0) == ["params"]
    table = export_table(store, "nb201", DATA, 0, None, tmp_path / "p")
    assert table.proxies == ("params",) and len(table) == 3
    with pytest.raises(nasrank.errors.NasrankError, match="no architecture"):
        export_table(store, "nb201", DATA, 0, ["params", "nwot"], tmp_path / "q")
    with pytest.raises(nasrank.errors.NasrankError, match="holds no scores"):
        export_table(store, "nb201", DATA, 1, None, tmp_path / "q")


def test_export_reads_a_read_only_store(tmp_path):
    path = tmp_path / "s.sqlite"
    _fill(ScoreStore(path), ALL[:4])
    ro = ScoreStore(path, read_only=True)
    table = export_table(ro, "nb201", DATA, 0, ["params"], tmp_path / "ro")
    assert len(table) == 4
    with pytest.raises(StoreError, match="read-only"):
        ro.put_many([])


def test_the_shipped_table():
    """The package data: loads, reports its coverage honestly, matches current proxies."""
    assert "nb201-cifar10" in available_tables()
    table = load_table("nb201-cifar10")
    meta = table.meta
    covered, total = table.coverage
    assert total == 15625 and covered == len(table) == meta["archs"] > 0
    assert table.complete == (covered == 15625) == meta["complete"]
    assert {"params", "flops", "synflow"} <= set(table.proxies)
    assert table.stale_proxies() == [], "regenerate with benchmarks/ship_nb201_table.py"
    assert meta["data"]["key"] and meta["data"]["batch_size"] == 64 and meta["seed"] == 0
    assert meta["data"]["num_classes"] == 10 and "cifar10" in meta["data"]["spec"]
    commands = meta.get("commands") or [meta["command"]]  # several for joined columns
    assert commands and all(c.startswith("nasrank score-space --space nb201") for c in commands)
    assert table.values.dtype == np.float32 and table.values.shape == (covered, len(table.proxies))
    npz, js = table_paths(table.meta["name"])
    from nasrank.tables import shipped_table_dir

    size = sum((shipped_table_dir() / p.name).stat().st_size for p in (npz, js))
    assert size < 3_000_000
    # rows are distinct architectures; data-free proxies are defined everywhere
    assert len(set(table.archs)) == covered
    assert not np.isnan(table.scores(table.archs[:50], ["params", "flops"])).any()


def test_stale_proxies(tmp_path):
    meta = {"versions": {"params": "0+nasrank-0.0.1", "meco": "1+nasrank-9.9"}}
    table = ProxyTable.from_arrays(
        "s", "nb201", ALL[:1], ["params", "meco", "nwot"], np.zeros((1, 3)), meta
    )
    assert table.stale_proxies() == ["params"]  # meco: same definition; nwot: unrecorded


def test_malformed_rows_are_refused():
    with pytest.raises(TableError, match="duplicate"):
        ProxyTable.from_arrays("d", "nb201", [ALL[0], ALL[0]], ["params"], np.zeros((2, 1)))
    with pytest.raises(TableError, match="outside"):
        ProxyTable("o", "nb201", ["params"], np.zeros((1, 1)), {}, index=np.array([15625]))
    with pytest.raises(TableError, match="shape"):
        ProxyTable.from_arrays("s", "nb201", ALL[:2], ["params"], np.zeros((2, 2)))


def _export(store, proxies, path, **kw):
    return export_table(store, SPACE, DATA, kw.pop("seed", 0), proxies, path, **kw)


def test_join_adds_columns_over_the_shared_rows(exported, tmp_path):
    store, archs, base = exported
    # a later job: flops for four of the six archs (two of them also lack a base row)
    _fill(store, [archs[0], archs[2], archs[4], archs[5]], proxies=("flops",))
    extra = _export(store, ["flops"], tmp_path / "x.npz", command="nasrank score-space flops")
    joined = join_tables(base, extra, name="both")
    assert joined.proxies == ("params", "nwot", "flops")
    assert set(joined.archs) == {archs[0], archs[2], archs[4]}  # archs[5] has no nwot
    for a in joined.archs:
        want = [*base.scores([a])[0], *extra.scores([a])[0]]
        np.testing.assert_array_equal(joined.scores([a])[0], want)
    assert joined.meta["versions"] == {
        p: PROXIES.get(p).store_version for p in ("params", "nwot", "flops")
    }
    assert joined.meta["commands"] == ["nasrank score-space ...", "nasrank score-space flops"]
    assert joined.meta["stores"] == ["s.sqlite", "s.sqlite"]
    _fill(store, [archs[0]], proxies=("synflow",))
    third = _export(store, ["synflow"], tmp_path / "y.npz", command="nasrank score-space synflow")
    again = join_tables(joined, third)  # a join of a join keeps every command and store
    assert again.meta["commands"][-1] == "nasrank score-space synflow"
    assert len(again.meta["commands"]) == len(again.meta["stores"]) == 3
    npz, _ = joined.save(tmp_path / "both.npz")
    again = load_table(npz)
    assert again.meta["nan_counts"]["flops"] == int(np.isnan(extra.scores(again.archs)).sum())
    np.testing.assert_array_equal(again.values, joined.values)


def test_join_refuses_other_runs_and_shared_proxies(exported, tmp_path):
    store, archs, base = exported
    _fill(store, archs, proxies=("flops",), seed=1)
    other_seed = _export(store, ["flops"], tmp_path / "s1.npz", seed=1)
    with pytest.raises(TableError, match="different runs: seed 0 vs 1"):
        join_tables(base, other_seed)
    again = _export(store, ["nwot"], tmp_path / "n.npz")
    with pytest.raises(TableError, match="both have nwot"):
        join_tables(base, again)
    _fill(store, [ALL[5]], proxies=("flops",))
    elsewhere = _export(store, ["flops"], tmp_path / "e.npz", archs=[ALL[5]])
    with pytest.raises(TableError, match="share no architecture"):
        join_tables(base, elsewhere)
