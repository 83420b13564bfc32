"""Per-space encodings: one-hot op vectors, adjacency + ops, and BANANAS path encodings.

These are the classic encodings of the NAS-Bench literature (compared in White et al.,
"A Study on Encodings for Neural Architecture Search", NeurIPS 2020). Each space defines
its own next to its op vocabulary (:attr:`nasrank.spaces.SearchSpace.encodings`, e.g.
``nasrank.spaces._nb201_encodings``); the functions here are conveniences that look the
space up by name (or take the space object) and ask it:

* :func:`nb201_onehot`: NB-201's ``onehot`` (``pruned=True``: ``onehot-pruned``), 30 values.
* :func:`nb101_adjacency`: NB-101's ``onehot``, 21 adjacency bits + 7 x 6 vertex ops = 63.
* :func:`nb301_onehot`: NB-301's ``onehot``, per cell and edge a one-hot op and input (192).
* :func:`path_encoding`: BANANAS' path encoding (White, Neiswanger & Savani, "BANANAS:
  Bayesian Optimization with Neural Architectures for Neural Architecture Search",
  AAAI 2021) of NB-201 (84), NB-101 (364) or NB-301 (11,200).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from nasrank.spaces import SearchSpace

__all__ = [
    "space_encoding",
    "space_encoding_names",
    "nb201_onehot",
    "nb101_adjacency",
    "nb301_onehot",
    "path_encoding",
]


def _space(space: str | SearchSpace) -> SearchSpace:
    # Imported here: nasrank.spaces imports torch, and `import nasrank.encodings` stays light.
    from nasrank.spaces import get_space

    return get_space(space)


def space_encoding(name: str, space: str | SearchSpace, arch: Any) -> np.ndarray:
    """Encode ``arch`` with the encoding ``name`` of ``space`` (a name or the space):
    ``get_space(space).encode(name, arch)``.

    Raises:
        UnknownNameError: The space has no encoding ``name``.
    """
    return _space(space).encode(name, arch)


def space_encoding_names(name: str, space: str | SearchSpace) -> list[str]:
    """Column names of :func:`space_encoding`: ``get_space(space).encoding_names(name)``."""
    return _space(space).encoding_names(name)


def nb201_onehot(arch: Any, *, pruned: bool = False) -> np.ndarray:
    """``(30,)`` one-hot ops of NB-201's six edges (``pruned``: of the live edges only)."""
    return _space("nb201").encode("onehot-pruned" if pruned else "onehot", arch)


def nb101_adjacency(arch: Any) -> np.ndarray:
    """``(63,)`` NB-101 padded adjacency bits + one-hot vertex ops."""
    return _space("nb101").encode("onehot", arch)


def nb301_onehot(arch: Any) -> np.ndarray:
    """``(192,)`` NB-301 per cell and edge one-hot op and one-hot input."""
    return _space("nb301").encode("onehot", arch)


def path_encoding(space: str | SearchSpace, arch: Any) -> np.ndarray:
    """BANANAS path encoding of ``arch`` in ``space`` (``"nb201"``, ``"nb101"``,
    ``"nb301"`` or the space object).

    Raises:
        UnknownNameError: The space has no path encoding.
    """
    return _space(space).encode("path", arch)
