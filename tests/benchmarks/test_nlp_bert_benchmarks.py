"""``nbnlp:PATH`` and ``nbbert:PATH`` loaders, on tiny files and (marked) on the real ones."""

from __future__ import annotations

import csv
import json
import math
import time

import numpy as np
import pytest

from nasrank.benchmarks import load_benchmark
from nasrank.benchmarks.nbbert import read_nbbert_rows
from nasrank.benchmarks.nbnlp import read_nbnlp_rows
from nasrank.errors import BenchmarkDataNotFound, DataError, NotInBenchmark

RNN = {
    "f": {"op": "linear", "input": ["x", "h_prev_0"]},
    "h_new_0": {"op": "activation_tanh", "input": ["f"]},
}
RNN_RENAMED = {
    "q": {"op": "linear", "input": ["h_prev_0", "x"]},
    "h_new_0": {"op": "activation_tanh", "input": ["q"]},
}
SIGM = {
    "f": {"op": "linear", "input": ["x", "h_prev_0"]},
    "h_new_0": {"op": "activation_sigm", "input": ["f"]},
}
COLUMNS = [
    "recepie_id", "status", "num_params", "final_train_loss", "final_val_loss",
    "final_test_loss", "best_val_loss", "ptb_final_test_loss", "recipe",
]  # fmt: skip


def _write_nlp(path, rows):
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow(row)
    return path


@pytest.fixture
def nlp_csv(tmp_path):
    return _write_nlp(
        tmp_path / "derived_nbnlp_wt2_recipes_losses.csv",
        [
            [1, "OK", 15066078, 4.7, 5.2, 5.0, 5.1, "", json.dumps(RNN)],
            [2, "OK", 15066078, 4.9, 5.4, 5.2, 5.3, 6.0, json.dumps(RNN_RENAMED)],
            [3, "OK", 15066078, 4.0, 4.5, 4.4, 4.4, 5.5, json.dumps(SIGM)],
            [4, "loss is nan!", 15066078, "", "", "", "", "", json.dumps(SIGM)],
        ],
    )


def test_nbnlp_loader_merges_repeated_runs_and_orients_losses(nlp_csv):
    bench = load_benchmark(f"nbnlp:{nlp_csv}")
    assert len(bench) == 2 and bench.space == "nbnlp"
    assert bench.default_metric == "wt2_test_loss"
    assert not bench.higher_is_better("ptb_test_loss") and bench.higher_is_better("num_params")
    assert bench.query(RNN) == pytest.approx(5.1)  # mean of the two spellings' runs
    assert bench.query(json.dumps(RNN_RENAMED), "ptb_test_loss") == pytest.approx(
        6.0
    )  # NaN skipped
    assert bench.query(RNN, "runs") == 2 and bench.query(SIGM, "runs") == 1  # failed row dropped
    assert bench.optimum()[1] == pytest.approx(4.4)
    np.testing.assert_allclose(sorted(bench.oriented("wt2_val_loss")), [-5.3, -4.5])
    with pytest.raises(NotInBenchmark):
        bench.query({"h_new_0": {"op": "linear", "input": ["x"]}})
    # the folder works too, and the rows are available one per run
    assert len(load_benchmark(f"nbnlp:{nlp_csv.parent}")) == 2
    rows = read_nbnlp_rows(nlp_csv)
    assert len(rows) == 3 and rows["arch"].nunique() == 2


def test_nbnlp_loader_errors(tmp_path, nlp_csv):
    with pytest.raises(BenchmarkDataNotFound, match="derived_nbnlp_wt2_recipes_losses.csv"):
        load_benchmark(f"nbnlp:{tmp_path / 'missing.csv'}")
    with pytest.raises(DataError, match="needs a path"):
        load_benchmark("nbnlp")
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match="lacks column"):
        load_benchmark(f"nbnlp:{bad}")
    cyclic = {
        "a": {"op": "linear", "input": ["x", "h_new_0"]},
        "h_new_0": {"op": "activation_tanh", "input": ["a"]},
    }
    broken = _write_nlp(tmp_path / "broken.csv", [[1, "OK", 1, 1, 1, 1, 1, "", json.dumps(cyclic)]])
    with pytest.raises(DataError, match="invalid recipe.*cycle"):
        load_benchmark(f"nbnlp:{broken}")
    with pytest.raises(DataError, match="no tasks"):
        load_benchmark(f"nbnlp:{nlp_csv}", task="ptb")


