"""Every registered proxy on every model family of the zoo (nasrank.testing.zoo).

One test per (case, check): finite or explained, together equals alone, the caller's
model and RNG untouched, the same scores under ``no_grad`` / ``inference_mode``.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from nasrank.data.batch import Batch
from nasrank.proxies import PROXIES
from nasrank.testing import ZOO, ZOO_CHECKS, check_model, check_zoo_case, zoo_table
from nasrank.testing.zoo import check_finite_or_explained, check_model_untouched

pytestmark = pytest.mark.usefixtures("one_torch_thread")

#: Cases over 5 s for all four checks on one thread (none today).
SLOW_CASES: frozenset[str] = frozenset()

CASES = [pytest.param(n, id=n, marks=pytest.mark.slow if n in SLOW_CASES else ())
         for n in ZOO]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("check", ZOO_CHECKS, ids=[c.__name__[6:] for c in ZOO_CHECKS])
def test_zoo(case, check):
    c = ZOO[case]
    if check is check_finite_or_explained:
        check(c.make_model, c.make_batch(), None, c.inapplicable, c.name)
    else:
        check(c.make_model, c.make_batch(), None, c.name)


def test_zoo_has_the_families_of_the_issue():
    assert len(ZOO) >= 12
    for name in ("resnet_relu", "gelu_silu_cnn", "depthwise_separable", "vit", "bert_encoder",
                 "lstm_lm", "gru_lm", "gcn", "gat", "mlp", "unused_params", "tuple_output",
                 "dict_output", "functional_relu"):
        assert name in ZOO, name


def test_zoo_expectations_name_registered_proxies():
    for case in ZOO.values():
        unknown = set(case.inapplicable) - set(PROXIES.names())
        assert not unknown, f"case {case.name!r} lists unknown proxies {sorted(unknown)}"
        assert all(len(why.split()) >= 3 for why in case.inapplicable.values()), case.name


def test_factories_are_seeded_and_leave_the_global_rng_alone():
    for case in ZOO.values():
        rng = torch.get_rng_state()
        a, b = case.make_model(), case.make_model()
        assert torch.equal(torch.get_rng_state(), rng), case.name
        for (k, v), w in zip(a.state_dict().items(), b.state_dict().values()):
            assert torch.equal(v, w), f"{case.name}: {k} differs between two builds"
        assert case.make_batch().fingerprint() == case.make_batch().fingerprint(), case.name


def test_zoo_table_rows():
    rows = zoo_table(["params", "nwot"], cases=["mlp", "lstm_lm"])
    assert [(r.case, r.proxy) for r in rows] == [
        ("mlp", "params"), ("mlp", "nwot"), ("lstm_lm", "params"), ("lstm_lm", "nwot")
    ]
    status = {(r.case, r.proxy): r for r in rows}
    assert status["mlp", "nwot"].status == "finite"
    assert status["lstm_lm", "nwot"].status.startswith("NaN: ")  # sigmoid/tanh gates only
    assert status["lstm_lm", "nwot"].expected.startswith("NaN: ")
    assert all(r.as_expected for r in rows)


def test_unknown_case_lists_the_choices():
    with pytest.raises(KeyError, match="unknown zoo case 'vitt'; choices: .*vit"):
        check_zoo_case("vitt")


# ---- the checks catch what they should ---------------------------------------------------
def _make_mlp() -> nn.Module:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 3))


def _vectors(n: int = 8) -> Batch:
    g = torch.Generator().manual_seed(0)
    return Batch(torch.randn(n, 4, generator=g), torch.randint(0, 3, (n,), generator=g), 3)


def test_finite_or_explained_flags_a_finite_score_listed_inapplicable():
    with pytest.raises(AssertionError, match="(?s)case 'toy'.*proxy 'params': finite .*expected NaN"):
        check_finite_or_explained(
            _make_mlp, _vectors(), ["params"], {"params": "made up for the test"}, "toy"
        )


def test_finite_or_explained_flags_an_unexplained_nan():
    import dataclasses

    from nasrank.errors import ProxyComputationError

    def fail(ctx):
        raise ProxyComputationError("bad")

    terse = dataclasses.replace(PROXIES.get("l2_norm"), name="terse", compute=fail)
    with pytest.raises(AssertionError, match="proxy 'terse': NaN without a specific reason"):
        check_finite_or_explained(_make_mlp, _vectors(), [terse], {"terse": "fails for the test"})


def test_untouched_flags_a_proxy_that_mutates_the_model():
    import dataclasses

    def mutate(ctx):
        with torch.no_grad():
            next(ctx.model.parameters()).add_(1.0)
        return 1.0

    bad = dataclasses.replace(PROXIES.get("l2_norm"), name="mutating", compute=mutate)
    with pytest.raises(AssertionError, match="(?s)case 'toy'.*proxy 'mutating'.*changed"):
        check_model_untouched(_make_mlp, _vectors(), [bad, "params"], "toy")


def test_check_model_reports_every_failed_check_with_its_name():
    with pytest.raises(AssertionError, match=r"(?s)\[finite_or_explained\] .*'l2_norm'"):
        check_model(_make_mlp, _vectors(), ["l2_norm"], {"l2_norm": "made up for the test"}, "toy")


def test_check_model_passes_on_a_plain_mlp():
    check_model(_make_mlp, _vectors(), ["params", "l2_norm", "grad_norm", "nwot"])
