"""hidden_covariance and wpca: definitions checked by hand on small cases."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from nasrank.data.batch import Batch
from nasrank.errors import ProxyComputationError
from nasrank.proxies import score
from nasrank.proxies.hidden_covariance import hidden_covariance_score
from nasrank.proxies.wpca import pca_dimension, wpca_score


class TinyLM(nn.Module):
    """Embedding, 2-layer LSTM, decoder: ``(B, T)`` ids -> ``(B, T, V)``."""

    def __init__(self, vocab: int = 50, hidden: int = 24) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, 16)
        self.rnn1 = nn.LSTM(16, hidden, batch_first=True)
        self.rnn2 = nn.LSTM(hidden, hidden, batch_first=True)
        self.decoder = nn.Linear(hidden, vocab)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h1, _ = self.rnn1(self.embed(x))
        h2, _ = self.rnn2(h1)
        return self.decoder(h2)


def _tokens(b: int = 4, t: int = 5, vocab: int = 50) -> torch.Tensor:
    return torch.randint(0, vocab, (b, t), generator=torch.Generator().manual_seed(0))


def _by_hand(h: torch.Tensor) -> float:
    rows = h.reshape(-1, h.shape[-1]).double().numpy()
    lam = np.linalg.eigvalsh(np.corrcoef(rows))
    return float(-np.sum(np.log(lam + 1e-5) + 1 / (lam + 1e-5)))


def test_hidden_covariance_matches_the_formula_on_the_first_layer():
    torch.manual_seed(0)
    model, x = TinyLM().eval(), _tokens()
    with torch.no_grad():
        h1, _ = model.rnn1(model.embed(x))
        h2, _ = model.rnn2(h1)
    got = score(model, Batch(x), ["hidden_covariance"])["hidden_covariance"]
    assert got == pytest.approx(_by_hand(h1), rel=1e-9)
    assert hidden_covariance_score(model, x, layer=1) == pytest.approx(_by_hand(h2), rel=1e-9)
    assert hidden_covariance_score(model, x, module="rnn2") == pytest.approx(_by_hand(h2), rel=1e-9)


def test_hidden_covariance_rejects_unknown_modules_and_layers():
    model, x = TinyLM(), _tokens()
    with pytest.raises(ProxyComputationError, match="no module named 'rnn'; did you mean"):
        hidden_covariance_score(model, x, module="rnn")
    with pytest.raises(ProxyComputationError, match="out of range"):
        hidden_covariance_score(model, x, layer=5)


def test_hidden_covariance_prefers_decorrelated_hidden_states():
    # Identical rows (perfectly correlated samples) score far below independent ones.
    g = torch.Generator().manual_seed(0)
    same = torch.randn(1, 1, 30, generator=g).repeat(1, 8, 1) + 1e-3 * torch.randn(1, 8, 30, generator=g)
    indep = torch.randn(1, 8, 30, generator=g)
    assert _by_hand(indep) > _by_hand(same)


def test_pca_dimension_counts_components():
    g = torch.Generator().manual_seed(0)
    basis = torch.randn(3, 20, generator=g)
    rank3 = torch.randn(200, 3, generator=g) @ basis
    assert pca_dimension(rank3, 0.99) <= 3
    assert pca_dimension(rank3, 0.99) >= 2
    isotropic = torch.randn(2000, 20, generator=g)
    assert pca_dimension(isotropic, 0.99) >= 19
    assert pca_dimension(isotropic, 0.5) < pca_dimension(isotropic, 0.99)


def test_wpca_is_params_times_sum_of_pca_dims_of_chosen_layers():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 32), nn.GELU(), nn.Linear(32, 8), nn.Linear(8, 32), nn.ReLU())
    x = torch.randn(64, 8, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        a = model[0](x)
        b = model[3](model[2](model[1](a)))
    n_params = sum(p.numel() for p in model.parameters())
    expected = n_params * (pca_dimension(a) + pca_dimension(b))
    assert score(model, Batch(x), ["wpca"])["wpca"] == expected  # layers 0 and 3 expand
    assert wpca_score(model, x, modules=["0"]) == n_params * pca_dimension(a)


def test_wpca_uses_declared_ffn_layers_of_the_bert_space():
    from nasrank.data import load_batch
    from nasrank.spaces import get_space

    space = get_space("nbbert")
    model = space.build(space.sample(0))
    assert all(name.endswith("fc1") for name in model.ffn_linear_names())
    batch = load_batch("tokens:30522:16", batch_size=4, seed=0)
    result = score(model, batch, ["wpca"])
    assert np.isfinite(result["wpca"]) and result["wpca"] > 0
