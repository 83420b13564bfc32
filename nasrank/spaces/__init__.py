"""Search spaces: parse, validate, enumerate, sample, mutate and build architectures."""

from nasrank.spaces.base import ArchLike, SearchSpace
from nasrank.spaces.registry import SPACES, get_space

# Registration happens here, explicitly, one import per space module.
from nasrank.spaces.nb201 import NB201Space  # noqa: E402  isort: skip

__all__ = ["SPACES", "ArchLike", "NB201Space", "SearchSpace", "get_space"]
