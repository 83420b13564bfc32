"""Each proxy against a hand-computable case or an independent straightforward computation."""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nasrank.data.batch import Batch
from nasrank.proxies import score

from .conftest import image_batch, make_cnn, make_mlp, vector_batch


def _double_cnn() -> tuple[nn.Module, Batch]:
    model = make_cnn().double()
    b = image_batch(6)
    return model, Batch(b.inputs.double(), b.targets, 3, "test")


def _double_mlp() -> tuple[nn.Module, Batch]:
    model = make_mlp().double()
    b = vector_batch(6)
    return model, Batch(b.inputs.double(), b.targets, 3, "test")


def _weights(model: nn.Module) -> list[nn.Parameter]:
    return [m.weight for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


# ---- synflow ---------------------------------------------------------------------------
def _two_layer(with_bn: bool) -> nn.Module:
    layers: list[nn.Module] = [nn.Linear(2, 3, bias=False), nn.ReLU()]
    if with_bn:
        bn = nn.BatchNorm1d(3)
        with torch.no_grad():
            bn.weight.copy_(torch.tensor([0.5, -2.0, 3.0]))
            bn.bias.copy_(torch.tensor([1.0, -1.0, 0.2]))
            bn.running_mean.copy_(torch.tensor([4.0, -3.0, 0.5]))
            bn.running_var.copy_(torch.tensor([9.0, 0.1, 2.0]))
        layers.append(bn)
    layers.append(nn.Linear(3, 1, bias=False))
    model = nn.Sequential(*layers)
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[1.0, -2.0], [0.5, 0.25], [-3.0, 1.0]]))
        model[-1].weight.copy_(torch.tensor([[2.0, -1.0, 0.5]]))
    return model


def test_synflow_by_hand():
    # |W1| 1 = (3, 0.75, 4); R = |W2| . that = 2*3 + 1*0.75 + 0.5*4 = 8.75.
    # Every path crosses both layers, so each layer's sum of w dR/dw is R: total 2R.
    model = _two_layer(with_bn=False)
    value = score(model, torch.randn(5, 2), ["synflow"])["synflow"]
    assert value == pytest.approx(math.log(2 * 8.75), rel=1e-12)


def test_synflow_switches_batch_norm_off():
    value = score(_two_layer(with_bn=True), torch.randn(5, 2), ["synflow"])["synflow"]
    assert value == pytest.approx(math.log(2 * 8.75), rel=1e-12)


def test_synflow_uses_only_the_input_shape():
    model = make_cnn()
    a = score(model, torch.randn(4, 3, 8, 8), ["synflow"])["synflow"]
    b = score(model, torch.zeros(9, 3, 8, 8), ["synflow"])["synflow"]
    assert a == b


# ---- params / flops / l2_norm ----------------------------------------------------------
def test_params_and_flops_of_the_tiny_cnn_by_hand():
    # TinyCNN on 3x8x8 inputs (8x8 = 64 positions throughout):
    # params: conv 3->4 3x3 no bias 108; BN(4) 8; conv 4->6 3x3 + bias 216 + 6; BN(6) 12;
    #   linear 6->3 + bias 21: 371.
    # flops (torchstat's convention, see nasrank.complexity): conv1 108*64 = 6912;
    #   BN 2*4*64 = 512; ReLU 256; conv2 216*64 + 6*64 = 14208; BN 768; ReLU 384;
    #   adaptive pool to 1x1 over 8x8: 6*(8+1)*(8+1) = 486; linear 6*3 = 18: 23544.
    r = score(make_cnn(), image_batch(), ["params", "flops"])
    assert r["params"] == pytest.approx(371 / 1e6, rel=1e-12)
    assert r["flops"] == pytest.approx(23544 / 1e6, rel=1e-12)


def test_params_and_flops_of_an_nb201_network():
    from nasrank.spaces import get_space

    space = get_space("nb201")
    model = space.build("(2, 2, 2, 2, 2, 2)")
    r = score(model, torch.zeros(1, 3, 32, 32), ["params", "flops"])
    assert r["params"] == pytest.approx(1.531546, abs=1e-9)  # Suite-Zero's stored value
    assert r["flops"] == pytest.approx(222.86, rel=5e-4)


def test_l2_norm_by_hand():
    model = make_mlp()
    expected = sum(float(w.detach().double().norm()) for w in _weights(model))
    assert score(model, None, ["l2_norm"])["l2_norm"] == pytest.approx(expected, rel=1e-12)


