"""Tiny models and batches shared by the proxy tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import nn

from nasrank.data.batch import Batch


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
    g = torch.Generator().manual_seed(seed)
    return Batch(torch.randn(n, 3, 8, 8, generator=g), torch.randint(0, 3, (n,), generator=g),
                 num_classes, "test")


def vector_batch(n: int = 8, seed: int = 0) -> Batch:
    g = torch.Generator().manual_seed(seed)
    return Batch(torch.randn(n, 12, generator=g), torch.randint(0, 3, (n,), generator=g), 3,
                 "test")


def make_cnn() -> nn.Module:
    torch.manual_seed(0)
    return TinyCNN()


def make_mlp() -> nn.Module:
    torch.manual_seed(1)
    return TinyMLP()


def make_unused() -> nn.Module:
    torch.manual_seed(2)
    model = WithUnused()
    model.eval()  # an unusual starting state the engine must leave alone
    model.head.bias.requires_grad_(False)
    return model


TINY_MODELS: dict[str, tuple[Callable[[], nn.Module], Callable[[], Batch]]] = {
    "cnn_bn": (make_cnn, image_batch),
    "mlp_no_bn": (make_mlp, vector_batch),
    "unused_param": (make_unused, image_batch),
}


@pytest.fixture(params=sorted(TINY_MODELS))
def tiny(request: pytest.FixtureRequest) -> tuple[str, nn.Module, Batch]:
    make_model, make_batch = TINY_MODELS[request.param]
    return request.param, make_model(), make_batch()


def snapshot(model: nn.Module) -> dict[str, object]:
    """Everything the engine must leave bit-identical on the caller's model."""
    return {
        "state": {k: v.detach().clone() for k, v in model.state_dict(keep_vars=True).items()},
        "modes": [m.training for m in model.modules()],
        "requires_grad": [p.requires_grad for p in model.parameters()],
        "grads": [None if p.grad is None else p.grad.clone() for p in model.parameters()],
        "dtypes": [p.dtype for p in model.parameters()],
    }


def assert_untouched(model: nn.Module, before: dict[str, object]) -> None:
    after = snapshot(model)
    assert after["modes"] == before["modes"]
    assert after["requires_grad"] == before["requires_grad"]
    assert after["dtypes"] == before["dtypes"]
    assert all(g is None for g in after["grads"])  # type: ignore[union-attr]
    state_before = before["state"]
    state_after = after["state"]
    assert isinstance(state_before, dict) and isinstance(state_after, dict)
    assert state_before.keys() == state_after.keys()
    for k, v in state_before.items():
        w = state_after[k]
        assert v.dtype == w.dtype and v.shape == w.shape, k
        assert torch.equal(v, w), k
