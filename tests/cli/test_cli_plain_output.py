"""Tables fit where they go: plain text off a terminal, rich boxes on one, markdown/csv on
request -- the same cells every time; listings and help name every kind users can give."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nasrank.cli import main
from nasrank.cli._output import BOX_DRAWING, render_csv, render_markdown, render_plain

ARCH = "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|"
ROOT = Path(__file__).resolve().parents[2]
COLUMNS = ["proxy", "spearman", "arch"]
CELLS = [["synflow", "0.7676", ARCH], ["params", "0.74", "-"], ["nwot", "nan", "a,b"]]


def _piped(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "NASRANK_PROGRESS": "0", "COLUMNS": "60"}
    return subprocess.run(
        [sys.executable, "-m", "nasrank", *argv], capture_output=True, text=True, env=env,
        cwd=cwd, timeout=300,
    )  # fmt: skip


@pytest.mark.slow
def test_a_listing_piped_is_plain_text_unwrapped(tmp_path):
    proc = _piped(["benchmarks"], tmp_path)  # `nasrank benchmarks | cat`
    assert proc.returncode == 0, proc.stderr
    assert not BOX_DRAWING.search(proc.stdout)
    lines = proc.stdout.splitlines()
    assert lines[0] == "Benchmarks (ground truth)" and lines[1].split() == [
        "spec",
        "space",
        "what",
        "data",
    ]
    # one line per kind although $COLUMNS is 60
    rows = [line for line in lines[3:] if line]
    assert len(rows) == 6 and all(line.startswith(("nb", "suite-zero", "table")) for line in rows)


@pytest.mark.slow
def test_search_piped_prints_plain_tables_without_box_characters(toy_table_csv, tmp_path):
    # `nasrank search ... | cat`: stdout is a pipe, not a terminal
    argv = ["search", "--benchmark", f"table:{toy_table_csv}", "--method", "random,re",
            "--budget", "5", "--seeds", "0..1"]  # fmt: skip
    proc = _piped(argv, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert not BOX_DRAWING.search(proc.stdout), proc.stdout
    lines = proc.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("method  runs "))
    assert set(lines[header + 1].replace(" ", "")) == {"-"}  # the rule under the header
    assert [line.split()[0] for line in lines[header + 2 : header + 4]] == ["random", "re"]
    # nothing wraps at the 60 columns of $COLUMNS: the title and the optimum are one line each
    assert any(line.startswith("table:") and "optimum" in line for line in lines)
    assert any(line.startswith("pool optimum: |") and line.endswith(tuple("0123456789")) for line in lines)  # fmt: skip


@pytest.mark.parametrize(
    "argv",
    [["spaces"], ["benchmarks"], ["benchmarks", "nb201-analog", "--top", "3"],
     ["build", "--space", "nb201", "--arch", ARCH]],
)  # fmt: skip
def test_no_command_draws_boxes_when_stdout_is_not_a_terminal(argv, capsys):
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.strip() and not BOX_DRAWING.search(out)


def test_format_table_draws_boxes_at_the_natural_width_even_in_a_pipe(capsys):
    assert main(["build", "--space", "nb201", "--arch", ARCH, "--format", "table"]) == 0
    out = capsys.readouterr().out
    assert BOX_DRAWING.search(out)
    assert any(ARCH in line for line in out.splitlines())  # the id on one line, not folded
    assert out.splitlines()[0] == "nb201 architecture"  # the title above the table


@pytest.mark.parametrize("fmt", ["plain", "markdown", "csv"])
def test_every_format_carries_the_same_cells(fmt, capsys):
    assert main(["build", "--space", "nb201", "--arch", ARCH, "--format", fmt]) == 0
    out = capsys.readouterr().out
    assert not BOX_DRAWING.search(out)
    for cell in ("nb201 architecture", "params", "MFLOPs", "3x32x32", "10 (the space's default)"):
        assert cell in out
    arch = ARCH.replace("|", "\\|") if fmt == "markdown" else ARCH
    assert arch in out


def test_renderers_round_trip_the_cells():
    plain = render_plain("title", COLUMNS, CELLS).splitlines()
    assert plain[0] == "title" and plain[1].split() == COLUMNS
    assert plain[3].split() == CELLS[0] and plain[4].split() == CELLS[1]
    # numbers right-aligned: their column ends at the same place
    assert len(plain[3].split(ARCH)[0].rstrip()) == len(plain[4].split(" -")[0].rstrip())
    rows = list(csv.reader(io.StringIO(render_csv("title", COLUMNS, CELLS))))
    assert rows[0] == ["# title"] and rows[1] == COLUMNS and rows[2:5] == CELLS
    md = render_markdown("title", COLUMNS, CELLS).splitlines()
    assert (
        md[0] == "**title**" and md[2] == "| proxy | spearman | arch |" and md[3] == "|---|---|---|"
    )
    assert md[4].count("\\|") == ARCH.count("|")  # the id's bars do not split cells


def test_search_csv_format_comments_the_lines_beside_the_tables(toy_table_csv, capsys):
    argv = ["search", "--benchmark", f"table:{toy_table_csv}", "--method", "random",
            "--budget", "4", "--seeds", "0", "--format", "csv"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    kept = [line for line in out.splitlines() if line and not line.startswith("#")]
    rows = list(csv.reader(kept))
    assert rows[0][0] == "method" and rows[1][0] == "random"
    assert any(line.startswith("# pool optimum: ") for line in out.splitlines())


def test_bad_format_is_one_line_exit_2(capsys):
    assert main(["spaces", "--format", "html"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "--format" in err


def test_benchmarks_lists_every_registered_kind(tmp_path, capsys):
    from nasrank.benchmarks import BENCHMARKS

    out = tmp_path / "b.json"
    assert main(["benchmarks", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    specs = [b["spec"] for b in json.loads(out.read_text())["benchmarks"]]
    for name in BENCHMARKS.names():
        assert any(s.split(":")[0] == name for s in specs) and name in text
    assert "nbnlp:PATH" in specs and "nbbert:PATH" in specs


def test_score_help_lists_every_data_kind(capsys):
    assert main(["score", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for spec in ("cifar10:DIR", "images:DIR", "synthetic", "tokens[:VOCAB:SEQ_LEN:K]", "graph"):
        assert spec in text


@pytest.mark.parametrize(("space", "classes"), [("nb201", "10"), ("nbbert", "2")])
def test_build_prints_the_class_count_of_the_default(space, classes, tmp_path, capsys):
    from nasrank.spaces import get_space

    arch = get_space(space).sample(0) if space != "nb201" else ARCH
    out = tmp_path / "b.json"
    assert main(["build", "--space", space, "--arch", arch, "--json", str(out)]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("classes"))
    assert row.split()[1] == classes and "space default" not in row.replace("space's default", "")
    assert json.loads(out.read_text())["num_classes"] == int(classes)
