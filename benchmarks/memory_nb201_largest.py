"""Peak memory of one proxy call on the largest NB-201 network, for this checkout and others.

Each child process (one per checkout and proxy set, one torch thread) builds the network
with every edge ``nor_conv_3x3`` (the most parameters and activations of the space) for
10 classes, scores it on a seeded synthetic CIFAR-sized batch of ``--batch-size`` with the
given proxies, and reports ``getrusage(RUSAGE_SELF).ru_maxrss`` before and after scoring
(MiB) and the scores, so checkouts can be compared side by side (memory does not depend
on machine load, unlike time).

    git worktree add /tmp/nasrank-old <old-commit>
    python benchmarks/memory_nb201_largest.py --against /tmp/nasrank-old \\
        --sets vkdnw,vkdnw_single all --json results/memory_nb201_largest.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LARGEST = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+"
    "|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
)

CHILD = r"""
import json, resource, sys
sys.path.insert(0, sys.argv[1])
import torch
torch.set_num_threads(1)
import nasrank
assert nasrank.__file__.startswith(sys.argv[1]), (nasrank.__file__, sys.argv[1])
from nasrank.data import load_batch
from nasrank.proxies import PROXIES, score
from nasrank.spaces import get_space
from nasrank.store import build_model
proxies = list(PROXIES.names()) if sys.argv[3] == "all" else sys.argv[3].split(",")
batch = load_batch("synthetic", batch_size=int(sys.argv[4]), seed=0)
model = build_model(get_space("nb201"), sys.argv[2], seed=0, num_classes=10)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
result = score(model, batch, proxies, seed=0)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"before_mib": before, "peak_mib": after, "proxies": proxies,
                  "scores": dict(result)}))
"""


def child(checkout: Path, proxies: str, batch_size: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(checkout), LARGEST, proxies, str(batch_size)],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--against", type=Path, action="append", default=[], help="other checkouts")
    p.add_argument("--sets", nargs="+", default=["all"], help="proxy sets: 'all' or a,b,c")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    rows = []
    for proxies in args.sets:
        for checkout in [REPO, *args.against]:
            r = child(checkout, proxies, args.batch_size)
            label = "this" if checkout == REPO else str(checkout)
            rows.append({"checkout": label, "set": proxies, **r})
            print(
                f"{label:24s} {proxies[:40]:40s} before {r['before_mib']:7.0f} MiB, "
                f"peak {r['peak_mib']:7.0f} MiB",
                flush=True,
            )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {"arch": LARGEST, "batch_size": args.batch_size, "runs": rows}
        args.json.write_text(json.dumps(payload, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
