"""Predictors on the TransNAS-Bench-101 tasks of NAS-Bench-Suite-Zero: in-task, and
transfer from other spaces and other tasks through the universal ONNX encoding.

Through the CLI (``nasrank predict-eval``, 20 seeds, default predictor gbdt), for each of
the 4 shared tasks of the micro and the macro file:

* ``in-task``: ``--features onehot,zc --train-sizes 100,400`` (the anchor is Suite-Zero's
  XGBoost with proxy features at 400 archs: Kendall 0.62-0.75 micro, 0.49-0.75 macro);
* ``from NB-101 + NB-201``: ``--train-on nb101:... --train-on nb201:...,task=cifar10
  --features onnx,zc --target-sizes 0,20``: zero-shot and 20-shot Kendall, next to
  training on the same 20 target samples alone (``target-only``);
* ``+ other tasks``: the same, also trained on the other 3 tasks of the same TNB space.

ONNX graphs are cell graphs where every space has a cell (NB-101, NB-201, TNB micro) and
whole-network graphs for TNB macro (then for its sources too). ``zc`` are the proxy
columns stored for each file (the intersection is used across files).

Usage: OMP_NUM_THREADS=1 python benchmarks/predictors_tnb101.py [--data DIR]
       [--cache-dir DIR] [--json RESULTS]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared/data/nas-bench-suite-zero"
FILES = {
    "micro": "zc_transbench101_micro_4tasks.json",
    "macro": "zc_transbench101_macro_4tasks.json",
}
TASKS = ("class_scene", "class_object", "jigsaw", "segmentsemantic")


def _predict_eval(args: list[str], out: Path) -> dict:
    argv = [sys.executable, "-m", "nasrank", "predict-eval", *args, "--seeds", "20",
            "--threads", "1", "--json", str(out)]  # fmt: skip
    env = {**os.environ, "NASRANK_PROGRESS": "0"}
    subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL)
    results = json.loads(out.read_text())["results"]
    return {f"{r['mode']}@{r['train_size']}": round(r["kendall"]["mean"], 3) for r in results}


def run_task(data: Path, family: str, task: str, cache: Path, scratch: Path) -> dict:
    target = ["--space", f"tnb101-{family}", "--benchmark",
              f"suite-zero:{data / FILES[family]}", "--task", task]  # fmt: skip
    nb101, nb201 = data / "zc_nasbench101.json", data / "zc_nasbench201.json"
    sources = ["--train-on", f"nb101:suite-zero:{nb101}",
               "--train-on", f"nb201:suite-zero:{nb201},task=cifar10"]  # fmt: skip
    others = [
        x
        for other in TASKS
        if other != task
        for x in ("--train-on", f"tnb101-{family}:suite-zero:{data / FILES[family]},task={other}")
    ]
    level = ["--onnx-level", "network" if family == "macro" else "cell"]
    transfer = ["--features", "onnx,zc", "--target-sizes", "0,20", "--cache-dir", str(cache)]
    t0 = time.perf_counter()
    row = {
        "in_task": _predict_eval(
            [*target, "--features", "onehot,zc", "--train-sizes", "100,400"], scratch
        ),
        "from_nb101_nb201": _predict_eval([*target, *sources, *transfer, *level], scratch),
        "plus_other_tasks": _predict_eval([*target, *sources, *others, *transfer, *level], scratch),
    }
    row["seconds"] = time.perf_counter() - t0
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/nasrank_tnb_cache"))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    scratch = Path("/tmp/predictors_tnb101_run.json")
    report = {}
    for family in FILES:
        for task in TASKS:
            row = run_task(args.data, family, task, args.cache_dir, scratch)
            report[f"tnb101-{family}:{task}"] = row
            print(f"tnb101-{family}:{task} {json.dumps(row)}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
