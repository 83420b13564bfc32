"""Argument helpers shared by subcommands."""

from __future__ import annotations

import argparse
import os
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


def model_kwargs(space: Any, num_classes: int | None, batch: Any = None) -> dict[str, Any]:
    """``build`` keyword arguments: an explicit ``--num-classes``, else the batch's class
    count for image spaces, else the space's own default (e.g. a language model's
    vocabulary)."""
    if num_classes is not None:
        from nasrank.cli import UsageError

        if num_classes < 1:
            raise UsageError(f"--num-classes must be >= 1, got {num_classes}")
        return {"num_classes": num_classes}
    is_image = len(space.input_shape) == 3
    if is_image and batch is not None and getattr(batch, "num_classes", None):
        return {"num_classes": batch.num_classes}
    return {}


def add_store_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--store",
        metavar="PATH",
        default=os.environ.get("NASRANK_STORE"),
        help="read proxy scores from and write them to this SQLite score store "
        "(default $NASRANK_STORE; none when unset)",
    )


def open_cli_store(args: argparse.Namespace) -> Any:
    """The :class:`~nasrank.store.ScoreStore` of ``--store``, or ``None``."""
    if not getattr(args, "store", None):
        return None
    from nasrank.store import ScoreStore

    return ScoreStore(args.store)


def add_executor_arguments(p: argparse.ArgumentParser, *, work: str, prefix: str = "") -> None:
    """``--workers``, ``--threads``, ``--executor``, ``--address``: where ``work`` runs
    (``prefix`` names the option they serve, e.g. ``"--train-top: "``)."""
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help=f"{prefix}{work} at once (default 1 locally; Ray: as many as the cluster allows)",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help=f"{prefix}torch threads per worker (default: cores / workers)",
    )
    p.add_argument(
        "--executor",
        choices=("local", "ray"),
        default="local",
        help=f"{prefix}local processes (default) or Ray actors",
    )
    p.add_argument(
        "--address",
        help=f"{prefix}Ray cluster: 'auto' or HOST:PORT (default: start a local Ray instance)",
    )


def cli_executor(args: argparse.Namespace, *, gpus: float = 0.0) -> Any:
    """The executor the :func:`add_executor_arguments` options ask for (bad ones: UsageError)."""
    from nasrank.cli import UsageError
    from nasrank.store import make_executor

    if args.address and args.executor != "ray":
        raise UsageError("--address applies to --executor ray only")
    try:
        return make_executor(
            args.executor, args.workers, args.threads, address=args.address, gpus=gpus
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
