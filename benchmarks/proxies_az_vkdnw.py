"""AZ-NAS and VKDNW on NAS-Bench-201: correlations on Suite-Zero's 725 architectures and
time per architecture.

What: the new proxies (az_expressivity, az_progressivity, az_trainability, vkdnw,
vkdnw_single) with the other members of the published aggregations (jacov, flops) scored
on the 725 NAS-Bench-201 architectures of NAS-Bench-Suite-Zero's sample
(``zc_nasbench201.json``), each network built at PyTorch's default initialisation after
``torch.manual_seed(seed)`` with 10 classes, on one batch of real CIFAR-10 training
images (``load_batch("cifar10:.../cifar10-mini", batch_size, seed)``, NB-201
normalisation) -- the setting of ``benchmarks/proxies_nb201.py``. VKDNW's Fisher pass
runs on the first ``--vkdnw-batch-size`` images of that batch (default 64, the whole
batch, as in the VKDNW paper's default setting; its cost grows with batch x classes).
The same scores (computed on the 10-class CIFAR-10 network) are correlated with the
``val_accuracy`` of each of Suite-Zero's three tasks (cifar10, cifar100,
ImageNet16-120), next to the published figures, which are over all 15,625
architectures and so not strictly comparable. The AZ-NAS and VKDNW_agg aggregations
are ``nasrank.proxies.AZ_NAS`` and ``VKDNW_AGG`` over the scored pool.

Timing: ``--timing-n`` seeded architectures, each proxy alone (its passes included) and
the AZ-NAS set, the VKDNW set and everything together, wall seconds at
``--threads`` threads and batch ``--batch-size`` (VKDNW timed at that batch too).

Scores are cached in a JSON-lines file (``--cache``) so an interrupted run resumes;
``--reverse`` lets a second process work from the other end. Scoring all 15,625
architectures is not done here (hours of CPU): see ``nasrank score-space``.

Usage::

    python benchmarks/proxies_az_vkdnw.py --json benchmarks/results/proxies_az_vkdnw.json
    python benchmarks/proxies_az_vkdnw.py --n 50 --timing-n 0        # a quick subset
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nasrank.data import load_batch
from nasrank.data.batch import Batch
from nasrank.metrics import kendall, spearman, top_k_precision
from nasrank.proxies import AZ_NAS, PROXIES, VKDNW_AGG, score
from nasrank.spaces import get_space

logger = logging.getLogger("proxies_az_vkdnw")

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
AZ_PROXIES = ("az_expressivity", "az_progressivity", "az_trainability")
VKDNW_PROXIES = ("vkdnw", "vkdnw_single")
OTHER = ("jacov", "flops")
TASKS = ("cifar10", "cifar100", "ImageNet16-120")
#: Published figures, over all 15,625 NB-201 architectures (Kendall tau, Spearman rho).
PUBLISHED = {
    "az_nas": {
        "cifar10": {
            "kendall": 0.741,
            "spearman": 0.913,
            "source": "AZ-NAS authors' notebook NB201/tss_general.ipynb",
        }
    },
    "vkdnw_agg": {
        "cifar10": {"kendall": 0.750, "spearman": 0.919, "source": "VKDNW paper, Table 1"},
        "cifar100": {"kendall": 0.753, "spearman": 0.919, "source": "VKDNW paper, Table 1"},
        "ImageNet16-120": {"kendall": 0.743, "spearman": 0.906, "source": "VKDNW paper, Table 1"},
    },
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-root", type=Path, default=DEFAULT_DATA)
    p.add_argument("--n", type=int, default=None, help="a seeded random subset of N archs")
    p.add_argument("--seed", type=int, default=0, help="batch, subset and init seed")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--vkdnw-batch-size", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--timing-n", type=int, default=20)
    p.add_argument("--cache", type=Path, default=Path("/tmp/nasrank_az_vkdnw_cache.jsonl"))
    p.add_argument("--reverse", action="store_true", help="score from the last arch backwards")
    p.add_argument("--shard", default="0/1", help="score only archs i, i+k, ... of 'i/k'")
    p.add_argument("--score-only", action="store_true", help="score, then stop (no report)")
    p.add_argument(
        "--report-only",
        action="store_true",
        help="no scoring: report on the architectures the cache holds every score of",
    )
    p.add_argument("--json", type=Path, default=None)
    return p.parse_args(argv)


def load_cache(path: Path) -> dict[str, dict[str, Any]]:
    cache: dict[str, dict[str, Any]] = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                entry = cache.setdefault(row["arch"], {"scores": {}, "reasons": {}})
                entry["scores"].update(row["scores"])
                entry["reasons"].update(row.get("reasons", {}))
    return cache


def build(space: Any, key: str, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return space.build(space.canonical(key), num_classes=10)


def head(batch: Batch, n: int) -> Batch:
    return Batch(
        batch.inputs[:n], batch.targets[:n], batch.num_classes, f"{batch.source} (first {n})"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    torch.set_num_threads(args.threads)
    table_path = args.data_root / "nas-bench-suite-zero" / "zc_nasbench201.json"
    cifar = args.data_root / "cifar10-mini"
    if not table_path.is_file() or not cifar.is_dir():
        logger.error("needs %s and %s (pass --data-root)", table_path, cifar)
        return 2
    tables = json.loads(table_path.read_text())
    keys = list(tables["cifar10"])
    if args.n is not None and args.n < len(keys):
        rng = np.random.default_rng(args.seed)
        keys = [keys[i] for i in sorted(rng.choice(len(keys), size=args.n, replace=False))]
    batch = load_batch(f"cifar10:{cifar}", batch_size=args.batch_size, seed=args.seed)
    vbatch = head(batch, min(args.vkdnw_batch_size, len(batch)))
    space = get_space("nb201")
    main_set = list(AZ_PROXIES + OTHER)

    cache = load_cache(args.cache)
    if args.report_only:
        wanted = set(main_set) | set(VKDNW_PROXIES)
        keys = [k for k in keys if k in cache and wanted <= set(cache[k]["scores"])]
    start = time.perf_counter()
    shard, shards = (int(t) for t in args.shard.split("/"))
    todo_keys = keys[shard::shards]
    with args.cache.open("a") as out:
        for i, key in enumerate(reversed(todo_keys) if args.reverse else todo_keys):
            have = cache.get(key, {"scores": {}, "reasons": {}})
            for names, b in ((main_set, batch), (list(VKDNW_PROXIES), vbatch)):
                todo = [n for n in names if n not in have["scores"]]
                if not todo:
                    continue
                r = score(build(space, key, args.seed), b, todo, seed=args.seed)
                row = {
                    "arch": key,
                    "scores": {k: (None if math.isnan(v) else v) for k, v in r.items()},
                    "reasons": dict(r.reasons),
                    "seconds": dict(r.seconds),
                }
                have["scores"].update(row["scores"])
                have["reasons"].update(r.reasons)
                out.write(json.dumps(row) + "\n")
                out.flush()
            cache[key] = have
            if (i + 1) % 25 == 0 or i + 1 == len(todo_keys):
                el = time.perf_counter() - start
                logger.info(
                    "scored %d/%d archs, %.0f s, ~%.0f s left",
                    i + 1,
                    len(todo_keys),
                    el,
                    el / (i + 1) * (len(todo_keys) - i - 1),
                )
    if args.score_only:
        return 0

    timing = _timing(args, keys, space, batch) if args.timing_n > 0 else {}
    pool = [
        {
            n: (math.nan if cache[k]["scores"].get(n) is None else cache[k]["scores"][n])
            for n in main_set + list(VKDNW_PROXIES)
        }
        for k in keys
    ]
    signals = {n: np.array([p[n] for p in pool]) for n in main_set + list(VKDNW_PROXIES)}
    signals["az_nas"] = AZ_NAS(pool)
    signals["vkdnw_agg"] = VKDNW_AGG(pool)
    correlations: dict[str, Any] = {}
    for task in TASKS:
        rows = [
            (i, tables[task][k]["val_accuracy"]) for i, k in enumerate(keys) if k in tables[task]
        ]
        idx = np.array([i for i, _ in rows])
        truth = np.array([v for _, v in rows], dtype=np.float64)
        correlations[task] = {
            name: {
                "spearman": spearman(v[idx], truth),
                "kendall": kendall(v[idx], truth),
                "top10_precision": top_k_precision(v[idx], truth, 0.1),
                "nan_count": int(np.isnan(v[idx]).sum()),
                "n": int(idx.size),
            }
            for name, v in signals.items()
        }
        # the aggregations re-ranked on the task's own pool (724 archs on ImageNet16-120)
        sub = [pool[i] for i in idx]
        for ens in (AZ_NAS, VKDNW_AGG):
            v = ens(sub)
            correlations[task][ens.name].update(
                spearman=spearman(v, truth),
                kendall=kendall(v, truth),
                top10_precision=top_k_precision(v, truth, 0.1),
            )
    reasons = sorted({f"{n}: {r}" for k in keys for n, r in cache[k]["reasons"].items()})
    result = {
        "what": f"AZ-NAS / VKDNW proxies on Suite-Zero NB-201 ({len(keys)} of its 725 archs, "
        "in file order when not all), 10-class networks "
        "at PyTorch default init (torch.manual_seed(seed) before each build), one "
        "batch of real CIFAR-10 training images (cifar10-mini); scores correlated "
        "with each task's val_accuracy",
        "n_archs": len(keys),
        "seed": args.seed,
        "data": batch.source,
        "batch_size": args.batch_size,
        "vkdnw_batch_size": len(vbatch),
        "threads": args.threads,
        "correlations": correlations,
        "published_all_15625": PUBLISHED,
        "nan_reasons": reasons[:20],
        "timing": timing,
    }
    _print(result)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2, default=float) + "\n")
    return 0


def _timing(args: argparse.Namespace, keys: list[str], space: Any, batch: Batch) -> dict[str, Any]:
    rng = np.random.default_rng(args.seed + 1)
    tkeys = [
        keys[i] for i in rng.choice(len(keys), size=min(args.timing_n, len(keys)), replace=False)
    ]
    sets = {n: [n] for n in AZ_PROXIES + VKDNW_PROXIES}
    sets["az_nas (3 az proxies + flops)"] = list(AZ_PROXIES) + ["flops"]
    sets["vkdnw + vkdnw_single"] = list(VKDNW_PROXIES)
    sets["all 7 (az_nas and vkdnw_agg members)"] = list(AZ_PROXIES + VKDNW_PROXIES + OTHER)
    full = [p for p in PROXIES.names() if p not in ("wpca", "hidden_covariance")]
    sets[f"full set ({len(full)} proxies: all but wpca, hidden_covariance)"] = full
    sets["full set without the 5 new"] = [p for p in full if p not in AZ_PROXIES + VKDNW_PROXIES]
    score(build(space, tkeys[0], args.seed), batch, sets["all 7 (az_nas and vkdnw_agg members)"])
    wall: dict[str, list[float]] = {s: [] for s in sets}
    for j, key in enumerate(tkeys):
        model = build(space, key, args.seed)
        for label, names in sets.items():
            t0 = time.perf_counter()
            score(model, batch, names, seed=args.seed)
            wall[label].append(time.perf_counter() - t0)
        logger.info("timed %d/%d archs", j + 1, len(tkeys))
    return {
        "n_archs": len(tkeys),
        "batch_size": len(batch),
        "threads": torch.get_num_threads(),
        "load_average": list(os.getloadavg()),
        "seconds_per_arch": {
            s: {"median": statistics.median(v), "mean": statistics.fmean(v), "max": max(v)}
            for s, v in wall.items()
        },
    }


def _print(result: dict[str, Any]) -> None:
    print(f"{result['n_archs']} archs, {result['data']}")
    names = list(result["correlations"]["cifar10"])
    print(f"{'signal':<18}" + "".join(f"{t:>26}" for t in TASKS))
    for n in names:
        cells = []
        for t in TASKS:
            c = result["correlations"][t][n]
            cells.append(f"rho {c['spearman']:.3f} tau {c['kendall']:.3f} NaN {c['nan_count']}")
        print(f"{n:<18}" + "".join(f"{c:>26}" for c in cells))
    for label, s in result.get("timing", {}).get("seconds_per_arch", {}).items():
        print(f"time {label}: median {s['median']:.2f} s / arch")


if __name__ == "__main__":
    raise SystemExit(main())
