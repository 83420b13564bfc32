from __future__ import annotations

import json

import pytest
import torch

from nasrank.complexity import count_flops, count_params
from nasrank.errors import InvalidArchitecture
from nasrank.spaces import get_space
from nasrank.spaces.nb201 import OPS, from_naslib, to_naslib

ALL_CONV = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
EXAMPLE = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


@pytest.fixture
def space():
    return get_space("nb201")


def test_official_string_is_canonical(space):
    assert space.canonical(EXAMPLE) == EXAMPLE
    assert space.canonical("  " + EXAMPLE.replace("|+|", "| + |") + "\n") == EXAMPLE


def test_naslib_tuple_maps_positions_to_official_edges(space):
    # NASLib positions: edges 0->1, 0->2, 0->3, 1->2, 1->3, 2->3; 0 skip, 1 none, 2 conv3, 3 conv1, 4 pool
    arch = space.canonical((2, 3, 4, 0, 1, 2))
    assert (
        arch
        == "|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|"
    )
    assert space.canonical("(2, 3, 4, 0, 1, 2)") == arch
    assert space.canonical([2, 3, 4, 0, 1, 2]) == arch
    assert to_naslib(arch) == (2, 3, 4, 0, 1, 2)


def test_op_name_list(space):
    names = [
        "nor_conv_3x3",
        "nor_conv_3x3",
        "avg_pool_3x3",
        "skip_connect",
        "nor_conv_3x3",
        "skip_connect",
    ]
    assert space.canonical(names) == EXAMPLE


def test_naslib_round_trip_over_whole_space(space):
    archs = list(space.enumerate())
    assert len(archs) == 15625 == space.size == len(set(archs))
    for arch in archs[::97]:
        assert from_naslib(to_naslib(arch)) == arch


@pytest.mark.parametrize(
    "bad, fragment",
    [
        ("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|", "node groups"),
        (
            EXAMPLE.replace("avg_pool_3x3", "avg_pool_5x5"),
            "unknown NAS-Bench-201 operation 'avg_pool_5x5'",
        ),
        (EXAMPLE.replace("avg_pool_3x3~1", "avg_pool_3x3~0"), "names source 0; expected source 1"),
        (EXAMPLE.replace("|+|skip", "|+skip"), "must start and end"),
        ((0, 1, 2), "has 3 entries; expected 6"),
        ((0, 1, 2, 3, 4, 5), "contains 5"),
        ("(0, 1, 2, 3, 4, 0, 1)", "has 7 entries"),
        (["nor_conv_3x3"] * 5, "has 5 ops"),
        (["conv"] * 6, "unknown NAS-Bench-201 operation 'conv'"),
        (3.5, "float"),
    ],
)
def test_invalid_architectures_name_the_problem(space, bad, fragment):
    with pytest.raises(InvalidArchitecture, match=None) as err:
        space.canonical(bad)
    assert fragment in str(err.value)


def test_mutate_changes_exactly_one_edge(space):
    arch = space.sample(3)
    for seed in range(20):
        child = space.mutate(arch, seed)
        diff = [a != b for a, b in zip(space.ops_of(arch), space.ops_of(child))]
        assert sum(diff) == 1


def test_neighbours_are_the_24_one_edge_edits(space):
    nbrs = space.neighbours(EXAMPLE)
    assert len(nbrs) == 24 == len(set(nbrs))
    for n in nbrs:
        assert sum(a != b for a, b in zip(space.ops_of(EXAMPLE), space.ops_of(n))) == 1


def test_sample_is_roughly_uniform_over_ops(space):
    counts = {op: 0 for op in OPS}
    for seed in range(400):
        for op in space.ops_of(space.sample(seed)):
            counts[op] += 1
    assert min(counts.values()) > 0.15 * 2400


# Goldens from NAS-Bench-Suite-Zero (stored params/flops of the benchmark), not from this code.
@pytest.mark.parametrize(
    "naslib, classes, size, params_m, mflops",
    [
        ((2, 2, 2, 2, 2, 2), 10, 32, 1.531546, 222.860992),
        ((0, 2, 3, 2, 3, 1), 10, 32, 0.615386, 88.307392),
        ((4, 0, 4, 1, 2, 0), 10, 32, 0.316346, 46.343872),
        ((4, 0, 4, 1, 2, 0), 120, 16, 0.323496, 11.593792),
        ((2, 2, 2, 2, 2, 2), 120, 16, 1.538696, 55.723072),
    ],
)
def test_params_and_flops_match_benchmark(space, naslib, classes, size, params_m, mflops):
    model = space.build(naslib, num_classes=classes)
    assert count_params(model) / 1e6 == pytest.approx(params_m, abs=1e-6)
    assert count_flops(model, (3, size, size)) / 1e6 == pytest.approx(mflops, abs=1e-6)


def test_none_edges_contribute_zeros(space):
    arch = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    model = space.build(arch).eval()
    with torch.no_grad():
        out = model(torch.randn(2, 3, 32, 32))
    # every cell outputs zeros, so the logits equal the classifier bias for every sample
    assert torch.allclose(out[0], out[1], atol=1e-6)


@pytest.mark.data
def test_all_suite_zero_archs_match_stored_params_and_flops(space, shared_data):
    data = json.loads((shared_data / "nas-bench-suite-zero" / "zc_nasbench201.json").read_text())
    for task, classes, size in (
        ("cifar10", 10, 32),
        ("cifar100", 100, 32),
        ("ImageNet16-120", 120, 16),
    ):
        for key, record in list(data[task].items())[::25]:
            model = space.build(key, num_classes=classes)
            assert count_params(model) / 1e6 == pytest.approx(record["params"]["score"], abs=1e-6)
            assert count_flops(model, (3, size, size)) / 1e6 == pytest.approx(
                record["flops"]["score"], rel=0.01
            )
