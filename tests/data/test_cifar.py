"""CIFAR python batches: reading, layout, label histogram and refusal of bad files."""

from __future__ import annotations

import os
import pickle
import shutil

import numpy as np
import pytest
import torch

from nasrank.data import (
    CIFAR10_MEAN,
    CIFAR10_STD,
    load_cifar10,
    load_cifar100,
    read_cifar_batch,
)
from nasrank.errors import DataError
from tests.data import CIFAR10_NAMES, make_cifar10, make_cifar100, py2_pickle


@pytest.fixture
def cifar10(tmp_path):
    return make_cifar10(tmp_path)


def test_reads_train_and_test_with_any_batch_sizes(cifar10, tmp_path):
    train = load_cifar10(tmp_path, "train")
    assert len(train) == 7 + 5 + 6 + 5 + 4
    assert train.sample_shape == (3, 32, 32)
    assert train.dtype == np.uint8
    assert train.classes == tuple(CIFAR10_NAMES)
    assert train.num_classes == 10
    assert train.split == "train"
    np.testing.assert_array_equal(train.read_images(), cifar10["train_x"])
    np.testing.assert_array_equal(train.labels, cifar10["train_y"])

    test = load_cifar10(tmp_path, "test")
    assert len(test) == 9
    np.testing.assert_array_equal(test.read_images(), cifar10["test_x"])

    both = load_cifar10(tmp_path, "all")
    assert len(both) == len(train) + len(test)
    assert both.split == "all"


def test_accepts_the_batches_folder_or_its_parent(cifar10, tmp_path):
    a = load_cifar10(tmp_path)
    b = load_cifar10(cifar10["folder"])
    np.testing.assert_array_equal(a.read_images(), b.read_images())


