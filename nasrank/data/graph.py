"""Graph batches for graph neural networks: seeded synthetic graphs and the user's own.

A graph batch is one whole graph whose samples are its nodes: node features
``inputs`` ``(N, F)`` float32, node labels ``targets`` ``(N,)`` int64 in ``[0, K)`` and the
edges in ``extras["edge_index"]`` ``(2, E)`` int64 (row 0 the source node, row 1 the
target), which every forward receives as ``model(x, edge_index=...)`` -- the layout of
torch-geometric's ``Data``. A graph is not subsampled: a batch size does not apply.

* :func:`synthetic_graph` -- standard-normal features, uniform labels and random undirected
  edges (both directions stored, no self loops), all drawn from one seed. The default
  size is Cora's (2,708 nodes, 1,433 features, 7 classes; about 4 neighbours per node).
* :func:`load_graph` -- a graph from an ``.npz`` file with arrays ``x`` ``(N, F)``,
  ``edge_index`` ``(2, E)``, ``y`` ``(N,)`` and optionally ``num_classes`` (a scalar);
  other arrays are ignored. The file is read with ``allow_pickle=False``, so object
  arrays are refused. Write one with :func:`save_graph` or ``numpy.savez``.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import torch

from nasrank.data.batch import Batch
from nasrank.data.synthetic import _positive, _rng
from nasrank.errors import DataError

__all__ = [
    "DEFAULT_GRAPH_SIZE",
    "load_graph",
    "random_edges",
    "save_graph",
    "synthetic_graph",
]

#: ``(nodes, features, classes)`` of the default synthetic graph: Cora's sizes.
DEFAULT_GRAPH_SIZE: tuple[int, int, int] = (2708, 1433, 7)


def random_edges(num_nodes: int, degree: int, rng: np.random.Generator) -> np.ndarray:
    """``(2, E)`` int64 random undirected edges: ``degree`` random partners drawn per
    node (never itself), each edge stored in both directions, duplicates dropped, sorted
    by (source, target). A graph of one node has no edges."""
    n = _positive(num_nodes, "num_nodes")
    if n == 1 or degree < 1:
        return np.zeros((2, 0), dtype=np.int64)
    src = np.repeat(np.arange(n, dtype=np.int64), degree)
    dst = rng.integers(0, n - 1, size=src.size, dtype=np.int64)
    dst += dst >= src  # skip the node itself: partners are uniform over the other n - 1
    codes = np.unique(np.concatenate([src * n + dst, dst * n + src]))
    return np.stack([codes // n, codes % n])


def synthetic_graph(
    num_nodes: int = DEFAULT_GRAPH_SIZE[0],
    num_features: int = DEFAULT_GRAPH_SIZE[1],
    num_classes: int = DEFAULT_GRAPH_SIZE[2],
    *,
    degree: int = 2,
    seed: int = 0,
    split: str = "train",
    source: str | None = None,
) -> Batch:
    """A seeded random graph as a :class:`Batch` (see the module docstring).

    Args:
        num_nodes: Nodes ``N``.
        num_features: Feature width ``F``; features are i.i.d. standard normal.
        num_classes: Classes ``K``; labels are uniform on ``0..K-1``.
        degree: Random partners drawn per node; with both directions stored the mean
            degree is about ``2 * degree`` (Cora's is 3.9).
        seed: Data seed: the same seed gives the same graph.
        split: Split name (another split gives an independent graph).
        source: Provenance (default ``"graph:N:F:K seed=S n=N"``).

    Shapes:
        inputs ``(N, F)`` float32, targets ``(N,)`` int64, ``extras["edge_index"]``
        ``(2, E)`` int64.

    Raises:
        DataError: A non-positive size or class count, or a negative seed or degree.
    """
    n = _positive(num_nodes, "num_nodes")
    f = _positive(num_features, "num_features")
    k = _positive(num_classes, "num_classes")
    if isinstance(degree, bool) or not isinstance(degree, (int, np.integer)) or degree < 0:
        raise DataError(f"degree must be a non-negative integer, got {degree!r}")
    rng = _rng(seed, split)
    x = rng.standard_normal((n, f), dtype=np.float32)
    y = rng.integers(0, k, size=n, dtype=np.int64)
    edge_index = random_edges(n, int(degree), rng)
    source = f"graph:{n}:{f}:{k} seed={seed} n={n}" if source is None else source
    return _batch(x, y, k, edge_index, source)


def _batch(x: np.ndarray, y: np.ndarray, k: int, edge_index: np.ndarray, source: str) -> Batch:
    return Batch(
        torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)),
        torch.from_numpy(np.ascontiguousarray(y, dtype=np.int64)),
        k,
        source,
        {"edge_index": torch.from_numpy(np.ascontiguousarray(edge_index, dtype=np.int64))},
    )


def save_graph(path: str | Path, batch: Batch) -> Path:
    """Write a graph batch as the ``.npz`` :func:`load_graph` reads (``x``,
    ``edge_index``, ``y``, ``num_classes``); returns the path written.

    Raises:
        DataError: The batch has no ``edge_index`` extra or no targets.
    """
    if "edge_index" not in batch.extras or batch.targets is None:
        raise DataError("save_graph needs a graph batch with targets and extras['edge_index']")
    path = Path(path).expanduser()
    arrays: dict[str, np.ndarray] = {
        "x": batch.inputs.detach().cpu().numpy(),
        "edge_index": batch.extras["edge_index"].detach().cpu().numpy(),
        "y": batch.targets.detach().cpu().numpy(),
    }
    if batch.num_classes is not None:
        arrays["num_classes"] = np.asarray(batch.num_classes, dtype=np.int64)
    with open(path, "wb") as f:  # a file object: numpy does not append ".npz"
        np.savez(f, **arrays)  # type: ignore[arg-type]  # mypy matches **arrays to allow_pickle
    return path


def load_graph(path: str | Path, *, source: str | None = None) -> Batch:
    """The graph in an ``.npz`` file as a :class:`Batch` (see the module docstring).

    Features of any real or integer dtype become float32; ``y`` and ``edge_index`` must
    be integers; ``num_classes`` defaults to ``max(y) + 1``.

    Raises:
        DataError: A missing or unreadable file, a missing array, an array of the wrong
            shape or dtype, non-finite features, or an index out of range; the message
            names the file, the array and the rule.
    """
    path = Path(path).expanduser()
    where = f"graph file {str(path)!r}"
    if not path.is_file():
        raise DataError(
            f"{where} not found; graph:PATH needs an .npz with arrays x (N, F), "
            "edge_index (2, E) and y (N,)"
        )
    arrays = _read_npz(path, where)
    x, edge_index, y = arrays["x"], arrays["edge_index"], arrays["y"]
    if x.ndim != 2 or min(x.shape) < 1:
        raise DataError(f"{where}: x must be (N, F) with N, F >= 1, got shape {x.shape}")
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise DataError(f"{where}: x must hold real numbers, got dtype {x.dtype}")
    x = x.astype(np.float32)
    if not np.isfinite(x).all():
        raise DataError(f"{where}: x holds NaN or infinite values")
    n = x.shape[0]
    _check_edges(edge_index, n, where)
    k = _check_labels(y, n, arrays.get("num_classes"), where)
    source = f"graph:{path} n={n}" if source is None else source
    return _batch(x, y, k, edge_index, source)


def _read_npz(path: Path, where: str) -> dict[str, np.ndarray]:
    expected = "expected x (N, F), edge_index (2, E), y (N,)"
    with open(path, "rb") as f:
        magic = f.read(6)
    if magic.startswith(b"\x93NUMPY"):
        raise DataError(f"{where} is a single .npy array, not an .npz; {expected}")
    if not magic.startswith(b"PK"):  # anything else numpy would try to unpickle
        raise DataError(f"{where} is not a readable .npz (no zip header); {expected}")
    try:
        loaded = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:  # a damaged zip
        raise DataError(f"{where} is not a readable .npz ({exc}); {expected}") from None
    assert isinstance(loaded, np.lib.npyio.NpzFile)
    with loaded as npz:
        missing = [k for k in ("x", "edge_index", "y") if k not in npz.files]
        if missing:
            raise DataError(
                f"{where} lacks the array(s) {', '.join(missing)} (it has "
                f"{', '.join(npz.files) or 'none'}); {expected}"
            )
        keys = ["x", "edge_index", "y"] + (["num_classes"] if "num_classes" in npz.files else [])
        try:
            return {k: npz[k] for k in keys}
        except ValueError as exc:  # an object array: reading it would need pickle
            raise DataError(
                f"{where} holds object arrays ({exc}); only plain numeric arrays are read"
            ) from None
        except (OSError, EOFError, KeyError, zipfile.BadZipFile) as exc:  # a damaged member
            raise DataError(f"{where} is not a readable .npz ({exc}); {expected}") from None


def _check_edges(edge_index: np.ndarray, n: int, where: str) -> None:
    if edge_index.ndim != 2 or edge_index.shape[0] != 2:
        raise DataError(
            f"{where}: edge_index must be (2, E) (row 0 sources, row 1 targets), got shape "
            f"{edge_index.shape}"
        )
    if not np.issubdtype(edge_index.dtype, np.integer):
        raise DataError(f"{where}: edge_index must hold integers, got dtype {edge_index.dtype}")
    if edge_index.size and (edge_index.min() < 0 or edge_index.max() >= n):
        raise DataError(
            f"{where}: edge_index must index nodes 0..{n - 1} (x has {n} rows), got values "
            f"{int(edge_index.min())}..{int(edge_index.max())}"
        )


def _check_labels(y: np.ndarray, n: int, num_classes: np.ndarray | None, where: str) -> int:
    if y.shape != (n,):
        raise DataError(f"{where}: y must be (N,) = ({n},) like x's rows, got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        raise DataError(f"{where}: y must hold integer class labels, got dtype {y.dtype}")
    if y.min() < 0:
        raise DataError(f"{where}: y holds a negative label {int(y.min())}")
    if num_classes is None:
        return int(y.max()) + 1
    if num_classes.shape != () or not np.issubdtype(num_classes.dtype, np.integer):
        raise DataError(
            f"{where}: num_classes must be one integer, got {num_classes.dtype} of shape "
            f"{num_classes.shape}"
        )
    k = int(num_classes)
    if k <= int(y.max()):
        raise DataError(f"{where}: y holds label {int(y.max())} but num_classes is {k}")
    return k
