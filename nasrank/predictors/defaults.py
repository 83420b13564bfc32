"""The default predictor configuration of ``nasrank predict-eval`` and predictor BO.

Chosen on data other than where it is reported (issue 21,
``benchmarks/predictor_defaults.py --parts select``): NAS-Bench-Suite-Zero NB-201
CIFAR-100 and ImageNet16-120, NB-101 CIFAR-10 and the four TransNAS-Bench-101 micro
tasks, 100 training architectures, 20 seeds, by mean Kendall tau over those 7 sets;
reported on the full NB-201 space (``nb201-analog``, proxy features from the shipped
table ``nb201-cifar10``). ``docs/BENCHMARKS.md`` ("Default predictor") has the figures.

The features are a rule, so that every space and benchmark gets them:
:data:`DEFAULT_FEATURE_PARTS` in order, a space-specific part replaced by the next one
the space has (``onehot-pruned`` -> ``onehot``), the ONNX part only where the space has
a cell module (cell graphs export in ~0.01 s; whole networks such as TNB-101 macro's or
BERT's cost far more) or no encoding of its own, and ``zc`` only where proxy scores are
available (stored by the benchmark, or a proxy table of the space). Every selection set
had a cell module; the rule for the other spaces is about cost, not measured quality.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nasrank.predictors.gbdt import GBDTPredictor

if TYPE_CHECKING:
    from nasrank.spaces import SearchSpace

__all__ = [
    "DEFAULT_FEATURE_PARTS",
    "DEFAULT_GBDT_PARAMS",
    "default_feature_spec",
    "default_predictor",
]

#: Feature parts of the default, in order (see :func:`default_feature_spec`).
DEFAULT_FEATURE_PARTS: tuple[str, ...] = ("onehot-pruned", "onnx-core", "zc")
#: :class:`GBDTPredictor` parameters of the default (the others are its own defaults).
DEFAULT_GBDT_PARAMS: dict[str, Any] = {"objective": "pairwise"}

#: A space-specific encoding and what replaces it where a space lacks it.
_FALLBACK = {"onehot-pruned": ("onehot-pruned", "onehot"), "onehot": ("onehot",), "path": ("path",)}


def default_feature_spec(space: SearchSpace, *, proxies: bool) -> str:
    """The default feature spec for ``space``.

    Args:
        space: The search space (its ``encodings`` decide the space-specific parts).
        proxies: Whether proxy scores are available for ``zc`` (the benchmark stores
            them, or a proxy table of the space serves them).

    Returns:
        A spec such as ``"onehot-pruned,onnx-core,zc"``; the universal ``onnx-core``
        when the space has neither an encoding of its own nor a cell module.
    """
    parts: list[str] = []
    for part in DEFAULT_FEATURE_PARTS:
        if part == "zc":
            if proxies:
                parts.append(part)
        elif part in _FALLBACK:
            have = [p for p in _FALLBACK[part] if p in space.encodings]
            if have:
                parts.append(have[0])
        elif space.has_cell_module:  # the ONNX parts
            parts.append(part)
    if not [p for p in parts if p != "zc"]:
        parts.insert(0, "onnx-core")
    return ",".join(dict.fromkeys(parts))


def default_predictor(random_state: int = 0) -> Any:
    """An unfitted instance of the default predictor."""
    return GBDTPredictor(**DEFAULT_GBDT_PARAMS, random_state=random_state)
