"""Accuracy predictors on NAS-Bench-201 (CIFAR-10): ranking quality and speed.

Three parts, each written to the JSON report:

1. ``suite_zero``: the 725-architecture NAS-Bench-Suite-Zero task (stored zero-cost proxy
   scores as features), train on 100 random architectures, rank the other 625, 20 seeds;
   several predictor/feature configurations, plus a train-size sweep of the best GBDT.
2. ``full_space``: all 15,625 architectures of ``nb201-analog`` (no proxies), train on 100,
   rank the other 15,525, 20 seeds, per feature set.
3. ``timings``: ONNX encoding of one NB-201 architecture (whole network and one cell),
   GBDT fit on 400 architectures, GNN fit on 400; wall and CPU seconds.

The protocol is :func:`nasrank.predictors.evaluate` (seed ``s`` shuffles the pool with
``numpy.random.default_rng(s)``; the first n train, the rest test), so every number is
reproducible. ONNX graphs are cached (``--cache-dir``; the first full-space run exports
15,625 cells, about 0.1 s each).

Usage::

    python benchmarks/predictors_nb201.py --json benchmarks/results/predictors_nb201.json
    python benchmarks/predictors_nb201.py --parts timings --seeds 5
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from nasrank.benchmarks import load_benchmark
from nasrank.encodings import EncodingCache, arch_opgraph
from nasrank.predictors import (
    EnsemblePredictor,
    GBDTPredictor,
    GNNPredictor,
    evaluate,
    featurize,
    summarize,
)
from nasrank.spaces import get_space

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SZ = ROOT.parent / "shared/data/nas-bench-suite-zero/zc_nasbench201.json"

#: LightGBM's own defaults (LGBMRegressor), the "local baseline" of the issue.
LIGHTGBM_DEFAULTS = dict(
    n_estimators=100,
    learning_rate=0.1,
    num_leaves=31,
    min_child_samples=20,
    subsample=1.0,
    colsample_bytree=1.0,
    reg_lambda=0.0,
    extra_trees=False,
    target="raw",
)
PAIRWISE = dict(objective="pairwise")
BEST_FEATURES = "onehot-pruned,onnx-core,zc"


def _ensemble() -> EnsemblePredictor:
    return EnsemblePredictor(
        base=[GBDTPredictor(**PAIRWISE), GNNPredictor(vector_prefixes=("zc:",))],
        n_members=1,
        bootstrap=False,
    )


def suite_zero_configs() -> list[tuple[str, str, Any, bool]]:
    """(name, feature spec, predictor, needs graphs)."""
    return [
        ("lightgbm-defaults", "onehot,zc", GBDTPredictor(**LIGHTGBM_DEFAULTS), False),
        ("gbdt", "onehot,zc", GBDTPredictor(), False),
        ("gbdt-pairwise", "onehot,zc", GBDTPredictor(**PAIRWISE), False),
        ("gbdt", "onnx,zc", GBDTPredictor(), False),
        ("gbdt-pairwise", "onnx,zc", GBDTPredictor(**PAIRWISE), False),
        ("gbdt", BEST_FEATURES, GBDTPredictor(), False),
        ("gbdt-pairwise", BEST_FEATURES, GBDTPredictor(**PAIRWISE), False),
        (
            "gbdt-pairwise-x5",
            BEST_FEATURES,
            EnsemblePredictor(base=GBDTPredictor(**PAIRWISE), n_members=5, bootstrap=False),
            False,
        ),
        ("gnn (graphs + zc)", "zc", GNNPredictor(), True),
        ("gbdt-pairwise + gnn", BEST_FEATURES, _ensemble(), True),
    ]


def full_space_configs() -> list[tuple[str, str, Any, bool]]:
    out: list[tuple[str, str, Any, bool]] = [
        ("lightgbm-defaults", "onehot", GBDTPredictor(**LIGHTGBM_DEFAULTS), False)
    ]
    for spec in (
        "onehot",
        "path",
        "onehot-pruned",
        "onnx-core",
        "onnx",
        "onehot-pruned,onnx-core",
    ):
        out.append(("gbdt", spec, GBDTPredictor(), False))
        out.append(("gbdt-pairwise", spec, GBDTPredictor(**PAIRWISE), False))
    out.append(("gnn (graphs)", "onnx-core", GNNPredictor(use_vector_features=False), True))
    out.append(
        (
            "gbdt-pairwise + gnn",
            "onehot-pruned,onnx-core",
            EnsemblePredictor(
                base=[GBDTPredictor(**PAIRWISE), GNNPredictor(use_vector_features=False)],
                n_members=1,
                bootstrap=False,
            ),
            True,
        )
    )
    return out


def _run(
    bench: Any,
    metric: str,
    configs: list[tuple[str, str, Any, bool]],
    sizes: list[int],
    seeds: int,
    cache: EncodingCache,
    only: set[str] | None,
) -> list[dict[str, Any]]:
    y = bench.column(metric)
    out = []
    matrices: dict[tuple[str, bool], Any] = {}
    for name, spec, predictor, graphs in configs:
        if only and name not in only:
            continue
        key = (spec, graphs)
        if key not in matrices:
            t = time.perf_counter()
            matrices[key] = featurize(
                "nb201", bench.archs(), spec, benchmark=bench, graphs=graphs, cache=cache
            )
            print(f"  features {spec} (graphs={graphs}): {time.perf_counter() - t:.1f} s")
        X = matrices[key]
        t = time.perf_counter()
        records = evaluate(predictor, X, y, train_sizes=sizes, seeds=seeds)
        for row in summarize(records):
            row.update(config=name, features=spec, n_features=X.shape[1])
            out.append(row)
            k = row["kendall"]
            print(
                f"  {name:24s} {spec:28s} n={row['train_size']:4d} "
                f"tau {k['mean']:.4f} ± {k['std']:.4f}  rho {row['spearman']['mean']:.4f}  "
                f"top10 {row['top10_precision']['mean']:.3f}  fit {row['fit_seconds']:.2f} s  "
                f"({time.perf_counter() - t:.0f} s)",
                flush=True,
            )
    return out


def _timed(fn: Any, repeats: int) -> dict[str, float]:
    walls, cpus = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return {
        "wall_median": statistics.median(walls),
        "wall_min": min(walls),
        "cpu_median": statistics.median(cpus),
        "repeats": repeats,
    }


def timings(sz: Any, cache: EncodingCache, repeats: int) -> dict[str, Any]:
    space = get_space("nb201")
    archs = [space.sample(1000 + i) for i in range(repeats)]
    arch_opgraph(space, archs[0])  # warm-up: imports, first trace
    arch_opgraph(space, archs[0], level="cell")
    it = iter(archs * 2)
    out: dict[str, Any] = {}
    out["onnx_network"] = _timed(lambda: arch_opgraph(space, next(it)), repeats)
    it = iter(archs * 2)
    out["onnx_cell"] = _timed(lambda: arch_opgraph(space, next(it), level="cell"), repeats)
    y = sz.column("val_accuracy")
    for spec in ("onehot,zc", BEST_FEATURES):
        X = featurize("nb201", sz.archs(), spec, benchmark=sz, cache=cache).take(np.arange(400))
        GBDTPredictor().fit(X, y[:400])  # warm-up
        for label, params in (("regression", {}), ("pairwise", PAIRWISE)):
            out[f"gbdt_fit_400[{spec}][{label}]"] = _timed(
                lambda p=params, X=X: GBDTPredictor(**p).fit(X, y[:400]), 5
            )
    Xg = featurize("nb201", sz.archs(), "zc", benchmark=sz, graphs=True, cache=cache)
    Xg = Xg.take(np.arange(400))
    out["gnn_fit_400[graphs+zc]"] = _timed(lambda: GNNPredictor().fit(Xg, y[:400]), 1)
    for k, v in out.items():
        print(f"  {k:45s} wall {v['wall_median']:.3f} s  cpu {v['cpu_median']:.3f} s")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--suite-zero", type=Path, default=DEFAULT_SZ)
    parser.add_argument("--parts", default="suite_zero,full_space,timings")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--sweep", default="20,50,100,200,400", help="train sizes of the sweep")
    parser.add_argument("--only", help="comma-separated config names to run")
    parser.add_argument("--cache-dir", help="encoding cache (default ~/.cache/nasrank)")
    parser.add_argument("--timing-repeats", type=int, default=20)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    only = set(args.only.split(",")) if args.only else None
    cache = EncodingCache(args.cache_dir)
    report: dict[str, Any] = {
        "machine": f"{platform.processor() or platform.machine()}, "
        f"{__import__('os').cpu_count()} CPUs (shared; see docs/BENCHMARKS.md)",
        "seeds": args.seeds,
    }
    sz = load_benchmark(f"suite-zero:{args.suite_zero}", task="cifar10")
    if "suite_zero" in parts:
        print("Suite-Zero NB-201 CIFAR-10, 725 archs, train 100:")
        report["suite_zero"] = _run(
            sz, "val_accuracy", suite_zero_configs(), [100], args.seeds, cache, only
        )
        sizes = [int(s) for s in args.sweep.split(",")]
        print("Train-size sweep:")
        report["suite_zero_sweep"] = _run(
            sz,
            "val_accuracy",
            [("gbdt-pairwise", BEST_FEATURES, GBDTPredictor(**PAIRWISE), False)],
            sizes,
            args.seeds,
            cache,
            None,
        )
    if "full_space" in parts:
        print("nb201-analog, 15,625 archs, train 100:")
        full = load_benchmark("nb201-analog")
        report["full_space"] = _run(
            full, "baseline_accuracy", full_space_configs(), [100], args.seeds, cache, only
        )
    if "timings" in parts:
        print("Timings:")
        report["timings"] = timings(sz, cache, args.timing_repeats)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
