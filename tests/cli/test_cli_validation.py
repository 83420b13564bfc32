"""Bad input to build, train and encode: one line on stderr, exit 2, before any work,
nothing created or changed; a valid neighbouring input still works."""

from __future__ import annotations

import hashlib
import os

import pytest

from nasrank.cli import main

SKIP = "(0, 0, 0, 0, 0, 0)"  # all skip_connect: the cheapest NB-201 network
GRAPH_ARCH = "link=0,1,2,3;ops=gcn,cheb,fc,arma"

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _one_line_error(capsys, command: str) -> str:
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].strip(), err
    assert "Traceback" not in err
    assert lines[0].startswith(f"nasrank {command}: error: "), err
    return lines[0]


def _tree(folder) -> dict[str, str]:
    """Every path under ``folder`` with its content hash (folders: "dir")."""
    out = {}
    for root, dirs, files in os.walk(folder):
        for d in dirs:
            out[os.path.join(root, d)] = "dir"
        for f in files:
            path = os.path.join(root, f)
            with open(path, "rb") as fh:
                out[path] = hashlib.sha256(fh.read()).hexdigest()
    return out


@pytest.fixture
def no_work(monkeypatch):
    """Loading data or building the real model fails the test: checks come first."""
    import nasrank.cli.train as cli_train

    def forbidden(*args, **kwargs):
        raise AssertionError("expensive work started before the input was refused")

    monkeypatch.setattr(cli_train, "_load_data", forbidden)
    monkeypatch.setattr(cli_train, "_build_model", forbidden)


class _Reached(Exception):
    pass


# ---- build --input-size -------------------------------------------------------------------
@pytest.mark.parametrize(
    "size, fragment",
    [
        ("1", "the smallest side it takes is 3"),
        ("2", "too small for its downsampling"),
        ("5", "the nearest sides it takes are 4 and 6"),
        ("100000", "over the 4 GiB limit on one image's activations; sides up to about"),
        ("0", "--input-size must be >= 1, got 0"),
    ],
)
def test_build_refuses_input_sizes_the_network_cannot_take(size, fragment, tmp_path, capsys):
    out = tmp_path / "b.json"
    argv = ["build", "--space", "nb201", "--arch", SKIP, "--input-size", size]
    assert main([*argv, "--json", str(out)]) == 2
    err = _one_line_error(capsys, "build")
    assert fragment in err and (f"--input-size {size}:" in err or size == "0")
    assert list(tmp_path.iterdir()) == []


def test_build_takes_the_smallest_and_a_larger_fitting_size(capsys):
    for size in ("3", "4", "64"):
        assert main(["build", "--space", "nb201", "--arch", SKIP, "--input-size", size]) == 0
        assert f"3x{size}x{size}" in capsys.readouterr().out


def test_input_shape_check_is_exact_per_space_and_allocates_nothing():
    from nasrank.spaces import get_space
    from nasrank.training import InputShapeError
    from nasrank.training.probe import MAX_ACTIVATION_BYTES, check_input_shape

    nb101 = get_space("nb101")
    arch = nb101.sample(0)
    assert check_input_shape(nb101, arch, (3, 32, 32)) is None  # the default: not probed
    assert 0 < check_input_shape(nb101, arch, (3, 5, 5)) < MAX_ACTIVATION_BYTES
    with pytest.raises(InputShapeError, match="smallest side it takes is 4"):
        check_input_shape(nb101, arch, (3, 3, 3))
    with pytest.raises(InputShapeError, match="limit"):  # 48 GiB of input: refused unprobed
        check_input_shape(nb101, arch, (3, 2**16, 2**16))


# ---- train: data kind, space, sizes, checkpoint directory ------------------------------
def _train(*extra: str, space: str = "nb201", arch: str = SKIP) -> list[str]:
    return ["train", "--space", space, "--arch", arch, "--epochs", "1", *extra]


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (_train("--data", "tokens"), "space 'nb201' takes images"),
        (
            _train("--data", "synthetic", space="nbgraph", arch=GRAPH_ARCH),
            "spaces nb101, nb201, nb301, nbbert",
        ),
        (
            _train("--data", "synthetic", "--train-size", "99999999"),
            "exceeds the 349,525 samples synthetic may have",
        ),
        (
            _train("--data", "synthetic", "--test-size", "99999999"),
            "--test-size 99,999,999 exceeds the 349,525 samples",
        ),
        (
            _train("--data", "synthetic:3x8x8:4", "--train-size", "5592400", "--val-size", "6"),
            "ask for at most 5,592,405 in all",
        ),
        (_train("--data", "synthetic:3x1x1:4"), "the smallest side it takes is 3"),
        (_train("--data", "synthetic:3x33x33:4"), "nearest sides it takes are 32 and 36"),
    ],
)
def test_train_refuses_before_any_work(argv, fragment, tmp_path, capsys, no_work):
    paths = ["--checkpoint-dir", str(tmp_path / "ck"), "--json", str(tmp_path / "t.json")]
    assert main([*argv, *paths]) == 2
    assert fragment in _one_line_error(capsys, "train")
    assert list(tmp_path.iterdir()) == []


