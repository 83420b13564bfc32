"""resolve_data: the space's default data, bare specs completed, wrong kinds refused."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from nasrank.data import SCHEME_KINDS, parse_spec, resolve_data
from nasrank.errors import DataError, UnknownNameError
from nasrank.spaces import get_space


@pytest.mark.parametrize(
    "space, default",
    [
        ("nb101", "synthetic"),
        ("nb201", "synthetic"),
        ("nb301", "synthetic"),
        ("nbbert", "tokens:30522:128"),
        ("nbnlp", "tokens:33278:70"),
        ("nbgraph", "graph:2708:1433:7"),
    ],
)
def test_no_spec_gives_the_space_default(space, default):
    assert resolve_data(get_space(space), None) == default


@pytest.mark.parametrize(
    "space, text, resolved",
    [
        ("nbbert", "tokens", "tokens:30522:128:2"),
        ("nbbert", "tokens:1000", "tokens:1000:128:2"),
        ("nbbert", "tokens:30522:256:3", "tokens:30522:256:3"),
        ("nbnlp", "tokens", "tokens:33278:70:2"),
        ("nbnlp", "tokens:500:35", "tokens:500:35:2"),
        ("nbgraph", "graph", "graph:2708:1433:7"),
        ("nbgraph", "graph:100", "graph:100:1433:7"),
        ("nbgraph", "graph:100:16:3", "graph:100:16:3"),
        ("nbgraph", "graph:my/cora.npz", "graph:my/cora.npz"),
        ("nb201", "synthetic", "synthetic"),
        ("nb201", "synthetic:3x16x16:100", "synthetic:3x16x16:100"),
        ("nb201", "cifar100:/data", "cifar100:/data"),
        ("nb101", "images:/data", "images:/data"),
    ],
)
def test_fitting_specs_are_completed_from_the_default(space, text, resolved):
    assert resolve_data(get_space(space), text) == resolved


@pytest.mark.parametrize(
    "space, text, message",
    [
        ("nbbert", "synthetic", "space 'nbbert' takes token ids"),
        ("nbbert", "cifar10:/data", "not images"),
        ("nbbert", "graph", "not a graph"),
        ("nbbert", "tokens:40000", "vocabulary of 30522"),
        ("nbbert", "tokens:30522:513", "at most 512 tokens"),
        ("nbnlp", "tokens:33279", "vocabulary of 33278"),
        ("nbnlp", "synthetic:3x32x32", "takes token ids"),
        ("nb201", "tokens", "space 'nb201' takes images"),
        ("nb201", "graph:g.npz", "not a graph"),
        ("nb201", "synthetic:1x28x28", "3-channel images"),
        ("nbgraph", "synthetic", "space 'nbgraph' takes a graph"),
        ("nbgraph", "tokens", "not token ids"),
    ],
)
def test_specs_the_models_cannot_take_are_one_line_errors(space, text, message):
    with pytest.raises(DataError) as info:
        resolve_data(get_space(space), text)
    text_ = str(info.value)
    assert message in text_ and "\n" not in text_
    assert "default" in text_  # says what the space takes


def test_malformed_and_unknown_specs_keep_their_own_errors():
    with pytest.raises(UnknownNameError, match="did you mean 'tokens'"):
        resolve_data(get_space("nbbert"), "tokenz")
    with pytest.raises(DataError, match="bad tokens spec"):
        resolve_data(get_space("nbbert"), "tokens:x")


def test_a_new_space_only_sets_default_data():
    lm = SimpleNamespace(name="tiny-lm", default_data="tokens:100:8")
    assert resolve_data(lm, None) == "tokens:100:8"
    assert resolve_data(lm, "tokens") == "tokens:100:8:2"
    with pytest.raises(DataError, match="vocabulary of 100"):
        resolve_data(lm, "tokens:101")
    gray = SimpleNamespace(name="mnist-like", default_data="synthetic:1x28x28:10")
    assert resolve_data(gray, "synthetic") == "synthetic:1x28x28:10"
    with pytest.raises(DataError, match="1-channel images"):
        resolve_data(gray, "cifar10:/data")
    gnn = SimpleNamespace(name="gnn", default_data="graph:10:4:2")
    assert resolve_data(gnn, "graph:20") == "graph:20:4:2"


def test_every_scheme_has_a_kind():
    assert set(SCHEME_KINDS) == {"cifar10", "cifar100", "images", "synthetic", "tokens", "graph"}
    assert parse_spec("synthetic").kind == "images" and parse_spec("tokens").kind == "tokens"
