"""How the default predictor of ``nasrank predict-eval`` (and of predictor BO) was chosen.

Protocol (issue 21): choose on one set, report on another.

* **Selection sets** (``--parts select``): NAS-Bench-Suite-Zero files *other than* the
  NB-201 CIFAR-10 task -- NB-201 CIFAR-100 and ImageNet16-120 (725/724 architectures,
  12 stored proxies), NB-101 CIFAR-10 (500 rows, 11 proxies) and the four
  TransNAS-Bench-101 micro tasks (711 architectures, 11 proxies). Every configuration is
  evaluated with :func:`nasrank.predictors.evaluate` at 100 training architectures,
  20 seeds (0-19), and scored by its **mean Kendall tau over the 7 sets**.
  The search is staged and mechanical (the script decides, not the reader):

  1. feature encodings x model: ``{onehot, onehot-pruned, onnx-core,
     onehot-pruned+onnx-core, onnx}`` + ``zc`` (rank transform) x ``{gbdt,
     gbdt-pairwise, gbdt-pairwise with rank target}``, plus the old default ``onehot``
     without proxies;
  2. on stage 1's winner: the proxy transform (``log``, ``raw``) and one-at-a-time
     hyper-parameter changes of the GBDT;
  3. on stage 2's winner: a 5-member seed ensemble and the mean with a GNN.

  Rule: the highest mean wins, except that a configuration replaces a cheaper one (the
  previous stage's winner) only when it is at least ``MIN_GAIN`` (0.003, about two
  standard errors of a 20-seed mean on these sets) better.

* **Report set** (``--parts report``): the full NB-201 space (``nb201-analog``, 15,625
  architectures, CIFAR-10 accuracy), proxy features read from the shipped table
  ``nb201-cifar10`` (19 proxies), 100 training architectures, 20 seeds; run through the
  command line exactly as a user would (``nasrank predict-eval --space nb201 --benchmark
  nb201-analog --train-sizes 100 --seeds 20``), plus the old default for comparison.
  Nothing measured here feeds back into the choice.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/predictor_defaults.py --parts select \\
        --json benchmarks/results/predictor_defaults_select.json
    OMP_NUM_THREADS=1 python benchmarks/predictor_defaults.py --parts report \\
        --json benchmarks/results/predictor_defaults_report.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SZ = ROOT.parent / "shared/data/nas-bench-suite-zero"
MIN_GAIN = 0.003

#: (label, space, Suite-Zero file, task) of the selection sets.
_TNB = "zc_transbench101_micro_4tasks.json"
SELECTION_SETS = (
    ("nb201-cifar100", "nb201", "zc_nasbench201.json", "cifar100"),
    ("nb201-ImageNet16-120", "nb201", "zc_nasbench201.json", "ImageNet16-120"),
    ("nb101-cifar10", "nb101", "zc_nasbench101.json", None),
    *(
        (f"tnb101-micro-{t}", "tnb101-micro", _TNB, t)
        for t in ("class_scene", "class_object", "jigsaw", "segmentsemantic")
    ),
)

ENCODINGS = ("onehot", "onehot-pruned", "onnx-core", "onehot-pruned,onnx-core", "onnx")
MODELS: dict[str, dict[str, Any]] = {
    "gbdt": {},
    "gbdt-pairwise": {"objective": "pairwise"},
    "gbdt-pairwise-rank": {"objective": "pairwise", "target": "rank"},
}
HYPER: dict[str, dict[str, Any]] = {
    "n_estimators=800": {"n_estimators": 800},
    "n_estimators=200": {"n_estimators": 200},
    "num_leaves=4": {"num_leaves": 4},
    "num_leaves=16": {"num_leaves": 16},
    "learning_rate=0.06": {"learning_rate": 0.06},
    "colsample_bytree=0.5": {"colsample_bytree": 0.5},
    "extra_trees=False": {"extra_trees": False},
}


class Data:
    """The selection sets, loaded once; feature matrices cached per (set, spec, ...)."""

    def __init__(self, seeds: int, train_size: int) -> None:
        from nasrank.benchmarks import load_benchmark
        from nasrank.encodings import EncodingCache
        from nasrank.spaces import get_space

        self.seeds, self.train_size = seeds, train_size
        self.cache = EncodingCache()
        self.sets = []
        for label, space_name, file, task in SELECTION_SETS:
            space = get_space(space_name, task=task)
            bench = load_benchmark(f"suite-zero:{SZ / file}", task=task, space=space.name)
            metric = bench.default_metric
            y = bench.column(metric)
            y = y if bench.higher_is_better(metric) else -y
            self.sets.append((label, space, bench, metric, y))
        self._matrices: dict[tuple[Any, ...], Any] = {}

    def matrix(self, i: int, spec: str, zc_transform: str, graphs: bool) -> Any:
        from nasrank.predictors import featurize

        key = (i, spec, zc_transform, graphs)
        if key not in self._matrices:
            _, space, bench, metric, _ = self.sets[i]
            self._matrices[key] = featurize(
                space, bench.archs(), spec, benchmark=bench, target_metric=metric,
                graphs=graphs, zc_transform=zc_transform, cache=self.cache,
            )  # fmt: skip
        return self._matrices[key]


def _predictor(config: dict[str, Any]) -> Any:
    from nasrank.predictors import EnsemblePredictor, GBDTPredictor, GNNPredictor

    gbdt = GBDTPredictor(**config["gbdt"])
    kind = config.get("ensemble")
    if kind is None:
        return gbdt
    if kind == "seeds5":
        return EnsemblePredictor(base=gbdt, n_members=5, bootstrap=False)
    assert kind == "gnn"
    return EnsemblePredictor(
        base=[gbdt, GNNPredictor(vector_prefixes=("zc:",))], n_members=1, bootstrap=False
    )


def evaluate_config(data: Data, name: str, config: dict[str, Any]) -> dict[str, Any]:
    """Mean Kendall (and the rest) of one configuration on every selection set."""
    from nasrank.predictors import evaluate, summarize

    t0 = time.perf_counter()
    per_set = {}
    for i, (label, *_rest, y) in enumerate(data.sets):
        X = data.matrix(
            i,
            config["features"],
            config.get("zc_transform", "rank"),
            config.get("ensemble") == "gnn",
        )
        records = evaluate(
            _predictor(config), X, y, train_sizes=[data.train_size], seeds=data.seeds
        )
        row = summarize(records)[0]
        per_set[label] = {
            "kendall": row["kendall"],
            "spearman": row["spearman"],
            "top10_precision": row["top10_precision"],
            "fit_seconds": row["fit_seconds"],
            "n_features": X.shape[1],
        }
    mean = statistics.fmean(v["kendall"]["mean"] for v in per_set.values())
    out = {"name": name, "config": config, "mean_kendall": mean, "sets": per_set}
    out["seconds"] = time.perf_counter() - t0
    cols = " ".join(f"{v['kendall']['mean']:.3f}" for v in per_set.values())
    print(f"  {name:60s} mean {mean:.4f}  [{cols}]  ({out['seconds']:.0f} s)", flush=True)
    return out


def _winner(rows: list[dict[str, Any]], incumbent: dict[str, Any] | None) -> dict[str, Any]:
    best = max(rows, key=lambda r: r["mean_kendall"])
    if incumbent is not None and best["mean_kendall"] < incumbent["mean_kendall"] + MIN_GAIN:
        return incumbent
    return best


def select(args: argparse.Namespace) -> dict[str, Any]:
    data = Data(args.seeds, args.train_size)
    print("stage 1: encodings x models (zc as pool percentile ranks)")
    stage1 = [evaluate_config(data, "onehot (old default, no proxies)",
                              {"features": "onehot", "gbdt": {}})]  # fmt: skip
    for enc in ENCODINGS:
        for model, params in MODELS.items():
            stage1.append(
                evaluate_config(
                    data, f"{model} {enc},zc", {"features": f"{enc},zc", "gbdt": params}
                )
            )
    old = next(r for r in stage1 if r["name"] == "gbdt onehot,zc")
    w1 = _winner(stage1, None)
    print(f"stage 1 winner: {w1['name']} ({w1['mean_kendall']:.4f})")
    print("stage 2: proxy transform, hyper-parameters")
    stage2 = []
    for zt in ("log", "raw"):
        cfg = dict(w1["config"], zc_transform=zt)
        stage2.append(evaluate_config(data, f"{w1['name']} zc_transform={zt}", cfg))
    for label, change in HYPER.items():
        cfg = dict(w1["config"], gbdt={**w1["config"]["gbdt"], **change})
        stage2.append(evaluate_config(data, f"{w1['name']} {label}", cfg))
    w2 = _winner(stage2, w1)
    print(f"stage 2 winner: {w2['name']} ({w2['mean_kendall']:.4f})")
    stage3 = []
    if not args.no_ensembles:
        print("stage 3: ensembles")
        for kind in ("seeds5", "gnn"):
            stage3.append(
                evaluate_config(data, f"{w2['name']} + {kind}", dict(w2["config"], ensemble=kind))
            )
    w3 = _winner(stage3, w2) if stage3 else w2
    print(f"chosen: {w3['name']} ({w3['mean_kendall']:.4f}); old default gbdt onehot,zc "
          f"{old['mean_kendall']:.4f}")  # fmt: skip
    return {
        "protocol": __doc__,
        "min_gain": MIN_GAIN,
        "train_size": args.train_size,
        "seeds": args.seeds,
        "sets": [s[0] for s in SELECTION_SETS],
        "stage1": stage1,
        "stage1_winner": w1["name"],
        "stage2": stage2,
        "stage2_winner": w2["name"],
        "stage3": stage3,
        "chosen": w3,
        "old_default": old,
    }


def _cli(argv: list[str], json_path: Path) -> dict[str, Any]:
    """One ``nasrank predict-eval`` run as a user would start it; its JSON and timing."""
    t0, c0 = time.perf_counter(), os.times()
    proc = subprocess.run(
        [sys.executable, "-m", "nasrank", "predict-eval", *argv, "--json", str(json_path)],
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    wall = time.perf_counter() - t0
    c1 = os.times()
    print(proc.stderr[-2000:], proc.stdout[-3000:], sep="\n", flush=True)
    if proc.returncode != 0:
        raise SystemExit(f"predict-eval failed ({proc.returncode})")
    payload = json.loads(json_path.read_text())
    return {
        "command": "nasrank predict-eval " + " ".join(argv),
        "wall_seconds": wall,
        "cpu_seconds_children": (c1.children_user + c1.children_system)
        - (c0.children_user + c0.children_system),
        "stderr_notice": [ln for ln in proc.stderr.splitlines() if "proxy scores" in ln],
        "predictor": payload["predictor"],
        "params": payload["params"],
        "features": payload["features"],
        "n_features": payload["n_features"],
        "results": payload["results"],
    }


def report(args: argparse.Namespace) -> dict[str, Any]:
    import tempfile

    base = ["--space", "nb201", "--benchmark", "nb201-analog", "--train-sizes",
            str(args.train_size), "--seeds", str(args.seeds)]  # fmt: skip
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, extra in (
            ("default", []),
            ("old default (gbdt, onehot)", ["--predictor", "gbdt", "--features", "onehot"]),
            ("gbdt onehot + table zc", ["--predictor", "gbdt", "--features", "onehot,zc"]),
        ):
            print(f"report: {label}", flush=True)
            runs[label] = _cli(base + extra, Path(tmp) / "out.json")
            k = runs[label]["results"][0]["kendall"]
            print(f"  -> tau {k['mean']:.4f} ± {k['std']:.4f}", flush=True)
    return {"protocol": "report on full NB-201 (nb201-analog), features from the shipped table",
            "runs": runs}  # fmt: skip


#: (label, space, Suite-Zero file, task) of the BO comparison: selection-side data.
BO_SETS = (
    ("nb201-cifar100", "nb201", "zc_nasbench201.json", "cifar100"),
    ("nb101-cifar10", "nb101", "zc_nasbench101.json", None),
)


def _bo_configs() -> dict[str, tuple[str | None, Any]]:
    """name -> (BO features spec or None for BO's own encoding, predictor factory)."""
    from nasrank.predictors import EnsemblePredictor, GBDTPredictor

    def ens(**params: Any) -> Any:
        return lambda seed: EnsemblePredictor(
            GBDTPredictor(**params), n_members=5, bootstrap=True, random_state=seed
        )

    return {
        "old default: path + pool scores, 5 x gbdt": (None, None),
        "onehot-pruned,zc + pool scores, 5 x gbdt": ("onehot-pruned,zc", ens()),
        "onehot-pruned,onnx-core,zc + pool scores, 5 x gbdt": (
            "onehot-pruned,onnx-core,zc",
            ens(),
        ),
    }  # 5 pairwise members: about 10x the fit time per step; not measured


def bo(args: argparse.Namespace) -> dict[str, Any]:
    """Predictor BO with the old and the candidate default predictors, random initial
    design (so the predictor, not the zero-cost warm-up, finds the architectures) and
    the default warm-up; 10 seeds, budget 30, on Suite-Zero selection-side files."""
    from nasrank.benchmarks import load_benchmark
    from nasrank.search import SearchPlan
    from nasrank.spaces import get_space

    out: dict[str, Any] = {}
    seeds = tuple(range(args.bo_seeds))
    wanted = [t.strip() for t in args.bo_sets.split(",")]
    for label, space_name, file, task in (s for s in BO_SETS if s[0] in wanted):
        space = get_space(space_name, task=task)
        bench = load_benchmark(f"suite-zero:{SZ / file}", task=task, space=space.name)
        out[label] = {}
        for init in ("random", "auto"):
            for name, (features, factory) in _bo_configs().items():
                if init == "auto" and "onnx-core" in name:
                    continue
                options: dict[str, Any] = {"init": init}
                if factory is not None:
                    options["predictor"] = factory
                t0 = time.perf_counter()
                report = SearchPlan(
                    space=space, benchmark=bench, methods=("bo",), budget=args.bo_budget,
                    seeds=seeds, features=features, searcher_options={"bo": options},
                ).run()  # fmt: skip
                opt = report.optimum[1]
                runs = report.runs["bo"]
                curves = []
                for r in runs:
                    c = r.best_so_far()
                    c = np.concatenate([c, np.full(args.bo_budget - c.size, c[-1])])
                    curves.append(c[: args.bo_budget])
                arr = np.array(curves)
                q = [r.queries_to(opt) for r in runs]
                found = [x for x in q if x is not None]
                row = {
                    "init": init,
                    "features": features,
                    "proxies": list(report.config["proxies"]),
                    "found": len(found),
                    "runs": len(runs),
                    "median_queries": statistics.median(found) if found else None,
                    "mean_best_at_10": float(arr[:, 9].mean()),
                    "mean_best_at_20": float(arr[:, 19].mean()),
                    "mean_best_at_budget": float(arr[:, -1].mean()),
                    "optimum": opt,
                    "seconds": time.perf_counter() - t0,
                }
                out[label][f"{name} [init {init}]"] = row
                print(
                    f"  {label:16s} init={init:6s} {name:62s} found {row['found']}/{row['runs']} "
                    f"med {row['median_queries']} best@10 {row['mean_best_at_10']:.3f} "
                    f"@20 {row['mean_best_at_20']:.3f} @{args.bo_budget} "
                    f"{row['mean_best_at_budget']:.3f} ({row['seconds']:.0f} s)",
                    flush=True,
                )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parts", default="select", help="select, report, bo (comma list)")
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--train-size", type=int, default=100)
    ap.add_argument("--no-ensembles", action="store_true", help="skip stage 3")
    ap.add_argument("--bo-seeds", type=int, default=10)
    ap.add_argument("--bo-budget", type=int, default=30)
    ap.add_argument("--bo-sets", default="nb201-cifar100,nb101-cifar10")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    out: dict[str, Any] = {
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                    "load_at_start": os.getloadavg()},
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
    }  # fmt: skip
    parts = [p.strip() for p in args.parts.split(",")]
    if "select" in parts:
        out["select"] = select(args)
    if "report" in parts:
        out["report"] = report(args)
    if "bo" in parts:
        out["bo"] = bo(args)
    out["machine"]["load_at_end"] = os.getloadavg()
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        old = json.loads(args.json.read_text()) if args.json.is_file() else {}
        old.update(out)
        args.json.write_text(json.dumps(old, indent=1, default=str) + "\n")


if __name__ == "__main__":
    main()
