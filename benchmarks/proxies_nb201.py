"""Faithfulness and speed of nasrank's zero-cost proxies on NAS-Bench-201 (CIFAR-10).

For every architecture of NAS-Bench-Suite-Zero's NB-201 sample (725 archs, task cifar10)
the script builds the network (seeded), scores it with every proxy on one batch of 64
CIFAR-10 training images (seed 0), and reports per proxy:

* Spearman/Kendall/top-10 % precision of our score with ``val_accuracy``;
* the reference Spearman of the *stored* Suite-Zero score on the same architectures;
* the rank agreement (Spearman) of our score with the stored one, per architecture;
* a 95 % bootstrap interval of that Spearman (``--bootstrap`` resamples of the archs), and
  the Spearman with the same architectures' final CIFAR-10 test accuracy from
  ``nb201-analog`` (task cifar10; the GradSign authors correlate with test accuracy);
* median seconds per architecture, each proxy alone and the full set together
  (model build excluded), on ``--timing-n`` architectures with ``--threads`` threads;

plus the label-free ensemble. Scores are cached in a JSON-lines file so an interrupted run
resumes and a changed proxy can be recomputed alone (``--recompute NAME``).

Usage::

    python benchmarks/proxies_nb201.py --json results/proxies_nb201.json
    python benchmarks/proxies_nb201.py --n 50 --proxies synflow,nwot --timing-n 0
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nasrank.data import load_batch
from nasrank.metrics import kendall, spearman, top_k_precision
from nasrank.proxies import LABEL_FREE_ENSEMBLE, PROXIES, RankEnsemble, score
from nasrank.spaces import get_space

logger = logging.getLogger("proxies_nb201")

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data"

#: Issue-4 reference Spearman values (stored Suite-Zero scores vs val_accuracy, 725 archs).
ISSUE_REFERENCE = {
    "nwot": 0.786, "jacov": 0.766, "params": 0.738, "synflow": 0.736, "l2_norm": 0.725,
    "flops": 0.711, "epe_nas": 0.667, "snip": 0.608, "grad_norm": 0.606, "grasp": 0.539,
    "fisher": 0.509, "plain": -0.257,
}
#: Targets for proxies without stored scores (Spearman with val_accuracy).
TARGETS = {"gradsign": 0.77, "meco": 0.85, "label_free_ensemble": 0.88}
#: Proxies whose scores must match the stored ones per architecture.
AGREEMENT_REQUIRED = ("params", "flops", "synflow")
#: Further ensembles reported for comparison (not used for the pass/fail targets).
OTHER_ENSEMBLES = (
    RankEnsemble(("meco", "nwot", "synflow"), name="ens:meco+nwot+synflow"),
    RankEnsemble(("meco", "nwot", "jacov", "synflow"), name="ens:meco+nwot+jacov+synflow"),
    RankEnsemble(("meco", "nwot"), name="ens:meco+nwot"),
    RankEnsemble(("nwot", "jacov", "synflow"), name="ens:nwot+jacov+synflow"),
    RankEnsemble(("meco", "jacov", "synflow", "swap"), name="ens:meco+jacov+synflow+swap"),
)
#: The proxies of issue 4 (the default set benchmarked here).
ISSUE_PROXIES = (
    "epe_nas", "fisher", "flops", "grad_norm", "gradsign", "grasp", "jacov", "l2_norm", "meco",
    "nwot", "params", "plain", "snip", "swap", "synflow", "zen", "zico",
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-root", type=Path, default=DEFAULT_DATA,
                   help="folder with nas-bench-suite-zero/ and cifar10-mini/ (default %(default)s)")
    p.add_argument("--task", default="cifar10", help="Suite-Zero task (default %(default)s)")
    p.add_argument("--n", type=int, default=None, help="score a seeded random subset of N archs")
    p.add_argument("--seed", type=int, default=0, help="batch, subset and init seed")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--proxies", default=",".join(ISSUE_PROXIES),
                   help="comma-separated names or 'all' (default: the issue-4 set)")
    p.add_argument("--threads", type=int, default=2, help="torch threads (default %(default)s)")
    p.add_argument("--timing-n", type=int, default=30,
                   help="archs timed per proxy alone and as a full set (0: no timing)")
    p.add_argument("--cache", type=Path, default=Path("/tmp/nasrank_proxies_nb201_cache.jsonl"),
                   help="JSON-lines score cache (resume / partial recompute)")
    p.add_argument("--no-cache", action="store_true", help="ignore and do not write the cache")
    p.add_argument("--recompute", default="", help="comma-separated proxies to recompute")
    p.add_argument("--reverse", action="store_true",
                   help="score in reverse order (a second process can then share the work)")
    p.add_argument("--bootstrap", type=int, default=2000,
                   help="bootstrap resamples for the 95 %% interval of Spearman (0: none)")
    p.add_argument("--json", type=Path, default=None, help="write results JSON here")
    return p.parse_args(argv)


def load_cache(path: Path) -> dict[str, dict[str, Any]]:
    cache: dict[str, dict[str, Any]] = {}
    if not path.is_file():
        return cache
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        entry = cache.setdefault(row["arch"], {"scores": {}, "reasons": {}})
        entry["scores"].update(row["scores"])
        entry["reasons"].update(row.get("reasons", {}))
        for name in row["scores"]:
            if name not in row.get("reasons", {}):
                entry["reasons"].pop(name, None)
    return cache


def build(space: Any, key: str, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return space.build(space.canonical(key), num_classes=10)


def timed_score(model: torch.nn.Module, batch: Any, names: list[str], seed: int
                ) -> tuple[float, float]:
    """(wall seconds, process CPU seconds) of one score call."""
    c0, w0 = time.process_time(), time.perf_counter()
    score(model, batch, names, seed=seed)
    return time.perf_counter() - w0, time.process_time() - c0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    torch.set_num_threads(args.threads)
    names = PROXIES.names() if args.proxies == "all" else [
        PROXIES.get(n.strip()).name for n in args.proxies.split(",") if n.strip()
    ]
    recompute = {n.strip() for n in args.recompute.split(",") if n.strip()}

    table_path = args.data_root / "nas-bench-suite-zero" / "zc_nasbench201.json"
    cifar = args.data_root / "cifar10-mini"
    if not table_path.is_file() or not cifar.is_dir():
        logger.error("needs %s and %s (pass --data-root)", table_path, cifar)
        return 2
    table = json.loads(table_path.read_text())[args.task]
    keys = list(table)
    if args.n is not None and args.n < len(keys):
        rng = np.random.default_rng(args.seed)
        keys = [keys[i] for i in sorted(rng.choice(len(keys), size=args.n, replace=False))]
    batch = load_batch(f"cifar10:{cifar}", batch_size=args.batch_size, seed=args.seed)
    space = get_space("nb201")
    logger.info("%d archs, %d proxies, batch %s, %d threads", len(keys), len(names),
                batch.source, torch.get_num_threads())

    cache = {} if args.no_cache else load_cache(args.cache)
    out = None if args.no_cache else args.cache.open("a")
    start = time.perf_counter()
    full_set_seconds: list[float] = []
    for i, key in enumerate(reversed(keys) if args.reverse else keys):
        have = cache.get(key, {"scores": {}, "reasons": {}})
        todo = [n for n in names if n not in have["scores"] or n in recompute]
        if todo:
            model = build(space, key, args.seed)
            r = score(model, batch, todo, seed=args.seed)
            if len(todo) == len(names):
                full_set_seconds.append(r.total_seconds)
            have["scores"].update({k: (None if math.isnan(v) else v) for k, v in r.items()})
            for k in todo:
                have["reasons"].pop(k, None)
            have["reasons"].update(r.reasons)
            cache[key] = have
            if out is not None:
                out.write(json.dumps({"arch": key, "scores": {k: have["scores"][k] for k in todo},
                                      "reasons": {k: r.reasons[k] for k in todo
                                                  if k in r.reasons}}) + "\n")
                out.flush()
        if (i + 1) % 25 == 0 or i + 1 == len(keys):
            el = time.perf_counter() - start
            logger.info("scored %d/%d archs, %.0f s elapsed, ~%.0f s left", i + 1, len(keys),
                        el, el / (i + 1) * (len(keys) - i - 1))
    if out is not None:
        out.close()

    # ---- timing ------------------------------------------------------------------------
    timing: dict[str, Any] = {}
    if args.timing_n > 0:
        rng = np.random.default_rng(args.seed + 1)
        tkeys = [keys[i] for i in rng.choice(len(keys), size=min(args.timing_n, len(keys)),
                                             replace=False)]
        warm = build(space, tkeys[0], args.seed)
        score(warm, batch, names, seed=args.seed)  # warm-up (kernel selection, allocations)
        per: dict[str, list[tuple[float, float]]] = {n: [] for n in names}
        full: list[tuple[float, float]] = []
        for j, key in enumerate(tkeys):
            model = build(space, key, args.seed)
            full.append(timed_score(model, batch, names, args.seed))
            for n in names:
                per[n].append(timed_score(model, batch, [n], args.seed))
            logger.info("timed %d/%d archs", j + 1, len(tkeys))
        timing = {
            "n_archs": len(tkeys),
            "threads": torch.get_num_threads(),
            "load_average": list(_loadavg()),
            "full_set": _time_stats(full),
            "per_proxy": {n: _time_stats(v) for n, v in per.items()},
        }

    # ---- metrics -----------------------------------------------------------------------
    truth = np.array([table[k]["val_accuracy"] for k in keys], dtype=np.float64)
    final = _final_accuracy(keys) if args.task == "cifar10" else None
    pool = [{n: (math.nan if cache[k]["scores"].get(n) is None else cache[k]["scores"][n])
             for n in names} for k in keys]
    rows: dict[str, dict[str, Any]] = {}
    for n in names:
        ours = np.array([p[n] for p in pool], dtype=np.float64)
        row: dict[str, Any] = {
            "spearman": spearman(ours, truth),
            "kendall": kendall(ours, truth),
            "top10_precision": top_k_precision(ours, truth, 0.1),
            "nan_count": int(np.isnan(ours).sum()),
        }
        if args.bootstrap > 0:
            row["spearman_ci95"] = _bootstrap_ci(ours, truth, args.bootstrap, args.seed)
        if final is not None:
            row["spearman_final_accuracy"] = spearman(ours, final)
        reasons = sorted({cache[k]["reasons"][n] for k in keys if n in cache[k]["reasons"]})
        if reasons:
            row["nan_reasons"] = reasons[:5]
        if any(n in table[k] for k in keys):
            stored = np.array([_stored(table[k], n) for k in keys], dtype=np.float64)
            row["reference_spearman"] = spearman(stored, truth)
            row["abs_diff"] = abs(row["spearman"] - row["reference_spearman"])
            row["agreement_with_stored"] = spearman(ours, stored)
        if n in TARGETS:
            row["target"] = TARGETS[n]
        if timing:
            row["median_seconds"] = timing["per_proxy"][n]["median_wall"]
            row["median_cpu_seconds_per_thread"] = timing["per_proxy"][n]["median_cpu_per_thread"]
        rows[n] = row
    ensembles: dict[str, Any] = {}
    for ens in (LABEL_FREE_ENSEMBLE, *OTHER_ENSEMBLES):
        if all(m in names for m in ens.proxies):
            values = ens(pool)
            ensembles[ens.name] = {
                "members": list(ens.proxies),
                "spearman": spearman(values, truth),
                "kendall": kendall(values, truth),
                "top10_precision": top_k_precision(values, truth, 0.1),
            }
            if final is not None:
                ensembles[ens.name]["spearman_final_accuracy"] = spearman(values, final)
    if LABEL_FREE_ENSEMBLE.name in ensembles:
        ensembles[LABEL_FREE_ENSEMBLE.name]["target"] = TARGETS["label_free_ensemble"]

    result = {
        "benchmark": "nb201 cifar10 zero-cost proxies",
        "n": len(keys),
        "task": args.task,
        "batch": batch.source,
        "seed": args.seed,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "scoring_wall_seconds": time.perf_counter() - start,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "full_set_seconds_during_scoring": _summary(full_set_seconds),
        "proxies": rows,
        "ensembles": ensembles,
        "timing": timing,
    }
    _print_table(result)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2, default=_json_default))
        logger.info("wrote %s", args.json)
    return 0


def _final_accuracy(keys: list[str]) -> np.ndarray:
    """The archs' final CIFAR-10 test accuracy from ``nb201-analog`` (all 15,625 are covered)."""
    from nasrank.benchmarks import load_benchmark

    bench = load_benchmark("nb201-analog")
    return np.array([bench.query(k) for k in keys], dtype=np.float64)


