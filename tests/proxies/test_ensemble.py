"""Rank ensembles over a candidate pool."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nasrank.proxies import LABEL_FREE_ENSEMBLE, PROXIES, RankEnsemble, label_free_ensemble
from nasrank.proxies.ensemble import normalised_ranks


def test_normalised_ranks():
    assert normalised_ranks([3.0, 1.0, 2.0]).tolist() == [1.0, 0.0, 0.5]
    r = normalised_ranks([1.0, math.nan, 1.0])
    assert r[0] == r[2] == 0.5 and math.isnan(r[1])
    assert normalised_ranks([5.0]).tolist() == [0.5]


def test_mean_rank_is_invariant_to_member_scale_and_monotone_maps():
    pool = [{"a": 1.0, "b": 100.0}, {"a": 2.0, "b": 300.0}, {"a": 3.0, "b": 200.0}]
    ens = RankEnsemble(("a", "b"))
    assert ens(pool).tolist() == pytest.approx([0.0, 0.75, 0.75])
    pool2 = [{"a": math.exp(p["a"]), "b": p["b"] ** 3} for p in pool]
    assert ens(pool2).tolist() == pytest.approx(ens(pool).tolist())


def test_nan_members_are_skipped_per_candidate():
    pool = [{"a": 1.0, "b": math.nan}, {"a": 2.0, "b": 1.0}, {"a": math.nan, "b": math.nan}]
    out = RankEnsemble(("a", "b"))(pool)
    assert out[0] == 0.0 and out[1] == pytest.approx((1.0 + 0.5) / 2) and math.isnan(out[2])
    weighted = RankEnsemble(("a", "b"), weights=(3.0, 1.0))(pool)
    assert weighted[1] == pytest.approx((3 * 1.0 + 0.5) / 4)


def test_invalid_ensembles():
    with pytest.raises(ValueError):
        RankEnsemble(())
    with pytest.raises(ValueError):
        RankEnsemble(("a",), weights=(1.0, 2.0))
    with pytest.raises(ValueError, match="needs labels"):
        label_free_ensemble([{"snip": 1.0}], proxies=["snip", "nwot"])


def test_default_label_free_ensemble_uses_label_free_proxies():
    for name in LABEL_FREE_ENSEMBLE.proxies:
        assert not PROXIES.get(name).needs_labels
    rng = np.random.default_rng(0)
    pool = [{n: float(v) for n, v in zip(LABEL_FREE_ENSEMBLE.proxies, rng.normal(size=3))}
            for _ in range(6)]
    out = label_free_ensemble(pool)
    assert out.shape == (6,) and np.all((out >= 0) & (out <= 1))
    assert label_free_ensemble([]).shape == (0,)


def test_parse_ensemble_spellings():
    from nasrank.proxies import AZ_NAS, parse_ensemble

    assert parse_ensemble("az_nas") is AZ_NAS
    e = parse_ensemble(" meco + jacov ")
    assert e.proxies == ("meco", "jacov") and e.aggregation == "mean" and e.weights is None
    assert e.missing == "worst"
    e = parse_ensemble("0.5*meco+synflow:geometric")
    assert e.weights == (0.5, 1.0) and e.aggregation == "geometric"
    pool = [{"meco": 1.0, "synflow": 3.0}, {"meco": 2.0, "synflow": float("nan")}]
    # synflow NaN ranks worst: candidate 0 is best on synflow, candidate 1 on meco
    want = RankEnsemble(("meco", "synflow"), weights=(0.5, 1.0), aggregation="geometric",
                        missing="worst")(pool)  # fmt: skip
    np.testing.assert_allclose(e(pool), want)
    assert e(pool)[0] > e(pool)[1]


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("meco", "two or more"),
        ("meco+", "two or more"),
        ("meco+nosuch", "nosuch"),
        ("meco+jacov:best", "unknown aggregation"),
        ("-1*meco+jacov", "non-negative"),
    ],
)
def test_parse_ensemble_refuses(text, fragment):
    from nasrank.proxies import parse_ensemble

    with pytest.raises(ValueError, match=fragment):
        parse_ensemble(text)
