"""wpca: parameter-weighted PCA dimension of FFN activations (gradient-free)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from nasrank.complexity import count_params
from nasrank.errors import ProxyComputationError
from nasrank.proxies._context import ProxyContext
from nasrank.proxies._hooks import capture_outputs
from nasrank.proxies.registry import register_proxy

__all__ = ["wpca", "wpca_score", "ffn_modules", "pca_dimension"]

#: Explained-variance threshold of the paper.
ETA = 0.99


def ffn_modules(model: nn.Module) -> list[str]:
    """The first linear layer of every feed-forward block.

    A model may declare them with ``ffn_linear_names()`` (nasrank's NAS-Bench-BERT model
    does); otherwise every ``nn.Linear`` that expands its input (``out > in``), which is
    the first layer of a standard transformer FFN, or every ``nn.Linear`` if none expands.
    """
    declared = getattr(model, "ffn_linear_names", None)
    if callable(declared):
        return list(declared())
    linears = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Linear)]
    expanding = [n for n, m in linears if m.out_features > m.in_features]
    names = expanding or [n for n, _ in linears]
    if not names:
        raise ProxyComputationError(
            "found no linear layer; name the layers explicitly with "
            "wpca_score(model, inputs, modules=[...])"
        )
    return names


def pca_dimension(x: torch.Tensor, eta: float = ETA) -> int:
    """Number of principal components whose cumulative explained variance reaches ``eta``.

    Shapes:
        ``x``: ``(..., D)``; rows are all leading dimensions flattened.
    """
    rows = x.reshape(-1, x.shape[-1]).double()
    rows = rows - rows.mean(dim=0, keepdim=True)
    var = torch.linalg.svdvals(rows) ** 2
    total = var.sum()
    if not torch.isfinite(total) or total <= 0:
        raise ProxyComputationError("FFN activations have no variance")
    ratio = torch.cumsum(var, 0) / total
    return int(torch.searchsorted(ratio, torch.tensor(eta, dtype=ratio.dtype)).item()) + 1


def _score(
    model: nn.Module, inputs: torch.Tensor, names: Sequence[str], eta: float, *, explicit: bool
) -> float:
    # Discovered layers that never run (unused modules) are skipped; named ones must run.
    outputs = capture_outputs(model, inputs, names, require_all=explicit)
    if not outputs:
        raise ProxyComputationError("none of the linear layers ran in the forward pass")
    return float(count_params(model) * sum(pca_dimension(x, eta) for x in outputs.values()))


def wpca_score(
    model: nn.Module,
    inputs: torch.Tensor,
    *,
    modules: Sequence[str] | None = None,
    eta: float = ETA,
) -> float:
    """W-PCA of ``model`` on ``inputs`` with chosen linear blocks (see :func:`wpca`).

    Args:
        model: Any module with linear layers; not modified (a copy runs in eval mode).
        inputs: One batch (e.g. ``(B, S)`` token ids).
        modules: Names of the linear layers whose outputs (pre-activation) are analysed;
            default :func:`ffn_modules`.
        eta: Explained-variance threshold.
    """
    import copy

    if not 0.0 < eta <= 1.0:
        raise ValueError(f"eta must lie in (0, 1], got {eta}")
    model = copy.deepcopy(model).eval()
    if modules:
        return _score(model, inputs, list(modules), eta, explicit=True)
    return _score(model, inputs, ffn_modules(model), eta, explicit=False)


@register_proxy(
    "wpca", needs_data=True, needs_labels=False, needs_grad=False, group="static", min_batch=2
)
def wpca(ctx: ProxyContext) -> float:
    """W-PCA (Shang et al., "W-PCA Based Gradient-Free Proxy for Efficient Search of
    Lightweight Language Models", ICLR 2025).

    Forward one batch (eval mode, no gradients); for each FFN, the output of its first
    linear layer before the activation, flattened to ``(tokens, D_ffn)``, centred; its PCA
    dimension is the number of principal components whose cumulative explained variance
    reaches ``eta = 0.99``. Score = parameter count x sum over FFNs of the PCA dimensions.
    Larger = predicted better. Chosen layers / another ``eta``: :func:`wpca_score`.
    """
    model = ctx.copy().eval()
    return _score(model, ctx.inputs, ffn_modules(model), ETA, explicit=False)
