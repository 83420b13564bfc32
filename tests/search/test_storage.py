from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from nasrank.search import (
    BenchmarkObjective,
    LocalSearch,
    RegularizedEvolution,
    ResumeMismatch,
    RoBoT,
    benchmark_scores,
    make_pool,
    open_storage,
    run_key,
)
from nasrank.search.storage import JsonlBackend, OptunaBackend
from nasrank.testing.toy import SPACE, toy_benchmark

REPO = Path(__file__).resolve().parents[2]


class Crash(Exception):
    pass


class CrashingObjective:
    """Benchmark lookup that raises after ``crash_after`` calls (a simulated crash)."""

    maximize = True

    def __init__(self, bench, crash_after=None):
        self.inner = BenchmarkObjective(bench)
        self.crash_after = crash_after
        self.calls: list[str] = []

    def __call__(self, arch):
        if self.crash_after is not None and len(self.calls) >= self.crash_after:
            raise Crash
        self.calls.append(arch)
        return self.inner(arch)


@pytest.fixture(scope="module")
def bench():
    return toy_benchmark()


@pytest.fixture(scope="module")
def pool(bench):
    return benchmark_scores(make_pool(SPACE, "benchmark", benchmark=bench), bench)


def _make(name, pool, seed=7):
    if name == "re":
        return RegularizedEvolution(SPACE, pool=pool, seed=seed, population_size=6, sample_size=3)
    if name == "ls":
        return LocalSearch(SPACE, pool=pool, seed=seed, n_init=3)
    return RoBoT(SPACE, pool=pool, seed=seed, bo_queries=2, patience=2, n_startup_trials=1)


@pytest.mark.parametrize(
    "name, backend", [("re", "sqlite"), ("re", "jsonl"), ("ls", "sqlite"), ("robot", "jsonl")]
)
def test_resume_after_crash_gives_identical_result(name, backend, bench, pool, tmp_path):
    budget = 5 if name == "robot" else 20
    url = str(tmp_path / ("runs.db" if backend == "sqlite" else "runs.jsonl"))
    key = run_key(method=name, seed=7, budget=budget)
    uninterrupted = _make(name, pool).run(CrashingObjective(bench), budget)

    first = CrashingObjective(bench, crash_after=budget // 2)
    with pytest.raises(Crash):
        _make(name, pool).run(first, budget, storage=open_storage(url).run(key))
    stored = open_storage(url).run(key).load()
    assert [e.arch for e in stored] == first.calls  # nothing completed was lost

    second = CrashingObjective(bench)
    resumed = _make(name, pool).run(second, budget, storage=open_storage(url).run(key))
    assert not set(second.calls) & set(first.calls)  # nothing repeated
    assert len(first.calls) + len(second.calls) == budget
    assert resumed.restored == len(first.calls)
    assert resumed.evaluations == uninterrupted.evaluations
    if name == "robot":
        return
    # a finished run restarted again queries nothing
    third = CrashingObjective(bench)
    again = _make(name, pool).run(third, budget, storage=open_storage(url).run(key))
    assert third.calls == [] and again.evaluations == uninterrupted.evaluations


def test_storage_urls_pick_the_backend(tmp_path):
    assert isinstance(open_storage(tmp_path / "a.jsonl"), JsonlBackend)
    assert isinstance(open_storage(f"jsonl:{tmp_path / 'b.log'}"), JsonlBackend)
    sqlite = open_storage(tmp_path / "runs.db")
    assert isinstance(sqlite, OptunaBackend) and sqlite.url.startswith("sqlite:///")
    assert (tmp_path / "runs.db").exists()
    assert isinstance(open_storage(f"sqlite:///{tmp_path / 'c.db'}"), OptunaBackend)


def test_jsonl_torn_last_line_is_dropped(bench, pool, tmp_path):
    path = tmp_path / "runs.jsonl"
    storage = open_storage(path).run("k")
    RegularizedEvolution(SPACE, pool=pool, seed=1).run(
        BenchmarkObjective(bench), 5, storage=storage
    )
    with path.open("a") as f:
        f.write('{"kind": "evaluation", "run": "k", "step": 5, "ar')  # killed mid-write
    assert len(open_storage(path).run("k").load()) == 5
    assert path.read_text().endswith("\n")


def test_resume_with_another_configuration_is_refused(bench, pool, tmp_path):
    url = tmp_path / "runs.db"
    _make("re", pool, seed=1).run(BenchmarkObjective(bench), 8, storage=open_storage(url).run("k"))
    with pytest.raises(ResumeMismatch, match="another configuration"):
        _make("re", pool, seed=2).run(
            BenchmarkObjective(bench), 8, storage=open_storage(url).run("k")
        )


SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    sys.path.insert(0, {repo!r})
    from nasrank.search import RegularizedEvolution, open_storage
    from nasrank.testing.toy import SPACE, ToyObjective

    inner = ToyObjective()
    pause_at = int(sys.argv[1]) if len(sys.argv) > 1 else None

    def objective(arch):
        if pause_at is not None and len(inner.calls) == pause_at:
            # the first pause_at evaluations are stored: tell the parent, wait to be killed
            print("READY", flush=True)
            sys.stdin.read()
            os._exit(3)  # the parent closed our stdin without killing us
        with open({calls!r}, "a") as f:
            f.write(arch + "\\n")
        return inner(arch)

    storage = open_storage({url!r}).run("sigkill")
    result = RegularizedEvolution(SPACE, seed=3, population_size=5, sample_size=2).run(
        objective, {budget}, storage=storage
    )
    print("RESULT " + json.dumps([e.arch for e in result.evaluations]))
    """
)


def _run_until_ready_then_sigkill(command: list[str], env: dict[str, str]) -> None:
    """Start ``command``, wait for its ``READY`` line, SIGKILL it (a watchdog kills it
    after 120 s should it never get there)."""
    proc = subprocess.Popen(
        command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    watchdog = threading.Timer(120, proc.kill)
    watchdog.start()
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.strip() == "READY":
                break
        else:
            raise AssertionError(f"the child ended before READY (exit code {proc.wait()})")
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait() == -signal.SIGKILL
    finally:
        watchdog.cancel()
        proc.kill()
        proc.wait()


@pytest.mark.parametrize("suffix", ["jsonl", pytest.param("db", marks=pytest.mark.slow)])
def test_sigkill_and_rerun_same_command(tmp_path, suffix):
    """A process killed with SIGKILL mid-run and restarted loses and repeats nothing."""
    url, calls = str(tmp_path / f"runs.{suffix}"), str(tmp_path / "calls.txt")
    budget, killed_at = 30, 10
    script = tmp_path / "run.py"
    script.write_text(SCRIPT.format(repo=str(REPO), calls=calls, url=url, budget=budget))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    _run_until_ready_then_sigkill([sys.executable, str(script), str(killed_at)], env)
    before = [e.arch for e in open_storage(url).run("sigkill").load()]
    assert before == Path(calls).read_text().split()
    assert len(before) == killed_at
    Path(calls).write_text("")
    out = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, check=True
    ).stdout
    again = Path(calls).read_text().split()
    assert not set(again) & set(before)
    assert len(before) + len(again) == budget
    (line,) = [ln for ln in out.splitlines() if ln.startswith("RESULT ")]
    final = json.loads(line.removeprefix("RESULT "))
    from nasrank.testing.toy import ToyObjective

    reference = RegularizedEvolution(SPACE, seed=3, population_size=5, sample_size=2).run(
        ToyObjective(), budget
    )
    assert final == [e.arch for e in reference.evaluations]
