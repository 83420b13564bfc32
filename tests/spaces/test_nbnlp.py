"""NAS-Bench-NLP space: recipe validation, canonical ids, model semantics, parameter counts."""

from __future__ import annotations

import json

import pytest
import torch

from nasrank.errors import InvalidArchitecture
from nasrank.spaces import get_space
from nasrank.spaces.nbnlp import count_params, parse_recipe

# Goldens copied from derived_nbnlp_wt2_recipes_losses.csv (recepie_id: num_params).
RNN = {  # 1000000: 15,066,078
    "f": {"op": "linear", "input": ["x", "h_prev_0"]},
    "h_new_0": {"op": "activation_tanh", "input": ["f"]},
}
LSTM = {  # 1000001: 20,230,878
    "i": {"op": "linear", "input": ["x", "h_prev_0"]},
    "i_act": {"op": "activation_tanh", "input": ["i"]},
    "j": {"op": "linear", "input": ["x", "h_prev_0"]},
    "j_act": {"op": "activation_sigm", "input": ["j"]},
    "f": {"op": "linear", "input": ["x", "h_prev_0"]},
    "f_act": {"op": "activation_sigm", "input": ["f"]},
    "o": {"op": "linear", "input": ["x", "h_prev_0"]},
    "o_act": {"op": "activation_tanh", "input": ["o"]},
    "h_new_1_part1": {"op": "elementwise_prod", "input": ["f_act", "h_prev_1"]},
    "h_new_1_part2": {"op": "elementwise_prod", "input": ["i_act", "j_act"]},
    "h_new_1": {"op": "elementwise_sum", "input": ["h_new_1_part1", "h_new_1_part2"]},
    "h_new_1_act": {"op": "activation_tanh", "input": ["h_new_1"]},
    "h_new_0": {"op": "elementwise_prod", "input": ["h_new_1_act", "o_act"]},
}
GRU = {  # 1000002: 18,509,278
    "r": {"op": "linear", "input": ["x", "h_prev_0"]},
    "r_act": {"op": "activation_sigm", "input": ["r"]},
    "z": {"op": "linear", "input": ["x", "h_prev_0"]},
    "z_act": {"op": "activation_sigm", "input": ["z"]},
    "rh": {"op": "elementwise_prod", "input": ["r_act", "h_prev_0"]},
    "h_tilde": {"op": "linear", "input": ["x", "rh"]},
    "h_tilde_act": {"op": "activation_tanh", "input": ["h_tilde"]},
    "h_new_0": {"op": "blend", "input": ["z_act", "h_prev_0", "h_tilde_act"]},
}
THREE_STATES = {  # 1012023: 18,589,278
    "node_3": {"op": "linear", "input": ["h_prev_2", "h_prev_1"]},
    "node_5": {"op": "linear", "input": ["h_prev_0", "h_prev_1"]},
    "h_new_0": {"op": "linear", "input": ["h_new_2", "x"]},
    "h_new_1": {"op": "activation_sigm", "input": ["node_5"]},
    "h_new_2": {"op": "activation_tanh", "input": ["node_3"]},
}
GOLDENS = [(RNN, 15_066_078), (LSTM, 20_230_878), (GRU, 18_509_278), (THREE_STATES, 18_589_278)]


@pytest.fixture(scope="module")
def space():
    return get_space("nbnlp")


def _rename(recipe, mapping, *, reverse_commutative=False):
    out = {}
    for name, spec in reversed(list(recipe.items())):
        inputs = [mapping.get(i, i) for i in spec["input"]]
        if reverse_commutative and spec["op"] != "blend":
            inputs = inputs[::-1]
        out[mapping.get(name, name)] = {"op": spec["op"], "input": inputs}
    return out


def test_renamed_reordered_recipes_share_one_id(space):
    mapping = {n: f"zz_{k}" for k, n in enumerate(LSTM) if n not in ("h_new_0", "h_new_1")}
    renamed = _rename(LSTM, mapping, reverse_commutative=True)
    assert space.canonical(renamed) == space.canonical(LSTM)
    assert space.canonical(json.dumps(renamed)) == space.canonical(LSTM)
    assert space.canonical(space.canonical(LSTM)) == space.canonical(LSTM)


