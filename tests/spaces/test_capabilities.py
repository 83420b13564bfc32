"""The optional capabilities of a space: encodings, cell module, index codec, default data."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nasrank.encodings import cell_module
from nasrank.errors import UnknownNameError
from nasrank.spaces import SPACES, IndexCodec, SpaceEncoding, get_space

SPACE_NAMES = SPACES.names()
CELL_SPACES = ("nb101", "nb201", "nb301", "tnb101-micro")
INDEXED_SPACES = ("nb201", "tnb101-micro", "tnb101-macro")


def _family(space):
    return space.name.split(":")[0]  # tnb101-micro of the task-bound tnb101-micro:TASK


@pytest.fixture(params=SPACE_NAMES)
def space(request):
    return get_space(request.param)


def test_every_encoding_gives_a_vector_as_wide_as_its_names(space):
    arch = space.sample(0)
    for name, encoding in space.encodings.items():
        assert isinstance(encoding, SpaceEncoding) and encoding.name == name
        values = space.encode(name, arch)
        names = space.encoding_names(name)
        assert values.ndim == 1 and values.shape[0] == len(names) == len(set(names))
        assert np.array_equal(values, encoding.encode(arch))


def test_unknown_encoding_lists_the_space_encodings(space):
    with pytest.raises(UnknownNameError, match="choices") as err:
        space.encode("no-such-encoding", space.sample(0))
    for name in space.encodings:
        assert name in str(err.value)
    if not space.encodings:
        assert "none" in str(err.value) and "onnx" in str(err.value)


def test_which_spaces_have_which_encodings():
    have = {n: set(get_space(n).encodings) for n in SPACE_NAMES}
    assert have["nb201"] == {"onehot", "onehot-pruned", "path"}
    assert have["nb101"] == {"onehot", "onehot-pruned", "path"}
    assert have["nb301"] == {"onehot", "path"}
    assert have["tnb101-micro"] == {"onehot", "onehot-pruned", "path"}
    assert have["tnb101-macro"] == {"onehot"}
    assert not have["nbgraph"] and not have["nbnlp"] and not have["nbbert"]


def test_cell_module_where_the_space_has_one(space):
    arch = space.sample(0)
    assert space.has_cell_module == (_family(space) in CELL_SPACES)
    if not space.has_cell_module:
        with pytest.raises(NotImplementedError, match="no cell-level graph"):
            space.cell_module(arch)
        with pytest.raises(NotImplementedError, match="cell-level spaces: nb101, nb201, nb301"):
            cell_module(space, arch)
        return
    module, inputs = space.cell_module(arch, seed=1)
    again = space.cell_module(arch, seed=1)[1]
    assert all(torch.equal(a, b) for a, b in zip(inputs, again))
    module.eval()
    with torch.no_grad():
        out = module(*inputs)
    assert torch.isfinite(out).all()


def test_index_codec_only_for_enumerable_cell_spaces(space):
    codec = space.index_codec
    if _family(space) not in INDEXED_SPACES:
        assert codec is None
        return
    assert isinstance(codec, IndexCodec) and codec.space == _family(space)
    assert codec.size == space.size
    arch = space.sample(3)
    assert codec.to_arch(codec.to_index(arch)) == arch


def test_default_data():
    assert get_space("nb201").default_data == "synthetic"
    assert get_space("nbgraph").default_data == "graph:2708:1433:7"
    assert get_space("nbnlp").default_data.startswith("tokens:")
    assert get_space("nbbert").default_data.startswith("tokens:")
