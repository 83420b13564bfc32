"""Every registered proxy passes the shipped proxy contract (nasrank.testing.proxies)."""

from __future__ import annotations

import pytest

from nasrank.proxies import PROXIES
from nasrank.testing import TINY_MODELS, check_shared_passes, parametrize_registry
from nasrank.testing.proxies import check_proxy_documented, check_proxy_on


@parametrize_registry(PROXIES)
@pytest.mark.parametrize("case", sorted(TINY_MODELS))
def test_proxy_contract(name, case):
    make_model, make_batch = TINY_MODELS[case]
    check_proxy_on(name, make_model(), make_batch(), case)


@pytest.mark.parametrize("case", sorted(TINY_MODELS))
def test_all_proxies_together_match_each_alone(case):
    """Sharing passes changes nothing: the full set equals each proxy computed alone."""
    make_model, make_batch = TINY_MODELS[case]
    check_shared_passes(make_model(), make_batch())


@parametrize_registry(PROXIES)
def test_every_proxy_documents_its_paper(name):
    check_proxy_documented(name)


def test_the_contract_catches_a_proxy_that_mutates_the_model():
    import dataclasses

    import torch

    def mutate(ctx):
        with torch.no_grad():
            next(ctx.model.parameters()).add_(1.0)
        return 1.0

    bad = dataclasses.replace(PROXIES.get("l2_norm"), name="mutating", compute=mutate)
    with pytest.raises(AssertionError, match="'mutating' on cnn_bn: .* changed"):
        check_proxy_on(bad, *(f() for f in TINY_MODELS["cnn_bn"]), "cnn_bn")
