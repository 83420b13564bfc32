from __future__ import annotations

import json

import pytest

from nasrank.cli import main

CONV = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "\n" not in err, err
    assert "Traceback" not in err
    return err


def test_spaces_lists_nb201(capsys, tmp_path):
    assert main(["spaces", "--json", str(tmp_path / "s.json")]) == 0
    assert "nb201" in capsys.readouterr().out
    names = [s["name"] for s in json.loads((tmp_path / "s.json").read_text())["spaces"]]
    assert "nb201" in names


def test_build_prints_and_writes_json(capsys, tmp_path):
    out = tmp_path / "b.json"
    assert (
        main(["build", "--space", "nb201", "--arch", "(2, 2, 2, 2, 2, 2)", "--json", str(out)]) == 0
    )
    assert CONV in capsys.readouterr().out
    result = json.loads(out.read_text())
    assert result["arch"] == CONV
    assert result["params"] == 1531546
    assert result["mflops"] == pytest.approx(222.86, rel=0.01)


def test_build_input_size_and_classes(tmp_path):
    out = tmp_path / "b.json"
    assert (
        main(
            [
                "build",
                "--space",
                "nb201",
                "--arch",
                CONV,
                "--num-classes",
                "120",
                "--input-size",
                "16",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    result = json.loads(out.read_text())
    assert result["params"] == 1538696  # Suite-Zero ImageNet16-120 value: 1.538696 M
    assert result["mflops"] == pytest.approx(55.723072, rel=0.01)


def test_benchmarks_show_top(capsys, tmp_path):
    out = tmp_path / "t.json"
    assert main(["benchmarks", "nb201-analog", "--top", "3", "--json", str(out)]) == 0
    assert "Top 3" in capsys.readouterr().out
    summary = json.loads(out.read_text())
    assert summary["size"] == 15625
    assert len(summary["top"]) == 3
    assert summary["top"][0]["value"] == summary["optimum"]["value"]
    assert summary["top"][0]["value"] >= summary["top"][2]["value"]


def test_benchmarks_lists_kinds(capsys):
    assert main(["benchmarks"]) == 0
    out = capsys.readouterr().out
    assert "nb201-analog" in out and "suite-zero:PATH" in out


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["build", "--space", "nb201", "--arch", "|nor_conv_3x3~0|"], "node groups"),
        (["build", "--space", "nb201", "--arch", "(1, 2, 3)"], "expected 6"),
        (
            ["build", "--space", "nb201", "--arch", CONV.replace("nor_conv_3x3", "conv5", 1)],
            "unknown NAS-Bench-201 operation",
        ),
        (["build", "--space", "nb210", "--arch", CONV], "did you mean 'nb201'"),
        (["build", "--space", "nb201", "--arch", CONV, "--num-classes", "0"], "--num-classes"),
        (["benchmarks", "suite-zero:/definitely/missing.json"], "not found"),
        (["benchmarks", "nb201-analogue"], "did you mean 'nb201-analog'"),
        (["benchmarks", "nb201-analog", "--metric", "acc"], "no metric 'acc'"),
        (["build", "--space"], "expected one argument"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, argv, fragment):
    assert main(argv) == 2
    assert fragment in _one_line_error(capsys)


def test_console_script_entry_point_runs():
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "nasrank", "build", "--space", "nb201", "--arch", "bogus"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


@pytest.mark.parametrize("space_name", ["nb101", "nb201", "nb301", "nbgraph", "nbnlp", "nbbert"])
def test_build_works_for_every_space(space_name, tmp_path):
    from nasrank.complexity import count_params
    from nasrank.spaces import get_space

    space = get_space(space_name)
    arch = space.sample(0)
    out = tmp_path / "b.json"
    assert main(["build", "--space", space_name, "--arch", arch, "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["arch"] == arch
    assert result["params"] == count_params(space.build(arch))
    assert result["mflops"] > 0


def test_progress_in_a_log_is_quiet_for_short_work_and_periodic_for_long(capsys, monkeypatch):
    from nasrank.cli._output import progress

    def work(n: int) -> str:
        with progress("scoring", n) as bar:
            for _ in range(n):
                bar.advance()
        return capsys.readouterr().err

    monkeypatch.delenv("NASRANK_PROGRESS", raising=False)
    assert work(4) == ""  # stderr is not a terminal, and 4 steps take far less than 60 s
    monkeypatch.setenv("NASRANK_PROGRESS_INTERVAL", "0")  # every step counts as "long"
    lines = work(4).splitlines()
    assert lines[0].startswith("scoring: 1/4 (25.0 %), 0:00:00 elapsed, ETA ")
    assert lines[2].startswith("scoring: 3/4 (75.0 %)")
    assert lines[-1].startswith("scoring: 4/4 (100.0 %)") and "ETA" not in lines[-1]
    monkeypatch.setenv("NASRANK_PROGRESS", "0")
    assert work(4) == ""


@pytest.mark.parametrize(
    "argv",
    [
        ["score", "--space", "nb201", "--arch", CONV, "--proxies", "params",
         "--seed", "99999999999999999999"],
        ["correlate", "--space", "nb201", "--benchmark", "nb201-analog", "--seed", "-1"],
        ["score-space", "--space", "nb201", "--pool", "3", "--seed", "-1"],
        ["train", "--space", "nb201", "--arch", CONV, "--seed", "x"],
        ["search", "--pool-seed", "-3"],
        ["search", "--seeds", "0..100000000"],
        ["search", "--seeds", "9223372036854775808"],
    ],
)  # fmt: skip
def test_bad_seeds_are_one_line_exit_2_before_any_work(capsys, argv):
    code = None
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own errors exit from inside the parser
        code = exc.code
    assert code == 2
    assert "seed" in _one_line_error(capsys)


def test_the_largest_seed_is_accepted(tmp_path):
    out = tmp_path / "s.json"
    argv = ["score", "--space", "nb201", "--arch", CONV, "--proxies", "params",
            "--seed", str(2**63 - 1), "--json", str(out)]  # fmt: skip
    assert main(argv) == 0
    assert json.loads(out.read_text())["scores"]["params"] > 0
