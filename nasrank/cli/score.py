"""``nasrank score``: zero-cost proxy scores of one architecture at initialisation.

The model is the network the --arch spelling describes, under its network id
(``space.network_id``: the canonical id, or for a NAS-Bench-101 cell whose vertex order
splits channels unlike the benchmark's representative, an id of that order), initialised
from a seed derived from --seed and that id (as in ``nasrank score-space``). Without
--data the space's own data is used (synthetic images, token ids of its vocabulary for
nbnlp/nbbert, a Cora-sized graph for nbgraph); a --data its models cannot take is an
error before any work. With --store PATH (or $NASRANK_STORE) scores are read from and
written to a score store (under that id), so nothing is computed twice.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from nasrank.cli._common import (
    NUM_CLASSES,
    add_data_arguments,
    add_device_argument,
    add_store_argument,
    add_threads_argument,
    check_device,
    check_model_input,
    cli_threads,
    load_cli_batch,
    model_kwargs,
    open_cli_store,
    parse_proxies,
    resolve_cli_data,
    torch_threads,
)
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
    p.add_argument(
        "--num-classes", type=NUM_CLASSES, help="classifier outputs (default: the data's)"
    )
    p.add_argument("--json", metavar="PATH", help="write scores, reasons and timings as JSON")
    add_store_argument(p)
    add_threads_argument(p)
    add_device_argument(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from nasrank.data import parse_spec
    from nasrank.proxies import resolve_proxies
    from nasrank.spaces import get_space
    from nasrank.store import score_arch_stored

    check_device(args.device)
    space = get_space(args.space)
    arch = space.network_id(args.arch)  # the network the spelling describes
    resolve_cli_data(args, space)
    spec = parse_spec(args.data)
    if spec.kind == "images":  # an explicit image shape must fit: one line, before any work
        check_model_input(space, arch, spec, spec.shape, args.num_classes)
    threads = cli_threads(args)
    specs = resolve_proxies(parse_proxies(args.proxies))
    with open_cli_store(args) as store, torch_threads(threads) as threads:
        batch = load_cli_batch(args)
        kwargs = model_kwargs(space, args.num_classes, batch)
        # the initialisation is part of what is scored: seeded from (--seed, space, arch)
        result, stored = score_arch_stored(
            store,
            space,
            arch,
            batch,
            specs,
            seed=args.seed,
            build_kwargs=kwargs,
            device=args.device,
        )
    rows = []
    for name, value in result.items():
        notes = [result.reasons[name]] if name in result.reasons else []
        if name in stored:
            notes.append("from the store")
        rows.append([name, value, result.seconds.get(name), "; ".join(notes)])
    print_table(f"{space.name} {arch}", ["proxy", "score", "seconds", "note"], rows)
    if args.json:
        write_json(
            args.json,
            {
                "space": space.name,
                "arch": arch,
                "canonical": space.canonical(arch),
                "data": batch.source,
                "data_spec": args.data,
                "threads": threads,
                "device": args.device,
                **result.to_dict(),
                "from_store": stored,
            },
        )
    failed = [name for name, v in result.items() if math.isnan(v)]
    return 0 if len(failed) < len(result) else 1
