"""Time the proxy engine per NB-201 architecture against another checkout, side by side.

Child processes alternate between this checkout and ``--against`` (e.g. a ``git worktree``
of an older commit), ``--rounds`` times each, so both see the same machine load. Each
child scores the same ``--archs`` NB-201 architectures (seeded sample; per-architecture
seed as the scoring service uses) with every registered proxy on a seeded synthetic
CIFAR-sized batch, on one torch thread, and reports the median seconds per architecture
and, per proxy, how many architectures got bit-identical scores from the two checkouts,
the largest relative difference and the Spearman correlation between them
(``--proxies`` restricts the set).

    git worktree add /tmp/nasrank-old <old-commit>
    python benchmarks/engine_speed.py --against /tmp/nasrank-old --json results/engine_speed.json
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
from pathlib import Path

from scipy.stats import spearmanr

REPO = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, statistics, sys, time
sys.path.insert(0, sys.argv[1])
import torch
torch.set_num_threads(1)
import nasrank
assert nasrank.__file__.startswith(sys.argv[1]), (nasrank.__file__, sys.argv[1])
from nasrank.data import load_batch
from nasrank.proxies import PROXIES, score
from nasrank.spaces import get_space
from nasrank.store import build_model
space = get_space("nb201")
archs = [space.sample(seed=i) for i in range(int(sys.argv[2]))]
batch = load_batch("synthetic", batch_size=64, seed=0)
proxies = sys.argv[3].split(",") if len(sys.argv) > 3 else list(PROXIES.names())
times, values = [], []
for arch in archs:
    model = build_model(space, arch, seed=0, num_classes=10)
    t0 = time.perf_counter()
    r = score(model, batch, proxies, seed=0)
    times.append(time.perf_counter() - t0)
    values.append({k: (None if v != v else v) for k, v in r.items()})
print(json.dumps({"median_s": statistics.median(times), "times": times, "scores": values}))
"""


def child(repo: Path, archs: int, proxies: str | None = None) -> dict:
    extra = [proxies] if proxies else []
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(repo), str(archs), *extra],
        capture_output=True, text=True, check=True, env={"OMP_NUM_THREADS": "1", "PATH": ""},
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def agreement(this: list[dict], against: list[dict]) -> dict:
    """Per proxy: architectures with bit-identical scores, the largest relative
    difference, and the Spearman correlation of the two checkouts' scores."""
    out = {}
    for name in this[0]:
        pairs = [(a.get(name), b.get(name)) for a, b in zip(this, against)]
        finite = [(a, b) for a, b in pairs if a is not None and b is not None]
        rel = [abs(a - b) / max(abs(a), abs(b), 1e-300) for a, b in finite]
        rho = spearmanr(*zip(*finite)).statistic if len(finite) > 2 else math.nan
        out[name] = {
            "identical": sum(a == b for a, b in pairs),
            "both_nan": sum(a is None and b is None for a, b in pairs),
            "max_rel_diff": max(rel, default=0.0),
            "spearman": None if rho != rho else float(rho),
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--against", type=Path, required=True, help="the other checkout")
    ap.add_argument("--archs", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--proxies", default=None, help="comma-separated (default: all)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    runs: dict[str, list[dict]] = {"this": [], "against": []}
    for r in range(args.rounds):
        for label, repo in (("against", args.against), ("this", REPO)):
            runs[label].append(child(repo, args.archs, args.proxies))
            print(f"round {r + 1} {label}: median {runs[label][-1]['median_s']:.3f} s/arch",
                  flush=True)  # fmt: skip
    medians = {k: statistics.median(x["median_s"] for x in v) for k, v in runs.items()}
    same = sum(a == b for a, b in zip(runs["this"][0]["scores"], runs["against"][0]["scores"]))
    summary = {
        "archs": args.archs,
        "rounds": args.rounds,
        "median_s_per_arch": medians,
        "ratio_this_over_against": medians["this"] / medians["against"],
        "archs_with_identical_scores": same,
        "per_proxy": agreement(runs["this"][0]["scores"], runs["against"][0]["scores"]),
        "scores_this": runs["this"][0]["scores"],
        "scores_against": runs["against"][0]["scores"],
    }
    print(json.dumps({k: v for k, v in summary.items() if not k.startswith("scores")}, indent=1))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
