"""The ``nasrank`` command.

Every subcommand prints a readable table on stdout (``--format``: a rich table on a
terminal, plain text when piped, or markdown/csv), shows progress on long work (on
stderr), writes machine-readable results with ``--json PATH`` (with the command's
``provenance``, which ``nasrank report`` turns into an HTML page), exits 0 on success and
2 on bad input with a one-line reason on stderr (never a traceback for user error).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import NoReturn

from nasrank._version import __version__
from nasrank.cli._output import TABLE_FORMATS, print_table

__all__ = ["main", "print_table"]

#: Subcommand modules, each with ``add_parser(subparsers)`` and ``run(args) -> int``.
_COMMANDS = (
    "spaces",
    "benchmarks",
    "build",
    "score",
    "score-space",
    "correlate",
    "train",
    "search",
    "encode",
    "predict-eval",
    "report",
)


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad usage in one line (plus exit code 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


class UsageError(Exception):
    """Bad command-line input detected after parsing (exit code 2)."""


def _build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = _Parser(prog="nasrank", description="Rank neural architectures without training them.")
    parser.add_argument("--version", action="version", version=f"nasrank {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in _COMMANDS:
        module = importlib.import_module(f"nasrank.cli.{name.replace('-', '_')}")
        module.add_parser(sub)
        sub.choices[name].add_argument(
            "--format",
            choices=TABLE_FORMATS,
            default="auto",
            help="tables as rich boxes (table), aligned plain text (plain), markdown or "
            "csv; auto (default): table on a terminal, plain when piped or redirected",
        )
    return parser


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (``kill``, a batch scheduler's stop) ends a command as Ctrl-C does: its
    results so far are written and it says how to resume."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _check_before_work(args: argparse.Namespace) -> None:
    """What can be refused before any work: file paths and kinds, the environment."""
    from nasrank.cli._output import progress_interval
    from nasrank.cli._paths import check_cli_paths

    progress_interval()
    check_cli_paths(args)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    # OpenMP threads that sleep when idle instead of spinning: under contention for the
    # cores spinning threads made scoring several times slower (docs/BENCHMARKS.md);
    # read when torch loads, so only here, before any command imports it
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from nasrank.errors import NasrankError

    parser = _build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help, --version, usage errors
        return int(exc.code or 0)
    logging.basicConfig(
        level=logging.WARNING - 10 * min(args.verbose, 2),
        format="%(levelname)s %(name)s: %(message)s",
    )
    args.argv = argv  # to print the command that resumes an interrupted run
    from nasrank.cli._output import recording_provenance, table_format

    try:
        _check_before_work(args)
        with (
            _sigterm_as_interrupt(),
            table_format(args.format),
            recording_provenance(argv, getattr(args, "json", None)),
        ):
            return int(args.run(args))
    except (NasrankError, UsageError) as exc:
        print(f"nasrank {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"nasrank {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
