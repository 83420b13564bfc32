"""Search your own space: a small CNN family defined with Optuna's ``trial.suggest_*``.

nasrank samples candidates through Optuna trials, scores them at initialisation with
zero-cost proxies, ranks them with RoBoT (Bayesian optimisation of the proxy weights,
objective: one short training epoch) and trains the top-k for real.

    python examples/custom_space.py cifar10:../shared/data/cifar10-mini
    python examples/custom_space.py synthetic --quick
"""

from __future__ import annotations

import argparse
import logging
import time

from torch import nn

import nasrank.search


class SmallCNN(nn.Module):
    """Stride-2 stem (CPU-friendly 16x16 feature maps), three stages of ``depth`` conv
    blocks (width doubling, stride 2 between stages), global pooling, linear classifier."""

    def __init__(
        self, width: int, depth: int, kernel: int, activation: str, num_classes: int = 10
    ) -> None:
        super().__init__()
        act = {"relu": nn.ReLU, "gelu": nn.GELU, "silu": nn.SiLU}[activation]
        layers: list[nn.Module] = [nn.Conv2d(3, width, 3, stride=2, padding=1, bias=False),
                                   nn.BatchNorm2d(width), act()]
        channels = width
        for stage in range(3):
            out = width * 2**stage
            for block in range(depth):
                stride = 2 if stage > 0 and block == 0 else 1
                layers += [nn.Conv2d(channels, out, kernel, stride, kernel // 2, bias=False),
                           nn.BatchNorm2d(out), act()]
                channels = out
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, num_classes)]
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


def build(trial) -> nn.Module:
    """The search space: 4 x 3 x 2 x 3 = 72 architectures."""
    return SmallCNN(
        width=trial.suggest_categorical("width", [8, 16, 24, 32]),
        depth=trial.suggest_int("depth", 1, 3),
        kernel=trial.suggest_categorical("kernel", [3, 5]),
        activation=trial.suggest_categorical("activation", ["relu", "gelu", "silu"]),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data", nargs="?", default="synthetic",
                        help="cifar10:DIR, images:DIR or synthetic (default)")
    parser.add_argument("--method", default="robot", choices=["robot", "bo"])
    parser.add_argument("--quick", action="store_true", help="tiny settings (smoke test)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    quick = args.quick
    start = time.perf_counter()

    def progress(stage: str, done: int, total: int) -> None:
        if done == total or stage in ("searching", "training"):
            print(f"  {stage}: {done}/{total}  ({time.perf_counter() - start:.0f} s)", flush=True)

    result = nasrank.search.custom(
        build,
        args.data,
        budget=3 if quick else 5,
        top_k=1 if quick else 2,
        proxies=["params", "synflow", "jacov"],
        method=args.method,
        n_candidates=8 if quick else 16,
        epochs=1 if quick else 2,
        search_epochs=1,
        search_train_size=256 if quick else 1000,
        proxy_batch_size=32,
        seed=0,
        progress=progress,
    )
    print("\nranking (top 5): params | short-training val acc | proxy scores")
    for cand in result.ranking[:5]:
        value = f"{cand.value:.2f}" if cand.value is not None else "-"
        scores = ", ".join(f"{k}={v:.3g}" for k, v in cand.scores.items())
        print(f"  {cand.params} | {value} | {scores}")
    print("\ntrained for real:")
    for t in result.trained:
        r = t.result
        print(f"  #{t.rank} {t.params}: test acc {t.accuracy:.2f} % (train "
              f"{r.train_accuracy:.2f} %, {r.epochs} epochs, {r.seconds:.0f} s on {r.device})")
    best = result.best
    if best is not None:
        print(f"\nbest: {best.params} -> {best.accuracy:.2f} %")
    print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