def _bootstrap_ci(ours: np.ndarray, truth: np.ndarray, n_resamples: int, seed: int
                  ) -> list[float]:
    """95 % percentile-bootstrap interval of Spearman over architectures (NaN pairs dropped)."""
    from scipy import stats

    keep = ~(np.isnan(ours) | np.isnan(truth))
    res = stats.bootstrap(
        (ours[keep], truth[keep]),
        lambda x, y: stats.spearmanr(x, y).statistic,
        paired=True, vectorized=False, n_resamples=n_resamples, method="percentile",
        random_state=np.random.default_rng(seed),
    )
    return [float(res.confidence_interval.low), float(res.confidence_interval.high)]


def _stored(entry: dict[str, Any], name: str) -> float:
    v = entry.get(name)
    if isinstance(v, dict):
        v = v.get("score")
    return math.nan if v is None else float(v)


def _loadavg() -> tuple[float, float, float]:
    try:
        with open("/proc/loadavg") as f:
            a, b, c = f.read().split()[:3]
        return float(a), float(b), float(c)
    except OSError:
        return (math.nan, math.nan, math.nan)


def _time_stats(samples: list[tuple[float, float]]) -> dict[str, float]:
    threads = torch.get_num_threads()
    wall = [w for w, _ in samples]
    cpu = [c / threads for _, c in samples]
    return {
        "median_wall": statistics.median(wall),
        "min_wall": min(wall),
        "max_wall": max(wall),
        "median_cpu_per_thread": statistics.median(cpu),
    }


