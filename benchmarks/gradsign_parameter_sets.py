"""GradSign over two parameter sets on the 725 Suite-Zero NB-201 architectures.

nasrank's ``gradsign`` (like the authors' code) sums over the conv/linear weights; the paper's
theta is every parameter (batch-norm affine parameters and biases too). This script computes
both from the same per-sample gradients (batch of 64 cifar10-mini training images, seed 0,
models built as in ``proxies_nb201.py``) and reports each one's Spearman with
``val_accuracy`` (task cifar10). With ``--cache`` (the JSON-lines cache of
``proxies_nb201.py``) it also checks the weights-only sum against nasrank's stored scores.

    python benchmarks/gradsign_parameter_sets.py --json out.json [--cache CACHE] [--n N]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from scipy.stats import spearmanr
from torch import nn
from torch.func import functional_call, grad, replace_all_batch_norm_modules_, vmap

from nasrank.data import load_batch
from nasrank.spaces import get_space

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def sign_sums(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """(conv/linear weights, all parameters) of sum_theta |sum_n sign(dL_n/dtheta)|."""
    model.train()
    replace_all_batch_norm_modules_(model)  # each sample normalised by its own statistics
    params = {n: p.detach() for n, p in model.named_parameters()}
    weights = {
        f"{n}.weight" if n else "weight"
        for n, m in model.named_modules()
        if isinstance(m, (nn.Conv2d, nn.Linear))
    }

    def loss(p: dict[str, torch.Tensor], xi: torch.Tensor, yi: torch.Tensor) -> torch.Tensor:
        out = functional_call(model, p, (xi.unsqueeze(0),))
        return nn.functional.cross_entropy(out, yi.unsqueeze(0))

    total = {n: torch.zeros_like(p) for n, p in params.items()}
    for s in range(0, len(x), 16):
        g = vmap(grad(loss), in_dims=(None, 0, 0))(params, x[s : s + 16], y[s : s + 16])
        for n in total:
            total[n] += torch.sign(g[n]).sum(0)
    w = sum(float(total[n].abs().sum()) for n in total if n in weights)
    return w, sum(float(t.abs().sum()) for t in total.values())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-root", type=Path, default=SHARED)
    p.add_argument("--cache", type=Path, help="proxies_nb201.py score cache (JSON lines)")
    p.add_argument("--n", type=int, default=None, help="first N architectures only")
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    torch.set_num_threads(1)
    suite = json.loads((args.data_root / "nas-bench-suite-zero/zc_nasbench201.json").read_text())
    rows = suite["cifar10"]
    keys = list(rows)[: args.n]
    cached: dict[str, float] = {}
    if args.cache:
        for line in args.cache.read_text().splitlines():
            r = json.loads(line)
            if "gradsign" in r["scores"]:
                cached[r["arch"]] = r["scores"]["gradsign"]
    space = get_space("nb201")
    batch = load_batch(f"cifar10:{args.data_root / 'cifar10-mini'}", batch_size=64, seed=0)
    w, a, acc = [], [], []
    for i, key in enumerate(keys):
        torch.manual_seed(0)  # as proxies_nb201.build
        model = space.build(space.canonical(key), num_classes=10)
        sw, sa = sign_sums(model, batch.inputs, batch.targets)
        w.append(sw)
        a.append(sa)
        acc.append(rows[key]["val_accuracy"])
        if i % 100 == 0:
            print(f"{i}/{len(keys)}", flush=True)
    report = {
        "archs": len(keys),
        "spearman_conv_linear_weights": float(spearmanr(w, acc)[0]),
        "spearman_all_parameters": float(spearmanr(a, acc)[0]),
    }
    if cached:
        c = np.array([cached.get(k, np.nan) for k in keys])
        ok = c != 0  # architectures without a weight gradient score 0 both ways
        diff = np.abs(np.array(w)[ok] - c[ok]) / c[ok]
        report["max_relative_difference_vs_nasrank"] = float(np.nanmax(diff))
    print(json.dumps(report, indent=1))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
