"""Every space's default data loads and its models run on it: ``model(inputs, **extras)``."""

from __future__ import annotations

import pytest
import torch

from nasrank.data import load_batch, parse_spec, resolve_data
from nasrank.spaces import SPACES, get_space

KINDS = {"nb101": "images", "nb201": "images", "nb301": "images", "nbbert": "tokens",
         "nbnlp": "tokens", "nbgraph": "graph"}
#: Architectures that keep the whole-graph forward fast on one thread.
CHEAP = {"nbgraph": "link=0,0,1,3;ops=gcn,gat,sage,fc"}


@pytest.mark.parametrize("name", SPACES.names())
def test_default_data_parses_and_its_kind_is_the_spaces(name):
    space = get_space(name)
    spec = parse_spec(space.default_data)
    assert spec.kind == KINDS.get(name, spec.kind)
    assert resolve_data(space, None) == space.default_data
    again = parse_spec(resolve_data(space, space.default_data))  # its own default fits
    assert (again.scheme, again.shape, again.num_classes) == (spec.scheme, spec.shape, spec.num_classes)


@pytest.mark.parametrize("name", SPACES.names())
def test_models_run_on_their_default_data(name):
    space = get_space(name)
    batch = load_batch(resolve_data(space, None), batch_size=2, seed=0)
    model = space.build(CHEAP.get(name) or space.sample(0)).eval()
    with torch.no_grad():
        out = model(batch.inputs, **batch.extras)
    assert out.shape[0] == len(batch) and torch.isfinite(out).all()


def test_token_spaces_default_to_their_own_vocabulary():
    bert = load_batch(resolve_data(get_space("nbbert"), None), batch_size=3)
    assert bert.inputs.shape == (3, 128) and bert.inputs.dtype == torch.int64
    assert int(bert.inputs.max()) < 30522
    nlp = load_batch(resolve_data(get_space("nbnlp"), None), batch_size=3)
    assert nlp.inputs.shape == (3, 70) and int(nlp.inputs.max()) < 33278


def test_nbgraph_defaults_to_a_cora_sized_graph():
    space = get_space("nbgraph")
    batch = load_batch(resolve_data(space, None), batch_size=8)
    assert batch.inputs.shape == (2708, 1433) and batch.num_classes == 7
    edges = batch.extras["edge_index"]
    assert edges.shape[0] == 2 and edges.dtype == torch.int64 and edges.shape[1] > 2708
    model = space.build("link=0,0,1,3;ops=gcn,gat,sage,fc").eval()
    with torch.no_grad():
        with_edges = model(batch.inputs, edge_index=edges)
        without = model(batch.inputs)
    assert with_edges.shape == (2708, 7)
    assert not torch.allclose(with_edges, without)  # the edges take part in message passing
