"""Check TransNAS-Bench-101 parameter counts (and FLOPs) against NAS-Bench-Suite-Zero.

For every architecture and task of ``zc_transbench101_micro_4tasks.json`` and
``zc_transbench101_macro_4tasks.json`` (keys are NASLib tuples; stored ``params`` in
millions, ``flops`` in MFLOPs):

* the public API users call, ``get_space(benchmark.space).build(key)`` (the task-bound
  space ``tnb101-micro:TASK`` the Suite-Zero benchmark names), built on the meta device
  (shapes only): params of every key against the stored, and MFLOPs of the first
  ``--flops`` keys per task (a meta forward with the counting hooks takes ~1.5 s);
* ``nasrank build --space tnb101-micro:TASK --arch KEY --json`` (in process) for the first
  ``--cli`` keys of every task: the same comparison through the CLI.

The input is each task's default (3 x 256 x 256; jigsaw 3 x 192 x 192, 9 tiles of 64 px).

Usage: OMP_NUM_THREADS=1 python benchmarks/check_space_counts_tnb101.py [--data DIR]
       [--cli N] [--flops N] [--json OUT]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import time
from pathlib import Path

import torch

from nasrank.benchmarks import load_benchmark
from nasrank.cli import main as nasrank
from nasrank.complexity import count_flops, count_params
from nasrank.spaces import get_space

DATA = Path(__file__).resolve().parents[2] / "shared/data/nas-bench-suite-zero"
FILES = {
    "micro": "zc_transbench101_micro_4tasks.json",
    "macro": "zc_transbench101_macro_4tasks.json",
}
TASKS = ("class_scene", "class_object", "jigsaw", "segmentsemantic")
TOL_M = 1e-6  # the stored params are whole parameters written in millions, 6 decimals


def _api_counts(space, arch: str, flops: bool) -> tuple[float, float]:
    """(params in M, MFLOPs or NaN) of the network of ``arch``, built on the meta device."""
    with torch.device("meta"):
        model = space.build(arch)
        x = torch.zeros(1, *space.input_shape)
        mflops = count_flops(model, example_input=x) / 1e6 if flops else float("nan")
    return count_params(model) / 1e6, mflops


def _cli_counts(space: str, arch: str, out: Path) -> tuple[float, float]:
    with contextlib.redirect_stdout(io.StringIO()):
        code = nasrank(["build", "--space", space, "--arch", arch, "--json", str(out)])
    if code != 0:
        raise SystemExit(f"nasrank build --space {space} --arch {arch!r} exited {code}")
    result = json.loads(out.read_text())
    return result["params_m"], result["mflops"]


def check(data: Path, cli: int, n_flops: int, out: Path) -> dict:
    report = {}
    for name in FILES:
        for task in TASKS:
            bench = load_benchmark(f"suite-zero:{data / name}", task=task)
            space = get_space(bench.space)
            t0 = time.perf_counter()
            params_ok = flops_ok = 0
            worst_flops = 0.0
            for i, arch in enumerate(bench.archs()):
                params, flops = _api_counts(space, arch, i < n_flops)
                params_ok += abs(params - bench.query(arch, "params")) < TOL_M
                if i < n_flops:
                    stored = bench.query(arch, "flops")
                    flops_ok += abs(flops - stored) < 1e-6 * max(stored, 1.0)
                    worst_flops = max(worst_flops, abs(flops / stored - 1))
            cli_ok = sum(
                abs(_cli_counts(bench.space, arch, out)[0] - bench.query(arch, "params")) < TOL_M
                for arch in bench.archs()[:cli]
            )
            row = {
                "archs": len(bench),
                "params_equal": params_ok,
                "flops_checked": min(n_flops, len(bench)),
                "flops_equal": flops_ok,
                "flops_worst_relative_difference": worst_flops,
                "cli_checked": min(cli, len(bench)),
                "cli_params_equal": cli_ok,
                "seconds": time.perf_counter() - t0,
            }
            report[bench.space] = row
            print(f"{bench.space:28s} {row}")
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--cli", type=int, default=5, help="keys per task through the CLI")
    parser.add_argument(
        "--flops", type=int, default=20, help="keys per task whose FLOPs are counted"
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(1)
    scratch = Path("/tmp/check_space_counts_tnb101.json")
    report = check(args.data, args.cli, args.flops, scratch)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
