"""hidden_covariance: eigenvalue score of the hidden-state correlation matrix (RNNs)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from nasrank.errors import ProxyComputationError
from nasrank.proxies._context import ProxyContext
from nasrank.proxies._hooks import capture_outputs
from nasrank.proxies.registry import register_proxy

__all__ = ["hidden_covariance", "hidden_covariance_score", "hidden_state_modules"]

#: Regulariser k of the score, as in the paper.
K = 1e-5


def hidden_state_modules(model: nn.Module) -> list[str]:
    """Names of the modules whose outputs are the model's hidden states, layer by layer.

    A model may declare them with a ``hidden_state_modules()`` method (nasrank's
    NAS-Bench-NLP language model does); otherwise every ``nn.RNNBase`` (RNN/LSTM/GRU).
    Empty when the model has neither (see :func:`_hidden_states`).
    """
    declared = getattr(model, "hidden_state_modules", None)
    if callable(declared):
        return list(declared())
    return [n for n, m in model.named_modules() if isinstance(m, nn.RNNBase)]


def _hidden_states(model: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """The first recurrent layer's output or, for a model without one, its last hidden
    representation: the input of its final ``nn.Linear`` (the classifier's features)."""
    names = hidden_state_modules(model)
    if names:
        return capture_outputs(model, inputs, names[:1])[names[0]]
    linears = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ProxyComputationError(
            "found no recurrent or linear layer; name the hidden-state module with "
            "hidden_covariance_score(model, inputs, module=NAME)"
        )
    ran = capture_outputs(model, inputs, linears, inputs_of=True, require_all=False)
    last = [n for n in linears if n in ran]
    if not last:
        raise ProxyComputationError("no linear layer ran in the forward pass")
    return ran[last[-1]]


def _score(hidden: torch.Tensor) -> float:
    # Rows = samples (batch x time), columns = hidden units.
    h = hidden.reshape(-1, hidden.shape[-1]).double().cpu().numpy()
    if h.shape[0] < 2:
        raise ProxyComputationError("needs at least 2 hidden-state samples (batch x time)")
    if np.any(h.std(axis=1) == 0):
        raise ProxyComputationError(
            "a hidden state is constant across units; correlation undefined"
        )
    corr = np.corrcoef(h)
    eig = np.linalg.eigvalsh(corr)
    return float(-np.sum(np.log(eig + K) + 1.0 / (eig + K)))


def hidden_covariance_score(
    model: nn.Module,
    inputs: torch.Tensor,
    *,
    module: str | None = None,
    layer: int = 0,
) -> float:
    """Hidden covariance of ``model``'s hidden states on ``inputs`` (see
    :func:`hidden_covariance`). The caller's model is not modified (a copy runs in eval
    mode).

    Args:
        model: Any module.
        inputs: One batch, e.g. ``(B, T)`` token ids.
        module: Name of the module whose output is the hidden state (any module: an RNN
            layer, a transformer block, ...). Default: the ``layer``-th of
            :func:`hidden_state_modules`.
        layer: Which recurrent layer when ``module`` is not given (0 = first).
    """
    import copy

    model = copy.deepcopy(model).eval()
    if module is None:
        names: Sequence[str] = hidden_state_modules(model)
        if not names and layer == 0:
            return _score(_hidden_states(model, inputs))
        if not 0 <= layer < len(names):
            raise ProxyComputationError(
                f"layer {layer} out of range; the model has {len(names)} recurrent layers"
            )
        module = names[layer]
    return _score(capture_outputs(model, inputs, [module])[module])


@register_proxy(
    "hidden_covariance",
    needs_data=True,
    needs_labels=False,
    needs_grad=False,
    group="static",
    min_batch=1,
)
def hidden_covariance(ctx: ProxyContext) -> float:
    """Hidden covariance (Serianni & Kalita, "Training-free Neural Architecture Search for
    RNNs and Transformers", ACL 2023).

    Forward one batch at initialisation (eval mode, no gradients), take the first
    recurrent layer's hidden states ``H`` of shape ``(batch x time, hidden)``, their
    Pearson correlation matrix ``R`` over samples (rows of ``H``) and its eigenvalues
    ``lambda_j``; score ``= -sum_j [log(lambda_j + k) + 1 / (lambda_j + k)]``, ``k = 1e-5``.
    Models without a recurrent layer use their last hidden representation (the input of
    the final linear layer). Larger = predicted better. Other layers or any hidden-state module:
    :func:`hidden_covariance_score`.
    """
    return _score(_hidden_states(ctx.copy().eval(), ctx.inputs))
