"""The examples run as users run them, and say what they claim."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nasrank.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.slow
def test_library_search_example_gives_the_cli_results(tmp_path, capsys):
    # examples/search_library.py --quick runs the README's search with 3 seeds, budget 20
    library = tmp_path / "library.json"
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "search_library.py"), "--quick", "--json", str(library)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    cli = tmp_path / "cli.json"
    options = "--space nb201 --benchmark nb201-analog --method robot,bo,re,random --budget 20"
    assert main([*"search".split(), *options.split(), "--seeds", "0..2", "--json", str(cli)]) == 0
    cli_table = capsys.readouterr().out
    cli_json = json.loads(cli.read_text())
    cli_json.pop("provenance")  # the command that wrote it: the CLI's own
    assert json.loads(library.read_text()) == cli_json
    # the example prints the CLI's summary table first, row for row (plain text off a tty)
    (block,) = [b for b in cli_table.split("\n\n") if "median q. to optimum" in b]
    summary = block.strip().split("\n", 1)[1]  # header, rule and rows, below the title
    assert summary.startswith("method ") and summary in proc.stdout
    assert "trained " in proc.stdout  # the top-k training part ran
