"""Write the shipped NB-201 / CIFAR-10 proxy table from a score store, and check it.

Reads the store that ``nasrank score-space`` filled (read-only: safe while the scoring
job is still writing), keeps the architectures with every proxy stored, and writes
``nasrank/tables/data/nb201-cifar10.npz`` + ``.json`` (package data, in the wheel). Then
loads the table back and prints its size, its coverage of the 15,625 architectures, the
NaN count per proxy, and each proxy's Spearman / Kendall rank correlation with the
``nb201-analog`` CIFAR-10 accuracy over the architectures covered.

The scores are those of three ``nasrank score-space`` commands into one store (same data,
batch, seed; each resumable)::

    D="--space nb201 --data cifar10:../shared/data/cifar10-mini --batch-size 64 --seed 0 \\
       --pool all --store runs/nb201_cifar10.sqlite"
    nasrank score-space $D --proxies params,flops,l2_norm,synflow,nwot,meco,swap,jacov \\
        --workers 2 --threads 1
    nasrank score-space $D --proxies grad_norm,snip,fisher,plain,epe_nas,grasp,gradsign,zico,zen \\
        --workers 1 --threads 2     # grasp peaks near 2 GiB: one worker keeps the job under 3 GB
    nasrank score-space $D --proxies wpca,hidden_covariance --workers 2 --threads 1

Columns scored later (AZ-NAS's, issue 21) go into a store of their own and join the
shipped ones (same data, seed and batch; ``nasrank.tables.join_tables`` refuses others)::

    nasrank score-space $D --proxies az_expressivity,az_progressivity,az_trainability \
        --workers 2 --threads 1
    python benchmarks/ship_nb201_table.py --store runs/nb201_cifar10.sqlite --join nb201-cifar10

Usage::

    python benchmarks/ship_nb201_table.py --store runs/nb201_cifar10.sqlite
    python benchmarks/ship_nb201_table.py --store S --out /tmp/t.npz --json ship.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA_TEXT = "cifar10:../shared/data/cifar10-mini"  # as the scoring command spells it
DEFAULT_OUT = ROOT / "nasrank" / "tables" / "data" / "nb201-cifar10.npz"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--store", required=True, help="the score store (opened read-only)")
    p.add_argument(
        "--data", default=DATA_TEXT, help=f"data spec of the scores (default {DATA_TEXT})"
    )
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--data-key",
        help="the store's data key (default: the fingerprint of the --data batch, or the "
        "store's only nb201 run with --seed when the data is not on this machine)",
    )
    p.add_argument(
        "--proxies",
        help="comma list (default: every proxy stored for the run for as many archs as the "
        "best covered one)",
    )
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default {DEFAULT_OUT}")
    p.add_argument("--command", help="the scoring command recorded in the metadata")
    p.add_argument(
        "--join",
        metavar="TABLE",
        help="keep this table's columns (a shipped name or NAME.npz, of the same run) and add "
        "the store's beside them, e.g. --join nb201-cifar10 for columns scored later",
    )
    p.add_argument("--json", type=Path, help="write the summary as JSON")
    return p.parse_args(argv)


def data_key_of(args: argparse.Namespace, store: Any) -> str:
    """The run's data key: computed from the batch when the data is here, else the
    store's only nb201 run with this seed."""
    if args.data_key:
        return str(args.data_key)
    from nasrank.data import load_batch
    from nasrank.errors import NasrankError
    from nasrank.store import data_key

    spec = args.data
    scheme, _, rest = spec.partition(":")
    if rest and not Path(rest).expanduser().is_absolute():
        spec = f"{scheme}:{(ROOT / rest).resolve()}"  # relative to the repository root
    runs = [r for r in store.runs() if r["space"] == "nb201" and r["seed"] == args.seed]
    try:
        batch = load_batch(spec, batch_size=args.batch_size, seed=args.seed)
        key = data_key(batch, {"num_classes": batch.num_classes})
        if not any(r["data"] == key for r in runs):
            sys.exit(
                f"the store has no nb201 run on {args.data} (fingerprint {key}), seed "
                f"{args.seed}; its runs: {[r['data'] for r in runs]}"
            )
        return key
    except NasrankError as exc:
        if len(runs) != 1:
            sys.exit(
                f"cannot load {args.data} ({exc}) and the store has {len(runs)} nb201 "
                "runs for this seed; give --data-key"
            )
        print(
            f"note: {args.data} not loadable here ({exc}); using the store's only run "
            f"{runs[0]['data']}",
            flush=True,
        )
        return str(runs[0]["data"])