def test_train_refuses_a_language_model_space(tmp_path, capsys, no_work):
    from nasrank.spaces import get_space

    arch = get_space("nbnlp").sample(0)
    argv = _train("--data", "tokens", "--checkpoint-dir", str(tmp_path / "ck"), space="nbnlp")
    assert main([*argv, "--arch", arch]) == 2
    err = _one_line_error(capsys, "train")
    assert "logits per token" in err and "(batch, classes)" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
def test_train_refuses_an_unwritable_checkpoint_dir(capsys, no_work):
    assert main(_train("--data", "synthetic", "--checkpoint-dir", "/proc/ck")) == 2
    assert "/proc" in _one_line_error(capsys, "train")
    assert not os.path.exists("/proc/ck")


def test_checkpoint_dir_check_creates_nothing(tmp_path):
    from nasrank.training import TrainingError
    from nasrank.training.checkpoint import check_checkpoint_dir

    check_checkpoint_dir(tmp_path / "a" / "b")  # to be created under a writable folder
    (tmp_path / "file").write_text("x")
    with pytest.raises(TrainingError, match="not a directory"):
        check_checkpoint_dir(tmp_path / "file" / "ck")
    if os.path.isdir("/proc/self"):
        with pytest.raises(TrainingError, match="virtual file system"):
            check_checkpoint_dir("/proc/ck")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


@pytest.mark.parametrize(
    "spec, sizes",
    [
        # the most samples 3x8x8 synthetic data may have, train + val and test
        ("synthetic:3x8x8:4", ["--train-size", "5592400", "--val-size", "5", "--test-size", "5592405"]),
        ("synthetic:3x3x3:4", []),  # the smallest side NB-201's network takes
        ("synthetic:3x36x36:4", []),  # a side above the default that its layers fit
    ],
)  # fmt: skip
def test_train_accepts_the_neighbouring_valid_inputs(spec, sizes, tmp_path, monkeypatch):
    """Valid neighbours of the refused inputs, with a checkpoint folder still to be
    created, pass every check: the run gets as far as loading the data."""
    import nasrank.cli.train as cli_train

    def reached(args, parsed):
        raise _Reached(parsed.text)

    monkeypatch.setattr(cli_train, "_load_data", reached)
    ck = tmp_path / "new" / "ck"
    with pytest.raises(_Reached, match=spec):
        main(_train("--data", spec, *sizes, "--checkpoint-dir", str(ck)))
    assert not ck.exists()


# ---- encode --onnx ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_onnx(tmp_path_factory) -> bytes:
    pytest.importorskip("onnx")
    import warnings

    import torch

    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU())
    path = tmp_path_factory.mktemp("onnx") / "tiny.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(model, (torch.zeros(1, 3, 8, 8),), str(path), dynamo=False)
    return path.read_bytes()


def _zero_node_onnx() -> bytes:
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    return helper.make_model(helper.make_graph([], "empty", [x], [x])).SerializeToString()


@pytest.mark.parametrize(
    "name, content, fragment",
    [
        ("some.json", lambda tiny: b'{"graph": {"node": []}}\n', "it looks like JSON text"),
        ("empty.onnx", lambda tiny: b"", "is empty (0 bytes)"),
        ("junk.onnx", lambda tiny: bytes(range(256)) * 4, "truncated or corrupt"),
        ("truncated.onnx", lambda tiny: tiny[: len(tiny) // 2], "truncated or corrupt"),
        ("notes.onnx", lambda tiny: "résumé of the model\n".encode(), "it looks like text"),
        ("zero.onnx", lambda tiny: _zero_node_onnx(), "has no operator nodes"),
        ("missing.onnx", None, "not found"),
    ],
)
def test_encode_refuses_what_is_not_an_onnx_model(
    name, content, fragment, tiny_onnx, tmp_path, capsys
):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content(tiny_onnx))
    before = _tree(tmp_path)
    assert main(["encode", "--onnx", str(path), "--json", str(tmp_path / "e.json")]) == 2
    err = _one_line_error(capsys, "encode")
    assert fragment in err and name in err
    assert _tree(tmp_path) == before  # input bytes unchanged, nothing new


def test_encode_takes_a_real_tiny_onnx(tiny_onnx, tmp_path, capsys):
    path = tmp_path / "tiny.onnx"
    path.write_bytes(tiny_onnx)
    assert main(["encode", "--onnx", str(path), "--kind", "text"]) == 0
    assert "Conv" in capsys.readouterr().out
    assert path.read_bytes() == tiny_onnx


def test_from_onnx_raises_one_line_data_errors(tiny_onnx):
    from nasrank.encodings import OpGraph
    from nasrank.errors import DataError

    for data, fragment in (
        (b"", "is empty"),
        (b"[1, 2]", "JSON text"),
        (_zero_node_onnx(), "no operator nodes"),
    ):
        with pytest.raises(DataError, match=fragment) as info:
            OpGraph.from_onnx(data)
        assert "\n" not in str(info.value)
    assert OpGraph.from_onnx(tiny_onnx).num_nodes >= 3
