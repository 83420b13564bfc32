"""Carry a shipped table over a proxy's version bump when the new definition gives the
same scores on the table's space.

A proxy's version changes when its definition changes somewhere (e.g. nwot v2 also reads
functional and GELU-like nonlinearities); on a space where nothing changed (NB-201: only
``nn.ReLU`` modules) the table's stored scores are still those of the new version. This
script recomputes ``--proxies`` for ``--archs`` seeded architectures of the table with
the current engine and the table's data and seed, through the scoring service, and
compares them with

* the table's stored values at the table's precision (float32), or, with
  ``--against CHECKOUT``,
* the scores the engine of another checkout (the commit before the bump, e.g. a
  ``git worktree``) computes in a child process on the same machine, bit for bit in
  float64 -- the test to use when the table was computed under other conditions (thread
  count, machine) whose rounding the stored values carry.

Only if every value is identical are the current versions recorded in the table's
metadata (``meta["versions"]``; the arrays, and so the checksum, are untouched). The
largest relative difference from the stored values is reported either way.

    python benchmarks/revalidate_table.py --table nb201-cifar10 --proxies nwot,swap \
        --data cifar10:../shared/data/cifar10-mini --archs 200 --json results/revalidate.json
    python benchmarks/revalidate_table.py --proxies grasp --against /tmp/nasrank-old ...
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

import nasrank
from nasrank.data import load_batch
from nasrank.proxies import PROXIES
from nasrank.spaces import get_space
from nasrank.store import score_archs
from nasrank.tables import load_table

TABLES = Path(__file__).resolve().parents[1] / "nasrank" / "tables" / "data"


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--table", default="nb201-cifar10")
    ap.add_argument("--proxies", required=True)
    ap.add_argument("--data", help="the data the table was computed on (default its spec)")
    ap.add_argument("--archs", type=int, default=200)
    ap.add_argument("--against", type=Path, help="compare with this checkout's engine")
    ap.add_argument("--dry-run", action="store_true", help="compare only; write nothing")
    ap.add_argument("--emit", action="store_true", help=argparse.SUPPRESS)  # child mode
    ap.add_argument("--json", type=Path)
    return ap


def _compute(args: argparse.Namespace, table, proxies: list[str], archs: list[str]) -> np.ndarray:
    meta = table.meta
    data = meta["data"]
    batch = load_batch(args.data or data["spec"], batch_size=data["batch_size"], seed=meta["seed"])
    if batch.fingerprint() != data["key"] and not data["key"].startswith(batch.fingerprint()):
        print(f"warning: batch fingerprint {batch.fingerprint()} is not the table's {data['key']}",
              file=sys.stderr)  # fmt: skip
    scored = score_archs(get_space(meta["space"]), archs, proxies, batch, seed=meta["seed"],
                         build_kwargs=meta["build_kwargs"], store=None)  # fmt: skip
    return scored.matrix(archs).astype(np.float64)


def _other_checkout(args: argparse.Namespace) -> np.ndarray:
    """The same computation by ``--against``'s nasrank, in a child process."""
    argv = [sys.executable, __file__, "--emit", "--table", args.table, "--proxies", args.proxies,
            "--archs", str(args.archs)] + (["--data", args.data] if args.data else [])  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(args.against.resolve()), "OMP_NUM_THREADS": "1"}
    out = subprocess.run(argv, capture_output=True, text=True, check=True, env=env).stdout
    reply = json.loads(out.strip().splitlines()[-1])
    if not reply["nasrank"].startswith(str(args.against.resolve())):
        raise SystemExit(f"the child imported {reply['nasrank']}, not {args.against}")
    return np.array([[np.nan if v is None else v for v in row] for row in reply["values"]])


def _same(a: np.ndarray, b: np.ndarray, proxies: list[str]) -> dict[str, int]:
    return {p: int(np.sum((a[:, j] == b[:, j]) | (np.isnan(a[:, j]) & np.isnan(b[:, j]))))
            for j, p in enumerate(proxies)}  # fmt: skip


def main() -> int:
    args = _parser().parse_args()
    torch.set_num_threads(1)
    table = load_table(args.table)
    proxies = [p.strip() for p in args.proxies.split(",")]
    archs = random.Random(0).sample(list(table.archs), args.archs)
    new = _compute(args, table, proxies, archs)
    if args.emit:
        values = [[None if np.isnan(v) else float(v) for v in row] for row in new]
        print(json.dumps({"nasrank": nasrank.__file__, "values": values}))
        return 0
    stored = table.scores(archs, proxies)
    # the table stores its own dtype (float32): compare with it at that precision
    vs_table = _same(new.astype(table.values.dtype).astype(np.float64), stored, proxies)
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.abs(new - stored) / np.maximum(np.abs(stored), 1e-30)
    vs_other = _same(new, _other_checkout(args), proxies) if args.against else None
    same = vs_other if vs_other is not None else vs_table
    identical = all(v == len(archs) for v in same.values())
    summary = {
        "table": args.table,
        "archs": len(archs),
        "compared_with": f"engine of {args.against}" if args.against else "stored values",
        "identical": same,
        "identical_to_stored_float32": vs_table,
        "max_relative_difference_to_stored": {
            p: float(np.nanmax(rel[:, j])) if np.isfinite(rel[:, j]).any() else 0.0
            for j, p in enumerate(proxies)
        },
        "versions_before": {p: table.meta["versions"][p] for p in proxies},
        "versions_after": {p: PROXIES.get(p).store_version for p in proxies},
        "written": identical and not args.dry_run,
    }
    print(json.dumps(summary, indent=1))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1))
    if summary["written"]:
        path = TABLES / f"{args.table}.json"
        on_disk = json.loads(path.read_text())
        on_disk["versions"].update(summary["versions_after"])
        path.write_text(json.dumps(on_disk, indent=2) + "\n")
    return 0 if identical else 1


if __name__ == "__main__":
    raise SystemExit(main())
