"""hidden_covariance: eigenvalue score of the hidden-unit correlation matrix (RNNs)."""

from __future__ import annotations

import copy
from collections.abc import Mapping

import numpy as np
import torch
from torch import nn

from nasrank.errors import ProxyComputationError
from nasrank.proxies._context import ProxyContext, linear_layers
from nasrank.proxies._hooks import capture_outputs, module_by_name
from nasrank.proxies.registry import register_proxy

__all__ = ["hidden_covariance", "hidden_covariance_score", "hidden_state_modules"]

#: Regulariser k of the score, as in the paper.
K = 1e-5


def hidden_state_modules(model: nn.Module) -> list[str]:
    """Names of the modules whose outputs are the model's hidden states, layer by layer.

    A model may declare them with a ``hidden_state_modules()`` method (nasrank's
    NAS-Bench-NLP language model does); otherwise every ``nn.RNNBase`` (RNN/LSTM/GRU).
    Empty when the model has neither (see :func:`_fallback_states`).
    """
    declared = getattr(model, "hidden_state_modules", None)
    if callable(declared):
        return list(declared())
    return [n for n, m in model.named_modules() if isinstance(m, nn.RNNBase)]


def _states_read(module: nn.Module, outputs: torch.Tensor) -> torch.Tensor:
    """The hidden states a recurrent layer reads, ``h_0 = 0, h_1, ..., h_{T-1}``, from its
    outputs ``h_1, ..., h_T``: shifted one step along time with the zero initial state in
    front (what Serianni & Kalita's implementation records at each step of the cell).

    The time axis is 1 (``(batch, time, hidden)``) unless ``module`` is an ``nn.RNNBase``
    with ``batch_first=False``; tensors without a time axis are returned unchanged.
    """
    if outputs.dim() != 3:
        return outputs
    time_dim = 0 if isinstance(module, nn.RNNBase) and not module.batch_first else 1
    first = torch.zeros_like(outputs.narrow(time_dim, 0, 1))
    rest = outputs.narrow(time_dim, 0, outputs.shape[time_dim] - 1)
    return torch.cat([first, rest], dim=time_dim)


def _fallback_states(
    model: nn.Module, inputs: torch.Tensor, extras: Mapping[str, torch.Tensor] | None
) -> torch.Tensor:
    """For a model without recurrent layers: its last hidden representation, the input
    of its final ``nn.Linear`` (the classifier's features)."""
    linears = [n for n, _ in linear_layers(model)]
    if not linears:
        raise ProxyComputationError(
            "found no recurrent or linear layer; name the hidden-state module with "
            "hidden_covariance_score(model, inputs, module=NAME)"
        )
    ran = capture_outputs(
        model, inputs, linears, inputs_of=True, require_all=False, extras=extras
    )
    last = [n for n in linears if n in ran]
    if not last:
        raise ProxyComputationError("no linear layer ran in the forward pass")
    return ran[last[-1]]


def _model_score(
    model: nn.Module,
    inputs: torch.Tensor,
    module: str | None,
    layer: int,
    initial_state: bool,
    extras: Mapping[str, torch.Tensor] | None = None,
) -> float:
    """The score of ``model`` as given (the callers pass their own copy in eval mode)."""
    if module is None:
        names = hidden_state_modules(model)
        if not names and layer == 0:
            return _score(_fallback_states(model, inputs, extras))
        if not 0 <= layer < len(names):
            raise ProxyComputationError(
                f"layer {layer} out of range; the model has {len(names)} recurrent layers"
            )
        module = names[layer]
    out = capture_outputs(model, inputs, [module], extras=extras)[module]
    return _score(_states_read(module_by_name(model, module), out) if initial_state else out)


def _score(hidden: torch.Tensor) -> float:
    # Variables = hidden units (the last dimension); observations = batch x time.
    h = hidden.reshape(-1, hidden.shape[-1]).double().cpu().numpy()
    if h.shape[0] < 2:
        raise ProxyComputationError("needs at least 2 hidden-state samples (batch x time)")
    # A unit constant over the batch (a dead ReLU, a state that never leaves zero) has no
    # correlation with anything: it is left out (the reference returns NaN instead).
    varying = h.std(axis=0) > 0
    if int(varying.sum()) < 2:
        raise ProxyComputationError(
            f"{int(varying.sum())} of {h.shape[1]} hidden units vary over the batch; the "
            "correlation needs at least 2"
        )
    corr = np.corrcoef(h[:, varying], rowvar=False)
    eig = np.linalg.eigvalsh(corr)
    return float(-np.sum(np.log(eig + K) + 1.0 / (eig + K)))


def hidden_covariance_score(
    model: nn.Module,
    inputs: torch.Tensor,
    *,
    module: str | None = None,
    layer: int = 0,
    initial_state: bool = True,
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
        initial_state: Use the states the layer reads, ``h_0 = 0, ..., h_{T-1}`` (the
            reference implementation, default); ``False`` uses its outputs
            ``h_1, ..., h_T``. Time is axis 1 of the module's output (``(batch, time,
            hidden)``) unless the module is an ``nn.RNN``/``LSTM``/``GRU`` with
            ``batch_first=False``; an output without a time axis is used as it is.
    """
    return _model_score(copy.deepcopy(model).eval(), inputs, module, layer, initial_state)


@register_proxy(
    "hidden_covariance",
    needs_data=True,
    needs_labels=False,
    needs_grad=False,
    group="static",
    min_batch=1,
    version="3",
)
def hidden_covariance(ctx: ProxyContext) -> float:
    """Hidden covariance (Serianni & Kalita, "Training-free Neural Architecture Search for
    RNNs and Transformers", ACL 2023; reference implementation
    aaronserianni/training-free-nas, ``RNN_metrics.ipynb``).

    Forward one batch at initialisation (eval mode, no gradients) and take the hidden
    states the first recurrent layer reads at each step, ``h_0 = 0, h_1, ..., h_{T-1}``,
    as a ``(batch x time, hidden)`` matrix ``H``; ``R`` is the Pearson correlation matrix
    of the hidden units (the columns of ``H``, ``hidden x hidden``) and ``lambda_j`` its
    eigenvalues; score ``= -sum_j [log(lambda_j + k) + 1 / (lambda_j + k)]``,
    ``k = 1e-5``. This is the reference's "Layer 1 Hidden Covariance" (its batch: 50
    sequences of 70 tokens). Units constant over the batch are left out of ``R`` (NaN if
    fewer than 2 vary). Models without a recurrent layer use their last hidden
    representation (the input of the final linear layer) as ``H``. Larger = predicted
    better. Other layers, any hidden-state module, outputs ``h_1..h_T`` instead:
    :func:`hidden_covariance_score`.
    """
    return _model_score(ctx.copy().eval(), ctx.inputs, None, 0, True, ctx.extras)
