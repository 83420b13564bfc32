from __future__ import annotations

import json

import pytest

from nasrank.cli import main
from nasrank.cli.search import parse_seeds
from tests.search._toy import toy_benchmark


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    import pandas as pd

    bench = toy_benchmark()
    frame = pd.DataFrame({"arch": bench.archs(), **{m: bench.column(m) for m in bench.metrics}})
    path = tmp_path_factory.mktemp("toy") / "toy.csv"
    frame.to_csv(path, index=False)
    return path


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "\n" not in err, err
    assert "Traceback" not in err
    return err


def test_search_compares_methods_json_and_plot(table, tmp_path, capsys):
    out, plot = tmp_path / "s.json", tmp_path / "s.png"
    code = main([
        "search", "--space", "nb201", "--benchmark", f"table:{table}", "--method",
        "zc-topk,random,re", "--budget", "25", "--seeds", "0..2", "--json", str(out),
        "--plot", str(plot),
    ])
    assert code == 0
    text = capsys.readouterr().out
    assert "zc-topk" in text and "median q. to optimum" in text
    payload = json.loads(out.read_text())
    assert len(payload["runs"]) == 9
    run = payload["runs"][0]
    assert set(run) >= {"method", "seed", "budget", "best", "optimum", "queries_to_optimum", "history"}
    assert run["method"] == "zc-topk" and run["budget"] == 25 and len(run["history"]) == 25
    assert set(run["history"][0]) >= {"arch", "value"}
    assert run["optimum"] == pytest.approx(toy_benchmark().optimum()[1])
    assert set(payload["summary"]) == {"zc-topk", "random", "re"}
    assert payload["summary"]["zc-topk"]["runs"] == 3
    assert payload["config"]["proxies"] == ["synflow", "params", "nwot"]
    assert plot.stat().st_size > 1000


def test_search_storage_resumes_without_requerying(table, tmp_path, capsys):
    args = ["search", "--space", "nb201", "--benchmark", f"table:{table}", "--method", "re",
            "--budget", "15", "--seeds", "0,4", "--storage", str(tmp_path / "runs.jsonl")]
    assert main([*args, "--json", str(tmp_path / "a.json")]) == 0
    assert main([*args, "--json", str(tmp_path / "b.json")]) == 0
    a = json.loads((tmp_path / "a.json").read_text())["runs"]
    b = json.loads((tmp_path / "b.json").read_text())["runs"]
    assert [r["restored"] for r in a] == [0, 0] and [r["restored"] for r in b] == [15, 15]
    assert [r["history"] for r in a] == [r["history"] for r in b]


def test_search_engine_proxies_on_a_sampled_pool(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NASRANK_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "e.json"
    code = main(["search", "--method", "zc-topk", "--proxies", "params", "--pool", "3",
                 "--budget", "2", "--json", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "best architecture found" in text and "table optimum" in text
    payload = json.loads(out.read_text())
    assert payload["config"]["pool_size"] == 3 and payload["config"]["proxy_source"] == "engine"
    assert payload["table_optimum"]["value"] == pytest.approx(94.0664)
    assert any((tmp_path / "cache").rglob("*.jsonl"))


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--seeds", "a..b"], "--seeds"),
        (["--seeds", "5..1"], "empty"),
        (["--method", "robt"], "did you mean 'robot'"),
        (["--budget", "0"], "--budget"),
        (["--pool", "-3"], "--pool"),
        (["--proxies", "jacov"], "stores no score 'jacov'"),
        (["--metric", "acuracy"], "no metric 'acuracy'"),
        (["--method", "robot", "--proxies", "none"], "proxy scores"),
    ],
)
def test_bad_input_is_one_line_exit_2(table, capsys, argv, message):
    code = main(["search", "--space", "nb201", "--benchmark", f"table:{table}", *argv])
    assert code == 2
    err = _one_line_error(capsys)
    assert message in err


def test_missing_benchmark_file_is_exit_2(capsys, tmp_path):
    assert main(["search", "--benchmark", f"suite-zero:{tmp_path / 'no.json'}"]) == 2
    assert "not found" in _one_line_error(capsys)


def test_parse_seeds():
    assert parse_seeds("0..3") == [0, 1, 2, 3]
    assert parse_seeds("0,3,5") == [0, 3, 5]
    assert parse_seeds("0..2, 7") == [0, 1, 2, 7]
