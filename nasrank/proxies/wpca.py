"""wpca: parameter-weighted PCA dimension of FFN activations (gradient-free)."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence

import torch
from torch import nn

from nasrank.complexity import count_params
from nasrank.errors import ProxyComputationError
from nasrank.proxies._context import ProxyContext, linear_layers
from nasrank.proxies._hooks import _first_tensor, capture_outputs
from nasrank.proxies.registry import register_proxy

__all__ = ["wpca", "wpca_score", "ffn_modules", "pca_dimension", "pca_eigenvalues"]

#: Explained-variance threshold of the paper.
ETA = 0.99


def ffn_modules(model: nn.Module) -> list[str]:
    """The first linear layer of every feed-forward block.

    A model may declare them with ``ffn_linear_names()`` (nasrank's NAS-Bench-BERT model
    does: one per encoder layer, also for layers with 3 stacked FFN layers); otherwise
    every linear layer (``nn.Linear``, PyG's ``Linear``, ...: see
    :func:`~nasrank.proxies._context.linear_layers`) that expands its input (``out > in``),
    which is the first layer of a standard transformer FFN, or every linear layer if none
    expands.
    """
    declared = getattr(model, "ffn_linear_names", None)
    if callable(declared):
        return list(declared())
    linears = linear_layers(model)
    expanding = [n for n, m in linears if m.weight.shape[0] > m.weight.shape[1]]
    names = expanding or [n for n, _ in linears]
    if not names:
        raise ProxyComputationError(
            "found no linear layer; name the layers explicitly with "
            "wpca_score(model, inputs, modules=[...])"
        )
    return names


def _work_dtype(x: torch.Tensor) -> torch.dtype:
    # Scatter matrices are accumulated in float32 (float64 inputs stay float64); only the
    # small eigenvalue problems run in float64.
    return torch.float64 if x.dtype == torch.float64 else torch.float32


def _centred_rows(x: torch.Tensor) -> torch.Tensor:
    """``x`` as a ``(rows, D)`` matrix (all leading dimensions flattened), column-centred."""
    rows = x.reshape(-1, x.shape[-1]).to(_work_dtype(x))
    return rows - rows.mean(dim=0, keepdim=True)


def pca_eigenvalues(x: torch.Tensor) -> torch.Tensor:
    """Principal-component variances (unnormalised, descending, float64) of ``x``.

    The rows (all leading dimensions flattened) are centred; the eigenvalues of the
    ``D x D`` scatter matrix, or of the ``N x N`` Gram matrix when there are fewer rows
    ``N`` than features ``D`` (the same non-zero spectrum), are returned.

    Shapes:
        ``x``: ``(..., D)`` -> ``(min(N, D),)``.
    """
    rows = _centred_rows(x)
    n, d = rows.shape
    gram = rows.T @ rows if n >= d else rows @ rows.T
    return torch.linalg.eigvalsh(gram.double()).flip(0).clamp_min(0.0)


def _linear_output_eigenvalues(linear: nn.Linear, x: torch.Tensor) -> torch.Tensor:
    """:func:`pca_eigenvalues` of ``linear(x)`` computed from its input ``x``.

    The centred output is ``Y = X W^T`` (the bias cancels), so its scatter matrix is
    ``W G W^T`` with ``G = X^T X`` the input's. Writing ``G = L L^T``, the non-zero
    eigenvalues of ``(W L)(W L)^T`` are those of the small ``(W L)^T (W L)``: for an
    expanding layer (``in < out``) only ``in x in`` matrices are decomposed. Padded with
    zeros to ``min(N, out)`` values, like :func:`pca_eigenvalues` of the output.
    """
    rows = _centred_rows(x)
    s, u = torch.linalg.eigh((rows.T @ rows).double())
    b = linear.weight.detach().double() @ (u * s.clamp_min(0.0).sqrt())
    ev = torch.linalg.eigvalsh(b.T @ b).flip(0).clamp_min(0.0)
    size = min(rows.shape[0], linear.out_features)
    if ev.numel() >= size:
        return ev[:size]
    return torch.cat([ev, ev.new_zeros(size - ev.numel())])


def _count(ev: torch.Tensor, eta: float) -> int:
    """Smallest number of leading components whose cumulative share of the variance
    exceeds ``eta`` (all of them for ``eta = 1``)."""
    total = ev.sum()
    if not torch.isfinite(total) or total <= 0:
        raise ProxyComputationError("FFN activations have no variance")
    ratio = torch.cumsum(ev, 0) / total
    return min(int((ratio <= eta).sum().item()) + 1, ev.numel())


def pca_dimension(x: torch.Tensor, eta: float = ETA) -> int:
    """Number of principal components whose cumulative explained variance exceeds ``eta``.

    Shapes:
        ``x``: ``(..., D)``; rows are all leading dimensions flattened and centred.
    """
    return _count(pca_eigenvalues(x), eta)


def _spectrum(m: nn.Module, args: object, out: object) -> torch.Tensor:
    # An expanding nn.Linear is analysed from its input (see _linear_output_eigenvalues).
    if isinstance(m, nn.Linear) and m.in_features < m.out_features:
        return _linear_output_eigenvalues(m, _first_tensor(args))
    return pca_eigenvalues(_first_tensor(out))


def _score(
    model: nn.Module,
    inputs: torch.Tensor,
    names: Sequence[str],
    eta: float,
    *,
    explicit: bool,
    extras: Mapping[str, torch.Tensor] | None = None,
) -> float:
    # Discovered layers that never run (unused modules) are skipped; named ones must run.
    spectra = capture_outputs(
        model, inputs, names, require_all=explicit, reduce=_spectrum, extras=extras
    )
    if not spectra:
        raise ProxyComputationError("none of the linear layers ran in the forward pass")
    return float(count_params(model) * sum(_count(ev, eta) for ev in spectra.values()))


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
        modules: Names of the layers whose outputs (pre-activation) are analysed;
            default :func:`ffn_modules`.
        eta: Explained-variance threshold in ``(0, 1]``.
    """
    if not 0.0 < eta <= 1.0:
        raise ValueError(f"eta must lie in (0, 1], got {eta}")
    model = copy.deepcopy(model).eval()
    if modules:
        return _score(model, inputs, list(modules), eta, explicit=True)
    return _score(model, inputs, ffn_modules(model), eta, explicit=False)


