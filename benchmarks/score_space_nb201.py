"""``nasrank score-space`` on NAS-Bench-201 / CIFAR-10: the full-space job, a kill test and
a throughput comparison.

Modes:

* ``full`` -- the shipped-table command: every one of the 15,625 architectures, every
  proxy, one batch of 64 CIFAR-10 training images (seed 0), into ``--store``. Resumable:
  run the same command again after a crash. Reports wall time and peak memory.
  With ``--largest N`` the pool is the N architectures with the most parameters (from the
  shipped table's ``params`` column): the memory worst case, without the whole space's hours.
* ``kill`` -- on a ``--pool N`` sample: an uninterrupted run into one store; a second run
  into another store killed with SIGKILL once ``--kill-after`` architectures are stored,
  then restarted to completion; the two stores must hold identical scores.
* ``throughput`` -- the same pool scored by 1 worker and by 2 workers (``--threads`` each),
  fresh stores: architectures per second, and identical scores. With ``--same-cores``
  the two runs use the same cores: 1 worker x 2 threads against 2 workers x 1 thread.
* ``ray`` -- the same pool scored by the local process pool and by the Ray executor (a local
  Ray instance, ``--workers`` actors), fresh stores: identical scores, and the wall times.

Every run is a ``nasrank score-space`` subprocess; wall time is measured around it, peak
memory two ways: ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` (largest single process) and the
peak of the summed RSS of the process tree sampled from ``/proc`` every 0.5 s (Linux).

Usage::

    python benchmarks/score_space_nb201.py full --store nb201_cifar10.sqlite \\
        --workers 8 --threads 2 --export nb201_cifar10_scores.parquet
    python benchmarks/score_space_nb201.py full --largest 200 --workers 2 \\
        --proxies params,flops,l2_norm,synflow,nwot,meco,swap,jacov --store /tmp/largest.sqlite
    python benchmarks/score_space_nb201.py kill --pool 200 --proxies params,flops,synflow,nwot
    python benchmarks/score_space_nb201.py throughput --pool 60 --proxies params,flops,synflow,nwot
    python benchmarks/score_space_nb201.py ray --pool 50 --proxies params,flops,synflow,nwot
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "cifar10-mini"
RESULTS = ROOT / "benchmarks" / "results"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=("full", "kill", "throughput", "ray"))
    p.add_argument(
        "--data",
        default=f"cifar10:{DEFAULT_DATA}",
        help="data spec (default cifar10:../shared/data/cifar10-mini)",
    )
    p.add_argument("--proxies", default=None, help="default: all (full), params,flops,synflow,nwot")
    p.add_argument(
        "--pool", default=None, help="default: all (full), 200 (kill), 60 (throughput), 50 (ray)"
    )
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--workers", type=int, default=None, help="full/kill/ray: workers (default 1, 2, 2)"
    )
    p.add_argument("--threads", type=int, default=1, help="torch threads per worker (default 1)")
    p.add_argument(
        "--same-cores", action="store_true", help="throughput: 1 x 2 threads vs 2 x 1 thread"
    )
    p.add_argument(
        "--store", type=Path, help="full: the store (default results/nb201_cifar10.sqlite)"
    )
    p.add_argument("--export", type=Path, help="full: also export the scores (.csv/.parquet)")
    p.add_argument(
        "--largest", type=int, default=None, help="full: pool = the N archs with most parameters"
    )
    p.add_argument("--kill-after", type=int, default=None, help="kill: archs stored before SIGKILL")
    p.add_argument("--workdir", type=Path, default=None, help="kill/throughput: scratch folder")
    p.add_argument("--json", type=Path, default=None, help="write the measurements as JSON")
    return p.parse_args(argv)


# ---- measuring a subprocess --------------------------------------------------------------
def _tree_rss(root: int) -> int:
    """Summed RSS in bytes of ``root`` and its descendants (Linux /proc; 0 elsewhere)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else ():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            statm = (entry / "statm").read_text().split()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat[1])
        rss[int(entry.name)] = int(statm[1]) * page
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in tree:
                tree.add(child)
                frontier.append(child)
    return sum(rss.get(pid, 0) for pid in tree)


