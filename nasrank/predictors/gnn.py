"""A graph neural network over ONNX operator graphs.

Xu et al., "How Powerful are Graph Neural Networks?", ICLR 2019 (GIN layers); as NAS
accuracy predictors: Wen et al., "Neural Predictor for Neural Architecture Search",
ECCV 2020 (GCN) and Dudziak et al., "BRP-NAS", NeurIPS 2020 (binary relation / pairwise
ranking). Messages flow along and against the tensor-flow edges (the direction is in the
node features' relative depth); each GIN layer is residual with batch norm. Graph
embedding: mean, max and (scaled) sum pooling, concatenated with the graph-level feature
vector (proxy scores, encodings) when the ``FeatureMatrix`` carries one. Loss: MSE on the
percentile-rank target plus ``ranking_weight`` times the RankNet logistic loss over the
pairs in each mini-batch.

Uses torch-geometric's public layers (``GINConv``, ``global_mean_pool``,
``global_max_pool``, ``global_add_pool``, ``Batch``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from nasrank.predictors.base import (
    FeatureMismatchError,
    Predictor,
    check_sample_weight,
    check_target,
)
from nasrank.predictors.featurize import FeatureMatrix
from nasrank.predictors.gbdt import RankTarget
from nasrank.predictors.registry import PREDICTORS

__all__ = ["GNNPredictor"]


@contextmanager
def _threads(n: int | None) -> Iterator[None]:
    """Temporarily use ``n`` torch CPU threads."""
    import torch

    if n is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _split(X: Any) -> tuple[Sequence[Any], np.ndarray, tuple[str, ...] | None]:
    """(graphs, graph-level values (n, d), names) of ``X``."""
    if isinstance(X, FeatureMatrix):
        if X.graphs is None:
            raise ValueError("GNNPredictor needs graphs: build X with featurize(..., graphs=True)")
        return X.graphs, X.values, X.names
    if isinstance(X, Sequence) and all(hasattr(g, "edge_index") for g in X):
        return X, np.zeros((len(X), 0)), None
    raise ValueError(
        "GNNPredictor takes a FeatureMatrix with graphs or a list of torch_geometric Data, "
        f"got {type(X).__name__}"
    )


def _build_network(node_dim: int, graph_dim: int, hidden: int, layers: int, dropout: float) -> Any:
    import torch
    from torch import nn
    from torch_geometric.nn import GINConv, global_add_pool, global_max_pool, global_mean_pool

    def mlp() -> nn.Module:
        return nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, hidden))

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Linear(node_dim, hidden)
            self.convs = nn.ModuleList(GINConv(mlp(), train_eps=True) for _ in range(layers))
            self.norms = nn.ModuleList(nn.BatchNorm1d(hidden) for _ in range(layers))
            self.head = nn.Sequential(
                nn.Linear(3 * hidden + graph_dim, hidden),
                nn.ReLU(),
                nn.Dropout(dropout),
                nn.Linear(hidden, 1),
            )

        def forward(self, batch: Any, graph_x: torch.Tensor) -> torch.Tensor:
            h = self.embed(batch.x)
            edges = torch.cat([batch.edge_index, batch.edge_index.flip(0)], dim=1)
            for conv, norm in zip(self.convs, self.norms):
                h = h + torch.relu(norm(conv(h, edges)))
            pooled = torch.cat(
                [
                    global_mean_pool(h, batch.batch),
                    global_max_pool(h, batch.batch),
                    global_add_pool(h, batch.batch) / 10.0,
                ],
                dim=1,
            )
            if graph_x.shape[1]:
                pooled = torch.cat([pooled, graph_x], dim=1)
            return self.head(pooled).squeeze(1)

    return Net()


@PREDICTORS.register("gnn")
class GNNPredictor(Predictor):
    """GIN-style GNN on ONNX operator graphs (Xu et al., ICLR 2019) with an optional
    pairwise ranking loss (BRP-NAS, Dudziak et al., NeurIPS 2020).

    Args:
        hidden: Width of node embeddings.
        layers: Message-passing layers.
        epochs: Passes over the training set.
        batch_size: Graphs per step.
        lr: Adam learning rate.
        weight_decay: AdamW weight decay.
        dropout: Dropout in the head.
        ranking_weight: Weight of the pairwise RankNet loss (0: MSE only).
        use_vector_features: Concatenate the ``FeatureMatrix`` values (standardised;
            NaN -> 0) to the pooled embedding.
        vector_prefixes: Only the value columns whose names start with one of these
            (e.g. ``("zc:",)`` for the proxy scores); ``None``: all columns.
        random_state: Seed of initialisation and shuffling (global RNG untouched).
        device: Torch device.
        n_jobs: Torch CPU threads during ``fit``/``predict`` (restored afterwards;
            ``None`` leaves the setting alone). Small graphs gain nothing from more, and
            extra threads slow training down badly on a busy machine.

    Attributes:
        model_: The trained network.
        n_features_in_: Graph-level features seen in ``fit``.
        node_features_in_: Node feature width seen in ``fit``.

    Shapes:
        ``X``: ``n`` graphs with ``x (nodes, node_features_in_)`` and ``edge_index (2, E)``
        plus optional ``(n, d)`` graph-level values; predictions ``(n,)``.
    """

    def __init__(
        self,
        hidden: int = 64,
        layers: int = 3,
        epochs: int = 100,
        batch_size: int = 64,
        lr: float = 2e-3,
        weight_decay: float = 1e-4,
        dropout: float = 0.1,
        ranking_weight: float = 1.0,
        use_vector_features: bool = True,
        vector_prefixes: tuple[str, ...] | None = None,
        random_state: int = 0,
        device: str = "cpu",
        n_jobs: int | None = 1,
    ) -> None:
        self.hidden = hidden
        self.layers = layers
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.ranking_weight = ranking_weight
        self.use_vector_features = use_vector_features
        self.vector_prefixes = vector_prefixes
        self.random_state = random_state
        self.device = device
        self.n_jobs = n_jobs

    def _graph_features(
        self, values: np.ndarray, names: tuple[str, ...] | None, fit: bool
    ) -> np.ndarray:
        if self.vector_prefixes is not None and names is not None:
            prefixes = tuple(self.vector_prefixes)
            values = values[:, [i for i, n in enumerate(names) if n.startswith(prefixes)]]
        if not self.use_vector_features or values.shape[1] == 0:
            return np.zeros((values.shape[0], 0), dtype=np.float32)
        if fit:
            self.vector_mean_ = np.nanmean(values, axis=0) if len(values) else 0.0
            std = np.nanstd(values, axis=0)
            self.vector_mean_ = np.nan_to_num(self.vector_mean_)
            self.vector_scale_ = np.where(np.nan_to_num(std) > 0, np.nan_to_num(std), 1.0)
        z = (values - self.vector_mean_) / self.vector_scale_
        return np.nan_to_num(z, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> GNNPredictor:
        with _threads(self.n_jobs):
            return self._fit(X, y, sample_weight)

    def _fit(self, X: Any, y: Any, sample_weight: Any = None) -> GNNPredictor:
        import torch
        from torch_geometric.data import Batch


        graphs, values, names = _split(X)
        n = len(graphs)
        if n < 2:
            raise ValueError(f"need at least 2 training graphs, got {n}")
        target = check_target(y, n)
        weights = check_sample_weight(sample_weight, n)
        node_dims = {int(g.x.shape[1]) for g in graphs}
        if len(node_dims) != 1:
            raise ValueError(f"graphs have different node feature widths {sorted(node_dims)}")
        node_dim = node_dims.pop()
        self.target_map_ = RankTarget(target)
        q = self.target_map_.forward()
        mu, sd = float(q.mean()), float(q.std() or 1.0)
        z = (q - mu) / sd
        self.z_center_, self.z_scale_ = mu, sd
        gx = self._graph_features(values, names, fit=True)
        device = torch.device(self.device)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(self.random_state))
            model = _build_network(
                node_dim, gx.shape[1], int(self.hidden), int(self.layers), float(self.dropout)
            ).to(device)
            opt = torch.optim.AdamW(
                model.parameters(),
                lr=float(self.lr),
                weight_decay=float(self.weight_decay),
                foreach=True,
            )
            generator = torch.Generator().manual_seed(int(self.random_state))
            yt = torch.tensor(z, dtype=torch.float32, device=device)
            wt = (
                torch.tensor(weights / weights.mean(), dtype=torch.float32, device=device)
                if weights is not None and weights.mean() > 0
                else None
            )
            gxt = torch.tensor(gx, device=device)
            bs = max(2, min(int(self.batch_size), n))
            model.train()
            for _ in range(int(self.epochs)):
                perm = torch.randperm(n, generator=generator)
                for start in range(0, n, bs):
                    idx = perm[start : start + bs]
                    if len(idx) < 2:
                        continue
                    batch = Batch.from_data_list([graphs[i] for i in idx.tolist()]).to(device)
                    pred = model(batch, gxt[idx])
                    target_b = yt[idx]
                    w = wt[idx] if wt is not None else None
                    err = (pred - target_b) ** 2
                    loss = (err * w).mean() if w is not None else err.mean()
                    if self.ranking_weight:
                        s = torch.sign(target_b[:, None] - target_b[None, :])
                        d = pred[:, None] - pred[None, :]
                        pair = torch.nn.functional.softplus(-s * d) * (s != 0)
                        if w is not None:
                            pair = pair * (w[:, None] * w[None, :])
                        loss = loss + float(self.ranking_weight) * pair.sum() / max(
                            int((s != 0).sum()), 1
                        )
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
            model.eval()
        self.model_ = model
        self.node_features_in_ = node_dim
        self._record_features(values, names)
        return self

    def predict(self, X: Any) -> np.ndarray:
        with _threads(self.n_jobs):
            return self._predict(X)

    def _predict(self, X: Any) -> np.ndarray:
        import torch
        from torch_geometric.data import Batch

        graphs, values, names = _split(X)
        self._check_features(values, names)
        dims = {int(g.x.shape[1]) for g in graphs}
        if dims and dims != {self.node_features_in_}:
            raise FeatureMismatchError(
                f"GNNPredictor was fitted on graphs with {self.node_features_in_} node "
                f"features, got {sorted(dims)}; encode graphs the same way as for fit"
            )
        gx = torch.tensor(self._graph_features(values, names, fit=False))
        device = torch.device(self.device)
        out = []
        with torch.no_grad():
            for start in range(0, len(graphs), 256):
                chunk = list(graphs[start : start + 256])
                batch = Batch.from_data_list(chunk).to(device)
                out.append(self.model_(batch, gx[start : start + 256].to(device)).cpu().numpy())
        z = np.concatenate(out) if out else np.zeros(0)
        return self.target_map_.inverse(z.astype(np.float64) * self.z_scale_ + self.z_center_)
