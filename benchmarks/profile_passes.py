"""Where the proxy engine's time goes: each shared pass against one plain training step.

For ``--archs`` seeded NB-201 architectures (each initialised as the scoring service
does, from the per-architecture seed), this script times, side by side on the same
network and batch:

* one plain training step: a train-mode forward, the cross-entropy loss and its backward
  (the unit of cost; "passes" below are multiples of it), best of ``--repeats``;
* one ``nasrank.proxies.score`` call with the proxy set (default: every registered proxy
  except the language-model ones, ``wpca`` and ``hidden_covariance``), recording each
  shared pass's exclusive seconds (``ScoreResult.pass_seconds``) and the rest (the
  proxies' own work: synflow's and zen's passes, per-proxy reductions).

It prints, per pass, the median seconds and the median ratio to the plain step, and the
same for the whole call, and writes them with the per-architecture rows to ``--json``.
Interleaving keeps both under the same machine load; the ratios are what to compare
across commits (``--threads`` fixes torch's threads; use 1 on a shared machine).

    python benchmarks/profile_passes.py --archs 20 --threads 2 --json results/profile_passes.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from nasrank.data import load_batch
from nasrank.proxies import PROXIES, score
from nasrank.spaces import get_space
from nasrank.store import build_model

LM_PROXIES = {"wpca", "hidden_covariance"}


def plain_step(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, repeats: int) -> float:
    """Best-of-``repeats`` seconds of one train-mode forward + loss + backward."""
    model.train()
    best = float("inf")
    for _ in range(repeats):
        model.zero_grad(set_to_none=True)
        start = time.perf_counter()
        F.cross_entropy(model(x), y).backward()
        best = min(best, time.perf_counter() - start)
    return best


def profile_arch(space, arch: str, batch, proxies: list[str], repeats: int) -> dict:
    model = build_model(space, arch, seed=0)
    plain = plain_step(build_model(space, arch, seed=0), batch.inputs, batch.targets, repeats)
    result = score(model, batch, proxies, seed=0)
    passes = dict(result.pass_seconds)
    passes["rest (proxies' own work)"] = result.total_seconds - sum(result.pass_seconds.values())
    return {
        "arch": arch,
        "plain_step_seconds": plain,
        "total_seconds": result.total_seconds,
        "pass_seconds": passes,
        "nan": sorted(k for k, v in result.items() if v != v),
    }


def summarise(rows: list[dict]) -> dict:
    keys = sorted({k for r in rows for k in r["pass_seconds"]})
    table = {
        k: {
            "median_seconds": statistics.median(r["pass_seconds"].get(k, 0.0) for r in rows),
            "median_plain_steps": statistics.median(
                r["pass_seconds"].get(k, 0.0) / r["plain_step_seconds"] for r in rows
            ),
        }
        for k in keys
    }
    table["whole call"] = {
        "median_seconds": statistics.median(r["total_seconds"] for r in rows),
        "median_plain_steps": statistics.median(
            r["total_seconds"] / r["plain_step_seconds"] for r in rows
        ),
    }
    return table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--archs", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--data", default="synthetic", help="a nasrank data spec (default synthetic)")
    ap.add_argument("--proxies", default=None, help="comma-separated (default: all but LM ones)")
    ap.add_argument("--repeats", type=int, default=3, help="plain steps per arch (best kept)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    proxies = (
        args.proxies.split(",")
        if args.proxies
        else [p for p in PROXIES.names() if p not in LM_PROXIES]
    )
    space = get_space("nb201")
    batch = load_batch(args.data, batch_size=args.batch_size, seed=0)
    rows = []
    for i in range(args.archs):
        rows.append(profile_arch(space, space.sample(seed=i), batch, proxies, args.repeats))
        r = rows[-1]
        steps = r["total_seconds"] / r["plain_step_seconds"]
        print(f"{i + 1}/{args.archs} plain {r['plain_step_seconds']:.3f} s, "
              f"score {r['total_seconds']:.2f} s ({steps:.1f} steps)", flush=True)  # fmt: skip
    table = summarise(rows)
    width = max(len(k) for k in table)
    print(f"\n{'pass':<{width}}  median s  plain steps")
    for k, v in sorted(table.items(), key=lambda kv: -kv[1]["median_seconds"]):
        print(f"{k:<{width}}  {v['median_seconds']:8.3f}  {v['median_plain_steps']:11.2f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        info = {
            "archs": args.archs, "threads": args.threads, "batch_size": args.batch_size,
            "data": args.data, "proxies": proxies, "load_average": list(os.getloadavg()),
        }  # fmt: skip
        args.json.write_text(json.dumps({**info, "summary": table, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