def _summary(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "n": len(values)}


def _json_default(o: object) -> object:
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    raise TypeError(type(o).__name__)


def _fmt(v: Any, spec: str = ".3f") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return format(v, spec)


def _print_table(result: dict[str, Any]) -> None:
    rows = result["proxies"]
    print(f"\nNB-201 {result['task']}, {result['n']} archs, batch {result['batch']}")
    print(f"{'proxy':<12}{'ours':>8}{'95% CI':>16}{'ref':>8}{'|diff|':>8}{'agree':>8}"
          f"{'kendall':>9}{'top10%':>8}{'NaN':>5}{'final':>8}{'med s':>8}{'cpu s':>8}  target")
    order = sorted(rows, key=lambda n: -(rows[n]["spearman"]
                                         if not math.isnan(rows[n]["spearman"]) else -9))
    for n in order:
        r = rows[n]
        target = ""
        if "target" in r:
            target = f">= {r['target']} {'ok' if r['spearman'] >= r['target'] else 'MISS'}"
        elif "abs_diff" in r:
            target = "within 0.05 " + ("ok" if r["abs_diff"] <= 0.05 else "OFF")
        if n in AGREEMENT_REQUIRED and "agreement_with_stored" in r:
            ok = r["agreement_with_stored"] >= 0.99
            target += f"; agree >= 0.99 {'ok' if ok else 'MISS'}"
        ci = r.get("spearman_ci95")
        ci_text = f"{ci[0]:.3f}..{ci[1]:.3f}" if ci else "-"
        print(f"{n:<12}{_fmt(r['spearman']):>8}{ci_text:>16}"
              f"{_fmt(r.get('reference_spearman')):>8}"
              f"{_fmt(r.get('abs_diff')):>8}{_fmt(r.get('agreement_with_stored')):>8}"
              f"{_fmt(r['kendall']):>9}{_fmt(r['top10_precision'], '.2f'):>8}{r['nan_count']:>5}"
              f"{_fmt(r.get('spearman_final_accuracy')):>8}{_fmt(r.get('median_seconds')):>8}"
              f"{_fmt(r.get('median_cpu_seconds_per_thread')):>8}  {target}")
    for name, e in result["ensembles"].items():
        target = ""
        if "target" in e:
            target = f">= {e['target']} {'ok' if e['spearman'] >= e['target'] else 'MISS'}"
        print(f"{name:<40}{_fmt(e['spearman']):>8}{_fmt(e['kendall']):>9}"
              f"{_fmt(e['top10_precision'], '.2f'):>8}"
              f"{_fmt(e.get('spearman_final_accuracy')):>8} (final)  {target}")
    t = result["timing"]
    if t:
        f = t["full_set"]
        print(f"full set: median {f['median_wall']:.3f} s wall ({f['median_cpu_per_thread']:.3f} s "
              f"CPU per thread) over {t['n_archs']} archs, {t['threads']} threads, load average "
              f"{t['load_average']}")


if __name__ == "__main__":
    raise SystemExit(main())
