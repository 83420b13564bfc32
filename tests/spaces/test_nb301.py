"""DARTS / NAS-Bench-301 space: spellings, validation, edits and the reference networks."""

from __future__ import annotations

import collections

import pytest
import torch

from nasrank.complexity import count_flops, count_params
from nasrank.errors import InvalidArchitecture, UnknownNameError
from nasrank.spaces import NB301Space, get_space
from nasrank.spaces.nb301 import OPS, from_naslib, to_darts, to_naslib

DARTS_V2 = (
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
    "('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), "
    "('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), "
    "('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
    "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])"
)
DARTS_V2_ID = (
    "normal=|sep_conv_3x3~0|sep_conv_3x3~1|+|sep_conv_3x3~0|sep_conv_3x3~1|+"
    "|skip_connect~0|sep_conv_3x3~1|+|skip_connect~0|dil_conv_3x3~2|;"
    "reduce=|max_pool_3x3~0|max_pool_3x3~1|+|max_pool_3x3~1|skip_connect~2|+"
    "|max_pool_3x3~0|skip_connect~2|+|max_pool_3x3~1|skip_connect~2|"
)

# NAS-Bench-Suite-Zero NB301 reference counts (10 classes, 32x32): params (M), MFLOPs.
REFERENCES = [
    (
        "[[(0,2),(1,2),(2,2),(1,1),(1,2),(2,5),(0,0),(3,0)],"
        "[(1,0),(0,4),(1,5),(0,2),(1,2),(2,0),(3,5),(2,1)]]",
        575402,
        108.180992,
    ),
    (
        "[[(1,5),(0,6),(0,1),(1,5),(0,2),(3,4),(4,0),(2,3)],"
        "[(1,0),(0,6),(0,5),(1,5),(3,4),(2,5),(2,5),(4,0)]]",
        907882,
        160.740864,
    ),
    (
        "[[(1,4),(0,4),(1,4),(0,3),(1,3),(2,1),(2,4),(3,4)],"
        "[(1,3),(0,4),(2,1),(1,4),(3,6),(1,0),(0,0),(2,1)]]",
        1293482,
        226.58816,
    ),
]
FIRST = REFERENCES[0][0]


@pytest.fixture(scope="module")
def space() -> NB301Space:
    sp = get_space("nb301")
    assert isinstance(sp, NB301Space)
    return sp


def _nodes(arch: str) -> list[frozenset]:
    """Per (cell, node), the set of its two (input, op) edges."""
    return [frozenset(cell[2 * i : 2 * i + 2]) for cell in to_naslib(arch) for i in range(4)]


def _edit_distance(a: str, b: str) -> int:
    return sum(len(x - y) for x, y in zip(_nodes(a), _nodes(b), strict=True))


# ---- spellings ------------------------------------------------------------------------------
def test_darts_genotype_text_parses_to_golden_id(space):
    assert space.canonical(DARTS_V2) == DARTS_V2_ID
    assert space.canonical(DARTS_V2.replace("[2, 3, 4, 5]", "range(2, 6)")) == DARTS_V2_ID
    assert space.canonical(DARTS_V2_ID) == DARTS_V2_ID


def test_genotype_object_and_mapping(space):
    genotype = collections.namedtuple("Genotype", "normal normal_concat reduce reduce_concat")
    parsed = NB301Space.genotype_of(DARTS_V2)
    g = genotype(list(parsed.normal), range(2, 6), list(parsed.reduce), range(2, 6))
    assert space.canonical(g) == DARTS_V2_ID
    assert space.canonical(repr(g)) == DARTS_V2_ID
    assert space.canonical(g._asdict()) == DARTS_V2_ID
    assert space.canonical((g.normal, g.reduce)) == DARTS_V2_ID


def test_naslib_form_object_and_text(space):
    obj = [[(0, 2), (1, 2), (2, 2), (1, 1), (1, 2), (2, 5), (0, 0), (3, 0)],
           [(1, 0), (0, 4), (1, 5), (0, 2), (1, 2), (2, 0), (3, 5), (2, 1)]]  # fmt: skip
    arch = space.canonical(obj)
    assert arch == space.canonical(FIRST) == from_naslib(obj)
    assert arch.startswith("normal=|skip_connect~0|skip_connect~1|+|avg_pool_3x3~1|skip_connect~2|")
    assert space.canonical(str(tuple(tuple(c) for c in obj))) == arch
    # NASLib's (input, op) order: node 2 of the normal cell reads inputs 0 and 1 via skip.
    assert to_naslib(arch)[0][:2] == ((0, 2), (1, 2))
    assert space.canonical(to_naslib(arch)) == arch


def test_equivalent_spellings_share_one_id(space):
    g = NB301Space.genotype_of(DARTS_V2_ID)
    swapped = [[edge for i in range(4) for edge in reversed(cell[2 * i : 2 * i + 2])] for cell in g]
    assert space.canonical(swapped) == DARTS_V2_ID
    assert space.canonical(to_darts(swapped)) == DARTS_V2_ID
    compact = [[(src, OPS.index(op)) for op, src in cell] for cell in swapped]
    assert space.canonical(compact) == DARTS_V2_ID
    # the id's own edge order within a node is free too; whitespace is ignored
    messy = DARTS_V2_ID.replace(
        "|skip_connect~0|sep_conv_3x3~1|", "| sep_conv_3x3~1 |skip_connect~0|"
    )
    assert space.canonical(messy) == DARTS_V2_ID
    assert space.canonical(DARTS_V2.replace(" ", "\n ")) == DARTS_V2_ID


