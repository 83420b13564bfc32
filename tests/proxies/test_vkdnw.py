"""VKDNW: the Fisher information of a parameter subset and the entropy of its spectrum's
deciles; VKDNW_single; the VKDNW_agg aggregation. Values computed independently here."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from nasrank.data.batch import Batch
from nasrank.proxies import ENSEMBLES, PROXIES, VKDNW_AGG, score
from nasrank.proxies._context import ProxyContext
from nasrank.proxies._fisher_info import fisher_from_jacobians, fisher_information
from nasrank.proxies.vkdnw import decile_entropy

NAMES = ["vkdnw", "vkdnw_single"]


def _ctx(model: nn.Module, batch: Batch) -> ProxyContext:
    return ProxyContext(
        model,
        batch,
        loss_fn=None,
        device=torch.device("cpu"),
        seed=0,
        wanted={"fisher_info": frozenset({"fisher_info"})},
    )


def _vectors(n: int = 16, d: int = 5, k: int = 4, seed: int = 0) -> Batch:
    g = torch.Generator().manual_seed(seed)
    return Batch(torch.randn(n, d, generator=g), torch.randint(0, k, (n,), generator=g), k, "t")


def _mlp(seed: int = 0, d: int = 5, k: int = 4) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(d, 7), nn.Tanh(), nn.Linear(7, 6), nn.ReLU(), nn.Linear(6, k))


def _entropy(q: np.ndarray) -> float:
    t = q / q.sum()
    t = t[t > 0]
    return float(-(t * np.log(t)).sum())


# ---- the spectrum's decile entropy -------------------------------------------------------
def test_decile_entropy_of_a_hand_built_spectrum():
    lam = np.array([0.0, 1e-4, 3e-3, 0.01, 0.2, 0.5, 1.0, 2.0, 4.0, 9.0, 30.0, 100.0])
    q = np.quantile(lam, np.arange(1, 10) / 10)  # linear interpolation, as torch.quantile
    assert decile_entropy(torch.tensor(lam)) == pytest.approx(_entropy(q), abs=1e-12)


def test_a_flat_spectrum_has_the_maximal_entropy_log_9():
    assert decile_entropy(torch.full((20,), 3.0)) == pytest.approx(math.log(9), abs=1e-12)
    steep = decile_entropy(torch.logspace(-8, 0, 20, dtype=torch.float64))
    assert 0.0 < steep < 1.0


def test_decile_entropy_is_scale_invariant_and_clips_rounding():
    lam = torch.tensor([0.5, 1.0, 2.0, 3.0, 8.0, 13.0], dtype=torch.float64)
    assert decile_entropy(1e3 * lam) == pytest.approx(decile_entropy(lam), abs=1e-12)
    with_rounding = torch.cat([torch.tensor([-1e-12], dtype=torch.float64), lam])
    zeroed = torch.cat([torch.tensor([0.0], dtype=torch.float64), lam])
    assert decile_entropy(with_rounding) == decile_entropy(zeroed)


def test_a_spectrum_zero_up_to_its_top_decile_has_entropy_zero():
    assert decile_entropy(torch.zeros(10)) == 0.0
    assert decile_entropy(torch.tensor([0.0] * 19 + [5.0])) == 0.0
    assert decile_entropy(torch.tensor([0.0] * 8 + [1.0, 5.0])) > 0.0


# ---- the Fisher information --------------------------------------------------------------
def test_fisher_from_jacobians_is_the_expected_outer_product_of_score_vectors():
    g = torch.Generator().manual_seed(0)
    jac = torch.randn(5, 3, 2, 4, generator=g, dtype=torch.float64)  # (N, K, S, P)
    logits = torch.randn(5, 3, 2, generator=g, dtype=torch.float64)
    expected = torch.zeros(4, 4, dtype=torch.float64)
    for n in range(5):
        for s in range(2):
            p = torch.softmax(logits[n, :, s], 0)
            for k in range(3):  # E_{y ~ p} [grad log p(y) grad log p(y)^T]
                score_k = jac[n, :, s, :].T @ (torch.eye(3, dtype=torch.float64)[k] - p)
                expected += p[k] * torch.outer(score_k, score_k)
    torch.testing.assert_close(fisher_from_jacobians(jac, logits), expected / 5)


def test_fisher_from_jacobians_is_accurate_when_the_softmax_is_nearly_one_hot():
    """Logits 30-60 apart and derivatives ~1e5 (an NB-201 network in eval mode at
    initialisation): the FIM is ~1e-3 of what expanding sum p J^2 - (sum p J)^2 would
    cancel from ~1e10; against exact rational arithmetic on the same float64 inputs."""
    from fractions import Fraction

    g = torch.Generator().manual_seed(1)
    jac = 1e5 * torch.randn(3, 3, 1, 2, generator=g, dtype=torch.float64)
    logits = torch.tensor([[0.0, -30.0, -60.0], [-45.0, 0.0, -30.0], [-30.0, -50.0, 0.0]],
                          dtype=torch.float64).unsqueeze(-1)  # fmt: skip
    p = torch.softmax(logits, dim=1)
    exact = [[Fraction(0)] * 2 for _ in range(2)]
    for n in range(3):
        pn = [Fraction(float(v)) for v in p[n, :, 0]]
        pn = [v / sum(pn) for v in pn]  # a distribution exactly (float64's sums to 1 +- eps)
        jn = [[Fraction(float(v)) for v in jac[n, k, 0]] for k in range(3)]
        mean = [sum(pn[k] * jn[k][a] for k in range(3)) for a in range(2)]
        for a in range(2):
            for b in range(2):
                second = sum(pn[k] * jn[k][a] * jn[k][b] for k in range(3))
                exact[a][b] += (second - mean[a] * mean[b]) / 3
    want = torch.tensor([[float(v) for v in row] for row in exact], dtype=torch.float64)
    got = fisher_from_jacobians(jac, logits)
    torch.testing.assert_close(got, want, rtol=1e-9, atol=0.0)
    assert torch.linalg.eigvalsh(got).min() >= 0.0


def _reference_fisher(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The FIM of the first scalars, by one autograd call per sample and class."""
    model = model.eval()
    params = [p for p in model.parameters()]
    f = torch.zeros(len(params), len(params), dtype=torch.float64)
    for xi in x:
        z = model(xi[None])[0]
        jac = torch.stack(
            [
                torch.stack(
                    [g.reshape(-1)[0] for g in torch.autograd.grad(z[k], params, retain_graph=True)]
                )
                for k in range(z.shape[0])
            ]
        ).double()  # (K, P)
        p = torch.softmax(z.detach().double(), 0)
        f += jac.T @ (torch.diag(p) - torch.outer(p, p)) @ jac
    return f / x.shape[0]


