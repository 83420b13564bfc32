"""Optimise one metric, report another: SearchPlan(metric=A, report_metric=B)."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pandas as pd
import pytest

from nasrank.search import CandidatePool, PlanError, SearchPlan
from nasrank.search.reported import ReportMetric
from nasrank.spaces import get_space
from nasrank.testing.toy import TOY_OPS, ToyObjective, toy_benchmark

SPACE = get_space("nb201")


def _archs(n: int) -> list[str]:
    cells = itertools.islice(itertools.product(TOY_OPS, repeat=6), n)
    return [SPACE.canonical(list(ops)) for ops in cells]


@pytest.fixture(scope="module")
def two_metric_csv(tmp_path_factory):
    """200 NB-201 cells; ``acc12`` (A) and ``acc200`` (B) correlated but disagreeing, so
    the best by A is not the best by B, and a proxy column for the proxy searchers."""
    rng = np.random.default_rng(7)
    archs = _archs(200)
    acc12 = rng.normal(80, 5, size=len(archs))
    acc200 = 0.5 * acc12 + rng.normal(45, 3, size=len(archs))
    synflow = acc12 + rng.normal(0, 5, size=len(archs))
    frame = pd.DataFrame({"arch": archs, "acc12": acc12, "acc200": acc200, "synflow": synflow})
    assert frame["acc12"].idxmax() != frame["acc200"].idxmax()
    path = tmp_path_factory.mktemp("report") / "two.csv"
    frame.to_csv(path, index=False)
    return path


def _expected(history: list[str], table: pd.DataFrame, a: str, b: str, q: int) -> float:
    """B of the first architecture with the best A among the first q queried, from the CSV."""
    values = [table.loc[arch, a] for arch in history[:q]]
    return float(table.loc[history[int(np.argmax(values))], b])


def test_reported_value_is_b_of_the_best_by_a(two_metric_csv):
    table = pd.read_csv(two_metric_csv).set_index("arch")
    plan = SearchPlan(
        benchmark=f"table:{two_metric_csv}",
        metric="acc12",
        report_metric="acc200",
        methods=("random", "re", "zc-topk"),
        budget=30,
        seeds=tuple(range(4)),
    )
    payload = json.loads(json.dumps(plan.run().to_json()))
    leaked = 0
    for run in payload["runs"]:
        history = [e["arch"] for e in run["history"]]
        assert len(history) == 30
        pick = history[int(np.argmax([table.loc[h, "acc12"] for h in history]))]
        assert run["best"]["arch"] == run["report"]["arch"] == pick
        assert run["report"]["value"] == pytest.approx(table.loc[pick, "acc200"])
        assert run["report"]["at"]["10"] == pytest.approx(
            _expected(history, table, "acc12", "acc200", 10)
        )
        assert run["report"]["trajectory"] == pytest.approx(
            [_expected(history, table, "acc12", "acc200", q) for q in range(1, 31)]
        )
        leaked += run["report"]["value"] < table.loc[history, "acc200"].max()
    assert leaked > 0  # the best B among the queried is another architecture: not reported
    for method in ("random", "re", "zc-topk"):
        runs = [r for r in payload["runs"] if r["method"] == method]
        summary = payload["summary"][method]["report"]
        for q in (10, 20):
            b = [_expected([e["arch"] for e in r["history"]], table, "acc12", "acc200", q)
                 for r in runs]  # fmt: skip
            assert summary["mean_at"][str(q)] == pytest.approx(np.mean(b))
            assert summary["std_at"][str(q)] == pytest.approx(np.std(b))
        final = [table.loc[r["best"]["arch"], "acc200"] for r in runs]
        assert summary["mean"] == pytest.approx(np.mean(final))
        assert summary["missing"] == 0 and summary["metric"] == "acc200"
    assert payload["config"]["report_metric"] == "acc200"
    pool_best_a = table["acc12"].idxmax()
    assert payload["report_metric"]["of_optimum"] == {
        "arch": pool_best_a,
        "value": pytest.approx(table.loc[pool_best_a, "acc200"]),
    }
    assert payload["report_metric"]["optimum"]["arch"] == table["acc200"].idxmax()


def test_report_metric_does_not_change_the_search(two_metric_csv):
    common = dict(benchmark=f"table:{two_metric_csv}", metric="acc12", budget=15,
                  methods=("robot", "random"), seeds=(0, 1))  # fmt: skip
    plain = SearchPlan(**common).run().to_json()
    with_b = SearchPlan(**common, report_metric="acc200").run().to_json()
    assert with_b.pop("report_metric")["metric"] == "acc200"
    assert with_b["config"].pop("report_metric") == "acc200"
    for run in with_b["runs"]:
        assert run.pop("report")["metric"] == "acc200"
    for summary in with_b["summary"].values():
        assert summary.pop("report")["runs"] == 2
    assert json.dumps(with_b, default=str) == json.dumps(plain, default=str)
    assert "report_metric" not in plain["config"] and "report" not in plain["runs"][0]


def test_directions_come_from_the_benchmark(tmp_path):
    """A lower-is-better A picks the smallest A; a lower-is-better B's optimum is its min."""
    rng = np.random.default_rng(1)
    archs = _archs(60)
    frame = pd.DataFrame({"arch": archs, "val_loss": rng.random(60), "test_error": rng.random(60)})
    path = tmp_path / "loss.csv"
    frame.to_csv(path, index=False)
    table = frame.set_index("arch")
    report = SearchPlan(benchmark=f"table:{path}", metric="val_loss", report_metric="test_error",
                        methods=("random",), budget=25, seeds=(3,)).run()  # fmt: skip
    run = report.runs["random"][0]
    history = [e.arch for e in run.evaluations]
    pick = history[int(np.argmin(table.loc[history, "val_loss"].to_numpy()))]
    assert report.reported["random"][0].arch == pick
    assert report.reported["random"][0].value == pytest.approx(table.loc[pick, "test_error"])
    info = report.report_metric_json()
    assert info["higher_is_better"] is False
    assert info["optimum"]["arch"] == table["test_error"].idxmin()


