"""TransNAS-Bench-101 search spaces (Duan et al., "TransNAS-Bench-101: Improving
Transferability and Generalizability of Cross-Task Neural Architecture Search", CVPR
2021): one encoder architecture, seven Taskonomy tasks, each with its own decoder.

``tnb101-micro`` (4,096 archs) fixes the macro skeleton ``64-41414`` and varies the cell:
an NB-201-style 4-node DAG whose six edges carry 0 zero, 1 skip (a factorised reduction
where the cell downsamples), 2 ReLU-conv1x1-BN or 3 ReLU-conv3x3-BN. Canonical id: the
benchmark's string ``64-41414-a_bc_def`` (node 1 <- a; node 2 <- b, c; node 3 <- d, e, f,
sources in order).

``tnb101-macro`` (3,256 archs) varies the skeleton of ResNet basic blocks: 4-6 layers of
two blocks, each coded 1 (same shape), 2 (double channels), 3 (halve resolution) or 4
(both), with 1-3 channel doublings and 1-4 downsamplings. Canonical id:
``64-<codes>-basic``, e.g. ``64-1242-basic``.

Both also accept NAS-Bench-Suite-Zero's (NASLib's) op-index tuples: six digits in the
string's order for micro (``(1, 0, 0, 2, 1, 0)`` is ``64-41414-1_00_210``), six codes with
trailing zeros for absent layers for macro (``(1, 2, 4, 2, 0, 0)`` is ``64-1242-basic``).
The parameter counts of every shared Suite-Zero architecture and task match this reading
(``benchmarks/check_space_counts_tnb101.py``).

The task is part of the space: ``tnb101-micro:jigsaw`` is the micro space whose networks
have the jigsaw decoder and take jigsaw inputs (``get_space("tnb101-micro:jigsaw")``);
plain ``tnb101-micro`` is the ``class_object`` task. Scores of different tasks are stored
apart because the space names differ. Inputs: 3 x 256 x 256 images (the benchmark's
resolution) for every task but jigsaw, whose networks take a 3 x 192 x 192 image cut
into 3 x 3 tiles of 64 pixels.
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from nasrank._random import SeedLike, as_rng
from nasrank.errors import InvalidArchitecture, UnknownNameError
from nasrank.spaces._nb201_encodings import make_encodings
from nasrank.spaces._tnb101_model import TASK_KINDS, Encoder, MicroCell, TNBNetwork
from nasrank.spaces.base import ArchLike, SearchSpace
from nasrank.spaces.codec import IndexCodec
from nasrank.spaces.encoding import SpaceEncoding
from nasrank.spaces.registry import SPACES

__all__ = ["TNB101MicroSpace", "TNB101MacroSpace", "TASKS", "DEFAULT_TASK"]

#: The seven tasks, in the benchmark's order.
TASKS: tuple[str, ...] = tuple(TASK_KINDS)
DEFAULT_TASK = "class_object"
#: Micro op digit -> the NB-201 name of the same op (for the shared encodings).
MICRO_OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3")
#: Micro edges ``(src, dst)`` in the string's order a, b, c, d, e, f.
EDGES: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
_SKELETON = "64-41414"
_MICRO = re.compile(r"^64-41414-([0-3])_([0-3]{2})_([0-3]{3})$")
_MACRO = re.compile(r"^64-([1-4]{4,6})-basic$")
_INTS = re.compile(r"^[\(\[]?\s*-?\d+(\s*,\s*-?\d+)*\s*,?\s*[\)\]]?$")


def _task_data(task: str) -> tuple[str, tuple[int, ...]]:
    _, classes = TASK_KINDS[task]
    size = 192 if task == "jigsaw" else 256
    return f"synthetic:3x{size}x{size}:{classes}", (3, size, size)


def _int_tuple(arch: ArchLike) -> list[int] | None:
    """The integers of a tuple / list / tuple text, or ``None`` if ``arch`` is not one."""
    if isinstance(arch, str):
        text = arch.strip()
        return [int(v) for v in re.findall(r"-?\d+", text)] if _INTS.match(text) else None
    if isinstance(arch, Sequence) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in arch
    ):
        return [int(v) for v in arch]
    try:  # numpy integer arrays (NASLib keeps op indices in arrays)
        return [int(v) for v in arch] if all(float(v).is_integer() for v in arch) else None
    except (TypeError, ValueError):
        return None


class _TNBSpace(SearchSpace):
    """What both spaces share: the task, its data, and the network builder."""

    tasks: ClassVar[tuple[str, ...]] = TASKS
    family: ClassVar[str]
    # the default task's (an instance sets its own task's)
    default_data, input_shape = _task_data(DEFAULT_TASK)

    def __init__(self, task: str | None = None) -> None:
        task = DEFAULT_TASK if task is None else str(task)
        if task not in TASKS:
            close = difflib.get_close_matches(task, TASKS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise UnknownNameError(
                f"TransNAS-Bench-101 has no task {task!r}{hint}; tasks: {', '.join(TASKS)}"
            )
        self.task = task
        self.name = f"{self.family}:{task}"  # type: ignore[misc]  # per instance
        self.default_data, self.input_shape = _task_data(task)  # type: ignore[misc]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(task={self.task!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.task == self.task  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.task))

    def __reduce__(self) -> tuple[type, tuple[str]]:
        return type(self), (self.task,)

    def _encoder(self, arch: str) -> Encoder:
        raise NotImplementedError

    def build(self, arch: ArchLike, *, num_classes: int | None = None) -> nn.Module:
        """The task network: encoder of ``arch`` and the task's decoder.

        Args:
            num_classes: Outputs of the decoder (classes, permutations, segmentation
                classes or image channels); default the task's own (63 scene, 100 object,
                9 room layout, 1,000 jigsaw, 17 segmentation, 3 autoencoder / normal).
        """
        return TNBNetwork(self._encoder(self.canonical(arch)), self.task, num_classes)


@SPACES.register("tnb101-micro")
class TNB101MicroSpace(_TNBSpace):
    """TransNAS-Bench-101 micro (cell) space: 4^6 = 4,096 cells on the 64-41414 skeleton."""

    name = "tnb101-micro"
    family = "tnb101-micro"
    description = "TransNAS-Bench-101 cell space, 4,096 archs x 7 tasks (Duan et al., CVPR 2021)"

    def canonical(self, arch: ArchLike) -> str:
        digits = _int_tuple(arch)
        if digits is not None:
            return self._from_digits(digits, repr(arch))
        if isinstance(arch, str):
            text = re.sub(r"\s+", "", arch)
            m = _MICRO.match(text)
            if m:
                return text
            raise InvalidArchitecture(
                f"cannot parse TransNAS-Bench-101 micro architecture {arch!r}; expected the "
                "benchmark string '64-41414-a_bc_def' with op digits 0 zero, 1 skip, 2 conv1x1, "
                "3 conv3x3 (e.g. '64-41414-3_33_333') or a 6-tuple of them like (1, 0, 0, 2, 1, 0)"
            )
        raise InvalidArchitecture(
            f"cannot interpret {arch!r} of type {type(arch).__name__} as a TransNAS-Bench-101 "
            "micro architecture; expected the string '64-41414-a_bc_def' or a 6-tuple of digits"
        )

    @staticmethod
    def _from_digits(digits: Sequence[int], text: str) -> str:
        if len(digits) != 6 or any(not 0 <= d <= 3 for d in digits):
            raise InvalidArchitecture(
                f"TransNAS-Bench-101 micro tuple {text} must have 6 op digits in 0..3 (0 zero, "
                "1 skip, 2 conv1x1, 3 conv3x3), one per edge 0->1, 0->2, 1->2, 0->3, 1->3, 2->3"
            )
        return _format_micro(digits)

    @staticmethod
    def digits_of(arch: str) -> tuple[int, ...]:
        """The six op digits of a canonical id, in string order."""
        return tuple(int(c) for c in arch.rsplit("-", 1)[1] if c != "_")

    def ops_of(self, arch: ArchLike) -> tuple[str, ...]:
        """The six ops (NB-201 names) of ``arch``, in string order."""
        return tuple(MICRO_OPS[d] for d in self.digits_of(self.canonical(arch)))

    @property
    def size(self) -> int:
        return 4**6

    def enumerate(self) -> Iterator[str]:
        """All 4,096 ids, the last edge varying fastest."""
        for digits in itertools.product(range(4), repeat=6):
            yield _format_micro(digits)

    def sample(self, seed: SeedLike = None) -> str:
        return _format_micro(as_rng(seed).integers(4, size=6).tolist())

    def mutate(self, arch: ArchLike, seed: SeedLike = None) -> str:
        """Change the op of one uniformly chosen edge to a different one."""
        rng = as_rng(seed)
        digits = list(self.digits_of(self.canonical(arch)))
        edge = int(rng.integers(6))
        digits[edge] = [d for d in range(4) if d != digits[edge]][int(rng.integers(3))]
        return _format_micro(digits)

    def neighbours(self, arch: ArchLike) -> list[str]:
        """The 18 cells that differ in exactly one edge's op."""
        digits = list(self.digits_of(self.canonical(arch)))
        return [
            _format_micro(digits[:e] + [d] + digits[e + 1 :])
            for e in range(6)
            for d in range(4)
            if d != digits[e]
        ]

    def _encoder(self, arch: str) -> Encoder:
        return Encoder("41414", _cell_ops(self.digits_of(arch)))

    def cell_module(
        self, arch: ArchLike, *, seed: int = 0
    ) -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
        """One cell at 64 channels, input ``(1, 64, 64, 64)`` (the first layer's)."""
        cell = MicroCell(_cell_ops(self.digits_of(self.canonical(arch))), 64, 64, 1)
        generator = torch.Generator().manual_seed(seed)
        return cell, (torch.randn(1, 64, 64, 64, generator=generator),)

    @property
    def encodings(self) -> Mapping[str, SpaceEncoding]:
        """``onehot``, ``onehot-pruned`` and ``path``, as NB-201's over the 4 ops."""
        return _MICRO_ENCODINGS

    @property
    def index_codec(self) -> IndexCodec:
        """The base-4 number of the six digits; equals the position in :meth:`enumerate`."""
        return _MICRO_CODEC


