from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from nasrank.benchmarks import Benchmark, load_benchmark
from nasrank.errors import (
    BenchmarkDataNotFound,
    DataError,
    InvalidArchitecture,
    NotInBenchmark,
    UnknownNameError,
)

A = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


def _toy() -> Benchmark:
    return Benchmark(
        name="toy",
        space=None,
        archs=["a", "b", "c", "d"],
        values={"acc": [1.0, 3.0, np.nan, 2.0], "loss": [0.5, 0.1, 0.2, 0.9]},
        default_metric="acc",
        lower_is_better=["loss"],
    )


def test_top_and_optimum_respect_orientation_and_skip_nan():
    bench = _toy()
    assert bench.optimum() == ("b", 3.0)
    assert [a for a, _ in bench.top(3)] == ["b", "d", "a"]
    assert bench.optimum("loss") == ("b", 0.1)
    assert bench.higher_is_better("acc") and not bench.higher_is_better("loss")
    assert np.isnan(bench.query("c"))
    np.testing.assert_array_equal(bench.oriented("loss"), [-0.5, -0.1, -0.2, -0.9])


def test_query_errors():
    bench = _toy()
    with pytest.raises(NotInBenchmark, match="no entry for architecture 'zz'"):
        bench.query("zz")
    with pytest.raises(UnknownNameError, match="did you mean 'loss'"):
        bench.query("a", "los")


def test_nb201_analog_has_the_whole_space():
    bench = load_benchmark("nb201-analog")
    assert len(bench) == 15625
    assert bench.space == "nb201"
    assert "analog_accuracy" in bench.metrics and "baseline_drift_2592000" in bench.metrics
    # any spelling of an architecture finds the same row
    assert bench.query(A) == bench.query((2, 2, 0, 4, 2, 0))
    arch, best = bench.optimum()
    assert 93.0 < best < 95.0
    assert all(v <= best for v in bench.column())
    assert load_benchmark("nb201-analog") is bench  # cached


def test_nb201_analog_rejects_tasks_and_args():
    with pytest.raises(DataError):
        load_benchmark("nb201-analog", task="cifar100")
    with pytest.raises(DataError):
        load_benchmark("nb201-analog:extra")


def test_unknown_benchmark_kind_suggests():
    with pytest.raises(UnknownNameError, match="did you mean 'suite-zero'"):
        load_benchmark("suite-zer:/x.json")


def _write_suite_zero(path, nested: bool):
    records = {
        "(2, 2, 0, 4, 2, 0)": {
            "idx": "1",
            "val_accuracy": 90.0,
            "synflow": {"score": 5.0, "time": 1},
        },
        "(1, 1, 1, 1, 1, 1)": {
            "idx": "2",
            "val_accuracy": 10.0,
            "synflow": {"score": 1.0, "time": 1},
        },
        "(0, 0, 0, 0, 0, 0)": {"idx": "3", "val_accuracy": 50.0, "synflow": 3.0},
    }
    data = {"cifar10": records, "cifar100": {k: {"val_accuracy": 1.0} for k in records}}
    if nested:
        data = {"nasbench201": data}
    path.write_text(json.dumps(data))


@pytest.mark.parametrize("nested", [False, True])
def test_suite_zero_both_layouts(tmp_path, nested):
    path = tmp_path / "zc.json"
    _write_suite_zero(path, nested)
    bench = load_benchmark(f"suite-zero:{path}")
    assert len(bench) == 3 and bench.space == "nb201"
    assert set(bench.metrics) == {"val_accuracy", "synflow"}
    assert bench.query(A) == 90.0
    assert bench.query(A, "synflow") == 5.0
    assert bench.query((0, 0, 0, 0, 0, 0), "synflow") == 3.0  # bare numbers accepted
    assert load_benchmark(f"suite-zero:{path}", task="cifar100").metrics == ("val_accuracy",)


