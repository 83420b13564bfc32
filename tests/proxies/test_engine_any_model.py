"""The engine on models beyond ReLU CNNs: preconditions that stay with their proxy,
nonlinearities found wherever the forward applies them, any autograd context."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import nasrank
from nasrank.data import Batch
from nasrank.errors import DataError
from nasrank.testing.proxies import image_batch

TRAIN_PASS = ["grad_norm", "snip", "plain", "fisher", "grasp", "jacov", "epe_nas", "nwot",
              "swap", "meco"]  # fmt: skip


class ConvNet(nn.Module):
    """Conv-BN-act x 2 and a linear head; ``act`` a module, or a function in forward."""

    def __init__(self, act: nn.Module | None = None, fn=None) -> None:
        super().__init__()
        self.c1, self.b1 = nn.Conv2d(3, 6, 3, padding=1), nn.BatchNorm2d(6)
        self.c2, self.b2 = nn.Conv2d(6, 6, 3, padding=1), nn.BatchNorm2d(6)
        self.act = act if act is not None else nn.Identity()
        self.fn = fn
        self.head = nn.Linear(6, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv, bn in ((self.c1, self.b1), (self.c2, self.b2)):
            x = bn(conv(x))
            x = self.fn(x) if self.fn is not None else self.act(x)
        return self.head(x.mean(dim=(2, 3)))


def same_weights(*models: nn.Module) -> None:
    state = models[0].state_dict()
    for m in models[1:]:
        m.load_state_dict(state)


def test_a_missing_nonlinearity_makes_only_the_activation_proxies_nan():
    torch.manual_seed(0)
    linear_only = ConvNet()  # no nonlinearity at all
    r = nasrank.score(linear_only, image_batch(), TRAIN_PASS)
    assert math.isnan(r["nwot"]) and math.isnan(r["swap"])
    assert "no ReLU-like nonlinearity" in r.reasons["nwot"]
    others = [p for p in TRAIN_PASS if p not in ("nwot", "swap")]
    assert all(math.isfinite(r[p]) for p in others), r.reasons
    for p in others:  # and exactly their scores when asked alone
        assert r[p] == nasrank.score(linear_only, image_batch(), [p])[p]


def test_functional_relu_gives_the_module_relus_scores():
    torch.manual_seed(0)
    modules, functional, inplace = ConvNet(nn.ReLU()), ConvNet(fn=F.relu), ConvNet(fn=torch.relu_)
    same_weights(modules, functional, inplace)
    want = nasrank.score(modules, image_batch(), ["nwot", "swap"])
    for model in (functional, inplace):
        got = nasrank.score(model, image_batch(), ["nwot", "swap"])
        assert dict(got) == dict(want)


def test_relu_like_nonlinearities_give_activation_codes():
    for act in (nn.GELU(), nn.SiLU(), nn.ELU(), nn.LeakyReLU(0.1), nn.ReLU6(), nn.Mish()):
        torch.manual_seed(0)
        r = nasrank.score(ConvNet(act), image_batch(n=16), ["nwot", "swap"])
        assert math.isfinite(r["nwot"]) and r["swap"] > 1, (act, r.reasons)


def test_hardtanh_other_than_relu6_is_not_relu_like():
    torch.manual_seed(0)
    r = nasrank.score(ConvNet(nn.Hardtanh()), image_batch(), ["nwot"])
    assert math.isnan(r["nwot"])


def test_transformer_encoder_activation_is_found():
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)  # relu inside, functional
    model = nn.Sequential(nn.TransformerEncoder(layer, 1), nn.Flatten(), nn.Linear(8 * 4, 3))
    batch = (torch.randn(8, 4, 8), torch.randint(0, 3, (8,)))
    r = nasrank.score(model, batch, ["nwot", "swap", "grad_norm"])
    assert all(math.isfinite(v) for v in r.values()), r.reasons


@pytest.mark.parametrize("context", [torch.no_grad, torch.inference_mode])
def test_scores_are_the_same_inside_no_grad_and_inference_mode(context):
    torch.manual_seed(0)
    model, batch = ConvNet(nn.ReLU()), image_batch()
    proxies = ["synflow", "grad_norm", "snip", "jacov", "gradsign", "zico", "zen", "nwot"]
    want = nasrank.score(model, batch, proxies)
    with context():
        got = nasrank.score(model, batch, proxies)
        made_inside = image_batch()  # inference tensors under inference_mode
        again = nasrank.score(model, made_inside, proxies)
    assert dict(got) == dict(want) == dict(again), got.reasons


def test_mapping_outputs_use_their_logits():
    class Wrapped(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = ConvNet(nn.ReLU())

        def forward(self, x):
            return {"aux": x.sum(), "logits": self.net(x)}

    torch.manual_seed(0)
    wrapped = Wrapped()
    plain = ConvNet(nn.ReLU())
    plain.load_state_dict(wrapped.net.state_dict())
    proxies = ["grad_norm", "nwot", "synflow"]
    assert dict(nasrank.score(wrapped, image_batch(), proxies)) == dict(
        nasrank.score(plain, image_batch(), proxies)
    )


def test_shared_passes_are_charged_in_equal_shares():
    torch.manual_seed(0)
    r = nasrank.score(ConvNet(nn.ReLU()), image_batch(), ["grad_norm", "snip", "nwot"])
    forward = r.pass_seconds["train:forward"]
    assert forward > 0 and "train:loss_grads" in r.pass_seconds
    assert all(r.seconds[p] >= forward / 3 for p in ("grad_norm", "snip", "nwot"))
    assert sum(r.seconds.values()) <= r.total_seconds
    assert sum(r.seconds.values()) >= sum(r.pass_seconds.values())


def test_graph_batches_reach_the_forward_and_per_sample_proxies_refuse_them():
    class Mean(nn.Module):  # one round of neighbour averaging, then a classifier
        def __init__(self) -> None:
            super().__init__()
            self.lin, self.head = nn.Linear(5, 32), nn.Linear(32, 3)

        def forward(self, x, edge_index):
            h = torch.relu(self.lin(x))
            agg = torch.zeros_like(h).index_add_(0, edge_index[1], h[edge_index[0]])
            return self.head(h + agg)

    g = torch.Generator().manual_seed(0)
    edges = torch.randint(0, 12, (2, 30), generator=g)
    batch = Batch(torch.randn(12, 5, generator=g), torch.randint(0, 3, (12,), generator=g),
                          3, "graph", {"edge_index": edges})  # fmt: skip
    torch.manual_seed(0)
    model = Mean()
    r = nasrank.score(model, batch, ["grad_norm", "nwot", "synflow", "zen", "gradsign"])
    assert all(math.isfinite(r[p]) for p in ("grad_norm", "nwot", "synflow", "zen")), r.reasons
    # gradsign on a graph: the sign agreement of each node's own loss gradient, every
    # node's loss taken from the one forward of the whole graph
    out = model(batch.inputs, edge_index=edges)
    weights = [model.lin.weight, model.head.weight]
    signs = [torch.zeros_like(w) for w in weights]
    for i in range(12):
        loss = torch.nn.functional.cross_entropy(out[i : i + 1], batch.targets[i : i + 1])
        for s, g in zip(signs, torch.autograd.grad(loss, weights, retain_graph=True)):
            s += torch.sign(g)
    assert r["gradsign"] == pytest.approx(float(sum(s.abs().sum() for s in signs)))


def test_no_proxies_and_a_missing_cuda_device_are_errors(monkeypatch):
    with pytest.raises(ValueError, match="no proxies"):
        nasrank.score(ConvNet(), image_batch(), [])
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(DataError, match="CUDA is not available"):
        nasrank.score(ConvNet(), image_batch(), ["params"], device="cuda")


class _OnceReLU(torch.autograd.Function):
    """A ReLU whose backward refuses to record a graph (as kernels without a double
    backward do)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad):
        if torch.is_grad_enabled():  # a create_graph backward
            raise RuntimeError("this ReLU has no double backward")
        (x,) = ctx.saved_tensors
        return grad * (x > 0)


