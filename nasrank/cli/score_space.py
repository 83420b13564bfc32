"""``nasrank score-space``: zero-cost proxy scores of a whole space (or a pool) into a store.

Streams the pool's architectures, skips the (architecture, proxy) pairs the store already
holds, scores the rest with W worker processes (or Ray actors) and writes each
architecture's scores to the store as soon as it is done. Killed at any moment, the run
loses at most the architectures in flight; the same command run again resumes. Every
architecture is initialised from its own seed (derived from --seed and its id), so the
scores do not depend on the order, the number of workers or the executor. Without --data
the space's own data is used (synthetic images, token ids of its vocabulary, a Cora-sized
graph for nbgraph). Without --workers, on the CPU, it runs one single-threaded worker
per core (fewer when the pool has under 8 architectures per worker or the free memory
holds fewer than one per 2.5 GB; a lone worker gets every core), or cores / --threads
workers with --threads (or $OMP_NUM_THREADS) given. The store is --store PATH, or
$NASRANK_STORE when set.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from nasrank.cli._common import (
    NUM_CLASSES,
    add_data_arguments,
    add_device_argument,
    add_executor_arguments,
    check_device,
    cli_executor,
    load_cli_batch,
    model_kwargs,
    parse_proxies,
    resolve_cli_data,
)
from nasrank.cli._output import print_table, progress, write_json


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "score-space",
        help="score every architecture of a space or pool into a resumable store",
        description=__doc__,
    )
    p.add_argument("--space", required=True, help="search space (see `nasrank spaces`)")
    p.add_argument(
        "--proxies", default="all", help="comma-separated proxy names or 'all' (default)"
    )
    p.add_argument(
        "--pool",
        default="all",
        help="'all' (every architecture; finite spaces), N (N seeded samples), "
        "benchmark:SPEC (the architectures a benchmark covers, e.g. "
        "benchmark:suite-zero:zc_nasbench201.json) or file:PATH (one architecture per "
        "line, any spelling the space accepts; '#' starts a comment); default all",
    )
    p.add_argument("--task", help="task of a multi-task benchmark pool (Suite-Zero: cifar10, ...)")
    add_data_arguments(p)
    p.add_argument(
        "--num-classes", type=NUM_CLASSES, help="classifier outputs (default: the data's)"
    )
    add_executor_arguments(p, work="architectures scored", auto=True)
    add_device_argument(p)
    p.add_argument(
        "--store",
        metavar="PATH",
        default=os.environ.get("NASRANK_STORE") or None,
        help="SQLite score store, created when missing (default $NASRANK_STORE)",
    )
    p.add_argument("--json", metavar="PATH", help="write the run summary as JSON")
    p.add_argument(
        "--export-table",
        metavar="PATH",
        help="write the pool's scores as a proxy table NAME.npz + NAME.json (float32, "
        "architectures with every proxy stored; see nasrank.tables.load_table)",
    )
    p.add_argument(
        "--export",
        metavar="PATH",
        help="write the pool's (arch x proxy) scores as CSV (.csv) or Parquet (.parquet)",
    )
    p.set_defaults(run=run)


class _Pool:
    """A re-iterable stream of ids (iterated once to count, once to score): canonical
    ids, the network ids of a file's spellings for ``file:``."""

    def __init__(self, text: str, space: Any, args: argparse.Namespace) -> None:
        from nasrank.cli import UsageError

        self.space = space
        self.text = text.strip()
        self._ids: list[str] | None = None
        if self.text == "all":
            if space.size is None:
                raise UsageError(
                    f"space {space.name!r} is not enumerable; give --pool N (N seeded samples) "
                    "or --pool benchmark:SPEC"
                )
        elif self.text.startswith("benchmark:"):
            from nasrank.benchmarks import load_benchmark

            spec = self.text.partition(":")[2].strip()
            if not spec:
                raise UsageError("--pool benchmark: needs a spec, e.g. benchmark:nb201-analog")
            bench = load_benchmark(spec, task=args.task, space=space.name)
            self._ids = [space.canonical(a) for a in bench.archs()]
        elif self.text.startswith("file:"):
            self._ids = _read_arch_file(self.text.partition(":")[2].strip(), space)
        else:
            try:
                n = int(self.text)
            except ValueError:
                raise UsageError(
                    "--pool must be 'all', a positive integer, benchmark:SPEC or file:PATH, "
                    f"got {text!r}"
                ) from None
            if n < 1:
                raise UsageError(f"--pool N needs N >= 1, got {n}")
            from nasrank.search.pool import make_pool

            self._ids = list(make_pool(space, n, seed=args.seed).archs)

    def __iter__(self) -> Any:
        return iter(self._ids) if self._ids is not None else self.space.enumerate()


