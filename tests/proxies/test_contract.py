"""Every registered proxy passes the same checks on three tiny models."""

from __future__ import annotations

import math

import pytest

from nasrank.proxies import PROXIES, score

from .conftest import assert_untouched, snapshot

PROXY_NAMES = PROXIES.names()


@pytest.mark.parametrize("name", PROXY_NAMES)
def test_proxy_contract(name, tiny):
    model_name, model, batch = tiny
    before = snapshot(model)
    first = score(model, batch, [name], seed=0, device="cpu")
    assert list(first) == [name]
    value = first[name]
    assert isinstance(value, float)
    assert math.isfinite(value), f"{name} on {model_name}: {first.reasons.get(name)}"
    assert_untouched(model, before)
    again = score(model, batch, [name], seed=0, device="cpu")
    assert again[name] == value  # same seed, same value, bit for bit
    assert_untouched(model, before)


def test_all_proxies_together_match_each_alone(tiny):
    """Sharing passes changes nothing: the full set equals each proxy computed alone."""
    _, model, batch = tiny
    before = snapshot(model)
    together = score(model, batch, None, seed=3)
    assert_untouched(model, before)
    assert set(together) == set(PROXY_NAMES)
    for name in PROXY_NAMES:
        alone = score(model, batch, [name], seed=3)[name]
        assert together[name] == pytest.approx(alone, rel=1e-9, abs=1e-12), name


def test_every_proxy_documents_its_paper():
    for name in PROXY_NAMES:
        spec = PROXIES.get(name)
        assert spec.citation, name
        assert "larger" in spec.doc.lower(), f"{name} must document its sign convention"
