"""``nasrank train``: train one architecture for real and report train/val/test accuracy.

SGD with Nesterov momentum, a per-step cosine schedule (optional linear warm-up) and
weight decay — NAS-Bench-201's recipe, whose 12-epoch schedule is the default (lr 0.1,
batch 256, wd 5e-4). CUDA when available (mixed precision, channels_last), CPU otherwise.

Data: ``--train-size`` random, class-balanced training images (seeded) from the data's
train split, ``--val-size`` more held out from the same split as validation data, and the
data's test split (``--test-size`` random images of it; 0 skips testing).

Spaces: those whose models classify a dataset of samples -- images (nb101, nb201,
nb301) or token sequences (nbbert). A graph space's data is one whole graph, not samples
to split into training batches, and a language model's logits are per token, not per
sample; both are refused up front. Synthetic data is generated in memory, at most 4 GiB
per split (349,525 images of 3x32x32; default 1,024 training and 256 test samples).
Everything is checked before any data is loaded or model built: the data's kind and
shape against the space's network, the sizes, and that ``--checkpoint-dir`` can be
created and written.

With ``--checkpoint-dir`` the run is checkpointed after every epoch; running the same
command again resumes after the last completed epoch (also after ``kill -9``) and ends as
an uninterrupted run would. A directory holding a different run is refused.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from nasrank.cli._common import check_device, check_model_input, seed_arg
from nasrank.cli._output import print_table, progress, write_json

_RUN_FILE = "run.json"


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "train",
        help="train one architecture (SGD + cosine, resumable) and report its accuracy",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--space", required=True, help="search space (see `nasrank spaces`)")
    p.add_argument("--arch", required=True, help="architecture in any spelling the space accepts")
    p.add_argument(
        "--data", required=True, help="cifar10:DIR, cifar100:DIR, images:DIR or synthetic[:CxHxW:K]"
    )
    p.add_argument("--train-size", type=int, help="training images (default: all not held out)")
    p.add_argument(
        "--val-size", type=int, default=0, help="images held out of the train split (default 0)"
    )
    p.add_argument(
        "--test-size", type=int, help="test-split images to evaluate (default all; 0: none)"
    )
    p.add_argument("--epochs", type=int, default=12, help="epochs (default 12)")
    p.add_argument("--batch-size", type=int, default=256, help="samples per step (default 256)")
    p.add_argument("--lr", type=float, default=0.1, help="peak learning rate (default 0.1)")
    p.add_argument(
        "--warmup-epochs",
        type=float,
        default=0.0,
        help="linear warm-up length in epochs, may be fractional (default 0)",
    )
    p.add_argument("--weight-decay", type=float, default=5e-4, help="weight decay (default 5e-4)")
    p.add_argument("--no-augment", action="store_true", help="no random crop / horizontal flip")
    p.add_argument("--seed", type=seed_arg, default=0, help="seed of data selection and training")
    p.add_argument("--checkpoint-dir", metavar="DIR", help="checkpoint every epoch; resume from it")
    p.add_argument(
        "--device", choices=("cpu", "cuda"), help="default: cuda when available, else cpu"
    )
    p.add_argument("--json", metavar="PATH", help="write the result and per-epoch history")
    p.set_defaults(run=run)


def _check_sizes(args: argparse.Namespace) -> None:
    from nasrank.cli import UsageError

    if args.train_size is not None and args.train_size < 1:
        raise UsageError(f"--train-size must be >= 1, got {args.train_size}")
    if args.val_size < 0:
        raise UsageError(f"--val-size must be >= 0, got {args.val_size}")
    if args.test_size is not None and args.test_size < 0:
        raise UsageError(f"--test-size must be >= 0, got {args.test_size}")


#: Data kinds ``nasrank train`` trains on: datasets of samples (see the module docstring).
_TRAIN_KINDS = ("images", "tokens")
#: Samples generated when --train-size / --test-size are not given (generated data).
_DEFAULT_GENERATED_TRAIN, _DEFAULT_GENERATED_TEST = 1024, 256


def _trainable_spaces() -> list[str]:
    """The registered spaces ``nasrank train`` trains (for the message refusing others)."""
    from nasrank.data import parse_spec
    from nasrank.spaces import SPACES, get_space
    from nasrank.training.probe import is_classifier_space

    names = []
    for name in SPACES.names():
        space = get_space(name)
        kind = parse_spec(space.default_data).kind
        if kind == "images" or (kind in _TRAIN_KINDS and is_classifier_space(space)):
            names.append(name)
    return names


def _check_data(args: argparse.Namespace, space: Any) -> Any:
    """The parsed ``--data`` spec fitted to ``space`` (:func:`nasrank.data.resolve_data`),
    after checking from the spec text alone that the space is one train trains, that the
    data is of its kind and that the sizes asked for can be had."""
    from nasrank.cli import UsageError
    from nasrank.data import parse_spec, resolve_data

    kind = parse_spec(space.default_data).kind
    if kind not in _TRAIN_KINDS:
        raise UsageError(
            f"space {space.name!r} takes {kind} data ({space.default_data}): one whole "
            "graph, not a dataset of samples to split into training batches, so "
            "`nasrank train` cannot train it; it trains classifiers of images or token "
            f"sequences, spaces {', '.join(_trainable_spaces())}"
        )
    spec = parse_spec(resolve_data(space, args.data))
    _check_counts(args, spec)
    return spec


def _check_counts(args: argparse.Namespace, spec: Any) -> None:
    """--train-size + --val-size and --test-size within what generated data may hold
    (:func:`nasrank.data.max_samples`); file-backed data is checked once read."""
    from nasrank.cli import UsageError
    from nasrank.data import MAX_GENERATED_BYTES, max_samples

    cap = max_samples(spec)
    if cap is None:
        return
    limit = f"{MAX_GENERATED_BYTES // 1024**3} GiB"
    n_train = args.train_size if args.train_size is not None else _DEFAULT_GENERATED_TRAIN
    if n_train + args.val_size > cap:
        raise UsageError(
            f"--train-size {n_train:,} + --val-size {args.val_size:,} exceeds the {cap:,} "
            f"samples {spec.text} may have ({spec.scheme} data is generated in memory, at "
            f"most {limit} per split); ask for at most {cap:,} in all"
        )
    if args.test_size is not None and args.test_size > cap:
        raise UsageError(
            f"--test-size {args.test_size:,} exceeds the {cap:,} samples {spec.text} may "
            f"have ({spec.scheme} data is generated in memory, at most {limit} per split)"
        )


def _known_shape(spec: Any) -> tuple[int, ...] | None:
    """One image's shape, when the spec alone tells (synthetic, CIFAR)."""
    from nasrank.data.synthetic import DEFAULT_SHAPE

    if spec.scheme == "synthetic":
        return tuple(spec.shape or DEFAULT_SHAPE)
    if spec.scheme in ("cifar10", "cifar100"):
        return (3, 32, 32)
    return None


