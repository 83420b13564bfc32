"""RoBoT and predictor BO on the TransNAS-Bench-101 tasks of NAS-Bench-Suite-Zero.

For each of the 4 shared tasks of the micro and the macro file, runs (through the CLI)

    nasrank search --space tnb101-{micro,macro} --benchmark suite-zero:FILE --task TASK
        --method robot,bo --budget 100 --seeds 0..19 --json OUT

(the default proxies: every proxy column Suite-Zero stores for the task) and reports per
method: the rank of each run's best architecture within the task's pool (1 = the pool
optimum; ties share the better rank), its median and mean over the seeds, how many runs
found the optimum and the median queries to it among those. RoBoT's paper (Table 3)
reports the rank in the whole TNB space with 100 queries; these pools are Suite-Zero's
662-725 architectures per task, so the numbers are comparable in kind, not in value.

Resumable: a task whose JSON in ``--out`` already holds every seed is not run again
(its ``seconds`` then reads ~0).

Usage: OMP_NUM_THREADS=1 python benchmarks/search_tnb101.py [--data DIR] [--seeds 0..19]
       [--out DIR] [--json RESULTS]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from nasrank.benchmarks import load_benchmark

DATA = Path(__file__).resolve().parents[2] / "shared/data/nas-bench-suite-zero"
FILES = {
    "micro": "zc_transbench101_micro_4tasks.json",
    "macro": "zc_transbench101_macro_4tasks.json",
}
TASKS = ("class_scene", "class_object", "jigsaw", "segmentsemantic")
#: RoBoT (Table 3), rank of the architecture found with 100 queries, whole TNB spaces.
PUBLISHED = {
    "micro": {"class_scene": 2, "class_object": 1, "jigsaw": 17, "segmentsemantic": 4},
    "macro": {"class_scene": 1, "class_object": 6, "jigsaw": 3, "segmentsemantic": 2},
}


def _rank(values: list[float], best: float) -> int:
    return 1 + sum(v > best for v in values)


def _done(target: Path, seeds: str) -> bool:
    """Whether ``target`` holds a finished run of this task with these seeds."""
    if not target.is_file():
        return False
    try:
        runs = json.loads(target.read_text())["runs"]
    except (ValueError, KeyError):
        return False
    first, _, last = seeds.partition("..")
    wanted = set(range(int(first), int(last or first) + 1))
    return all({r["seed"] for r in runs if r["method"] == m} == wanted for m in ("robot", "bo"))


def run_task(family: str, path: Path, task: str, seeds: str, out: Path) -> dict:
    target = out / f"{family}_{task}.json"
    argv = [sys.executable, "-m", "nasrank", "search", "--space", f"tnb101-{family}",
            "--benchmark", f"suite-zero:{path}", "--task", task, "--method", "robot,bo",
            "--budget", "100", "--seeds", seeds, "--json", str(target)]  # fmt: skip
    t0 = time.perf_counter()
    if not _done(target, seeds):  # resumable: a finished task's JSON is reused
        env = {**os.environ, "NASRANK_PROGRESS": "0"}
        subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - t0
    bench = load_benchmark(f"suite-zero:{path}", task=task)
    values = bench.oriented("val_accuracy").tolist()
    result = json.loads(target.read_text())
    row: dict = {"pool": len(values), "seconds": seconds}
    for method in ("robot", "bo"):
        runs = [r for r in result["runs"] if r["method"] == method]
        ranks = [_rank(values, r["best"]["value"]) for r in runs]
        found = [r["queries_to_optimum"] for r in runs if r["queries_to_optimum"] is not None]
        row[method] = {
            "runs": len(runs),
            "ranks": ranks,
            "median_rank": statistics.median(ranks),
            "mean_rank": statistics.fmean(ranks),
            "found": len(found),
            "median_queries_to_optimum_when_found": statistics.median(found) if found else None,
            "mean_best": result["summary"][method]["mean_best"],
        }
    row["published_robot_rank"] = PUBLISHED[family][task]
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--seeds", default="0..19")
    parser.add_argument("--out", type=Path, default=Path("/tmp/search_tnb101"))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    report = {}
    for family, name in FILES.items():
        for task in TASKS:
            row = run_task(family, args.data / name, task, args.seeds, args.out)
            report[f"tnb101-{family}:{task}"] = row
            r, b = row["robot"], row["bo"]
            print(
                f"{family:5s} {task:16s} pool {row['pool']}: robot median rank {r['median_rank']}"
                f" (mean {r['mean_rank']:.1f}, optimum {r['found']}/{r['runs']}), bo median rank"
                f" {b['median_rank']} (mean {b['mean_rank']:.1f}, optimum {b['found']}/"
                f"{b['runs']}); published robot {row['published_robot_rank']}; "
                f"{row['seconds']:.0f} s",
                flush=True,
            )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
