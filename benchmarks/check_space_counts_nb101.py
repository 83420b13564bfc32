"""Check NAS-Bench-101 parameter counts / FLOPs against NAS-Bench-Suite-Zero and time
model builds.

For every architecture of ``zc_nasbench101.json`` (keys are NASLib 56-tuples), the network
is built from the key (its own vertex order, pruned), and compared with the stored
``params`` (millions, 10 classes) and ``flops`` (MFLOPs, 32x32 input). Also reports how many
distinct canonical ids the file holds and, with ``--enumerate``, checks that the space
enumerates the benchmark's 423,624 cells.

Usage: OMP_NUM_THREADS=1 python benchmarks/check_space_counts_nb101.py [--suite-zero PATH]
       [--json OUT] [--enumerate]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

from nasrank.complexity import count_flops, count_params
from nasrank.spaces import get_space

DEFAULT = (
    Path(__file__).resolve().parents[2] / "shared/data/nas-bench-suite-zero/zc_nasbench101.json"
)


def _number(value: float | dict) -> float:
    return value["score"] if isinstance(value, dict) else value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--suite-zero", type=Path, default=DEFAULT)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--enumerate", action="store_true", help="also enumerate the space")
    args = parser.parse_args()
    torch.set_num_threads(1)
    records = json.loads(args.suite_zero.read_text())["nasbench101"]["cifar10"]
    space = get_space("nb101")

    n = exact = within = 0
    worst_params = worst_flops = 0.0
    flops_diff: dict[int, int] = {}
    build_s: list[float] = []
    canonical_s: list[float] = []
    ids = set()
    for key, rec in records.items():
        t = time.perf_counter()
        ids.add(space.canonical(key))
        canonical_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        model = space.build(key, num_classes=10)
        build_s.append(time.perf_counter() - t)
        params = count_params(model)
        flops = count_flops(model, (3, 32, 32))
        stored_p, stored_f = _number(rec["params"]), _number(rec["flops"])
        dp = abs(params / 1e6 - stored_p)
        df = abs(flops / 1e6 - stored_f) / stored_f
        diff = round(flops - stored_f * 1e6)
        flops_diff[diff] = flops_diff.get(diff, 0) + 1
        n += 1
        exact += dp <= 1e-6
        within += df <= 0.01
        worst_params, worst_flops = max(worst_params, dp), max(worst_flops, df)

    report: dict = {
        "archs": n,
        "distinct_canonical_ids": len(ids),
        "params_equal_1e-6": exact,
        "flops_within_1pct": within,
        "max_params_abs_diff_m": worst_params,
        "max_flops_rel_diff": worst_flops,
        "flops_minus_stored_histogram": {str(k): v for k, v in sorted(flops_diff.items())},
        "median_build_seconds": statistics.median(build_s),
        "max_build_seconds": max(build_s),
        "median_canonical_seconds": statistics.median(canonical_s),
    }
    if args.enumerate:
        t = time.perf_counter()
        all_ids = list(space.enumerate())
        report["enumerate"] = {
            "count": len(all_ids),
            "distinct": len(set(all_ids)),
            "expected": space.size,
            "suite_zero_ids_inside": len(ids & set(all_ids)),
            "seconds": time.perf_counter() - t,
        }
    for k, v in report.items():
        print(f"{k}: {v}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
