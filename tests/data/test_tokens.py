from __future__ import annotations

import numpy as np
import pytest
import torch

from nasrank.data import load_batch
from nasrank.data.tokens import zipf_tokens
from nasrank.errors import DataError


def test_zipf_frequencies_fall_with_rank():
    tokens = zipf_tokens(400, 50, 5000, seed=0)
    counts = np.bincount(tokens.ravel(), minlength=5000)
    assert counts[0] > counts[1] > counts[9] > counts[99]
    # Zipf with s = 1: token 0 is about twice as frequent as token 1
    assert 1.6 < counts[0] / counts[1] < 2.5


def test_token_batches_are_seeded_int64_and_in_range():
    a = load_batch("tokens:100:12:3", batch_size=8, seed=1)
    b = load_batch("tokens:100:12:3", batch_size=8, seed=1)
    c = load_batch("tokens:100:12:3", batch_size=8, seed=2)
    assert a.inputs.dtype == torch.int64 and a.inputs.shape == (8, 12)
    assert int(a.inputs.max()) < 100 and a.num_classes == 3
    assert torch.equal(a.inputs, b.inputs) and not torch.equal(a.inputs, c.inputs)
    assert a.source.startswith("tokens:100:12:3")


@pytest.mark.parametrize("spec", ["tokens:0", "tokens:10:x", "tokens:1:2:3:4", "tokens:-5"])
def test_bad_token_specs(spec):
    with pytest.raises(DataError, match="bad tokens spec"):
        load_batch(spec, batch_size=2)
