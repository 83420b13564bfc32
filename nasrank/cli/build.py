"""``nasrank build``: id, parameters and FLOPs of one architecture.

The network built is the one the spelling describes (``space.network_id``): for a
NAS-Bench-101 cell given in a vertex order that splits channels unlike the benchmark's
trained representative, that order's network, shown with the canonical id of its class.
"""

from __future__ import annotations

import argparse
from typing import Any

from nasrank.cli._common import NUM_CLASSES, model_kwargs
from nasrank.cli._output import print_table, write_json


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "build",
        help="build an architecture; print its id, parameters and MFLOPs",
        description=__doc__,
    )
    p.add_argument("--space", required=True, help="search space (see `nasrank spaces`)")
    p.add_argument("--arch", required=True, help="architecture in any spelling the space accepts")
    p.add_argument(
        "--num-classes",
        type=NUM_CLASSES,
        help="classifier outputs (default: the space's, 10 for images)",
    )
    p.add_argument(
        "--input-size", type=int, default=None, help="input height/width (default: the space's)"
    )
    p.add_argument("--json", metavar="PATH", help="write {arch, params, mflops, ...} as JSON")
    p.set_defaults(run=run)


def _input_shape(space: Any, arch: str, size: int, kwargs: dict[str, Any]) -> tuple[int, ...]:
    """The ``(C, size, size)`` input of ``--input-size``, checked against the space's
    network before it is built (:func:`nasrank.training.probe.check_input_shape`: too
    small for its downsampling, a side its layers do not fit at, or one image's
    activations over 4 GiB are one-line errors)."""
    from nasrank.cli import UsageError
    from nasrank.training.errors import InputShapeError
    from nasrank.training.probe import check_input_shape

    shape = tuple(space.input_shape)
    if len(shape) != 3:
        raise UsageError(
            f"--input-size applies to image spaces; space {space.name!r} takes "
            f"{'x'.join(map(str, shape))} inputs (tokens or node features)"
        )
    if size < 1:
        raise UsageError(f"--input-size must be >= 1, got {size}")
    shape = (shape[0], size, size)
    try:
        check_input_shape(space, arch, shape, **kwargs)
    except InputShapeError as exc:
        raise UsageError(f"--input-size {size}: {exc}") from None
    return shape


def _output_size(space: Any, model: Any) -> int | None:
    """The size of the built network's output layer: the class count (for a language
    model its vocabulary; for a dense task the channels per position), read from one
    forward pass of the space's example input; ``None`` if it cannot be told."""
    import torch

    try:
        with torch.no_grad():
            out = model.eval()(space.example_input(1))
    except Exception:  # the row then says so; params and FLOPs are already counted
        return None
    if isinstance(out, dict):
        out = out.get("logits", next(iter(out.values()), None))
    if isinstance(out, (tuple, list)):
        out = out[0] if out else None
    if not isinstance(out, torch.Tensor) or out.ndim < 2:
        return None
    return int(out.shape[-1] if out.ndim == 3 else out.shape[1])


def _classes_text(space: Any, model: Any, kwargs: dict[str, Any]) -> str:
    """The ``classes`` row: the number, and where it comes from."""
    if "num_classes" in kwargs:
        return f"{kwargs['num_classes']:,}"
    size = _output_size(space, model)
    if size is None:
        return "the space's default (not measurable from an example input)"
    return f"{size:,} (the space's default)"


def run(args: argparse.Namespace) -> int:
    from nasrank.cli import UsageError
    from nasrank.complexity import count_flops, count_params
    from nasrank.spaces import get_space

    space = get_space(args.space)
    kwargs = model_kwargs(space, args.num_classes)
    arch = space.network_id(args.arch)  # the network the spelling describes
    canonical = space.canonical(arch)
    shape = tuple(space.input_shape)
    if args.input_size is not None:
        shape = _input_shape(space, arch, args.input_size, kwargs)
    model = space.build(arch, **kwargs)
    params = count_params(model)
    if len(shape) == 3:
        try:
            flops = count_flops(model, shape)
        except RuntimeError as exc:  # a size the shape check could not run on
            if args.input_size is None:
                raise
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise UsageError(
                f"--input-size {args.input_size}: space {space.name!r} cannot take "
                f"{'x'.join(map(str, shape))} inputs ({reason})"
            ) from None
    else:  # token or node-feature inputs: count on the space's own example input
        example = space.example_input(1)
        flops = count_flops(model, example_input=example)
        shape = tuple(example.shape[1:])
    result = {
        "space": space.name,
        "arch": arch,
        "canonical": canonical,
        "num_classes": kwargs.get("num_classes", _output_size(space, model)),
        "input_shape": list(shape),
        "params": params,
        "params_m": params / 1e6,
        "mflops": flops / 1e6,
    }
    rows: list[list[Any]] = [["arch", arch]]
    if canonical != arch:
        note = "benchmark entry of this cell; its vertex order splits channels differently"
        rows.append(["canonical", f"{canonical} ({note})"])
    rows += [
        ["params", f"{params:,} ({params / 1e6:.6f} M)"],
        ["MFLOPs", f"{flops / 1e6:.6f}"],
        ["input", "x".join(map(str, shape))],
        ["classes", _classes_text(space, model, kwargs)],
    ]
    print_table(f"{space.name} architecture", ["field", "value"], rows)
    if args.json:
        write_json(args.json, result)
    return 0