def test_fisher_information_of_a_model_matches_a_direct_computation():
    model, batch = _mlp(), _vectors()
    fim = fisher_information(_ctx(model, batch))
    assert fim.names == [n for n, _ in model.named_parameters()]
    ref = _reference_fisher(_mlp(), batch.inputs)
    torch.testing.assert_close(fim.matrix, ref, rtol=1e-5, atol=1e-9)
    lam = np.linalg.eigvalsh(ref.numpy())
    expected = _entropy(np.quantile(np.clip(lam, 0, None), np.arange(1, 10) / 10))
    assert score(model, batch, ["vkdnw"])["vkdnw"] == pytest.approx(expected, rel=1e-6)


class _IgnoresExtras(nn.Module):
    """An MLP taking (and ignoring) a keyword tensor, like a graph model's edge_index."""

    def __init__(self) -> None:
        super().__init__()
        self.net = _mlp()

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def test_a_shared_forward_batch_gives_the_same_fisher_when_samples_are_independent():
    b = _vectors()
    extras = Batch(b.inputs, b.targets, 4, "t", {"edge_index": torch.zeros(2, 1, dtype=torch.long)})
    shared = fisher_information(_ctx(_IgnoresExtras(), extras)).matrix
    torch.testing.assert_close(shared, fisher_information(_ctx(_mlp(), b)).matrix)


def test_vkdnw_single_orders_by_the_fim_dimension_then_vkdnw():
    model, batch = _mlp(), _vectors()
    r = score(model, batch, NAMES)
    p = len(list(model.parameters()))
    assert r["vkdnw_single"] == pytest.approx(p + r["vkdnw"] / (2 * math.log(9)))
    assert math.floor(r["vkdnw_single"]) == p
    frozen = _mlp()
    frozen[0].bias.requires_grad_(False)  # not trained, so not a weight to estimate
    assert math.floor(score(frozen, batch, ["vkdnw_single"])["vkdnw_single"]) == p - 1