@SPACES.register("tnb101-macro")
class TNB101MacroSpace(_TNBSpace):
    """TransNAS-Bench-101 macro (skeleton) space: 3,256 skeletons of basic blocks."""

    name = "tnb101-macro"
    family = "tnb101-macro"
    description = (
        "TransNAS-Bench-101 skeleton space, 3,256 archs x 7 tasks (Duan et al., CVPR 2021)"
    )

    def canonical(self, arch: ArchLike) -> str:
        codes = _int_tuple(arch)
        if codes is not None:
            return self._from_codes(codes, repr(arch))
        if isinstance(arch, str):
            text = re.sub(r"\s+", "", arch)
            m = _MACRO.match(text)
            if m:
                return self._from_codes([int(c) for c in m.group(1)], repr(arch))
            raise InvalidArchitecture(
                f"cannot parse TransNAS-Bench-101 macro architecture {arch!r}; expected the "
                "benchmark string '64-<4 to 6 codes>-basic' with codes 1 same, 2 double "
                "channels, 3 downsample, 4 both (e.g. '64-1242-basic') or a 6-tuple of codes "
                "with trailing zeros like (1, 2, 4, 2, 0, 0)"
            )
        raise InvalidArchitecture(
            f"cannot interpret {arch!r} of type {type(arch).__name__} as a TransNAS-Bench-101 "
            "macro architecture; expected '64-<codes>-basic' or a 6-tuple of codes"
        )

    @staticmethod
    def _from_codes(codes: Sequence[int], text: str) -> str:
        layers = list(codes)
        if len(layers) == 6:  # the tuple form: trailing zeros are absent layers
            while layers and layers[-1] == 0:
                layers.pop()
        if not 4 <= len(layers) <= 6 or any(not 1 <= c <= 4 for c in layers):
            raise InvalidArchitecture(
                f"TransNAS-Bench-101 macro architecture {text} must have 4-6 layer codes in "
                "1..4 (1 same, 2 double channels, 3 downsample, 4 both; a 6-tuple pads "
                "absent layers with trailing zeros)"
            )
        doublings = sum(c in (2, 4) for c in layers)
        downsamplings = sum(c in (3, 4) for c in layers)
        if not 1 <= doublings <= 3 or not 1 <= downsamplings <= 4:
            raise InvalidArchitecture(
                f"TransNAS-Bench-101 macro architecture {text} has {doublings} channel "
                f"doublings and {downsamplings} downsamplings; the space has 1-3 doublings "
                "(codes 2, 4) and 1-4 downsamplings (codes 3, 4)"
            )
        return f"64-{''.join(map(str, layers))}-basic"

    @staticmethod
    def codes_of(arch: str) -> tuple[int, ...]:
        """The layer codes of a canonical id."""
        return tuple(int(c) for c in arch.split("-")[1])

    @property
    def size(self) -> int:
        return len(_MACRO_IDS)

    def enumerate(self) -> Iterator[str]:
        """All 3,256 ids: 4, then 5, then 6 layers, codes in increasing order."""
        return iter(_MACRO_IDS)

    def sample(self, seed: SeedLike = None) -> str:
        """Uniform over the 3,256 skeletons."""
        return _MACRO_IDS[int(as_rng(seed).integers(len(_MACRO_IDS)))]

    def mutate(self, arch: ArchLike, seed: SeedLike = None) -> str:
        """A uniformly chosen neighbour (:meth:`neighbours`)."""
        options = self.neighbours(arch)
        return options[int(as_rng(seed).integers(len(options)))]

    def neighbours(self, arch: ArchLike) -> list[str]:
        """Skeletons one edit away that are in the space: one layer's code changed, one
        layer inserted (any position, any code) or one layer removed."""
        codes = list(self.codes_of(self.canonical(arch)))
        edits: list[list[int]] = []
        for i in range(len(codes)):
            edits += [codes[:i] + [c] + codes[i + 1 :] for c in range(1, 5) if c != codes[i]]
            edits.append(codes[:i] + codes[i + 1 :])
        for i in range(len(codes) + 1):
            edits += [codes[:i] + [c] + codes[i:] for c in range(1, 5)]
        out: list[str] = []
        for edit in edits:
            text = f"64-{''.join(map(str, edit))}-basic"
            if text in _MACRO_SET and text not in out:
                out.append(text)
        return out

    def _encoder(self, arch: str) -> Encoder:
        return Encoder("".join(map(str, self.codes_of(arch))), None)

    @property
    def encodings(self) -> Mapping[str, SpaceEncoding]:
        """``onehot``: 6 positions x (absent, codes 1-4), layers left-aligned (30)."""
        return _MACRO_ENCODINGS

    @property
    def index_codec(self) -> IndexCodec:
        """The position in :meth:`enumerate`."""
        return _MACRO_CODEC