# ---- gradient saliencies on the shared pass --------------------------------------------
def _manual_grads(model: nn.Module, batch: Batch) -> tuple[list, list]:
    net = copy.deepcopy(model).train()
    ws = _weights(net)
    loss = F.cross_entropy(net(batch.inputs), batch.targets)
    return ws, list(torch.autograd.grad(loss, ws))


@pytest.mark.parametrize("make", [_double_cnn, _double_mlp])
def test_grad_norm_snip_plain_match_a_direct_backward(make):
    model, batch = make()
    r = score(model, batch, ["grad_norm", "snip", "plain"])
    ws, gs = _manual_grads(model, batch)
    assert r["grad_norm"] == pytest.approx(sum(float(g.norm()) for g in gs), rel=1e-10)
    assert r["snip"] == pytest.approx(
        sum(float((w.detach() * g).abs().sum()) for w, g in zip(ws, gs)), rel=1e-10)
    assert r["plain"] == pytest.approx(sum(float((w.detach() * g).sum()) for w, g in zip(ws, gs)),
                                       rel=1e-8, abs=1e-12)


@pytest.mark.parametrize("make", [_double_cnn, _double_mlp])
def test_grasp_matches_two_pass_reference_procedure(make):
    model, batch = make()
    net = copy.deepcopy(model).train()
    ws = _weights(net)
    g = torch.autograd.grad(F.cross_entropy(net(batch.inputs), batch.targets), ws)
    gf = torch.autograd.grad(F.cross_entropy(net(batch.inputs), batch.targets), ws,
                             create_graph=True)
    z = sum((a.detach() * b).sum() for a, b in zip(g, gf))
    hg = torch.autograd.grad(z, ws)
    expected = sum(float((-w.detach() * h).sum()) for w, h in zip(ws, hg))
    assert score(model, batch, ["grasp"])["grasp"] == pytest.approx(expected, rel=1e-8)


def test_fisher_matches_activation_gradient_formula():
    model, batch = _double_mlp()
    net = copy.deepcopy(model).train()
    acts: list[torch.Tensor] = []
    layers = [m for m in net.modules() if isinstance(m, nn.Linear)]
    hooks = [m.register_forward_hook(lambda m, i, o: acts.append(o)) for m in layers]
    loss = F.cross_entropy(net(batch.inputs), batch.targets)
    for h in hooks:
        h.remove()
    grads = torch.autograd.grad(loss, acts)
    expected = sum(
        float(0.5 * (a.detach() * g).pow(2).mean(0).sum()) * m.weight.shape[1]
        for a, g, m in zip(acts, grads, layers)
    )
    assert score(model, batch, ["fisher"])["fisher"] == pytest.approx(expected, rel=1e-10)


# ---- Jacobian-based ----------------------------------------------------------------------
def test_jacov_of_a_linear_map_by_hand():
    # y = W x: every sample's Jacobian row is 1^T W, so all rows correlate perfectly; the
    # correlation matrix is all ones with eigenvalues N and 0 (N - 1 times).
    torch.manual_seed(0)
    model = nn.Linear(5, 3).double()
    n, k = 6, 1e-5
    x = torch.randn(n, 5, dtype=torch.float64)
    expected = -((math.log(n + k) + 1 / (n + k)) + (n - 1) * (math.log(k) + 1 / k))
    assert score(model, x, ["jacov"])["jacov"] == pytest.approx(expected, rel=1e-6)


def test_epe_nas_of_a_linear_map_by_hand():
    torch.manual_seed(0)
    model = nn.Linear(5, 3).double()
    labels = torch.tensor([0, 0, 0, 1, 1, 2])
    batch = Batch(torch.randn(6, 5, dtype=torch.float64), labels, 3, "test")
    # per class all correlations are 1: s_c = n_c^2 log(1 + k); score = sum |s_c|
    expected = (9 + 4 + 1) * math.log(1 + 1e-5)
    assert score(model, batch, ["epe_nas"])["epe_nas"] == pytest.approx(expected, rel=1e-6)


# ---- activation-pattern proxies --------------------------------------------------------
class _ReluProbe(nn.Module):
    """ReLU straight on the inputs, so the codes are the inputs' signs."""

    def __init__(self) -> None:
        super().__init__()
        self.act = nn.ReLU()
        self.head = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.act(x))


def _probe_inputs() -> torch.Tensor:
    return torch.tensor([
        [1.0, -1.0, 2.0, -0.5],
        [1.0, 1.0, -2.0, -0.5],
        [-1.0, 1.0, 3.0, 0.5],
    ])


