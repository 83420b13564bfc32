"""Each proxy as a plain function: ``nasrank.proxies.synflow(model, batch) -> float``.

The registry's :class:`~nasrank.proxies.registry.ProxySpec` only describes a proxy; this
module, above the engine, makes a callable view of a spec that scores a model with that
proxy alone through :func:`~nasrank.proxies.engine.score` (so it gets the engine's
copying, seeding and NaN-with-reason handling).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nasrank.proxies.engine import score
from nasrank.proxies.registry import ProxySpec

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__ = ["Proxy", "standalone"]


@dataclasses.dataclass(frozen=True)
class Proxy(ProxySpec):
    """A :class:`ProxySpec` that is also the proxy's function."""

    def __call__(
        self,
        model: nn.Module,
        batch: Any = None,
        *,
        loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
        seed: int = 0,
        device: torch.device | str | None = None,
    ) -> float:
        """Score ``model`` with this proxy alone (see :func:`nasrank.proxies.score`)."""
        result = score(model, batch, [self.name], loss_fn=loss_fn, seed=seed, device=device)
        return result[self.name]


def standalone(spec: ProxySpec) -> Proxy:
    """The callable view of ``spec``."""
    return Proxy(**{f.name: getattr(spec, f.name) for f in dataclasses.fields(spec)})
