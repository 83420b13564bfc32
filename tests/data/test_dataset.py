"""The common dataset type: normalisation, seeded sampling, epochs, subsets, user tensors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nasrank.data import Batch, ImageDataset, concat_datasets, from_tensors
from nasrank.errors import DataError


def _images(n: int = 20, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, 3, 4, 4), dtype=np.uint8)


@pytest.fixture
def data() -> ImageDataset:
    labels = np.arange(20) % 4
    return ImageDataset(
        _images(),
        labels,
        classes=["a", "b", "c", "d"],
        source="test",
        mean=(0.5,) * 3,
        std=(0.25,) * 3,
    )


def test_normalisation_scales_then_standardises(data):
    batch = data.batch([3])
    raw = torch.from_numpy(data.read_images([3])).float() / 255
    torch.testing.assert_close(batch.inputs, (raw - 0.5) / 0.25)
    assert batch.inputs.dtype == torch.float32
    plain = data.with_normalization(None, None).batch([3])
    torch.testing.assert_close(plain.inputs, raw)


def test_sample_batch_is_deterministic_per_seed(data):
    a, b = data.sample_batch(8, seed=0), data.sample_batch(8, seed=0)
    assert isinstance(a, Batch) and len(a) == 8
    assert torch.equal(a.inputs, b.inputs) and torch.equal(a.targets, b.targets)
    c = data.sample_batch(8, seed=1)
    assert not torch.equal(a.inputs, c.inputs)
    assert a.num_classes == 4
    assert a.source == "test split=train seed=0 n=8"
    # without replacement: no sample twice
    assert len({row.numpy().tobytes() for row in a.inputs}) == 8


def test_sample_batch_size_limits(data):
    with pytest.raises(DataError, match="batch_size 21 exceeds the 20 samples.*replace=True"):
        data.sample_batch(21)
    assert len(data.sample_batch(50, seed=0, replace=True)) == 50
    for bad in (0, -1, 2.5, True):
        with pytest.raises(DataError, match="batch_size must be a positive integer"):
            data.sample_batch(bad)


def test_iter_batches_visits_every_sample_once(data):
    batches = list(data.iter_batches(6, seed=3))
    assert [len(b) for b in batches] == [6, 6, 6, 2]
    assert data.num_batches(6) == 4 and data.num_batches(6, drop_last=True) == 3
    seen = torch.cat([b.inputs for b in batches])
    assert seen.shape[0] == 20
    assert sorted(r.numpy().tobytes() for r in seen) == sorted(
        r.numpy().tobytes() for r in data.batch().inputs
    )
    again = list(data.iter_batches(6, seed=3))
    assert all(torch.equal(x.inputs, y.inputs) for x, y in zip(batches, again, strict=True))
    other = list(data.iter_batches(6, seed=4))
    assert not torch.equal(batches[0].inputs, other[0].inputs)
    assert "batch=1" in batches[1].source


def test_iter_batches_drop_last_and_no_shuffle(data):
    assert [len(b) for b in data.iter_batches(6, drop_last=True)] == [6, 6, 6]
    ordered = list(data.iter_batches(5, shuffle=False))
    torch.testing.assert_close(ordered[0].inputs, data.batch([0, 1, 2, 3, 4]).inputs)
    with pytest.raises(DataError, match="drop_last"):
        data.iter_batches(30, drop_last=True)


def test_take_first_random_and_stratified(data):
    first = data.take(5)
    assert first.labels.tolist() == [0, 1, 2, 3, 0]
    assert "first 5" in first.source
    random = data.take(5, seed=1)
    assert len(random) == 5 and "random 5 seed=1" in random.source
    assert not np.array_equal(random.read_images(), first.read_images())
    np.testing.assert_array_equal(data.take(5, seed=1).read_images(), random.read_images())
    strat = data.take(8, seed=0, stratified=True)
    assert strat.label_histogram() == {"a": 2, "b": 2, "c": 2, "d": 2}
    assert len(data.take(100)) == 20
    with pytest.raises(DataError, match="needs a seed"):
        data.take(4, stratified=True)
    with pytest.raises(DataError, match="n must be a positive integer"):
        data.take(0)


def test_subset_and_index_errors(data):
    sub = data.subset([2, -1])
    np.testing.assert_array_equal(sub.read_images(), data.read_images([2, 19]))
    assert sub.classes == data.classes and sub.mean == data.mean
    with pytest.raises(DataError, match="index 20 is out of range"):
        data.subset([20])
    with pytest.raises(DataError, match="at least one index"):
        data.subset([])


def test_getitem_works_with_a_torch_dataloader(data):
    x, y = data[5]
    assert x.shape == (3, 4, 4) and y == 1
    loader = torch.utils.data.DataLoader(data, batch_size=7)
    xs, ys = next(iter(loader))
    torch.testing.assert_close(xs, data.batch(range(7)).inputs)
    assert ys.tolist() == data.labels[:7].tolist()


def test_label_histogram_and_read_only_labels(data):
    assert data.label_histogram() == {"a": 5, "b": 5, "c": 5, "d": 5}
    with pytest.raises(ValueError):
        data.labels[0] = 3


def test_constructor_validation():
    with pytest.raises(DataError, match="empty"):
        ImageDataset(np.zeros((0, 3, 2, 2), np.uint8))
    with pytest.raises(DataError, match="out of range"):
        ImageDataset(_images(3), [0, 1, 2], classes=["a", "b"])
    with pytest.raises(DataError, match="one per channel"):
        ImageDataset(_images(3), mean=(0.5,), std=(0.5,))
    with pytest.raises(DataError, match="both mean and std"):
        ImageDataset(_images(3), mean=(0.5,) * 3)


def test_concat_requires_matching_datasets(data):
    both = concat_datasets([data, data.take(3)])
    assert len(both) == 23 and both.split == "all"
    other = ImageDataset(_images(2), [0, 1], classes=["x", "y"])
    with pytest.raises(DataError, match="cannot concatenate"):
        concat_datasets([data, other])


# ---------------------------------------------------------------- from_tensors
def test_from_tensors_float_images_are_used_as_given():
    x = torch.randn(6, 3, 5, 5, dtype=torch.float64)
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    data = from_tensors(x, y)
    assert data.num_classes == 3 and data.classes == ("0", "1", "2")
    batch = data.sample_batch(6, seed=0)
    assert batch.inputs.dtype == torch.float32
    torch.testing.assert_close(data.batch().inputs, x.float())
    assert batch.targets.dtype == torch.int64


def test_from_tensors_uint8_and_tokens_and_unlabelled():
    images = torch.randint(0, 256, (4, 1, 3, 3), dtype=torch.uint8)
    data = from_tensors(images, [0, 1, 0, 1], num_classes=5, mean=(0.5,), std=(0.5,))
    torch.testing.assert_close(data.batch().inputs, (images.float() / 255 - 0.5) / 0.5)
    assert data.num_classes == 5
    tokens = from_tensors(torch.randint(0, 100, (4, 7)))
    batch = tokens.sample_batch(2, seed=0)
    assert batch.inputs.dtype == torch.int64 and batch.targets is None
    assert batch.num_classes is None


def test_from_tensors_label_out_of_range():
    x = torch.randn(3, 2)
    with pytest.raises(DataError, match=r"label 4 is out of range.*\[0, 3\]"):
        from_tensors(x, torch.tensor([0, 4, 1]), num_classes=4)
    with pytest.raises(DataError, match="label -1 is out of range"):
        from_tensors(x, torch.tensor([0, -1, 1]), num_classes=4)
    with pytest.raises(DataError, match="negative"):
        from_tensors(x, torch.tensor([0, -1, 1]))


@pytest.mark.parametrize(
    ("x", "y", "message"),
    [
        (torch.randn(4), None, "shape \\(N, ...\\)"),
        (torch.randn(0, 3), None, "empty"),
        (torch.randn(3, 2), torch.tensor([0.0, 1.0, 1.0]), "integer class indices.*y.long"),
        (torch.randn(3, 2), torch.tensor([[0], [1], [1]]), "shape \\(N,\\).*view"),
        (torch.randn(3, 2), torch.tensor([0, 1]), "2 labels but x has 3"),
        (torch.tensor([[1.0, float("nan")]]), None, "NaN"),
        (torch.zeros(2, 8, 8, 3, dtype=torch.uint8), None, "channels-last.*permute"),
        (torch.zeros(2, 8, dtype=torch.uint8), None, "uint8 x must be images"),
        (torch.zeros(2, 3, dtype=torch.bool), None, "dtype bool"),
    ],
)
def test_from_tensors_rejects_bad_input(x, y, message):
    with pytest.raises(DataError, match=message):
        from_tensors(x, y)


def test_from_tensors_bad_num_classes():
    with pytest.raises(DataError, match="num_classes must be a positive integer"):
        from_tensors(torch.randn(2, 2), torch.tensor([0, 0]), num_classes=0)
    with pytest.raises(DataError, match="classes has 2 names but num_classes is 3"):
        from_tensors(torch.randn(2, 2), torch.tensor([0, 0]), num_classes=3, classes=["a", "b"])
