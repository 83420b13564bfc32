"""Seconds per NB-201 architecture of each proxy alone and of proxy sets, against NASLib.

For ``--archs`` seeded NB-201 architectures (initialised as the scoring service does),
on one batch of ``--batch-size`` CIFAR-10 training images, this times one
``nasrank.proxies.score`` call per proxy (its passes included), one call with NASLib's
13-proxy set and one with the full NB-201 set (every registered proxy but the language-
model ones), interleaved per architecture so that all see the same machine load. It
prints per proxy the median seconds and the ratio to NASLib's median on this machine
(``NASLIB_MEDIANS``: NASLib's ``zerocost`` predictors, batch 64, measured for issue 22 on
this 2-core machine; nasrank's names for them).

    python benchmarks/proxy_times_nb201.py --archs 20 --json results/proxy_times_nb201.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
from pathlib import Path

import torch

from nasrank.data import load_batch
from nasrank.proxies import PROXIES, score
from nasrank.spaces import get_space
from nasrank.store import build_model

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "cifar10-mini"
#: NASLib's median seconds per NB-201 architecture (batch 64, this machine; issue 22).
NASLIB_MEDIANS = {
    "synflow": 0.467, "grad_norm": 0.805, "snip": 0.808, "fisher": 0.842, "jacov": 0.799,
    "nwot": 0.686, "plain": 0.798, "epe_nas": 0.796, "zen": 0.769, "grasp": 2.033,
    "l2_norm": 0.007, "flops": 0.155, "params": 0.155,
}  # fmt: skip
NASLIB_SET_MEDIAN = 9.17
LM_PROXIES = {"wpca", "hidden_covariance"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--archs", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--data", default=f"cifar10:{DEFAULT_DATA}")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    space = get_space("nb201")
    batch = load_batch(args.data, batch_size=args.batch_size, seed=0)
    full = [p for p in PROXIES.names() if p not in LM_PROXIES]
    calls = {name: [name] for name in NASLIB_MEDIANS}
    calls["naslib set (13)"] = list(NASLIB_MEDIANS)
    calls[f"full set ({len(full)})"] = full
    seconds: dict[str, list[float]] = {k: [] for k in calls}
    for i in range(args.archs):
        arch = space.sample(seed=i)
        for label, names in calls.items():
            seconds[label].append(
                score(build_model(space, arch, seed=0), batch, names).total_seconds
            )
        print(f"{i + 1}/{args.archs} {arch}: 13-set {seconds['naslib set (13)'][-1]:.2f} s",
              flush=True)  # fmt: skip
    naslib = {**NASLIB_MEDIANS, "naslib set (13)": NASLIB_SET_MEDIAN}
    rows = {}
    for label, values in seconds.items():
        median = statistics.median(values)
        ref = naslib.get(label)
        rows[label] = {"median_seconds": median, "naslib_median_seconds": ref,
                       "naslib_over_nasrank": None if ref is None else ref / median}  # fmt: skip
    width = max(len(k) for k in rows)
    print(f"\n{'proxy':<{width}}  nasrank s  NASLib s  NASLib/nasrank")
    for label, r in rows.items():
        ref = "" if r["naslib_median_seconds"] is None else f"{r['naslib_median_seconds']:8.3f}"
        ratio = "" if r["naslib_over_nasrank"] is None else f"{r['naslib_over_nasrank']:14.1f}"
        print(f"{label:<{width}}  {r['median_seconds']:9.3f}  {ref:>8}  {ratio:>14}")
    if args.json:
        info = {"archs": args.archs, "threads": args.threads, "batch_size": args.batch_size,
                "data": batch.source, "load_average": list(os.getloadavg())}  # fmt: skip
        args.json.write_text(json.dumps({**info, "rows": rows, "seconds": seconds}, indent=1))


if __name__ == "__main__":
    main()