# ---- validation -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (FIRST.replace("(3,0)]", "(5,0)]", 1), "node 5 may only take inputs 0..4"),
        (FIRST.replace("(0,2),(1,2)", "(2,2),(1,2)", 1), "node 2 may only take inputs 0..1"),
        (FIRST.replace("(2,5)", "(2,7)", 1), "op index 7"),
        (FIRST.replace("(2,5)", "(2,-1)", 1), "op index -1"),
        (FIRST.replace("(0,2),(1,2)", "(0,2),(0,3)", 1), "takes input 0 twice"),
        (FIRST.replace(",(3,0)]", "]", 1), "has 7 edges; expected 8"),
        ("[" + FIRST + "," + FIRST + "]", "is not an (input, op) pair"),
        (FIRST[:-1] + ",[(0,2)]]", "has 3 cell(s); expected 2"),
        ("[[(0,2)]]", "expected 2"),
        (DARTS_V2.replace("'sep_conv_3x3', 0", "'conv_3x3', 0", 1), "conv_3x3"),
        (DARTS_V2.replace("'max_pool_3x3', 0", "'none', 0", 1), "unknown DARTS operation 'none'"),
        (DARTS_V2.replace("('dil_conv_3x3', 2)", "('dil_conv_3x3', 5)"), "inputs 0..4"),
        (DARTS_V2.replace("normal_concat=[2, 3, 4, 5]", "normal_concat=[2, 3]"), "concatenates"),
        (DARTS_V2.replace("('dil_conv_3x3', 2)]", "]"), "has 7 edges"),
        ("Genotype(normal=__import__('os').getcwd(), reduce=[])", "cannot read"),
        (DARTS_V2_ID.replace("+|skip_connect~0|dil_conv_3x3~2|", ""), "3 node groups"),
        (DARTS_V2_ID.replace("dil_conv_3x3~2", "dil_conv_3x3"), "not 'op~input'"),
        (DARTS_V2_ID.replace("reduce=", "reduction="), "must start with 'reduce='"),
        ([[(0, True)] * 8] * 2, "not an integer"),
    ],
)
def test_invalid_inputs_rejected(space, bad, message):
    with pytest.raises(InvalidArchitecture) as err:
        space.canonical(bad)
    assert message in str(err.value)
    assert not space.is_valid(bad)


# ---- sampling and edits ---------------------------------------------------------------------
def test_sampling_is_uniform_over_ops_and_valid(space):
    archs = [space.sample(s) for s in range(40)]
    ops = collections.Counter(op for a in archs for cell in to_naslib(a) for _, op in cell)
    assert set(ops) == set(range(len(OPS)))
    assert len(set(archs)) == len(archs)


def test_mutation_is_one_naslib_edit(space):
    for seed in range(30):
        arch = space.sample(seed)
        child = space.mutate(arch, seed)
        assert _edit_distance(arch, child) == 1
        assert space.mutate(arch, seed) == child


def test_neighbours_are_all_single_edits(space):
    arch = space.canonical(FIRST)
    nbrs = space.neighbours(arch)
    # per cell 8 edges x 6 other ops + rewirings 0 + 2 + 4 + 6
    assert len(nbrs) == len(set(nbrs)) == 2 * (8 * 6 + 12)
    assert all(_edit_distance(arch, n) == 1 for n in nbrs)
    assert {space.mutate(arch, s) for s in range(40)} <= set(nbrs)


# ---- networks -------------------------------------------------------------------------------
@pytest.mark.parametrize(("arch", "params", "mflops"), REFERENCES)
def test_reference_counts_of_the_suite_zero_network(space, arch, params, mflops):
    model = space.build(arch, num_classes=10)
    assert count_params(model) == params  # exact golden from NAS-Bench-Suite-Zero
    assert count_flops(model) / 1e6 == pytest.approx(mflops, rel=1e-3)


def test_darts_v2_evaluation_network_parameters(space):
    assert count_params(space.build(DARTS_V2, variant="darts")) == 3_349_342
    assert count_params(space.build(DARTS_V2, variant="darts", auxiliary=True)) == 3_825_768


def test_width_depth_auxiliary_and_drop_path(space):
    model = space.build(DARTS_V2, num_classes=5, channels=8, layers=5, auxiliary=True)
    assert len(model.cells) == 5
    x = torch.randn(2, 3, 32, 32)
    model.train()
    model.drop_path_prob = 0.2
    out = model(x)
    assert out.shape == (2, 5) and model.aux_logits is not None
    assert model.aux_logits.shape == (2, 5)
    model.eval()
    with torch.no_grad():
        assert model(x).shape == (2, 5)
    assert model.aux_logits is None


def test_unknown_variant_lists_choices(space):
    with pytest.raises(UnknownNameError, match="did you mean 'darts'"):
        space.build(DARTS_V2_ID, variant="dart")