def complete_proxies(store_path: str, key: str, seed: int, names: list[str]) -> list[str]:
    """The proxies among ``names`` stored for as many architectures as the best covered one
    (a proxy still being computed would shrink the table to the archs it has reached)."""
    import sqlite3

    from nasrank.proxies import PROXIES

    with sqlite3.connect(f"file:{store_path}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT proxy, version, COUNT(*) FROM scores WHERE space = 'nb201' AND data = ? "
            "AND seed = ? GROUP BY proxy, version",
            (key, seed),
        ).fetchall()
    counts = {p: n for p, v, n in rows if p in names and v == PROXIES.get(p).store_version}
    most = max((counts.get(n, 0) for n in names), default=0)
    partial = [f"{n} ({counts.get(n, 0):,})" for n in names if counts.get(n, 0) < most]
    if partial:
        print(f"left out, not yet stored for all {most:,} archs: {', '.join(partial)}")
    return [n for n in names if counts.get(n, 0) == most]


def scoring_timeline(
    store_path: str, key: str, seed: int, names: list[str], gap: float = 300.0
) -> list[dict[str, Any]]:
    """When the store's rows were written, per group of proxies scored together.

    Rows of one proxy are split into runs wherever no row was written for ``gap`` seconds
    (a stopped job, restarted later). A run's wall time is its first-to-last write plus
    one median interval (the first architecture's own time); proxies whose runs coincide
    were one command and are reported together. A stop shorter than ``gap`` counts as
    running time, so the total is an upper bound (one architecture on a loaded machine can
    take over a minute, so ``gap`` must stay well above that).
    """
    import sqlite3
    import statistics

    with sqlite3.connect(f"file:{store_path}?mode=ro", uri=True) as conn:
        groups: dict[tuple, list[str]] = {}
        for name in names:
            times = sorted(
                t
                for (t,) in conn.execute(
                    "SELECT created FROM scores WHERE space = 'nb201' AND data = ? AND seed = ? "
                    "AND proxy = ?",
                    (key, seed, name),
                )
            )
            if len(times) < 2:
                continue
            steps = [b - a for a, b in zip(times, times[1:])]
            tick = statistics.median(steps)
            runs, start = [], 0
            for i, step in enumerate(steps, 1):
                if step > gap:
                    runs.append((times[start], times[i - 1], i - start))
                    start = i
            runs.append((times[start], times[-1], len(times) - start))
            spans = tuple((round(first), round(last - first + tick), n) for first, last, n in runs)
            groups.setdefault(spans, []).append(name)
    out = []
    for spans, proxies in groups.items():
        runs = [
            {"started": time.strftime("%Y-%m-%d %H:%M", time.gmtime(f)), "seconds": w, "archs": n}
            for f, w, n in spans
        ]
        wall, archs = sum(w for _, w, _ in spans), sum(n for _, _, n in spans)
        out.append(
            {
                "proxies": proxies,
                "runs": runs,
                "wall_seconds": wall,
                "archs": archs,
                "seconds_per_arch": wall / archs,
            }
        )
    return out


