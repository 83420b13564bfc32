"""Data for proxies and training: CIFAR-10/100, image folders, synthetic images, token ids
and graphs, user tensors.

Every sample source yields an :class:`ImageDataset` (in memory or lazily decoded files) that
draws reproducible, normalised :class:`Batch` objects; a graph source gives one whole graph
as a :class:`Batch` (its nodes are the samples, its edges ``extras["edge_index"]``). The
data a search space's models take is its ``default_data``; :func:`resolve_data` fits a
requested spec to it::

    from nasrank.data import load_batch, load_dataset, resolve_data

    batch = load_batch("cifar10:/data/cifar-10-batches-py", batch_size=64, seed=0)
    train = load_dataset("images:/data/my-images", split="train", image_size=32)
    for batch in train.iter_batches(128, seed=epoch):
        ...
    graph = load_batch(resolve_data(get_space("nbgraph"), None))  # graph:2708:1433:7
"""

from __future__ import annotations

from nasrank.data.batch import Batch
from nasrank.data.cifar import (
    CIFAR10_DIRNAME,
    CIFAR100_DIRNAME,
    load_cifar10,
    load_cifar100,
    read_cifar_batch,
)
from nasrank.data.dataset import (
    CIFAR10_MEAN,
    CIFAR10_STD,
    CIFAR100_MEAN,
    CIFAR100_STD,
    IMAGENET_MEAN,
    IMAGENET_STD,
    ImageDataset,
    ImageFiles,
    concat_datasets,
    from_tensors,
)
from nasrank.data.folder import IMAGE_EXTENSIONS, index_image_folder, load_image_folder
from nasrank.data.graph import DEFAULT_GRAPH_SIZE, load_graph, save_graph, synthetic_graph
from nasrank.data.spec import (
    DATA_SOURCES,
    SCHEME_KINDS,
    DataDefaults,
    DataSpec,
    load_batch,
    load_dataset,
    max_samples,
    parse_spec,
    resolve_data,
)
from nasrank.data.synthetic import (
    MAX_GENERATED_BYTES,
    synthetic_batch,
    synthetic_dataset,
)

__all__ = [
    "Batch",
    "ImageDataset",
    "ImageFiles",
    "DataSpec",
    "DataDefaults",
    "DATA_SOURCES",
    "SCHEME_KINDS",
    "DEFAULT_GRAPH_SIZE",
    "CIFAR10_DIRNAME",
    "CIFAR100_DIRNAME",
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "CIFAR100_MEAN",
    "CIFAR100_STD",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "IMAGE_EXTENSIONS",
    "MAX_GENERATED_BYTES",
    "concat_datasets",
    "from_tensors",
    "index_image_folder",
    "load_batch",
    "load_cifar10",
    "load_cifar100",
    "load_dataset",
    "load_graph",
    "load_image_folder",
    "max_samples",
    "parse_spec",
    "read_cifar_batch",
    "resolve_data",
    "save_graph",
    "synthetic_batch",
    "synthetic_dataset",
    "synthetic_graph",
]
