"""The model-zoo conformance suite: every registered proxy on many model families.

:func:`nasrank.proxies.score` promises the same things on every model, not only on the
NAS-Bench cells it was tuned on. This suite checks them on fifteen tiny models of the
families zero-cost proxies meet in practice -- ResNet-style, GELU/SiLU and
depthwise-separable CNNs, vision transformers, a BERT-style encoder over token ids, LSTM
and GRU sequence classifiers, PyG graph networks (a batch with ``extras``), an MLP, a
model with unused parameters, models returning a tuple or a dict, and a CNN that calls
``F.relu`` -- and, through :func:`check_model`, on any model of yours:

1. **Finite or explained** (:func:`check_finite_or_explained`): every proxy is finite,
   or NaN with a specific reason in :attr:`~nasrank.proxies.ScoreResult.reasons`; finite
   wherever its definition applies, NaN wherever the case lists it as inapplicable.
2. **Together equals alone** (:func:`check_together_equals_alone`): scoring all proxies
   in one call (sharing passes) gives each proxy's score alone, up to float32 rounding
   (:data:`REL_TOL`; NaN equals NaN).
3. **Model untouched** (:func:`check_model_untouched`): the caller's model is
   bit-identical afterwards (state dict, train/eval modes, ``requires_grad`` flags,
   ``.grad``, dtypes) and so is torch's global RNG state.
4. **Grad mode invariant** (:func:`check_grad_mode_invariant`): the same call inside
   ``torch.no_grad()`` and inside ``torch.inference_mode()`` gives the same scores.

Each check raises ``AssertionError`` listing every violation, each naming the proxy and
the case, and returns ``None`` otherwise. Usage::

    import nasrank.testing as nt

    nt.check_zoo_case("vit")                       # one zoo case, every proxy
    for name in nt.ZOO:                            # the whole zoo
        nt.check_zoo_case(name)
    nt.check_model(make_my_model, my_batch,        # your own model (a factory)
                   inapplicable={"zen": "integer inputs"})
    rows = nt.zoo_table()                          # (case, proxy, status) for docs

Which proxies a case lists as inapplicable follows from the proxies' definitions (their
docstrings), not from what the engine returns today:

* integer token ids (``bert_encoder``, ``lstm_lm``, ``gru_lm``): ``zen`` perturbs the
  input with Gaussian noise, which has no meaning for token ids (``jacov`` and
  ``epe_nas`` differentiate against the embedding of the ids, ``synflow`` feeds all ones
  out of the embedding tables: their version 2);
* no ReLU-like nonlinearity at all (``lstm_lm``, ``gru_lm``: only the sigmoid/tanh gates
  inside the recurrent kernel): ``nwot`` and ``swap`` read the binary codes
  ``[pre-activation > 0]`` of ReLU-like nonlinearities -- modules or functional calls,
  ReLU and its generalisations GELU, SiLU, ELU, ... (their version 2; version 1 read
  ``nn.ReLU``-family modules only and would also be undefined on ``gelu_silu_cnn``,
  ``vit``, ``vit_relu``, ``gat`` and ``functional_relu``).

On a graph batch (``gcn``, ``gat``) the samples, the nodes, share one forward; the
per-sample gradient proxies ``gradsign`` and ``zico`` take the gradients of the first
64 nodes' own losses under that forward (version 2; version 1 refused graphs).

AZ-NAS's ``az_expressivity``, ``az_progressivity`` and ``az_trainability`` and VKDNW's
``vkdnw`` and ``vkdnw_single`` apply to every case: the blocks AZ-NAS reads are found on
any model (:mod:`nasrank.proxies._blocks`: a trunk of blocks -- cells, residual blocks,
transformer layers, GCNConvs -- else the longest chain of layers, e.g. embedding -> LSTM
-> head), and the Fisher information VKDNW reads exists for any classifier's softmax
(per position for dense outputs, per node under a graph's forward). They are NaN only
where a model has too little of what they compare: one block feature (progressivity,
trainability), one trainable parameter tensor or one class (VKDNW) -- no zoo case.

Everything else is expected finite on every case -- including ``flops`` and ``synflow``
on a graph batch (both use only the input's shape; with ``extras`` the forward runs on
the whole graph), the conv/linear-weight proxies on PyG layers (a GCNConv/GATConv's
``torch_geometric.nn.Linear`` is a linear layer), ``meco`` on outputs without a spatial
axis (MLP, graph: defined as 0.0) and the tuple/dict outputs (the logits are the first
item or the ``"logits"`` entry).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from nasrank.data.batch import Batch
from nasrank.proxies.engine import ScoreResult, score
from nasrank.proxies.registry import PROXIES, ProxySpec
from nasrank.testing.proxies import assert_untouched, same_score, snapshot

__all__ = [
    "ZOO",
    "ZOO_CHECKS",
    "ZooCase",
    "ZooRow",
    "check_finite_or_explained",
    "check_grad_mode_invariant",
    "check_model",
    "check_model_untouched",
    "check_together_equals_alone",
    "check_zoo_case",
    "zoo_table",
]

#: Relative tolerance of "the same score" (NaN equals NaN): float32 rounding. When GraSP
#: is in the set the shared loss backward also records its graph, and autograd then
#: differentiates some activations (GELU, SiLU) by another, twice-differentiable formula
#: whose float32 gradients can differ in the last bits (about 1e-8 relative).
REL_TOL = 1e-6

ModelFactory = Callable[[], nn.Module]
ModelLike = nn.Module | ModelFactory
ProxiesLike = Sequence[str | ProxySpec] | None


# ---- expectations ------------------------------------------------------------------------
_TOKENS = "integer token ids"
#: Proxies undefined on integer token inputs, with why.
TOKEN_INAPPLICABLE: Mapping[str, str] = {
    "zen": f"{_TOKENS}: cannot be perturbed with Gaussian noise",
}


#: Proxies defined on linear layers, for a network that has none (a fully convolutional one).
_NO_LINEAR: Mapping[str, str] = {
    "wpca": "no linear layer (a fully convolutional network)",
    "hidden_covariance": "no recurrent or linear layer (a fully convolutional network)",
}


def _no_relu_like(what: str) -> dict[str, str]:
    why = f"no ReLU-like nonlinearity to read binary codes from ({what})"
    return {"nwot": why, "swap": why}


@dataclass(frozen=True)
class ZooCase:
    """One model family of the zoo.

    Attributes:
        name: Short snake_case id (the key in :data:`ZOO`).
        family: One line describing the family and what it exercises.
        make_model: Seeded factory of a fresh model (the same weights every call; the
            global RNG is left as it was).
        make_batch: Seeded factory of its batch.
        inapplicable: Proxy name -> why its definition does not apply to this model or
            batch; those proxies must return NaN with a reason, all others a finite score.
    """

    name: str
    family: str
    make_model: ModelFactory = field(repr=False)
    make_batch: Callable[[], Batch] = field(repr=False)
    inapplicable: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ZooRow:
    """One cell of :func:`zoo_table`.

    Attributes:
        case: Zoo case name.
        proxy: Proxy name.
        status: ``"finite"`` or ``"NaN: <reason>"``.
        expected: ``"finite"`` or ``"NaN: <why inapplicable>"`` from the case.
    """

    case: str
    proxy: str
    status: str
    expected: str

    @property
    def as_expected(self) -> bool:
        """Whether the status is of the expected kind (finite / NaN)."""
        return (self.status == "finite") == (self.expected == "finite")


# ---- batches -----------------------------------------------------------------------------
def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _image_batch(n: int = 8, size: int = 8, classes: int = 4, seed: int = 0) -> Batch:
    g = _gen(seed)
    x = torch.randn(n, 3, size, size, generator=g)
    y = torch.randint(0, classes, (n,), generator=g)
    return Batch(x, y, classes, f"zoo:images n={n} 3x{size}x{size} seed={seed}")


def _vector_batch(n: int = 16, dim: int = 12, classes: int = 4, seed: int = 0) -> Batch:
    g = _gen(seed)
    x = torch.randn(n, dim, generator=g)
    y = torch.randint(0, classes, (n,), generator=g)
    return Batch(x, y, classes, f"zoo:vectors n={n} d={dim} seed={seed}")


VOCAB, SEQ_LEN = 50, 12


def _token_batch(n: int = 8, classes: int = 4, seed: int = 0) -> Batch:
    g = _gen(seed)
    x = torch.randint(0, VOCAB, (n, SEQ_LEN), generator=g)
    y = torch.randint(0, classes, (n,), generator=g)
    return Batch(x, y, classes, f"zoo:tokens n={n} T={SEQ_LEN} vocab={VOCAB} seed={seed}")


def _graph_batch(nodes: int = 40, features: int = 8, classes: int = 4, seed: int = 0) -> Batch:
    """A random undirected graph (a ring plus random chords), node features and labels."""
    g = _gen(seed)
    ring = torch.arange(nodes)
    src = torch.cat([ring, torch.randint(0, nodes, (nodes,), generator=g)])
    dst = torch.cat([(ring + 1) % nodes, torch.randint(0, nodes, (nodes,), generator=g)])
    keep = src != dst
    src, dst = src[keep], dst[keep]
    edge_index = torch.stack([torch.cat([src, dst]), torch.cat([dst, src])])
    x = torch.randn(nodes, features, generator=g)
    y = torch.randint(0, classes, (nodes,), generator=g)
    return Batch(x, y, classes, f"zoo:graph nodes={nodes} edges={edge_index.shape[1]} "
                 f"seed={seed}", {"edge_index": edge_index})


# ---- models ------------------------------------------------------------------------------
class _BasicBlock(nn.Module):
    """ResNet basic block: conv-BN-ReLU-conv-BN plus shortcut, ReLU."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)
            )
        self.relu2 = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
        return self.relu2(h + self.shortcut(x))


