"""``--threads 1`` against the default thread count of a scoring command, side by side.

Runs ``nasrank correlate --space nb201 --benchmark nb201-analog --proxies all --n N``
(no score store, so every architecture is computed) alternately with ``--threads 1``,
without ``--threads`` (and without ``$OMP_NUM_THREADS``: torch's default, capped at the
cores; OpenMP threads passive, the CLI's default) and, with ``--active``, the default
threads with ``OMP_WAIT_POLICY=ACTIVE`` (spinning), ``--rounds`` times each, on an
idle machine and then with ``--load`` busy processes (one pure-Python spinning loop
each) competing for the cores. Reports the wall seconds of each command and the sum over
proxies of their median seconds per architecture, and checks that the thread counts rank
the architectures alike.

    python benchmarks/cli_threads.py --n 20 --rounds 2 --json results/cli_threads.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SPIN = "while True: pass"


def run_correlate(n: int, threads: int | None, out: Path, policy: str | None = None) -> dict:
    cmd = [sys.executable, "-m", "nasrank", "correlate", "--space", "nb201", "--benchmark",
           "nb201-analog", "--proxies", "all", "--n", str(n), "--json", str(out)]  # fmt: skip
    if threads is not None:
        cmd += ["--threads", str(threads)]
    drop = ("OMP_NUM_THREADS", "NASRANK_STORE", "OMP_WAIT_POLICY")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    if policy is not None:
        env["OMP_WAIT_POLICY"] = policy
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    report = json.loads(out.read_text())
    proxies = report["proxies"]
    return {
        "wall_s": wall,
        "threads": report["threads"],
        "sum_median_proxy_s": sum(p.get("median_seconds") or 0.0 for p in proxies.values()),
        "spearman": {k: p.get("spearman") for k, p in proxies.items()},
    }


def measure(n: int, rounds: int, tmp: Path, active: bool) -> dict:
    configs = [("threads_1", 1, None), ("default", None, None)]
    if active:
        configs.append(("default_active", None, "ACTIVE"))
    runs: dict[str, list[dict]] = {label: [] for label, _, _ in configs}
    for r in range(rounds):
        for label, threads, policy in configs:
            runs[label].append(run_correlate(n, threads, tmp / f"{label}_{r}.json", policy))
            print(f"  round {r + 1} {label}: {runs[label][-1]['wall_s']:.1f} s "
                  f"({runs[label][-1]['threads']} threads)", flush=True)  # fmt: skip
    summary = {
        label: {
            "threads": v[0]["threads"],
            "median_wall_s": statistics.median(x["wall_s"] for x in v),
            "median_sum_proxy_s_per_arch": statistics.median(x["sum_median_proxy_s"] for x in v),
        }
        for label, v in runs.items()
    }
    for label in runs:
        if label != "threads_1":
            summary[f"wall_ratio_{label}_over_1"] = (
                summary[label]["median_wall_s"] / summary["threads_1"]["median_wall_s"]
            )
    a, b = runs["threads_1"][0]["spearman"], runs["default"][0]["spearman"]
    summary["max_spearman_difference"] = max(
        abs(a[k] - b[k]) for k in a if a[k] is not None and b.get(k) is not None
    )
    return summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--load", type=int, default=1, help="busy processes in the loaded run")
    ap.add_argument("--active", action="store_true", help="also OMP_WAIT_POLICY=ACTIVE")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    result = {"n": args.n, "rounds": args.rounds, "cores": os.cpu_count(), "load": args.load}
    with tempfile.TemporaryDirectory() as tmp:
        print("idle machine", flush=True)
        result["idle"] = measure(args.n, args.rounds, Path(tmp), args.active)
        print(f"{args.load} busy process(es)", flush=True)
        spinners = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(args.load)]
        try:
            result["loaded"] = measure(args.n, args.rounds, Path(tmp), args.active)
        finally:
            for p in spinners:
                p.kill()
                p.wait()
    print(json.dumps(result, indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