def test_suite_zero_errors(tmp_path):
    with pytest.raises(BenchmarkDataNotFound, match="not found"):
        load_benchmark(f"suite-zero:{tmp_path}/missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(DataError, match="not valid JSON"):
        load_benchmark(f"suite-zero:{bad}")
    path = tmp_path / "zc.json"
    _write_suite_zero(path, nested=False)
    with pytest.raises(DataError, match="no task 'svhn'"):
        load_benchmark(f"suite-zero:{path}", task="svhn")
    evil = tmp_path / "evil.json"
    evil.write_text(
        json.dumps({"cifar10": {"__import__('os').system('true')": {"val_accuracy": 1}}})
    )
    with pytest.raises(DataError, match="not a tuple literal"):
        load_benchmark(f"suite-zero:{evil}")


@pytest.mark.data
def test_suite_zero_real_file_agrees_with_nb201_analog(shared_data):
    from scipy.stats import spearmanr

    path = shared_data / "nas-bench-suite-zero" / "zc_nasbench201.json"
    zc = load_benchmark(f"suite-zero:{path}")
    assert len(zc) == 725
    analog = load_benchmark("nb201-analog")
    archs = zc.archs()
    rho = spearmanr([zc.query(a) for a in archs], [analog.query(a) for a in archs]).statistic
    assert rho > 0.95


def test_table_csv_and_parquet(tmp_path):
    import pandas as pd

    frame = pd.DataFrame(
        {
            "arch": ["(2, 2, 0, 4, 2, 0)", A.replace("|+|", "| + |"), "(1, 1, 1, 1, 1, 1)"],
            "test_loss": [0.3, 0.3, 2.3],
            "note": ["x", "y", "z"],
        }
    )
    frame = frame.iloc[[0, 2]]
    for name in ("t.csv", "t.parquet"):
        path = tmp_path / name
        frame.to_csv(path, index=False) if name.endswith("csv") else frame.to_parquet(path)
        bench = load_benchmark(f"table:{path}", space="nb201")
        assert bench.metrics == ("test_loss",)
        assert not bench.higher_is_better("test_loss")
        assert bench.optimum()[0] == A


def test_table_errors(tmp_path):
    import pandas as pd

    with pytest.raises(BenchmarkDataNotFound):
        load_benchmark(f"table:{tmp_path}/none.csv")
    path = tmp_path / "t.csv"
    pd.DataFrame({"model": ["a"], "acc": [1.0]}).to_csv(path, index=False)
    with pytest.raises(DataError, match="no 'arch' column"):
        load_benchmark(f"table:{path}")
    pd.DataFrame({"arch": ["(9, 9, 9, 9, 9, 9)"], "acc": [1.0]}).to_csv(path, index=False)
    with pytest.raises(DataError, match="contains 9"):
        load_benchmark(f"table:{path}", space="nb201")


def test_restricted_unpickler_refuses_foreign_globals(tmp_path):
    from nasrank._pickle import restricted_load

    class Evil:
        def __reduce__(self):
            import os

            return (os.system, ("echo pwned",))

    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(Evil()))
    with (
        path.open("rb") as f,
        pytest.raises(pickle.UnpicklingError, match="refusing to load global"),
    ):
        restricted_load(f)
    arr = np.arange(6, dtype=np.uint8).reshape(2, 3)
    path.write_bytes(pickle.dumps({"data": arr, "x": np.float64(1.5)}, protocol=2))
    with path.open("rb") as f:
        out = restricted_load(f)
    np.testing.assert_array_equal(out["data"], arr)
    assert out["x"] == 1.5


def test_invalid_arch_in_query_is_typed():
    bench = load_benchmark("nb201-analog")
    with pytest.raises(InvalidArchitecture):
        bench.query("|bogus~0|")
    assert "|bogus~0|" not in bench


def test_suite_zero_averages_keys_of_one_architecture(tmp_path):
    path = tmp_path / "zc.json"
    path.write_text(
        json.dumps(
            {
                "cifar10": {
                    "(2, 2, 0, 4, 2, 0)": {"val_accuracy": 90.0, "synflow": 4.0},
                    "(2,2,0,4,2,0)": {"val_accuracy": 92.0},
                    "(1, 1, 1, 1, 1, 1)": {"val_accuracy": 10.0, "synflow": 1.0},
                }
            }
        )
    )
    bench = load_benchmark(f"suite-zero:{path}")
    assert len(bench) == 2
    assert bench.query(A) == 91.0
    assert bench.query(A, "synflow") == 4.0  # NaN-aware mean
