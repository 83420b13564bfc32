"""The search-space interface every space implements."""

from __future__ import annotations

import abc
import difflib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from nasrank._random import SeedLike, as_rng
from nasrank.errors import InvalidArchitecture, UnknownNameError
from nasrank.spaces.codec import IndexCodec
from nasrank.spaces.encoding import SpaceEncoding

if TYPE_CHECKING:
    import numpy as np
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
    demand with :meth:`build`. Optional capabilities have safe defaults here: the
    space's own encodings (:attr:`encodings`, none), a cell module for cell-level
    graphs (:meth:`cell_module`, none), a dense integer index (:attr:`index_codec`,
    none) and the data its models take (:attr:`default_data`, synthetic images; see
    :func:`nasrank.data.resolve_data`).
    """

    #: Registry name ("nb201", ...).
    name: ClassVar[str]
    #: One line for ``nasrank spaces``.
    description: ClassVar[str]
    #: Shape of one input sample for the default model (C, H, W) or (T,) for tokens.
    input_shape: ClassVar[tuple[int, ...]] = (3, 32, 32)
    #: Data spec (``nasrank.data``) the space's models take when none is given. Its kind
    #: (images, tokens, graph) is the kind of data the models take at all:
    #: ``nasrank.data.resolve_data(space, text)`` completes a bare spec from it and
    #: refuses one of another kind, so a new space sets only this.
    default_data: ClassVar[str] = "synthetic"
    #: Longest token sequence the models take (position embeddings), ``None``: any.
    max_seq_len: ClassVar[int | None] = None

    @abc.abstractmethod
    def canonical(self, arch: ArchLike) -> str:
        """Parse any accepted spelling of ``arch`` into the canonical id.

        Raises:
            InvalidArchitecture: ``arch`` is not an architecture of this space; the
                message names the offending text and what was expected.
        """

    def network_id(self, arch: ArchLike) -> str:
        """The id of the network :meth:`build` ``(arch)`` builds: what a path that starts
        from a user's spelling builds, seeds and stores scores under.

        :meth:`canonical` names the architecture for benchmark lookups and
        deduplication; where every spelling of one canonical id builds one network it
        is this id too (the default). A space whose canonical id merges spellings that
        build different networks overrides this (NAS-Bench-101: isomorphic cells whose
        vertex orders split channels differently) and returns an id, in the same format,
        that builds ``arch``'s network. Always ``canonical(network_id(a)) ==
        canonical(a)`` and ``network_id(network_id(a)) == network_id(a)``; sampled,
        enumerated and mutated ids are their own network ids (they build the
        benchmark's network).

        Raises:
            InvalidArchitecture: As :meth:`canonical`.
        """
        return self.canonical(arch)

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

    # ---- optional capabilities ------------------------------------------------------------
    @property
    def encodings(self) -> Mapping[str, SpaceEncoding]:
        """The space's own encodings (``"onehot"``, ``"path"``, ...) by name; none here."""
        return {}

    def encoding(self, name: str) -> SpaceEncoding:
        """The encoding called ``name``.

        Raises:
            UnknownNameError: The space has no such encoding; the message lists the
                space's encodings.
        """
        found = self.encodings.get(name)
        if found is None:
            choices = list(self.encodings)
            close = difflib.get_close_matches(str(name), choices, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ";"
            raise UnknownNameError(
                f"space {self.name!r} has no encoding {name!r}{hint} choices: "
                f"{', '.join(choices) or 'none'} (the 'onnx' features work for every space)"
            )
        return found

    def encode(self, name: str, arch: ArchLike) -> np.ndarray:
        """The vector of ``arch`` in the encoding ``name`` (see :meth:`encoding`)."""
        return self.encoding(name).encode(arch)

    def encoding_names(self, name: str) -> list[str]:
        """Column names of :meth:`encode` for the encoding ``name``."""
        return self.encoding(name).names()

    def cell_module(
        self, arch: ArchLike, *, seed: int = 0
    ) -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
        """One cell of ``arch`` as a module, and example inputs of its first-stage shape
        (for cell-level graphs, ``arch_opgraph(..., level="cell")``).

        Raises:
            NotImplementedError: The space has no cell module (the default).
        """
        raise NotImplementedError(
            f"space {self.name!r} has no cell-level graph; use level='network'"
        )

    @property
    def has_cell_module(self) -> bool:
        """Whether the space implements :meth:`cell_module`."""
        return type(self).cell_module is not SearchSpace.cell_module

    @property
    def index_codec(self) -> IndexCodec | None:
        """The dense integer index of a finite space's ids, or ``None`` (the default)."""
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