def test_canonical_id_format(space):
    assert space.canonical(RNN) == (
        '{"n0":{"op":"linear","input":["x","h_prev_0"]},'
        '"h_new_0":{"op":"activation_tanh","input":["n0"]}}'
    )


def test_non_isomorphic_recipes_differ(space):
    blend_swapped = json.loads(json.dumps(GRU))
    blend_swapped["h_new_0"]["input"] = ["z_act", "h_tilde_act", "h_prev_0"]
    assert space.canonical(blend_swapped) != space.canonical(GRU)  # blend is ordered
    shared = {
        "a": {"op": "linear", "input": ["x", "h_prev_0"]},
        "t": {"op": "activation_tanh", "input": ["a"]},
        "s": {"op": "activation_sigm", "input": ["a"]},
        "h_new_0": {"op": "elementwise_sum", "input": ["t", "s"]},
    }
    distinct = dict(shared, b={"op": "linear", "input": ["x", "h_prev_0"]})
    distinct["s"] = {"op": "activation_sigm", "input": ["b"]}
    assert space.canonical(shared) != space.canonical(distinct)


def test_twin_nodes_canonicalise(space):
    twins = {
        "a": {"op": "linear", "input": ["x", "h_prev_0"]},
        "b": {"op": "linear", "input": ["h_prev_0", "x"]},
        "c": {"op": "linear", "input": ["x", "h_prev_0"]},
        "h_new_0": {"op": "elementwise_sum", "input": ["a", "b", "c"]},
    }
    other = _rename(twins, {"a": "q", "b": "a", "c": "b"})
    assert space.canonical(twins) == space.canonical(other)


BAD = [
    (
        {
            "a": {"op": "linear", "input": ["x", "b"]},
            "b": {"op": "activation_tanh", "input": ["a"]},
            "h_new_0": {"op": "activation_tanh", "input": ["b"]},
        },
        r"cycle: .*a -> b -> a|cycle: .*b -> a -> b",
    ),
    (
        {
            "a": {"op": "conv3x3", "input": ["x"]},
            "h_new_0": {"op": "activation_tanh", "input": ["a"]},
        },
        r"unknown NAS-Bench-NLP operation 'conv3x3' in node 'a'.*choices: linear",
    ),
    (
        {
            "a": {"op": "linar", "input": ["x"]},
            "h_new_0": {"op": "activation_tanh", "input": ["a"]},
        },
        r"did you mean 'linear'",
    ),
    (
        {
            "a": {"op": "linear", "input": ["x", "ghost"]},
            "h_new_0": {"op": "activation_tanh", "input": ["a"]},
        },
        r"dangling input: node 'a' reads 'ghost'",
    ),
    (
        {
            "a": {"op": "linear", "input": ["x"]},
            "dead": {"op": "activation_sigm", "input": ["a"]},
            "h_new_0": {"op": "activation_tanh", "input": ["a"]},
        },
        r"unreachable node\(s\) 'dead'.*feed no output",
    ),
    (
        {
            "a": {"op": "linear", "input": ["x"]},
            "h_new_1": {"op": "activation_tanh", "input": ["a"]},
        },
        r"no output node 'h_new_0'",
    ),
    (
        {"h_new_0": {"op": "linear", "input": ["x"]}, "h_new_2": {"op": "linear", "input": ["x"]}},
        r"expected h_new_0 \.\. h_new_\(k-1\) with no gaps",
    ),
    (
        {"h_new_0": {"op": "linear", "input": ["x", "h_prev_1"]}},
        r"reads 'h_prev_1' but the cell has 1 hidden state",
    ),
    (
        {"h_new_0": {"op": "linear", "input": ["h_prev_0"]}},
        r"never reads the cell input 'x'",
    ),
    (
        {
            "a": {"op": "linear", "input": ["x"]},
            "h_new_0": {"op": "elementwise_sum", "input": ["x", "a"]},
        },
        r"only linear nodes may read the cell input x",
    ),
    (
        {"h_new_0": {"op": "blend", "input": ["x", "h_prev_0"]}},
        r"has 2 input\(s\).*blend takes exactly 3 inputs",
    ),
    (
        {"x": {"op": "linear", "input": ["h_prev_0"]}, "h_new_0": {"op": "linear", "input": ["x"]}},
        r"redefines a cell input",
    ),
    ({}, r"has no nodes"),
    ('{"h_new_0": {"op": "linear", "input": ["x"]', r"not valid JSON"),
]