def _bert_record(i, hidden, op, glue, completed=True):
    layer = {"operation_type": op[0], "operation_parameter": op[1], "num_operation_heads": 2,
             "feed_forward_dimension": 512, "num_feed_forward": 1}  # fmt: skip
    scores = {
        t: glue + k
        for k, t in enumerate(["cola", "mnli", "mrpc", "qnli", "qqp", "rte", "sst", "sts"])
    }
    scores["glue"] = glue
    return {
        "id": i, "is_running": False, "completed": completed, "time_to_train": 100.0 + i,
        "scores": scores,
        "hparams": {"model_hparam_overrides": {"hidden_size": hidden, "nas_config": {"encoder_layers": [layer, layer]}}},
    }  # fmt: skip


@pytest.fixture
def bert_json(tmp_path):
    path = tmp_path / "BERT_benchmark.json"
    records = [
        _bert_record(0, 128, ("SA", "SDP"), 70.0),
        _bert_record(1, 256, ("DSC", 5), 60.0),
        _bert_record(2, 128, ("SA", "SDP"), 72.0),  # same architecture as record 0
        _bert_record(3, 256, ("LT", "DFT"), 99.0, completed=False),
    ]
    path.write_text(json.dumps(records))
    return path


def test_nbbert_loader(bert_json):
    bench = load_benchmark(f"nbbert:{bert_json}")
    assert len(bench) == 2 and bench.space == "nbbert" and bench.default_metric == "glue"
    a = "h128|SA-SDP-h2-f512x1|SA-SDP-h2-f512x1"
    assert bench.query(a) == pytest.approx(71.0) and bench.query(a, "runs") == 2
    assert bench.query(a, "mnli") == pytest.approx(72.0)
    assert bench.optimum() == (a, pytest.approx(71.0))
    assert bench.higher_is_better("cola") and not bench.higher_is_better("time_to_train")
    assert load_benchmark(f"nbbert:{bert_json.parent}", task="rte").default_metric == "rte"
    rows = read_nbbert_rows(bert_json)
    assert list(rows["id"]) == [0, 1, 2] and math.isclose(rows["glue"].iloc[1], 60.0)


def test_nbbert_loader_errors(tmp_path, bert_json):
    with pytest.raises(BenchmarkDataNotFound, match="BERT_benchmark.json"):
        load_benchmark(f"nbbert:{tmp_path / 'nope'}")
    with pytest.raises(DataError, match="no task 'squad'"):
        load_benchmark(f"nbbert:{bert_json}", task="squad")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([_bert_record(0, 512, ("SA", "SDP"), 1.0)]))
    with pytest.raises(DataError, match="hidden_size 512"):
        load_benchmark(f"nbbert:{bad}")
    bad.write_text("{")
    with pytest.raises(DataError, match="not valid JSON"):
        load_benchmark(f"nbbert:{bad}")


@pytest.mark.data
def test_real_files_load_quickly(shared_data):
    start = time.perf_counter()
    nlp = load_benchmark(f"nbnlp:{shared_data / 'nas-bench-nlp'}")
    bert = load_benchmark(f"nbbert:{shared_data / 'nas-bench-bert' / 'BERT_benchmark.json'}")
    assert time.perf_counter() - start < 10
    assert len(nlp) == 263 and nlp.column("runs").sum() == 341
    assert np.isfinite(nlp.column("ptb_test_loss")).sum() == 213
    assert len(bert) == 491 and bert.column("runs").sum() == 500
