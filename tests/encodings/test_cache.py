from __future__ import annotations

import numpy as np
import pytest

from nasrank.encodings import EncodingCache, OpGraph, OpNode


def test_arrays_and_graphs_round_trip_per_version(tmp_path):
    cache = EncodingCache(tmp_path / "c")
    assert len(cache) == 0 and cache.get_arrays("nb201", "f", 1, ["a"]) == {}
    cache.put_arrays("nb201", "f", 1, {"a": np.arange(3.0), "b": np.ones(2)})
    got = cache.get_arrays("nb201", "f", 1, ["a", "b", "c"])
    assert set(got) == {"a", "b"} and np.array_equal(got["a"], np.arange(3.0))
    assert cache.get_arrays("nb201", "f", 2, ["a"]) == {}  # other version
    assert cache.get_arrays("nb101", "f", 1, ["a"]) == {}  # other space
    g = OpGraph((OpNode("Input"), OpNode("Relu", output_shape=(1, 2)), OpNode("Output")),
                ((0, 1), (1, 2)))
    cache.put_graphs("nb201", "g", 1, {"a": g})
    assert cache.get_graphs("nb201", "g", 1, ["a"])["a"] == g
    cache.clear()
    assert len(cache) == 0


def test_default_directory_honours_env(monkeypatch, tmp_path):
    monkeypatch.setenv("NASRANK_CACHE_DIR", str(tmp_path / "x"))
    assert EncodingCache().directory == tmp_path / "x"


def test_encode_graphs_reuses_the_cache(tmp_path, monkeypatch):
    pytest.importorskip("onnx")
    from nasrank.encodings import cells
    from nasrank.spaces import get_space

    cache = EncodingCache(tmp_path)
    space = get_space("nb201")
    archs = ["(2, 2, 2, 2, 2, 2)", "(3, 3, 3, 3, 3, 3)"]
    first = cells.encode_graphs(space, archs, level="cell", cache=cache)

    def boom(*args, **kwargs):
        raise AssertionError("should come from the cache")

    monkeypatch.setattr(cells, "arch_opgraph", boom)
    assert cells.encode_graphs(space, archs, level="cell", cache=cache) == first
