"""Search spaces: parse, validate, enumerate, sample, mutate and build architectures."""

from nasrank.spaces.base import ArchLike, SearchSpace
from nasrank.spaces.codec import IndexCodec
from nasrank.spaces.encoding import SpaceEncoding
from nasrank.spaces.registry import SPACES, get_space

# Registration happens here, explicitly, one import per space module.
from nasrank.spaces.nb201 import NB201Space  # noqa: E402  isort: skip
from nasrank.spaces.nb301 import NB301Space  # noqa: E402  isort: skip
from nasrank.spaces.nb101 import NB101Space  # noqa: E402  isort: skip
from nasrank.spaces.nbgraph import NBGraphSpace  # noqa: E402  isort: skip
from nasrank.spaces.nbnlp import NBNLPSpace  # noqa: E402  isort: skip
from nasrank.spaces.nbbert import NBBERTSpace  # noqa: E402  isort: skip
from nasrank.spaces.tnb101 import TNB101MacroSpace, TNB101MicroSpace  # noqa: E402  isort: skip

__all__ = [
    "SPACES",
    "ArchLike",
    "IndexCodec",
    "NB101Space",
    "NB201Space",
    "NB301Space",
    "NBBERTSpace",
    "NBGraphSpace",
    "NBNLPSpace",
    "SearchSpace",
    "SpaceEncoding",
    "TNB101MacroSpace",
    "TNB101MicroSpace",
    "get_space",
]
