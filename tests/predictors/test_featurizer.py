"""Featurizer: fit on a pool, transform any architectures on the pool's scales."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import rankdata

from nasrank.predictors import FeatureSetError, Featurizer, featurize
from nasrank.testing.toy import toy_benchmark


@pytest.fixture(scope="module")
def bench():
    return toy_benchmark()


def test_fit_transform_ranks_are_scipy_ranks(bench):
    archs = bench.archs()[:60]
    m = Featurizer("zc", space="nb201", benchmark=bench).fit_transform(archs)
    raw = Featurizer("zc", space="nb201", benchmark=bench, zc_transform="raw").fit_transform(archs)
    for j in range(m.shape[1]):
        col = raw.values[:, j]
        ok = ~np.isnan(col)
        np.testing.assert_allclose(m.values[ok, j], rankdata(col[ok]) / ok.sum(), rtol=0, atol=0)


def test_transform_puts_new_archs_on_the_pool_scale(bench):
    archs = bench.archs()
    raw = Featurizer("zc", space="nb201", benchmark=bench, zc_transform="raw")
    ranks = Featurizer("zc", space="nb201", benchmark=bench).fit(archs[:50])
    raw_pool = raw.fit_transform(archs[:50]).values
    raw_new = raw.transform(archs[50:60]).values
    new = ranks.transform(archs[50:60]).values
    j = 0
    below = (raw_pool[:, j][None, :] < raw_new[:, j][:, None]).sum(1)
    ties = (raw_pool[:, j][None, :] == raw_new[:, j][:, None]).sum(1)
    np.testing.assert_allclose(new[:, j], (below + (ties + 1) / 2) / 50)


def test_featurize_is_fit_transform(bench):
    archs = bench.archs()[:30]
    a = featurize("nb201", archs, "onehot,zc", benchmark=bench, transform="rank")
    b = Featurizer("onehot,zc", space="nb201", benchmark=bench, transform="rank").fit_transform(
        archs
    )
    np.testing.assert_array_equal(a.values, b.values)
    assert a.names == b.names


def test_transform_before_fit_is_an_error(bench):
    with pytest.raises(FeatureSetError, match="not fitted"):
        Featurizer("onehot", space="nb201").transform(bench.archs()[:2])