def test_vkdnw_is_label_free_and_invariant_to_the_order_of_the_batch():
    model, b = _mlp(), _vectors()
    base = score(model, b, NAMES)
    perm = torch.randperm(16, generator=torch.Generator().manual_seed(1))
    shuffled = Batch(b.inputs[perm], (b.targets[perm] + 1) % 4, 4, "t")
    again = score(model, shuffled, NAMES)
    assert again["vkdnw"] == pytest.approx(base["vkdnw"], rel=1e-6)
    assert not any(PROXIES.get(n).needs_labels for n in NAMES)


def test_dense_outputs_sum_the_fisher_over_positions():
    torch.manual_seed(0)
    conv = nn.Sequential(nn.Conv2d(2, 3, 1), nn.Tanh(), nn.Conv2d(3, 3, 1))
    x = torch.randn(3, 2, 2, 2)
    fim = fisher_information(_ctx(conv, Batch(x, None, None, "t"))).matrix
    # the same network applied to each position as a separate sample, times positions
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 3))
    rows = x.permute(0, 2, 3, 1).reshape(-1, 2)
    ref = _reference_fisher(mlp, rows) * 4
    torch.testing.assert_close(fim, ref, rtol=1e-5, atol=1e-9)


def test_undefined_cases_are_nan_with_a_reason():
    torch.manual_seed(0)
    one_out = score(nn.Sequential(nn.Linear(5, 3), nn.Linear(3, 1)), _vectors(), NAMES)
    assert math.isnan(one_out["vkdnw"]) and "two classes" in one_out.reasons["vkdnw"]
    one_tensor = score(nn.Linear(5, 4, bias=False), _vectors(), NAMES)
    assert "two trainable parameter tensors" in one_tensor.reasons["vkdnw"]


def test_models_vmap_cannot_batch_are_differentiated_sample_by_sample():
    class GRUNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rnn = nn.GRU(5, 6, num_layers=2, batch_first=True)
            self.head = nn.Linear(6, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.head(self.rnn(x)[0][:, -1])

    torch.manual_seed(0)
    net = GRUNet()
    x = torch.randn(4, 3, 5)
    fim = fisher_information(_ctx(net, Batch(x, None, None, "t"))).matrix
    torch.testing.assert_close(fim, _reference_fisher(net, x), rtol=1e-5, atol=1e-9)


# ---- VKDNW_agg ---------------------------------------------------------------------------
def test_vkdnw_agg_is_the_sum_of_log_ranks_of_its_members():
    from scipy.stats import rankdata

    rng = np.random.default_rng(0)
    pool = [{m: float(v) for m, v in zip(VKDNW_AGG.proxies, rng.normal(size=5))} for _ in range(40)]
    expected = sum(np.log(rankdata([p[m] for p in pool]) / 40) for m in VKDNW_AGG.proxies)
    assert VKDNW_AGG(pool) == pytest.approx(expected)
    assert VKDNW_AGG.proxies == (
        "vkdnw_single",
        "jacov",
        "az_expressivity",
        "az_trainability",
        "flops",
    )
    assert ENSEMBLES["vkdnw_agg"] is VKDNW_AGG and not VKDNW_AGG.needs_labels


def test_eigenvalues_within_rounding_of_zero_count_as_zero_and_small_real_ones_stay():
    from nasrank.proxies.vkdnw import numerical_spectrum

    g = torch.Generator().manual_seed(0)
    q, _ = torch.linalg.qr(torch.randn(30, 30, generator=g, dtype=torch.float64))
    real = torch.cat([torch.logspace(0, -10, 12, dtype=torch.float64), torch.zeros(18)])
    lam = numerical_spectrum(q @ torch.diag(real) @ q.T)
    assert int((lam > 0).sum()) == 12  # the 18 structural zeros, not their rounding
    torch.testing.assert_close(
        lam[lam > 0].sort().values, real[:12].sort().values, rtol=1e-4, atol=0
    )