def _children_cpu() -> float:
    """User + system CPU seconds of the waited-for children (workers included)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Run:
    """A ``nasrank score-space`` subprocess with wall time and memory sampling."""

    def __init__(self, argv: list[str]) -> None:
        env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
        self.argv = argv
        self._cpu0 = _children_cpu()
        self.cpu = 0.0
        self.start = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "nasrank", "score-space", *argv],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.peak_tree_rss = 0
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()
        self.output = ""
        self.wall = 0.0

    def _sample(self) -> None:
        while self.proc.poll() is None:
            self.peak_tree_rss = max(self.peak_tree_rss, _tree_rss(self.proc.pid))
            time.sleep(0.5)

    def wait(self) -> int:
        self.output, _ = self.proc.communicate()
        self.wall = time.perf_counter() - self.start
        self.cpu = _children_cpu() - self._cpu0
        self._sampler.join()
        return self.proc.returncode

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.wait()


def _rows(path: Path) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        return {
            row[:6]: row[6:]
            for row in conn.execute(
                "SELECT space, arch, proxy, data, seed, version, score, error FROM scores"
            )
        }


def _stored_archs(path: Path) -> int:
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute("SELECT COUNT(DISTINCT arch) FROM scores").fetchone()[0])
    except sqlite3.Error:
        return 0


def _remove_store(path: Path) -> None:
    """Delete a SQLite store with its WAL and shared-memory files."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _common(args: argparse.Namespace, pool: str, proxies: str) -> list[str]:
    return [
        "--space", "nb201", "--data", args.data, "--proxies", proxies, "--pool", pool,
        "--batch-size", str(args.batch_size), "--seed", str(args.seed),
        "--threads", str(args.threads),
    ]  # fmt: skip


def _checked(run: Run, what: str) -> Run:
    code = run.wait()
    if code != 0:
        sys.exit(f"{what} failed with exit code {code}:\n{run.output[-3000:]}")
    return run


