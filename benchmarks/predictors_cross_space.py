"""Cross-space accuracy prediction: NAS-Bench-101 <-> NAS-Bench-201 through ONNX features.

Sources and targets are the NAS-Bench-Suite-Zero CIFAR-10 samples: NB-101 (500 keys =
292 unique cells after canonicalisation, their repeats averaged) and NB-201 (725 archs).
For each direction the predictor is trained on every architecture of the source space and
tested on the target space

* zero-shot (``k = 0``: no target labels; tested on all target architectures), and
* with ``k`` = 20 and 50 random target architectures added to the training set (tested on
  the remaining ones), next to the same ``k`` samples used alone (``target-only``), which
  shows whether the source space helps at all.

Only features both spaces share are used: the universal ONNX-graph features of one cell
(``onnx``/``onnx-core``) and the 11 proxies both files store (``zc``; NB-101 lacks
``nwot``). Targets are percentile ranks within each space. ``rank`` feature transform:
every column turned into percentile ranks within its space's pool (label-free).

This is a measurement, not a claim: no published zero-shot number was reproduced.

Usage::

    python benchmarks/predictors_cross_space.py \
        --json benchmarks/results/predictors_cross_space.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from nasrank.benchmarks import load_benchmark
from nasrank.encodings import EncodingCache
from nasrank.predictors import GBDTPredictor, evaluate_transfer, featurize, summarize

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared/data/nas-bench-suite-zero"

CONFIGS: tuple[tuple[str, str], ...] = (
    ("onnx-core", "none"),
    ("onnx-core", "rank"),
    ("onnx,zc", "none"),
    ("onnx,zc", "rank"),
    ("onnx-core,zc", "rank"),
    ("zc", "none"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nb101", type=Path, default=DATA / "zc_nasbench101.json")
    parser.add_argument("--nb201", type=Path, default=DATA / "zc_nasbench201.json")
    parser.add_argument("--task", default="cifar10", help="NB-201 task")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--target-sizes", default="0,20,50")
    parser.add_argument("--cache-dir")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    cache = EncodingCache(args.cache_dir)
    spaces = {
        "nb101": load_benchmark(f"suite-zero:{args.nb101}"),
        "nb201": load_benchmark(f"suite-zero:{args.nb201}", task=args.task),
    }
    sizes = [int(s) for s in args.target_sizes.split(",")]
    report: dict[str, Any] = {
        "sizes": {k: len(b) for k, b in spaces.items()},
        "seeds": args.seeds,
        "predictor": repr(GBDTPredictor()),
        "results": [],
    }
    for spec, transform in CONFIGS:
        X = {
            name: featurize(name, b.archs(), spec, benchmark=b, transform=transform, cache=cache)
            for name, b in spaces.items()
        }
        y = {name: b.column("val_accuracy") for name, b in spaces.items()}
        for source, target in (("nb101", "nb201"), ("nb201", "nb101")):
            t = time.perf_counter()
            records = evaluate_transfer(
                GBDTPredictor(),
                [(X[source], y[source])],
                (X[target], y[target]),
                target_sizes=sizes,
                seeds=args.seeds,
            )
            rows = summarize(records)
            for row in rows:
                row.update(source=source, target=target, features=spec, transform=transform)
                report["results"].append(row)
            text = "  ".join(
                f"{r['mode']}[{r['train_size']}] "
                f"{r['kendall']['mean']:.3f}±{r['kendall']['std']:.3f}"
                for r in rows
            )
            print(
                f"{spec:14s} {transform:5s} {source}->{target}: {text} "
                f"({time.perf_counter() - t:.0f} s)",
                flush=True,
            )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
