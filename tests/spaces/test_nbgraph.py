"""NAS-Bench-Graph space: ids, canonicalisation (against the reference package), edits, model."""

from __future__ import annotations

import importlib.util
import itertools

import pytest
import torch

from nasrank.errors import InvalidArchitecture, UnknownNameError
from nasrank.spaces import NBGraphSpace, get_space
from nasrank.spaces.nbgraph import (
    DATASETS,
    LINKS,
    OPS,
    arch_hash,
    dataset_setting,
    format_id,
    from_hash,
)

HAS_PACKAGE = importlib.util.find_spec("nas_bench_graph") is not None
needs_package = pytest.mark.skipif(not HAS_PACKAGE, reason="needs the PyPI package nas-bench-graph")


@pytest.fixture(scope="module")
def space() -> NBGraphSpace:
    return NBGraphSpace()


@pytest.fixture(scope="module")
def reference_arch():
    """The reference implementation's ``Arch`` (imported only here, in the tests)."""
    if not HAS_PACKAGE:
        pytest.skip("needs the PyPI package nas-bench-graph")
    from nas_bench_graph.architecture import Arch

    return Arch


# ---- ids -------------------------------------------------------------------------------------
def test_registered(space):
    assert isinstance(get_space("nbgraph"), NBGraphSpace)
    assert space.size == 26206


def test_canonical_id_format(space):
    arch = space.canonical("link=0,0,1,2;ops=gcn,gat,sage,fc")
    assert arch == "link=0,0,1,2;ops=gat,gcn,fc,sage"  # the two symmetric branches sorted
    assert space.link_of(arch) == (0, 0, 1, 2)
    assert space.ops_of(arch) == ("gat", "gcn", "fc", "sage")
    # a lone skip after gat only passes gat's output on: the skip moves to the front
    assert space.canonical("link=0,0,1,2;ops=gcn,gat,sage,skip") == (
        "link=0,1,1,2;ops=skip,gcn,gat,sage"
    )


def test_all_spellings_agree(space):
    arch = "link=0,1,1,2;ops=gcn,cheb,gin,fc"
    h = arch_hash(arch)
    spellings = [
        arch,
        " link = 0, 1, 1, 2 ; ops = gcn, cheb, gin, fc ",
        "ops=gcn,cheb,gin,fc;link=0,1,1,2",
        "link=[0,1,1,2];ops=[gcn,cheb,gin,fc]",
        {"link": [0, 1, 1, 2], "ops": ["gcn", "cheb", "gin", "fc"]},
        ([0, 1, 1, 2], ["gcn", "cheb", "gin", "fc"]),
        ((0, 1, 2, 1), ("gcn", "cheb", "fc", "gin")),  # nodes 3 and 4 renumbered
        str(h),
        f"hash={h}",
    ]
    assert {space.canonical(s) for s in spellings} == {space.canonical(arch)}
    assert from_hash(h) == from_hash(str(h)) == space.canonical(arch)
    assert space.hash(arch) == h == 61327  # LINKS[6], op digits gcn=1 cheb=3 gin=2 fc=7