def _load_data(args: argparse.Namespace, spec: Any) -> tuple[Any, Any, Any]:
    """(train, val or None, test or None) as the options describe."""
    import numpy as np

    from nasrank.cli import UsageError
    from nasrank.data import load_dataset, max_samples

    n_val = args.val_size
    generated = max_samples(spec) is not None
    if generated:
        size = (args.train_size or _DEFAULT_GENERATED_TRAIN) + n_val
        full = load_dataset(spec, split="train", synthetic_size=size)
    else:
        full = load_dataset(spec, split="train")
    n_train = args.train_size if args.train_size is not None else len(full) - n_val
    if n_train < 1 or n_train + n_val > len(full):
        raise UsageError(
            f"--train-size {n_train} + --val-size {n_val} exceeds the {len(full)} training "
            f"samples of {args.data}; ask for fewer"
        )
    pool = full.take(n_train + n_val, seed=args.seed, stratified=full.labels is not None)
    val = pool.subset(np.arange(n_val), tag=f"val {n_val}") if n_val else None
    train = pool.subset(np.arange(n_val, n_val + n_train), tag=f"train {n_train}")

    test = None
    if args.test_size != 0:
        if generated:
            n_test = args.test_size or _DEFAULT_GENERATED_TEST
            test = load_dataset(spec, split="test", synthetic_size=n_test)
        else:
            test = load_dataset(spec, split="test")
            if args.test_size is not None:
                test = test.take(args.test_size, seed=args.seed, stratified=True)
    return train, val, test