def _read_arch_file(path: str, space: Any) -> list[str]:
    """Network ids (``space.network_id``: the networks the lines spell) of the
    architectures listed in ``path``, in order; a line whose canonical id an earlier line
    has is dropped (one entry per benchmark architecture, the first spelling's network)."""
    from nasrank.cli import UsageError
    from nasrank.errors import InvalidArchitecture

    if not path:
        raise UsageError("--pool file: needs a path, e.g. file:archs.txt")
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as err:
        raise UsageError(f"--pool file: cannot read {path!r}: {err.strerror or err}") from None
    except UnicodeDecodeError:
        from nasrank._files import describe

        raise UsageError(
            f"--pool file: {path!r} is {describe(path)}, not a text file of architectures"
        ) from None
    ids: dict[str, str] = {}  # canonical id -> network id of its first spelling
    for number, line in enumerate(lines, 1):
        text = line.partition("#")[0].strip()
        if not text:
            continue
        try:
            network = space.network_id(text)
        except InvalidArchitecture as err:
            raise UsageError(f"--pool {path}:{number}: {err}") from None
        ids.setdefault(space.canonical(network), network)
    if not ids:
        raise UsageError(f"--pool file: {path!r} lists no architecture")
    return list(ids.values())


def _command(args: argparse.Namespace, proxies: list[str]) -> str:
    """The ``nasrank score-space`` command that computes these scores (for table metadata)."""
    import shlex

    parts = [
        "nasrank score-space",
        f"--space {args.space}",
        f"--data {shlex.quote(args.data)}",
        f"--batch-size {args.batch_size}",
        f"--seed {args.seed}",
        f"--proxies {','.join(proxies)}",
        f"--pool {shlex.quote(args.pool)}",
    ]
    if args.task:
        parts.append(f"--task {shlex.quote(args.task)}")
    if args.num_classes is not None:
        parts.append(f"--num-classes {args.num_classes}")
    return " ".join(parts)


