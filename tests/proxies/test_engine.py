"""The scoring engine: bad input, failures as NaN with reasons, seeding, sharing, API."""

from __future__ import annotations

import json
import logging
import math

import pytest
import torch
from torch import nn

from nasrank.data.batch import Batch
from nasrank.errors import DataError, UnknownNameError
from nasrank.proxies import PROXIES, ScoreResult, grad_norm, register_proxy, score, synflow
from nasrank.proxies.engine import as_batch, score_many
from nasrank.proxies.registry import resolve_proxies

from .conftest import assert_untouched, image_batch, make_cnn, make_mlp, snapshot, vector_batch

#: The proxies of issue 4 (other registered proxies are checked by the contract test).
CORE = (
    "epe_nas", "fisher", "flops", "grad_norm", "gradsign", "grasp", "jacov", "l2_norm", "meco",
    "nwot", "params", "plain", "snip", "swap", "synflow", "zen", "zico",
)
LABEL_FREE = [n for n in CORE if not PROXIES.get(n).needs_labels]
WITH_LABELS = [n for n in CORE if PROXIES.get(n).needs_labels]


# ---- names ---------------------------------------------------------------------------------
def test_unknown_proxy_name_suggests_the_closest():
    with pytest.raises(UnknownNameError, match="did you mean 'synflow'") as info:
        score(make_cnn(), image_batch(), ["synflw"])
    assert isinstance(info.value, KeyError)
    assert "choices:" in str(info.value)


def test_all_and_none_select_every_proxy():
    assert [s.name for s in resolve_proxies("all")] == PROXIES.names()
    assert [s.name for s in resolve_proxies(None)] == PROXIES.names()
    assert [s.name for s in resolve_proxies(["nwot", synflow, "nwot"])] == ["nwot", "synflow"]
    with pytest.raises(TypeError):
        resolve_proxies([3])  # type: ignore[list-item]


def test_registry_refuses_duplicates_and_unknown_groups():
    with pytest.raises(ValueError, match="already registered"):
        register_proxy("synflow", needs_data=False, needs_labels=False, needs_grad=True,
                       group="synflow")(lambda ctx: 0.0)
    with pytest.raises(ValueError, match="unknown pass group"):
        register_proxy("x_new", needs_data=False, needs_labels=False, needs_grad=False,
                       group="nope")
    with pytest.raises(ValueError, match="unknown 'train' artifacts"):
        register_proxy("x_new", needs_data=False, needs_labels=False, needs_grad=False,
                       group="train", requires={"bogus"})


# ---- bad input -----------------------------------------------------------------------------
def test_labels_out_of_range_with_known_num_classes_is_a_data_error():
    b = image_batch()
    bad = Batch(b.inputs, torch.full((len(b),), 7), 3, "test")
    with pytest.raises(DataError, match=r"labels out of range: got labels in \[7, 7\]"):
        score(make_cnn(), bad, ["grad_norm"])
    with pytest.raises(DataError, match="labels out of range"):
        score(make_cnn(), Batch(b.inputs, torch.full((len(b),), -1), None), ["snip"])


def test_labels_beyond_the_model_outputs_give_nan_with_reason():
    b = image_batch()
    bad = Batch(b.inputs, torch.full((len(b),), 5), None, "test")  # model has 3 outputs
    r = score(make_cnn(), bad, ["grad_norm", "gradsign", "nwot"])
    for name in ("grad_norm", "gradsign"):
        assert math.isnan(r[name])
        assert "labels out of range" in r.reasons[name]
        assert "3 outputs" in r.reasons[name]
    assert math.isfinite(r["nwot"])  # label-free proxies are unaffected


@pytest.mark.parametrize(
    "batch, message",
    [
        (Batch(torch.randn(8), None), "batch dimension"),
        (Batch(torch.randn(0, 3, 8, 8), None), "empty"),
        (Batch(torch.randn(8, 3, 8, 8), torch.zeros(5, dtype=torch.long)), "8 inputs but 5"),
        ("not a batch", "expected a nasrank Batch"),
    ],
)
def test_malformed_batches_are_data_errors(batch, message):
    with pytest.raises(DataError, match=message) as info:
        score(make_cnn(), batch, ["nwot"])
    assert isinstance(info.value, ValueError)


def test_wrong_input_shape_gives_nan_with_the_forward_error():
    model = make_cnn()
    before = snapshot(model)
    wrong = Batch(torch.randn(8, 1, 8, 8), torch.zeros(8, dtype=torch.long), 3)
    r = score(model, wrong, CORE)
    assert_untouched(model, before)
    data_proxies = [n for n in CORE if n not in ("params", "l2_norm")]
    for name in data_proxies:
        assert math.isnan(r[name]), name
        assert "channels" in r.reasons[name] or "size" in r.reasons[name], r.reasons[name]
    assert math.isfinite(r["params"]) and math.isfinite(r["l2_norm"])