def test_semantic_equivalences(space):
    same = [
        # a leaf passing the raw input on adds nothing
        ("link=0,0,0,0;ops=gcn,gcn,gcn,skip", "link=0,1,1,1;ops=skip,gcn,gcn,gcn"),
        # a skip between two nodes is contracted
        ("link=0,1,2,3;ops=gcn,skip,gat,fc", "link=0,1,2,3;ops=skip,gcn,gat,fc"),
        # skips after gat pass its output on once; raw-input skip leaves add nothing
        ("link=0,1,2,3;ops=gat,skip,skip,skip", "link=0,0,0,0;ops=gat,skip,skip,skip"),
    ]
    for a, b in same:
        assert space.canonical(a) == space.canonical(b), (a, b)
    different = [
        # a residual output of an inner node matters
        ("link=0,1,1,1;ops=gcn,skip,gat,sage", "link=0,1,1,1;ops=gcn,gat,sage,fc"),
        # output multiplicity matters: gat output three times vs once
        ("link=0,1,1,1;ops=gat,skip,skip,skip", "link=0,1,2,3;ops=gat,skip,skip,skip"),
        # output multiplicity matters: gat output twice vs once
        ("link=0,0,1,1;ops=gat,gcn,skip,skip", "link=0,0,1,1;ops=gat,gcn,skip,gcn"),
    ]
    for a, b in different:
        assert space.canonical(a) != space.canonical(b), (a, b)


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ("link=0,0,0,0;ops=gcn,gat,sag,skip", ["'sag'", "did you mean 'sage'", "gat, gcn, gin"]),
        ("link=0,2,0,0;ops=gcn,gat,sage,skip", ["node 2 reads 2", "0..1"]),
        ("link=0,0,0;ops=gcn,gat,sage,skip", ["3 entries", "expected 4"]),
        ("link=0,0,0,0;ops=gcn,gat,sage", ["3 ops", "expected 4"]),
        ("link=0,0,1,2;ops=skip,skip,skip,skip", ["only 'skip'"]),
        ("link=a,b,c,d;ops=gcn,gat,sage,skip", ["not a comma-separated list of integers"]),
        ("link=0,0,0,0", ["cannot parse"]),
        ("98888", ["not a NAS-Bench-Graph hash", "0..8"]),
        ("19999", ["not a NAS-Bench-Graph hash"]),
        ("18888", ["all-'skip'"]),
        ({"link": [0, 0, 0, 0]}, ["exactly the keys 'link' and 'ops'"]),
        (([0, 0, 0, 0], "gcn"), ["not a list of 4 op names"]),
        (30124, ["bare integer", "'30124'", "from_hash"]),
        (3.5, ["type float"]),
    ],
)
def test_invalid_messages(space, bad, words):
    with pytest.raises(InvalidArchitecture) as err:
        space.canonical(bad)
    for word in words:
        assert word in str(err.value), (word, str(err.value))


# ---- agreement with the reference implementation ---------------------------------------------
def test_hash_agrees_with_package_on_every_canonical_arch(space, reference_arch):
    ids = list(space.enumerate())
    assert len(ids) == len(set(ids)) == 26206
    hashes = []
    for arch in ids:
        link, ops = list(space.link_of(arch)), list(space.ops_of(arch))
        reference = reference_arch(link, ops)
        assert reference.valid_hash() == arch_hash(arch), arch
        hashes.append(arch_hash(arch))
    assert hashes == sorted(hashes)  # enumeration is in hash order


@pytest.mark.slow
def test_hash_agrees_with_package_on_every_layout(reference_arch):
    """All 24 link lists x 9^4 op lists (157,440 valid inputs), canonical or not."""
    links = list(itertools.product(*(range(i + 1) for i in range(4))))
    assert len(links) == 24
    count = 0
    for link in links:
        for ops in itertools.product(OPS, repeat=4):
            if set(ops) == {"skip"}:
                continue
            count += 1
            expected = reference_arch(list(link), list(ops)).valid_hash()
            assert arch_hash((link, ops)) == expected, (link, ops)
    assert count == 157440


# ---- enumeration, sampling, edits ------------------------------------------------------------
def test_enumeration_is_canonical(space):
    ids = list(space.enumerate())
    assert all(space.link_of(a) in LINKS for a in ids)
    assert all(space.canonical(a) == a for a in ids[::97])
    assert all(from_hash(arch_hash(a)) == a for a in ids[::97])


def test_sampling_is_seeded_and_spread(space):
    draws = [space.sample(seed) for seed in range(200)]
    assert draws == [space.sample(seed) for seed in range(200)]
    assert len(set(draws)) > 190
    assert {space.link_of(a) for a in draws} == set(LINKS)


def test_neighbours_are_one_edit_away(space):
    arch = "link=0,0,1,3;ops=gcn,gat,sage,fc"
    nbrs = space.neighbours(arch)
    assert len(nbrs) == len(set(nbrs)) == 4 * 8 + 8  # no symmetry, no skip: all distinct
    assert arch not in nbrs
    link, ops = space.link_of(arch), space.ops_of(arch)
    for n in nbrs[:32]:  # op edits first; without skips the layout is unchanged
        if "skip" not in space.ops_of(n):
            assert space.link_of(n) == link
            assert sum(a != b for a, b in zip(space.ops_of(n), ops)) == 1
    for seed in range(10):
        assert space.mutate(arch, seed) in nbrs