def run(args: argparse.Namespace) -> int:
    import time

    # nasrank.proxies, .spaces and .store import torch; `nasrank --help` must not
    from nasrank.proxies import resolve_proxies
    from nasrank.spaces import get_space
    from nasrank.store import ScoreStore, data_key

    _check_outputs(args)
    check_device(args.device)
    space = get_space(args.space, task=args.task)
    resolve_cli_data(args, space)  # the space's own data, or a --data its models take
    cli_executor(args)  # its options checked before any work; built for the pool in _score
    specs = resolve_proxies(parse_proxies(args.proxies))
    names = [s.name for s in specs]
    pool = _Pool(args.pool, space, args)
    batch = load_cli_batch(args)
    kwargs = model_kwargs(space, args.num_classes, batch)
    data = data_key(batch, kwargs)
    # created last (bad input above leaves no file behind) and closed before returning,
    # so the command leaves one self-contained file (its WAL checkpointed), not a late
    # rewrite whenever the garbage collector reaches the connection
    with ScoreStore(args.store) as store:
        t0 = time.perf_counter()
        total, report, executor = _score(args, space, pool, specs, batch, store, kwargs, data)
        wall = time.perf_counter() - t0
        _print_report(args, space, names, batch, data, store, total, report, wall)
        _export(args, store, space, specs, data, pool)
    if args.json:
        write_json(
            args.json,
            {
                "space": space.name,
                "pool": args.pool,
                "proxies": names,
                "data": batch.source,
                "data_fingerprint": data,
                "seed": args.seed,
                "store": str(store.path),
                "executor": executor.name,
                "workers": executor.workers,
                "threads": executor.threads,
                "device": args.device,
                **report.to_dict(),
                "archs_total": total,
                "archs_reached": report.archs_total,
                "wall_seconds": wall,
            },
        )
    return 130 if report.interrupted else 0


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuse a missing store and a bad --export suffix before any work."""
    from nasrank.cli import UsageError

    if not args.store:
        raise UsageError("score-space needs --store PATH (or the NASRANK_STORE variable)")
    if args.export and os.path.splitext(args.export)[1].lower() not in (".csv", ".parquet", ".pq"):
        raise UsageError(f"--export must end in .csv or .parquet, got {args.export!r}")


def _score(
    args: argparse.Namespace,
    space: Any,
    pool: _Pool,
    specs: list[Any],
    batch: Any,
    store: Any,
    kwargs: dict[str, Any],
    data: str,
) -> tuple[int, Any, Any]:
    """``(pool size, report, executor)`` of scoring what the store lacks, with a progress
    bar; without --workers the local workers are chosen for the architectures left."""
    from nasrank.store import count_missing, score_space  # imports torch

    total, todo = count_missing(store, space.name, pool, specs, data, args.seed)
    on_cpu = (args.device or "cpu") == "cpu"  # GPU workers would share one device
    executor = cli_executor(args, items=todo if on_cpu else None)
    workers = executor.workers or "auto"
    with progress(
        f"scoring {todo} of {total} archs ({workers} x {executor.threads} threads)", todo
    ) as bar:
        report = score_space(
            space,
            pool,
            specs,
            batch,
            store,
            executor,
            seed=args.seed,
            build_kwargs=kwargs,
            progress=bar.advance,
            device=args.device,
        )
    return total, report, executor


def _print_report(
    args: argparse.Namespace,
    space: Any,
    names: list[str],
    batch: Any,
    data: str,
    store: Any,
    total: int,
    report: Any,
    wall: float,
) -> None:
    """The per-proxy table and the run's summary lines."""
    note = " (interrupted)" if report.interrupted else ""
    print_table(
        f"{space.name} pool {args.pool}{note}",
        ["proxy", "stored", "NaN"],
        [[n, report.stored_counts[n], report.nan_counts[n]] for n in names],
    )
    per_arch = report.median_seconds_per_arch
    reached = f" ({report.archs_total} done before stopping)" if report.interrupted else ""
    print(
        f"archs: {total} in pool{reached}, {report.archs_complete} complete; this run "
        f"computed {report.pairs_computed} (arch, proxy) scores for {report.archs_scored} "
        f"archs and reused {report.pairs_reused} stored ones"
    )
    print(
        f"median seconds per arch (engine, all proxies): {per_arch:.3g}; wall {wall:.1f} s"
        + (f" ({report.archs_per_second:.3g} archs/s)" if report.archs_scored else "")
    )
    print(f"data {batch.source} [{data}], seed {args.seed}; store {store.path}")


def _export(
    args: argparse.Namespace, store: Any, space: Any, specs: list[Any], data: str, pool: _Pool
) -> None:
    """Write --export (CSV/Parquet) and --export-table (proxy table) of the pool."""
    from nasrank.cli import UsageError

    if args.export:
        try:
            store.export(
                args.export,
                space=space.name,
                proxies=specs,
                data=data,
                seed=args.seed,
                archs=pool,
            )
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    if args.export_table:
        from nasrank.tables import export_table

        table = export_table(
            store,
            space,
            data,
            args.seed,
            specs,
            args.export_table,
            archs=None if pool.text == "all" else pool,
            data_spec=args.data,
            command=_command(args, [s.name for s in specs]),
        )
        print(f"proxy table: {table.describe()}")
