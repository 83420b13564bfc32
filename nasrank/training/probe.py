"""What a search space's network can take and give, found before any real work.

An image network downsamples its input (NAS-Bench-201: two stride-2 residual reductions;
DARTS: two reduction cells; NAS-Bench-101: two max-pools), so too small an input shrinks
to nothing, and some sizes in between do not fit its layers together (NB-201's residual
shortcut pools ``H`` to ``floor(H / 2)`` while its strided convolution gives
``ceil(H / 2)``). Rather than a table of rules per space, the checks here run the space's
own network on PyTorch's ``meta`` device: shapes propagate through every layer, nothing is
computed and no memory is allocated, whatever the size. The same pass sums every layer's
output, which is the memory one sample's activations take (what a training step keeps
for the backward pass).

* :func:`check_input_shape` refuses an input shape the network cannot take -- too small
  (the message gives the smallest side it takes), a size its layers do not fit together
  at (the nearest sides it takes), or one whose activations for a single image exceed
  :data:`MAX_ACTIVATION_BYTES` (the largest side that fits);
* :func:`check_classifier` refuses a space whose models do not return class logits
  ``(batch, classes)`` (a language model's per-token logits), which is what
  :func:`~nasrank.training.train` trains.

Building a network on the meta device takes milliseconds; the first meta pass in a
process imports PyTorch's meta kernels (about a second). The space's default input
shape is taken as given (no pass). A network the meta device cannot run (an operator
without a meta kernel) is not checked.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from nasrank.training.errors import InputShapeError, TrainingError

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__ = [
    "MAX_ACTIVATION_BYTES",
    "check_classifier",
    "check_input_shape",
    "is_classifier_space",
]

logger = logging.getLogger(__name__)

#: Most memory the activations of one input sample may take (4 GiB): a larger input
#: cannot be trained on in batches, nor its FLOPs counted, on ordinary machines.
MAX_ACTIVATION_BYTES = 4 * 1024**3
#: How far from a size its layers do not fit the nearest sizes that fit are looked for.
_NEAREST_WINDOW = 16


class _Refused(Exception):
    """The network cannot take an input; ``args[0]`` is PyTorch's reason (one line)."""


class _MetaNetwork:
    """A space's network built on the meta device, counting activation bytes per pass."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model.eval()
        self.activation_bytes = 0
        for module in model.modules():
            if next(module.children(), None) is None:  # leaves: every output counted once
                module.register_forward_hook(self._count)

    @classmethod
    def build(cls, space: Any, arch: str, build_kwargs: dict[str, Any]) -> _MetaNetwork | None:
        """The network of ``arch``, or ``None`` when it cannot be built on the meta device."""
        import torch

        try:
            with torch.random.fork_rng(devices=[]), torch.device("meta"):
                return cls(space.build(arch, **build_kwargs))
        except Exception as exc:  # a space that builds from CPU tensors, ...
            logger.debug("no meta-device probe of space %r: %s", space.name, exc)
            return None

    def _count(self, module: nn.Module, inputs: Any, output: Any) -> None:
        import torch

        outputs = output if isinstance(output, (tuple, list)) else (output,)
        for out in outputs:
            if isinstance(out, torch.Tensor):
                self.activation_bytes += out.numel() * out.element_size()

    def run(self, inputs: torch.Tensor) -> tuple[int, tuple[int, ...]]:
        """``(activation bytes, output shape)`` of one pass over ``inputs``.

        Raises:
            _Refused: The network cannot take ``inputs`` (PyTorch's reason).
            NotImplementedError: An operator has no meta kernel.
        """
        import torch

        self.activation_bytes = 0
        try:
            with torch.no_grad():
                out = self.model(inputs.to("meta"))
        except NotImplementedError:
            raise
        except (RuntimeError, ValueError, IndexError, TypeError, ZeroDivisionError) as exc:
            raise _Refused(_first_line(exc)) from None
        if isinstance(out, (tuple, list)):  # (aux logits, ..., logits): the last
            out = out[-1]
        return self.activation_bytes, tuple(getattr(out, "shape", ()))

    def image_pass(self, shape: tuple[int, ...]) -> int:
        """Activation bytes of one image of ``shape`` (raises as :meth:`run`)."""
        import torch

        return self.run(torch.empty((1, *shape), device="meta"))[0]

    def takes(self, shape: tuple[int, ...]) -> bool:
        try:
            self.image_pass(shape)
        except (_Refused, NotImplementedError):
            return False
        return True


def _first_line(exc: BaseException, limit: int = 160) -> str:
    line = (str(exc).strip().splitlines() or [type(exc).__name__])[0].strip()
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _text(shape: tuple[int, ...]) -> str:
    return "x".join(str(s) for s in shape)


def _gib(n: float) -> str:
    gib = n / 1024**3
    return f"{gib:,.0f} GiB" if gib >= 10 or gib == int(gib) else f"{gib:.1f} GiB"


@contextmanager
def _quiet() -> Iterator[None]:
    """Meta passes warn about what they cannot check; those warnings are not the user's."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def check_input_shape(
    space: Any,
    arch: str,
    shape: tuple[int, ...],
    *,
    max_activation_bytes: int = MAX_ACTIVATION_BYTES,
    **build_kwargs: Any,
) -> int | None:
    """Refuse an input shape ``(C, H, W)`` the network of ``arch`` cannot take.

    Args:
        space: The search space (``name``, ``input_shape`` and ``build``).
        arch: The architecture (any spelling ``space.build`` accepts).
        shape: One input sample's shape ``(C, H, W)``; other ranks are not checked.
        max_activation_bytes: Most memory one sample's activations may take.
        **build_kwargs: Passed to ``space.build`` (e.g. ``num_classes``).

    Returns:
        The bytes one sample's activations take at ``shape``; ``None`` when not checked
        (the space's default shape, a non-image shape, a network the meta device cannot
        run).

    Raises:
        InputShapeError: One line: the shape is too small for the network (with the
            smallest side it takes), not one its layers fit together at (with the nearest
            sides that fit) or too large (with the limit and the largest side that fits).
    """
    shape = tuple(int(s) for s in shape)
    default = tuple(int(s) for s in space.input_shape)
    if shape == default or len(shape) != 3 or len(default) != 3:
        return None
    if min(shape) < 1:
        raise InputShapeError(f"input shape {_text(shape)} has a zero or negative side")
    with _quiet():
        net = _MetaNetwork.build(space, arch, build_kwargs)
        try:
            default_bytes = net.image_pass(default) if net is not None else None
        except (_Refused, NotImplementedError) as exc:
            logger.debug("no meta-device probe of space %r: %s", space.name, exc)
            default_bytes = None
        if net is None or default_bytes is None:
            return None
        per_pixel = default_bytes / (default[1] * default[2])
        estimate = per_pixel * shape[1] * shape[2]
        if 4 * shape[0] * shape[1] * shape[2] > max_activation_bytes:  # the input alone
            raise _too_large(space, shape, estimate, per_pixel, max_activation_bytes, about=True)
        try:
            used = net.image_pass(shape)
        except NotImplementedError as exc:
            logger.debug("no meta-device probe of space %r at %s: %s", space.name, shape, exc)
            return None
        except _Refused as exc:
            raise _not_taken(space, net, shape, default, str(exc)) from None
    if used > max_activation_bytes:
        per_pixel = used / (shape[1] * shape[2])
        raise _too_large(space, shape, used, per_pixel, max_activation_bytes, about=False)
    return used


