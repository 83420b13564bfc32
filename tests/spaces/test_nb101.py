"""NAS-Bench-101 space: ids, validity rules, pruning, isomorphism, edits, the network."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import torch

from nasrank.complexity import count_flops, count_params
from nasrank.errors import InvalidArchitecture
from nasrank.spaces import NB101Space, get_space
from nasrank.spaces._nb101_model import compute_vertex_channels
from nasrank.spaces.nb101 import (
    INTERIOR_OPS,
    NASLIB_OPS,
    NUM_ARCHITECTURES,
    OPS,
    CellSpec,
    from_naslib,
    prune,
    to_naslib,
)

C3, C1, MP = "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"

# Suite-Zero keys (NASLib 56-tuples) with their stored params (M) and MFLOPs, copied from
# ../shared/data/nas-bench-suite-zero/zc_nasbench101.json.
SIX_VERTICES = (
    "(0, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 0, "
    "0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 4, 4, 4, 1)"
)
SEVEN_VERTICES = (
    "(0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, "
    "0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 3, 2, 3, 3, 4, 1)"
)
TWO_VERTICES = (
    "(0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, "
    "0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 4, 4, 3, 2, 1)"
)
# Two isomorphic spellings of one cell whose vertex orders split channels differently.
ISO_A = (
    "(0, 1, 1, 0, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 0, 1, "
    "0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 4, 3, 3, 3, 1)"
)
ISO_B = (
    "(0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 1, "
    "0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 3, 3, 3, 1)"
)
GOLDENS = [
    (SIX_VERTICES, 4.095778, 624.55808),
    (SEVEN_VERTICES, 1.966891, 299.168192),
    (TWO_VERTICES, 0.88257, 140.416),
    (ISO_A, 1.861666, 282.511616),
    (ISO_B, 1.86577, 283.56224),
]

# input -> conv3x3 -> maxpool -> output, plus input -> maxpool.
SMALL = {"matrix": [[0, 1, 1, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]]}
SMALL_OPS = ["input", C3, MP, "output"]


@pytest.fixture(scope="module")
def space() -> NB101Space:
    return get_space("nb101")


def _naslib_text(matrix: list[list[int]], ops: list[str]) -> str:
    return str(tuple(b for row in matrix for b in row) + tuple(NASLIB_OPS.index(o) for o in ops))


# ---- ids and spellings ---------------------------------------------------------------------
def test_vocabulary_is_the_benchmarks():
    assert OPS == ("input", C3, C1, MP, "output")
    assert INTERIOR_OPS == (C3, C1, MP)
    assert NASLIB_OPS == ("input", "output", MP, C1, C3)


def test_all_spellings_give_one_id(space):
    cell = {"matrix": SMALL["matrix"], "ops": SMALL_OPS}
    arch = space.canonical(cell)
    assert arch == "input,conv3x3-bn-relu,maxpool3x3,output|0110/0010/0001/0000"
    assert space.canonical(arch) == arch
    assert space.canonical(json.dumps(cell)) == arch
    assert space.canonical({"matrix": np.array(SMALL["matrix"]), "ops": SMALL_OPS}) == arch
    assert space.canonical(CellSpec(tuple(map(tuple, SMALL["matrix"])), tuple(SMALL_OPS))) == arch
    naslib = to_naslib(arch)
    assert len(naslib) == 56
    assert space.canonical(naslib) == arch
    assert space.canonical(list(naslib)) == arch
    assert space.canonical(str(naslib)) == arch
    assert space.canonical(np.array(naslib)) == arch
    assert from_naslib(naslib) == arch
    assert space.to_dict(arch) == cell
    # Whitespace in a hand-written id is ignored.
    assert (
        space.canonical(" input, conv3x3-bn-relu, maxpool3x3, output | 0110/0010/0001/0000") == arch
    )


def test_isomorphic_cells_share_one_id(space):
    # input -> a -> c -> output and input -> b -> output, every order of a, b, c.
    ops = {"a": C3, "b": C1, "c": MP}
    edges = {("in", "a"), ("a", "c"), ("c", "out"), ("in", "b"), ("b", "out"), ("a", "b")}
    ids = set()
    for order in itertools.permutations("abc"):
        names = ["in", *order, "out"]
        pos = {v: i for i, v in enumerate(names)}
        if any(pos[s] > pos[d] for s, d in edges):
            continue  # not upper-triangular in this order
        matrix = [[int((s, d) in edges) for d in names] for s in names]
        cell_ops = ["input", *(ops[v] for v in order), "output"]
        ids.add(space.canonical({"matrix": matrix, "ops": cell_ops}))
        ids.add(space.canonical(_naslib_text(_pad(matrix), _pad_ops(cell_ops))))
    assert len(ids) == 1
    # Relabelling a vertex makes a different cell.
    other = {"matrix": SMALL["matrix"], "ops": ["input", C1, MP, "output"]}
    assert space.canonical(other) != space.canonical({**SMALL, "ops": SMALL_OPS})


def _pad(matrix: list[list[int]]) -> list[list[int]]:
    """Embed an n-vertex matrix in 7x7 with isolated vertices before the output."""
    n = len(matrix)
    index = list(range(n - 1)) + [6]
    out = [[0] * 7 for _ in range(7)]
    for i, j in itertools.product(range(n), repeat=2):
        out[index[i]][index[j]] = matrix[i][j]
    return out


def _pad_ops(ops: list[str]) -> list[str]:
    return ops[:-1] + [MP] * (7 - len(ops)) + ["output"]


def test_suite_zero_isomorphic_keys_share_one_id(space):
    assert space.canonical(ISO_A) == space.canonical(ISO_B)


def test_canonical_order_is_nasbench_generation_order(space):
    """nasbench's generate_graphs keeps, per hash, the first (bits, labeling) it meets;
    the canonical id must spell exactly that cell (checked exhaustively up to 5 vertices)."""
    first: dict[str, tuple] = {}
    for n in range(2, 6):
        for bits in range(2 ** (n * (n - 1) // 2)):
            matrix = [
                [int(y > x and (bits >> (x + y * (y - 1) // 2)) & 1) for y in range(n)]
                for x in range(n)
            ]
            pruned = prune(matrix, ["input"] + [C3] * (n - 2) + ["output"])
            if pruned is None or len(pruned[0]) != n or sum(map(sum, matrix)) > 9:
                continue  # generate_graphs skips prunable graphs
            for labels in itertools.product(INTERIOR_OPS, repeat=n - 2):
                ops = ("input", *labels, "output")
                arch = space.canonical({"matrix": matrix, "ops": list(ops)})
                first.setdefault(arch, (tuple(map(tuple, matrix)), ops))
    assert len(first) == 1 + 6 + 84 + 2441
    for arch, (matrix, ops) in first.items():
        assert space.spec(arch) == CellSpec(matrix, ops)


def test_enumerate_prefix_counts(space):
    # Unique cells by vertex count: 1, 6, 84, 2441, 62010, 359082 (total 423,624).
    ids = list(itertools.islice(space.enumerate(), 2532))
    counts = [sum(1 for a in ids if a.count(",") + 1 == n) for n in range(2, 6)]
    assert counts == [1, 6, 84, 2441]
    assert len(set(ids)) == len(ids)
    assert all(space.canonical(a) == a for a in ids[::50])
    assert space.size == NUM_ARCHITECTURES == 423_624


@pytest.mark.slow
def test_enumerate_whole_space(space):
    ids = list(space.enumerate())
    assert len(ids) == len(set(ids)) == 423_624


# ---- pruning ---------------------------------------------------------------------------------
def test_pruning_drops_vertices_off_input_output_paths(space):
    # Vertex 2 has no way out, vertex 3 no way in: both are pruned.
    matrix = [
        [0, 1, 1, 0, 0],
        [0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0],
        [0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0],
    ]
    ops = ["input", C3, C1, MP, "output"]
    assert prune(matrix, ops) == ([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", C3, "output"])
    arch = space.canonical({"matrix": matrix, "ops": ops})
    assert arch == "input,conv3x3-bn-relu,output|010/001/000"
    assert space.pruned_spec({"matrix": matrix, "ops": ops}).num_vertices == 3
    # Pruning happens before the limits: 12 edges raw, 9 after pruning is valid.
    assert space.canonical(SIX_VERTICES).count(",") + 1 == 6
    assert sum(map(sum, space.spec(SIX_VERTICES).matrix)) == 9
    # Only input -> output left.
    assert space.canonical(TWO_VERTICES) == "input,output|01/00"


# ---- invalid input -----------------------------------------------------------------------------
def _chain(n: int) -> list[list[int]]:
    return [[int(j == i + 1) for j in range(n)] for i in range(n)]


@pytest.mark.parametrize(
    ("arch", "message"),
    [
        (  # 7 vertices, 10 edges, none prunable
            {
                "matrix": [
                    [0, 1, 1, 1, 0, 0, 0],
                    [0, 0, 1, 0, 0, 0, 1],
                    [0, 0, 0, 1, 0, 0, 0],
                    [0, 0, 0, 0, 1, 0, 0],
                    [0, 0, 0, 0, 0, 1, 1],
                    [0, 0, 0, 0, 0, 0, 1],
                    [0, 0, 0, 0, 0, 0, 0],
                ],
                "ops": ["input", C3, C3, C3, C3, C3, "output"],
            },
            "10 edges after pruning; the benchmark allows at most 9",
        ),
        (
            {"matrix": [[0, 1, 0], [0, 0, 1], [0, 1, 0]], "ops": ["input", C3, "output"]},
            "strictly upper-triangular",
        ),
        (
            {"matrix": [[1, 1], [0, 0]], "ops": ["input", "output"]},
            "strictly upper-triangular",
        ),
        (
            {"matrix": _chain(3), "ops": ["input", "conv5x5-bn-relu", "output"]},
            "unknown NAS-Bench-101 operation 'conv5x5-bn-relu'",
        ),
        ("input,conv3x3,output|010/001/000", "unknown NAS-Bench-101 operation 'conv3x3'"),
        (
            {"matrix": _chain(3), "ops": ["input", "output", "output"]},
            "interior vertex 1",
        ),
        (
            {"matrix": _chain(3), "ops": [C3, C3, "output"]},
            "the first vertex must be 'input'",
        ),
        ((0, 1) * 25, "has 50 entries; expected 56"),
        ("(0, 1, 0, 0)", "has 4 entries; expected 56"),
        ((0,) * 49 + (0, 4, 4, 4, 4, 4, 7), "op index 7"),
        (  # two vertices, no edge
            {"matrix": [[0, 0], [0, 0]], "ops": ["input", "output"]},
            "not reachable from the input",
        ),
        (  # a path into vertex 1 and out of vertex 2 but none between them
            {
                "matrix": [[0, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0]],
                "ops": ["input", C3, C1, "output"],
            },
            "not reachable from the input",
        ),
        (
            {"matrix": _chain(9), "ops": ["input", *[C3] * 7, "output"]},
            "9 vertices after pruning; the benchmark allows at most 7",
        ),
        ({"matrix": [[0, 1], [0]], "ops": ["input", "output"]}, "must be square"),
        ({"matrix": [[0, 2], [0, 0]], "ops": ["input", "output"]}, "expected 0 or 1"),
        ({"matrix": _chain(3), "ops": ["input", "output"]}, "2 ops for a 3x3 matrix"),
        ({"matrix": _chain(2)}, "missing ops"),
        ({"matrix": _chain(2), "ops": ["input", "output"], "x": 1}, "unexpected x"),
        ('{"matrix": [[0, 1], [0, 0]], "ops": ', "cannot parse NAS-Bench-101 JSON"),
        ("input,output|01", "2 ops but 1 matrix rows"),
        ("input,output|0/00", "must be square"),
        ("input,output|0a/00", "not a string of 0/1"),
        (3.5, "cannot interpret 3.5"),
    ],
)
def test_invalid_cells_rejected_with_clear_message(space, arch, message):
    with pytest.raises(InvalidArchitecture, match="NAS-Bench-101|cannot interpret") as err:
        space.canonical(arch)
    assert message in str(err.value)
    assert not space.is_valid(arch)


# ---- sampling and edits ------------------------------------------------------------------------
def test_samples_are_valid_and_varied(space):
    archs = [space.sample(seed) for seed in range(50)]
    assert archs == [space.sample(seed) for seed in range(50)]
    assert len(set(archs)) > 30
    for arch in archs:
        spec = space.spec(arch)
        assert 2 <= spec.num_vertices <= 7 and spec.num_edges <= 9
        assert space.canonical(arch) == arch
    assert any(space.spec(a).num_vertices == 7 for a in [space.sample(s) for s in range(200)])


def test_neighbours_are_single_edits(space):
    arch = "input,conv3x3-bn-relu,maxpool3x3,output|0110/0010/0001/0000"
    nbrs = space.neighbours(arch)
    assert len(nbrs) == len(set(nbrs)) and arch not in nbrs
    assert all(space.canonical(n) == n for n in nbrs)
    # Op changes.
    assert "input,conv1x1-bn-relu,maxpool3x3,output|0110/0010/0001/0000" in nbrs
    # Edge flips: drop conv->maxpool (conv then no longer feeds the output: pruned).
    assert "input,maxpool3x3,output|010/001/000" in nbrs
    # Add conv -> output.
    assert "input,conv3x3-bn-relu,maxpool3x3,output|0110/0011/0001/0000" in nbrs
    # Vertex insertion lets a pruned cell grow.
    assert any(space.spec(n).num_vertices == 5 for n in nbrs)
    assert all(space.spec(n).num_vertices in (3, 4, 5) for n in nbrs)
    # Deduplicated by id: flipping input->maxpool or the conv label gives distinct cells.
    assert len(nbrs) == len({space.canonical(n) for n in nbrs})


def test_neighbours_at_the_limits_stay_valid(space):
    full = space.canonical(SIX_VERTICES)  # 9 edges: no edge can be added
    for n in space.neighbours(full):
        spec = space.spec(n)
        assert spec.num_edges <= 9 and spec.num_vertices <= 7


def test_mutate_is_seeded_valid_and_one_edit(space):
    arch = space.sample(3)
    children = [space.mutate(arch, seed) for seed in range(20)]
    assert children == [space.mutate(arch, seed) for seed in range(20)]
    nbrs = set(space.neighbours(arch))
    assert all(child in nbrs for child in children)
    assert len(set(children)) > 1


# ---- the network -------------------------------------------------------------------------------
def test_vertex_channel_split():
    # Vertices 2, 3, 4 feed the output: 128 = 43 + 43 + 42; vertex 1 feeds vertex 4 only.
    matrix = [
        [0, 1, 1, 1, 0, 0],
        [0, 0, 0, 0, 1, 0],
        [0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0],
    ]
    assert compute_vertex_channels(64, 128, matrix) == [64, 42, 43, 43, 42, 128]
    matrix = [
        [0, 1, 1, 1, 0, 0],
        [0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 1, 0],
        [0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0],
    ]
    assert compute_vertex_channels(128, 256, matrix) == [128, 86, 85, 85, 85, 256]
    assert compute_vertex_channels(3, 5, [[0, 1], [0, 0]]) == [3, 5]


@pytest.mark.parametrize(("key", "params", "mflops"), GOLDENS)
def test_parameter_count_goldens(space, key, params, mflops):
    model = space.build(key)
    assert count_params(model) / 1e6 == pytest.approx(params, abs=1e-6)
    # With the complexity.py convention of this writing the count is the stored one plus
    # the classifier's 10 bias additions, which Suite-Zero leaves out.
    assert count_flops(model) / 1e6 == pytest.approx(mflops, rel=1e-4)


def test_build_keeps_the_given_vertex_order(space):
    # Same id, different channel split: each spelling builds the network it names.
    a, b = space.build(ISO_A), space.build(ISO_B)
    assert count_params(a) != count_params(b)
    assert space.canonical(ISO_A) == space.canonical(ISO_B)


def test_network_shapes(space):
    model = space.build("input,conv3x3-bn-relu,maxpool3x3,output|0111/0010/0001/0000")
    x = torch.randn(2, 3, 32, 32)
    stem_out = model.stem(x)
    assert stem_out.shape == (2, 128, 32, 32)
    feats = model.cells(stem_out)
    assert feats.shape == (2, 512, 8, 8)
    assert model(x).shape == (2, 10)
    assert space.build(TWO_VERTICES, num_classes=3)(x).shape == (2, 3)
    small = space.build(SEVEN_VERTICES, stem_channels=16, num_stacks=2, cells_per_stack=1)
    assert small(x).shape == (2, 10)


@pytest.mark.data
def test_suite_zero_counts(space, shared_data):
    path = shared_data / "nas-bench-suite-zero" / "zc_nasbench101.json"
    records = json.loads(path.read_text())["nasbench101"]["cifar10"]
    assert len(records) == 500
    for key, rec in list(records.items())[::10]:
        model = space.build(key)
        assert count_params(model) / 1e6 == pytest.approx(rec["params"], abs=1e-6), key
        assert count_flops(model) / 1e6 == pytest.approx(rec["flops"], rel=0.01), key