def test_nwot_by_hand():
    x = _probe_inputs()
    c = (x > 0).double()
    kernel = c @ c.T + (1 - c) @ (1 - c).T
    expected = float(torch.linalg.slogdet(kernel).logabsdet)
    assert score(_ReluProbe(), x, ["nwot"])["nwot"] == pytest.approx(expected, rel=1e-12)


def test_swap_counts_distinct_sample_wise_patterns():
    x = _probe_inputs()
    # unit patterns over the 3 samples: (1,1,0), (0,1,1), (1,0,1), (0,0,1) -> 4 distinct
    assert score(_ReluProbe(), x, ["swap"])["swap"] == 4.0
    x2 = torch.cat([x, -x[:, :1]], dim=1)  # a 5th unit; its pattern (0,0,1) is not new
    model = _ReluProbe()
    model.head = nn.Linear(5, 2)
    assert score(model, x2, ["swap"])["swap"] == 4.0


def test_swap_packs_more_than_64_samples():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(100, 4, generator=g)
    expected = len({tuple((x[:, j] > 0).tolist()) for j in range(4)})
    x = torch.cat([x, x[:, :2]], dim=1)  # duplicate units
    model = _ReluProbe()
    model.head = nn.Linear(6, 2)
    assert score(model, x, ["swap"])["swap"] == expected


def test_meco_by_hand():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 5, 3, padding=1))
    x = torch.randn(4, 3, 6, 6)
    out = model(x)[0].detach().reshape(5, -1).double()
    lam = float(torch.linalg.eigvalsh(torch.corrcoef(out))[0])
    # hooked twice: the Sequential and the conv produce the same tensor
    assert score(model, x, ["meco"])["meco"] == pytest.approx(2 * lam, rel=1e-6, abs=1e-9)


# ---- per-sample gradient proxies ---------------------------------------------------------
def _per_sample_loop(model: nn.Module, batch: Batch) -> list[list[torch.Tensor]]:
    """One backward per sample, each sample alone in train mode (GradSign's reference)."""
    out = []
    for i in range(len(batch)):
        net = copy.deepcopy(model).train()
        ws = _weights(net)
        loss = F.cross_entropy(net(batch.inputs[i : i + 1]), batch.targets[i : i + 1])
        out.append([g.detach() for g in torch.autograd.grad(loss, ws, allow_unused=True)])
    return out


@pytest.mark.parametrize("make", [_double_cnn, _double_mlp])
def test_gradsign_matches_an_explicit_per_sample_loop(make):
    model, batch = make()
    per = _per_sample_loop(model, batch)
    expected = sum(
        float(torch.stack([torch.sign(p[j]) for p in per]).sum(0).abs().sum())
        for j in range(len(per[0]))
    )
    assert score(model, batch, ["gradsign"])["gradsign"] == expected


@pytest.mark.parametrize("make", [_double_cnn, _double_mlp])
def test_zico_matches_an_explicit_per_sample_loop(make):
    model, batch = make()
    per = _per_sample_loop(model, batch)
    expected = 0.0
    for j in range(len(per[0])):
        g = torch.stack([p[j] for p in per])
        std, mean_abs = g.std(0, unbiased=False), g.abs().mean(0)
        nz = std > 0
        s = float((mean_abs[nz] / std[nz]).sum())
        if s > 0:
            expected += math.log(s)
    assert score(model, batch, ["zico"])["zico"] == pytest.approx(expected, rel=1e-9)


# ---- zen -----------------------------------------------------------------------------------
def test_zen_ignores_the_current_weights_and_follows_the_seed():
    model = make_cnn()
    scaled = copy.deepcopy(model)
    with torch.no_grad():
        for p in scaled.parameters():
            p.mul_(3.0)
    b = image_batch()
    a = score(model, b, ["zen"], seed=5)["zen"]
    assert score(scaled, b, ["zen"], seed=5)["zen"] == a  # re-initialised from the seed
    assert score(model, b, ["zen"], seed=6)["zen"] != a


def test_zen_by_hand_without_batch_norm():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3))
    x = torch.zeros(5, 4)
    value = score(model, x, ["zen"], seed=1)["zen"]
    g = torch.Generator().manual_seed(1 + 1)
    w = torch.randn(3, 4, generator=g)
    clean, noise = torch.randn(5, 4, generator=g), torch.randn(5, 4, generator=g)
    delta = (clean @ w.T - (clean + 1e-2 * noise) @ w.T).abs().sum(1).mean()
    assert value == pytest.approx(math.log(float(delta)), rel=1e-5)
