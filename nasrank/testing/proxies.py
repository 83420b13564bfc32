"""The proxy contract: every registered proxy behaves the same on three tiny models.

A proxy passes when, on each model, :func:`nasrank.proxies.score` returns exactly its
name with a finite float, the same seed gives the same value bit for bit, the caller's
model is left bit-identical (parameters, buffers, modes, ``requires_grad`` flags, no
gradients), and its docstring cites its paper and states its sign convention. Sharing
passes between proxies changes no score (:func:`check_shared_passes`).

The three models: a conv-BN-ReLU CNN, an MLP without batch norm, and a CNN with an
unused submodule, an unused parameter, a frozen bias and eval mode as starting state.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from nasrank.data.batch import Batch
from nasrank.proxies.engine import score
from nasrank.proxies.registry import PROXIES, ProxySpec

__all__ = [
    "TinyCNN",
    "TinyMLP",
    "WithUnused",
    "TINY_MODELS",
    "image_batch",
    "vector_batch",
    "make_cnn",
    "make_mlp",
    "make_unused",
    "snapshot",
    "assert_untouched",
    "check_proxy",
    "check_proxy_documented",
    "check_proxy_on",
    "check_shared_passes",
    "same_score",
]


class TinyCNN(nn.Module):
    """Conv-BN-ReLU x 2, global pooling, linear: ``(N, 3, 8, 8) -> (N, 3)``."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 4, 3, padding=1, bias=False),
            nn.BatchNorm2d(4),
            nn.ReLU(),
            nn.Conv2d(4, 6, 3, padding=1),
            nn.BatchNorm2d(6),
            nn.ReLU(),
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(6, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.flatten(self.pool(self.features(x)), 1))


