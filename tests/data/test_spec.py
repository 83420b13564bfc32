"""Data spec strings as the command line takes them."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from nasrank.data import DATA_SOURCES, DataSpec, load_batch, load_dataset, parse_spec
from nasrank.errors import DataError, UnknownNameError
from tests.data import make_cifar10, make_cifar100, make_image_folder


def test_parse_forms():
    assert parse_spec("synthetic") == DataSpec("synthetic", "synthetic")
    spec = parse_spec("synthetic:1x28x28:7")
    assert spec.shape == (1, 28, 28) and spec.num_classes == 7
    assert parse_spec("synthetic:3x8x8").num_classes == 10
    assert parse_spec("cifar10:/data/c10").path == Path("/data/c10")
    assert parse_spec("images:C:\\data\\x").path == Path("C:\\data\\x")  # first ':' only
    assert parse_spec(" CIFAR100:~/c100 ").path == Path("~/c100").expanduser()
    assert set(DATA_SOURCES.names()) == {"cifar10", "cifar100", "images", "synthetic", "tokens", "graph"}


def test_unknown_scheme_lists_choices_and_closest():
    with pytest.raises(UnknownNameError, match="did you mean 'cifar10'.*choices: cifar10, "):
        parse_spec("cifar11:/data")
    with pytest.raises(KeyError):  # UnknownNameError is also a KeyError
        parse_spec("/data/cifar")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "empty data spec"),
        ("cifar10", "names no directory"),
        ("images:", "names no directory"),
        ("synthetic:3x32", "3x32' has 2 dimensions"),
        ("synthetic:3x32x32:0", "class count '0'"),
        ("synthetic:3x32x32:ten", "class count 'ten'"),
        ("synthetic:axbxc", "not CxHxW"),
        ("synthetic:3x0x4", "zero dimension"),
        ("synthetic:3x32x32:10:5", "3 fields"),
    ],
)
def test_bad_specs(spec, message):
    with pytest.raises(DataError, match=message):
        parse_spec(spec)


def test_load_batch_records_provenance_and_is_seeded(tmp_path):
    make_cifar10(tmp_path)
    spec = f"cifar10:{tmp_path}"
    batch = load_batch(spec, batch_size=8, seed=1)
    assert batch.source == f"{spec} split=train seed=1 n=8"
    assert batch.inputs.shape == (8, 3, 32, 32) and batch.num_classes == 10
    assert torch.equal(batch.inputs, load_batch(spec, 8, 1).inputs)
    assert not torch.equal(batch.inputs, load_batch(spec, 8, 2).inputs)
    test = load_batch(spec, 9, 0, split="test")
    assert test.source.endswith("split=test seed=0 n=9")


def test_load_batch_synthetic_default_and_shaped():
    batch = load_batch("synthetic", batch_size=4, seed=3)
    assert batch.inputs.shape == (4, 3, 32, 32) and batch.num_classes == 10
    assert batch.source == "synthetic split=train seed=3 n=4"
    shaped = load_batch("synthetic:1x5x5:2", 6)
    assert shaped.inputs.shape == (6, 1, 5, 5) and int(shaped.targets.max()) < 2


def test_load_dataset_all_schemes(tmp_path):
    make_cifar10(tmp_path / "c10")
    make_cifar100(tmp_path / "c100")
    make_image_folder(tmp_path / "img", {"a": 2, "b": 2}, size=(5, 5))
    assert len(load_dataset(f"cifar10:{tmp_path / 'c10'}", split="test")) == 9
    assert load_dataset(f"cifar100:{tmp_path / 'c100'}").num_classes == 100
    images = load_dataset(f"images:{tmp_path / 'img'}", image_size=3)
    assert images.sample_shape == (3, 3, 3) and images.source == f"images:{tmp_path / 'img'}"
    assert len(load_dataset("synthetic:3x4x4:2", synthetic_size=10)) == 10
    with pytest.raises(DataError, match="image_size applies to images: specs only"):
        load_dataset(f"cifar10:{tmp_path / 'c10'}", image_size=16)


def test_missing_directory_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_batch(f"cifar10:{tmp_path / 'nope'}")
    with pytest.raises(DataError, match="does not exist"):
        load_batch(f"images:{tmp_path / 'nope'}")


@pytest.mark.data
def test_shared_cifar10_mini_batch(shared_data):
    spec = f"cifar10:{shared_data / 'cifar10-mini'}"
    batch = load_batch(spec, batch_size=64, seed=0)
    assert batch.inputs.shape == (64, 3, 32, 32)
    assert abs(float(batch.inputs.mean())) < 0.3 and 0.7 < float(batch.inputs.std()) < 1.3
    assert torch.equal(batch.inputs, load_batch(spec, batch_size=64, seed=0).inputs)
