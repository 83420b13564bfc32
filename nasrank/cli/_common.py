"""Argument helpers shared by subcommands."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

#: Largest seed torch's generators take (a signed 64-bit integer).
MAX_SEED = 2**63 - 1


def seed_arg(text: str) -> int:
    """argparse ``type`` of a seed: an integer in ``0..MAX_SEED`` (else exit 2, one line)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer 0..2**63-1, got {text!r}") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"seeds are integers 0..2**63-1, got {text}")
    return value


def int_arg(low: int, high: int) -> Callable[[str], int]:
    """argparse ``type`` of an integer in ``low..high`` (else exit 2, one line); the upper
    bounds keep a typo from asking for terabytes or a million processes."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be {low}..{high:,}, got {value}")
        return value

    parse.__name__ = f"integer {low}..{high}"
    return parse


#: ``--batch-size`` of a proxy batch.
BATCH_SIZE = int_arg(1, 65_536)
#: ``--num-classes`` of a classifier.
NUM_CLASSES = int_arg(1, 1_000_000)
#: ``--workers`` and ``--threads``.
WORKERS = int_arg(1, 4096)


def add_data_arguments(p: argparse.ArgumentParser) -> None:
    """``--data``, ``--batch-size``, ``--seed``; ``--data`` defaults to the space's own
    (see :func:`resolve_cli_data`)."""
    p.add_argument(
        "--data",
        default=None,
        help="batch source: cifar10:DIR, cifar100:DIR, images:DIR, synthetic[:CxHxW:K] "
        "(image spaces), tokens[:VOCAB:SEQ_LEN:K] (nbnlp, nbbert), graph[:N:F:K] or "
        "graph:PATH.npz (nbgraph); a bare scheme takes the space's sizes (default: the "
        "space's own data: synthetic images, its vocabulary's tokens, a Cora-sized graph)",
    )
    p.add_argument(
        "--batch-size",
        type=BATCH_SIZE,
        default=64,
        help="samples per proxy batch (default 64; a graph is always used whole)",
    )
    p.add_argument("--seed", type=seed_arg, default=0, help="seed for the batch and the proxies")


def resolve_cli_data(args: argparse.Namespace, space: Any) -> str:
    """Fit ``--data`` to ``space`` (its default when left out) and store the result in
    ``args.data``; a spec the space's models cannot take is a one-line error (exit 2).
    Only the text is checked, so commands call this before any other work."""
    from nasrank.data import resolve_data

    args.data = resolve_data(space, args.data)
    return args.data


def check_model_input(
    space: Any, arch: str, spec: Any, shape: tuple[int, ...] | None, num_classes: int | None
) -> None:
    """The space's network takes the data: class logits for token data, an image shape it
    fits (:mod:`nasrank.training.probe`; shape-only passes, nothing allocated)."""
    from nasrank.cli import UsageError
    from nasrank.training import TrainingError
    from nasrank.training.errors import InputShapeError
    from nasrank.training.probe import check_classifier, check_input_shape

    kwargs = {"num_classes": num_classes} if num_classes else {}
    try:
        if spec.kind == "tokens":
            check_classifier(space, arch, **kwargs)
        elif shape is not None:
            check_input_shape(space, arch, shape, **kwargs)
    except (InputShapeError, TrainingError) as exc:
        raise UsageError(f"--data {spec.text}: {exc}") from None


def parse_proxies(text: str) -> list[str] | None:
    """``"all"`` -> None (every registered proxy); ``"a,b"`` -> ["a", "b"]."""
    from nasrank.cli import UsageError

    names = [t.strip() for t in text.split(",") if t.strip()]
    if not names:
        raise UsageError("--proxies is empty; give names like synflow,nwot or 'all'")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise UsageError(f"--proxies names {', '.join(twice)} twice")
    return None if names == ["all"] else names


def load_cli_batch(args: argparse.Namespace) -> Any:
    """The batch of ``args.data`` (resolved by :func:`resolve_cli_data`)."""
    from nasrank.cli import UsageError
    from nasrank.data import load_batch

    if args.batch_size < 1:
        raise UsageError(f"--batch-size must be >= 1, got {args.batch_size}")
    return load_batch(args.data, batch_size=args.batch_size, seed=args.seed)


def model_kwargs(space: Any, num_classes: int | None, batch: Any = None) -> dict[str, Any]:
    """``build`` keyword arguments: an explicit ``--num-classes``, else what the batch
    asks of the models of the space's data kind -- the class count for images, the class
    count and (when not the default's) the feature width ``in_channels`` for a graph --
    else the space's own defaults (e.g. a language model's vocabulary)."""
    from nasrank.data import parse_spec

    kwargs: dict[str, Any] = {}
    default = parse_spec(space.default_data)
    if batch is not None and default.kind == "graph" and batch.inputs.ndim == 2:
        features = int(batch.inputs.shape[1])
        if default.shape is None or features != default.shape[1]:
            kwargs["in_channels"] = features
    if num_classes is not None:
        from nasrank.cli import UsageError

        if num_classes < 1:
            raise UsageError(f"--num-classes must be >= 1, got {num_classes}")
        return {**kwargs, "num_classes": num_classes}
    if default.kind in ("images", "graph") and getattr(batch, "num_classes", None):
        kwargs["num_classes"] = batch.num_classes
    return kwargs


def add_store_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--store",
        metavar="PATH",
        default=os.environ.get("NASRANK_STORE") or None,
        help="read proxy scores from and write them to this SQLite score store "
        "(default $NASRANK_STORE; none when unset)",
    )


@contextmanager
def open_cli_store(args: argparse.Namespace) -> Iterator[Any]:
    """The :class:`~nasrank.store.ScoreStore` of ``--store`` (or ``None``), closed on exit.

    Closing it before the command returns leaves one self-contained file (the WAL
    checkpointed) instead of a rewrite whenever the garbage collector reaches it.
    """
    if not getattr(args, "store", None):
        yield None
        return
    from nasrank.store import ScoreStore

    with ScoreStore(args.store) as store:
        yield store


def add_threads_argument(p: argparse.ArgumentParser) -> None:
    """``--threads`` of a command that computes in this process."""
    p.add_argument(
        "--threads",
        type=WORKERS,
        default=None,
        help="torch threads (default: $OMP_NUM_THREADS when set, else torch's default; "
        "at most the cores)",
    )


def _omp_threads() -> int | None:
    """The first entry of ``$OMP_NUM_THREADS`` (e.g. ``"4"`` or ``"4,2"``), if valid."""
    text = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    return int(text) if text.isdigit() and int(text) > 0 else None


def cli_threads(args: argparse.Namespace, *, workers: int = 1) -> int:
    """Torch threads per worker: ``--threads``, else ``$OMP_NUM_THREADS`` when set, else
    ``torch.get_num_threads()`` -- the default capped so that ``workers`` x threads fit
    the cores this process may use. ``--threads`` below 1 is a usage error."""
    from nasrank.cli import UsageError

    threads = getattr(args, "threads", None)
    if threads is not None:
        if threads < 1:
            raise UsageError(f"--threads must be >= 1, got {threads}")
        return int(threads)
    import torch

    from nasrank.store.executors import available_cpus

    wanted = _omp_threads() or torch.get_num_threads()
    return max(1, min(wanted, available_cpus() // max(1, workers)))


@contextmanager
def torch_threads(threads: int) -> Iterator[int]:
    """Run the body with ``threads`` torch threads (the previous count restored after)
    and one inter-op thread (the passes run one after another; torch allows setting it
    only once per process, before any parallel work); yields ``torch.get_num_threads()``
    as set."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set in this process, or parallel work already started
        pass
    try:
        yield torch.get_num_threads()
    finally:
        torch.set_num_threads(previous)


