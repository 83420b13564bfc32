"""The search-space interface every space implements."""

from __future__ import annotations

import abc
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from nasrank._random import SeedLike, as_rng
from nasrank.errors import InvalidArchitecture

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__ = ["SearchSpace", "ArchLike"]

#: Anything a space may accept as an architecture: its canonical id string, another
#: accepted spelling (NASLib tuple, op list, dict, ...), parsed by :meth:`SearchSpace.canonical`.
ArchLike = Any


class SearchSpace(abc.ABC):
    """A set of architectures with one canonical, hashable id string per architecture.

    Architectures travel through nasrank as canonical id strings; every method accepts
    any spelling the space documents and canonicalises it first. Models are built on
    demand with :meth:`build`.
    """

    #: Registry name ("nb201", ...).
    name: ClassVar[str]
    #: One line for ``nasrank spaces``.
    description: ClassVar[str]
    #: Shape of one input sample for the default model (C, H, W) or (T,) for tokens.
    input_shape: ClassVar[tuple[int, ...]] = (3, 32, 32)

    @abc.abstractmethod
    def canonical(self, arch: ArchLike) -> str:
        """Parse any accepted spelling of ``arch`` into the canonical id.

        Raises:
            InvalidArchitecture: ``arch`` is not an architecture of this space; the
                message names the offending text and what was expected.
        """

    def is_valid(self, arch: ArchLike) -> bool:
        try:
            self.canonical(arch)
        except InvalidArchitecture:
            return False
        return True

    @property
    def size(self) -> int | None:
        """Number of architectures, or ``None`` when the space is not enumerable."""
        return None

    def enumerate(self) -> Iterator[str]:
        """Yield every architecture's canonical id (finite spaces only)."""
        raise NotImplementedError(f"space {self.name!r} is not enumerable")

    @abc.abstractmethod
    def sample(self, seed: SeedLike = None) -> str:
        """Draw one architecture uniformly (or by the space's documented prior)."""

    @abc.abstractmethod
    def mutate(self, arch: ArchLike, seed: SeedLike = None) -> str:
        """Return a different architecture that differs from ``arch`` by one edit."""

    @abc.abstractmethod
    def neighbours(self, arch: ArchLike) -> list[str]:
        """All architectures one edit away from ``arch``, in a deterministic order."""

    @abc.abstractmethod
    def build(self, arch: ArchLike, *, num_classes: int = 10) -> nn.Module:
        """Build the benchmark's network for ``arch`` (freshly initialised).

        ``num_classes`` is the size of the last output dimension (the vocabulary for
        language models).
        """

    def example_input(self, batch_size: int = 2, seed: SeedLike = 0) -> torch.Tensor:
        """A random input batch the built models accept (floats of :attr:`input_shape`;
        token spaces override this to return integer ids)."""
        import torch

        generator = torch.Generator().manual_seed(int(as_rng(seed).integers(2**31)))
        return torch.randn(batch_size, *self.input_shape, generator=generator)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
