"""Issue 21: a search's default proxies are one rule for every source -- the first few of
a label-free preference order that the source has."""

from __future__ import annotations

import numpy as np
import pytest

from nasrank.benchmarks import Benchmark
from nasrank.proxies import PROXIES
from nasrank.search.sources import (
    DEFAULT_ENGINE_PROXIES,
    DEFAULT_PROXY_COUNT,
    DEFAULT_PROXY_PREFERENCE,
    BenchmarkSource,
    EngineSource,
    ScoreRequest,
    TableSource,
    default_proxy_set,
    resolve_source,
)
from nasrank.spaces import get_space
from nasrank.tables import load_table


def _bench(columns: list[str]) -> Benchmark:
    space = get_space("nb201")
    archs = [space.sample(i) for i in range(30)]
    archs = list(dict.fromkeys(archs))
    rng = np.random.default_rng(0)
    values = {"acc": rng.normal(size=len(archs))}
    values.update({c: rng.normal(size=len(archs)) for c in columns})
    return Benchmark(name="b", space="nb201", archs=archs, values=values, default_metric="acc")


def test_preference_order_is_label_free_and_registered():
    assert len(set(DEFAULT_PROXY_PREFERENCE)) == len(DEFAULT_PROXY_PREFERENCE)
    for name in DEFAULT_PROXY_PREFERENCE:
        assert not PROXIES.get(name).needs_labels
    assert 1 <= DEFAULT_PROXY_COUNT <= len(DEFAULT_PROXY_PREFERENCE)


def test_rule_takes_the_first_of_the_preference_the_source_has_in_its_order():
    pref = ("b", "d", "a", "c")
    assert default_proxy_set(["a", "b", "c", "d", "x"], preference=pref, count=2) == ("b", "d")
    # the source lacks "d": the next one in the preference comes in, the source's order kept
    assert default_proxy_set(["c", "a", "b"], preference=pref, count=2) == ("a", "b")
    assert default_proxy_set(["c", "x"], preference=pref, count=3) == ("c",)


def test_rule_without_any_preferred_proxy_falls_back_to_label_free_then_all():
    assert default_proxy_set(["snip", "zen", "grasp"], preference=("nwot",)) == ("zen",)
    assert default_proxy_set(["snip", "grasp"], preference=("nwot",)) == ("snip", "grasp")


def test_benchmark_source_default_is_the_rule_over_its_stored_columns():
    stored = ["grasp", "params", "snip", "jacov", "fisher", "plain", "l2_norm"]
    request = ScoreRequest(get_space("nb201"), _bench(stored))
    got = BenchmarkSource().default_proxies(request)
    expected = [p for p in DEFAULT_PROXY_PREFERENCE if p in stored][:DEFAULT_PROXY_COUNT]
    assert set(got) == set(expected) and set(got) <= set(stored)
    assert not {"grasp", "snip", "fisher", "plain"} & set(got)  # the label-needing ones
    resolution = resolve_source(request)
    assert resolution.source.name == "benchmark" and resolution.proxies == got


def test_table_source_default_names_only_table_columns():
    bench = _bench([])  # stores no scores: the shipped table serves the search
    request = ScoreRequest(get_space("nb201"), bench)
    table = load_table("nb201-cifar10")
    got = TableSource().default_proxies(request)
    assert got and set(got) <= set(table.proxies)
    assert set(got) == set(
        [p for p in DEFAULT_PROXY_PREFERENCE if p in table.proxies][:DEFAULT_PROXY_COUNT]
    )
    resolution = resolve_source(request)
    assert resolution.source.name == "table" and resolution.proxies == got


def test_engine_default_is_data_free_without_data():
    request = ScoreRequest(get_space("nb201"), _bench([]))
    got = EngineSource().default_proxies(request)
    assert got == DEFAULT_ENGINE_PROXIES
    for name in got:
        spec = PROXIES.get(name)
        assert not spec.needs_data and not spec.needs_labels
    with_data = ScoreRequest(get_space("nb201"), _bench([]), data="cifar10:/somewhere")
    available = EngineSource().available_proxies(with_data)
    assert "nwot" in available and "snip" not in available  # label-free, data allowed


@pytest.mark.parametrize("stored", [["synflow", "params", "nwot"], ["nwot"]])
def test_default_never_names_a_proxy_the_benchmark_lacks(stored):
    request = ScoreRequest(get_space("nb201"), _bench(stored))
    assert set(resolve_source(request).proxies) <= set(stored)


@pytest.mark.data
def test_default_proxies_find_the_suite_zero_cifar100_optimum(shared_data):
    """The issue's failure: with every stored proxy RoBoT missed the CIFAR-100 optimum of
    the Suite-Zero NB-201 pool in 20 queries; the default set finds it."""
    from nasrank.benchmarks import load_benchmark
    from nasrank.search import SearchPlan

    path = shared_data / "nas-bench-suite-zero" / "zc_nasbench201.json"
    bench = load_benchmark(f"suite-zero:{path}", task="cifar100", space="nb201")
    optimum = float(np.nanmax(bench.column(bench.default_metric)))
    report = SearchPlan(
        space="nb201", benchmark=bench, methods=("robot",), budget=20, seeds=(0, 1, 2)
    ).run()
    assert set(report.config["proxies"]) <= set(bench.metrics)
    assert [r.best.value for r in report.runs["robot"]] == pytest.approx([optimum] * 3)
