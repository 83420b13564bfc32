from __future__ import annotations

import pytest

import nasrank.testing.predictors as testing_predictors


@pytest.fixture
def monotone_problem():
    """A synthetic problem whose target is a noisy monotone function of 3 of 6 features."""
    return testing_predictors.monotone_problem()


@pytest.fixture
def graph_problem():
    """Chains of ops; the target grows with the number of Conv nodes."""
    pytest.importorskip("torch_geometric")
    return testing_predictors.graph_problem()
