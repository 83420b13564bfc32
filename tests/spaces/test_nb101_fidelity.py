"""NAS-Bench-101 fidelity: isomorphic cells share one canonical id (benchmarks, pools,
deduplication), but every path that starts from a spelling builds that spelling's network,
whose channel split follows its vertex order (``NB101Space.network_id``)."""

from __future__ import annotations

import json
import sqlite3

import pytest

from nasrank.benchmarks.base import Benchmark
from nasrank.cli import main
from nasrank.complexity import count_params
from nasrank.spaces import get_space

C3, C1, MP = "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"

# input -> three interior vertices -> output, no other edge: every order of the three is
# the same cell, and all three feed the output, so they share its channels: 128 = 43+43+42,
# 256 = 86+85+85, 512 = 171+171+170 (the remainder to the first vertices).
FAN = [
    [0, 1, 1, 1, 0],
    [0, 0, 0, 0, 1],
    [0, 0, 0, 0, 1],
    [0, 0, 0, 0, 1],
    [0, 0, 0, 0, 0],
]
#: conv3x3 first: the canonical order (smallest labels), the cell nasbench trained.
TRAINED = {"matrix": FAN, "ops": ["input", C3, C1, MP, "output"]}
#: The same cell, conv3x3 last: it gets the narrow share.
REVERSED = {"matrix": FAN, "ops": ["input", MP, C1, C3, "output"]}
TRAINED_ID = "input,conv3x3-bn-relu,conv1x1-bn-relu,maxpool3x3,output|01110/00001/00001/00001/00000"
REVERSED_ID = (
    "input,maxpool3x3,conv1x1-bn-relu,conv3x3-bn-relu,output|01110/00001/00001/00001/00000"
)


def _fan_params(widths_c3: tuple[int, int, int], widths_c1: tuple[int, int, int]) -> int:
    """Parameters of the FAN network counted from the NB-101 rules by hand, given the
    widths of its conv3x3 and conv1x1 vertex in the three stacks.

    Stem: 3x3 conv 3->128 (no bias) + BN. Each cell: every interior vertex is fed by the
    cell input through a 1x1 conv-BN-ReLU projection c_in -> w, so the projections of a
    cell total (c_in + 2) * c_out whatever the split; conv3x3-bn-relu adds 9w^2 + 2w,
    conv1x1-bn-relu w^2 + 2w, maxpool nothing. Stacks of 3 cells with c_in/c_out
    128/128 x3, 128/256 + 256/256 x2, 256/512 + 512/512 x2. Linear 512 -> 10 with bias.
    """
    stem = 3 * 128 * 9 + 2 * 128
    projections = sum((c_in + 2) * c_out for c_in, c_out in [(128, 128)] * 3)
    projections += (128 + 2) * 256 + 2 * (256 + 2) * 256
    projections += (256 + 2) * 512 + 2 * (512 + 2) * 512
    ops = sum(3 * (9 * w3 * w3 + 2 * w3 + w1 * w1 + 2 * w1) for w3, w1 in zip(widths_c3, widths_c1))
    return stem + projections + ops + 512 * 10 + 10


# conv3x3 first takes 43/86/171, conv1x1 second 43/85/171; reversed, conv3x3 is third.
TRAINED_PARAMS = _fan_params((43, 86, 171), (43, 85, 171))
REVERSED_PARAMS = _fan_params((42, 85, 170), (43, 85, 171))


@pytest.fixture(scope="module")
def space():
    return get_space("nb101")


def _naslib(matrix: list[list[int]], ops: list[str]) -> str:
    """The 7-vertex NASLib tuple text: isolated vertices (pruned) padded before the output."""
    codes = {"input": 0, "output": 1, MP: 2, C1: 3, C3: 4}
    n = len(matrix)
    index = [*range(n - 1), 6]
    full = [[0] * 7 for _ in range(7)]
    for i in range(n):
        for j in range(n):
            full[index[i]][index[j]] = matrix[i][j]
    full_ops = [*ops[:-1], *[C1] * (7 - n), "output"]
    return str(tuple(b for row in full for b in row) + tuple(codes[o] for o in full_ops))


def test_hand_counts():
    assert (TRAINED_PARAMS, REVERSED_PARAMS) == (2_040_231, 2_024_094)


def test_each_spelling_builds_its_own_network(space):
    assert count_params(space.build(TRAINED)) == TRAINED_PARAMS
    assert count_params(space.build(REVERSED)) == REVERSED_PARAMS
    # both dedupe to one canonical id, the order nasbench trained
    assert space.canonical(TRAINED) == space.canonical(REVERSED) == TRAINED_ID
    assert count_params(space.build(TRAINED_ID)) == TRAINED_PARAMS


def test_network_ids(space):
    assert space.network_id(TRAINED) == TRAINED_ID
    assert space.network_id(REVERSED) == REVERSED_ID
    assert count_params(space.build(space.network_id(REVERSED))) == REVERSED_PARAMS
    for arch in (TRAINED_ID, REVERSED_ID):  # an id is its own network id
        assert space.network_id(arch) == arch
    # every spelling of one network shares its network id: dict, id text, NASLib tuple
    # with a pruned isolated vertex, JSON
    spellings = [
        REVERSED,
        REVERSED_ID,
        _naslib(FAN, REVERSED["ops"]),
        json.dumps(REVERSED),
    ]
    assert {space.network_id(s) for s in spellings} == {REVERSED_ID}
    assert {space.canonical(s) for s in spellings} == {TRAINED_ID}