def device_arg(text: str) -> str:
    """argparse ``type`` of ``--device``: ``cpu``, ``cuda`` or ``cuda:N`` (else exit 2,
    one line); whether this machine has it is :func:`check_device`'s to say."""
    value = text.strip().lower()
    if value in ("cpu", "cuda"):
        return value
    kind, _, index = value.partition(":")
    if kind == "cuda" and index.isascii() and index.isdigit():
        return f"cuda:{int(index)}"
    raise argparse.ArgumentTypeError(f"expected cpu, cuda or cuda:N, got {text!r}")


def add_device_argument(p: argparse.ArgumentParser) -> None:
    """``--device`` of a command that scores proxies in this process or its workers."""
    p.add_argument(
        "--device",
        type=device_arg,
        default="cpu",
        help="where proxies are computed: cpu (default), cuda or cuda:N; GPU scores "
        "equal CPU ones up to float rounding (the score store does not key on the device)",
    )


def check_device(device: str | None) -> None:
    """A CUDA ``device`` this machine lacks (no CUDA, or an index beyond
    ``torch.cuda.device_count()``) is a usage error; commands call this before any work."""
    if device is None or not device.startswith("cuda"):
        return
    import torch

    from nasrank.cli import UsageError

    if not torch.cuda.is_available():
        raise UsageError(f"--device {device} but CUDA is not available here; use --device cpu")
    index = int(device.partition(":")[2] or 0)
    count = torch.cuda.device_count()
    if index >= count:
        raise UsageError(
            f"--device {device} but this machine has {count} CUDA device(s) "
            f"(cuda:0..cuda:{count - 1})"
        )


