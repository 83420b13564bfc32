"""Output conventions shared by every subcommand: tables, JSON files, progress bars."""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["print_table", "write_json", "progress", "fmt"]


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


def write_json(path: str | Path, payload: Any) -> None:
    """Write ``payload`` atomically (a crash never leaves a half-written file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(_clean(payload), f, indent=2, default=_json_default)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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


@contextmanager
def progress(description: str, total: int | None) -> Iterator[Any]:
    """Progress on stderr; yields an object with ``advance(n=1)``.

    A rich bar with ETA on a terminal (or with ``NASRANK_PROGRESS=1``); otherwise a plain
    line every ``NASRANK_PROGRESS_INTERVAL`` seconds (default 60) of long work;
    ``NASRANK_PROGRESS=0`` silences both.
    """
    mode = os.environ.get("NASRANK_PROGRESS")
    if mode != "1" and (mode == "0" or not sys.stderr.isatty()):
        interval = float(os.environ.get("NASRANK_PROGRESS_INTERVAL", "60"))
        log = _LogProgress(description, total, math.inf if mode == "0" else interval)
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
