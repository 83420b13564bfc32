"""``nasrank score``: zero-cost proxy scores of one architecture at initialisation."""

from __future__ import annotations

import argparse
import math
from typing import Any

from nasrank.cli._common import add_data_arguments, load_cli_batch, model_kwargs, parse_proxies
from nasrank.cli._output import print_table, write_json


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "score", help="score one architecture with zero-cost proxies", description=__doc__
    )
    p.add_argument("--space", required=True, help="search space (see `nasrank spaces`)")
    p.add_argument("--arch", required=True, help="architecture in any spelling the space accepts")
    p.add_argument(
        "--proxies", default="all", help="comma-separated proxy names or 'all' (default)"
    )
    add_data_arguments(p)
    p.add_argument("--num-classes", type=int, help="classifier outputs (default: the data's)")
    p.add_argument("--json", metavar="PATH", help="write scores, reasons and timings as JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from nasrank.proxies import resolve_proxies, score
    from nasrank.spaces import get_space

    space = get_space(args.space)
    arch = space.canonical(args.arch)
    specs = resolve_proxies(parse_proxies(args.proxies))
    batch = load_cli_batch(args)
    kwargs = model_kwargs(space, args.num_classes, batch)
    torch.manual_seed(args.seed)  # the initialisation is part of what is scored
    model = space.build(arch, **kwargs)
    result = score(model, batch, specs, seed=args.seed)
    rows = [
        [name, value, result.seconds.get(name), result.reasons.get(name, "")]
        for name, value in result.items()
    ]
    print_table(f"{space.name} {arch}", ["proxy", "score", "seconds", "note"], rows)
    if args.json:
        write_json(
            args.json, {"space": space.name, "arch": arch, "data": batch.source, **result.to_dict()}
        )
    failed = [name for name, v in result.items() if math.isnan(v)]
    return 0 if len(failed) < len(result) else 1