@pytest.mark.parametrize("recipe, message", BAD)
def test_bad_recipes_rejected_with_clear_messages(space, recipe, message):
    with pytest.raises(InvalidArchitecture, match=message):
        space.canonical(recipe)


@pytest.mark.parametrize("recipe, expected", GOLDENS)
def test_param_count_goldens_closed_form(recipe, expected):
    assert count_params(recipe) == expected


@pytest.mark.parametrize("recipe, expected", [GOLDENS[0], GOLDENS[2]])
def test_param_count_goldens_built_model(space, recipe, expected):
    model = space.build(recipe)
    assert sum(p.numel() for p in model.parameters()) == expected
    assert model.decoder.weight is model.encoder.weight  # tied
    assert [m.cell.hidden_size for m in model.rnns] == [600, 600, 400]


def test_tanh_rnn_semantics_match_a_hand_written_loop(space):
    torch.manual_seed(0)
    model = space.build(RNN, vocab_size=11, emsize=5, nhid=4, nlayers=1, tied=False)
    model.eval()
    tokens = torch.randint(0, 11, (3, 6))
    layer = model.rnns[0]
    w_x, w_h = (m.weight for m in layer.cell.linears["n0"])
    bias = layer.cell.linears["n0"][0].bias
    emb = model.encoder(tokens)
    h = torch.zeros(3, 4)
    states = []
    for t in range(6):
        h = torch.tanh(emb[:, t] @ w_x.T + h @ w_h.T + bias)
        states.append(h)
    with torch.no_grad():
        assert torch.allclose(layer(emb), torch.stack(states, 1), atol=1e-6)
        assert model(tokens).shape == (3, 6, 11)


def test_gru_blend_and_multi_state_models_run(space):
    for recipe in (GRU, LSTM, THREE_STATES):
        model = space.build(recipe, vocab_size=13, emsize=6, nhid=8)
        model.eval()
        with torch.no_grad():
            out = model(space.example_input(2, seq_len=5, vocab_size=13))
        assert out.shape == (2, 5, 13) and torch.isfinite(out).all()
        assert model.hidden_state_modules() == ["rnns.0", "rnns.1", "rnns.2"]


def test_parse_recipe_orders_topologically():
    order = list(
        parse_recipe(
            {
                "h_new_0": {"op": "activation_tanh", "input": ["a"]},
                "a": {"op": "linear", "input": ["x"]},
            }
        )
    )
    assert order == ["a", "h_new_0"]


def test_neighbours_and_mutation_are_single_valid_edits(space):
    arch = space.canonical(GRU)
    nbrs = space.neighbours(arch)
    assert len(nbrs) == len(set(nbrs)) > 10 and arch not in nbrs
    assert space.mutate(arch, 0) in nbrs
    assert space.mutate(arch, 3) == space.mutate(arch, 3)


@pytest.mark.data
def test_all_benchmark_recipes_valid_and_counts_match(shared_data):
    import pandas as pd

    frame = pd.read_csv(shared_data / "nas-bench-nlp" / "derived_nbnlp_wt2_recipes_losses.csv")
    ok = frame[frame["status"] == "OK"]
    assert len(ok) == 341
    assert all(count_params(r) == n for r, n in zip(ok["recipe"], ok["num_params"]))