def median_engine_seconds(store_path: str, key: str, seed: int, names: list[str]) -> float:
    """Median over architectures of the engine seconds stored for all ``names`` together
    (the proxies' own time, without model building or waiting for a worker)."""
    import sqlite3
    import statistics

    marks = ",".join("?" * len(names))
    with sqlite3.connect(f"file:{store_path}?mode=ro", uri=True) as conn:
        totals = [
            t
            for (t,) in conn.execute(
                f"SELECT SUM(seconds) FROM scores WHERE space = 'nb201' AND data = ? AND seed = ? "
                f"AND proxy IN ({marks}) GROUP BY arch",
                (key, seed, *names),
            )
        ]
    return statistics.median(totals) if totals else float("nan")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from nasrank.benchmarks import load_benchmark
    from nasrank.metrics import kendall, spearman, top_k_precision
    from nasrank.store import ScoreStore
    from nasrank.tables import (
        export_table,
        join_tables,
        load_table,
        stored_proxy_names,
        table_paths,
    )

    store = ScoreStore(args.store, read_only=True)
    key = data_key_of(args, store)
    if args.proxies:
        proxies = [p.strip() for p in args.proxies.split(",") if p.strip()]
    else:
        proxies = complete_proxies(
            args.store, key, args.seed, stored_proxy_names(store, "nb201", key, args.seed)
        )
    command = args.command or (
        f"nasrank score-space --space nb201 --data {args.data} --batch-size {args.batch_size} "
        f"--seed {args.seed} --proxies {','.join(proxies)} --pool all --store "
        f"{Path(args.store).name}"
    )
    base = load_table(args.join) if args.join else None  # read before --out may replace it
    if base is not None:
        proxies = [p for p in proxies if p not in base.proxies]
    scratch = args.out.with_name(args.out.stem + ".store.npz")  # the store's columns alone
    t0 = time.perf_counter()
    table = export_table(
        store,
        "nb201",
        key,
        args.seed,
        proxies,
        args.out if base is None else scratch,
        data_spec=args.data,
        command=command,
        extra={"exported_by": "python benchmarks/ship_nb201_table.py"},
    )
    if base is not None:
        join_tables(base, table, name=args.out.stem).save(args.out)
        for path in table_paths(scratch):
            path.unlink()
    export_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    table = load_table(args.out)
    load_s = time.perf_counter() - t0
    npz, js = table_paths(args.out)
    size = npz.stat().st_size + js.stat().st_size
    covered, total = table.coverage
    print(table.describe())
    print(
        f"files: {npz} ({npz.stat().st_size:,} B) + {js.name} ({js.stat().st_size:,} B) = "
        f"{size / 1e6:.3f} MB; export {export_s:.2f} s, load {load_s:.3f} s"
    )
    print(f"coverage: {covered:,} of {total:,} architectures ({100 * covered / total:.2f} %)")

    bench = load_benchmark("nb201-analog")
    acc = [bench.query(a) for a in table.archs]
    rows = []
    for j, p in enumerate(table.proxies):
        col = table.values[:, j].astype(float)
        rows.append(
            {
                "proxy": p,
                "nan": int(table.meta["nan_counts"][p]),
                "spearman": spearman(col, acc),
                "kendall": kendall(col, acc),
                "top10": top_k_precision(col, acc, 0.1),
            }
        )
    print(
        f"\nrank correlation with nb201-analog accuracy over the {covered:,} covered archs "
        "(NaN pairs dropped):"
    )
    print("| proxy | NaN | Spearman | Kendall | top-10 % precision |")
    print("|---|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['proxy']} | {r['nan']} | {r['spearman']:.3f} | {r['kendall']:.3f} | "
            f"{r['top10']:.3f} |"
        )
    timeline = scoring_timeline(args.store, key, args.seed, list(table.proxies))
    for g in timeline:
        g["median_engine_seconds_per_arch"] = median_engine_seconds(
            args.store, key, args.seed, g["proxies"]
        )
    engine_median = median_engine_seconds(args.store, key, args.seed, list(table.proxies))
    print("\nwhen the store was filled (runs split at stops of 5 min or more):")
    for g in timeline:
        runs = " + ".join(f"{r['archs']:,} archs in {r['seconds']:,} s" for r in g["runs"])
        print(
            f"  {','.join(g['proxies'])}: {len(g['runs'])} run(s): {runs} = "
            f"{g['wall_seconds']:,} s for {g['archs']:,} archs ({g['seconds_per_arch']:.2f} s "
            f"each; median engine time {g['median_engine_seconds_per_arch']:.3f} s)"
        )
    wall = sum(g["wall_seconds"] for g in timeline)
    print(
        f"  all {len(table.proxies)} proxies: {wall:,} s of wall time ({wall / 3600:.2f} h); "
        f"median engine time per architecture {engine_median:.3f} s"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {
                    "timeline": timeline,
                    "wall_seconds": wall,
                    "median_engine_seconds_per_arch": engine_median,
                    "table": table.meta,
                    "bytes": size,
                    "coverage": [covered, total],
                    "export_seconds": export_s,
                    "load_seconds": load_s,
                    "correlations": rows,
                },
                indent=2,
                default=str,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
