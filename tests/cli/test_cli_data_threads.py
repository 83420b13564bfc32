"""One data rule for every command (the space's default data; a --data that does not fit
is exit 2 before any work) and --threads."""

from __future__ import annotations

import csv
import json

import pytest
import torch

from nasrank.cli import main
from nasrank.spaces import get_space

NB201 = "(2, 2, 0, 4, 2, 0)"
GRAPH = "link=0,0,1,3;ops=gcn,gat,sage,fc"


def _arch(space: str) -> str:
    return {"nb201": NB201, "nbgraph": GRAPH}.get(space) or get_space(space).sample(0)


def _table(path, archs):
    """A ``table:PATH`` benchmark (ids quoted: nbgraph's hold commas)."""
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["arch", "accuracy"])
        for i, a in enumerate(archs):
            w.writerow([a, 50 + i])
    return path


def _score(tmp_path, space, *extra, proxies="params"):
    out = tmp_path / "s.json"
    argv = ["score", "--space", space, "--arch", _arch(space), "--proxies", proxies,
            "--json", str(out), *extra]
    code = main(argv)
    return code, (json.loads(out.read_text()) if out.exists() else None)


@pytest.fixture
def no_store(monkeypatch):
    monkeypatch.delenv("NASRANK_STORE", raising=False)


@pytest.mark.parametrize(
    "space, spec",
    [
        ("nb201", "synthetic"),
        ("nbbert", "tokens:30522:128"),
        ("nbnlp", "tokens:33278:70"),
        ("nbgraph", "graph:2708:1433:7"),
    ],
)
def test_score_without_data_uses_the_spaces_own(tmp_path, no_store, space, spec):
    code, result = _score(tmp_path, space, "--batch-size", "2", proxies="params,l2_norm")
    assert code == 0
    assert result["data_spec"] == spec and result["data"].startswith(f"{spec} ")
    assert all(v == v for v in result["scores"].values())  # params, l2_norm: finite


def test_score_nbbert_runs_forward_proxies_on_its_tokens(tmp_path, no_store):
    code, result = _score(tmp_path, "nbbert", "--batch-size", "2", proxies="wpca,params,synflow")
    assert code == 0
    assert result["data"].startswith("tokens:30522:128 ")
    assert result["scores"]["wpca"] == result["scores"]["wpca"]  # finite: a real forward ran


def test_score_nbgraph_gives_the_graph_and_runs_a_forward(tmp_path, no_store):
    code, result = _score(tmp_path, "nbgraph", proxies="params,synflow")
    assert code == 0
    assert result["data"] == "graph:2708:1433:7 split=train seed=0 n=2708"
    assert set(result["scores"]) == {"params", "synflow"}


@pytest.mark.slow
def test_score_nbgraph_all_proxies_does_not_crash(tmp_path, no_store):
    code, result = _score(tmp_path, "nbgraph", proxies="all")
    assert code == 0 and result["data_spec"] == "graph:2708:1433:7"


def test_score_a_bare_scheme_takes_the_spaces_sizes(tmp_path, no_store):
    code, result = _score(tmp_path, "nbbert", "--data", "tokens", "--batch-size", "2")
    assert code == 0 and result["data_spec"] == "tokens:30522:128:2"
    code, result = _score(tmp_path, "nbgraph", "--data", "graph:60:12:3")
    assert code == 0 and result["data"].startswith("graph:60:12:3 ")


def test_score_on_a_users_graph_file(tmp_path, no_store):
    from nasrank.data import save_graph, synthetic_graph

    path = save_graph(tmp_path / "g.npz", synthetic_graph(30, 9, 4, seed=1))
    code, result = _score(tmp_path, "nbgraph", "--data", f"graph:{path}", proxies="params,synflow")
    assert code == 0 and result["data"] == f"graph:{path} n=30"
    assert result["scores"]["synflow"] == result["scores"]["synflow"]  # built for 9 features


@pytest.fixture
def no_build(monkeypatch):
    """Fail the test if any model is built."""

    def boom(self, *args, **kwargs):
        raise AssertionError("a model was built")

    for cls in {type(get_space(n)) for n in ("nb201", "nbbert", "nbnlp", "nbgraph")}:
        monkeypatch.setattr(cls, "build", boom)


