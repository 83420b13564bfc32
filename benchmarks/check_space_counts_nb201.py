"""Check NAS-Bench-201 parameter counts / FLOPs against NAS-Bench-Suite-Zero, and the
agreement of the ``nb201-analog`` table with Suite-Zero's ``val_accuracy``.

Usage: python benchmarks/check_space_counts_nb201.py [--suite-zero PATH] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from scipy.stats import spearmanr

from nasrank.benchmarks import load_benchmark
from nasrank.complexity import count_flops, count_params
from nasrank.spaces import get_space

DEFAULT = (
    Path(__file__).resolve().parents[2] / "shared/data/nas-bench-suite-zero/zc_nasbench201.json"
)
TASKS = (("cifar10", 10, 32), ("cifar100", 100, 32), ("ImageNet16-120", 120, 16))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--suite-zero", type=Path, default=DEFAULT)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    data = json.loads(args.suite_zero.read_text())
    space = get_space("nb201")
    report: dict = {"tasks": {}}
    for task, classes, size in TASKS:
        n = exact = within = 0
        worst_flops = worst_params = 0.0
        build_s: list[float] = []
        for key, rec in data[task].items():
            t = time.perf_counter()
            model = space.build(key, num_classes=classes)
            build_s.append(time.perf_counter() - t)
            params = count_params(model) / 1e6
            mflops = count_flops(model, (3, size, size)) / 1e6
            dp = abs(params - rec["params"]["score"])
            df = abs(mflops - rec["flops"]["score"]) / rec["flops"]["score"]
            n += 1
            exact += dp <= 1e-6
            within += df <= 0.01
            worst_params, worst_flops = max(worst_params, dp), max(worst_flops, df)
        report["tasks"][task] = {
            "archs": n,
            "params_equal_1e-6": exact,
            "flops_within_1pct": within,
            "max_params_abs_diff_m": worst_params,
            "max_flops_rel_diff": worst_flops,
            "median_build_seconds": statistics.median(build_s),
        }
        print(task, report["tasks"][task])
    zc = load_benchmark(f"suite-zero:{args.suite_zero}")
    analog = load_benchmark("nb201-analog")
    archs = zc.archs()
    rho = spearmanr([zc.query(a) for a in archs], [analog.query(a) for a in archs]).statistic
    report["nb201_analog"] = {
        "size": len(analog),
        "spearman_vs_suite_zero_cifar10": rho,
        "shared": len(archs),
    }
    print("nb201-analog", report["nb201_analog"])
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