@register_proxy(
    "wpca",
    needs_data=True,
    needs_labels=False,
    needs_grad=False,
    group="static",
    min_batch=2,
    version="3",
)
def wpca(ctx: ProxyContext) -> float:
    """W-PCA (Wang, "W-PCA Based Gradient-Free Proxy for Efficient Search of Lightweight
    Language Models", ICLR 2025; reference implementation ra225/W-PCA, ``pca_torch``).

    One forward pass in eval mode without gradients. For every FFN block, take the output
    of its first linear layer before the activation, flattened over batch and sequence to
    ``(tokens, D_ffn)`` and centred; its PCA dimension is the smallest number of principal
    components whose cumulative explained variance exceeds ``eta = 0.99``. Score = the
    model's parameter count (all parameters, embeddings included) x the sum of the PCA
    dimensions over the FFN blocks. A block with several stacked hidden layers (FlexiBERT's
    ``num_feed_forward = 3``) counts once, at its first linear layer. Larger = predicted
    better. Chosen layers / another ``eta``: :func:`wpca_score`.

    The spectra come from ``D x D`` scatter matrices and ``torch.linalg.eigvalsh``, not an
    SVD of the activations; for an expanding linear layer from its (smaller) input side.
    """
    model = ctx.copy().eval()
    return _score(model, ctx.inputs, ffn_modules(model), ETA, explicit=False, extras=ctx.extras)
