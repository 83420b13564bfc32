"""`nasrank search` from Python: the README's search, predictor BO on ONNX + proxy
features, and training the top picks, all through :class:`nasrank.search.SearchPlan`.

    python examples/search_library.py            # the README's search: 4 methods x 20 seeds
    python examples/search_library.py --quick    # 3 seeds, smaller budget (about a minute)

Each plan's ``report.to_json()`` is what ``nasrank search --json`` writes for the same
options, and the tables below are the ones the CLI prints (``report.tables()``).
"""

from __future__ import annotations

import argparse
import json

from nasrank.cli import print_table
from nasrank.search import SearchPlan, SearchReport, TopTraining


def show(report: SearchReport) -> None:
    """Print the report's tables with the CLI's table printer, as ``nasrank search`` does."""
    for title, header, rows in report.tables():
        print_table(title, header, rows)
    assert report.optimum is not None
    arch, value = report.optimum
    print(f"pool optimum: {arch} {report.metric}={value:g}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="3 seeds and a smaller budget")
    ap.add_argument("--json", help="write the first plan's report here (the CLI's --json)")
    args = ap.parse_args()
    seeds = tuple(range(3 if args.quick else 20))
    budget = 20 if args.quick else 50

    # 1. The README's search: RoBoT, predictor BO, regularized evolution and random search
    #    on NAS-Bench-201 (ground truth nb201-analog); proxy scores from the shipped table.
    readme = SearchPlan(
        space="nb201",
        benchmark="nb201-analog",
        methods=("robot", "bo", "re", "random"),
        budget=budget,
        seeds=seeds,
    )
    report = readme.run(on_notice=print)
    show(report)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report.to_json(), f, indent=1)

    # 2. Predictor BO on the universal ONNX encoding of each cell plus the candidates'
    #    proxy scores (synflow, nwot, jacov from the shipped table), on 1,000 candidates.
    onnx_bo = SearchPlan(
        space="nb201",
        benchmark="nb201-analog",
        methods=("bo",),
        proxies=("synflow", "nwot", "jacov"),
        pool=300 if args.quick else 1000,
        features="onnx-core",
        budget=budget,
        seeds=seeds,
    )
    show(onnx_bo.run())

    # 3. RoBoT, then train its two best picks for one epoch (synthetic data here; pass
    #    data="cifar10:/path/to/cifar-10-batches-py" for the real thing).
    trained = SearchPlan(
        space="nb201",
        benchmark="nb201-analog",
        methods=("robot",),
        budget=budget,
        train_top=TopTraining(2, data="synthetic:3x16x16:10", epochs=1, train_size=256),
    ).run()
    for pick in trained.trained or []:
        print(f"trained {pick['arch']}: benchmark {pick['benchmark_value']:.2f}, "
              f"test accuracy {pick.get('test_accuracy')}")  # fmt: skip


if __name__ == "__main__":
    main()