def _run_record(args: argparse.Namespace, space: str, arch: str, config: Any) -> dict[str, Any]:
    cfg = config.to_dict()
    cfg.pop("num_workers", None)
    return {
        "space": space,
        "arch": arch,
        "data": args.data,
        "train_size": args.train_size,
        "val_size": args.val_size,
        "seed": args.seed,
        "config": cfg,
    }


def _check_run_dir(directory: Path, record: dict[str, Any]) -> int:
    """Refuse a directory of another run; return the completed epochs found there."""
    from nasrank.cli import UsageError  # inside: nasrank.cli imports this module

    # nasrank.training imports torch; kept inside so that `nasrank --help` stays fast
    from nasrank.training.checkpoint import (
        CHECKPOINT_NAME,
        load_checkpoint,
    )

    # `nasrank.cli.main` checked before any work that the directory can be made and written
    run_file = directory / _RUN_FILE
    if run_file.exists():
        try:
            saved = json.loads(run_file.read_text())
        except (OSError, ValueError) as exc:
            raise UsageError(
                f"cannot read {run_file} ({exc}); delete it or the directory"
            ) from None
        if saved != record:
            raise UsageError(
                f"--checkpoint-dir {directory} holds a different run "
                f"({'; '.join(_run_differences(saved, record))}); "
                "use another --checkpoint-dir or delete that one"
            )
    elif (directory / CHECKPOINT_NAME).exists():
        raise UsageError(
            f"--checkpoint-dir {directory} holds a checkpoint without {_RUN_FILE} (not written "
            "by `nasrank train`); use another --checkpoint-dir"
        )
    checkpoint = directory / CHECKPOINT_NAME
    return int(load_checkpoint(checkpoint).get("epoch", 0)) if checkpoint.exists() else 0


def _run_differences(saved: dict[str, Any], record: dict[str, Any]) -> list[str]:
    """How the run saved in a checkpoint directory differs from this one, option by option."""
    diffs = []
    for key in record:
        old, new = saved.get(key), record[key]
        if key == "config" and isinstance(old, dict):
            diffs += [
                f"{k} {old.get(k)!r} (saved) vs {v!r}" for k, v in new.items() if old.get(k) != v
            ]
        elif old != new:
            diffs.append(f"{key.replace('_', '-')} {old!r} (saved) vs {new!r}")
    return diffs


def _check_device(args: argparse.Namespace) -> None:
    check_device(args.device)  # None: cuda when available, else cpu


def _train_config(args: argparse.Namespace) -> Any:
    """The :class:`~nasrank.training.TrainConfig` the options describe."""
    from nasrank.training import TrainConfig  # imports torch: see _check_run_dir

    return TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        weight_decay=args.weight_decay,
        warmup_epochs=args.warmup_epochs,
        augment=not args.no_augment,
    )


def _build_model(space: Any, arch: str, num_classes: int | None, seed: int) -> Any:
    """The architecture's model, its initial weights seeded by ``seed``."""
    import torch

    with torch.random.fork_rng(devices=[]):  # seeded initial weights, caller's RNG untouched
        torch.manual_seed(seed)
        return space.build(arch, **({"num_classes": num_classes} if num_classes else {}))


def _announce_run_dir(directory: Path, record: dict[str, Any], done: int, epochs: int) -> None:
    """Record the run in its directory; say on stderr whether it resumes or is complete."""
    write_json(directory / _RUN_FILE, record)
    if done >= epochs:
        print(f"run already complete ({done} epochs) in {directory}", file=sys.stderr)
    elif done:
        print(f"resuming from {directory} after epoch {done} of {epochs}", file=sys.stderr)


