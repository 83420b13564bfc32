"""Nothing lost, nothing overwritten: outputs that would destroy inputs, links, FIFOs,
permissions, summary counts and an interrupted search (through ``nasrank.cli.main``)."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import threading

import pytest

from nasrank.cli import main

POOL = ["--space", "nb201", "--pool", "2", "--proxies", "params", "--batch-size", "2"]
SEARCH = ["search", "--space", "nb201", "--benchmark", "nb201-analog", "--method", "random",
          "--budget", "3"]  # fmt: skip


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(autouse=True)
def _quiet(monkeypatch, tmp_path):
    monkeypatch.setenv("NASRANK_PROGRESS", "0")
    monkeypatch.delenv("NASRANK_STORE", raising=False)
    monkeypatch.chdir(tmp_path)


def _refused(capsys, argv, match):
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and match in err, err


def test_an_output_on_the_store_is_refused_and_the_store_kept(tmp_path, capsys):
    store = tmp_path / "same.sqlite"
    assert main(["score-space", *POOL, "--store", str(store)]) == 0
    # the command closed the store: one self-contained file, no late WAL checkpoint
    assert not (tmp_path / "same.sqlite-wal").exists()
    before = _digest(store)
    _refused(capsys, ["score-space", *POOL, "--store", str(store), "--json", str(store)],
             "is also --store")  # fmt: skip
    _refused(capsys, ["score-space", *POOL, "--store", str(store), "--export", f"{store}-wal"],
             "is also --store")  # fmt: skip
    assert _digest(store) == before


def test_an_output_on_the_search_storage_is_refused(tmp_path, capsys):
    storage = tmp_path / "rj.db"
    assert main([*SEARCH, "--seeds", "0", "--storage", str(storage)]) == 0
    before = _digest(storage)
    _refused(capsys, [*SEARCH, "--seeds", "0", "--storage", str(storage), "--json",
                      str(storage)], "is also --storage")  # fmt: skip
    assert _digest(storage) == before


def test_two_outputs_on_one_path_are_refused(tmp_path, capsys):
    argv = ["correlate", "--space", "nb201", "--benchmark", "nb201-analog", "--n", "3",
            "--proxies", "params", "--json", "x.json", "--csv", "x.json"]  # fmt: skip
    _refused(capsys, argv, "is also --json")
    assert not (tmp_path / "x.json").exists()


def test_json_through_a_symlink_replaces_its_target(tmp_path):
    (tmp_path / "real.json").write_text("old")
    (tmp_path / "link.json").symlink_to(tmp_path / "real.json")
    assert main(["spaces", "--json", "link.json"]) == 0
    assert (tmp_path / "link.json").is_symlink()
    assert "spaces" in json.loads((tmp_path / "real.json").read_text())


def test_json_into_a_fifo_is_written_through(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    got = []
    reader = threading.Thread(target=lambda: got.append(open(tmp_path / "pipe").read()))
    reader.start()
    assert main(["spaces", "--json", "pipe"]) == 0
    reader.join(30)
    assert "spaces" in json.loads(got[0]) and stat.S_ISFIFO((tmp_path / "pipe").stat().st_mode)


def test_outputs_take_the_umask_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        assert main(["spaces", "--json", "x.json"]) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "x.json").stat().st_mode) == 0o644


def test_the_summary_counts_pairs_computed_and_reused(tmp_path, capsys):
    store = str(tmp_path / "s.sqlite")
    assert main(["score-space", *POOL, "--store", store]) == 0
    capsys.readouterr()
    argv = ["score-space", *POOL, "--store", store, "--json", "run.json"]
    argv[argv.index("params")] = "params,flops"
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "computed 2 (arch, proxy) scores for 2 archs and reused 2 stored ones" in out
    report = json.loads((tmp_path / "run.json").read_text())
    assert (report["pairs_computed"], report["pairs_reused"]) == (2, 2)


@pytest.mark.parametrize("stop", ["ctrl-c", "sigterm"])
def test_an_interrupted_search_writes_its_runs_and_says_how_to_resume(
    tmp_path, capsys, monkeypatch, stop
):
    import signal

    from nasrank.search.objectives import BenchmarkObjective

    real, calls = BenchmarkObjective.__call__, []

    def stop_at_the_fifth_query(self, arch):
        calls.append(arch)
        if len(calls) == 5:
            if stop == "sigterm":  # the handler raises in this frame, at once
                os.kill(os.getpid(), signal.SIGTERM)
            raise KeyboardInterrupt
        return real(self, arch)

    monkeypatch.setattr(BenchmarkObjective, "__call__", stop_at_the_fifth_query)
    argv = [*SEARCH, "--seeds", "0..2", "--storage", "r.db", "--json", "run.json"]
    assert main(argv) == 130
    out = capsys.readouterr().out
    assert "interrupted: 1 of 3 runs finished; they are in run.json" in out
    assert "keeps every evaluation; resume with: nasrank search --space nb201" in out
    partial = json.loads((tmp_path / "run.json").read_text())
    assert partial["interrupted"] is True and len(partial["runs"]) == 1
    monkeypatch.setattr(BenchmarkObjective, "__call__", real)
    assert main(argv) == 0
    done = json.loads((tmp_path / "run.json").read_text())
    assert "interrupted" not in done and len(done["runs"]) == 3
    assert done["runs"][0]["history"] == partial["runs"][0]["history"]
    # the stopped run's query before the interrupt came back from --storage
    assert [r["restored"] for r in done["runs"]] == [3, 1, 0]
