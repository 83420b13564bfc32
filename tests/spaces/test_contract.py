"""Every registered space passes the same checks."""

from __future__ import annotations

import pytest
import torch

from nasrank.errors import InvalidArchitecture
from nasrank.spaces import SPACES, get_space

SPACE_NAMES = SPACES.names()


@pytest.fixture(params=SPACE_NAMES)
def space(request):
    return get_space(request.param)


def test_canonical_round_trip(space):
    for seed in range(5):
        arch = space.sample(seed)
        assert space.canonical(arch) == arch
        assert isinstance(hash(arch), int)


def test_sampling_is_reproducible(space):
    assert [space.sample(s) for s in range(5)] == [space.sample(s) for s in range(5)]
    assert len({space.sample(s) for s in range(20)}) > 1


def test_mutation_is_valid_and_different(space):
    for seed in range(10):
        arch = space.sample(seed)
        child = space.mutate(arch, seed)
        assert child != arch
        assert space.canonical(child) == child


def test_neighbours_are_valid_distinct_and_exclude_self(space):
    arch = space.sample(0)
    nbrs = space.neighbours(arch)
    assert nbrs
    assert arch not in nbrs
    assert len(set(nbrs)) == len(nbrs)
    for n in nbrs[:10]:
        assert space.canonical(n) == n


def test_model_builds_and_runs_forward(space):
    arch = space.sample(1)
    model = space.build(arch, num_classes=7)
    model.eval()
    x = space.example_input(2, seed=0)
    assert torch.equal(x, space.example_input(2, seed=0))
    with torch.no_grad():
        out = model(x)
    assert out.shape[0] == 2 and out.shape[-1] == 7
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("bad", ["", "not an architecture", "|foo~0|", 12345, None])
def test_bad_ids_rejected_with_message(space, bad):
    with pytest.raises(InvalidArchitecture) as err:
        space.canonical(bad)
    assert str(err.value)