def _remaining_steps(n_train: int, config: Any, done: int) -> int:
    """Optimiser steps still to run (the progress bar's total)."""
    bs = config.batch_size
    steps = n_train // bs if n_train % bs == 1 and n_train > 1 else -(-n_train // bs)
    return max(0, config.epochs - done) * steps


def _print_epoch(entry: dict) -> None:
    val = entry["val_accuracy"]
    print(
        f"epoch {entry['epoch']}/{entry['epochs']}: loss {entry['train_loss']:.4f}, "
        f"train {entry['train_accuracy']:.2f} %"
        + ("" if val is None else f", val {val:.2f} %")
        + f", lr {entry['lr']:.4g}, {entry['seconds']:.1f} s",
        file=sys.stderr,
        flush=True,
    )


def _run_training(
    args: argparse.Namespace,
    space_name: str,
    model: Any,
    data: tuple[Any, Any, Any],
    config: Any,
    directory: Path | None,
    remaining: int,
) -> Any:
    """Train with a progress bar over the remaining steps; return the ``TrainResult``."""
    from nasrank.training import train  # imports torch: see _check_run_dir

    train_data, val_data, test_data = data
    with progress(f"training {space_name} ({config.epochs} epochs)", remaining) as bar:
        return train(
            model,
            train_data,
            config=config,
            val_data=val_data,
            test_data=test_data,
            device=args.device,
            checkpoint_dir=directory,
            seed=args.seed,
            progress=_print_epoch,
            step_progress=lambda _: bar.advance(),
        )


def _print_result(space_name: str, arch: str, source: str, result: Any) -> None:
    """The per-epoch history table and the result table, on stdout."""
    print_table(
        f"per-epoch history ({source})",
        ["epoch", "lr", "train loss", "train acc %", "val acc %", "seconds"],
        [
            [
                h["epoch"],
                h["lr"],
                h["train_loss"],
                h["train_accuracy"],
                h["val_accuracy"],
                h["seconds"],
            ]
            for h in result.history
        ],
    )
    print_table(
        f"{space_name} {arch}",
        ["epochs", "train acc %", "val acc %", "test acc %", "seconds", "device"],
        [
            [
                result.epochs,
                result.train_accuracy,
                result.val_accuracy,
                result.test_accuracy,
                result.seconds,
                result.device,
            ]
        ],
    )


def _write_result(
    path: str, record: dict[str, Any], data: tuple[Any, Any, Any], done: int, result: Any
) -> None:
    """The ``--json`` file: the run, the sample counts and the ``TrainResult``."""
    train_data, val_data, test_data = data
    write_json(
        path,
        {
            **record,
            "test_size": None if test_data is None else len(test_data),
            "train_samples": len(train_data),
            "val_samples": None if val_data is None else len(val_data),
            "resumed_after_epoch": done,
            **result.to_dict(),
        },
    )


def run(args: argparse.Namespace) -> int:
    from nasrank.spaces import get_space  # inside, as the other subcommands: fast --help

    space = get_space(args.space)
    arch = space.network_id(args.arch)  # the network the spelling describes
    _check_sizes(args)
    spec = _check_data(args, space)
    _check_device(args)
    config = _train_config(args)
    record = _run_record(args, space.name, arch, config)
    directory = Path(args.checkpoint_dir) if args.checkpoint_dir else None
    done = _check_run_dir(directory, record) if directory is not None else 0
    shape = _known_shape(spec)
    num_classes = spec.num_classes if spec.scheme == "synthetic" else None
    check_model_input(space, arch, spec, shape, num_classes)
    data = _load_data(args, spec)
    train_data = data[0]
    if shape is None and spec.kind == "images":  # an image folder: its size is known now
        check_model_input(space, arch, spec, tuple(train_data.sample_shape), train_data.num_classes)
    model = _build_model(space, arch, train_data.num_classes, args.seed)
    if directory is not None:
        _announce_run_dir(directory, record, done, config.epochs)
    remaining = _remaining_steps(len(train_data), config, done)
    result = _run_training(args, space.name, model, data, config, directory, remaining)
    _print_result(space.name, arch, train_data.source, result)
    if args.json:
        _write_result(args.json, record, data, done, result)
    return 0
