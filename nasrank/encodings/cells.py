"""ONNX graphs of a search space's architectures: the whole network or one cell.

Stacked cell networks repeat one cell many times (NAS-Bench-201: 15 cells), so the graph
of the whole network is mostly repetition; ``level="cell"`` exports only the cell module
(with the input shape it has in the network's first stage), which is 10-20x smaller and
faster to export. The space builds its cell (``SearchSpace.cell_module``); spaces without
one raise :class:`NotImplementedError` for ``level="cell"``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from nasrank.encodings.opgraph import ENCODER_VERSION, OpGraph
from nasrank.errors import UnknownNameError

if TYPE_CHECKING:
    import torch
    from torch import nn

    from nasrank.encodings.cache import EncodingCache
    from nasrank.encodings.opgraph import OpGraph
    from nasrank.spaces import SearchSpace

__all__ = ["LEVELS", "cell_module", "arch_opgraph", "encode_graphs"]

#: Granularities of :func:`arch_opgraph`.
LEVELS: tuple[str, ...] = ("network", "cell")


def _check_level(level: str) -> None:
    if level not in LEVELS:
        import difflib

        close = difflib.get_close_matches(str(level), LEVELS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise UnknownNameError(f"unknown graph level {level!r}{hint} choices: {', '.join(LEVELS)}")


def cell_module(
    space: SearchSpace, arch: Any, *, seed: int = 0
) -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
    """The cell of ``arch`` as a module, and example inputs of its first-stage shape:
    :meth:`SearchSpace.cell_module <nasrank.spaces.SearchSpace.cell_module>`.

    Raises:
        NotImplementedError: The space has no cell-level export (the message lists the
            spaces that have one).
    """
    if not space.has_cell_module:
        # Imported here: nasrank.spaces imports torch, and `import nasrank.encodings` stays light.
        from nasrank.spaces import SPACES, get_space

        cell_spaces = [n for n in SPACES.names() if get_space(n).has_cell_module]
        raise NotImplementedError(
            f"space {space.name!r} has no cell-level graph; use level='network' "
            f"(cell-level spaces: {', '.join(cell_spaces)})"
        )
    return space.cell_module(arch, seed=seed)


def arch_opgraph(
    space: SearchSpace,
    arch: Any,
    *,
    level: str = "network",
    num_classes: int = 10,
    fold_zeros: bool = True,
) -> OpGraph:
    """The :class:`~nasrank.encodings.OpGraph` of one architecture of ``space``.

    Args:
        space: A search space (``get_space("nb201")``).
        arch: Any spelling the space accepts.
        level: ``"network"`` (the benchmark's whole network, batch of one input of the
            space's ``input_shape``) or ``"cell"`` (see :func:`cell_module`).
        num_classes: Classifier outputs of the whole network.
        fold_zeros: See :class:`~nasrank.encodings.OpGraph`.
    """
    _check_level(level)
    if level == "cell":
        module, inputs = cell_module(space, arch)
    else:
        module = space.build(arch, num_classes=num_classes)
        inputs = (space.example_input(batch_size=1, seed=0),)
    module.eval()
    return OpGraph.from_torch(module, inputs, fold_zeros=fold_zeros)


def encode_graphs(
    space: SearchSpace,
    archs: Sequence[Any],
    *,
    level: str = "network",
    cache: EncodingCache | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> list[OpGraph]:
    """:func:`arch_opgraph` of many architectures, reusing and filling ``cache``.

    Args:
        space: The architectures' space.
        archs: Architectures (any accepted spelling; cached under the canonical id).
        level: ``"network"`` or ``"cell"``.
        cache: An :class:`~nasrank.encodings.cache.EncodingCache`, or ``None`` for none.
        on_progress: Called with the number of newly encoded architectures as they are
            done (for progress bars).
    """
    _check_level(level)
    ids = [space.canonical(a) for a in archs]
    encoder = f"opgraph-{level}"
    found = cache.get_graphs(space.name, encoder, ENCODER_VERSION, ids) if cache else {}
    if on_progress is not None and found:
        on_progress(sum(1 for a in ids if a in found))
    todo = [a for a in dict.fromkeys(ids) if a not in found]
    pending: dict[str, OpGraph] = {}
    for arch in todo:
        # Built from the canonical id (for NB-101: the vertex order nasbench trained).
        pending[arch] = arch_opgraph(space, arch, level=level)
        if on_progress is not None:
            on_progress(1)
        if cache is not None and len(pending) >= 256:
            cache.put_graphs(space.name, encoder, ENCODER_VERSION, pending)
            found.update(pending)
            pending = {}
    if cache is not None:
        cache.put_graphs(space.name, encoder, ENCODER_VERSION, pending)
    found.update(pending)
    return [found[a] for a in ids]
