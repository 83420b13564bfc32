"""The files a command reads and writes, checked before it runs.

:func:`check_cli_paths` runs in :func:`nasrank.cli.main` before every subcommand, so a
bad output path costs no work: each output (``--json``, ``--plot``, ``--csv``,
``--export``, ``--export-table``; the folders ``--checkpoint-dir`` and ``--cache-dir``)
must be writable (found by a probe file in the nearest existing folder, removed at once)
and must not be an input of the command (``--store``, ``--storage``, ``--benchmark``,
``--data``, ``--pool``, ``--table``, ``--onnx``, ...) or another output; ``--plot`` must
end in a format matplotlib writes; ``--store`` and ``--storage`` must be new or of their
own kind (:func:`nasrank.store.check_store_file`,
:func:`nasrank.search.storage.check_storage_file`).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from pathlib import Path

from nasrank._files import same_file, unwritable_reason
from nasrank.errors import NasrankError

__all__ = ["check_cli_paths"]

#: Options naming a file the command writes.
_FILE_OUTPUTS = ("json", "plot", "csv", "export")
#: Options naming a folder the command writes into.
_FOLDER_OUTPUTS = ("checkpoint_dir", "cache_dir")
#: Options naming (or whose specs contain) a file the command reads.
_SPEC_INPUTS = ("benchmark", "spec", "data", "pool", "table", "onnx", "train_on")
_SQLITE_SIDECARS = ("", "-wal", "-shm", "-journal")


def _option(dest: str) -> str:
    return "SPEC" if dest == "spec" else "--" + dest.replace("_", "-")


def _outputs(args: argparse.Namespace) -> Iterator[tuple[str, Path]]:
    for dest in _FILE_OUTPUTS:
        if getattr(args, dest, None) is not None:
            yield _option(dest), Path(getattr(args, dest)).expanduser()
    if getattr(args, "export_table", None):
        from nasrank.tables.table import table_paths

        try:
            paths = table_paths(args.export_table)
        except ValueError:  # "/", "." ...: no name to give the two files
            raise NasrankError(
                f"--export-table {args.export_table!r} needs a file name, e.g. tables/nb201"
            ) from None
        for path in paths:
            yield "--export-table", path


def _spec_paths(text: str) -> Iterator[Path]:
    """The existing files a spec names: the text itself or what follows any ``:``
    (``suite-zero:PATH``, ``graph:PATH.npz``, ``file:PATH``), options after ``,`` cut."""
    starts = [0] + [i + 1 for i, c in enumerate(text) if c == ":"]
    for start in starts:
        candidate = text[start:].split(",")[0].strip()
        if candidate and os.path.exists(os.path.expanduser(candidate)):
            yield Path(candidate).expanduser()


def _inputs(args: argparse.Namespace) -> Iterator[tuple[str, Path]]:
    for dest in ("store", "storage"):
        value = getattr(args, dest, None)
        if value and (dest == "store" or "://" not in value or value.startswith("sqlite:///")):
            base = value.removeprefix("sqlite:///").removeprefix("jsonl:")
            for sidecar in _SQLITE_SIDECARS:
                yield _option(dest), Path(base + sidecar).expanduser()
    for dest in _SPEC_INPUTS:
        value = getattr(args, dest, None)
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str) and text:
                for path in _spec_paths(text):
                    yield _option(dest), path
                    if dest == "table":
                        from nasrank.tables.table import table_paths

                        for part in table_paths(path):
                            yield _option(dest), part


def _check_plot(path: Path) -> str | None:
    from matplotlib.backend_bases import FigureCanvasBase

    formats = FigureCanvasBase.get_supported_filetypes()
    suffix = path.suffix.lower().lstrip(".")
    if suffix in formats:
        return None
    known = ", ".join("." + f for f in ("png", "pdf", "svg") if f in formats)
    what = f".{suffix} files" if suffix else "a file without a suffix"
    return f"matplotlib cannot write {what}; use {known}"


def _check_kinds(args: argparse.Namespace) -> None:
    """A --store or --storage file must be new or of its own kind."""
    if getattr(args, "store", None):
        from nasrank.store.store import check_store_file

        check_store_file(args.store)
    if getattr(args, "storage", None):
        from nasrank.search.storage import check_storage_file

        check_storage_file(args.storage)


def check_cli_paths(args: argparse.Namespace) -> None:
    """Refuse unwritable outputs, outputs that are inputs or each other, an unknown plot
    format and a --store/--storage of the wrong kind (see the module docstring).

    Raises:
        NasrankError: One line naming the option, the path and the reason.
    """

    for dest in ("json", "plot", "csv", "export", "export_table", "store", "storage", "onnx"):
        value = getattr(args, dest, None)
        if isinstance(value, str) and (not value.strip() or "\x00" in value):
            raise NasrankError(f"{_option(dest)} needs a path, got {value!r}")
    outputs = list(_outputs(args))
    for option, path in outputs:
        reason = unwritable_reason(path)
        if reason is None and option == "--plot":
            reason = _check_plot(path)
        if reason is not None:
            raise NasrankError(f"{option} {str(path)!r}: {reason}")
    for dest in _FOLDER_OUTPUTS:
        if getattr(args, dest, None) is not None:
            reason = unwritable_reason(getattr(args, dest), folder=True)
            if reason is not None:
                raise NasrankError(f"{_option(dest)} {getattr(args, dest)!r}: {reason}")
    inputs = list(_inputs(args))
    for i, (option, path) in enumerate(outputs):
        for other, taken in [*inputs, *outputs[:i]]:
            if other != option and same_file(path, taken):
                raise NasrankError(
                    f"{option} {str(path)!r} is also {other}; writing it would destroy "
                    f"that {'input' if (other, taken) in inputs else 'output'} -- give "
                    f"{option} a path of its own"
                )
    _check_kinds(args)
