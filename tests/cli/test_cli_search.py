from __future__ import annotations

import json

import pytest

from nasrank.cli import main
from nasrank.cli.search import parse_seeds
from nasrank.testing.toy import toy_benchmark


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "\n" not in err, err
    assert "Traceback" not in err
    return err


def test_search_compares_methods_json_and_plot(toy_table_csv, tmp_path, capsys):
    out, plot = tmp_path / "s.json", tmp_path / "s.png"
    code = main(
        [
            "search",
            "--space",
            "nb201",
            "--benchmark",
            f"table:{toy_table_csv}",
            "--method",
            "zc-topk,random,re",
            "--proxies",  # every stored one (the default is a rule, tested in tests/search)
            "synflow,params,nwot",
            "--budget",
            "25",
            "--seeds",
            "0..2",
            "--json",
            str(out),
            "--plot",
            str(plot),
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "zc-topk" in text and "median q. to optimum" in text
    payload = json.loads(out.read_text())
    assert len(payload["runs"]) == 9
    run = payload["runs"][0]
    assert set(run) >= {
        "method",
        "seed",
        "budget",
        "best",
        "optimum",
        "queries_to_optimum",
        "history",
    }
    assert run["method"] == "zc-topk" and run["budget"] == 25 and len(run["history"]) == 25
    assert set(run["history"][0]) >= {"arch", "value"}
    assert run["optimum"] == pytest.approx(toy_benchmark().optimum()[1])
    assert set(payload["summary"]) == {"zc-topk", "random", "re"}
    assert payload["summary"]["zc-topk"]["runs"] == 3
    assert payload["config"]["proxies"] == ["synflow", "params", "nwot"]
    assert plot.stat().st_size > 1000


def test_search_storage_resumes_without_requerying(toy_table_csv, tmp_path, capsys):
    args = [
        "search",
        "--space",
        "nb201",
        "--benchmark",
        f"table:{toy_table_csv}",
        "--method",
        "re",
        "--budget",
        "15",
        "--seeds",
        "0,4",
        "--storage",
        str(tmp_path / "runs.jsonl"),
    ]
    assert main([*args, "--json", str(tmp_path / "a.json")]) == 0
    assert main([*args, "--json", str(tmp_path / "b.json")]) == 0
    a = json.loads((tmp_path / "a.json").read_text())["runs"]
    b = json.loads((tmp_path / "b.json").read_text())["runs"]
    assert [r["restored"] for r in a] == [0, 0] and [r["restored"] for r in b] == [15, 15]
    assert [r["history"] for r in a] == [r["history"] for r in b]


def test_search_engine_proxies_on_a_sampled_pool(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("NASRANK_STORE", raising=False)
    monkeypatch.setenv("NASRANK_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "e.json"
    code = main(
        [
            "search",
            "--method",
            "zc-topk",
            "--proxies",
            "params",
            "--pool",
            "3",
            "--proxy-source",
            "engine",
            "--budget",
            "2",
            "--json",
            str(out),
        ]
    )
    assert code == 0
    captured = capsys.readouterr()
    assert "best architecture found" in captured.out and "table optimum" in captured.out
    assert "proxy scores from" not in captured.err
    payload = json.loads(out.read_text())
    assert payload["config"]["pool_size"] == 3 and payload["config"]["proxy_source"] == "engine"
    assert payload["config"]["table"] is None
    assert payload["table_optimum"]["value"] == pytest.approx(94.0664)
    # scores went to the default score store, seeded per architecture
    from nasrank.store import ScoreStore

    assert ScoreStore(tmp_path / "cache" / "scores.sqlite").count("nb201") == 3
    # --store PATH takes them instead
    assert (
        main(
            [
                "search",
                "--method",
                "zc-topk",
                "--proxies",
                "params",
                "--pool",
                "2",
                "--proxy-source",
                "engine",
                "--budget",
                "1",
                "--store",
                str(tmp_path / "mine.sqlite"),
            ]
        )
        == 0
    )
    assert ScoreStore(tmp_path / "mine.sqlite").count("nb201") == 2


@pytest.fixture()
def tiny_table(tmp_path):
    """40 NB-201 architectures with params and synflow, 'computed on cifar10'."""
    import numpy as np

    from nasrank.search import make_pool
    from nasrank.spaces import get_space
    from nasrank.tables import ProxyTable

    archs = list(make_pool(get_space("nb201"), 40, seed=5).archs)
    values = np.random.default_rng(0).normal(size=(40, 2))
    meta = {
        "seed": 0,
        "nasrank_version": "0.1.0",
        "data": {"spec": "cifar10:x", "description": "cifar10:x n=64", "num_classes": 10},
    }
    ProxyTable.from_arrays("tiny", "nb201", archs, ["params", "synflow"], values, meta).save(
        tmp_path / "tiny.npz"
    )
    return tmp_path / "tiny.npz"


def test_search_reads_a_table_and_says_so(tiny_table, tmp_path, capsys, monkeypatch):
    import nasrank.store

    def boom(*args, **kwargs):
        raise AssertionError("no proxy computation with a table")

    monkeypatch.setattr(nasrank.store, "score_arch", boom)
    out = tmp_path / "t.json"
    code = main(
        [
            "search",
            "--method",
            "robot,zc-topk",
            "--proxies",
            "params,synflow",
            "--table",
            str(tiny_table),
            "--budget",
            "5",
            "--seeds",
            "0..1",
            "--json",
            str(out),
        ]
    )
    assert code == 0
    err = capsys.readouterr().err
    notice = [line for line in err.splitlines() if line.startswith("proxy scores from")]
    assert len(notice) == 1, err
    assert f"table {tiny_table}" in notice[0] and "40/15,625 archs" in notice[0]
    assert "15,585 of 15,625 candidates are not in the table and are left out" in notice[0]
    config = json.loads(out.read_text())["config"]
    assert config["proxy_source"] == "table" and config["pool_size"] == 40
    assert config["proxies"] == ["params", "synflow"] and config["data"] == "cifar10:x n=64"
    assert config["table"]["name"] == "tiny" and config["table"]["archs"] == 40
    assert config["table"]["candidates_not_in_table"] == 15585
    # --pool N samples N of the covered architectures
    assert (
        main(
            [
                "search",
                "--method",
                "zc-topk",
                "--proxies",
                "params",
                "--table",
                str(tiny_table),
                "--pool",
                "7",
                "--budget",
                "2",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    assert json.loads(out.read_text())["config"]["pool_size"] == 7


@pytest.mark.parametrize(
    "extra, why",
    [
        (["--proxies", "params,l2_norm"], "proxy not in the table"),
        (["--proxies", "synflow,nwot", "--data", "synthetic"], "proxy not in the table"),
        (["--proxies", "params", "--num-classes", "5"], "other class count"),
    ],
)
def test_search_falls_back_to_the_engine(tiny_table, tmp_path, capsys, monkeypatch, extra, why):
    monkeypatch.delenv("NASRANK_STORE", raising=False)
    monkeypatch.setenv("NASRANK_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "f.json"
    code = main(
        [
            "search",
            "--method",
            "zc-topk",
            "--table",
            str(tiny_table),
            "--pool",
            "2",
            "--budget",
            "1",
            "--json",
            str(out),
            *extra,
        ]
    )
    assert code == 0, why
    assert "proxy scores from" not in capsys.readouterr().err
    assert json.loads(out.read_text())["config"]["proxy_source"] == "engine"


def test_table_data_checks(tiny_table, tmp_path, capsys):
    out = tmp_path / "d.json"
    # data-free proxies: any --data is fine; the table's dataset too
    for data in ("synthetic", "cifar10:/elsewhere"):
        assert (
            main(
                [
                    "search",
                    "--method",
                    "zc-topk",
                    "--proxies",
                    "params,synflow",
                    "--table",
                    str(tiny_table),
                    "--data",
                    data,
                    "--budget",
                    "1",
                    "--json",
                    str(out),
                ]
            )
            == 0
        )
        assert json.loads(out.read_text())["config"]["proxy_source"] == "table"
    # explicit table without the proxy: one-line error
    capsys.readouterr()
    code = main(
        ["search", "--proxy-source", "table", "--proxies", "nwot", "--table", str(tiny_table)]
    )
    assert code == 2 and "has no nwot" in _one_line_error(capsys)
    code = main(["search", "--table", str(tmp_path / "none.npz"), "--proxies", "params"])
    assert code == 2 and "not found" in _one_line_error(capsys)


def test_default_search_uses_the_shipped_table(tmp_path, capsys):
    from nasrank.tables import load_table

    out = tmp_path / "s.json"
    assert main(["search", "--method", "zc-topk", "--budget", "3", "--json", str(out)]) == 0
    notice = capsys.readouterr().err
    assert "proxy scores from the shipped table nb201-cifar10" in notice
    config = json.loads(out.read_text())["config"]
    table = load_table("nb201-cifar10")
    # issue 21: the first DEFAULT_PROXY_COUNT of the preference order that the table holds
    from nasrank.search.sources import DEFAULT_PROXY_COUNT, DEFAULT_PROXY_PREFERENCE

    preferred = [p for p in DEFAULT_PROXY_PREFERENCE if p in table.proxies]
    assert config["proxy_source"] == "table"
    assert set(config["proxies"]) == set(preferred[:DEFAULT_PROXY_COUNT])
    assert config["pool_size"] == len(table)


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
        (["--train-top", "2", "--gpus-per-worker", "1"], "--executor ray"),
        (["--train-top", "2", "--workers", "0"], "--workers"),
        (["--train-top", "2", "--train-size", "0"], "--train-size"),
        (
            ["--train-top", "2", "--workers", "2", "--data", "cifar10:/nonexistent"],
            "does not exist",
        ),
    ],
)
def test_bad_input_is_one_line_exit_2(toy_table_csv, capsys, argv, message):
    code = main(["search", "--space", "nb201", "--benchmark", f"table:{toy_table_csv}", *argv])
    assert code == 2
    err = _one_line_error(capsys)
    assert message in err


def test_search_trains_its_top_picks_and_resumes_them(toy_table_csv, tmp_path, capsys):
    out, ckpt = tmp_path / "s.json", tmp_path / "ckpt"
    argv = [
        "search", "--space", "nb201", "--benchmark", f"table:{toy_table_csv}", "--method", "zc-topk",
        "--budget", "4", "--train-top", "2", "--data", "synthetic:3x8x8:4", "--train-size",
        "32", "--epochs", "1", "--threads", "1", "--checkpoint-dir", str(ckpt), "--json", str(out),
    ]  # fmt: skip
    assert main(argv) == 0
    first = json.loads(out.read_text())
    assert main(argv) == 0  # again: resumed from the checkpoints, same results
    again = json.loads(out.read_text())
    assert "top 2 trained for 1 epoch(s)" in capsys.readouterr().out
    best = sorted(((e["value"], e["arch"]) for e in first["runs"][0]["history"]), reverse=True)[:2]
    trained = first["trained"]
    assert [(t["benchmark_value"], t["arch"]) for t in trained] == best
    assert all(t["epochs"] == 1 and t["device"] == "cpu" for t in trained)
    assert [t["test_accuracy"] for t in again["trained"]] == [t["test_accuracy"] for t in trained]
    assert len(list(ckpt.iterdir())) == 2


def test_a_dying_training_worker_is_one_line_and_keeps_what_finished(
    toy_table_csv, tmp_path, capsys, monkeypatch
):
    from concurrent.futures.process import BrokenProcessPool

    import nasrank.search.plan as plan

    def first_then_die(archs, job, executor, *, on_result):
        on_result({"arch": archs[0], "epochs": 1, "test_accuracy": 50.0})
        raise BrokenProcessPool("A process in the process pool was terminated abruptly")

    monkeypatch.setattr(plan, "train_top", first_then_die)
    out = tmp_path / "s.json"
    argv = [
        "search", "--space", "nb201", "--benchmark", f"table:{toy_table_csv}", "--method", "zc-topk",
        "--budget", "4", "--train-top", "3", "--data", "synthetic:3x8x8:4", "--json", str(out),
    ]  # fmt: skip
    assert main(argv) == 2
    err = _one_line_error(capsys)
    assert "training worker failed (BrokenProcessPool" in err and "1 of 3" in err
    payload = json.loads(out.read_text())
    assert len(payload["runs"]) == 1 and [t["test_accuracy"] for t in payload["trained"]] == [50.0]


def test_missing_benchmark_file_is_exit_2(capsys, tmp_path):
    assert main(["search", "--benchmark", f"suite-zero:{tmp_path / 'no.json'}"]) == 2
    assert "not found" in _one_line_error(capsys)


def test_parse_seeds():
    assert parse_seeds("0..3") == [0, 1, 2, 3]
    assert parse_seeds("0,3,5") == [0, 3, 5]
    assert parse_seeds("0..2, 7") == [0, 1, 2, 7]


def test_search_scores_with_the_threads_it_is_given(toy_table_csv, capsys, monkeypatch):
    import torch

    from nasrank.search import SearchPlan

    seen, run = [], SearchPlan.run

    def spy(self, **kwargs):
        seen.append(torch.get_num_threads())
        return run(self, **kwargs)

    monkeypatch.setattr(SearchPlan, "run", spy)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    argv = ["search", "--space", "nb201", "--benchmark", f"table:{toy_table_csv}",
            "--method", "random", "--budget", "3", "--seeds", "0", "--threads", "1"]  # fmt: skip
    try:
        assert main(argv) == 0
        assert seen == [1] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
