"""Two ``nasrank score-space`` processes on one store: shared work, then one SIGKILLed.

Three runs of the same command (``--pool N`` seeded NB-201 architectures, ``--proxies``,
one worker with one thread per process), each on a fresh store:

1. ``alone``: one process scores the pool.
2. ``shared``: two processes started together on one store.
3. ``killed``: two processes started together; one is SIGKILLed once the store holds
   ``--kill-at`` of the pool's architectures, and the other finishes the pool.

Every store carries a trigger that logs each row written to ``scores`` (a replaced row
is logged again), so "computed exactly once" is counted from the store itself: every
``(arch, proxy)`` is written once. The stores' scores are compared with the ``alone``
one (identical), and the processes' ``--json`` summaries give the pairs each computed.
Finally the killed command is run again: it must compute nothing.

    python benchmarks/score_space_sharing.py --pool 200 --json results/score_space_sharing.json
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LOG = (
    "CREATE TABLE IF NOT EXISTS bench_writes (arch TEXT, proxy TEXT)",
    "CREATE TRIGGER IF NOT EXISTS bench_log AFTER INSERT ON scores BEGIN "
    "INSERT INTO bench_writes VALUES (new.arch, new.proxy); END",
)


def command(args: argparse.Namespace, store: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "nasrank", "score-space", "--space", "nb201", "--pool",
            str(args.pool), "--proxies", args.proxies, "--batch-size", str(args.batch_size),
            "--workers", "1", "--threads", "1", "--store", str(store),
            "--json", str(out)]  # fmt: skip


def new_store(path: Path) -> None:
    """An empty score store (created by nasrank) with the write log."""
    from nasrank.store import ScoreStore

    ScoreStore(path).close()
    conn = sqlite3.connect(path)
    for statement in LOG:
        conn.execute(statement)
    conn.commit()
    conn.close()


def start(args: argparse.Namespace, store: Path, out: Path) -> subprocess.Popen:
    env = {**os.environ, "NASRANK_PROGRESS": "0", "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(command(args, store, out), env=env, stdout=subprocess.DEVNULL,
                            start_new_session=True)  # fmt: skip


def stored_archs(store: Path) -> int:
    conn = sqlite3.connect(store, timeout=60)
    try:
        return conn.execute("SELECT COUNT(DISTINCT arch) FROM scores").fetchone()[0]
    finally:
        conn.close()


def content(store: Path) -> dict:
    conn = sqlite3.connect(store, timeout=60)
    rows = conn.execute("SELECT arch, proxy, version, score, error FROM scores").fetchall()
    conn.close()
    return {(a, p, v): (s, e) for a, p, v, s, e in rows}


def write_counts(store: Path) -> dict[int, int]:
    """How many (arch, proxy) pairs were written once, twice, ..."""
    conn = sqlite3.connect(store, timeout=60)
    rows = conn.execute(
        "SELECT n, COUNT(*) FROM (SELECT COUNT(*) AS n FROM bench_writes GROUP BY arch, proxy) "
        "GROUP BY n"
    ).fetchall()
    conn.close()
    return {int(n): int(c) for n, c in rows}


def summary(out: Path) -> dict:
    report = json.loads(out.read_text())
    keys = ("pairs_computed", "pairs_reused", "archs_scored", "archs_complete", "wall_seconds")
    return {k: report[k] for k in keys}


def run_alone(args, root: Path) -> dict:
    store = root / "alone.sqlite"
    new_store(store)
    t0 = time.perf_counter()
    start(args, store, root / "alone.json").wait()
    return {"wall": time.perf_counter() - t0, "summary": summary(root / "alone.json"),
            "writes": write_counts(store), "store": store}  # fmt: skip


def run_pair(args, root: Path, name: str, kill_at: int | None) -> dict:
    store = root / f"{name}.sqlite"
    new_store(store)
    outs = [root / f"{name}{i}.json" for i in (0, 1)]
    t0 = time.perf_counter()
    procs = [start(args, store, out) for out in outs]
    killed_at = None
    if kill_at is not None:
        while stored_archs(store) < kill_at:  # a benchmark may poll; tests may not
            time.sleep(0.2)
        os.killpg(procs[1].pid, signal.SIGKILL)
        killed_at = stored_archs(store)
    codes = [p.wait() for p in procs]
    wall = time.perf_counter() - t0
    result = {"wall": wall, "exit_codes": codes, "writes": write_counts(store), "store": store,
              "summaries": [summary(o) if o.exists() else None for o in outs]}  # fmt: skip
    if kill_at is not None:
        result["archs_stored_at_kill"] = killed_at
        rerun = root / f"{name}_rerun.json"
        start(args, store, rerun).wait()
        result["rerun"] = summary(rerun)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pool", type=int, default=200)
    parser.add_argument("--proxies", default="params,flops,synflow,nwot,grad_norm,snip")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--kill-at", type=float, default=0.4, help="fraction of the pool")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    pairs = args.pool * len(args.proxies.split(","))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        alone = run_alone(args, root)
        shared = run_pair(args, root, "shared", None)
        killed = run_pair(args, root, "killed", int(args.kill_at * args.pool))
        reference = content(alone["store"])
        for run in (alone, shared, killed):
            run["identical_to_alone"] = content(run.pop("store")) == reference
    result = {"pool": args.pool, "proxies": args.proxies, "pairs": pairs, "alone": alone,
              "shared": shared, "killed": killed,
              "shared_vs_alone_wall": shared["wall"] / alone["wall"]}  # fmt: skip
    print(json.dumps(result, indent=2, default=str))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