def _peak_rss_mib() -> float:
    """Largest resident set of this process or any waited-for child, MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024


def _largest_archs(n: int, path: Path) -> Path:
    """Write the ``n`` NB-201 architectures with the most parameters to ``path``, one per line."""
    import numpy as np

    from nasrank.tables import load_table

    table = load_table("nb201-cifar10")
    params = table.values[:, list(table.proxies).index("params")]  # rows in table.archs order
    order = np.argsort(-params, kind="stable")[:n]
    path.write_text("".join(f"{table.archs[i]}\n" for i in order))
    return path


# ---- modes -------------------------------------------------------------------------------
def full(args: argparse.Namespace) -> dict[str, Any]:
    store = args.store or RESULTS / "nb201_cifar10.sqlite"
    report = store.with_suffix(".run.json")
    pool = args.pool or "all"
    if args.largest:
        pool = f"file:{_largest_archs(args.largest, store.with_suffix('.largest.txt'))}"
    argv = _common(args, pool, args.proxies or "all")
    argv += ["--workers", str(args.workers or 1), "--store", str(store), "--json", str(report)]
    if args.export:
        argv += ["--export", str(args.export)]
    print("nasrank score-space " + " ".join(argv), flush=True)
    run = _checked(Run(argv), "score-space")
    print(run.output)
    return {
        "command": "nasrank score-space " + " ".join(argv),
        "wall_seconds": run.wall,
        "cpu_seconds": run.cpu,
        "peak_rss_mib_largest_process": _peak_rss_mib(),
        "peak_rss_mib_process_tree": run.peak_tree_rss / 2**20,
        "report": json.loads(report.read_text()),
    }


def kill(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    pool = args.pool or "200"
    proxies = args.proxies or "params,flops,synflow,nwot"
    workers = str(args.workers or 2)
    clean, killed = work / "clean.sqlite", work / "killed.sqlite"
    for path in (clean, killed):
        _remove_store(path)
    base = _common(args, pool, proxies)
    # the reference run uses one worker, the killed one `workers`: scores must not depend on it
    ref = _checked(Run([*base, "--workers", "1", "--store", str(clean)]), "reference run")
    n_pool = len({k[1] for k in _rows(clean)})
    kill_after = args.kill_after or max(1, n_pool // 3)

    victim = Run([*base, "--workers", workers, "--store", str(killed)])
    while victim.proc.poll() is None and _stored_archs(killed) < kill_after:
        time.sleep(0.05)
    if victim.proc.poll() is not None:
        sys.exit("the run finished before it could be killed; raise --pool or lower --kill-after")
    victim.kill()
    at_kill = _stored_archs(killed)
    report_path = work / "resumed.json"
    resumed = _checked(
        Run([*base, "--workers", workers, "--store", str(killed), "--json", str(report_path)]),
        "resumed run",
    )
    report = json.loads(report_path.read_text())
    a, b = _rows(clean), _rows(killed)
    differing = sum(a.get(k) != v for k, v in b.items()) + len(a.keys() - b.keys())
    return {
        "pool": n_pool,
        "proxies": proxies,
        "workers_killed_run": int(workers),
        "killed_after_seconds": victim.wall,
        "archs_stored_at_kill": at_kill,
        "archs_skipped_on_restart": report["archs_skipped"],
        "archs_scored_on_restart": report["archs_scored"],
        "rows_reference": len(a),
        "rows_resumed": len(b),
        "rows_differing": differing,
        "identical": differing == 0 and len(a) == len(b),
        "reference_wall_seconds": ref.wall,
        "resumed_wall_seconds": resumed.wall,
    }


def _measured_run(base: list[str], extra: list[str], store: Path, what: str) -> dict[str, Any]:
    """One ``score-space`` run into a fresh ``store``: its timings and memory."""
    _remove_store(store)
    report_path = store.with_suffix(".json")
    run = _checked(Run([*base, *extra, "--store", str(store), "--json", str(report_path)]), what)
    report = json.loads(report_path.read_text())
    return {
        "wall_seconds": run.wall,
        "cpu_seconds": run.cpu,
        "cpu_seconds_per_arch": run.cpu / max(1, report["archs_scored"]),
        "scoring_seconds": report["wall_seconds"],
        "archs_per_second": report["archs_scored"] / run.wall,
        "median_engine_seconds_per_arch": report["median_seconds_per_arch"],
        "median_worker_seconds_per_arch": report["median_wall_seconds"],
        "peak_rss_mib_process_tree": run.peak_tree_rss / 2**20,
    }


def throughput(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    pool = args.pool or "60"
    proxies = args.proxies or "params,flops,synflow,nwot"
    base = _common(args, pool, proxies)
    out: dict[str, Any] = {"pool": pool, "proxies": proxies, "threads": args.threads}
    stores = {w: work / f"w{w}.sqlite" for w in (1, 2)}
    for workers, store in stores.items():
        extra = ["--workers", str(workers)]
        if args.same_cores:  # the later --threads wins
            extra += ["--threads", str(3 - workers)]
            out["threads"] = "2 x 1 worker / 1 x 2 workers"
        out[f"workers_{workers}"] = _measured_run(base, extra, store, f"{workers}-worker run")
    out["speedup"] = out["workers_2"]["archs_per_second"] / out["workers_1"]["archs_per_second"]
    out["identical"] = _rows(stores[1]) == _rows(stores[2])
    return out


def ray_vs_local(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    pool = args.pool or "50"
    proxies = args.proxies or "params,flops,synflow,nwot"
    workers = str(args.workers or 2)
    base = _common(args, pool, proxies)
    out: dict[str, Any] = {"pool": pool, "proxies": proxies, "workers": int(workers)}
    stores = {name: work / f"{name}.sqlite" for name in ("local", "ray")}
    for name, store in stores.items():
        extra = ["--workers", workers, "--executor", name]
        out[name] = _measured_run(base, extra, store, f"{name} run")
    a, b = _rows(stores["local"]), _rows(stores["ray"])
    out["rows"] = len(a)
    out["rows_differing"] = sum(b.get(k) != v for k, v in a.items()) + len(b.keys() - a.keys())
    out["identical"] = a == b
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.data.startswith("cifar10:") and not Path(args.data.partition(":")[2]).exists():
        sys.exit(f"no CIFAR-10 data at {args.data}; pass --data cifar10:DIR or --data synthetic")
    if args.mode == "full":
        result = full(args)
    else:
        with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
            mode = {"kill": kill, "throughput": throughput, "ray": ray_vs_local}[args.mode]
            result = mode(args, Path(tmp))
    result["mode"] = args.mode
    result["cpus"] = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    result["load_average"] = os.getloadavg()
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