def _one_line_exit_2(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err
    assert message in err, err


@pytest.mark.parametrize(
    "space, data, message",
    [
        ("nbbert", "synthetic", "space 'nbbert' takes token ids"),
        ("nbbert", "tokens:40000", "vocabulary of 30522"),
        ("nbnlp", "tokens:40000", "vocabulary of 33278"),
        ("nbnlp", "graph", "not a graph"),
        ("nb201", "tokens", "space 'nb201' takes images"),
        ("nb201", "synthetic:1x8x8", "3-channel images"),
        ("nbgraph", "synthetic", "space 'nbgraph' takes a graph"),
    ],
)
def test_score_refuses_data_the_space_cannot_take(tmp_path, capsys, no_build, space, data, message):
    store = tmp_path / "s.sqlite"
    argv = ["score", "--space", space, "--arch", _arch(space), "--data", data, "--store", str(store)]
    _one_line_exit_2(capsys, argv, message)
    assert not store.exists()  # refused before any work


def test_a_bad_graph_file_is_exit_2(tmp_path, capsys, no_build):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"nope")
    argv = ["score", "--space", "nbgraph", "--arch", GRAPH, "--data", f"graph:{bad}"]
    _one_line_exit_2(capsys, argv, "not a readable .npz")


def test_score_space_refuses_and_uses_the_spaces_data(tmp_path, capsys, no_store, monkeypatch):
    store = tmp_path / "s.sqlite"
    argv = ["score-space", "--space", "nbbert", "--pool", "1", "--proxies", "params",
            "--store", str(store), "--batch-size", "2"]
    _one_line_exit_2(capsys, [*argv, "--data", "synthetic"], "takes token ids")
    assert not store.exists()
    out = tmp_path / "r.json"
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert main([*argv, "--json", str(out)]) == 0
    run = json.loads(out.read_text())
    assert run["data"].startswith("tokens:30522:128 ") and run["threads"] == 1  # $OMP_NUM_THREADS


def test_correlate_refuses_before_loading_anything(capsys, no_build):
    argv = ["correlate", "--space", "nbbert", "--benchmark", "table:/nonexistent.csv",
            "--data", "synthetic"]
    _one_line_exit_2(capsys, argv, "takes token ids")


@pytest.fixture
def nb201_table(tmp_path):
    archs = ["(2, 2, 2, 2, 2, 2)", "(3, 3, 3, 3, 3, 3)", "(0, 0, 0, 0, 0, 0)", NB201]
    return _table(tmp_path / "t.csv", archs)


def test_correlate_default_data_and_threads(nb201_table, tmp_path, no_store):
    out = tmp_path / "c.json"
    before = torch.get_num_threads()
    argv = ["correlate", "--space", "nb201", "--benchmark", f"table:{nb201_table}", "--n", "all",
            "--proxies", "params", "--batch-size", "2", "--threads", "2", "--json", str(out)]
    assert main(argv) == 0
    summary = json.loads(out.read_text())
    assert summary["data_spec"] == "synthetic" and summary["threads"] == 2
    assert torch.get_num_threads() == before  # restored after the command


def test_search_refuses_data_the_space_cannot_take(tmp_path, capsys, no_build):
    space = get_space("nbbert")
    table = _table(tmp_path / "bert.csv", [space.sample(i) for i in range(3)])
    argv = ["search", "--space", "nbbert", "--benchmark", f"table:{table}", "--method",
            "zc-topk", "--proxies", "params", "--proxy-source", "engine", "--budget", "1",
            "--store", str(tmp_path / "s.sqlite")]
    _one_line_exit_2(capsys, [*argv, "--data", "tokens:40000"], "--data: space 'nbbert'")
    _one_line_exit_2(capsys, [*argv, "--data", "synthetic"], "takes token ids")


def test_search_engine_scores_on_the_spaces_data(tmp_path, capsys):
    table = _table(tmp_path / "graph.csv", [GRAPH, "link=0,0,0,0;ops=gcn,gcn,fc,fc"])
    out = tmp_path / "o.json"
    argv = ["search", "--space", "nbgraph", "--benchmark", f"table:{table}", "--method",
            "zc-topk", "--proxies", "params", "--proxy-source", "engine", "--pool", "benchmark",
            "--budget", "1", "--store", str(tmp_path / "s.sqlite"), "--json", str(out)]
    assert main(argv) == 0
    assert json.loads(out.read_text())["config"]["data"].startswith("graph:2708:1433:7 ")


