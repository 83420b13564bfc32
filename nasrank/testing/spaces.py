"""The search-space contract: ids, sampling, edits and models behave the same everywhere.

A space passes when sampled ids are canonical and hashable, sampling is reproducible for
a seed (and not constant), mutations are valid and differ from their parent, neighbours
are valid, distinct and exclude the architecture itself, a sampled model builds and runs
a finite forward pass on the space's example input, and malformed ids are refused with
:class:`~nasrank.errors.InvalidArchitecture` and a message.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from nasrank.errors import InvalidArchitecture
from nasrank.spaces.base import SearchSpace
from nasrank.spaces.registry import get_space

__all__ = [
    "BAD_IDS",
    "SPACE_CHECKS",
    "check_space",
    "check_canonical_round_trip",
    "check_sampling_is_reproducible",
    "check_mutation_is_valid_and_different",
    "check_neighbours",
    "check_model_builds_and_runs",
    "check_bad_ids_rejected",
]

#: Inputs no space accepts as an architecture.
BAD_IDS: tuple[object, ...] = ("", "not an architecture", "|foo~0|", 12345, None)


def _name(space: SearchSpace) -> str:
    return getattr(space, "name", type(space).__name__)


def check_canonical_round_trip(space: SearchSpace) -> None:
    """Sampled ids are canonical (``canonical(a) == a``), their own network ids
    (``network_id(a) == a``: they build the benchmark's network) and hashable."""
    for seed in range(5):
        arch = space.sample(seed)
        assert space.canonical(arch) == arch, (
            f"space {_name(space)!r}: sample({seed}) = {arch!r} is not canonical "
            f"(canonical gives {space.canonical(arch)!r})"
        )
        assert space.network_id(arch) == arch, (
            f"space {_name(space)!r}: sample({seed}) = {arch!r} is not its own network id "
            f"(network_id gives {space.network_id(arch)!r})"
        )
        assert isinstance(hash(arch), int)


def check_sampling_is_reproducible(space: SearchSpace) -> None:
    """The same seeds give the same samples; 20 seeds give more than one architecture."""
    first = [space.sample(s) for s in range(5)]
    assert first == [space.sample(s) for s in range(5)], (
        f"space {_name(space)!r}: sample(seed) is not reproducible"
    )
    assert len({space.sample(s) for s in range(20)}) > 1, (
        f"space {_name(space)!r}: 20 seeds sampled one architecture"
    )


def check_mutation_is_valid_and_different(space: SearchSpace) -> None:
    """``mutate`` returns a canonical id other than its parent."""
    for seed in range(10):
        arch = space.sample(seed)
        child = space.mutate(arch, seed)
        assert child != arch, f"space {_name(space)!r}: mutate({arch!r}) returned the parent"
        assert space.canonical(child) == child, (
            f"space {_name(space)!r}: mutate({arch!r}) = {child!r} is not canonical"
        )


def check_neighbours(space: SearchSpace) -> None:
    """Neighbours exist, are distinct, exclude the architecture and are canonical."""
    arch = space.sample(0)
    nbrs = space.neighbours(arch)
    what = f"space {_name(space)!r}: neighbours({arch!r})"
    assert nbrs, f"{what} is empty"
    assert arch not in nbrs, f"{what} contains the architecture itself"
    assert len(set(nbrs)) == len(nbrs), f"{what} has duplicates"
    for n in nbrs[:10]:
        assert space.canonical(n) == n, f"{what}: {n!r} is not canonical"


def check_model_builds_and_runs(space: SearchSpace) -> None:
    """A sampled model builds for 7 classes and maps the example input to finite logits."""
    arch = space.sample(1)
    model = space.build(arch, num_classes=7)
    model.eval()
    x = space.example_input(2, seed=0)
    what = f"space {_name(space)!r}"
    assert torch.equal(x, space.example_input(2, seed=0)), (
        f"{what}: example_input(seed=0) is not reproducible"
    )
    with torch.no_grad():
        out = model(x)
    assert out.shape[0] == 2 and out.shape[-1] == 7, (
        f"{what}: {arch!r} maps 2 inputs to shape {tuple(out.shape)}, expected (2, ..., 7)"
    )
    assert torch.isfinite(out).all(), f"{what}: {arch!r} gives non-finite outputs"


def check_bad_ids_rejected(space: SearchSpace, bad_ids: tuple[object, ...] = BAD_IDS) -> None:
    """Each of ``bad_ids`` raises :class:`InvalidArchitecture` with a non-empty message."""
    for bad in bad_ids:
        try:
            space.canonical(bad)  # type: ignore[arg-type]
        except InvalidArchitecture as err:
            assert str(err), f"space {_name(space)!r}: empty message for {bad!r}"
        except Exception as err:
            raise AssertionError(
                f"space {_name(space)!r}: canonical({bad!r}) raised {type(err).__name__} "
                f"({err}), not InvalidArchitecture"
            ) from err
        else:
            raise AssertionError(
                f"space {_name(space)!r}: canonical({bad!r}) did not raise InvalidArchitecture"
            )


#: Every check of the contract, in the order :func:`check_space` runs them.
SPACE_CHECKS: tuple[Callable[[SearchSpace], None], ...] = (
    check_canonical_round_trip,
    check_sampling_is_reproducible,
    check_mutation_is_valid_and_different,
    check_neighbours,
    check_model_builds_and_runs,
    check_bad_ids_rejected,
)


def check_space(space: str | type[SearchSpace] | SearchSpace) -> None:
    """Run the whole space contract on ``space`` (a name, a class or an instance).

    Raises:
        AssertionError: On the first violated rule, naming the space and the input.
    """
    instance = get_space(space)
    for check in SPACE_CHECKS:
        check(instance)