def test_missing_b_is_nan_with_a_reason(tmp_path):
    archs = _archs(12)
    acc = np.arange(12, dtype=float)
    test = acc.copy()
    test[-1] = np.nan  # the optimum by acc has no test value
    path = tmp_path / "hole.csv"
    pd.DataFrame({"arch": archs, "acc": acc, "test_acc": test}).to_csv(path, index=False)
    report = SearchPlan(benchmark=f"table:{path}", metric="acc", report_metric="test_acc",
                        methods=("random",), budget=12, seeds=(0, 1)).run()  # fmt: skip
    payload = json.loads(json.dumps(report.to_json()))
    for run in payload["runs"]:
        assert run["best"]["arch"] == archs[-1]
        assert run["report"]["value"] is None
        assert "no 'test_acc' value" in run["report"]["missing"]
    summary = payload["summary"]["random"]["report"]
    assert summary["missing"] == 2 and summary["mean"] is None
    notes = payload["report_metric"]["notes"]
    assert any("2 of 2 runs" in n for n in notes) and any("1 of 12 candidates" in n for n in notes)
    assert payload["report_metric"]["of_optimum"]["value"] is None


def test_unknown_or_same_report_metric_is_refused_before_any_work(two_metric_csv):
    bench = f"table:{two_metric_csv}"
    with pytest.raises(PlanError) as info:
        SearchPlan(benchmark=bench, metric="acc12", report_metric="acc2000").run()
    assert info.value.option == "report-metric"
    assert "did you mean 'acc200'" in info.value.reason
    assert "acc12, acc200, synflow" in info.value.reason
    with pytest.raises(PlanError, match="is the optimised --metric"):
        SearchPlan(benchmark=bench, metric="acc12", report_metric="acc12").run()
    with pytest.raises(PlanError, match="is the optimised"):  # the default metric is acc12
        SearchPlan(benchmark=bench, report_metric="acc12").run()
    with pytest.raises(PlanError, match="must name a column"):
        SearchPlan(benchmark=bench, report_metric=" ")


def test_a_custom_objective_reports_b_from_the_benchmark():
    """A training-like objective over custom candidates; B read from a benchmark table."""
    bench = toy_benchmark()
    pool = CandidatePool(SPACE, tuple(bench.archs()[:50]))
    objective = ToyObjective()
    report = SearchPlan(candidates=pool, objective=objective, benchmark=bench,
                        report_metric="nwot", methods=("random",), budget=10).run()  # fmt: skip
    run = report.runs["random"][0]
    assert report.reported["random"][0].value == bench.query(run.best.arch, "nwot")
    assert report.to_json()["runs"][0]["report"]["value"] == bench.query(run.best.arch, "nwot")
    # without a benchmark there is nothing to read B from
    with pytest.raises(PlanError, match="needs a benchmark"):
        SearchPlan(candidates=pool, objective=objective, benchmark=None, report_metric="nwot")


def test_candidates_outside_the_benchmark_are_refused_or_noted():
    bench = toy_benchmark()
    outside = [SPACE.canonical(["none"] * 6), SPACE.canonical(["avg_pool_3x3"] * 6)]
    plan = dict(objective=ToyObjective(), benchmark=bench, report_metric="nwot",
                methods=("random",), budget=2)  # fmt: skip
    with pytest.raises(PlanError, match="for any of the 2 candidates"):
        SearchPlan(candidates=CandidatePool(SPACE, tuple(outside)), **plan).run()
    mixed = CandidatePool(SPACE, (*outside, *bench.archs()[:3]))
    report = SearchPlan(candidates=mixed, **dict(plan, budget=5)).run()
    assert any("2 of 5 candidates" in n for n in report.report_notes())


def test_trajectory_follows_the_pick():
    bench = toy_benchmark()
    reporter = ReportMetric(bench, "nwot", optimised="acc")
    from nasrank.search import Evaluation, SearchResult

    archs = bench.archs()[:4]
    values = [1.0, 3.0, math.nan, 3.0]  # NaN never wins; a tie keeps the first
    run = SearchResult("x", 0, 4, True, tuple(Evaluation(a, v) for a, v in zip(archs, values)))
    out = reporter.of_run(run)
    nwot = [bench.query(a, "nwot") for a in archs]
    assert out.arch == archs[1] and out.trajectory == (nwot[0], nwot[1], nwot[1], nwot[1])
    assert out.at(100) == nwot[1]
    empty = reporter.of_run(SearchResult("x", 0, 4, True, ()))
    assert empty.arch is None and math.isnan(empty.value) and empty.missing


@pytest.mark.data
def test_suite_zero_reports_a_second_column(shared_data):
    path = shared_data / "nas-bench-suite-zero" / "zc_nasbench201.json"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    from nasrank.benchmarks import load_benchmark

    bench = load_benchmark(f"suite-zero:{path}", task="cifar10", space="nb201")
    report = SearchPlan(benchmark=bench, task="cifar10", metric="val_accuracy",
                        report_metric="flops", methods=("zc-topk", "random"), budget=20,
                        seeds=(0, 1), proxies=("synflow", "nwot")).run()  # fmt: skip
    for method, reported in report.reported.items():
        for run, b in zip(report.runs[method], reported):
            assert b.value == bench.query(run.best.arch, "flops")
    assert report.summary["random"]["report"]["mean_at"][20] is not None
