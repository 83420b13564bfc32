"""TransNAS-Bench-101 micro and macro spaces: ids, edits, task-bound spaces, networks
(parameter counts worked out by hand from the benchmark's layer definitions) and the
Suite-Zero loader for TNB tasks."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from nasrank.benchmarks import load_benchmark
from nasrank.complexity import count_params
from nasrank.errors import DataError, InvalidArchitecture, UnknownNameError
from nasrank.spaces import get_space

MICRO, MACRO = get_space("tnb101-micro"), get_space("tnb101-macro")

# Hand counts. Stem: conv3x3 3->32 (864) + BN (64) + conv3x3 32->64 (18,432) + BN (128).
STEM = 19_488
# A factorised reduction C -> 2C: two 1x1 convs C -> C (2 C^2) + BN of 2C (4C); the
# micro skeleton 64-41414 reduces at 64, 128 and 256 channels.
FR_PER_INPUT_EDGE = sum(2 * c * c + 4 * c for c in (64, 128, 256))  # 173,824


def _linear(i, o):
    return i * o + o


@pytest.mark.parametrize(
    "spelling",
    ["64-41414-1_00_210", (1, 0, 0, 2, 1, 0), [1, 0, 0, 2, 1, 0], "(1, 0, 0, 2, 1, 0)",
     np.array([1, 0, 0, 2, 1, 0]), " 64-41414-1_00_210 "],
)  # fmt: skip
def test_micro_spellings_are_one_id(spelling):
    assert MICRO.canonical(spelling) == "64-41414-1_00_210"


@pytest.mark.parametrize(
    "spelling", ["64-1242-basic", (1, 2, 4, 2, 0, 0), "(1, 2, 4, 2, 0, 0)", [1, 2, 4, 2]]
)
def test_macro_spellings_are_one_id(spelling):
    assert MACRO.canonical(spelling) == "64-1242-basic"


@pytest.mark.parametrize(
    "space, bad, match",
    [(MICRO, "64-41414-4_00_000", "op digits 0 zero"), (MICRO, (1, 2, 3), "6 op digits"),
     (MICRO, "64-4141-1_00_210", "64-41414-a_bc_def"), (MICRO, 3.5, "cannot interpret"),
     (MACRO, "64-1111-basic", "0 channel doublings"), (MACRO, "64-333333-basic", "0 channel"),
     (MACRO, (1, 0, 2, 4, 0, 0), "4-6 layer codes"), (MACRO, "64-123-basic", "64-<4 to 6"),
     (MACRO, "64-2444-basic", "4 channel doublings")],
)  # fmt: skip
def test_invalid_architectures_say_what_is_expected(space, bad, match):
    with pytest.raises(InvalidArchitecture, match=match):
        space.canonical(bad)


def test_enumeration_sizes_and_index_codecs():
    for space, size in ((MICRO, 4096), (MACRO, 3256)):
        archs = list(space.enumerate())
        assert len(archs) == len(set(archs)) == space.size == size
        assert all(space.canonical(a) == a for a in archs[::97])
        codec = space.index_codec
        assert [codec.to_index(a) for a in archs[::50]] == list(range(0, size, 50))
        assert codec.to_arch(size - 1) == archs[-1]


def test_macro_space_is_every_skeleton_with_1_3_doublings_and_1_4_downsamplings():
    codes = [MACRO.codes_of(a) for a in MACRO.enumerate()]
    assert {len(c) for c in codes} == {4, 5, 6}
    assert {sum(x in (2, 4) for x in c) for c in codes} == {1, 2, 3}
    assert {sum(x in (3, 4) for x in c) for c in codes} == {1, 2, 3, 4}


@pytest.mark.parametrize("space", [MICRO, MACRO], ids=["micro", "macro"])
def test_neighbours_and_mutations_stay_in_the_space(space):
    arch = space.sample(3)
    near = space.neighbours(arch)
    assert near and arch not in near and len(near) == len(set(near))
    for other in near[:8]:
        assert space.canonical(other) == other and arch in space.neighbours(other)
    assert all(space.mutate(arch, seed) in near for seed in range(10))


def test_micro_neighbours_change_one_edge():
    near = MICRO.neighbours("64-41414-3_33_333")
    assert len(near) == 18 and "64-41414-0_33_333" in near and "64-41414-3_33_332" in near


def test_task_bound_spaces():
    jigsaw = get_space("tnb101-micro:jigsaw")
    assert jigsaw.name == "tnb101-micro:jigsaw" and jigsaw.task == "jigsaw"
    assert jigsaw.default_data == "synthetic:3x192x192:1000"
    assert get_space("tnb101-macro", task="segmentsemantic").name == "tnb101-macro:segmentsemantic"
    assert MICRO.name == "tnb101-micro:class_object"
    assert get_space("nb201", task="cifar100").name == "nb201"  # a benchmark task only
    with pytest.raises(UnknownNameError, match="did you mean 'jigsaw'"):
        get_space("tnb101-micro:jigsw")
    with pytest.raises(UnknownNameError, match="has no tasks"):
        get_space("nb201:cifar100")


def test_micro_parameter_counts_by_hand():
    object_head = _linear(512, 100)
    assert count_params(MICRO.build("64-41414-0_00_000")) == STEM + object_head
    skips = STEM + 3 * FR_PER_INPUT_EDGE + object_head  # edges a, b, d leave the input
    assert count_params(MICRO.build("64-41414-1_11_111")) == skips
    jigsaw = get_space("tnb101-micro:jigsaw").build("64-41414-1_11_111")
    assert count_params(jigsaw) == STEM + 3 * FR_PER_INPUT_EDGE + _linear(9 * 512, 1000)
    # one conv1x1 on edge c (node 1 -> node 2): ten cells at 128,128,128,128,256,...,512
    widths = (128, 128, 128, 128, 256, 256, 256, 256, 512, 512)
    conv1x1 = sum(c * c + 2 * c for c in widths)
    assert count_params(MICRO.build("64-41414-0_02_000")) == STEM + conv1x1 + object_head


def test_macro_parameter_count_by_hand():
    conv = lambda i, o: 9 * i * o + 2 * o  # noqa: E731  ReLU-conv3x3-BN
    short = lambda i, o: i * o + 2 * o  # noqa: E731  1x1 conv + BN shortcut
    # 64-2333: layer 2 (64->128, stride 1), then three layers 3 (128, stride 2)
    first = conv(64, 128) + conv(128, 128) + short(64, 128) + 2 * conv(128, 128)
    down = 2 * conv(128, 128) + short(128, 128) + 2 * conv(128, 128)
    expected = STEM + first + 3 * down + _linear(128, 100)
    assert expected == 2_380_420
    assert count_params(MACRO.build("64-2333-basic")) == expected


def test_task_networks_take_their_default_inputs():
    for task, shape in (("class_scene", (2, 63)), ("jigsaw", (2, 1000)),
                        ("segmentsemantic", (2, 17, 256, 256))):  # fmt: skip
        space = get_space(f"tnb101-macro:{task}")
        net = space.build("64-4343-basic").eval()
        with torch.no_grad():
            out = net(torch.randn(2, *space.input_shape))
        assert tuple(out.shape) == shape and torch.isfinite(out).all()


def _suite_zero_file(tmp_path, keys, tasks=("class_scene", "jigsaw")):
    data = {
        task: {
            str(k): {"idx": str(i), "arch": str(k), "val_accuracy": 10.0 + i,
                     "params": {"score": 1.0, "time": 0.1}, "synflow": {"score": i, "time": 0}}
            for i, k in enumerate(keys)
        }
        for task in tasks
    }  # fmt: skip
    path = tmp_path / "zc_tnb.json"
    path.write_text(json.dumps(data))
    return path


def test_suite_zero_tnb_tasks_are_task_bound_spaces(tmp_path):
    path = _suite_zero_file(tmp_path, [(1, 0, 0, 2, 1, 0), (3, 3, 3, 3, 3, 3)])
    bench = load_benchmark(f"suite-zero:{path}", task="jigsaw")
    assert bench.space == "tnb101-micro:jigsaw"
    assert bench.archs() == ["64-41414-1_00_210", "64-41414-3_33_333"]
    assert bench.optimum() == ("64-41414-3_33_333", 11.0) and bench.higher_is_better()
    same = load_benchmark(f"suite-zero:{path}", task="jigsaw", space="tnb101-micro")
    assert same.space == "tnb101-micro:jigsaw"
    with pytest.raises(DataError, match="is space 'tnb101-micro:jigsaw'"):
        load_benchmark(f"suite-zero:{path}", task="jigsaw", space="tnb101-micro:class_scene")


def test_suite_zero_tnb_macro_is_told_from_its_codes(tmp_path):
    path = _suite_zero_file(tmp_path, [(1, 2, 4, 2, 0, 0), (4, 1, 3, 3, 3, 1)])
    bench = load_benchmark(f"suite-zero:{path}", task="class_scene")
    assert bench.space == "tnb101-macro:class_scene"
    assert bench.archs() == ["64-1242-basic", "64-413331-basic"]


def test_suite_zero_tnb_ambiguous_keys_need_the_space(tmp_path):
    path = _suite_zero_file(tmp_path, [(1, 2, 3, 2, 1, 1)])
    with pytest.raises(DataError, match="micro or macro"):
        load_benchmark(f"suite-zero:{path}", task="class_scene")
    bench = load_benchmark(f"suite-zero:{path}", task="class_scene", space="tnb101-macro")
    assert bench.archs() == ["64-123211-basic"]


def test_the_class_defaults_are_the_default_tasks():
    assert type(MICRO).default_data == MICRO.default_data == "synthetic:3x256x256:100"
    assert type(MACRO).input_shape == MACRO.input_shape == (3, 256, 256)


def test_build_through_the_cli(tmp_path, capsys):
    from nasrank.cli import main

    out = tmp_path / "b.json"
    argv = ["build", "--space", "tnb101-micro:jigsaw", "--arch", "(1, 1, 1, 1, 1, 1)"]
    assert main([*argv, "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["arch"] == "64-41414-1_11_111" and result["input_shape"] == [3, 192, 192]
    assert result["params"] == STEM + 3 * FR_PER_INPUT_EDGE + _linear(9 * 512, 1000)
    capsys.readouterr()
    assert main(["build", "--space", "tnb101-micro:jigsw", "--arch", "(1, 1, 1, 1, 1, 1)"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "did you mean 'jigsaw'" in err


def test_search_binds_the_task_of_the_benchmark(tmp_path, monkeypatch):
    from nasrank.cli import main

    monkeypatch.setenv("NASRANK_PROGRESS", "0")
    keys = [MICRO.digits_of(a) for a in list(MICRO.enumerate())[::41]]
    path = _suite_zero_file(tmp_path, keys)
    out = tmp_path / "s.json"
    argv = ["search", "--space", "tnb101-micro", "--benchmark", f"suite-zero:{path}",
            "--task", "jigsaw", "--method", "random", "--budget", "5", "--seeds", "0..1",
            "--json", str(out)]  # fmt: skip
    assert main(argv) == 0
    result = json.loads(out.read_text())
    assert result["config"]["space"] == "tnb101-micro:jigsaw"
    assert result["optimum"]["value"] == 10.0 + len(keys) - 1
