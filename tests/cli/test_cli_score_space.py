from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nasrank.cli import main

ROOT = Path(__file__).resolve().parents[2]
#: A small, fast run: full NB-201 networks on 8x8 images, two cheap proxies.
FAST = [
    "--space",
    "nb201",
    "--data",
    "synthetic:3x8x8",
    "--batch-size",
    "4",
    "--proxies",
    "params,flops",
    "--threads",
    "1",
]


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "\n" not in err, err
    assert "Traceback" not in err
    return err


def _rows(path) -> dict:
    with sqlite3.connect(path) as conn:
        return {
            row[:-2]: row[-2:]
            for row in conn.execute(
                "SELECT space, arch, proxy, data, seed, version, score, error FROM scores"
            )
        }


def test_score_space_runs_then_skips_everything(tmp_path, capsys):
    store, out, csv = tmp_path / "s.sqlite", tmp_path / "r.json", tmp_path / "w.csv"
    argv = [
        "score-space",
        *FAST,
        "--pool",
        "5",
        "--store",
        str(store),
        "--json",
        str(out),
        "--export",
        str(csv),
    ]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "params" in text and "archs: 5 in pool" in text
    first = json.loads(out.read_text())
    assert (first["archs_total"], first["archs_scored"], first["archs_complete"]) == (5, 5, 5)
    assert first["nan_counts"] == {"params": 0, "flops": 0}
    assert first["executor"] == "inline" and first["threads"] == 1
    assert len(first["data_fingerprint"]) == 32
    lines = csv.read_text().splitlines()
    assert lines[0] == "arch,params,flops" and len(lines) == 6
    assert main(argv) == 0
    second = json.loads(out.read_text())
    assert (second["archs_scored"], second["archs_skipped"], second["rows_written"]) == (0, 5, 0)


