"""Tiny models and batches shared by the proxy tests (they ship in nasrank.testing.proxies)."""

from __future__ import annotations

import pytest
from torch import nn

from nasrank.data.batch import Batch
from nasrank.testing.proxies import (  # noqa: F401  re-exported for the proxy tests
    TINY_MODELS,
    TinyCNN,
    TinyMLP,
    WithUnused,
    assert_untouched,
    image_batch,
    make_cnn,
    make_mlp,
    make_unused,
    snapshot,
    vector_batch,
)


@pytest.fixture(params=sorted(TINY_MODELS))
def tiny(request: pytest.FixtureRequest) -> tuple[str, nn.Module, Batch]:
    make_model, make_batch = TINY_MODELS[request.param]
    return request.param, make_model(), make_batch()
