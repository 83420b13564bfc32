"""Encodings of architectures: the universal ONNX ``OpGraph`` and what is derived from it
(fixed-length features, PyG graphs, text), conveniences for the spaces' own encodings
(one-hot, adjacency, path; defined by each space) and an on-disk cache.

``onnx`` and ``torch_geometric`` are imported only by the functions that need them.
"""

from nasrank.encodings.cache import EncodingCache, default_cache_dir
from nasrank.encodings.cells import LEVELS, arch_opgraph, cell_module, encode_graphs
from nasrank.encodings.features import (
    FEATURES_VERSION,
    OP_VOCAB,
    feature_names,
    opgraph_features,
)
from nasrank.encodings.graph import NODE_FEATURE_NAMES, opgraph_to_data
from nasrank.encodings.opgraph import ENCODER_VERSION, OpGraph, OpNode
from nasrank.encodings.space_encodings import (
    nb101_adjacency,
    nb201_onehot,
    nb301_onehot,
    path_encoding,
    space_encoding,
    space_encoding_names,
)
from nasrank.encodings.text import opgraph_text

__all__ = [
    "ENCODER_VERSION",
    "EncodingCache",
    "FEATURES_VERSION",
    "LEVELS",
    "NODE_FEATURE_NAMES",
    "OP_VOCAB",
    "OpGraph",
    "OpNode",
    "arch_opgraph",
    "cell_module",
    "default_cache_dir",
    "encode_graphs",
    "feature_names",
    "nb101_adjacency",
    "nb201_onehot",
    "nb301_onehot",
    "opgraph_features",
    "opgraph_text",
    "opgraph_to_data",
    "path_encoding",
    "space_encoding",
    "space_encoding_names",
]
