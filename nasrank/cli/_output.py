"""Output conventions shared by every subcommand: tables, JSON files, progress bars."""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from nasrank._files import OutputPathError, replace_atomically

__all__ = [
    "print_table",
    "open_output",
    "write_json",
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


def print_table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Print a readable table on stdout (rich when it is a terminal, plain text otherwise)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left", header_style="bold")
    for col in columns:
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(*(fmt(v) for v in row))
    Console(width=None if sys.stdout.isatty() else 200, soft_wrap=False).print(table)


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


def write_json(path: str | Path, payload: Any) -> None:
    """Write ``payload`` as JSON through :func:`open_output` (NaN/inf as null)."""
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
