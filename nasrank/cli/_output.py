"""Output conventions shared by every subcommand: tables, JSON files, progress bars."""

from __future__ import annotations

import json
import math
import os
import re
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from nasrank._files import OutputPathError, replace_atomically

__all__ = [
    "TABLE_FORMATS",
    "print_table",
    "print_note",
    "table_format",
    "current_format",
    "render_plain",
    "render_markdown",
    "render_csv",
    "open_output",
    "write_json",
    "provenance",
    "recording_provenance",
    "save_figure",
    "progress",
    "progress_interval",
    "fmt",
]


def fmt(value: Any, digits: int = 4) -> str:
    """Compact human formatting for table cells."""
    if value is None:
        return "-"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if value != 0 and (abs(value) >= 1e6 or abs(value) < 1e-3):
            return f"{value:.{digits}g}"
        return (
            f"{value:.{digits}f}".rstrip("0").rstrip(".")
            if "." in f"{value:.{digits}f}"
            else f"{value}"
        )
    return str(value)


#: ``--format`` choices: ``auto`` is ``table`` on a terminal and ``plain`` otherwise.
TABLE_FORMATS = ("auto", "table", "plain", "markdown", "csv")
_FORMAT: ContextVar[str] = ContextVar("nasrank_table_format", default="auto")
#: Characters of rich's box drawing (U+2500..U+257F): none in ``plain``/``markdown``/``csv``.
BOX_DRAWING = re.compile("[\u2500-\u257f]")


@contextmanager
def table_format(name: str) -> Iterator[None]:
    """Tables printed inside the block use ``name`` (one of :data:`TABLE_FORMATS`)."""
    if name not in TABLE_FORMATS:
        raise ValueError(f"table format must be one of {', '.join(TABLE_FORMATS)}, got {name!r}")
    token = _FORMAT.set(name)
    try:
        yield
    finally:
        _FORMAT.reset(token)


def current_format() -> str:
    """The format tables are printed in now: ``auto`` resolved against stdout."""
    name = _FORMAT.get()
    if name == "auto":
        return "table" if sys.stdout.isatty() else "plain"
    return name


def print_table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Print a table on stdout in :func:`current_format`: a rich table at the terminal's
    width on a terminal, aligned plain text (no box characters, no wrapping) when piped,
    or Markdown / CSV (``--format``). Every format carries the same title, header and
    cells (each cell through :func:`fmt`)."""
    cells = [[" ".join(fmt(v).split("\n")) for v in row] for row in rows]
    name = current_format()
    if name == "table":
        _print_rich(title, columns, cells)
        return
    render = {"plain": render_plain, "markdown": render_markdown, "csv": render_csv}[name]
    sys.stdout.write(render(title, columns, cells))
    sys.stdout.flush()


def print_note(line: str) -> None:
    """A line of text beside the tables (``# `` first in CSV output, so that a CSV reader
    with ``comment="#"`` skips it)."""
    print(f"# {line}" if current_format() == "csv" else line)


def _print_rich(title: str | None, columns: Sequence[str], cells: list[list[str]]) -> None:
    """A rich table; its title is a line of its own above it, so that a long title does
    not wrap inside a narrow table. Off a terminal (``--format table`` in a pipe) the
    table takes its natural width."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(header_style="bold")
    for col, right in zip(columns, _right_aligned(len(columns), cells)):
        table.add_column(col, overflow="fold", justify="right" if right else "left")
    for row in cells:
        table.add_row(*row)
    tty = sys.stdout.isatty()
    console = Console(width=None if tty else 100_000, soft_wrap=not tty)
    if title:
        console.print(Text(title, style="bold"), soft_wrap=True)
    console.print(table)


def _numeric(text: str) -> bool:
    return bool(re.fullmatch(r"[-+]?(\d[\d,]*\.?\d*|\.\d+)(e[-+]?\d+)?( %)?|nan|inf|-inf|-", text))


def _right_aligned(n: int, cells: list[list[str]]) -> list[bool]:
    """Per column: whether every cell is a number (or ``-``) and one is not ``-``."""
    return [
        bool(cells)
        and all(_numeric(row[i]) for row in cells)
        and any(row[i] != "-" for row in cells)
        for i in range(n)
    ]


def render_plain(title: str | None, columns: Sequence[str], cells: list[list[str]]) -> str:
    """Aligned columns separated by two spaces, a ``-`` rule under the header, numeric
    columns right-aligned; no box characters and no wrapping (one line per row)."""
    widths = [len(c) for c in columns]
    for row in cells:
        widths = [max(w, len(v)) for w, v in zip(widths, row)]
    right = _right_aligned(len(columns), cells)

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if r else v.ljust(w) for v, w, r in zip(values, widths, right)]
        return "  ".join(parts).rstrip()

    out = [title] if title else []
    out += [line(columns), "  ".join("-" * w for w in widths)]
    out += [line(row) for row in cells]
    return "\n".join(out) + "\n\n"


def render_markdown(title: str | None, columns: Sequence[str], cells: list[list[str]]) -> str:
    """A GitHub-flavoured Markdown table (``|`` in cells escaped), the title in bold above."""

    def line(values: Sequence[str]) -> str:
        return "| " + " | ".join(v.replace("|", "\\|") for v in values) + " |"

    out = [f"**{title}**", ""] if title else []
    out += [line(columns), "|" + "|".join("---" for _ in columns) + "|"]
    out += [line(row) for row in cells]
    return "\n".join(out) + "\n\n"


def render_csv(title: str | None, columns: Sequence[str], cells: list[list[str]]) -> str:
    """CSV (RFC 4180 quoting); the title as a ``# `` comment line above the header."""
    import csv
    import io

    buffer = io.StringIO()
    if title:
        buffer.write(f"# {title}\n")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(cells)
    return buffer.getvalue() + "\n"


