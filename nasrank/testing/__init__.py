"""Conformance suites: check that a proxy, space, predictor or searcher -- a registered
one or your own -- keeps the contract every nasrank component keeps.

Each ``check_*`` raises ``AssertionError`` with a message naming the component and the
rule on the first violation, and returns ``None`` otherwise; it runs in seconds on tiny
models and toy problems, on the CPU, without data files or network. Usable from any
test runner; :func:`parametrize_registry` and :func:`parametrize_checks` give pytest one
test per registry entry and per check (pytest itself is only imported by them)::

    import nasrank.testing as nt

    nt.check_proxy("synflow")                     # or a ProxySpec of your own
    nt.check_space("nb201")                       # a name, a class or an instance
    nt.check_predictor(lambda: GBDTPredictor(n_estimators=60))
    nt.check_searcher(MySearcher, options={"population_size": 8})
    nt.check_zoo_case("vit")                      # every proxy on one model family
    nt.check_model(make_my_model, my_batch)       # ... or on a model of your own

    @nt.parametrize_registry(SEARCHERS)
    def test_searcher_contract(name):
        nt.check_searcher(name)

Modules: :mod:`~nasrank.testing.proxies`, :mod:`~nasrank.testing.spaces`,
:mod:`~nasrank.testing.predictors`, :mod:`~nasrank.testing.searchers` (the contracts, each
with its individual checks), :mod:`~nasrank.testing.zoo` (every proxy on fifteen model
families, or on a model of yours), :mod:`~nasrank.testing.toy` (the toy search problem).
"""

from __future__ import annotations

from nasrank.testing._parametrize import parametrize_checks, parametrize_registry
from nasrank.testing.predictors import (
    PREDICTOR_CHECKS,
    check_predictor,
    graph_problem,
    monotone_problem,
)
from nasrank.testing.proxies import TINY_MODELS, check_proxy, check_shared_passes
from nasrank.testing.searchers import FAST_OPTIONS, SEARCHER_CHECKS, check_searcher
from nasrank.testing.spaces import SPACE_CHECKS, check_space
from nasrank.testing.zoo import (
    ZOO,
    ZOO_CHECKS,
    ZooCase,
    ZooRow,
    check_model,
    check_zoo_case,
    zoo_table,
)

__all__ = [
    "FAST_OPTIONS",
    "PREDICTOR_CHECKS",
    "SEARCHER_CHECKS",
    "SPACE_CHECKS",
    "TINY_MODELS",
    "ZOO",
    "ZOO_CHECKS",
    "ZooCase",
    "ZooRow",
    "check_predictor",
    "check_proxy",
    "check_searcher",
    "check_model",
    "check_shared_passes",
    "check_space",
    "check_zoo_case",
    "graph_problem",
    "monotone_problem",
    "parametrize_checks",
    "parametrize_registry",
    "zoo_table",
]