def test_pixel_layout_is_red_then_green_then_blue_row_major(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    row = np.zeros(3072, dtype=np.uint8)
    row[0] = 10  # red (0, 0)
    row[1] = 11  # red (0, 1)
    row[32] = 12  # red (1, 0)
    row[1024] = 20  # green (0, 0)
    row[2048 + 1023] = 30  # blue (31, 31)
    for name in ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5"):
        (folder / name).write_bytes(py2_pickle({"labels": [3], "data": row[None]}))
    (folder / "batches.meta").write_bytes(py2_pickle({"label_names": CIFAR10_NAMES}))
    image = load_cifar10(folder).read_images([0])[0]
    assert image[0, 0, 0] == 10 and image[0, 0, 1] == 11 and image[0, 1, 0] == 12
    assert image[1, 0, 0] == 20 and image[2, 31, 31] == 30


def test_label_histogram_counts_every_image(cifar10, tmp_path):
    histogram = load_cifar10(tmp_path, "all").label_histogram()
    expected = np.bincount(np.concatenate([cifar10["train_y"], cifar10["test_y"]]), minlength=10)
    assert list(histogram) == CIFAR10_NAMES
    assert list(histogram.values()) == expected.tolist()


def test_normalised_batches_use_the_cifar10_statistics(cifar10, tmp_path):
    data = load_cifar10(tmp_path)
    batch = data.batch([0, 1])
    raw = torch.from_numpy(cifar10["train_x"][:2]).float() / 255
    mean = torch.tensor(CIFAR10_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(CIFAR10_STD).view(1, 3, 1, 1)
    torch.testing.assert_close(batch.inputs, (raw - mean) / std)
    assert batch.targets.dtype == torch.int64
    plain = load_cifar10(tmp_path, normalize=False).batch([0, 1])
    torch.testing.assert_close(plain.inputs, raw)


def test_bytes_keys_are_accepted(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    x = np.zeros((2, 3072), dtype=np.uint8)
    for i in range(1, 6):
        batch = {b"batch_label": b"b", b"labels": [1, 2], b"data": x}
        (folder / f"data_batch_{i}").write_bytes(py2_pickle(batch, bytes_as_py3=True))
    meta = {b"label_names": [n.encode() for n in CIFAR10_NAMES]}
    (folder / "batches.meta").write_bytes(py2_pickle(meta, bytes_as_py3=True))
    data = load_cifar10(folder)
    assert len(data) == 10
    assert data.classes == tuple(CIFAR10_NAMES)


def test_truncated_batch_is_refused_naming_the_file(cifar10):
    path = cifar10["folder"] / "data_batch_3"
    content = path.read_bytes()
    path.write_bytes(content[: len(content) // 2])
    with pytest.raises(DataError, match="data_batch_3"):
        load_cifar10(cifar10["folder"])


def test_garbage_file_is_refused(cifar10):
    (cifar10["folder"] / "test_batch").write_bytes(b"not a pickle at all")
    with pytest.raises(DataError, match="test_batch.*corrupt"):
        load_cifar10(cifar10["folder"], "test")


class _Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_pickle_naming_a_forbidden_global_is_refused_and_never_run(cifar10, tmp_path):
    marker = tmp_path / "pwned"
    path = cifar10["folder"] / "data_batch_1"
    path.write_bytes(pickle.dumps({"data": _Exploit(marker), "labels": []}, protocol=2))
    with pytest.raises(DataError, match=r"data_batch_1.*refusing to load global .*system"):
        load_cifar10(cifar10["folder"])
    assert not marker.exists()
    with pytest.raises(DataError):
        read_cifar_batch(path)


def test_wrong_data_shape_is_refused(cifar10):
    bad = {"labels": [0, 1], "data": np.zeros((2, 1024), dtype=np.uint8)}
    (cifar10["folder"] / "data_batch_2").write_bytes(py2_pickle(bad))
    with pytest.raises(DataError, match=r"data_batch_2.*\(N, 3072\).*\(2, 1024\)"):
        load_cifar10(cifar10["folder"])


def test_wrong_dtype_and_label_count_are_refused(cifar10):
    folder = cifar10["folder"]
    bad = {"labels": [0, 1], "data": np.zeros((2, 3072), dtype=np.int64)}
    (folder / "data_batch_2").write_bytes(py2_pickle(bad))
    with pytest.raises(DataError, match="uint8"):
        load_cifar10(folder)
    bad = {"labels": [0], "data": np.zeros((2, 3072), dtype=np.uint8)}
    (folder / "data_batch_2").write_bytes(py2_pickle(bad))
    with pytest.raises(DataError, match="one label per image"):
        load_cifar10(folder)


def test_label_out_of_range_is_refused(cifar10):
    bad = {"labels": [0, 10], "data": np.zeros((2, 3072), dtype=np.uint8)}
    (cifar10["folder"] / "data_batch_4").write_bytes(py2_pickle(bad))
    with pytest.raises(DataError, match=r"data_batch_4.*label 10"):
        load_cifar10(cifar10["folder"])


def test_missing_files_are_named(cifar10, tmp_path):
    (cifar10["folder"] / "data_batch_3").unlink()
    with pytest.raises(DataError, match="missing CIFAR file .*data_batch_3"):
        load_cifar10(tmp_path)
    assert len(load_cifar10(tmp_path, "test")) == 9  # the test split is still complete
    (cifar10["folder"] / "batches.meta").unlink()
    with pytest.raises(DataError, match="batches.meta"):
        load_cifar10(tmp_path, "test")


def test_missing_or_empty_directory(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_cifar10(tmp_path / "nowhere")
    with pytest.raises(DataError, match="holds no CIFAR python batches"):
        load_cifar10(tmp_path)


def test_unknown_split(cifar10):
    with pytest.raises(DataError, match="unknown CIFAR split 'valid'"):
        load_cifar10(cifar10["folder"], "valid")  # type: ignore[arg-type]


def test_cifar100_fine_and_coarse(tmp_path):
    folder = make_cifar100(tmp_path)
    fine = load_cifar100(tmp_path)
    assert len(fine) == 12 and fine.num_classes == 100
    assert fine.classes[7] == "fine_07"
    coarse = load_cifar100(folder, "test", label_type="coarse")
    assert len(coarse) == 5 and coarse.num_classes == 20
    np.testing.assert_array_equal(load_cifar100(folder, "test").labels // 5, coarse.labels)
    assert len(load_cifar100(folder, "all")) == 17


def test_cifar100_missing_meta(tmp_path):
    folder = make_cifar100(tmp_path)
    (folder / "meta").unlink()
    with pytest.raises(DataError, match="meta"):
        load_cifar100(folder)


@pytest.mark.data
def test_shared_cifar10_mini(shared_data, tmp_path):
    root = shared_data / "cifar10-mini"
    train, test = load_cifar10(root, "train"), load_cifar10(root, "test")
    assert (len(train), len(test)) == (4660, 846)
    histogram = load_cifar10(root, "all").label_histogram()
    assert sum(histogram.values()) == 5506
    assert list(histogram) == CIFAR10_NAMES
    assert min(histogram.values()) > 400  # roughly balanced
    # statistics of the real images are close to the published constants
    x = train.read_images().astype(np.float64) / 255
    np.testing.assert_allclose(x.mean(axis=(0, 2, 3)), CIFAR10_MEAN, atol=0.01)
    np.testing.assert_allclose(x.std(axis=(0, 2, 3)), CIFAR10_STD, atol=0.01)
    # and a copy with a truncated file is refused
    copy = tmp_path / "cifar-10-batches-py"
    shutil.copytree(root / "cifar-10-batches-py", copy)
    content = (copy / "data_batch_5").read_bytes()
    (copy / "data_batch_5").write_bytes(content[:1000])
    with pytest.raises(DataError, match="data_batch_5"):
        load_cifar10(copy)
