"""``nb-graph:DATASET``: loading, key <-> id mapping, metrics and errors."""

from __future__ import annotations

import importlib.util
import math
import os
import pickle

import pytest

import nasrank.benchmarks.nb_graph as nb_graph
from nasrank._pickle import restricted_load
from nasrank.benchmarks import load_benchmark
from nasrank.errors import BenchmarkDataNotFound, DataError, NotInBenchmark, UnknownNameError
from nasrank.spaces import NBGraphSpace
from nasrank.spaces.nbgraph import PROTEINS_OPS, arch_hash, from_hash

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("nas_bench_graph") is None,
    reason="needs the PyPI package nas-bench-graph",
)


def _raw(dataset: str) -> dict:
    with nb_graph.data_file(dataset).open("rb") as f:
        return restricted_load(f)


@pytest.fixture(scope="module")
def cora():
    return load_benchmark("nb-graph:cora")


def test_cora_table(cora):
    assert cora.name == "nb-graph:cora"
    assert cora.space == "nbgraph"
    assert len(cora) == 26206
    assert cora.metrics == ("valid_perf", "perf", "latency", "para")
    assert cora.default_metric == "valid_perf"
    assert cora.higher_is_better("perf") and not cora.higher_is_better("latency")
    assert not cora.higher_is_better("para")
    assert load_benchmark("nb-graph:Cora") is cora  # cached, name case-insensitive
    assert load_benchmark("nb-graph", task="cora") is cora


def test_every_key_maps_to_exactly_one_canonical_id(cora):
    space = NBGraphSpace()
    all_ids = list(space.enumerate())
    for dataset in ("cora", "proteins"):
        keys = sorted(_raw(dataset))
        ids = [from_hash(k) for k in keys]
        assert len(set(ids)) == len(keys)
        assert [arch_hash(a) for a in ids] == keys  # every key is already canonical
    assert set(cora.archs()) == set(all_ids)
    proteins = load_benchmark("nb-graph:proteins")
    assert set(proteins.archs()) == {
        a for a in all_ids if set(space.ops_of(a)) <= set(PROTEINS_OPS)
    }
    assert len(proteins) == 2021


def test_values_match_the_file(cora):
    raw = _raw("cora")
    for key in sorted(raw)[::1009]:
        arch = from_hash(key)
        for metric in cora.metrics:
            assert cora.query(arch, metric) == pytest.approx(float(raw[key][metric]), abs=0)
    best, value = cora.optimum()
    assert value == max(float(r["valid_perf"]) for r in raw.values())
    assert best == "link=0,1,2,3;ops=fc,gat,fc,gin"
    assert math.isclose(value, 0.8193333333333334)


def test_queries_accept_every_spelling(cora):
    expected = cora.query("link=0,0,0,0;ops=gat,gat,gat,gat")
    assert cora.query("0") == cora.query("hash=0") == expected
    assert cora.query({"link": [0, 0, 0, 0], "ops": ["gat"] * 4}) == expected
    # a non-canonical layout of an architecture in the table
    assert cora.query("link=0,1,2,1;ops=gcn,cheb,fc,gin") == cora.query(
        "link=0,1,1,2;ops=gcn,cheb,gin,fc"
    )


def test_proteins_has_the_reduced_op_set():
    proteins = load_benchmark("nb-graph:proteins")
    assert all(set(NBGraphSpace.ops_of(a)) <= set(PROTEINS_OPS) for a in proteins.archs())
    assert proteins.query("link=0,0,0,0;ops=gcn,gcn,gcn,gcn") > 0.5
    with pytest.raises(NotInBenchmark, match="nb-graph:proteins"):
        proteins.query("link=0,0,0,0;ops=gat,gat,gat,gat")


def test_unknown_dataset_suggests_the_closest():
    with pytest.raises(UnknownNameError) as err:
        load_benchmark("nb-graph:coar")
    assert "did you mean 'cora'" in str(err.value)
    assert "citeseer" in str(err.value)  # lists the choices


@pytest.mark.parametrize(
    ("spec", "kwargs", "words"),
    [
        ("nb-graph", {}, "needs a dataset"),
        ("nb-graph:cora", {"task": "pubmed"}, "different task"),
        ("nb-graph:cora", {"space": "nb201"}, "covers space 'nbgraph'"),
    ],
)
def test_bad_specs(spec, kwargs, words):
    with pytest.raises(DataError, match=words):
        load_benchmark(spec, **kwargs)


def test_missing_package(monkeypatch):
    monkeypatch.setattr(nb_graph.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(BenchmarkDataNotFound, match="pip install nas-bench-graph"):
        nb_graph.data_file("cora")


class _Exploit:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_refuses_pickles_with_foreign_globals(tmp_path, monkeypatch):
    path = tmp_path / "light" / "citeseer.bench"
    path.parent.mkdir()
    path.write_bytes(pickle.dumps({0: _Exploit()}))
    monkeypatch.setattr(nb_graph, "data_file", lambda dataset: path)
    with pytest.raises(DataError, match="refusing to load global"):
        nb_graph.load_nb_graph("citeseer")


def test_malformed_table(tmp_path, monkeypatch):
    path = tmp_path / "pubmed.bench"
    path.write_bytes(pickle.dumps({0: {"perf": 0.5}}))
    monkeypatch.setattr(nb_graph, "data_file", lambda dataset: path)
    with pytest.raises(DataError, match="lacks metric"):
        nb_graph.load_nb_graph("pubmed")