def test_isomorphic_spellings_of_one_network_share_the_canonical_id(space):
    # Two vertices feeding the output split 128/256/512 evenly: the order does not matter,
    # so both spellings are the trained network, under the canonical id.
    matrix = [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]]
    a = {"matrix": matrix, "ops": ["input", C3, MP, "output"]}
    b = {"matrix": matrix, "ops": ["input", MP, C3, "output"]}
    assert space.network_id(a) == space.network_id(b) == space.canonical(b)
    assert count_params(space.build(a)) == count_params(space.build(b))


def test_samples_and_edits_are_their_own_network_ids(space):
    for seed in range(20):
        arch = space.sample(seed)
        assert space.network_id(arch) == arch
        child = space.mutate(arch, seed=seed)
        assert space.network_id(child) == child


def test_benchmark_lookup_of_a_network_id_finds_its_cell(space):
    bench = Benchmark(
        name="one", space="nb101", archs=[TRAINED_ID], values={"acc": [93.1]}, default_metric="acc"
    )
    assert bench.query(space.network_id(REVERSED)) == 93.1
    assert REVERSED_ID in bench


# ---- through the command line --------------------------------------------------------------
def test_cli_build_builds_the_spelled_network(tmp_path, capsys):
    out = tmp_path / "b.json"
    assert (
        main(
            [
                "build",
                "--space",
                "nb101",
                "--arch",
                _naslib(FAN, REVERSED["ops"]),
                "--json",
                str(out),
            ]
        )
        == 0
    )
    result = json.loads(out.read_text())
    assert result["params"] == REVERSED_PARAMS
    assert (result["arch"], result["canonical"]) == (REVERSED_ID, TRAINED_ID)
    assert "benchmark entry" in capsys.readouterr().out
    assert (
        main(["build", "--space", "nb101", "--arch", json.dumps(TRAINED), "--json", str(out)]) == 0
    )
    result = json.loads(out.read_text())
    assert result["params"] == TRAINED_PARAMS
    assert result["arch"] == result["canonical"] == TRAINED_ID
    assert "benchmark entry" not in capsys.readouterr().out


def _store_rows(path) -> dict[str, float]:
    with sqlite3.connect(path) as conn:
        return dict(conn.execute("SELECT arch, score FROM scores WHERE proxy = 'params'"))


def test_cli_score_stores_each_network_under_its_own_id(tmp_path):
    store, out = tmp_path / "s.sqlite", tmp_path / "s.json"
    base = ["score", "--space", "nb101", "--proxies", "params", "--store", str(store)]
    for arch, params in ((json.dumps(TRAINED), TRAINED_PARAMS), (REVERSED_ID, REVERSED_PARAMS)):
        assert main([*base, "--arch", arch, "--json", str(out)]) == 0
        result = json.loads(out.read_text())
        assert result["scores"]["params"] == pytest.approx(params / 1e6, abs=1e-6)
        assert result["from_store"] == []
    # another spelling of the reversed network is read back from its row
    assert main([*base, "--arch", _naslib(FAN, REVERSED["ops"]), "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["from_store"] == ["params"]
    assert result["scores"]["params"] == pytest.approx(REVERSED_PARAMS / 1e6, abs=1e-6)
    assert (result["arch"], result["canonical"]) == (REVERSED_ID, TRAINED_ID)
    rows = _store_rows(store)
    assert set(rows) == {TRAINED_ID, REVERSED_ID}


def test_score_space_file_pool_keeps_one_entry_per_cell(tmp_path):
    # the reversed spelling first, then the trained one: one cell, the first spelling built
    listing = tmp_path / "archs.txt"
    listing.write_text(f"{_naslib(FAN, REVERSED['ops'])}\n{json.dumps(TRAINED)}\n")
    store, out = tmp_path / "s.sqlite", tmp_path / "r.json"
    argv = [
        "score-space",
        "--space",
        "nb101",
        "--pool",
        f"file:{listing}",
        "--proxies",
        "params",
        "--store",
        str(store),
        "--threads",
        "1",
        "--json",
        str(out),
    ]
    assert main(argv) == 0
    assert json.loads(out.read_text())["archs_total"] == 1
    assert _store_rows(store) == {REVERSED_ID: pytest.approx(REVERSED_PARAMS / 1e6, abs=1e-6)}


# ---- NAS-Bench-Suite-Zero keys (../shared/data) ------------------------------------------------
@pytest.mark.data
def test_suite_zero_network_ids_build_the_stored_counts(space, shared_data):
    path = shared_data / "nas-bench-suite-zero" / "zc_nasbench101.json"
    records = json.loads(path.read_text())["nasbench101"]["cifar10"]
    variants = [k for k in records if space.network_id(k) != space.canonical(k)]
    assert len(variants) == 29  # keys whose vertex order splits channels unlike nasbench's
    for key in [*variants, *list(records)[::25]]:
        arch = space.network_id(key)
        assert space.canonical(arch) == space.canonical(key)
        assert count_params(space.build(arch)) / 1e6 == pytest.approx(
            records[key]["params"], abs=1e-6
        ), key
