"""Argument helpers shared by subcommands."""

from __future__ import annotations

import argparse
from typing import Any


def add_data_arguments(p: argparse.ArgumentParser, *, default: str = "synthetic") -> None:
    p.add_argument(
        "--data",
        default=default,
        help=f"batch source: cifar10:DIR, cifar100:DIR, images:DIR, synthetic[:CxHxW:K] "
        f"(default {default})",
    )
    p.add_argument("--batch-size", type=int, default=64, help="images per proxy batch (default 64)")
    p.add_argument("--seed", type=int, default=0, help="seed for the batch and the proxies")


def parse_proxies(text: str) -> list[str] | None:
    """``"all"`` -> None (every registered proxy); ``"a,b"`` -> ["a", "b"]."""
    from nasrank.cli import UsageError

    names = [t.strip() for t in text.split(",") if t.strip()]
    if not names:
        raise UsageError("--proxies is empty; give names like synflow,nwot or 'all'")
    return None if names == ["all"] else names


def load_cli_batch(args: argparse.Namespace) -> Any:
    from nasrank.cli import UsageError
    from nasrank.data import load_batch

    if args.batch_size < 1:
        raise UsageError(f"--batch-size must be >= 1, got {args.batch_size}")
    return load_batch(args.data, batch_size=args.batch_size, seed=args.seed)