def test_search_train_top_refuses_graph_data_before_searching(tmp_path, capsys, no_build):
    table = _table(tmp_path / "graph.csv", [GRAPH])
    argv = ["search", "--space", "nbgraph", "--benchmark", f"table:{table}", "--method",
            "random", "--budget", "1", "--train-top", "1", "--proxies", "none"]
    _one_line_exit_2(capsys, argv, "training on a graph")


# ---- --threads ------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["score", "correlate", "predict-eval", "score-space"])
@pytest.mark.parametrize("threads", ["0", "-2"])
def test_threads_below_one_is_exit_2(capsys, nb201_table, tmp_path, command, threads):
    common = {
        "score": ["--arch", NB201],
        "correlate": ["--benchmark", f"table:{nb201_table}"],
        "predict-eval": ["--benchmark", f"table:{nb201_table}", "--no-cache"],
        "score-space": ["--pool", "1", "--store", str(tmp_path / "s.sqlite")],
    }[command]
    argv = [command, "--space", "nb201", *common, "--threads", threads]
    _one_line_exit_2(capsys, argv, f"argument --threads: must be 1..4,096, got {threads}")


def test_score_applies_threads(tmp_path, no_store, monkeypatch):
    seen = []
    import nasrank.store as store_module

    real = store_module.score_arch_stored

    def spy(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return real(*args, **kwargs)

    monkeypatch.setattr(store_module, "score_arch_stored", spy)
    before = torch.get_num_threads()
    code, result = _score(tmp_path, "nb201", "--threads", "2")
    assert code == 0 and seen == [2] and result["threads"] == 2
    assert torch.get_num_threads() == before


def test_default_threads_honour_omp_and_the_core_cap(tmp_path, no_store, monkeypatch):
    import nasrank.store.executors as executors

    monkeypatch.setattr(executors, "available_cpus", lambda: 3)
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert _score(tmp_path, "nb201")[1]["threads"] == 2
    monkeypatch.setenv("OMP_NUM_THREADS", "8")  # capped at the cores
    assert _score(tmp_path, "nb201")[1]["threads"] == 3
    monkeypatch.delenv("OMP_NUM_THREADS")  # torch's own default, still capped
    assert _score(tmp_path, "nb201")[1]["threads"] == min(torch.get_num_threads(), 3)


def test_score_space_workers_times_threads_fit_the_cores(monkeypatch):
    import argparse

    import nasrank.store.executors as executors
    from nasrank.cli._common import cli_executor, cli_threads

    monkeypatch.setattr(executors, "available_cpus", lambda: 8)
    monkeypatch.setenv("OMP_NUM_THREADS", "6")
    args = argparse.Namespace(workers=4, threads=None, executor="local", address=None)
    assert cli_threads(args, workers=4) == 2
    executor = cli_executor(args)
    assert (executor.workers, executor.threads) == (4, 2)


def test_predict_eval_threads_and_data_checks(nb201_table, tmp_path, capsys):
    base = ["predict-eval", "--space", "nb201", "--benchmark", f"table:{nb201_table}",
            "--features", "onehot", "--train-sizes", "2", "--seeds", "1", "--no-cache",
            "--param", "n_estimators=5"]
    _one_line_exit_2(capsys, [*base, "--data", "tokens"], "space 'nb201' takes images")
    _one_line_exit_2(
        capsys, [*base, "--data", "synthetic", "--train-on", f"nbbert:table:{nb201_table}"],
        "space 'nbbert' takes token ids",
    )
    out = tmp_path / "p.json"
    assert main([*base, "--threads", "1", "--json", str(out)]) == 0
    payload = json.loads(out.read_text())
    assert payload["threads"] == 1 and payload["data"] is None  # no zc-engine features


def test_openmp_threads_wait_passively_unless_the_user_says_otherwise(monkeypatch, capsys):
    import os

    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    assert main(["spaces"]) == 0
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    assert main(["spaces"]) == 0
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"
