"""Image folders: lazy indexing, splits, decoding, resizing and refusal of bad folders."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from nasrank.data import IMAGENET_MEAN, IMAGENET_STD, index_image_folder, load_image_folder
from nasrank.errors import DataError
from tests.data import make_image_folder


def test_index_sorts_classes_and_files(tmp_path):
    make_image_folder(tmp_path, {"zebra": 2, "ant": 3, "moth": 1})
    paths, labels, classes = index_image_folder(tmp_path)
    assert classes == ("ant", "moth", "zebra")
    assert labels.tolist() == [0, 0, 0, 1, 2, 2]
    assert [p.rsplit("/", 2)[-2] for p in paths] == ["ant"] * 3 + ["moth"] + ["zebra"] * 2
    assert paths == sorted(paths)


def test_single_split_decodes_exact_png_pixels(tmp_path):
    pixels = make_image_folder(tmp_path, {"cat": 2, "dog": 3}, size=(8, 6))
    data = load_image_folder(tmp_path, normalize=False)
    assert data.is_lazy and len(data) == 5
    assert data.sample_shape == (3, 8, 6)
    assert data.classes == ("cat", "dog")
    assert data.label_histogram() == {"cat": 2, "dog": 3}
    images = data.read_images()
    np.testing.assert_array_equal(images[0], pixels["cat"][0])
    np.testing.assert_array_equal(images[4], pixels["dog"][2])
    batch = data.batch([4])
    torch.testing.assert_close(batch.inputs[0], torch.from_numpy(pixels["dog"][2]).float() / 255)
    assert batch.targets.tolist() == [1]


def test_default_normalisation_is_imagenet(tmp_path):
    pixels = make_image_folder(tmp_path, {"a": 1, "b": 1})
    data = load_image_folder(tmp_path)
    assert data.mean == IMAGENET_MEAN and data.std == IMAGENET_STD
    x = torch.from_numpy(pixels["a"][0]).float() / 255
    expected = (x - torch.tensor(IMAGENET_MEAN).view(3, 1, 1)) / torch.tensor(IMAGENET_STD).view(
        3, 1, 1
    )
    torch.testing.assert_close(data.batch([0]).inputs[0], expected)


def test_train_and_test_subfolders_are_splits(tmp_path):
    make_image_folder(tmp_path / "train", {"a": 3, "b": 2})
    make_image_folder(tmp_path / "test", {"a": 1, "b": 1}, seed=1)
    train = load_image_folder(tmp_path, "train")
    test = load_image_folder(tmp_path, "test")
    assert (len(train), len(test)) == (5, 2)
    assert train.split == "train" and test.split == "test"
    both = load_image_folder(tmp_path, "all")
    assert len(both) == 7 and both.label_histogram() == {"a": 4, "b": 3}
    with pytest.raises(DataError, match="no split 'val'"):
        load_image_folder(tmp_path, "val")


def test_single_split_folder_has_no_test_split(tmp_path):
    make_image_folder(tmp_path, {"a": 1})
    with pytest.raises(DataError, match="single split"):
        load_image_folder(tmp_path, "test")


def test_jpeg_grayscale_and_rgba_images_become_rgb(tmp_path):
    (tmp_path / "gray").mkdir()
    (tmp_path / "rgba").mkdir()
    (tmp_path / "jpeg").mkdir()
    Image.new("L", (5, 4), 77).save(tmp_path / "gray" / "g.png")
    Image.new("RGBA", (5, 4), (1, 2, 3, 4)).save(tmp_path / "rgba" / "r.PNG")
    Image.new("RGB", (5, 4), (200, 100, 50)).save(tmp_path / "jpeg" / "j.jpg", quality=95)
    (tmp_path / "jpeg" / "notes.txt").write_text("not an image")
    data = load_image_folder(tmp_path, normalize=False)
    assert len(data) == 3
    images = data.read_images()
    assert images.shape == (3, 3, 4, 5)
    assert (images[0] == 77).all()  # gray -> (77, 77, 77)
    assert np.abs(images[1].astype(int) - np.array([200, 100, 50])[:, None, None]).max() <= 3
    assert images[2][:, 0, 0].tolist() == [1, 2, 3]


def test_mixed_sizes_fail_clearly_unless_resized(tmp_path):
    make_image_folder(tmp_path, {"a": 2}, size=(8, 8))
    make_image_folder(tmp_path, {"b": 1}, size=(10, 12))
    data = load_image_folder(tmp_path)
    with pytest.raises(DataError, match=r"b/0000.png is 12x10 .* 8x8.*image_size"):
        data.read_images()
    resized = load_image_folder(tmp_path, image_size=(6, 7))
    assert resized.sample_shape == (3, 6, 7)
    assert resized.read_images().shape == (3, 3, 6, 7)
    assert load_image_folder(tmp_path, image_size=4).batch().inputs.shape == (3, 3, 4, 4)


def test_bad_image_size_argument(tmp_path):
    make_image_folder(tmp_path, {"a": 1})
    for bad in (0, (4,), "32", (4.0, 4)):
        with pytest.raises(DataError, match="image_size"):
            load_image_folder(tmp_path, image_size=bad)


def test_unreadable_image_is_named(tmp_path):
    make_image_folder(tmp_path, {"a": 2})
    (tmp_path / "a" / "0001.png").write_bytes(b"\x89PNG broken")
    data = load_image_folder(tmp_path)
    with pytest.raises(DataError, match=r"cannot read image .*0001.png"):
        data.materialize()
    (tmp_path / "a" / "0000.png").write_bytes(b"garbage")
    with pytest.raises(DataError, match=r"cannot read image .*0000.png"):
        load_image_folder(tmp_path)  # the first image is opened to learn the size


def test_empty_and_missing_folders(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_image_folder(tmp_path / "missing")
    with pytest.raises(DataError, match="no class sub-folders"):
        load_image_folder(tmp_path)
    (tmp_path / "cls").mkdir()
    (tmp_path / "cls" / "readme.txt").write_text("x")
    with pytest.raises(DataError, match=r"class folder .*cls holds no images"):
        load_image_folder(tmp_path)


def test_loose_images_without_class_folders(tmp_path):
    Image.new("RGB", (4, 4)).save(tmp_path / "x.png")
    with pytest.raises(DataError, match="found 1 images directly in it but no class sub-folders"):
        load_image_folder(tmp_path)


def test_threaded_decoding_matches_serial_and_materialize(tmp_path):
    make_image_folder(tmp_path, {"a": 40, "b": 40}, size=(4, 4))
    data = load_image_folder(tmp_path)
    serial = data.read_images(num_workers=1)
    threaded = data.read_images(num_workers=2)
    np.testing.assert_array_equal(serial, threaded)
    memory = data.materialize(num_workers=2)
    assert not memory.is_lazy
    np.testing.assert_array_equal(memory.read_images(), serial)
    torch.testing.assert_close(memory.sample_batch(8, 3).inputs, data.sample_batch(8, 3).inputs)


def test_subset_of_lazy_dataset_keeps_files(tmp_path):
    make_image_folder(tmp_path, {"a": 3, "b": 3})
    data = load_image_folder(tmp_path)
    sub = data.subset([5, 0])
    assert sub.is_lazy and sub.files == [data.files[5], data.files[0]]
    assert sub.labels.tolist() == [1, 0]
