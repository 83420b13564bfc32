"""Every registered proxy on every model family of the zoo, as a Markdown table (issue 18).

Scores each case of :data:`nasrank.testing.zoo.ZOO` with all registered proxies (seed 0,
CPU, one torch thread) and prints a table with one row per proxy and one column per
family; a cell is ``finite`` or ``NaN: <short reason>`` (the reason from
``ScoreResult.reasons``, cut at its first clause). A cell marked ``(!)`` is not what the
case expects: NaN where the proxy's definition applies, or a number where it does not
(the expectations and their reasons: ``nasrank.testing.zoo``). Runs in seconds.

Usage: python benchmarks/proxy_zoo_table.py [--out FILE.md] [--json FILE.json]
       [--proxies a,b] [--cases a,b] [--reason-width 40]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import warnings
from pathlib import Path

import torch

from nasrank.proxies import PROXIES
from nasrank.testing.zoo import ZOO, ZooRow, zoo_table

UNEXPECTED = " (!)"


def short_reason(status: str, width: int) -> str:
    """``NaN: <reason>`` cut to its first clause and ``width`` characters."""
    if status == "finite":
        return status
    reason = status.removeprefix("NaN: ")
    for stage in ("per-sample gradient pass failed: ", "Hessian-gradient pass failed: ",
                  "forward pass failed: ", "loss backward pass failed: "):
        reason = reason.removeprefix(stage)
    reason = reason.split(";")[0].split(" (")[0].strip()
    if len(reason) > width:
        reason = reason[: width - 3].rstrip() + "..."
    return f"NaN: {reason.replace('|', '/')}"


def markdown(rows: list[ZooRow], width: int) -> str:
    """The proxy x family table; ``(!)`` marks a cell that is not as expected."""
    cases = list(dict.fromkeys(r.case for r in rows))
    proxies = list(dict.fromkeys(r.proxy for r in rows))
    cell = {(r.proxy, r.case): r for r in rows}
    lines = [
        "| proxy | " + " | ".join(cases) + " |",
        "|---|" + "---|" * len(cases),
    ]
    for p in proxies:
        cells = []
        for c in cases:
            r = cell[p, c]
            cells.append(short_reason(r.status, width) + ("" if r.as_expected else UNEXPECTED))
        lines.append(f"| {p} | " + " | ".join(cells) + " |")
    bad = sum(not r.as_expected for r in rows)
    lines += [
        "",
        f"{len(rows)} cells, {bad} not as expected{UNEXPECTED}: NaN where the proxy's "
        "definition applies, or a number where it does not (see nasrank.testing.zoo).",
        "",
        "| family | description |",
        "|---|---|",
        *(f"| {c} | {ZOO[c].family} |" for c in cases if c in ZOO),
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="also write the Markdown table here")
    parser.add_argument("--json", type=Path, help="write the rows (full reasons) as JSON")
    parser.add_argument("--proxies", help="comma-separated proxy names (default all)")
    parser.add_argument("--cases", help="comma-separated zoo cases (default all: "
                        f"{', '.join(ZOO)})")
    parser.add_argument("--reason-width", type=int, default=40,
                        help="characters of a NaN reason in a cell (default 40)")
    args = parser.parse_args(argv)

    torch.set_num_threads(1)
    logging.disable(logging.WARNING)  # the reasons are in the table
    warnings.filterwarnings("ignore")  # functorch batching-rule performance notes
    proxies = args.proxies.split(",") if args.proxies else PROXIES.names()
    cases = args.cases.split(",") if args.cases else list(ZOO)
    start = time.perf_counter()
    rows = zoo_table(proxies, cases=cases)
    seconds = time.perf_counter() - start
    table = markdown(rows, args.reason_width)
    sys.stdout.write(table)
    print(f"\n{len(cases)} families x {len(proxies)} proxies scored in {seconds:.1f} s "
          f"(1 torch thread)", file=sys.stderr)
    if args.out:
        args.out.write_text(table)
    if args.json:
        payload = {
            "torch": torch.__version__,
            "seconds": seconds,
            "rows": [
                {"case": r.case, "proxy": r.proxy, "status": r.status, "expected": r.expected,
                 "as_expected": r.as_expected}
                for r in rows
            ],
        }
        args.json.write_text(json.dumps(payload, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
