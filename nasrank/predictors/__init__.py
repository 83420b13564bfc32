"""Accuracy predictors: LightGBM trees, torch-geometric GNNs, ensembles with uncertainty,
composable feature sets and an evaluation protocol.

``lightgbm`` and ``torch_geometric`` are imported only when a predictor is fitted.
"""

from nasrank.predictors.base import FeatureMismatchError, NotFittedError, Predictor
from nasrank.predictors.registry import PREDICTORS, get_predictor

# Registration happens here, explicitly, one import per predictor module.
from nasrank.predictors.gbdt import GBDTPredictor  # noqa: E402  isort: skip
from nasrank.predictors.gnn import GNNPredictor  # noqa: E402  isort: skip
from nasrank.predictors.ensemble import EnsemblePredictor  # noqa: E402  isort: skip

from nasrank.predictors.featurize import (  # noqa: E402  isort: skip
    FEATURE_PARTS,
    FeatureMatrix,
    Featurizer,
    FeatureSetError,
    featurize,
    parse_feature_spec,
)
from nasrank.predictors.defaults import (  # noqa: E402  isort: skip
    DEFAULT_FEATURE_PARTS,
    DEFAULT_GBDT_PARAMS,
    default_feature_spec,
    default_predictor,
)
from nasrank.predictors.evaluate import (  # noqa: E402  isort: skip
    EvalRecord,
    evaluate,
    evaluate_transfer,
    summarize,
)

__all__ = [
    "DEFAULT_FEATURE_PARTS",
    "DEFAULT_GBDT_PARAMS",
    "FEATURE_PARTS",
    "PREDICTORS",
    "EnsemblePredictor",
    "EvalRecord",
    "FeatureMatrix",
    "Featurizer",
    "FeatureMismatchError",
    "FeatureSetError",
    "GBDTPredictor",
    "GNNPredictor",
    "NotFittedError",
    "Predictor",
    "default_feature_spec",
    "default_predictor",
    "evaluate",
    "evaluate_transfer",
    "featurize",
    "get_predictor",
    "parse_feature_spec",
    "summarize",
]