def _json_default(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def _clean(obj: Any) -> Any:
    """NaN/inf are not JSON: write them as null."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


@contextmanager
def _writing(path: str | Path) -> Iterator[Path]:
    """:func:`~nasrank._files.replace_atomically`, an OS error as one line."""
    try:
        with replace_atomically(path) as target:
            yield target
    except OSError as exc:
        if isinstance(exc, OutputPathError):
            raise
        raise OutputPathError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None


@contextmanager
def open_output(path: str | Path, **open_kwargs: Any) -> Iterator[Any]:
    """A text file to write ``path``'s new content to, replacing it atomically on
    success (a crash never leaves a half-written file; links, FIFOs and devices as
    :func:`~nasrank._files.replace_atomically` says)."""
    with _writing(path) as target, open(target, "w", **open_kwargs) as f:
        yield f


_PROVENANCE: ContextVar[tuple[str, dict[str, Any]] | None] = ContextVar(
    "nasrank_provenance", default=None
)


def provenance(argv: Sequence[str]) -> dict[str, Any]:
    """What made a result: the exact command, nasrank's and Python's versions, the working
    folder (relative paths in the command are relative to it) and the time."""
    import datetime as dt
    import platform
    import shlex

    from nasrank._version import __version__

    return {
        "command": shlex.join(["nasrank", *argv]),
        "nasrank_version": __version__,
        "python": platform.python_version(),
        "cwd": os.getcwd(),
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }


@contextmanager
def recording_provenance(argv: Sequence[str], json_path: str | None) -> Iterator[None]:
    """Inside the block, the JSON object written to ``json_path`` (the command's
    ``--json``) gains a ``provenance`` entry (:func:`provenance`), which ``nasrank
    report`` shows; other files are written as given."""
    if not json_path:
        yield
        return
    token = _PROVENANCE.set((os.path.abspath(os.path.expanduser(json_path)), provenance(argv)))
    try:
        yield
    finally:
        _PROVENANCE.reset(token)


def write_json(path: str | Path, payload: Any) -> None:
    """Write ``payload`` as JSON through :func:`open_output` (NaN/inf as null); the
    command's ``--json`` with its ``provenance`` (see :func:`recording_provenance`)."""
    record = _PROVENANCE.get()
    if (
        record is not None
        and isinstance(payload, dict)
        and "provenance" not in payload
        and os.path.abspath(os.path.expanduser(str(path))) == record[0]
    ):
        payload = {**payload, "provenance": record[1]}
    text = json.dumps(_clean(payload), indent=2, default=_json_default) + "\n"
    with open_output(path) as f:
        f.write(text)


def save_figure(fig: Any, path: str | Path, *, dpi: int = 110) -> None:
    """Save a matplotlib figure atomically, in the format of ``path``'s suffix."""
    fmt_name = Path(path).suffix.lower().lstrip(".") or "png"
    with _writing(path) as target:
        fig.savefig(target, format=fmt_name, dpi=dpi)


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}"


class _LogProgress:
    """Progress for a log file (stderr is not a terminal): one plain line every
    ``interval`` seconds of work, and a last one at the end if any was written -- so
    short commands stay quiet and a job under ``nohup`` shows its rate and ETA."""

    def __init__(self, description: str, total: int | None, interval: float) -> None:
        self.description, self.total, self.interval = description, total, interval
        self.done = 0
        self.start = self.last = time.monotonic()
        self.lines = 0

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.last >= self.interval:
            self.last = now
            self._write(now)

    def finish(self) -> None:
        if self.lines:
            self._write(time.monotonic())

    def _write(self, now: float) -> None:
        elapsed = now - self.start
        text = f"{self.description}: {self.done:,}"
        if self.total:
            text += f"/{self.total:,} ({100 * self.done / self.total:.1f} %)"
        text += f", {_duration(elapsed)} elapsed"
        if self.total and 0 < self.done < self.total:
            text += f", ETA {_duration(elapsed / self.done * (self.total - self.done))}"
        print(text, file=sys.stderr, flush=True)
        self.lines += 1


def progress_interval() -> float:
    """Seconds between progress lines in a log: ``$NASRANK_PROGRESS_INTERVAL`` (default 60).

    Raises:
        NasrankError: The variable is not a number >= 0.
    """
    text = os.environ.get("NASRANK_PROGRESS_INTERVAL", "60")
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not value >= 0:
        from nasrank.errors import NasrankError

        raise NasrankError(
            f"NASRANK_PROGRESS_INTERVAL must be a number of seconds >= 0, got {text!r}"
        )
    return value


@contextmanager
def progress(description: str, total: int | None) -> Iterator[Any]:
    """Progress on stderr; yields an object with ``advance(n=1)``.

    A rich bar with ETA on a terminal (or with ``NASRANK_PROGRESS=1``); otherwise a plain
    line every ``NASRANK_PROGRESS_INTERVAL`` seconds (default 60) of long work;
    ``NASRANK_PROGRESS=0`` silences both.
    """
    mode = os.environ.get("NASRANK_PROGRESS")
    if mode != "1" and (mode == "0" or not sys.stderr.isatty()):
        log = _LogProgress(description, total, math.inf if mode == "0" else progress_interval())
        try:
            yield log
        finally:
            log.finish()
        return

    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
    )

    class _Handle:
        def __init__(self, task_id: Any) -> None:
            self._id = task_id

        def advance(self, n: int = 1) -> None:
            bar.advance(self._id, n)

    with bar:
        yield _Handle(bar.add_task(description, total=total))