def test_a_model_that_cannot_be_differentiated_twice_fails_grasp_only():
    torch.manual_seed(0)
    net = ConvNet(fn=_OnceReLU.apply)
    r = nasrank.score(net, image_batch(), ["grad_norm", "snip", "fisher", "grasp"])
    assert math.isnan(r["grasp"]) and "no double backward" in r.reasons["grasp"]
    for p in ("grad_norm", "snip", "fisher"):
        assert math.isfinite(r[p]) and r[p] == nasrank.score(net, image_batch(), [p])[p]


class _Head(nn.Module):
    """The float part of a token model: embedded sequence (N, T, E) -> logits."""

    def __init__(self) -> None:
        super().__init__()
        self.mix, self.head = nn.Linear(8, 8), nn.Linear(8, 3)

    def forward(self, e: torch.Tensor) -> torch.Tensor:
        return self.head(torch.tanh(self.mix(e)).mean(dim=1))


class _TokenModel(nn.Module):
    def __init__(self, head: _Head) -> None:
        super().__init__()
        self.emb, self.body = nn.Embedding(50, 8), head

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.body(self.emb(ids))


def test_token_models_are_differentiated_from_their_embeddings():
    torch.manual_seed(0)
    head = _Head()
    model = _TokenModel(head)
    ids = torch.randint(0, 50, (16, 6), generator=torch.Generator().manual_seed(1))
    labels = torch.randint(0, 3, (16,), generator=torch.Generator().manual_seed(2))
    tokens = Batch(ids, labels, 3, "tokens")
    embedded = Batch(model.emb(ids).detach(), labels, 3, "embedded")
    r = nasrank.score(model, tokens, ["jacov", "epe_nas", "synflow"])
    # jacov/epe_nas: the Jacobian against the embedding output, as on the embedded batch
    on_floats = nasrank.score(head, embedded, ["jacov", "epe_nas"])
    assert r["jacov"] == pytest.approx(on_floats["jacov"], rel=1e-6)
    assert r["epe_nas"] == pytest.approx(on_floats["epe_nas"], rel=1e-6)
    # synflow: the embedding tables give the all-ones input of the float part
    ones = Batch(torch.ones(16, 6, 8), labels, 3, "ones")
    assert r["synflow"] == pytest.approx(nasrank.score(head, ones, ["synflow"])["synflow"])
