"""CLI fuzz suite: malformed values for every option family of every subcommand.

Each case runs ``nasrank.cli.main`` in-process on a command that would work, with one
option replaced by a bad value, and asserts what the README promises for bad input:
exit code 2, exactly one line on stderr, no traceback -- and that no file in the working
folder changed (inputs, stores and storages byte-identical; no output written).
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from nasrank.cli import main

ARCH = "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|"

#: A cheap command of each subcommand that works; each case breaks one option of it.
BASE: dict[str, list[str]] = {
    "spaces": ["spaces"],
    "benchmarks": ["benchmarks", "nb201-analog", "--top", "2"],
    "build": ["build", "--space", "nb201", "--arch", ARCH],
    "score": ["score", "--space", "nb201", "--arch", ARCH, "--proxies", "params"],
    "score-space": [
        "score-space", "--space", "nb201", "--pool", "2", "--proxies", "params",
        "--store", "STORE",
    ],
    "correlate": [
        "correlate", "--space", "nb201", "--benchmark", "nb201-analog", "--n", "3",
        "--proxies", "params",
    ],
    "train": [
        "train", "--space", "nb201", "--arch", ARCH, "--data", "synthetic", "--train-size",
        "8", "--test-size", "0", "--epochs", "1", "--batch-size", "8",
    ],
    "search": [
        "search", "--space", "nb201", "--benchmark", "nb201-analog", "--method", "random",
        "--budget", "3", "--seeds", "0",
    ],
    "encode": ["encode", "--space", "nb201", "--arch", ARCH],
    "predict-eval": [
        "predict-eval", "--space", "nb201", "--benchmark", "nb201-analog", "--features",
        "onehot", "--train-sizes", "5", "--seeds", "1",
    ],
}

# ---- malformed values, by family -----------------------------------------------------------
NOT_INTEGERS = [
    "abc", "", " ", "1.5", "1e3", "nan", "inf", "-inf", "0x10", "0b11", "1,2", "1 2",
    "2**10", "+", "\u22121", "--", "one", "None", "-1", "-99999999999999999999",
]
NOT_SEEDS = [
    "-1", "abc", "99999999999999999999", str(2**63), "1.5", "", " ", "nan", "1e3", "0x1",
    "--", "2**64", "+-1", "1;2", "\u221e", "1 2", "0..", "None", "true", "-99",
]
NOT_FLOATS = [
    "abc", "", " ", "nan", "-nan", "inf", "-inf", "1e400", "-1", "-0.5", "1,5", "0x1p3x",
    "--", "one", "None", "1 2", "\u22121", "1e-400e", "NaN", "-1e9",
]
NOT_NAMES = [
    "", " ", "NB201x", "nb 201", "nb201;", "../nb201", "nb201\x00", "a" * 1000, "\u00f1b201",
    "*", "nb201,nb101", "None", "0", "nb-201x", "%s", "{space}", "\\", "--", "nb201/",
    "\U0001f600",
]
NOT_PROXIES = [
    "", " ", ",", ",,", "synflowx", "SYNFLOW ", "syn flow", "all,synflow,", "synflow,zz",
    "params;", "\x00", "a" * 500, "*", "params,params", "nothing", "0", "-", "all,all",
    "\U0001f600", "grad_norm,x",
]
NOT_DATA = [
    "", "cifar10:", "cifar10:/nonexistent/dir", "images:/etc/passwd", "synthetic:0x0x0",
    "synthetic:3x32", "synthetic:3x32x32:0", "synthetic:-3x32x32", "synthetic:axbxc",
    "synthetic:3x32x32:10:extra", "foo:bar", ":", "cifar100:/proc", "images:",
    "synthetic:3x99999x99999", "tokens", "graph", "graph:JUNK", "synthetic:3x32x32:-2",
    "synthetic:3x32x32:99999999999999999999",
]
NOT_BENCHMARKS = [
    "", " ", "nope", "table:", "table:/nonexistent.csv", "suite-zero:", "suite-zero:JUNK",
    "suite-zero:EMPTY", "suite-zero:JSON", "table:JUNK", "table:EMPTY", "nb201-analogx",
    ":", "nb201-analog:x", "suite-zero:/proc", "table:FOREIGN", "nbnlp:", "nbbert:/nope",
    "suite-zero:STORE_KIND", "a" * 300,
]
NOT_DEVICES = [
    "", " ", "tpu", "gpu", "mps", "cuda:", "cuda:x", "cuda:-1", "cuda:1.5", "cuda:0:0",
    "cpu:0", "cuda0", "cuda 0", "cuda:\u0661", "None", "auto", "--", "cuda,cpu", "\x00",
    "cuda:99",
]

# ---- files of the wrong kind ------------------------------------------------------------------


def _make_files(root: Path) -> dict[str, Path]:
    """Files of every wrong kind: empty, truncated SQLite, foreign SQLite, JSON, binary
    junk, CSV, a folder, a score store, a search storage."""
    files = {name: root / name for name in ("EMPTY", "JUNK", "JSON", "CSV", "FOREIGN")}
    files["EMPTY"].write_bytes(b"")
    files["JUNK"].write_bytes(bytes(range(256)) * 3)
    files["JSON"].write_text(json.dumps({"hello": [1, 2, 3]}))
    files["CSV"].write_text("arch,acc\nx,1\n")
    conn = sqlite3.connect(files["FOREIGN"])
    conn.execute("CREATE TABLE users (name TEXT)")
    conn.commit()
    conn.close()
    files["TRUNCATED"] = root / "TRUNCATED"
    files["TRUNCATED"].write_bytes(files["FOREIGN"].read_bytes()[:60])
    files["FOLDER"] = root / "FOLDER"
    files["FOLDER"].mkdir()
    more = {
        "PNG": b"\x89PNG\r\n\x1a\n" + bytes(64),
        "GZIP": b"\x1f\x8b\x08\x00" + bytes(64),
        "PICKLE": b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00K\x01.",
        "NPY": b"\x93NUMPY\x01\x00v\x00{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }"
        + b" " * 44 + b"\n" + bytes(16),
        "ZIP": b"PK\x03\x04" + bytes(64),
        "NULS": bytes(4096),
        "HALFJSON": b'{"runs": [1, 2',
        "TEXT": b"hello world\nthis is not data\n",
        "UTF16": "arch\n|x|\n".encode("utf-16"),
        "XML": b"<?xml version='1.0'?><a/>",
        "LONGLINE": b"x" * 200_000,
    }
    for name, content in more.items():
        files[name] = root / name
        files[name].write_bytes(content)
    files["DANGLING"] = root / "DANGLING"
    files["DANGLING"].symlink_to(root / "nowhere")
    files["LINKDIR"] = root / "LINKDIR"
    files["LINKDIR"].symlink_to(files["FOLDER"])
    assert main(["score-space", "--space", "nb201", "--pool", "1", "--proxies", "params",
                 "--store", str(root / "STORE_KIND")]) == 0
    files["STORE_KIND"] = root / "STORE_KIND"
    assert main(["search", "--space", "nb201", "--benchmark", "nb201-analog", "--method",
                 "random", "--budget", "2", "--seeds", "0", "--storage",
                 str(root / "STORAGE_KIND")]) == 0
    files["STORAGE_KIND"] = root / "STORAGE_KIND"
    # close the runs' connections now: the last close checkpoints the WAL into the main
    # file, which must not happen in the middle of a case
    gc.collect()
    for name in ("STORE_KIND", "STORAGE_KIND"):
        conn = sqlite3.connect(files[name])
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
    return files


WRONG_FILES = ["EMPTY", "JUNK", "JSON", "CSV", "FOREIGN", "TRUNCATED", "FOLDER", "PNG", "GZIP",
               "PICKLE", "NPY", "ZIP", "NULS", "HALFJSON", "TEXT", "UTF16", "XML", "LONGLINE",
               "DANGLING", "LINKDIR"]  # fmt: skip
#: An empty file (or a link to none) is a new SQLite database: a store or storage may
#: start in it.
STARTS_EMPTY = ("--store", "--storage")

# ---- the harness ------------------------------------------------------------------------------


def _snapshot(root: Path) -> dict[str, str]:
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.name.endswith(("-wal", "-shm")):
            out[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
        elif path.is_dir():
            out[str(path.relative_to(root))] = "dir"
    return out


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("fuzz")
    old, progress = Path.cwd(), os.environ.get("NASRANK_PROGRESS")
    os.chdir(root)
    os.environ["NASRANK_PROGRESS"] = "0"
    try:
        _make_files(root)
        yield root
    finally:
        os.chdir(old)
        if progress is None:
            os.environ.pop("NASRANK_PROGRESS", None)
        else:
            os.environ["NASRANK_PROGRESS"] = progress


def _fill(argv: list[str], root: Path) -> list[str]:
    """Replace the placeholders (STORE, JUNK, ...) by paths in ``root``."""
    out = []
    for a in argv:
        for name in ("STORE_KIND", "STORAGE_KIND", "TRUNCATED", "FOREIGN", "FOLDER", "EMPTY",
                     "JUNK", "HALFJSON", "JSON", "CSV", "PNG", "GZIP", "PICKLE", "NPY", "ZIP",
                     "NULS", "TEXT", "UTF16", "XML", "LONGLINE", "DANGLING", "LINKDIR",
                     "STORE"):
            if name in a:
                a = a.replace(name, str(root / name), 1)
                break
        out.append(a)
    return out


def _with(command: str, option: str, value: str) -> list[str]:
    """``BASE[command]`` with ``option`` set to ``value`` (replaced or appended)."""
    argv = list(BASE[command])
    if option in argv:
        argv[argv.index(option) + 1] = value
    else:
        argv += [option, value]
    return argv


def _assert_refused(argv: list[str], root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = _snapshot(root)
    capsys.readouterr()
    rc = main(_fill(argv, root))
    _, err = capsys.readouterr()
    lines = [line for line in err.splitlines() if line.strip()]
    assert rc == 2, f"{argv!r}: exit {rc}, stderr {err!r}"
    assert len(lines) == 1 and "Traceback" not in err, f"{argv!r}: stderr {err!r}"
    assert _snapshot(root) == before, f"{argv!r} changed files"


def _cases() -> Iterator[tuple[str, str, str]]:
    """``(command, option, bad value)`` of every family that applies."""
    ints = {
        "benchmarks": ["--top"],
        "build": ["--num-classes", "--input-size"],
        "score": ["--batch-size", "--num-classes", "--threads"],
        "score-space": ["--batch-size", "--num-classes", "--workers", "--threads", "--pool"],
        "correlate": ["--batch-size", "--num-classes", "--threads", "--n"],
        "train": ["--train-size", "--val-size", "--test-size", "--epochs", "--batch-size"],
        "search": ["--batch-size", "--num-classes", "--budget", "--train-top", "--workers",
                   "--threads"],
        "encode": ["--num-classes"],
        "predict-eval": ["--seeds", "--threads", "--train-sizes"],
    }
    for command, options in ints.items():
        for option in options:
            for value in NOT_INTEGERS:
                yield command, option, value
    for command, option in [("score", "--seed"), ("score-space", "--seed"),
                            ("correlate", "--seed"), ("train", "--seed"),
                            ("search", "--pool-seed"), ("search", "--seeds")]:
        for value in NOT_SEEDS:
            yield command, option, value
    for option in ("--lr", "--weight-decay", "--warmup-epochs"):
        for value in NOT_FLOATS:
            yield "train", option, value
    for command in ("build", "score", "score-space", "correlate", "train", "search", "encode",
                    "predict-eval"):
        for value in NOT_NAMES:
            yield command, "--space", value
    for command in ("score", "score-space", "correlate", "search"):
        for value in NOT_PROXIES:
            yield command, "--proxies", value
    for command in ("score", "score-space", "correlate"):
        for value in NOT_DATA:
            yield command, "--data", value
    for command in ("correlate", "search", "predict-eval"):
        for value in NOT_BENCHMARKS:
            yield command, "--benchmark", value
    for command in ("score", "score-space", "correlate", "search"):
        for value in NOT_DEVICES:
            yield command, "--device", value


@pytest.mark.parametrize(("command", "option", "value"), list(_cases()))
def test_malformed_value_is_one_line_and_exit_2(
    work: Path, capsys: pytest.CaptureFixture[str], command: str, option: str, value: str
) -> None:
    _assert_refused(_with(command, option, value), work, capsys)


# ---- files of the wrong kind, for every option that reads a file -----------------------------
FILE_OPTIONS = [
    ("score-space", "--store", ""),
    ("score", "--store", ""),
    ("correlate", "--store", ""),
    ("search", "--storage", ""),
    ("search", "--table", ""),
    ("encode", "--onnx", ""),
    ("score-space", "--pool", "file:"),
    ("correlate", "--benchmark", "suite-zero:"),
    ("search", "--benchmark", "table:"),
    ("score", "--data", "graph:"),
]


def _file_cases() -> Iterator[tuple[str, str, str]]:
    for command, option, prefix in FILE_OPTIONS:
        for kind in WRONG_FILES:
            if not (kind in ("EMPTY", "DANGLING") and option in STARTS_EMPTY):
                yield command, option, prefix + kind
    yield "score-space", "--store", "STORAGE_KIND"
    yield "search", "--storage", "STORE_KIND"


@pytest.mark.parametrize(("command", "option", "value"), list(_file_cases()))
def test_file_of_the_wrong_kind_is_refused(
    work: Path, capsys: pytest.CaptureFixture[str], command: str, option: str, value: str
) -> None:
    argv = _with(command, option, value)
    if command == "encode":
        argv = [a for a in argv if a not in ("--space", "nb201", "--arch", ARCH)]
    _assert_refused(argv, work, capsys)


# ---- output paths ------------------------------------------------------------------------------
BAD_OUTPUTS = [
    "", " ", "/proc/x.json", "/proc/a/b/x.json", "FOLDER", "JSON/x.json", "/sys/x.json",
    "a" * 300 + ".json", "x\x00.json", "/proc", "/", ".", "..", "FOLDER/", "EMPTY/sub/x",
    "STORE", "STORE-wal", "JUNK/x.json", "/proc/self/x", "CSV/../CSV/x",
]
OUTPUT_OPTIONS = [
    (command, "--json") for command in BASE
] + [
    ("correlate", "--plot"), ("correlate", "--csv"), ("search", "--plot"),
    ("predict-eval", "--plot"), ("score-space", "--export"), ("score-space", "--export-table"),
    ("train", "--checkpoint-dir"), ("search", "--checkpoint-dir"),
    ("predict-eval", "--cache-dir"),
]


def _output_cases() -> Iterator[tuple[str, str, str]]:
    for command, option in OUTPUT_OPTIONS:
        for value in BAD_OUTPUTS:
            if option.endswith("-dir") and value in ("FOLDER", ".", "..", "FOLDER/", "/"):
                continue  # a folder is what these take
            if option == "--export-table" and value in (
                "FOLDER", "FOLDER/", "STORE", "STORE-wal", "/proc", ".."
            ):
                continue  # NAME.npz + NAME.json beside them: fine
            if value in ("STORE", "STORE-wal") and command != "score-space":
                continue
            yield command, option, value
    for value in ("x.txt", "x", "x.json", "x.PNGX", "x.csv", "x.", ".png.txt", "x.npz"):
        for command in ("correlate", "search", "predict-eval"):
            yield command, "--plot", value


@pytest.mark.parametrize(("command", "option", "value"), list(_output_cases()))
def test_bad_output_path_is_refused_before_work(
    work: Path, capsys: pytest.CaptureFixture[str], command: str, option: str, value: str
) -> None:
    _assert_refused(_with(command, option, value), work, capsys)


def test_each_family_has_at_least_20_values() -> None:
    for family in (NOT_INTEGERS, NOT_SEEDS, NOT_FLOATS, NOT_NAMES, NOT_PROXIES, NOT_DATA,
                   NOT_BENCHMARKS, NOT_DEVICES, BAD_OUTPUTS, WRONG_FILES):
        assert len(family) >= 20 and len(set(family)) == len(family)
