"""AZ-NAS's proxies (expressivity, progressivity, trainability), the block rule, and the
AZ-NAS rank aggregation; values computed independently in the tests."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nasrank.data.batch import Batch
from nasrank.proxies import AZ_NAS, ENSEMBLES, PROXIES, RankEnsemble, score
from nasrank.proxies._blocks import (
    TRAINABILITY_EPS,
    _align,
    _fold,
    block_stats,
    feature_rows,
    spectrum_entropy,
    trainability_term,
)
from nasrank.proxies._context import ProxyContext

AZ = ["az_expressivity", "az_progressivity", "az_trainability"]
NB201_BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|"


def _ctx(model: nn.Module, batch: Batch, seed: int = 0) -> ProxyContext:
    return ProxyContext(
        model,
        batch,
        loss_fn=None,
        device=torch.device("cpu"),
        seed=seed,
        wanted={"blocks": frozenset({"blocks"})},
    )


def _images(n: int = 4, size: int = 32, classes: int = 10, seed: int = 0) -> Batch:
    g = torch.Generator().manual_seed(seed)
    return Batch(
        torch.randn(n, 3, size, size, generator=g),
        torch.randint(0, classes, (n,), generator=g),
        classes,
        "test",
    )


def _vectors(n: int = 64, d: int = 6, seed: int = 0) -> Batch:
    g = torch.Generator().manual_seed(seed)
    return Batch(torch.randn(n, d, generator=g), torch.randint(0, 3, (n,), generator=g), 3, "t")


def _signs(c: int) -> torch.Tensor:
    """All 2^c sign patterns: zero-mean columns with covariance exactly I."""
    grid = torch.tensor(np.array(np.meshgrid(*[[-1.0, 1.0]] * c)).reshape(c, -1).T)
    return grid


# ---- expressivity: the entropy of the PCA spectrum ---------------------------------------
def test_isotropic_features_have_the_maximal_entropy_log_c():
    rows = _signs(4)  # covariance exactly the identity
    assert spectrum_entropy(rows) == pytest.approx(math.log(4), abs=1e-12)


def test_entropy_of_a_known_covariance_spectrum():
    lam = np.array([4.0, 2.0, 1.0, 0.5])
    rows = _signs(4) * torch.tensor(np.sqrt(lam))  # covariance diag(lam)
    p = lam / lam.sum()
    assert spectrum_entropy(rows) == pytest.approx(float(-(p * np.log(p)).sum()), abs=1e-12)


def test_entropy_is_invariant_to_rotation_scale_and_shift():
    g = torch.Generator().manual_seed(0)
    rows = torch.randn(500, 5, generator=g, dtype=torch.float64) @ torch.diag(
        torch.tensor([3.0, 1.0, 0.5, 0.2, 0.1], dtype=torch.float64)
    )
    q, _ = torch.linalg.qr(torch.randn(5, 5, generator=g, dtype=torch.float64))
    base = spectrum_entropy(rows)
    assert spectrum_entropy(rows @ q) == pytest.approx(base, abs=1e-10)
    assert spectrum_entropy(7.5 * rows + 3.0) == pytest.approx(base, abs=1e-10)
    assert 0.0 < base < math.log(5)


def test_rank_one_and_constant_features_have_entropy_zero():
    v = torch.randn(100, 1, dtype=torch.float64)
    assert spectrum_entropy(v @ torch.tensor([[1.0, -2.0, 0.5]], dtype=torch.float64)) == (
        pytest.approx(0.0, abs=1e-9)
    )
    assert spectrum_entropy(torch.zeros(10, 3)) == 0.0


def test_feature_rows_put_the_channel_axis_last():
    t = torch.arange(2 * 3 * 2 * 2, dtype=torch.float32).reshape(2, 3, 2, 2)
    rows = feature_rows(t)
    assert rows.shape == (8, 3) and torch.equal(rows[0], t[0, :, 0, 0])
    assert feature_rows(torch.zeros(2, 5, 7)).shape == (10, 7)  # (N, T, D): features last
    assert feature_rows(torch.zeros(4, 9)).shape == (4, 9)


# ---- trainability ------------------------------------------------------------------------
def test_trainability_term_is_zero_at_unit_norm_and_negative_elsewhere():
    assert trainability_term(1.0) == pytest.approx(0.0, abs=1e-5)
    for s in (0.1, 0.5, 2.0, 10.0):
        assert trainability_term(s) == pytest.approx(-s - 1 / (s + TRAINABILITY_EPS) + 2)
        assert trainability_term(s) < trainability_term(1.0)
    assert trainability_term(0.0) == pytest.approx(2 - 1e6)


def test_fold_is_pixel_unshuffle_up_to_a_channel_permutation():
    g = torch.randn(2, 3, 8, 8)
    ref = F.pixel_unshuffle(g, 2).movedim(1, -1)  # (N, 4, 4, 12)
    ours = _fold(g.movedim(1, -1), (4, 4))
    assert ours.shape == ref.shape
    assert torch.equal(torch.sort(ours, dim=-1).values, torch.sort(ref, dim=-1).values)


def test_align_folds_the_finer_grid_either_way_and_refuses_misfits():
    fine, coarse = torch.randn(2, 4, 8, 8), torch.randn(2, 6, 4, 4)
    a, b = _align(fine, coarse)  # downsampling block
    assert a.shape == (32, 16) and b.shape == (32, 6)
    a, b = _align(coarse, fine)  # upsampling block
    assert a.shape == (32, 6) and b.shape == (32, 16)
    a, b = _align(torch.randn(2, 4, 8, 8), torch.randn(2, 5))  # pooled to a vector
    assert a.shape == (2, 256) and b.shape == (2, 5)
    assert _align(torch.randn(2, 4, 6, 6), torch.randn(2, 4, 4, 4)) is None


class _Scale(nn.Module):
    """A block ``x -> a Q x`` (a bias-free linear layer with weight ``a Q``; ``Q`` the
    identity, or a cyclic permutation when ``permute``): spectral norm ``a``."""

    def __init__(self, d: int, a: float, permute: bool = False) -> None:
        super().__init__()
        self.lin = nn.Linear(d, d, bias=False)
        q = torch.eye(d).roll(1, dims=0) if permute else torch.eye(d)
        with torch.no_grad():
            self.lin.weight.copy_(a * q)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lin(x)


class _Chain(nn.Module):
    def __init__(self, *blocks: nn.Module) -> None:
        super().__init__()
        self.stem = nn.Linear(4, 4)
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.stem(x)))


def test_trainability_estimates_the_spectral_norm_of_each_block():
    torch.manual_seed(0)
    model = _Chain(_Scale(4, 0.5), _Scale(4, 2.0), _Scale(4, 1.0, permute=True))
    stats = block_stats(_ctx(model, _vectors(n=4096, d=4)))
    assert stats.names == ["<input of blocks.0>", "blocks.0", "blocks.1", "blocks.2"]
    # E[g g^T] = I for Rademacher g: M estimates a I, whose spectral norm is a
    expected = [trainability_term(a) for a in (0.5, 2.0, 1.0)]
    assert stats.trainability == pytest.approx(expected, abs=0.1)
    r = score(model, _vectors(n=4096, d=4), AZ)
    assert r["az_trainability"] == pytest.approx(np.mean(stats.trainability))


class _Pass(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.inner = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x)


def test_an_identity_block_gets_the_worst_trainability_term():
    torch.manual_seed(0)
    stats = block_stats(_ctx(_Chain(_Scale(4, 1.5), _Pass()), _vectors(d=4)))
    assert stats.trainability[-1] == trainability_term(0.0)
    assert stats.trainability[0] > -2.0


# ---- the block rule ----------------------------------------------------------------------
def test_nb201_blocks_are_the_stem_output_and_the_17_cells():
    from nasrank.spaces import get_space

    torch.manual_seed(0)
    model = get_space("nb201").build(NB201_BEST, channels=4)
    stats = block_stats(_ctx(model, _images()))
    assert stats.names == ["<input of cells.0>"] + [f"cells.{i}" for i in range(17)]
    assert len(stats.entropies) == 18 and len(stats.trainability) == 17
    r = score(model, _images(), AZ)
    assert r["az_expressivity"] == pytest.approx(sum(stats.entropies))
    assert r["az_progressivity"] == pytest.approx(min(np.diff(stats.entropies)))


def test_nb201_dead_and_identity_cells():
    from nasrank.spaces import get_space

    torch.manual_seed(0)
    dead = get_space("nb201").build(
        "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|", channels=4
    )
    stats = block_stats(_ctx(dead, _images()))
    assert stats.entropies[0] > 0 and all(e == 0.0 for e in stats.entropies[1:])
    ident = get_space("nb201").build(
        "|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|", channels=4
    )
    stats = block_stats(_ctx(ident, _images()))
    cells = [i for i in range(17) if i not in (5, 11)]  # 5, 11: the residual reductions
    assert all(stats.trainability[i] == trainability_term(0.0) for i in cells)
    assert all(stats.trainability[i] > -100 for i in (5, 11))


class _Branch(nn.Module):
    def __init__(self, d: int, act: nn.Module) -> None:
        super().__init__()
        self.lin, self.act = nn.Linear(d, d), act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.lin(x))


class _Branches(nn.Module):
    """A block of four parallel branches (blocks themselves) read from its input, summed."""

    def __init__(self, d: int) -> None:
        super().__init__()
        self.a, self.b = _Branch(d, nn.ReLU()), _Branch(d, nn.Tanh())
        self.c, self.d = _Branch(d, nn.ReLU()), _Branch(d, nn.Tanh())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.a(x) + self.b(x) + self.c(x) + self.d(x)


class _FunctionalTrunk(nn.Module):
    """Blocks joined by functional code (F.relu, a residual add), held as attributes."""

    def __init__(self, d: int = 6) -> None:
        super().__init__()
        self.embed = nn.Linear(d, d)
        self.b1, self.b2, self.b3 = _Branches(d), _Branches(d), _Branches(d)
        self.head = nn.Linear(d, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.embed(x))
        h = self.b1(h)
        h = F.relu(self.b2(h)) + h
        return self.head(self.b3(h).mean(dim=0, keepdim=True).expand_as(h) + h)


def test_blocks_chain_through_functional_code_and_not_through_parallel_branches():
    torch.manual_seed(0)
    stats = block_stats(_ctx(_FunctionalTrunk(), _vectors()))
    # four parallel branch blocks per block do not chain; the 3 blocks b1 -> b2 -> b3 do
    assert stats.names == ["<input of b1>", "b1", "b2", "b3"]


class _InPlaceAfter(nn.Module):
    def __init__(self, inplace: bool) -> None:
        super().__init__()
        self.trunk = nn.Sequential(_Scale(6, 1.3), nn.ReLU(inplace=inplace), _Scale(6, 0.7))
        self.stem = nn.Linear(6, 6)
        self.head = nn.Linear(6, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.trunk(self.stem(x)))


def test_features_overwritten_in_place_later_are_recorded_before_it():
    torch.manual_seed(0)
    clean = _InPlaceAfter(False)
    torch.manual_seed(0)
    overwritten = _InPlaceAfter(True)  # the ReLU overwrites the first block's output
    a = block_stats(_ctx(clean, _vectors()))
    b = block_stats(_ctx(overwritten, _vectors()))
    assert a.entropies == pytest.approx(b.entropies, abs=1e-12)
    assert a.trainability == pytest.approx(b.trainability, abs=1e-12)


def test_a_trunk_of_one_feature_explains_progressivity_and_trainability():
    torch.manual_seed(0)
    r = score(nn.Linear(6, 3), _vectors(), AZ)
    assert math.isfinite(r["az_expressivity"])
    for name in ("az_progressivity", "az_trainability"):
        assert math.isnan(r[name]) and "at least two block features" in r.reasons[name]


def test_az_proxies_share_one_pass_and_need_no_labels():
    torch.manual_seed(0)
    model = _Chain(_Scale(4, 0.5), _Scale(4, 2.0))
    b = _vectors(d=4)
    together = score(model, b, AZ)
    assert set(together.pass_seconds) == {"blocks"}
    relabelled = Batch(b.inputs, (b.targets + 1) % 3, 3, "t")
    assert dict(score(model, relabelled, AZ)) == dict(together)
    assert not any(PROXIES.get(n).needs_labels for n in AZ)


# ---- the AZ-NAS aggregation --------------------------------------------------------------
def _pool(seed: int = 0, n: int = 30) -> list[dict[str, float]]:
    rng = np.random.default_rng(seed)
    return [{m: float(v) for m, v in zip(AZ_NAS.proxies, rng.normal(size=4))} for _ in range(n)]


def test_az_nas_is_the_sum_of_log_relative_ranks():
    from scipy.stats import rankdata

    pool = _pool()
    expected = sum(np.log(rankdata([p[m] for p in pool]) / len(pool)) for m in AZ_NAS.proxies)
    assert AZ_NAS(pool) == pytest.approx(expected)
    assert ENSEMBLES["az_nas"] is AZ_NAS and not AZ_NAS.needs_labels


def test_rank_aggregations_are_invariant_to_monotone_maps_and_geometric_orders_as_log_rank():
    pool = _pool(1)
    mapped = [{k: math.exp(v) for k, v in p.items()} for p in pool]
    assert AZ_NAS(mapped) == pytest.approx(AZ_NAS(pool))
    geo = RankEnsemble(AZ_NAS.proxies, aggregation="geometric")(pool)
    assert np.argsort(geo).tolist() == np.argsort(AZ_NAS(pool)).tolist()
    assert geo == pytest.approx(np.exp(AZ_NAS(pool) / 4))


def test_log_rank_punishes_one_bad_rank_more_than_the_mean():
    pool = [{"a": 2.0, "b": 2.0}, {"a": 3.0, "b": 1.0}, {"a": 1.0, "b": 3.0}]
    mean = RankEnsemble(("a", "b"))(pool)
    logr = RankEnsemble(("a", "b"), aggregation="log_rank")(pool)
    assert mean[0] == mean[1] == mean[2]  # rank sums tie
    assert logr[0] > logr[1] and logr[0] > logr[2]  # consistently good beats one bad rank


def test_missing_members_rank_worst_or_are_skipped():
    pool = [{"a": 1.0, "b": 1.0}, {"a": math.nan, "b": 3.0}, {"a": 2.0, "b": 2.0}]
    worst = RankEnsemble(("a", "b"), aggregation="log_rank", missing="worst")(pool)
    assert worst[1] == pytest.approx(math.log(1 / 3) + math.log(3 / 3))
    skip = RankEnsemble(("a", "b"), aggregation="log_rank")(pool)
    assert skip[1] == pytest.approx(0.0)  # b alone, its best: the mean log rank, scaled
    with pytest.raises(ValueError, match="unknown aggregation"):
        RankEnsemble(("a",), aggregation="median")
    with pytest.raises(ValueError, match="missing-value rule"):
        RankEnsemble(("a",), missing="zero")


def test_the_aggregations_are_no_per_model_proxies():
    from nasrank.errors import UnknownNameError

    for name in ("az_nas", "vkdnw_agg"):
        with pytest.raises(UnknownNameError, match="rank aggregation over a pool"):
            score(nn.Linear(6, 3), _vectors(), [name])
