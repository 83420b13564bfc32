"""The search workflow as a library object: SearchPlan.run is what `nasrank search` runs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nasrank.cli import main
from nasrank.predictors import Featurizer
from nasrank.search import (
    PlanError,
    PredictorBO,
    ScoreRequest,
    SearchPlan,
    TopTraining,
    resolve_source,
)
from nasrank.search.pool import make_pool
from nasrank.spaces import get_space


def test_plan_json_is_exactly_the_cli_json(toy_table_csv, tmp_path, capsys):
    out = tmp_path / "cli.json"
    argv = ["search", "--space", "nb201", "--benchmark", f"table:{toy_table_csv}", "--method",
            "zc-topk,random,re,bo", "--budget", "12", "--seeds", "0..1", "--json", str(out)]  # fmt: skip
    assert main(argv) == 0
    plan = SearchPlan(
        space="nb201",
        benchmark=f"table:{toy_table_csv}",
        methods=("zc-topk", "random", "re", "bo"),
        budget=12,
        seeds=(0, 1),
    )
    report = plan.run()
    cli = json.loads(out.read_text())
    assert cli.pop("provenance")["command"].startswith("nasrank search --space nb201")
    assert json.loads(json.dumps(report.to_json())) == cli
    # and the CLI's summary table is the report's
    title, header, rows = report.tables()[-1]
    text = capsys.readouterr().out
    assert all(r[0] in text for r in rows) and "median q. to optimum" in header


def test_report_best_archs_are_the_best_evaluated(toy_table_csv):
    report = SearchPlan(
        benchmark=f"table:{toy_table_csv}", methods=("random",), budget=10, seeds=(0, 1)
    ).run()
    values = report.best_values()
    best = report.best_archs(3)
    assert len(best) == 3
    assert [values[a] for a in best] == sorted(values.values(), reverse=True)[:3]


def test_resolver_says_why_each_source_was_refused(toy_table_csv):
    from nasrank.benchmarks import load_benchmark

    space = get_space("nb201")
    bench = load_benchmark(f"table:{toy_table_csv}", space="nb201")
    # the toy table stores proxy columns, so the benchmark source serves
    assert resolve_source(ScoreRequest(space, bench)).source.name == "benchmark"
    with pytest.raises(PlanError, match="proxy-source table"):
        resolve_source(ScoreRequest(space, bench, proxies=("no_such_column",)), "table")
    none = resolve_source(ScoreRequest(space, bench, proxies=()), "engine")
    assert none.source is None and none.proxies == ()


@pytest.mark.parametrize(
    "kwargs, option",
    [
        ({"methods": ()}, "method"),
        ({"methods": ("re", "re")}, "method"),
        ({"budget": 0}, "budget"),
        ({"seeds": (1, 1)}, "seeds"),
        ({"batch_size": 0}, "batch-size"),
        ({"benchmark": None}, "benchmark"),
    ],
)
def test_bad_plans_fail_before_any_work(kwargs, option):
    with pytest.raises(PlanError) as info:
        SearchPlan(**kwargs)
    assert info.value.option == option


def test_top_training_is_checked():
    with pytest.raises(PlanError, match="epochs"):
        TopTraining(2, epochs=0)


def test_plan_passes_features_to_predictor_bo(toy_table_csv):
    plan = SearchPlan(
        benchmark=f"table:{toy_table_csv}",
        methods=("bo", "re"),
        budget=12,
        seeds=(0,),
        features="onehot",
    )
    report = plan.run()
    bo, re = report.searchers["bo"][0], report.searchers["re"][0]
    assert isinstance(bo._features_fn, Featurizer) and report.config["features"] == "onehot"
    assert not hasattr(re, "_features_fn")
    # the default bo features are the space's own encoding: same run as features="path"
    default = SearchPlan(benchmark=f"table:{toy_table_csv}", methods=("bo",), budget=12).run()
    path = SearchPlan(
        benchmark=f"table:{toy_table_csv}", methods=("bo",), budget=12, features="path"
    ).run()
    assert [e.arch for e in default.runs["bo"][0].evaluations] == [
        e.arch for e in path.runs["bo"][0].evaluations
    ]


def test_bo_featurizer_rows_match_the_space_encoding():
    space = get_space("nb201")
    pool = make_pool(space, 40, seed=3)
    bo = PredictorBO(space, pool=pool, features=Featurizer("onehot", space=space), use_scores=False)
    rows = bo._features(list(pool.archs[:5]))
    expected = np.stack([space.encode("onehot", a) for a in pool.archs[:5]])
    np.testing.assert_array_equal(rows, expected)
