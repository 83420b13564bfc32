"""Issue 21: proxy features from a proxy table, the default feature rule and predictor,
and ``nasrank predict-eval``'s defaults (the shipped table, not the engine)."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from scipy.stats import rankdata

from nasrank.benchmarks import load_benchmark
from nasrank.cli import main
from nasrank.predictors import (
    FeatureSetError,
    GBDTPredictor,
    default_feature_spec,
    default_predictor,
    featurize,
)
from nasrank.spaces import get_space
from nasrank.tables import ProxyTable, load_table


def _archs(n: int, seed: int = 0) -> list[str]:
    space = get_space("nb201")
    rng = np.random.default_rng(seed)
    out = list(dict.fromkeys(space.sample(int(s)) for s in rng.integers(0, 10**6, 3 * n)))
    return out[:n]


def _csv(path, archs, *, synflow: bool) -> str:
    """A ``table:`` benchmark: accuracy grows with the conv3x3 count (+ synflow column)."""
    space = get_space("nb201")
    rng = np.random.default_rng(1)
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["arch", "val_accuracy", *(["synflow"] if synflow else [])])
        for a in archs:
            c = space.ops_of(a).count("nor_conv_3x3")
            row = [a, 80 + 2 * c + rng.normal()]
            w.writerow(row + ([float(c)] if synflow else []))
    return f"table:{path}"


def test_zc_reads_a_proxy_table_when_the_benchmark_stores_none(tmp_path):
    archs = _archs(12)
    bench = load_benchmark(_csv(tmp_path / "b.csv", archs, synflow=False), space="nb201")
    values = np.arange(24, dtype=float).reshape(12, 2)[::-1] ** 2  # distinct, descending
    table = ProxyTable.from_arrays("t", "nb201", archs, ["nwot", "synflow"], values)
    X = featurize("nb201", archs, "zc", benchmark=bench, table=table)
    assert X.names == ("zc:nwot", "zc:synflow")
    # percentile ranks over the featurized pool, computed here independently
    for j in range(2):
        np.testing.assert_allclose(X.values[:, j], rankdata(values[:, j]) / 12)
    raw = featurize("nb201", archs, "zc", benchmark=bench, table=table, zc_transform="raw")
    np.testing.assert_allclose(raw.values, values)
    only = featurize("nb201", archs, "zc", benchmark=bench, table=table, proxies=["synflow"])
    assert only.names == ("zc:synflow",)


def test_stored_scores_win_over_the_table_and_uncovered_archs_get_nan(tmp_path):
    archs = _archs(10)
    stored = load_benchmark(_csv(tmp_path / "s.csv", archs, synflow=True), space="nb201")
    table = ProxyTable.from_arrays("t", "nb201", archs[:6], ["nwot"], np.ones((6, 1)))
    assert featurize("nb201", archs, "zc", benchmark=stored, table=table).names == ("zc:synflow",)
    bare = load_benchmark(_csv(tmp_path / "b.csv", archs, synflow=False), space="nb201")
    X = featurize("nb201", archs, "zc", benchmark=bare, table=table, zc_transform="raw")
    assert np.all(X.values[:6] == 1.0) and np.all(np.isnan(X.values[6:]))
    with pytest.raises(FeatureSetError, match="table"):
        featurize("nb201", archs, "zc", benchmark=bare)
    with pytest.raises(FeatureSetError, match="no current 'meco'"):
        featurize("nb201", archs, "zc", benchmark=bare, table=table, proxies=["meco"])


def test_the_shipped_table_gives_every_current_column():
    table = load_table("nb201-cifar10")
    archs = _archs(5)
    X = featurize("nb201", archs, "zc", table=table, zc_transform="raw")
    current = [p for p in table.proxies if p not in set(table.stale_proxies())]
    assert X.names == tuple(f"zc:{p}" for p in current)
    np.testing.assert_allclose(X.values, table.scores(archs, current), equal_nan=True)


@pytest.mark.parametrize(
    "space, proxies, expected",
    [
        ("nb201", True, "onehot-pruned,onnx-core,zc"),
        ("nb201", False, "onehot-pruned,onnx-core"),
        ("nb101", True, "onehot-pruned,onnx-core,zc"),
        ("nb301", True, "onehot,onnx-core,zc"),  # no pruned one-hot: the plain one
        ("tnb101-macro", False, "onehot"),  # no cell module: no whole-network ONNX
        ("tnb101-micro", True, "onehot-pruned,onnx-core,zc"),
        ("nbgraph", True, "onnx-core,zc"),  # no space encoding at all
    ],
)
def test_default_feature_spec_rule(space, proxies, expected):
    assert default_feature_spec(get_space(space), proxies=proxies) == expected


def test_default_predictor_is_a_pairwise_gbdt_and_fresh_each_time():
    a, b = default_predictor(), default_predictor(random_state=3)
    assert isinstance(a, GBDTPredictor) and a is not b
    assert a.objective == "pairwise" and b.random_state == 3


@pytest.mark.slow
def test_predict_eval_default_reads_the_shipped_table_not_the_engine(tmp_path, capsys):
    archs = _archs(30)
    spec = _csv(tmp_path / "b.csv", archs, synflow=False)
    out, cache = tmp_path / "r.json", tmp_path / "cache"
    argv = ["predict-eval", "--space", "nb201", "--benchmark", spec, "--train-sizes", "20",
            "--seeds", "1", "--param", "n_estimators=30", "--cache-dir", str(cache),
            "--json", str(out)]  # fmt: skip
    assert main(argv) == 0
    err = capsys.readouterr().err
    notices = [ln for ln in err.splitlines() if "proxy features (zc)" in ln]
    assert len(notices) == 1 and "shipped table nb201-cifar10" in notices[0]
    assert "30 of 30" in notices[0]
    payload = json.loads(out.read_text())
    assert payload["features"] == "onehot-pruned,onnx-core,zc"
    assert payload["predictor"] == "default" and payload["params"]["objective"] == "pairwise"
    table = load_table("nb201-cifar10")
    current = len(table.proxies) - len(table.stale_proxies())
    onnx_core = featurize("nb201", archs[:2], "onnx-core", cache=None).shape[1]
    assert payload["n_features"] == 30 + onnx_core + current  # 6 edges x 5 ops one-hot
    assert not (cache / "scores.sqlite").exists()  # no proxy was computed


def test_predict_eval_default_predictor_with_table_features(tmp_path, capsys):
    archs = _archs(30)
    spec = _csv(tmp_path / "b.csv", archs, synflow=False)
    out = tmp_path / "r.json"
    argv = ["predict-eval", "--space", "nb201", "--benchmark", spec, "--train-sizes", "20",
            "--seeds", "1", "--param", "n_estimators=30", "--features", "onehot,zc",
            "--proxies", "nwot,synflow", "--no-cache", "--json", str(out)]  # fmt: skip
    assert main(argv) == 0
    assert "shipped table nb201-cifar10" in capsys.readouterr().err
    payload = json.loads(out.read_text())
    assert payload["n_features"] == 32 and payload["params"]["objective"] == "pairwise"


def test_predict_eval_default_uses_stored_scores_without_a_notice(tmp_path, capsys):
    archs = _archs(30)
    spec = _csv(tmp_path / "s.csv", archs, synflow=True)
    out = tmp_path / "r.json"
    argv = ["predict-eval", "--space", "nb201", "--benchmark", spec, "--train-sizes", "20",
            "--seeds", "1", "--param", "n_estimators=30", "--features", "onehot,zc",
            "--predictor", "gbdt", "--no-cache", "--json", str(out)]  # fmt: skip
    assert main(argv) == 0
    assert "proxy features (zc)" not in capsys.readouterr().err
    payload = json.loads(out.read_text())
    assert payload["n_features"] == 31 and payload["predictor"] == "gbdt"


def test_predict_eval_bad_table_is_one_line_exit_2(tmp_path, capsys):
    spec = _csv(tmp_path / "b.csv", _archs(30), synflow=False)
    argv = ["predict-eval", "--space", "nb201", "--benchmark", spec, "--train-sizes", "20",
            "--seeds", "1", "--features", "onehot,zc", "--no-cache",
            "--table", str(tmp_path / "missing.npz")]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--table" in err