def add_executor_arguments(
    p: argparse.ArgumentParser,
    *,
    work: str,
    prefix: str = "",
    threads_also: str = "",
    auto: bool = False,
) -> None:
    """``--workers``, ``--threads``, ``--executor``, ``--address``: where ``work`` runs
    (``prefix`` names the option they serve, e.g. ``"--train-top: "``; ``threads_also``
    what else ``--threads`` sets, e.g. this process's own scoring; ``auto``: the command
    chooses local workers itself, see :func:`cli_executor`)."""
    local = "one per core on the CPU, fewer for a short pool or little memory" if auto else "1"
    p.add_argument(
        "--workers",
        type=WORKERS,
        default=None,
        help=f"{prefix}{work} at once (default {local} locally; Ray: as many as the "
        "cluster allows)",
    )
    p.add_argument(
        "--threads",
        type=WORKERS,
        default=None,
        help=f"{prefix}torch threads per worker{threads_also} (default: $OMP_NUM_THREADS "
        "when set, else torch's default; locally at most cores / workers; Ray: 1)",
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


def cli_executor(args: argparse.Namespace, *, gpus: float = 0.0, items: int | None = None) -> Any:
    """The executor the :func:`add_executor_arguments` options ask for (bad ones:
    UsageError); local workers get :func:`cli_threads` threads each. With ``items`` (the
    architectures left to score) and no ``--workers``, a local executor's workers and
    threads are chosen for them (:func:`nasrank.store.auto_local_workers`)."""
    from nasrank.cli import UsageError
    from nasrank.store import auto_local_workers, make_executor

    if args.address and args.executor != "ray":
        raise UsageError("--address applies to --executor ray only")
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers must be >= 1, got {args.workers}")
    threads = cli_threads(args, workers=args.workers or 1)
    if items is not None and args.workers is None and args.executor == "local" and not gpus:
        asked = args.threads if args.threads is not None else _omp_threads()
        return make_executor("local", *auto_local_workers(items, asked))
    if args.executor != "local":
        threads = args.threads  # a cluster's cores are not this machine's
    try:
        return make_executor(args.executor, args.workers, threads, address=args.address, gpus=gpus)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
