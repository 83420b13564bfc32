"""Synthetic Gaussian data."""

from __future__ import annotations

import pytest
import torch

from nasrank.data import synthetic_batch, synthetic_dataset
from nasrank.errors import DataError


def test_shape_classes_and_dtypes():
    batch = synthetic_batch(16, (1, 8, 9), 3, seed=2)
    assert batch.inputs.shape == (16, 1, 8, 9) and batch.inputs.dtype == torch.float32
    assert batch.targets.dtype == torch.int64
    assert 0 <= int(batch.targets.min()) and int(batch.targets.max()) < 3
    assert batch.num_classes == 3
    assert batch.source == "synthetic:1x8x9:3 split=train seed=2 n=16"


def test_gaussian_statistics():
    x = synthetic_batch(256, seed=0).inputs
    assert abs(float(x.mean())) < 0.02 and abs(float(x.std()) - 1) < 0.02


def test_same_seed_same_data_other_seed_or_split_differs():
    a, b = synthetic_batch(8, seed=5), synthetic_batch(8, seed=5)
    assert torch.equal(a.inputs, b.inputs) and torch.equal(a.targets, b.targets)
    assert not torch.equal(a.inputs, synthetic_batch(8, seed=6).inputs)
    assert not torch.equal(a.inputs, synthetic_batch(8, seed=5, split="test").inputs)


def test_dataset_has_random_labels_over_all_classes():
    data = synthetic_dataset(500, num_classes=10, seed=0)
    histogram = data.label_histogram()
    assert len(data) == 500 and len(histogram) == 10
    assert min(histogram.values()) > 20
    assert data.mean is None  # already standard normal
    torch.testing.assert_close(data.batch(range(8)).inputs, synthetic_batch(8, seed=0).inputs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch_size": 0}, "num_samples"),
        ({"num_classes": 0}, "num_classes"),
        ({"shape": (3, 0, 4)}, "shape entry"),
        ({"shape": "3x4x4"}, "sequence of positive integers"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(DataError, match=message):
        synthetic_batch(**kwargs)