def _format_micro(digits: Sequence[int]) -> str:
    a, b, c, d, e, f = (int(v) for v in digits)
    return f"{_SKELETON}-{a}_{b}{c}_{d}{e}{f}"


def _cell_ops(digits: Sequence[int]) -> list[list[str]]:
    s = [str(d) for d in digits]
    return [[s[0]], [s[1], s[2]], [s[3], s[4], s[5]]]


def _macro_ids() -> tuple[str, ...]:
    out = []
    for length in (4, 5, 6):
        for codes in itertools.product((1, 2, 3, 4), repeat=length):
            doublings = sum(c in (2, 4) for c in codes)
            downsamplings = sum(c in (3, 4) for c in codes)
            if 1 <= doublings <= 3 and 1 <= downsamplings <= 4:
                out.append(f"64-{''.join(map(str, codes))}-basic")
    return tuple(out)


_MACRO_IDS = _macro_ids()
_MACRO_SET = frozenset(_MACRO_IDS)
_MACRO_INDEX = {arch: i for i, arch in enumerate(_MACRO_IDS)}


def _micro_index(arch: str) -> int:
    if not _MICRO.match(arch):
        raise ValueError(f"not a canonical TransNAS-Bench-101 micro id: {arch!r}")
    index = 0
    for d in TNB101MicroSpace.digits_of(arch):
        index = index * 4 + d
    return index