class TinyMLP(nn.Module):
    """Linear-ReLU x 2, linear, no batch norm: ``(N, 12) -> (N, 3)``."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class WithUnused(nn.Module):
    """A CNN with an unused submodule and an unused parameter."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 5, 3, padding=1)
        self.bn = nn.BatchNorm2d(5)
        self.act = nn.ReLU()
        self.head = nn.Linear(5, 3)
        self.unused = nn.Linear(7, 7)
        self.extra = nn.Parameter(torch.zeros(4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.act(self.bn(self.conv(x)))
        return self.head(h.mean(dim=(2, 3)))


def image_batch(n: int = 8, seed: int = 0, num_classes: int | None = 3) -> Batch:
    """``n`` seeded random ``3 x 8 x 8`` images with labels in ``0..2``."""
    g = torch.Generator().manual_seed(seed)
    return Batch(
        torch.randn(n, 3, 8, 8, generator=g),
        torch.randint(0, 3, (n,), generator=g),
        num_classes,
        "test",
    )


def vector_batch(n: int = 8, seed: int = 0) -> Batch:
    """``n`` seeded random 12-vectors with labels in ``0..2``."""
    g = torch.Generator().manual_seed(seed)
    return Batch(torch.randn(n, 12, generator=g), torch.randint(0, 3, (n,), generator=g), 3, "test")


def make_cnn() -> nn.Module:
    """A :class:`TinyCNN` initialised from seed 0."""
    torch.manual_seed(0)
    return TinyCNN()


def make_mlp() -> nn.Module:
    """A :class:`TinyMLP` initialised from seed 1."""
    torch.manual_seed(1)
    return TinyMLP()


def make_unused() -> nn.Module:
    """A :class:`WithUnused` from seed 2, in eval mode, with a frozen head bias."""
    torch.manual_seed(2)
    model = WithUnused()
    model.eval()  # an unusual starting state the engine must leave alone
    model.head.bias.requires_grad_(False)
    return model


#: Case name -> (model factory, batch factory) of the models every proxy is checked on.
TINY_MODELS: dict[str, tuple[Callable[[], nn.Module], Callable[[], Batch]]] = {
    "cnn_bn": (make_cnn, image_batch),
    "mlp_no_bn": (make_mlp, vector_batch),
    "unused_param": (make_unused, image_batch),
}


def snapshot(model: nn.Module) -> dict[str, object]:
    """Everything the engine must leave bit-identical on the caller's model."""
    return {
        "state": {k: v.detach().clone() for k, v in model.state_dict(keep_vars=True).items()},
        "modes": [m.training for m in model.modules()],
        "requires_grad": [p.requires_grad for p in model.parameters()],
        "grads": [None if p.grad is None else p.grad.clone() for p in model.parameters()],
        "dtypes": [p.dtype for p in model.parameters()],
    }


def assert_untouched(model: nn.Module, before: dict[str, object], what: str = "") -> None:
    """Raise ``AssertionError`` if ``model`` differs from its :func:`snapshot` ``before``.

    Args:
        model: The caller's model after scoring.
        before: Its snapshot before scoring.
        what: Prefix of the failure message (e.g. the proxy and the model).
    """
    after = snapshot(model)
    prefix = f"{what}: " if what else ""
    for key in ("modes", "requires_grad", "dtypes"):
        assert after[key] == before[key], f"{prefix}the caller's model {key} changed"
    grads_before, grads = before["grads"], after["grads"]
    assert isinstance(grads_before, list) and isinstance(grads, list)
    for i, (g0, g1) in enumerate(zip(grads_before, grads)):
        # no .grad stays none; a stale one must come back as it was, not zeroed or added to
        assert g0 is not None or g1 is None, f"{prefix}gradients were left on the caller's model"
        assert g0 is None or (g1 is not None and torch.equal(g0, g1)), (
            f"{prefix}.grad of parameter {i} of the caller's model changed"
        )
    state_before, state_after = before["state"], after["state"]
    assert isinstance(state_before, dict) and isinstance(state_after, dict)
    assert state_before.keys() == state_after.keys(), f"{prefix}the state_dict keys changed"
    for k, v in state_before.items():
        w = state_after[k]
        assert v.dtype == w.dtype and v.shape == w.shape, f"{prefix}{k} changed dtype/shape"
        assert torch.equal(v, w), f"{prefix}{k} of the caller's model changed"


def same_score(a: float, b: float, rel_tol: float) -> bool:
    """Two scores are the same: both NaN, or close to ``rel_tol`` (absolute ``1e-12``)."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=rel_tol, abs_tol=1e-12)


def _spec(proxy: str | ProxySpec) -> ProxySpec:
    return PROXIES.resolve(proxy)


def check_proxy_documented(proxy: str | ProxySpec) -> None:
    """The proxy's docstring cites its paper (first line) and says when larger is better.

    Raises:
        AssertionError: The citation or the sign convention is missing.
    """
    spec = _spec(proxy)
    assert spec.citation, f"proxy {spec.name!r}: the first docstring line must cite its paper"
    assert "larger" in spec.doc.lower(), (
        f"proxy {spec.name!r}: the docstring must document its sign convention ('larger ...')"
    )


def check_proxy_on(proxy: str | ProxySpec, model: nn.Module, batch: Any, label: str = "") -> None:
    """One proxy on one model: a finite float, bit-identical for a seed, model untouched.

    Args:
        proxy: A registered name or a :class:`ProxySpec`.
        model: The model to score (it must come back unchanged).
        batch: Its batch (anything :func:`nasrank.proxies.score` accepts).
        label: How to name the model in failure messages (default its class name).

    Raises:
        AssertionError: On the first violated rule.
    """
    spec = _spec(proxy)
    what = f"proxy {spec.name!r} on {label or type(model).__name__}"
    before = snapshot(model)
    first = score(model, batch, [spec], seed=0, device="cpu")
    assert list(first) == [spec.name], f"{what}: returned keys {list(first)}"
    value = first[spec.name]
    assert isinstance(value, float), f"{what}: returned {type(value).__name__}, not float"
    assert math.isfinite(value), f"{what}: not finite ({value}): {first.reasons.get(spec.name)}"
    assert_untouched(model, before, what)
    again = score(model, batch, [spec], seed=0, device="cpu")[spec.name]
    assert again == value, f"{what}: the same seed gave {value!r} then {again!r}"
    assert_untouched(model, before, what)


def check_proxy(
    proxy: str | ProxySpec,
    model: nn.Module | None = None,
    batch: Any = None,
) -> None:
    """The whole proxy contract: documented, and :func:`check_proxy_on` on each model.

    Args:
        proxy: A registered name or a :class:`ProxySpec` (e.g. one of your own).
        model: Check on this model (with ``batch``) instead of the tiny models.
        batch: The batch for ``model``.

    Raises:
        AssertionError: On the first violated rule, naming the proxy and the model.
    """
    check_proxy_documented(proxy)
    if model is not None:
        check_proxy_on(proxy, model, batch)
        return
    for label, (make_model, make_batch) in TINY_MODELS.items():
        check_proxy_on(proxy, make_model(), make_batch(), label)


def check_shared_passes(
    model: nn.Module,
    batch: Any,
    proxies: Sequence[str | ProxySpec] | None = None,
    seed: int = 3,
) -> None:
    """Scoring proxies together equals scoring each alone, and leaves ``model`` untouched.

    Args:
        model: The model to score.
        batch: Its batch.
        proxies: The proxies (default every registered one).
        seed: The seed of every call.

    Raises:
        AssertionError: A proxy's shared-pass score differs from its score alone.
    """
    names = [_spec(p).name for p in proxies] if proxies is not None else PROXIES.names()
    before = snapshot(model)
    together = score(model, batch, names, seed=seed)
    assert_untouched(model, before, "proxies scored together")
    assert set(together) == set(names), f"scored {sorted(together)}, asked for {sorted(names)}"
    for name in names:
        alone = score(model, batch, [name], seed=seed)[name]
        assert same_score(together[name], alone, 1e-9), (
            f"proxy {name!r}: {together[name]!r} with the others, {alone!r} alone"
        )
