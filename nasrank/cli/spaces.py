"""``nasrank spaces``: list the registered search spaces."""

from __future__ import annotations

import argparse
from typing import Any

from nasrank.cli._output import print_table, write_json


def add_parser(sub: Any) -> None:
    p = sub.add_parser("spaces", help="list search spaces", description=__doc__)
    p.add_argument("--json", metavar="PATH", help="write the list as JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from nasrank.spaces import SPACES

    rows = []
    for name in SPACES.names():
        cls = SPACES.get(name)
        space = cls()
        rows.append(
            {
                "name": name,
                "size": space.size,
                "input_shape": list(cls.input_shape),
                "description": cls.description,
            }
        )
    print_table(
        "Search spaces",
        ["space", "architectures", "input", "description"],
        [
            [
                r["name"],
                f"{r['size']:,}" if r["size"] else "-",
                "x".join(map(str, r["input_shape"])),
                r["description"],
            ]
            for r in rows
        ],
    )
    if args.json:
        write_json(args.json, {"spaces": rows})
    return 0