def _micro_at(index: int) -> str:
    if not 0 <= index < 4**6:
        raise ValueError(f"TransNAS-Bench-101 micro index {index} is outside 0..4095")
    return _format_micro([(index // 4**k) % 4 for k in range(5, -1, -1)])


def _macro_index(arch: str) -> int:
    try:
        return _MACRO_INDEX[arch]
    except KeyError:
        raise ValueError(f"not a canonical TransNAS-Bench-101 macro id: {arch!r}") from None


def _macro_at(index: int) -> str:
    if not 0 <= index < len(_MACRO_IDS):
        raise ValueError(f"TransNAS-Bench-101 macro index {index} is outside 0..3255")
    return _MACRO_IDS[index]


_MICRO_CODEC = IndexCodec(
    "tnb101-micro",
    4**6,
    "sum over the 6 op digits k in string order (a, b, c, d, e, f) of digit_k * 4**(5 - k); "
    "equals the position in TNB101MicroSpace.enumerate()",
    _micro_index,
    _micro_at,
)
_MACRO_CODEC = IndexCodec(
    "tnb101-macro",
    len(_MACRO_IDS),
    "position in TNB101MacroSpace.enumerate(): 4, 5, then 6 layers, codes in "
    "lexicographic order, kept when they have 1-3 doublings and 1-4 downsamplings",
    _macro_index,
    _macro_at,
)

_MICRO_ENCODINGS = make_encodings(lambda a: TNB101MicroSpace().ops_of(a), EDGES, MICRO_OPS)


def _macro_onehot(arch: ArchLike) -> np.ndarray:
    codes = TNB101MacroSpace.codes_of(TNB101MacroSpace().canonical(arch))
    out = np.zeros(6 * 5)
    for i in range(6):
        out[i * 5 + (codes[i] if i < len(codes) else 0)] = 1.0
    return out


_MACRO_ENCODINGS = {
    "onehot": SpaceEncoding(
        "onehot",
        _macro_onehot,
        lambda: [f"onehot:layer{i}={c}" for i in range(6) for c in ("absent", 1, 2, 3, 4)],
    )
}
