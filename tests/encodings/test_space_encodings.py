from __future__ import annotations

import numpy as np
import pytest

from nasrank.encodings import (
    nb101_adjacency,
    nb201_onehot,
    nb301_onehot,
    path_encoding,
    space_encoding,
    space_encoding_names,
)
from nasrank.errors import UnknownNameError
from nasrank.spaces import get_space


def test_nb201_onehot_and_pruned_onehot():
    a = "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|"
    v = nb201_onehot(a).reshape(6, 5)
    assert v.sum() == 6 and v.sum(axis=1).tolist() == [1] * 6
    assert np.array_equal(nb201_onehot("(2, 3, 2, 4, 0, 1)"), nb201_onehot(get_space("nb201").canonical("(2, 3, 2, 4, 0, 1)")))
    p = nb201_onehot(a, pruned=True).reshape(6, 5)
    # node 2 reaches the output only through 'none': its two incoming edges become none
    assert p[1, 0] == 1 and p[2, 0] == 1
    assert np.array_equal(p[[0, 3, 4]], v[[0, 3, 4]])
    assert space_encoding_names("onehot", "nb201")[3] == "onehot:0->1=nor_conv_3x3"


def test_nb201_path_encoding_counts_live_paths():
    all_conv = path_encoding("nb201", "(2, 2, 2, 2, 2, 2)")
    assert all_conv.shape == (84,) and all_conv.sum() == 4
    assert path_encoding("nb201", "(1, 1, 1, 1, 1, 1)").sum() == 0  # all none


def test_nb101_and_nb301_encodings():
    cell = "input,conv3x3-bn-relu,maxpool3x3,output|0110/0001/0001/0000"
    adj = nb101_adjacency(cell)
    assert adj.shape == (63,) and adj[:21].sum() == 4
    paths = path_encoding("nb101", cell)
    assert paths.shape == (364,) and paths.sum() == 2
    space = get_space("nb301")
    arch = space.sample(0)
    assert nb301_onehot(arch).shape == (192,) and nb301_onehot(arch).sum() == 32
    p301 = path_encoding(space, arch)
    assert p301.shape == (11200,) and p301.sum() >= 8


def test_unknown_encodings_fail_with_choices():
    with pytest.raises(UnknownNameError, match="choices"):
        space_encoding("onehott", "nb201", "(2, 2, 2, 2, 2, 2)")
    with pytest.raises(UnknownNameError, match="onnx"):
        space_encoding("onehot", "nbgraph", "x")
    with pytest.raises(UnknownNameError):
        path_encoding("nbgraph", "x")


def test_conveniences_delegate_to_the_space():
    space = get_space("nb201")
    arch = space.sample(5)
    assert np.array_equal(space_encoding("path", space, arch), space.encode("path", arch))
    assert np.array_equal(nb201_onehot(arch, pruned=True), space.encode("onehot-pruned", arch))
    assert space_encoding_names("path", "nb101") == get_space("nb101").encoding_names("path")
    assert space_encoding_names("onehot", "nb301")[0] == "onehot:nb301:0"


def test_encoding_goldens():
    # Exact values (deterministic transforms): column positions of the set entries.
    a = "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|"
    assert np.flatnonzero(nb201_onehot(a)).tolist() == [3, 7, 14, 16, 23, 25]
    assert np.flatnonzero(nb201_onehot(a, pruned=True)).tolist() == [3, 5, 10, 16, 23, 25]
    assert np.flatnonzero(path_encoding("nb201", a)).tolist() == [0, 14]
    cell = "input,conv3x3-bn-relu,maxpool3x3,output|0110/0001/0001/0000"
    assert np.flatnonzero(nb101_adjacency(cell)).tolist() == [0, 1, 10, 14, 21, 28, 36, 44, 50, 56, 61]
    assert np.flatnonzero(path_encoding("nb101", cell)).tolist() == [1, 3]