class ResNetReLU(nn.Module):
    """Stem + two residual blocks (the second strided) + pooling + linear head."""

    def __init__(self, classes: int = 4) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(8), nn.ReLU(inplace=True))
        self.blocks = nn.Sequential(_BasicBlock(8, 8, 1), _BasicBlock(8, 16, 2))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(16, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.flatten(self.pool(self.blocks(self.stem(x))), 1))


def _conv_bn_twice(first: nn.Module, second: nn.Module) -> nn.Sequential:
    """Conv(3->8)-BN-``first``, conv(8->16, stride 2)-BN-``second``."""
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), first,
        nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), second,
    )  # fmt: skip


class GeluSiluCNN(nn.Module):
    """Conv-BN-GELU, conv-BN-SiLU, pooling, linear: smooth activations, no ReLU."""

    def __init__(self, classes: int = 4) -> None:
        super().__init__()
        self.features = _conv_bn_twice(nn.GELU(), nn.SiLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(16, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.flatten(self.pool(self.features(x)), 1))


class DepthwiseSeparableCNN(nn.Module):
    """MobileNet-style: stem, depthwise 3x3 (``groups=C``) + pointwise 1x1, ReLU6."""

    def __init__(self, classes: int = 4) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU6(),
            nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False), nn.BatchNorm2d(8), nn.ReLU6(),
            nn.Conv2d(8, 16, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU6(),
            nn.Conv2d(16, 16, 3, stride=2, padding=1, groups=16, bias=False),
            nn.BatchNorm2d(16), nn.ReLU6(),
            nn.Conv2d(16, 24, 1, bias=False), nn.BatchNorm2d(24), nn.ReLU6(),
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(24, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.flatten(self.pool(self.features(x)), 1))


class TinyViT(nn.Module):
    """Conv2d patch embedding, class token, learned positions, ``nn.TransformerEncoder``
    (``batch_first=True``, default dropout 0.1), LayerNorm, linear head on the class
    token."""

    def __init__(
        self,
        classes: int = 4,
        *,
        image: int = 8,
        patch: int = 2,
        dim: int = 16,
        activation: str = "gelu",
        norm_first: bool = False,
    ) -> None:
        super().__init__()
        self.patch = nn.Conv2d(3, dim, patch, stride=patch)
        tokens = (image // patch) ** 2 + 1
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.randn(1, tokens, dim) * 0.02)
        layer = nn.TransformerEncoderLayer(
            dim, nhead=2, dim_feedforward=2 * dim, activation=activation, batch_first=True,
            norm_first=norm_first,
        )
        self.encoder = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.patch(x).flatten(2).transpose(1, 2)  # (N, patches, dim)
        h = torch.cat([self.cls.expand(h.shape[0], -1, -1), h], dim=1) + self.pos
        return self.head(self.norm(self.encoder(h))[:, 0])


class TinyBERT(nn.Module):
    """Token + position embeddings, LayerNorm, ``nn.TransformerEncoder`` whose FFN
    activation is an ``nn.ReLU`` module, BERT pooler (first token, linear, tanh) and a
    linear classifier: ``(N, T)`` integer ids -> ``(N, classes)``."""

    def __init__(self, classes: int = 4, dim: int = 16) -> None:
        super().__init__()
        self.tokens = nn.Embedding(VOCAB, dim)
        self.positions = nn.Embedding(SEQ_LEN, dim)
        self.embed_norm = nn.LayerNorm(dim)
        layer = nn.TransformerEncoderLayer(
            dim, nhead=2, dim_feedforward=2 * dim, activation=nn.ReLU(), batch_first=True,
            dropout=0.0,
        )
        self.encoder = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
        self.pooler = nn.Linear(dim, dim)
        self.classifier = nn.Linear(dim, classes)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        pos = torch.arange(ids.shape[1], device=ids.device)
        h = self.embed_norm(self.tokens(ids) + self.positions(pos))
        pooled = torch.tanh(self.pooler(self.encoder(h)[:, 0]))
        return self.classifier(pooled)


class RNNClassifier(nn.Module):
    """Embedding, ``nn.LSTM`` or ``nn.GRU`` (``batch_first=True``), linear head on the
    last step: ``(N, T)`` integer ids -> ``(N, classes)``."""

    def __init__(self, cell: str, classes: int = 4, dim: int = 16, layers: int = 1) -> None:
        super().__init__()
        self.embed = nn.Embedding(VOCAB, dim)
        rnn = {"lstm": nn.LSTM, "gru": nn.GRU}[cell]
        self.rnn = rnn(dim, dim, num_layers=layers, batch_first=True)
        self.head = nn.Linear(dim, classes)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(self.embed(ids))
        return self.head(out[:, -1])


class GCN(nn.Module):
    """Two ``torch_geometric.nn.GCNConv`` layers with an ``nn.ReLU`` module between:
    ``forward(x, edge_index)``, node classification."""

    def __init__(self, features: int = 8, hidden: int = 16, classes: int = 4) -> None:
        super().__init__()
        from torch_geometric.nn import GCNConv  # heavy import, only for graph cases

        self.conv1 = GCNConv(features, hidden)
        self.act = nn.ReLU()
        self.conv2 = GCNConv(hidden, classes)

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        return self.conv2(self.act(self.conv1(x, edge_index)), edge_index)


class GAT(nn.Module):
    """Two ``torch_geometric.nn.GATConv`` layers (2 heads, then 1) with ELU, as in the
    GAT paper: ``forward(x, edge_index)``, node classification."""

    def __init__(self, features: int = 8, hidden: int = 32, classes: int = 4) -> None:
        super().__init__()
        from torch_geometric.nn import GATConv  # heavy import, only for graph cases

        self.conv1 = GATConv(features, hidden, heads=2)
        self.act = nn.ELU()
        self.conv2 = GATConv(2 * hidden, classes, heads=1)

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        return self.conv2(self.act(self.conv1(x, edge_index)), edge_index)


class MLP(nn.Module):
    """Linear-ReLU x 2, linear: ``(N, 12) -> (N, classes)``, no batch norm."""

    def __init__(self, classes: int = 4) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(12, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(),
                                 nn.Linear(32, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class WithUnusedParams(nn.Module):
    """A CNN with an unused submodule and an unused ``nn.Parameter``."""

    def __init__(self, classes: int = 4) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.act = nn.ReLU()
        self.head = nn.Linear(8, classes)
        self.unused = nn.Linear(7, 7)
        self.extra = nn.Parameter(torch.zeros(4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.act(self.bn(self.conv(x))).mean(dim=(2, 3)))


class _SmallCNN(nn.Module):
    """Conv-BN-ReLU x 2 and a pooled linear head, returning its logits and features."""

    def __init__(self, classes: int = 4) -> None:
        super().__init__()
        self.features = _conv_bn_twice(nn.ReLU(), nn.ReLU())
        self.head = nn.Linear(16, classes)

    def logits_and_features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        feats = self.features(x).mean(dim=(2, 3))
        return self.head(feats), feats


class TupleOutput(_SmallCNN):
    """Returns ``(logits, aux)`` (aux: the pooled features)."""

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.logits_and_features(x)


class DictOutput(_SmallCNN):
    """Returns ``{"logits": ..., "aux": ...}`` (aux: the pooled features)."""

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        logits, feats = self.logits_and_features(x)
        return {"logits": logits, "aux": feats}


class FunctionalReLU(nn.Module):
    """Conv-BN-``F.relu`` x 2, pooling, linear: ReLU called in ``forward``, no modules."""

    def __init__(self, classes: int = 4) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.bn2 = nn.BatchNorm2d(16)
        self.head = nn.Linear(16, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.bn1(self.conv1(x)))
        h = F.relu(self.bn2(self.conv2(h)))
        return self.head(h.mean(dim=(2, 3)))


class DenseSegmenter(nn.Module):
    """Encoder-decoder with a per-pixel output ``(N, classes, H, W)``: conv-BN-ReLU
    down, a transposed conv back up, 1x1 classifier (a segmentation network)."""

    def __init__(self, classes: int = 4) -> None:
        super().__init__()
        self.down = nn.Sequential(
            nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
            nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
        )  # fmt: skip
        self.up = nn.Sequential(
            nn.ConvTranspose2d(16, 8, 3, stride=4, padding=0, output_padding=1),
            nn.BatchNorm2d(8),
            nn.LeakyReLU(0.2),
        )
        self.classify = nn.Conv2d(8, classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classify(self.up(self.down(x)))


def _seeded(seed: int, build: Callable[[], nn.Module]) -> ModelFactory:
    """A factory building ``build()`` from torch seed ``seed``, the global RNG restored."""

    def make_model() -> nn.Module:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return build()

    make_model.__doc__ = f"A fresh model from seed {seed} (the global RNG is left as it was)."
    return make_model


def _unusual_state() -> nn.Module:
    model = WithUnusedParams()
    model.eval()  # an unusual starting state the engine must leave alone
    model.head.bias.requires_grad_(False)
    model.head.weight.grad = torch.full_like(model.head.weight, 0.5)  # a stale gradient
    return model


def _case(
    name: str,
    family: str,
    seed: int,
    build: Callable[[], nn.Module],
    make_batch: Callable[[], Batch],
    *inapplicable: Mapping[str, str],
) -> ZooCase:
    merged: dict[str, str] = {}
    for part in inapplicable:
        merged.update(part)
    return ZooCase(name, family, _seeded(seed, build), make_batch, merged)


#: Case name -> :class:`ZooCase`: the model families every proxy is checked on.
ZOO: dict[str, ZooCase] = {
    c.name: c
    for c in (
        _case("resnet_relu", "ResNet-style CNN: residual blocks, batch norm, in-place ReLU",
              0, ResNetReLU, _image_batch),
        _case("gelu_silu_cnn", "CNN with batch norm and GELU/SiLU activations", 1,
              GeluSiluCNN, _image_batch),
        _case("depthwise_separable",
              "MobileNet-style CNN: depthwise (groups=C) + pointwise convs, ReLU6", 2,
              DepthwiseSeparableCNN, _image_batch),
        _case("vit", "ViT: Conv2d patch embedding, class token, nn.TransformerEncoder "
              "(GELU, dropout 0.1)", 3, TinyViT, _image_batch),
        _case("vit_relu", "ViT, pre-norm, nn.TransformerEncoderLayer's default 'relu'", 4,
              lambda: TinyViT(activation="relu", norm_first=True), _image_batch),
        _case("bert_encoder", "BERT-style encoder over integer token ids, pooled "
              "classifier (nn.ReLU module as FFN activation)", 5, TinyBERT, _token_batch,
              TOKEN_INAPPLICABLE),
        _case("lstm_lm", "LSTM over token ids, linear head on the last step", 6,
              lambda: RNNClassifier("lstm"), _token_batch, TOKEN_INAPPLICABLE,
              _no_relu_like("LSTM gates are sigmoid/tanh")),
        _case("gru_lm", "2-layer GRU over token ids, linear head on the last step", 7,
              lambda: RNNClassifier("gru", layers=2), _token_batch, TOKEN_INAPPLICABLE,
              _no_relu_like("GRU gates are sigmoid/tanh")),
        _case("gcn", "PyG GCNConv x 2 with nn.ReLU, node classification on a graph "
              "batch (extras edge_index)", 8, GCN, _graph_batch),
        _case("gat", "PyG GATConv x 2 with ELU, node classification on a graph batch", 9,
              GAT, _graph_batch),
        _case("mlp", "MLP: Linear-ReLU x 2, linear, no batch norm", 10, MLP, _vector_batch),
        _case("unused_params", "CNN with an unused submodule and nn.Parameter, a frozen "
              "bias, a stale .grad, in eval mode", 11, _unusual_state, _image_batch),
        _case("tuple_output", "CNN returning (logits, aux)", 12, TupleOutput, _image_batch),
        _case("dict_output", "CNN returning {'logits': ..., 'aux': ...}", 13, DictOutput,
              _image_batch),
        _case("functional_relu", "CNN calling F.relu in forward (no nn.ReLU modules)", 14,
              FunctionalReLU, _image_batch),
        _case("dense_segmentation", "segmentation encoder-decoder with (N, K, H, W) "
              "logits, scored with each image's label at every pixel", 15, DenseSegmenter,
              _image_batch, _NO_LINEAR),
    )
}


# ---- checks ------------------------------------------------------------------------------
def _specs(proxies: ProxiesLike) -> list[ProxySpec]:
    """Registered names or specs (unregistered specs of your own included) as specs."""
    if proxies is None:
        return [PROXIES.get(n) for n in PROXIES.names()]
    return [p if isinstance(p, ProxySpec) else PROXIES.resolve(p) for p in proxies]


def _fresh(model: ModelLike) -> nn.Module:
    if isinstance(model, nn.Module):
        return model
    built = model()
    if not isinstance(built, nn.Module):
        raise TypeError(f"the model factory returned {type(built).__name__}, not an nn.Module")
    return built


def _label(label: str, model: nn.Module) -> str:
    return f"case {label!r}" if label else f"model {type(model).__name__}"


def _same(a: float, b: float) -> bool:
    return same_score(a, b, REL_TOL)


def _fail(what: str, problems: list[str]) -> None:
    if problems:
        raise AssertionError(f"{what}: {len(problems)} violation(s)\n  " + "\n  ".join(problems))


def _specific(reason: str | None) -> bool:
    """A reason says what went wrong in words, not just an exception class name."""
    return bool(reason) and len(str(reason).split()) >= 3


def check_finite_or_explained(
    model: ModelLike,
    batch: Any,
    proxies: ProxiesLike = None,
    inapplicable: Mapping[str, str] | None = None,
    label: str = "",
    *,
    result: ScoreResult | None = None,
) -> None:
    """Every proxy is finite, or NaN with a specific reason, as its definition says.

    A proxy listed in ``inapplicable`` must be NaN with a reason (a number there would be
    a meaningless value passed off as a score); every other proxy must be finite. A reason
    is specific when it has at least three words (not a bare exception name).

    Args:
        model: The model, or a factory making it.
        batch: Its batch (anything :func:`nasrank.proxies.score` accepts).
        proxies: Proxy names or specs (default every registered proxy).
        inapplicable: Proxy name -> why its definition does not apply to ``model``.
        label: How to name the model in messages (default its class name).
        result: An already computed ``score(model, batch, proxies, seed=0)`` to check
            instead of scoring again.

    Raises:
        AssertionError: Listing every proxy that breaks the rule, with its reason.
    """
    net = _fresh(model)
    specs = _specs(proxies)
    names = [p.name for p in specs]
    inapplicable = dict(inapplicable or {})
    what = _label(label, net)
    got = result if result is not None else score(net, batch, specs, seed=0)
    problems: list[str] = []
    if set(got) != set(names):
        problems.append(f"scored {sorted(got)}, asked for {sorted(names)}")
    for name in names:
        if name not in got:
            continue
        value, reason = got[name], got.reasons.get(name)
        if not isinstance(value, float):
            problems.append(f"proxy {name!r}: returned {type(value).__name__}, not float")
        elif math.isnan(value):
            if not _specific(reason):
                problems.append(f"proxy {name!r}: NaN without a specific reason ({reason!r})")
            elif name not in inapplicable:
                problems.append(f"proxy {name!r}: NaN, expected finite: {reason}")
        elif not math.isfinite(value):
            problems.append(f"proxy {name!r}: returned {value!r}, neither finite nor NaN")
        elif name in inapplicable:
            problems.append(
                f"proxy {name!r}: finite ({value!r}), expected NaN ({inapplicable[name]})"
            )
    _fail(what, problems)


def check_together_equals_alone(
    model: ModelLike, batch: Any, proxies: ProxiesLike = None, label: str = ""
) -> None:
    """Scoring the proxies together (shared passes) equals scoring each alone.

    Args:
        model: The model, or a factory making it.
        batch: Its batch.
        proxies: Proxy names or specs (default every registered proxy).
        label: How to name the model in messages.

    Raises:
        AssertionError: Listing every proxy whose shared-pass score differs from its
            score alone (relative tolerance :data:`REL_TOL`; NaN equals NaN).
    """
    net = _fresh(model)
    specs = _specs(proxies)
    what = _label(label, net)
    together = score(net, batch, specs, seed=0)
    problems: list[str] = []
    for spec in specs:
        name = spec.name
        alone = score(net, batch, [spec], seed=0)
        a, t = alone[name], together[name]
        if not _same(t, a):
            why = "; ".join(
                f"{k}: {r[name]}" for k, r in (("together", together), ("alone", alone))
                if name in r.reasons
            )
            problems.append(f"proxy {name!r}: {t!r} together, {a!r} alone"
                            + (f" ({why})" if why else ""))
    _fail(what, problems)


def _compare_snapshots(
    net: nn.Module, before: dict[str, object], rng: torch.Tensor, what: str
) -> None:
    assert_untouched(net, before, what)
    assert torch.equal(torch.get_rng_state(), rng), f"{what}: torch's global RNG state changed"


def check_model_untouched(
    model: ModelLike, batch: Any, proxies: ProxiesLike = None, label: str = ""
) -> None:
    """The caller's model and torch's RNG state are bit-identical after scoring.

    Checked after the call with all proxies and after each proxy alone: state dict
    (parameters and buffers), every module's train/eval mode, ``requires_grad`` flags,
    ``.grad`` (``None`` stays ``None``, a stale gradient stays as it was), dtypes, and
    ``torch.get_rng_state()``.

    Args:
        model: The model, or a factory making it.
        batch: Its batch.
        proxies: Proxy names or specs (default every registered proxy).
        label: How to name the model in messages.

    Raises:
        AssertionError: Naming the proxy (or "all proxies") and what changed.
    """
    net = _fresh(model)
    specs = _specs(proxies)
    what = _label(label, net)
    problems: list[str] = []
    for group in [specs] + [[p] for p in specs]:
        before, rng = snapshot(net), torch.get_rng_state()
        score(net, batch, group, seed=0)
        who = "all proxies" if len(group) > 1 else f"proxy {group[0].name!r}"
        try:
            _compare_snapshots(net, before, rng, who)
        except AssertionError as exc:
            problems.append(str(exc))
            net = _fresh(model)  # later proxies are checked on an intact model
    _fail(what, problems)


def check_grad_mode_invariant(
    model: ModelLike, batch: Any, proxies: ProxiesLike = None, label: str = ""
) -> None:
    """The same call inside ``torch.no_grad()`` and ``torch.inference_mode()`` gives the
    same scores as outside (the engine manages gradients itself).

    Args:
        model: The model, or a factory making it.
        batch: Its batch.
        proxies: Proxy names or specs (default every registered proxy).
        label: How to name the model in messages.

    Raises:
        AssertionError: Listing every proxy and mode whose score differs, with reasons.
    """
    net = _fresh(model)
    specs = _specs(proxies)
    what = _label(label, net)
    plain = score(net, batch, specs, seed=0)
    problems: list[str] = []
    for mode, context in (("no_grad", torch.no_grad), ("inference_mode", torch.inference_mode)):
        with context():
            got = score(net, batch, specs, seed=0)
        for name in [p.name for p in specs]:
            if not _same(got[name], plain[name]):
                why = got.reasons.get(name) or plain.reasons.get(name) or ""
                problems.append(f"proxy {name!r} under {mode}: {got[name]!r}, "
                                f"{plain[name]!r} outside" + (f" ({why})" if why else ""))
    _fail(what, problems)


#: The zoo's checks, in order; each is ``check(model, batch, proxies=None, ...)``.
ZOO_CHECKS: tuple[Callable[..., None], ...] = (
    check_finite_or_explained,
    check_together_equals_alone,
    check_model_untouched,
    check_grad_mode_invariant,
)


def check_model(
    model_factory: ModelLike,
    batch: Any,
    proxies: ProxiesLike = None,
    inapplicable: Mapping[str, str] | None = None,
    label: str = "",
) -> None:
    """All four zoo checks on one model of yours (each on a fresh model when given a
    factory), every violation reported together.

    Args:
        model_factory: A function making the model (preferred: each check starts from an
            intact model), or the model itself.
        batch: Its batch, e.g. a :class:`~nasrank.data.batch.Batch` (with ``extras`` for
            models taking more than the inputs).
        proxies: Proxy names or specs (default every registered proxy).
        inapplicable: Proxy name -> why its definition does not apply to your model
            (those must be NaN with a reason; the others finite).
        label: How to name the model in messages.

    Raises:
        AssertionError: Listing the violations of every check that failed.

    Example::

        check_model(lambda: MyNet(width=16), Batch(x, y, 10),
                    inapplicable={"nwot": "GELU only", "swap": "GELU only"})
    """
    failures: list[str] = []
    for check in ZOO_CHECKS:
        try:
            if check is check_finite_or_explained:
                check(model_factory, batch, proxies, inapplicable, label)
            else:
                check(model_factory, batch, proxies, label)
        except AssertionError as exc:
            failures.append(f"[{check.__name__.removeprefix('check_')}] {exc}")
    if failures:
        raise AssertionError("\n".join(failures))


def _resolve_case(case: str | ZooCase) -> ZooCase:
    if isinstance(case, ZooCase):
        return case
    if case not in ZOO:
        raise KeyError(f"unknown zoo case {case!r}; choices: {', '.join(ZOO)}")
    return ZOO[case]


def check_zoo_case(case: str | ZooCase, proxies: ProxiesLike = None) -> None:
    """:func:`check_model` on one zoo case with its expectations.

    Args:
        case: A name in :data:`ZOO` or a :class:`ZooCase` of your own.
        proxies: Proxy names or specs (default every registered proxy).

    Raises:
        AssertionError: Listing the violations, each naming the case and the proxy.
        KeyError: Unknown case name (the message lists the choices).
    """
    c = _resolve_case(case)
    check_model(c.make_model, c.make_batch(), proxies, c.inapplicable, c.name)


def zoo_table(
    proxies: ProxiesLike = None, cases: Iterable[str | ZooCase] | None = None
) -> list[ZooRow]:
    """What every proxy returns on every zoo case today, for documentation.

    Args:
        proxies: Proxy names or specs (default every registered proxy).
        cases: Zoo cases (default all of :data:`ZOO`, in order).

    Returns:
        One :class:`ZooRow` per (case, proxy), cases in order, proxies in the order given.
    """
    specs = _specs(proxies)
    rows: list[ZooRow] = []
    for case in [_resolve_case(c) for c in (cases if cases is not None else ZOO)]:
        got = score(case.make_model(), case.make_batch(), specs, seed=0)
        for name in [p.name for p in specs]:
            value = got[name]
            status = "finite" if math.isfinite(value) else f"NaN: {got.reasons.get(name, '')}"
            why = case.inapplicable.get(name)
            expected = "finite" if why is None else f"NaN: {why}"
            rows.append(ZooRow(case.name, name, status, expected))
    return rows
