"""Every registered searcher passes the shipped searcher contract
(nasrank.testing.searchers); then search quality and the result records."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nasrank.errors import UnknownNameError
from nasrank.search import (
    SEARCHERS,
    BenchmarkObjective,
    Evaluation,
    LocalSearch,
    RandomSearch,
    RegularizedEvolution,
    SearchResult,
    benchmark_scores,
    get_searcher,
    make_pool,
    summarise,
)
from nasrank.testing import (
    SEARCHER_CHECKS,
    check_searcher,
    parametrize_checks,
    parametrize_registry,
)
from nasrank.testing.searchers import searcher_case
from nasrank.testing.toy import SPACE, ToyObjective, toy_benchmark

POOL_METHODS = ["random", "re", "ls", "zc-topk", "robot"]


@pytest.fixture(scope="module")
def bench():
    return toy_benchmark()


@pytest.fixture(scope="module")
def pool(bench):
    return benchmark_scores(make_pool(SPACE, "benchmark", benchmark=bench), bench)


def _kwargs(name: str) -> dict:
    return {"robot": {"bo_queries": 3, "patience": 3}}.get(name, {})


@parametrize_registry(SEARCHERS)
@parametrize_checks(SEARCHER_CHECKS)
def test_searcher_contract(name, check):
    check(searcher_case(name))


class _Unseeded(RandomSearch):
    """Draws from fresh OS entropy: not reproducible."""

    name = "unseeded"

    def _propose(self):
        return self._random_new(np.random.default_rng())


class _OverBudget(RandomSearch):
    name = "over-budget"

    def run(self, objective, budget, **kwargs):
        return super().run(objective, budget + 1, **kwargs)


@pytest.mark.parametrize(
    "cls, message", [(_Unseeded, "not reproducible"), (_OverBudget, "9 objective calls")]
)
def test_the_contract_catches_a_broken_searcher(cls, message):
    with pytest.raises(AssertionError, match=message):
        check_searcher(cls)


def test_registry_lists_every_method():
    assert set(POOL_METHODS) | {"bo"} == set(SEARCHERS.names())
    assert get_searcher("re") is RegularizedEvolution
    with pytest.raises(UnknownNameError, match="did you mean 'robot'"):
        get_searcher("robt")


@pytest.mark.parametrize("name", POOL_METHODS)
def test_finds_pool_optimum_within_budget(name, bench, pool):
    budget = {"random": len(pool), "re": 200, "ls": 200}.get(name, 40)
    opt = bench.optimum()[1]
    searcher = get_searcher(name)(SPACE, pool=pool, seed=0, **_kwargs(name))
    objective = BenchmarkObjective(bench)
    result = searcher.run(objective, budget)
    assert result.queries == objective.queries <= budget
    assert len({e.arch for e in result.evaluations}) == result.queries  # never repeats
    assert all(e.arch in pool for e in result.evaluations)
    q = result.queries_to(opt)
    assert q is not None and q < budget, (name, q)


@pytest.mark.parametrize("name", [m for m in POOL_METHODS if m != "zc-topk"])
def test_another_seed_gives_another_run(name, pool, bench):
    # zc-topk is left out: its proxy ranking does not depend on the seed
    def once(seed):
        s = get_searcher(name)(SPACE, pool=pool, seed=seed, **_kwargs(name))
        return [e.arch for e in s.run(BenchmarkObjective(bench), 8).evaluations]

    assert once(3) != once(4)


@pytest.mark.parametrize("cls", [RegularizedEvolution, LocalSearch, RandomSearch])
def test_open_space_searchers_climb_a_separable_objective(cls):
    objective = ToyObjective()
    result = cls(SPACE, seed=0).run(objective, 300)
    assert len(set(objective.calls)) == len(objective.calls) == result.queries
    best = result.best.value
    assert best >= objective.optimum - (1e-9 if cls is LocalSearch else 2.5)
    if cls is LocalSearch:
        assert result.queries_to(objective.optimum) < 200


def test_tell_accepts_any_spelling_and_other_archs(pool):
    s = RandomSearch(SPACE, pool=pool, seed=0)
    s.tell("(2, 2, 2, 2, 2, 2)", 1.0)
    assert s.history[0].arch == SPACE.canonical("(2, 2, 2, 2, 2, 2)")
    assert s.ask() != s.history[0].arch


def test_benchmark_objective_counts_distinct_queries(bench):
    objective = BenchmarkObjective(bench)
    a, b = bench.archs()[:2]
    first = objective(a)
    again = objective(a)
    objective(b)
    assert objective.queries == 2
    assert again.value == first.value and again.cost == 0.0
    assert math.isnan(first.cost)  # the toy table has no time column
    assert objective.maximize


def test_search_result_records_are_frozen_and_summarised():
    evs = (Evaluation("a", 1.0), Evaluation("b", 3.0), Evaluation("c", 2.0))
    r = SearchResult("x", 0, 5, True, evs)
    with pytest.raises(AttributeError):
        r.budget = 3  # type: ignore[misc]
    assert r.best.arch == "b" and r.queries_to(3.0) == 2 and r.queries_to(4.0) is None
    np.testing.assert_allclose(r.best_so_far(), [1, 3, 3])
    s = summarise([r, SearchResult("x", 1, 5, True, evs[:1])], optimum=3.0, at=(1, 2, 5))
    assert s["found"] == 1 and s["median_queries_to_optimum"] is None
    assert s["mean_best_at"] == {1: 1.0, 2: 2.0, 5: 2.0}
