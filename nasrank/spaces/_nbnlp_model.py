"""The NAS-Bench-NLP language model (Klyuchnikov et al., 2020), re-implemented from the
paper and checked against the benchmark's parameter counts.

Reference implementation: fmsnew/nas-bench-nlp-release (``custom_rnn.py``: ``CustomRNNCell``,
``MultiLinear``; ``model.py``: ``AWDRNNModel``). Same layer shapes, so parameter counts equal
the benchmark's ``num_params``:

* embedding ``vocab x emsize``, uniform(-0.1, 0.1);
* ``nlayers`` recurrent layers; layer 0 reads ``emsize`` features, the others ``nhid``;
  hidden size ``nhid`` except the last layer, which has ``emsize`` when the decoder is tied;
* each ``linear`` node of the cell: one weight matrix per input and a single bias
  (``MultiLinear``); here an ``nn.ModuleList`` of ``nn.Linear`` whose first entry carries
  the bias, so generic proxies see ordinary linear layers; all cell parameters
  uniform(-1/sqrt(hidden), 1/sqrt(hidden));
* decoder ``Linear(emsize, vocab)`` whose weight *is* the embedding's (tied) and whose bias
  starts at zero.

Differences from the reference, none of which changes a parameter: batch-first tensors;
weight-drop (DropConnect 0.1 on the hidden-to-hidden matrices) and embedding dropout are
training regularisers left out; ``elementwise_*`` ops fold over all their inputs (the
reference only supports two); the ``x`` terms of ``linear`` nodes are computed for the
whole sequence at once (the same arithmetic).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import cast

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import skip_init

__all__ = ["RecurrentCell", "RecurrentLayer", "NBNLPLanguageModel", "locked_dropout"]

_ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "activation_tanh": torch.tanh,
    "activation_sigm": torch.sigmoid,
    "activation_leaky_relu": F.leaky_relu,
}


def locked_dropout(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """Variational dropout of ``(batch, time, features)``: one mask per sequence, shared
    over time (Gal & Ghahramani 2016; AWD-LSTM's ``LockedDropout``)."""
    if not training or p == 0.0:
        return x
    mask = x.new_empty(x.size(0), 1, x.size(2)).bernoulli_(1 - p) / (1 - p)
    return x * mask


class RecurrentCell(nn.Module):
    """One step of a NAS-Bench-NLP cell.

    Args:
        recipe: ``{node: (op, inputs)}`` in topological order (validated by the space).
        input_size: Width of ``x``.
        hidden_size: Width of every hidden state and node.

    Shapes:
        ``forward(x_terms, hidden)``: ``x_terms[node]`` (batch, hidden) is the precomputed
        ``sum W_x x + b`` term of each linear node reading ``x`` (only linear nodes read
        ``x``); ``hidden`` is a tuple of ``k`` tensors (batch, hidden). Returns the tuple of
        the ``k`` new hidden states.
    """

    def __init__(
        self,
        recipe: Mapping[str, tuple[str, Sequence[str]]],
        input_size: int,
        hidden_size: int,
    ) -> None:
        super().__init__()
        self.recipe = {n: (op, tuple(ins)) for n, (op, ins) in recipe.items()}
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_states = sum(1 for n in self.recipe if n.startswith("h_new_") and n[6:].isdigit())
        self.linears = nn.ModuleDict()
        for node, (op, inputs) in self.recipe.items():
            if op == "linear":
                self.linears[node] = nn.ModuleList(
                    skip_init(
                        nn.Linear,
                        input_size if src == "x" else hidden_size,
                        hidden_size,
                        bias=j == 0,
                    )
                    for j, src in enumerate(inputs)
                )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def _linear(self, node: str) -> tuple[list[torch.Tensor], torch.Tensor]:
        """Weight matrices (one per input) and the bias of linear node ``node``."""
        layers = [cast(nn.Linear, m) for m in cast(nn.ModuleList, self.linears[node])]
        return [m.weight for m in layers], cast(torch.Tensor, layers[0].bias)

    def x_terms(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """``sum_j W_j x + b`` of every linear node reading ``x``, for a whole sequence at
        once (``x``: (batch, time, input)); the node's bias is included here."""
        terms: dict[str, torch.Tensor] = {}
        for node, (op, inputs) in self.recipe.items():
            if op != "linear" or "x" not in inputs:
                continue
            weights, term = self._linear(node)
            for j, src in enumerate(inputs):
                if src == "x":
                    term = term + F.linear(x, weights[j])
            terms[node] = term
        return terms

    def forward(
        self, x_terms: Mapping[str, torch.Tensor], hidden: tuple[torch.Tensor, ...]
    ) -> tuple[torch.Tensor, ...]:
        values: dict[str, torch.Tensor] = {f"h_prev_{j}": h for j, h in enumerate(hidden)}
        for node, (op, inputs) in self.recipe.items():
            if op == "linear":
                weights, bias = self._linear(node)
                out = x_terms[node] if node in x_terms else bias
                for j, src in enumerate(inputs):
                    if src != "x":
                        out = out + F.linear(values[src], weights[j])
                values[node] = out
                continue
            args = [values[src] for src in inputs]
            if op == "elementwise_sum":
                out = args[0]
                for a in args[1:]:
                    out = out + a
            elif op == "elementwise_prod":
                out = args[0]
                for a in args[1:]:
                    out = out * a
            elif op == "blend":
                z, a, b = args
                out = z * a + (1 - z) * b
            else:
                out = _ACTIVATIONS[op](args[0])
            values[node] = out
        return tuple(values[f"h_new_{j}"] for j in range(self.num_states))


class RecurrentLayer(nn.Module):
    """A cell unrolled over time, starting from zero hidden states.

    Shapes:
        input (batch, time, input_size) -> output (batch, time, hidden_size): the hidden
        state ``h_new_0`` after each step.
    """

    def __init__(
        self,
        recipe: Mapping[str, tuple[str, Sequence[str]]],
        input_size: int,
        hidden_size: int,
    ) -> None:
        super().__init__()
        self.cell = RecurrentCell(recipe, input_size, hidden_size)
        self.hidden_size = hidden_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, steps, _ = x.shape
        zeros = x.new_zeros(batch, self.hidden_size)
        hidden = tuple(zeros for _ in range(self.cell.num_states))
        terms = self.cell.x_terms(x)
        outputs = []
        for t in range(steps):
            hidden = self.cell({node: term[:, t] for node, term in terms.items()}, hidden)
            outputs.append(hidden[0])
        return torch.stack(outputs, dim=1)


class NBNLPLanguageModel(nn.Module):
    """NAS-Bench-NLP's AWD-style language model around a custom recurrent cell.

    Args:
        recipe: Validated cell recipe ``{node: (op, inputs)}`` in topological order.
        vocab_size: Input vocabulary.
        num_classes: Output size (= ``vocab_size`` for the benchmark's tied LM).
        emsize, nhid, nlayers: Embedding size, hidden size, number of layers.
        tied: Share the decoder weight with the embedding (needs ``num_classes ==
            vocab_size``); the last layer then has ``emsize`` hidden units.
        dropout, dropouth, dropouti: Locked dropout on output, between layers, on input.

    Shapes:
        input (batch, time) int64 -> logits (batch, time, num_classes).

    Modules: ``encoder`` (embedding), ``rnns[l]`` (:class:`RecurrentLayer`, outputs the
    layer's hidden states), ``decoder``.
    """

    def __init__(
        self,
        recipe: Mapping[str, tuple[str, Sequence[str]]],
        *,
        vocab_size: int,
        num_classes: int,
        emsize: int = 400,
        nhid: int = 600,
        nlayers: int = 3,
        tied: bool = True,
        dropout: float = 0.1,
        dropouth: float = 0.25,
        dropouti: float = 0.4,
    ) -> None:
        super().__init__()
        if tied and num_classes != vocab_size:
            raise ValueError("a tied decoder needs num_classes == vocab_size")
        self.encoder = skip_init(nn.Embedding, vocab_size, emsize)
        self.rnns = nn.ModuleList(
            RecurrentLayer(
                recipe,
                emsize if layer == 0 else nhid,
                emsize if (tied and layer == nlayers - 1) else nhid,
            )
            for layer in range(nlayers)
        )
        last = emsize if tied else nhid
        self.decoder = skip_init(nn.Linear, last, num_classes)
        if tied:
            self.decoder.weight = self.encoder.weight
        self.dropout, self.dropouth, self.dropouti = dropout, dropouth, dropouti
        self.tied = tied
        nn.init.uniform_(self.encoder.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)
        if not tied:
            nn.init.uniform_(self.decoder.weight, -0.1, 0.1)

    def hidden_state_modules(self) -> list[str]:
        """Qualified names of the modules whose outputs are the layers' hidden states."""
        return [f"rnns.{i}" for i in range(len(self.rnns))]

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        out = locked_dropout(self.encoder(tokens), self.dropouti, self.training)
        for i, rnn in enumerate(self.rnns):
            out = rnn(out)
            if i != len(self.rnns) - 1:
                out = locked_dropout(out, self.dropouth, self.training)
        out = locked_dropout(out, self.dropout, self.training)
        return self.decoder(out)
