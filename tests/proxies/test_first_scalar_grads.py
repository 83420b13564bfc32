"""The hooked per-sample derivatives by first scalars equal the generic per-sample path."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from nasrank.data.batch import Batch
from nasrank.proxies._context import ProxyContext, main_output
from nasrank.proxies._first_scalar_grads import first_scalar_jacobians
from nasrank.proxies._fisher_info import _per_sample_jacobians
from nasrank.testing.zoo import ZOO


def _ctx(model: nn.Module, batch: Batch) -> ProxyContext:
    return ProxyContext(
        model, batch, loss_fn=None, device=torch.device("cpu"), seed=0, wanted={}
    )


def _both(model: nn.Module, batch: Batch):
    """(hooked result, generic jacobian (N, K, S, P) for the same names)."""
    ctx = _ctx(model, batch)
    copy = ctx.copy().eval()
    names = [n for n, p in copy.named_parameters() if p.requires_grad]
    with torch.enable_grad():
        fast = first_scalar_jacobians(copy, lambda m: ctx.check_outputs(m(batch.inputs)), names)
        slow, logits = _per_sample_jacobians(ctx, copy, names, batch.inputs)
    return fast, slow, logits, names


INDEPENDENT = [name for name, case in ZOO.items() if not case.make_batch().extras]


@pytest.mark.parametrize("case", INDEPENDENT)
def test_hooked_derivatives_equal_the_per_sample_path_on_every_zoo_model(case):
    fast, slow, logits, names = _both(ZOO[case].make_model(), ZOO[case].make_batch())
    assert fast is not None
    torch.testing.assert_close(fast.logits, logits)
    for j, name in enumerate(fast.names):
        torch.testing.assert_close(
            fast.jac[..., j].float(), slow[..., names.index(name)].float(), rtol=1e-4, atol=1e-6
        )
    assert fast.names + fast.rest == [n for n in names if n in fast.names] + [
        n for n in names if n in fast.rest
    ]


def test_layers_it_knows_are_hooked_and_recurrent_weights_left_to_the_generic_path():
    fast, _, _, names = _both(ZOO["lstm_lm"].make_model(), ZOO["lstm_lm"].make_batch())
    assert fast.rest and all("weight_" in n or "bias_" in n for n in fast.rest)  # nn.LSTM's
    assert any(n.endswith("weight") for n in fast.names)  # the embedding and the head


class _Tied(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(4, 4)
        self.b = nn.Linear(4, 3)
        self.b.weight = nn.Parameter(self.a.weight[:3].detach().clone())
        self.c = nn.Linear(4, 3)
        self.c.weight = self.b.weight  # tied: used by two layers

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.tanh(self.a(x))
        return self.b(h) + self.c(h)


class _Functional(nn.Module):
    """Reads a layer's weight without calling the layer: its hooks never see that use."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lin(x) + nn.functional.linear(x, self.lin.weight)


def _vectors(n: int = 6, d: int = 4) -> Batch:
    g = torch.Generator().manual_seed(0)
    return Batch(torch.randn(n, d, generator=g), torch.zeros(n, dtype=torch.long), 3, "t")


@pytest.mark.parametrize("model, leftover", [(_Tied, "b.weight"), (_Functional, "lin.weight")])
def test_weights_used_outside_their_layer_are_left_to_the_generic_path(model, leftover):
    torch.manual_seed(0)
    fast, slow, _, names = _both(model(), _vectors())
    assert leftover in fast.rest
    for j, name in enumerate(fast.names):
        torch.testing.assert_close(fast.jac[..., j].float(), slow[..., names.index(name)].float())


def test_conv_padding_modes_strides_dilation_and_groups():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(4, 6, 3, stride=2, padding=2, dilation=2, groups=2, padding_mode="reflect"),
        nn.GroupNorm(3, 6),
        nn.ReLU(inplace=True),
        nn.Conv2d(6, 4, 3, padding="same", padding_mode="circular"),
        nn.BatchNorm2d(4),
        nn.Flatten(),
        nn.LazyLinear(5),
    )
    x = torch.randn(3, 4, 9, 9)
    model(x)
    model[4].running_mean.uniform_(-1, 1)
    model[4].running_var.uniform_(0.5, 2.0)
    fast, slow, _, names = _both(model, Batch(x, torch.zeros(3, dtype=torch.long), 5, "t"))
    assert not fast.rest
    for j, name in enumerate(fast.names):
        torch.testing.assert_close(
            fast.jac[..., j].float(), slow[..., names.index(name)].float(), rtol=1e-4, atol=1e-6
        )


def test_main_output_of_a_tuple_model_is_what_is_differentiated():
    case = ZOO["tuple_output"]
    model = case.make_model()
    fast, _, logits, _ = _both(model, case.make_batch())
    out = main_output(model.eval()(case.make_batch().inputs))
    assert fast.logits.shape[:2] == out.shape[:2]
    torch.testing.assert_close(fast.logits, logits)