def _too_large(
    space: Any,
    shape: tuple[int, ...],
    used: float,
    per_pixel: float,
    limit: int,
    *,
    about: bool,
) -> InputShapeError:
    fits = int((limit / per_pixel) ** 0.5)
    return InputShapeError(
        f"space {space.name!r} cannot take {_text(shape)} inputs: the activations of one "
        f"such image take {'about ' if about else ''}{_gib(used)}, over the "
        f"{_gib(limit)} limit on one image's activations; sides up to about {fits:,} fit"
    )


def _not_taken(
    space: Any, net: _MetaNetwork, shape: tuple[int, ...], default: tuple[int, ...], reason: str
) -> InputShapeError:
    c, h, w = shape
    head = f"space {space.name!r} cannot take {_text(shape)} inputs"
    torch_says = f"(PyTorch: {reason})"
    smallest = None
    if h == w:
        smallest = next((s for s in range(1, max(default[1:]) + 1) if net.takes((c, s, s))), None)
    if smallest is None:
        return InputShapeError(f"{head} {torch_says}; its default input is {_text(default)}")
    if h < smallest:
        return InputShapeError(
            f"{head}: too small for its downsampling {torch_says}; the smallest side it "
            f"takes is {smallest} (default {default[1]})"
        )
    lowest = max(smallest, h - _NEAREST_WINDOW)
    below = next((s for s in range(h - 1, lowest - 1, -1) if net.takes((c, s, s))), smallest)
    above = next((s for s in range(h + 1, h + _NEAREST_WINDOW + 1) if net.takes((c, s, s))), None)
    nearest = f"are {below} and {above}" if above is not None else f"is {below}"
    return InputShapeError(
        f"{head}: its layers do not fit together at side {h} {torch_says}; the nearest "
        f"sides it takes {nearest}"
    )


def check_classifier(space: Any, arch: str, **build_kwargs: Any) -> None:
    """Refuse a space whose models do not return class logits ``(batch, classes)`` for
    the space's example input (e.g. a language model's logits per token), which is what
    :func:`~nasrank.training.train` trains. Not checked when the meta device cannot run
    the network.

    Raises:
        TrainingError: One line naming the output shape the models give.
    """
    with _quiet():
        net = _MetaNetwork.build(space, arch, build_kwargs)
        if net is None:
            return
        try:
            _, out = net.run(space.example_input(1))
        except (_Refused, NotImplementedError) as exc:
            logger.debug("no meta-device probe of space %r: %s", space.name, exc)
            return
    if len(out) != 2:
        raise TrainingError(
            f"space {space.name!r} builds models whose output for one sample has shape "
            f"{tuple(out)} (e.g. a language model's logits per token); training needs "
            "classifiers, whose logits are (batch, classes)"
        )


def is_classifier_space(space: Any) -> bool:
    """Whether :func:`check_classifier` passes for one sampled architecture of ``space``."""
    try:
        check_classifier(space, space.sample(0))
    except TrainingError:
        return False
    return True
