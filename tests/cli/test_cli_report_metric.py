"""``nasrank search --metric A --report-metric B``."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from nasrank.benchmarks import load_benchmark
from nasrank.cli import main


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "\n" not in err, err
    assert "Traceback" not in err
    return err


@pytest.fixture(scope="module")
def two_metric_csv(tmp_path_factory):
    bench = load_benchmark("nb201-analog")
    archs = bench.archs()[:150]
    rng = np.random.default_rng(3)
    a = rng.normal(size=len(archs))
    frame = pd.DataFrame(
        {"arch": archs, "val12": a, "test200": a + rng.normal(size=len(archs)), "nwot": a}
    )
    path = tmp_path_factory.mktemp("cli_report") / "t.csv"
    frame.to_csv(path, index=False)
    return path


def _search(*args: str) -> list[str]:
    return ["search", "--space", "nb201", *args]


def test_unknown_report_metric_is_one_line_exit_2_before_any_work(two_metric_csv, tmp_path, capsys):
    out = tmp_path / "never.json"
    argv = _search("--benchmark", f"table:{two_metric_csv}", "--metric", "val12",
                   "--report-metric", "test2000", "--json", str(out))  # fmt: skip
    assert main(argv) == 2
    err = _one_line_error(capsys)
    assert err.startswith("nasrank search: error: --report-metric:")
    assert "did you mean 'test200'" in err and "val12, test200, nwot" in err
    assert not out.exists()
    capsys.readouterr()
    assert main(_search("--benchmark", f"table:{two_metric_csv}", "--metric", "val12",
                        "--report-metric", "val12")) == 2  # fmt: skip
    assert "is the optimised --metric" in _one_line_error(capsys)


def test_json_and_table_show_both_metrics(two_metric_csv, tmp_path, capsys):
    out = tmp_path / "r.json"
    argv = _search("--benchmark", f"table:{two_metric_csv}", "--metric", "val12",
                   "--report-metric", "test200", "--method", "zc-topk,random", "--budget", "25",
                   "--seeds", "0..1", "--json", str(out))  # fmt: skip
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "mean test200" in text and "test200 of the pool optimum by val12" in text
    payload = json.loads(out.read_text())
    table = pd.read_csv(two_metric_csv).set_index("arch")
    assert payload["config"]["report_metric"] == "test200"
    assert set(payload["report_metric"]) >= {"metric", "higher_is_better", "optimum", "notes"}
    for run in payload["runs"]:
        report = run["report"]
        assert set(report) == {"metric", "arch", "value", "at", "trajectory"}
        assert report["arch"] == run["best"]["arch"]
        assert report["value"] == pytest.approx(table.loc[run["best"]["arch"], "test200"])
        assert list(report["at"]) == ["10", "20"] and len(report["trajectory"]) == 25
    for summary in payload["summary"].values():
        assert set(summary["report"]) == {"metric", "runs", "missing", "mean", "std",
                                          "median", "mean_at", "std_at"}  # fmt: skip
        assert list(summary["report"]["mean_at"]) == ["10", "20"]
    # without --report-metric the JSON has no trace of it
    plain = tmp_path / "p.json"
    argv = _search("--benchmark", f"table:{two_metric_csv}", "--metric", "val12", "--method",
                   "random", "--budget", "5", "--json", str(plain))  # fmt: skip
    assert main(argv) == 0
    payload = json.loads(plain.read_text())
    assert "report_metric" not in payload and "report_metric" not in payload["config"]
    assert "report" not in payload["runs"][0] and "report" not in payload["summary"]["random"]


def test_nb201_analog_reports_another_column(tmp_path, capsys):
    out = tmp_path / "a.json"
    argv = _search("--benchmark", "nb201-analog", "--metric", "baseline_accuracy",
                   "--report-metric", "analog_drift_86400", "--method", "robot,random",
                   "--budget", "20", "--seeds", "0..1", "--json", str(out))  # fmt: skip
    assert main(argv) == 0
    payload = json.loads(out.read_text())
    bench = load_benchmark("nb201-analog")
    for run in payload["runs"]:
        best = run["best"]["arch"]
        assert run["best"]["value"] == bench.query(best, "baseline_accuracy")
        assert run["report"]["value"] == bench.query(best, "analog_drift_86400")
    assert payload["summary"]["robot"]["report"]["mean_at"]["20"] is not None
