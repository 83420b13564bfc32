"""Run the documented ``nasrank search`` commands and compare their JSON across versions.

A refactor of the search workflow must not change a single result. ``run`` executes a
fixed set of ``nasrank search`` commands (every method, 5 seeds, on ``nb201-analog`` with
the shipped table, on ``nb201-analog`` with engine-computed proxies, and on the
NAS-Bench-Suite-Zero NB-201 and NB-101 files) and writes each command's ``--json`` into
``--out``; ``compare`` reports, per command and run, whether two such directories agree
(every field except wall-clock times).

    python benchmarks/search_identity.py run --out /tmp/before     # on the old version
    python benchmarks/search_identity.py run --out /tmp/after      # on the new one
    python benchmarks/search_identity.py compare /tmp/before /tmp/after
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NASRANK_SHARED_DATA", REPO.parent / "shared" / "data"))
SUITE_ZERO = SHARED / "nas-bench-suite-zero"
METHODS = "robot,bo,re,ls,random,zc-topk"
COMMON = ["--method", METHODS, "--budget", "30", "--seeds", "0..4"]

#: name -> arguments of ``nasrank search`` (the README's and docs' benchmark commands).
COMMANDS: dict[str, list[str]] = {
    "nb201_analog_table": ["--space", "nb201", "--benchmark", "nb201-analog", *COMMON],
    "nb201_analog_table_8proxies": [
        "--space", "nb201", "--benchmark", "nb201-analog", *COMMON,
        "--proxies", "params,flops,l2_norm,synflow,nwot,meco,swap,jacov",
    ],
    "nb201_analog_engine": [
        "--space", "nb201", "--benchmark", "nb201-analog", *COMMON,
        "--proxy-source", "engine", "--pool", "64", "--no-cache",
    ],
    "suite_zero_nb201_cifar100": [
        "--space", "nb201", "--benchmark", f"suite-zero:{SUITE_ZERO / 'zc_nasbench201.json'}",
        "--task", "cifar100", *COMMON,
    ],
    "suite_zero_nb201_5proxies": [
        "--space", "nb201", "--benchmark", f"suite-zero:{SUITE_ZERO / 'zc_nasbench201.json'}",
        "--task", "ImageNet16-120", *COMMON, "--proxies", "synflow,nwot,jacov,params,flops",
    ],
    "suite_zero_nb101": [
        "--space", "nb101", "--benchmark", f"suite-zero:{SUITE_ZERO / 'zc_nasbench101.json'}",
        *COMMON,
    ],
}

#: Fields that measure time, not results (and the provenance: the command, its date).
VOLATILE = {"seconds", "wall_seconds", "time", "elapsed", "provenance"}


def run(out: Path, names: list[str]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        path = out / f"{name}.json"
        cmd = [sys.executable, "-m", "nasrank", "search", *COMMANDS[name], "--json", str(path)]
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        (out / f"{name}.log").write_text(proc.stdout + proc.stderr)
        print(f"{name}: exit {proc.returncode}, {time.perf_counter() - start:.1f} s", flush=True)


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def compare(before: Path, after: Path) -> int:
    differing = 0
    for name in COMMANDS:
        a, b = before / f"{name}.json", after / f"{name}.json"
        if not a.exists() or not b.exists():
            print(f"{name}: missing ({a.exists()=}, {b.exists()=})")
            differing += 1
            continue
        ja, jb = _strip(json.loads(a.read_text())), _strip(json.loads(b.read_text()))
        runs_a, runs_b = ja.get("runs", []), jb.get("runs", [])
        same_runs = sum(x == y for x, y in zip(runs_a, runs_b))
        rest_same = {k: v for k, v in ja.items() if k != "runs"} == {
            k: v for k, v in jb.items() if k != "runs"
        }
        ok = same_runs == len(runs_a) == len(runs_b) and rest_same
        differing += not ok
        print(
            f"{name}: {same_runs}/{len(runs_a)} runs identical, config+summary "
            f"{'identical' if rest_same else 'DIFFER'} -> {'OK' if ok else 'DIFFERENT'}"
        )
    return 1 if differing else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--only", default=",".join(COMMANDS), help="comma list of command names")
    c = sub.add_parser("compare")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    args = ap.parse_args()
    if args.cmd == "run":
        run(args.out, [n.strip() for n in args.only.split(",") if n.strip()])
        return 0
    return compare(args.before, args.after)


if __name__ == "__main__":
    sys.exit(main())