class _Raises(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(12, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("boom in forward")


class _ProducesNaN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(12, 3)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.lin(x)) * float("nan")


def test_forward_that_raises_gives_nan_and_reason_per_proxy():
    r = score(_Raises(), vector_batch(), None)
    for name in PROXIES.names():  # every registered proxy: none may return a number
        if name in ("params", "l2_norm"):
            assert math.isfinite(r[name])
        else:
            assert math.isnan(r[name])
            assert "boom in forward" in r.reasons[name], (name, r.reasons[name])


def test_model_producing_nan_gives_nan_and_reason():
    r = score(_ProducesNaN(), vector_batch(), CORE)
    for name in CORE:
        if name in ("params", "l2_norm", "flops"):
            assert math.isfinite(r[name])
        else:
            assert math.isnan(r[name]), name
            assert "NaN" in r.reasons[name] or "not finite" in r.reasons[name], r.reasons[name]


def test_failures_are_logged_once_per_proxy(caplog):
    from nasrank.proxies import engine

    engine._LOGGED.discard("jacov")
    with caplog.at_level(logging.DEBUG, logger="nasrank.proxies.engine"):
        for _ in range(3):
            score(_Raises(), vector_batch(), ["jacov"])
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "jacov" in r.message]
    assert len(warnings) == 1


def test_batch_without_labels_runs_label_free_proxies_only():
    b = image_batch()
    r = score(make_cnn(), b.inputs, CORE)
    for name in WITH_LABELS:
        assert math.isnan(r[name]) and "needs labels" in r.reasons[name]
    for name in LABEL_FREE:
        assert math.isfinite(r[name]), (name, r.reasons.get(name))


def test_no_batch_runs_data_free_proxies():
    r = score(make_cnn(), None, ["params", "l2_norm", "synflow"])
    assert math.isfinite(r["params"]) and math.isfinite(r["l2_norm"])
    assert math.isnan(r["synflow"]) and "needs a batch" in r.reasons["synflow"]


def test_batch_of_one_where_the_proxy_allows_it():
    b = image_batch(1)
    r = score(make_cnn(), b, None)
    for name in ("synflow", "grad_norm", "snip", "nwot", "gradsign", "meco", "zen", "params"):
        assert math.isfinite(r[name]), (name, r.reasons.get(name))
    for name in ("jacov", "zico", "swap"):
        assert math.isnan(r[name]) and "at least 2 samples" in r.reasons[name]


# ---- determinism, isolation ----------------------------------------------------------------
def test_global_rng_and_deterministic_flags_are_restored():
    model, b = make_cnn(), image_batch()
    torch.manual_seed(123)
    state = torch.get_rng_state()
    det = torch.are_deterministic_algorithms_enabled()
    fill = torch.utils.deterministic.fill_uninitialized_memory
    score(model, b, ["zen", "gradsign", "nwot"], seed=7)
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.are_deterministic_algorithms_enabled() == det
    assert torch.utils.deterministic.fill_uninitialized_memory == fill


def test_seed_changes_only_random_proxies():
    a = score(make_cnn(), image_batch(), ["zen", "synflow"], seed=0)
    b = score(make_cnn(), image_batch(), ["zen", "synflow"], seed=1)
    assert a["synflow"] == b["synflow"]
    assert a["zen"] != b["zen"]


def test_dropout_model_is_reproducible_from_the_seed():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 3))
    a = score(model, vector_batch(), ["grad_norm", "gradsign", "nwot"], seed=4)
    b = score(model, vector_batch(), ["grad_norm", "gradsign", "nwot"], seed=4)
    assert dict(a) == dict(b)


def test_custom_loss_fn_is_used():
    model, b = make_mlp(), vector_batch()

    def loss_fn(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return (out**2).mean()

    custom = score(model, b, ["grad_norm"], loss_fn=loss_fn)["grad_norm"]
    default = score(model, b, ["grad_norm"])["grad_norm"]
    ws = [m.weight for m in model.modules() if isinstance(m, nn.Linear)]
    grads = torch.autograd.grad(loss_fn(model(b.inputs), b.targets), ws)
    assert custom == pytest.approx(sum(float(g.norm()) for g in grads), rel=1e-5)
    assert custom != default


def test_regression_targets_work_with_a_custom_loss():
    b = vector_batch()
    batch = Batch(b.inputs, torch.randn(len(b), 3), None)

    def mse(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return ((out - target) ** 2).mean()

    r = score(make_mlp(), batch, ["grad_norm", "gradsign", "snip"], loss_fn=mse)
    assert all(math.isfinite(v) for v in r.values()), r.reasons


# ---- results and convenience API -----------------------------------------------------------
def test_score_result_is_a_json_ready_dict_in_request_order():
    r = score(make_cnn(), image_batch(), ["synflow", "nwot", "params"])
    assert isinstance(r, ScoreResult) and isinstance(r, dict)
    assert list(r) == ["synflow", "nwot", "params"]
    json.dumps(r)
    d = r.to_dict()
    assert set(d["seconds"]) == {"synflow", "nwot", "params"}
    assert d["source"] == "test" and d["seed"] == 0
    assert r.total_seconds >= 0


def test_a_spec_is_callable_like_a_plain_proxy_function():
    model, b = make_cnn(), image_batch()
    assert synflow(model, b) == score(model, b, ["synflow"])["synflow"]
    assert math.isnan(grad_norm(model, b.inputs))  # no labels
    assert synflow.needs_labels is False and grad_norm.needs_labels is True
    assert "Tanaka" in synflow.citation


def test_tuple_batches_and_score_many():
    b = image_batch()
    one = score(make_cnn(), (b.inputs, b.targets), ["snip"])["snip"]
    many = score_many(lambda i: make_cnn(), b, ["snip"], n=2)
    assert [m["snip"] for m in many] == [one, one]
    assert as_batch(None) is None