def test_neighbours_drop_duplicates_and_all_skip(space):
    arch = "link=0,1,2,3;ops=skip,skip,skip,gat"
    nbrs = space.neighbours(arch)
    assert arch not in nbrs and len(nbrs) == len(set(nbrs))
    assert all(set(space.ops_of(n)) != {"skip"} for n in nbrs)
    # every link pattern with ops skip,skip,skip,gat is this same network
    assert all(space.ops_of(n) != ("skip", "skip", "skip", "gat") for n in nbrs)


# ---- model -----------------------------------------------------------------------------------
def _params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_dataset_settings():
    assert dataset_setting(" Cora ") == DATASETS["cora"]
    with pytest.raises(UnknownNameError, match="did you mean 'pubmed'"):
        dataset_setting("pubmd")


@needs_package
def test_parameter_counts_match_the_table(space):
    """``para`` counts one unused BatchNorm (2 x hidden) per node reading the raw input."""
    import nasrank.benchmarks.nb_graph as nb_graph
    from nasrank._pickle import restricted_load

    cases = {
        "cora": [
            "link=0,0,0,0;ops=gat,gat,gat,gat",
            "link=0,1,2,3;ops=fc,gat,fc,gin",
            "link=0,1,1,2;ops=skip,arma,cheb,graph",
        ],
        "cs": ["link=0,0,1,3;ops=sage,gin,gcn,arma"],  # num_pre = 1: exact
        "proteins": ["link=0,1,2,2;ops=sage,arma,fc,skip"],
    }
    for dataset, archs in cases.items():
        with nb_graph.data_file(dataset).open("rb") as f:
            table = restricted_load(f)
        setting = DATASETS[dataset]
        for arch in archs:
            model = space.build(arch, dataset=dataset)
            unused_norms = 4 - len(model.norms)
            expected = round(table[arch_hash(arch)]["para"] * 1e6)
            assert _params(model) + 2 * setting.hidden * unused_norms == expected, (dataset, arch)
            if setting.num_pre:
                assert unused_norms == 0


def test_forward_on_a_graph_reaches_every_parameter(space):
    from torch_geometric.data import Data

    torch.manual_seed(0)
    x = torch.randn(12, 20)
    edge_index = torch.randint(0, 12, (2, 40))
    for arch in [
        "link=0,1,1,2;ops=skip,gat,gin,cheb",
        "link=0,0,1,2;ops=gcn,sage,arma,graph",
        "link=0,1,2,2;ops=fc,skip,skip,skip",
    ]:
        for num_pre in (0, 1):
            model = space.build(
                arch, num_classes=3, in_channels=20, hidden=16, num_pre=num_pre, dropout=0.1
            )
            out = model(x, edge_index)
            assert out.shape == (12, 3)
            out.sum().backward()
            # PyG's single-layer ARMAConv allocates a recurrent weight it never uses
            arma_unused = {
                f"ops.{i}.weight" for i, op in enumerate(space.ops_of(arch)) if op == "arma"
            }
            gradless = {n for n, p in model.named_parameters() if p.grad is None}
            assert gradless <= arma_unused, (arch, num_pre, gradless)
            model.eval()
            with torch.no_grad():
                assert torch.allclose(model(Data(x=x, edge_index=edge_index)), model(x, edge_index))


def test_forward_without_edges(space):
    model = space.build("link=0,0,0,0;ops=gat,gcn,cheb,arma", num_classes=5).eval()
    with torch.no_grad():
        out = model(torch.randn(3, *space.input_shape))
    assert out.shape == (3, 5) and torch.isfinite(out).all()


def test_gat_heads_must_divide_width(space):
    with pytest.raises(ValueError, match="divisible"):
        space.build("link=0,0,0,0;ops=gat,gcn,gcn,gcn", hidden=30, gat_heads=4)


def test_format_id_does_not_canonicalise():
    assert (
        format_id((0, 0, 0, 2), ("gcn", "gat", "fc", "skip")) == "link=0,0,0,2;ops=gcn,gat,fc,skip"
    )
