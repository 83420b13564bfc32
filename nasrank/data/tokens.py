"""Seeded synthetic token batches for language models.

No PTB / WikiText / GLUE text ships with nasrank, so proxies for recurrent and transformer
language models run on token ids drawn from a Zipf distribution (rank-frequency
``p(r) ~ 1 / r^s``, the shape of natural-language unigram frequencies). Results computed on
them are labelled with the spec (``tokens:...``) so nobody mistakes them for real text.
Users with real text pass token tensors through :func:`~nasrank.data.dataset.from_tensors`.
"""

from __future__ import annotations

import numpy as np

from nasrank._random import SeedLike, as_rng
from nasrank.data.dataset import ImageDataset, from_tensors
from nasrank.data.synthetic import check_generated_size
from nasrank.errors import DataError

__all__ = ["DEFAULT_VOCAB", "DEFAULT_SEQ_LEN", "zipf_tokens", "token_dataset"]

#: WikiText-2's vocabulary (NAS-Bench-NLP's language model).
DEFAULT_VOCAB = 33278
DEFAULT_SEQ_LEN = 35


def zipf_tokens(
    num_sequences: int,
    seq_len: int = DEFAULT_SEQ_LEN,
    vocab_size: int = DEFAULT_VOCAB,
    *,
    exponent: float = 1.0,
    seed: SeedLike = 0,
) -> np.ndarray:
    """``(num_sequences, seq_len)`` int64 token ids with Zipfian frequencies.

    Token id ``i`` has frequency rank ``i + 1`` (id 0 most frequent), as in vocabularies
    sorted by count.
    """
    for name, value in (
        ("num_sequences", num_sequences),
        ("seq_len", seq_len),
        ("vocab_size", vocab_size),
    ):
        if value < 1:
            raise DataError(f"{name} must be >= 1, got {value}")
    ranks = np.arange(1, vocab_size + 1, dtype=np.float64)
    p = ranks**-exponent
    p /= p.sum()
    rng = as_rng(seed)
    return rng.choice(vocab_size, size=(num_sequences, seq_len), p=p).astype(np.int64)


def token_dataset(
    num_sequences: int,
    seq_len: int = DEFAULT_SEQ_LEN,
    vocab_size: int = DEFAULT_VOCAB,
    num_classes: int = 2,
    *,
    seed: SeedLike = 0,
    split: str = "train",
    source: str = "tokens",
) -> ImageDataset:
    """Zipfian token sequences with random sequence labels in ``[0, num_classes)``.

    The labels only give label-using proxies (``grad_norm``, ``snip``, ...) a loss to
    differentiate for sequence classifiers; they carry no information.

    Raises:
        DataError: Non-positive sizes, or more ids than
            :data:`~nasrank.data.synthetic.MAX_GENERATED_BYTES` hold.
    """
    check_generated_size(num_sequences, 8 * seq_len, f"token data of length {seq_len}")
    rng = as_rng(seed)
    x = zipf_tokens(num_sequences, seq_len, vocab_size, seed=rng)
    y = rng.integers(num_classes, size=num_sequences)
    return from_tensors(x, y, num_classes, split=split, source=source)