def test_score_and_correlate_share_the_store(tmp_path, capsys, monkeypatch):
    import csv as csvlib

    from nasrank.search.pool import make_pool
    from nasrank.spaces import get_space

    store = tmp_path / "s.sqlite"
    archs = list(make_pool(get_space("nb201"), 4, seed=0).archs)
    # score-space fills the store ...
    assert main(["score-space", *FAST, "--pool", "4", "--store", str(store)]) == 0
    # ... `score` reads it (nothing computed) and matches a fresh computation
    stored, fresh = tmp_path / "a.json", tmp_path / "b.json"
    common = [
        "score",
        "--space",
        "nb201",
        "--arch",
        archs[2],
        "--data",
        "synthetic:3x8x8",
        "--batch-size",
        "4",
        "--proxies",
        "params,flops",
    ]
    assert main([*common, "--store", str(store), "--json", str(stored)]) == 0
    assert main([*common, "--json", str(fresh)]) == 0
    a, b = json.loads(stored.read_text()), json.loads(fresh.read_text())
    assert a["from_store"] == ["params", "flops"] and b["from_store"] == []
    assert a["scores"] == b["scores"]
    # correlate through $NASRANK_STORE: every score of the pool comes from the store
    table = tmp_path / "t.csv"
    with table.open("w", newline="") as f:
        w = csvlib.writer(f)
        w.writerow(["arch", "accuracy"])
        for i, arch in enumerate(archs):
            w.writerow([arch, 50 + i])
    monkeypatch.setenv("NASRANK_STORE", str(store))
    out = tmp_path / "c.json"
    assert (
        main(
            [
                "correlate",
                "--space",
                "nb201",
                "--benchmark",
                f"table:{table}",
                "--data",
                "synthetic:3x8x8",
                "--batch-size",
                "4",
                "--proxies",
                "params,flops",
                "--n",
                "all",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    assert json.loads(out.read_text())["scores_from_store"] == 8


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--space", "nb999"], "unknown space"),
        (["--proxies", "synflw"], "synflow"),
        (["--pool", "abc"], "--pool"),
        (["--pool", "0"], "N >= 1"),
        (["--pool", "benchmark:"], "benchmark:"),
        (["--pool", "benchmark:nope"], "unknown benchmark"),
        (["--pool", "file:"], "file:"),
        (["--pool", "file:/no/such/archs.txt"], "cannot read"),
        (["--workers", "0"], "--workers"),
        (["--threads", "0"], "--threads"),
        (["--address", "auto"], "--executor ray"),
        (["--export", "x.txt"], "--export"),
        (["--data", "cifar10:/no/such/dir"], "cifar"),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path, capsys, extra, needle):
    argv = ["score-space", *FAST, "--pool", "2", "--store", str(tmp_path / "s.sqlite")]
    # later options win, so appending overrides the defaults above
    assert main(argv + extra) == 2
    assert needle in _one_line_error(capsys)


def test_file_pool_scores_the_listed_archs_in_canonical_form(tmp_path, capsys):
    from nasrank.spaces import get_space

    space = get_space("nb201")
    official = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
    naslib = "(2, 2, 4, 0, 2, 0)"  # another architecture, NASLib spelling
    listing = tmp_path / "archs.txt"
    # a comment, a blank line and a duplicate (the same architecture in both spellings)
    listing.write_text(
        f"# two architectures\n{official}\n\n{naslib}  # naslib\n{space.canonical(official)}\n"
    )
    store, out = tmp_path / "s.sqlite", tmp_path / "r.json"
    argv = ["score-space", *FAST, "--pool", f"file:{listing}", "--store", str(store)]
    assert main([*argv, "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert (report["archs_total"], report["archs_scored"]) == (2, 2)
    archs = {key[1] for key in _rows(store)}
    assert archs == {space.canonical(official), space.canonical(naslib)}


def test_file_pool_names_the_bad_line(tmp_path, capsys):
    listing = tmp_path / "archs.txt"
    listing.write_text("(2, 2, 4, 0, 2, 0)\nnot-an-arch\n")
    argv = ["score-space", *FAST, "--pool", f"file:{listing}", "--store", str(tmp_path / "s")]
    assert main(argv) == 2
    assert f"{listing}:2:" in _one_line_error(capsys)
    listing.write_text("# nothing\n\n")
    assert main(argv) == 2
    assert "lists no architecture" in _one_line_error(capsys)


def test_non_enumerable_space_needs_a_sampled_pool(tmp_path, capsys):
    argv = [
        "score-space",
        "--space",
        "nb301",
        "--proxies",
        "params",
        "--store",
        str(tmp_path / "s.sqlite"),
    ]
    assert main(argv) == 2
    assert "not enumerable" in _one_line_error(capsys)


@pytest.mark.parametrize("kind", ["folder", "not-a-store", "missing"])
def test_unusable_store_is_one_line_exit_2(tmp_path, capsys, monkeypatch, kind):
    monkeypatch.delenv("NASRANK_STORE", raising=False)
    argv = ["score-space", *FAST, "--pool", "2"]
    if kind == "folder":
        argv += ["--store", str(tmp_path)]
    elif kind == "not-a-store":
        bad = tmp_path / "x.sqlite"
        bad.write_bytes(b"\x00garbage" * 512)
        argv += ["--store", str(bad)]
    assert main(argv) == 2
    assert "store" in _one_line_error(capsys)


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc to find worker processes")
def test_sigkill_loses_only_work_in_flight_and_resumes(tmp_path):
    store = tmp_path / "killed.sqlite"
    argv = [
        sys.executable,
        "-m",
        "nasrank",
        "score-space",
        *FAST,
        "--pool",
        "30",
        "--workers",
        "2",
        "--store",
        str(store),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 240
    done = 0
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
        if store.exists():
            try:
                done = len({k[1] for k in _rows(store)})
            except sqlite3.Error:
                continue
            if done >= 5:
                break
    assert proc.poll() is None, "the run ended before it could be killed"
    workers = _children(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    kept = _rows(store)
    assert len({k[1] for k in kept}) >= done >= 5
    assert len({k[1] for k in kept}) < 30
    # the orphaned workers notice their parent is gone and exit
    deadline = time.monotonic() + 20
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(w) for w in workers)

    out = tmp_path / "r.json"
    resumed = subprocess.run(
        [*argv, "--json", str(out)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert resumed.returncode == 0, resumed.stderr
    report = json.loads(out.read_text())
    assert report["archs_skipped"] == len({k[1] for k in kept})
    assert report["archs_scored"] == 30 - report["archs_skipped"]
    # identical to an uninterrupted run (in-process, one worker)
    clean = tmp_path / "clean.sqlite"
    assert (
        main(["score-space", *FAST, "--pool", "30", "--workers", "1", "--store", str(clean)]) == 0
    )
    assert _rows(store) == _rows(clean)


def test_score_space_exports_a_proxy_table(tmp_path, capsys):
    from nasrank.store import ScoreStore
    from nasrank.tables import load_table

    store, path = tmp_path / "s.sqlite", tmp_path / "t.npz"
    argv = ["score-space", *FAST, "--pool", "3", "--store", str(store), "--export-table", str(path)]
    assert main(argv) == 0
    assert "proxy table: t: 3/15,625 archs" in capsys.readouterr().out
    table = load_table(path)
    assert table.proxies == ("params", "flops") and len(table) == 3 and not table.complete
    meta = table.meta
    assert meta["command"].startswith("nasrank score-space --space nb201 --data synthetic:3x8x8")
    assert "--batch-size 4" in meta["command"] and "--pool 3" in meta["command"]
    assert meta["data"]["spec"] == "synthetic:3x8x8" and meta["data"]["batch_size"] == 4
    ids, values = ScoreStore(store).wide("nb201", ["params", "flops"], meta["data"]["key"], 0)
    got = table.scores(ids)
    assert got == pytest.approx(values.astype("float32"), rel=1e-6)


def test_score_space_chooses_its_workers_for_the_pool(tmp_path, monkeypatch):
    import nasrank.store.executors as executors

    monkeypatch.setattr(executors, "available_cpus", lambda: 2)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    argv = [a for a in FAST if a not in ("--threads", "1")]

    def chosen(pool: str, memory_gib: float) -> tuple[int, int]:
        monkeypatch.setattr(executors, "_available_memory", lambda: int(memory_gib * 2**30))
        out = tmp_path / f"{pool}-{memory_gib}.json"
        store = tmp_path / f"{pool}-{memory_gib}.sqlite"
        assert (
            main(["score-space", *argv, "--pool", pool, "--store", str(store), "--json", str(out)])
            == 0
        )
        run = json.loads(out.read_text())
        return run["workers"], run["threads"]

    assert chosen("3", 64) == (1, 2)  # a short pool: one worker with both cores
    assert chosen("20", 2) == (1, 2)  # memory for one worker only
