"""Capturing the outputs of named modules during one forward pass."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import torch
from torch import nn

from nasrank.errors import ProxyComputationError

__all__ = ["capture_outputs", "module_by_name"]


def module_by_name(model: nn.Module, name: str) -> nn.Module:
    """The sub-module called ``name`` (as in ``model.named_modules()``)."""
    modules = dict(model.named_modules())
    if name not in modules:
        import difflib

        close = difflib.get_close_matches(name, list(modules), n=3)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ProxyComputationError(f"the model has no module named {name!r}{hint}")
    return modules[name]


def _first_tensor(out: object) -> torch.Tensor:
    # RNN modules return (output, state); attention blocks may return tuples too.
    while isinstance(out, (tuple, list)) and out:
        out = out[0]
    if not isinstance(out, torch.Tensor):
        raise ProxyComputationError(f"module output is {type(out).__name__}, not a tensor")
    return out


@torch.no_grad()
def capture_outputs(
    model: nn.Module,
    inputs: torch.Tensor,
    names: Sequence[str],
    *,
    inputs_of: bool = False,
    require_all: bool = True,
    reduce: Callable[[nn.Module, object, object], torch.Tensor] | None = None,
    extras: Mapping[str, torch.Tensor] | None = None,
) -> dict[str, torch.Tensor]:
    """Run ``model(inputs)`` once and return the output tensor of each named module
    (the first call's output if a module runs several times).

    Args:
        inputs_of: Capture each module's first input instead of its output.
        require_all: Raise if a named module did not run; otherwise leave it out.
        reduce: ``(module, args, out) -> tensor`` computed inside the hook and kept
            instead of the activation (e.g. a spectrum), so large activations are not held.
        extras: Keyword tensors of the forward, ``model(inputs, **extras)``.
    """
    captured: dict[str, torch.Tensor] = {}
    handles = []
    for name in names:

        def hook(m: nn.Module, args: object, out: object, name: str = name) -> None:
            if name in captured:
                return
            if reduce is not None:
                captured[name] = reduce(m, args, out)
            else:
                captured[name] = _first_tensor(args if inputs_of else out).detach()

        handles.append(module_by_name(model, name).register_forward_hook(hook))
    try:
        model(inputs, **(extras or {}))
    finally:
        for h in handles:
            h.remove()
    missing = [n for n in names if n not in captured]
    if missing and require_all:
        raise ProxyComputationError(f"modules {missing} did not run in the forward pass")
    return captured
