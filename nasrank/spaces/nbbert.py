"""NAS-Bench-BERT: the FlexiBERT-like transformer space trained by Serianni & Kalita
("Training-free Neural Architecture Search for RNNs and Transformers", ACL 2023), after
FlexiBERT (Tuli et al., JAIR 2023).

An architecture is a hidden size (128 or 256) and 2 or 4 encoder layers; each layer has

* an operation: ``SA`` self-attention with ``SDP`` (scaled dot-product) or ``WMA``
  (weighted multiplicative) scores, ``LT`` linear token mixing by ``DFT`` or ``DCT``, or
  ``DSC`` depthwise-separable convolution with kernel ``5`` or ``9``;
* ``num_operation_heads`` 2 or 4;
* ``feed_forward_dimension`` 512 or 1024 and ``num_feed_forward`` 1 or 3 stacked FFN layers.

That is 6 x 2 x 2 x 2 = 48 layer choices and 2 x (48^2 + 48^4) = 10,621,440 architectures
(the benchmark trained 500 of them).

Canonical id: ``h{hidden}|{layer}|{layer}...`` with each layer written
``{type}-{param}-h{heads}-f{ffn_dim}x{num_ffn}`` (``param`` is ``SDP``, ``WMA``, ``DFT``,
``DCT``, ``k5`` or ``k9``)::

    h256|SA-WMA-h4-f1024x3|LT-DCT-h2-f512x3|SA-SDP-h4-f512x3|SA-SDP-h4-f1024x1

Accepted spellings (all parsed by :meth:`NBBERTSpace.canonical`): the id (whitespace and
case of the op names ignored; ``DSC-5`` for ``DSC-k5``); a mapping with ``hidden_size`` and
``encoder_layers`` (or ``nas_config.encoder_layers``), a whole ``BERT_benchmark.json`` record
(``hparams.model_hparam_overrides``), or the JSON text of any of these; a pair
``(hidden_size, encoder_layers)``. Layers use the benchmark's keys ``operation_type``,
``operation_parameter``, ``num_operation_heads``, ``feed_forward_dimension``,
``num_feed_forward``.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from nasrank._random import SeedLike, as_rng
from nasrank.errors import InvalidArchitecture
from nasrank.spaces._nbbert_model import CONVENTIONS, FlexiBERTModel
from nasrank.spaces.base import ArchLike, SearchSpace
from nasrank.spaces.registry import SPACES

__all__ = [
    "NBBERTSpace",
    "BERTArch",
    "BERTLayer",
    "OPERATIONS",
    "HIDDEN_SIZES",
    "NUM_LAYERS",
    "NUM_HEADS",
    "FFN_DIMS",
    "NUM_FFN",
    "ELECTRA_VOCAB_SIZE",
]

#: (operation_type, operation_parameter) pairs in the benchmark's spelling.
OPERATIONS: tuple[tuple[str, str | int], ...] = (
    ("SA", "SDP"),
    ("SA", "WMA"),
    ("LT", "DFT"),
    ("LT", "DCT"),
    ("DSC", 5),
    ("DSC", 9),
)
HIDDEN_SIZES: tuple[int, ...] = (128, 256)
NUM_LAYERS: tuple[int, ...] = (2, 4)
NUM_HEADS: tuple[int, ...] = (2, 4)
FFN_DIMS: tuple[int, ...] = (512, 1024)
NUM_FFN: tuple[int, ...] = (1, 3)
#: Vocabulary of the ELECTRA tokenizer the benchmark used (google/electra-small).
ELECTRA_VOCAB_SIZE = 30_522

_OP_TYPES = ("SA", "LT", "DSC")
_PARAMS_OF = {t: tuple(p for tt, p in OPERATIONS if tt == t) for t in _OP_TYPES}
_LAYER_TOKEN = re.compile(r"^(SA|LT|DSC)-([A-Z]+|K?\d+)-H(\d+)-F(\d+)X(\d+)$")
_LAYER_FORMAT = "{type}-{param}-h{heads}-f{ffn_dim}x{num_ffn}, e.g. SA-SDP-h4-f1024x1"
_LAYER_KEYS = (
    "operation_type",
    "operation_parameter",
    "num_operation_heads",
    "feed_forward_dimension",
    "num_feed_forward",
)


def _choices(values: Sequence[Any]) -> str:
    return " or ".join(str(v) for v in values)


@dataclass(frozen=True)
class BERTLayer:
    """One encoder layer (the benchmark's ``encoder_layers`` entry)."""

    operation_type: str
    operation_parameter: str | int
    num_operation_heads: int
    feed_forward_dimension: int
    num_feed_forward: int

    @property
    def token(self) -> str:
        p = self.operation_parameter
        param = f"k{p}" if isinstance(p, int) else p
        return (
            f"{self.operation_type}-{param}-h{self.num_operation_heads}"
            f"-f{self.feed_forward_dimension}x{self.num_feed_forward}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in _LAYER_KEYS}


@dataclass(frozen=True)
class BERTArch:
    """A parsed NAS-Bench-BERT architecture."""

    hidden_size: int
    layers: tuple[BERTLayer, ...]

    @property
    def id(self) -> str:
        return "|".join([f"h{self.hidden_size}"] + [layer.token for layer in self.layers])

    def to_dict(self) -> dict[str, Any]:
        """The benchmark's ``model_hparam_overrides`` layout."""
        return {
            "hidden_size": self.hidden_size,
            "nas_config": {"encoder_layers": [layer.to_dict() for layer in self.layers]},
        }


def _int(value: Any, what: str, text: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InvalidArchitecture(f"{what} {value!r} in {text} is not an integer")
    try:
        return int(value)
    except ValueError:
        raise InvalidArchitecture(f"{what} {value!r} in {text} is not an integer") from None


def _check_layer(
    i: int, op_type: Any, param: Any, heads: Any, ffn: Any, n_ffn: Any, hidden: int, text: str
) -> BERTLayer:
    where = f"layer {i} of NAS-Bench-BERT architecture {text}"
    if op_type not in _OP_TYPES:
        raise InvalidArchitecture(
            f"{where}: unknown operation_type {op_type!r}; expected {', '.join(_OP_TYPES)}"
        )
    allowed = _PARAMS_OF[op_type]
    if op_type == "DSC":
        if isinstance(param, str) and re.fullmatch(r"[kK]?\d+", param.strip()):
            param = int(param.strip().lstrip("kK"))
        if isinstance(param, bool) or param not in allowed:
            raise InvalidArchitecture(
                f"{where}: DSC operation_parameter (kernel size) {param!r} is not allowed; "
                f"expected {_choices(allowed)}"
            )
    else:
        param = param.upper() if isinstance(param, str) else param
        if param not in allowed:
            raise InvalidArchitecture(
                f"{where}: {op_type} operation_parameter {param!r} is not allowed; "
                f"expected {_choices(allowed)}"
            )
    heads_i = _int(heads, "num_operation_heads", where)
    if heads_i not in NUM_HEADS:
        raise InvalidArchitecture(
            f"{where}: num_operation_heads {heads_i} is not allowed; expected {_choices(NUM_HEADS)}"
        )
    ffn_i = _int(ffn, "feed_forward_dimension", where)
    if ffn_i not in FFN_DIMS:
        raise InvalidArchitecture(
            f"{where}: feed_forward_dimension {ffn_i} is not allowed; expected {_choices(FFN_DIMS)}"
        )
    n_ffn_i = _int(n_ffn, "num_feed_forward", where)
    if n_ffn_i not in NUM_FFN:
        raise InvalidArchitecture(
            f"{where}: num_feed_forward {n_ffn_i} is not allowed; expected {_choices(NUM_FFN)}"
        )
    assert hidden % heads_i == 0
    return BERTLayer(op_type, param, heads_i, ffn_i, n_ffn_i)


def _check_arch(hidden: Any, layers: Sequence[BERTLayer] | None, text: str) -> None:
    if hidden not in HIDDEN_SIZES:
        raise InvalidArchitecture(
            f"hidden_size {hidden!r} of NAS-Bench-BERT architecture {text} is not allowed; "
            f"expected {_choices(HIDDEN_SIZES)}"
        )
    if layers is not None and len(layers) not in NUM_LAYERS:
        raise InvalidArchitecture(
            f"NAS-Bench-BERT architecture {text} has {len(layers)} encoder layers; expected "
            f"{_choices(NUM_LAYERS)}"
        )


def parse_arch(arch: ArchLike) -> BERTArch:
    """Parse any accepted spelling (see the module docstring) into a :class:`BERTArch`.

    Raises:
        InvalidArchitecture: the text is malformed or a choice is outside the space; the
            message names the layer, the field, the bad value and the allowed values.
    """
    if isinstance(arch, BERTArch):
        return arch
    text = repr(arch if not isinstance(arch, str) or len(arch) < 200 else arch[:197] + "...")
    if isinstance(arch, str):
        stripped = arch.strip()
        if stripped.startswith(("{", "[")):
            try:
                data = json.loads(stripped)
            except json.JSONDecodeError as exc:
                raise InvalidArchitecture(
                    f"NAS-Bench-BERT architecture {text} is not valid JSON: {exc}"
                ) from None
            return _parse_data(data, text)
        return _parse_id(stripped, text)
    return _parse_data(arch, text)


def _parse_id(arch: str, text: str) -> BERTArch:
    compact = re.sub(r"\s+", "", arch)
    parts = compact.split("|")
    m = re.fullmatch(r"[hH](\d+)", parts[0])
    if not m or len(parts) < 2:
        raise InvalidArchitecture(
            f"cannot parse NAS-Bench-BERT architecture {text}; expected "
            "'h{hidden}|{layer}|{layer}...' like 'h256|SA-WMA-h4-f1024x3|LT-DCT-h2-f512x3' "
            f"with each layer {_LAYER_FORMAT}"
        )
    hidden = int(m.group(1))
    _check_arch(hidden, None, text)
    layers = []
    for i, token in enumerate(parts[1:]):
        lm = _LAYER_TOKEN.match(token.upper())
        if not lm:
            raise InvalidArchitecture(
                f"layer {i} {token!r} of NAS-Bench-BERT architecture {text} is not {_LAYER_FORMAT}"
            )
        op_type, param, heads, ffn, n_ffn = lm.groups()
        layers.append(_check_layer(i, op_type, param, heads, ffn, n_ffn, hidden, text))
    _check_arch(hidden, layers, text)
    return BERTArch(hidden, tuple(layers))


def _parse_data(data: Any, text: str) -> BERTArch:
    if isinstance(data, Mapping):
        if "hparams" in data:  # a BERT_benchmark.json record
            data = data["hparams"]
        if isinstance(data, Mapping) and "model_hparam_overrides" in data:
            data = data["model_hparam_overrides"]
        if not isinstance(data, Mapping) or "hidden_size" not in data:
            raise InvalidArchitecture(
                f"NAS-Bench-BERT architecture {text} has no 'hidden_size'; expected a mapping "
                "with 'hidden_size' and 'encoder_layers' (or 'nas_config': {'encoder_layers'})"
            )
        hidden = data["hidden_size"]
        layers = data.get("encoder_layers")
        if layers is None and isinstance(data.get("nas_config"), Mapping):
            layers = data["nas_config"].get("encoder_layers")
    elif (
        isinstance(data, Sequence)
        and not isinstance(data, str)
        and len(data) == 2
        and not isinstance(data[0], (Mapping, Sequence))
    ):
        hidden, layers = data
    else:
        raise InvalidArchitecture(
            f"cannot interpret {text} of type {type(data).__name__} as a NAS-Bench-BERT "
            "architecture; expected an id like 'h256|SA-SDP-h4-f1024x1|LT-DFT-h2-f512x3', a "
            "mapping with 'hidden_size' and 'encoder_layers', or (hidden_size, encoder_layers)"
        )
    if isinstance(hidden, bool) or not isinstance(hidden, int):
        raise InvalidArchitecture(
            f"hidden_size {hidden!r} of NAS-Bench-BERT architecture {text} is not allowed; "
            f"expected {_choices(HIDDEN_SIZES)}"
        )
    _check_arch(hidden, None, text)
    if isinstance(layers, (str, bytes)) or not isinstance(layers, Sequence):
        raise InvalidArchitecture(
            f"NAS-Bench-BERT architecture {text}: 'encoder_layers' must be a list of layer "
            f"mappings with keys {', '.join(_LAYER_KEYS)}; got {layers!r}"
        )
    parsed = []
    for i, layer in enumerate(layers):
        if isinstance(layer, BERTLayer):
            layer = layer.to_dict()
        if not isinstance(layer, Mapping):
            raise InvalidArchitecture(
                f"layer {i} of NAS-Bench-BERT architecture {text} is {layer!r}; expected a "
                f"mapping with keys {', '.join(_LAYER_KEYS)}"
            )
        missing = [k for k in _LAYER_KEYS if k not in layer]
        extra = [k for k in layer if k not in _LAYER_KEYS]
        if missing or extra:
            problem = f"lacks {', '.join(missing)}" if missing else f"has unknown keys {extra}"
            raise InvalidArchitecture(
                f"layer {i} of NAS-Bench-BERT architecture {text} {problem}; expected keys "
                f"{', '.join(_LAYER_KEYS)}"
            )
        op_type, param, heads, ffn, n_ffn = (layer[k] for k in _LAYER_KEYS)
        parsed.append(_check_layer(i, op_type, param, heads, ffn, n_ffn, hidden, text))
    _check_arch(hidden, parsed, text)
    return BERTArch(hidden, tuple(parsed))


def _all_layers() -> list[BERTLayer]:
    return [
        BERTLayer(t, p, h, f, n)
        for (t, p), h, f, n in itertools.product(OPERATIONS, NUM_HEADS, FFN_DIMS, NUM_FFN)
    ]


@SPACES.register("nbbert")
class NBBERTSpace(SearchSpace):
    """FlexiBERT-like transformers of NAS-Bench-BERT (Serianni & Kalita, ACL 2023)."""

    name = "nbbert"
    description = "NAS-Bench-BERT FlexiBERT-like transformers, 10.6 M archs (Serianni & Kalita)"
    #: One example sequence of token ids.
    input_shape = (128,)
    #: Data spec the CLI scores these models on unless told otherwise: synthetic Zipfian
    #: ids of the ELECTRA vocabulary, sequences of 128 (no text ships with nasrank).
    default_data = f"tokens:{ELECTRA_VOCAB_SIZE}:128"
    #: ELECTRA-small's position embeddings (``build(max_position_embeddings=512)``).
    max_seq_len = 512

    # ---- ids -------------------------------------------------------------------------
    def canonical(self, arch: ArchLike) -> str:
        return parse_arch(arch).id

    def parse(self, arch: ArchLike) -> BERTArch:
        """The architecture as a :class:`BERTArch` value."""
        return parse_arch(arch)

    def to_dict(self, arch: ArchLike) -> dict[str, Any]:
        """The benchmark's ``model_hparam_overrides`` layout of ``arch``."""
        return parse_arch(arch).to_dict()

    # ---- enumeration, sampling, edits ----------------------------------------------------
    @property
    def size(self) -> int:
        per_layer = len(OPERATIONS) * len(NUM_HEADS) * len(FFN_DIMS) * len(NUM_FFN)
        return len(HIDDEN_SIZES) * sum(per_layer**n for n in NUM_LAYERS)

    def enumerate(self) -> Iterator[str]:
        """All ids: hidden size, then depth, then layers (last layer varying fastest)."""
        layers = _all_layers()
        for hidden in HIDDEN_SIZES:
            for depth in NUM_LAYERS:
                for combo in itertools.product(layers, repeat=depth):
                    yield BERTArch(hidden, combo).id

    def sample(self, seed: SeedLike = None) -> str:
        """Uniform hidden size, uniform depth (2 or 4), each layer uniform over its 48 choices."""
        rng = as_rng(seed)
        layers = _all_layers()
        hidden = HIDDEN_SIZES[int(rng.integers(len(HIDDEN_SIZES)))]
        depth = NUM_LAYERS[int(rng.integers(len(NUM_LAYERS)))]
        return BERTArch(
            hidden, tuple(layers[int(i)] for i in rng.integers(len(layers), size=depth))
        ).id

    @staticmethod
    def _edits(arch: BERTArch) -> Iterator[BERTArch]:
        for hidden in HIDDEN_SIZES:
            if hidden != arch.hidden_size:
                yield BERTArch(hidden, arch.layers)
        for i, layer in enumerate(arch.layers):
            variants = []
            for t, p in OPERATIONS:
                if (t, p) != (layer.operation_type, layer.operation_parameter):
                    variants.append(BERTLayer(t, p, *_tail(layer)))
            for h in NUM_HEADS:
                if h != layer.num_operation_heads:
                    variants.append(_replace(layer, num_operation_heads=h))
            for f in FFN_DIMS:
                if f != layer.feed_forward_dimension:
                    variants.append(_replace(layer, feed_forward_dimension=f))
            for n in NUM_FFN:
                if n != layer.num_feed_forward:
                    variants.append(_replace(layer, num_feed_forward=n))
            for v in variants:
                yield BERTArch(arch.hidden_size, arch.layers[:i] + (v,) + arch.layers[i + 1 :])
        if len(arch.layers) == 4:
            for keep in itertools.combinations(range(4), 2):
                yield BERTArch(arch.hidden_size, tuple(arch.layers[i] for i in keep))
        else:
            yield BERTArch(arch.hidden_size, arch.layers + arch.layers)

    def neighbours(self, arch: ArchLike) -> list[str]:
        """Architectures one edit away, in this order: the other hidden size; per layer,
        the 5 other operations, the other head count, FFN dimension and FFN count; then a
        depth change -- a 4-layer net keeps any 2 of its layers (6 ways), a 2-layer net
        repeats its 2 layers (``[a, b] -> [a, b, a, b]``)."""
        parsed = parse_arch(arch)
        out: list[str] = []
        seen = {parsed.id}
        for edit in self._edits(parsed):
            if edit.id not in seen:
                seen.add(edit.id)
                out.append(edit.id)
        return out

    def mutate(self, arch: ArchLike, seed: SeedLike = None) -> str:
        """A uniformly random element of :meth:`neighbours`."""
        rng = as_rng(seed)
        nbrs = self.neighbours(arch)
        return nbrs[int(rng.integers(len(nbrs)))]

    # ---- models ------------------------------------------------------------------------
    def build(
        self,
        arch: ArchLike,
        *,
        num_classes: int = 2,
        vocab_size: int = ELECTRA_VOCAB_SIZE,
        embedding_size: int = 128,
        max_position_embeddings: int = 512,
        convention: str = "arch",
    ) -> nn.Module:
        """The ELECTRA-small-style FlexiBERT encoder with a sequence-classification head
        (:class:`~nasrank.spaces._nbbert_model.FlexiBERTModel`).

        Args:
            num_classes: Outputs of the classification head (on the first token).
            vocab_size, embedding_size, max_position_embeddings: Embedding tables
                (ELECTRA-small: 30,522, 128, 512); a projection maps the embedding to the
                hidden size when they differ.
            convention: ``"arch"`` (default) builds the architecture as specified: its hidden
                size and each layer's FFN dimension. ``"serianni"`` reproduces the networks
                Serianni & Kalita scored (and whose parameters their
                ``BERT_results_activation.csv`` counts): their ``ElectraConfig`` was built
                without the architecture's sizes, so every network has hidden size 256 and
                FFN dimension 1024 regardless of ``hidden_size`` and
                ``feed_forward_dimension``; operations, heads and FFN counts follow the
                architecture.

        Input ``(batch, seq)`` int64 token ids (optionally ``token_type_ids``); output
        ``(batch, num_classes)``. The linear layer ``j`` of the FFN block of layer ``i`` is
        ``encoder.layers.{i}.ffn.{j}.fc1``; ``model.ffn_linear_names()`` lists each block's
        first one (``j = 0``).
        """
        if convention not in CONVENTIONS:
            raise ValueError(
                f"unknown convention {convention!r}; choices: {', '.join(CONVENTIONS)}"
            )
        parsed = parse_arch(arch)
        return FlexiBERTModel(
            parsed.hidden_size,
            [layer.to_dict() for layer in parsed.layers],
            num_classes=num_classes,
            vocab_size=vocab_size,
            embedding_size=embedding_size,
            max_position_embeddings=max_position_embeddings,
            convention=convention,
        )

    def example_input(
        self,
        batch_size: int = 2,
        seed: SeedLike = 0,
        *,
        seq_len: int | None = None,
        vocab_size: int = ELECTRA_VOCAB_SIZE,
    ) -> torch.Tensor:
        """Uniform random token ids ``(batch_size, seq_len)`` (int64) in ``[0, vocab_size)``."""
        generator = torch.Generator().manual_seed(int(as_rng(seed).integers(2**31)))
        length = self.input_shape[0] if seq_len is None else seq_len
        return torch.randint(0, vocab_size, (batch_size, length), generator=generator)


def _tail(layer: BERTLayer) -> tuple[int, int, int]:
    return (layer.num_operation_heads, layer.feed_forward_dimension, layer.num_feed_forward)


def _replace(layer: BERTLayer, **changes: Any) -> BERTLayer:
    fields = layer.to_dict()
    fields.update(changes)
    return BERTLayer(**fields)
