"""Zero-cost proxies: score an architecture at initialisation, without training.

Usage::

    from nasrank.proxies import score
    result = score(model, batch, ["synflow", "gradsign", "nwot"])
    result["synflow"], result.reasons, result.seconds

Every proxy is a registered :class:`ProxySpec` (``PROXIES``), callable on its own
(``nasrank.proxies.synflow(model, batch)``). Scores are floats where larger means
"predicted better" (``plain`` is the one documented exception, kept as published).
Failures give NaN with a reason, never an exception for the whole batch.
"""

from nasrank.proxies.engine import ScoreResult, as_batch, deterministic, score, score_many
from nasrank.proxies.registry import PROXIES, ProxySpec, register_proxy, resolve_proxies

# Registration happens here, explicitly, one import per proxy module.
from nasrank.proxies.epe_nas import epe_nas  # noqa: E402  isort: skip
from nasrank.proxies.fisher import fisher  # noqa: E402  isort: skip
from nasrank.proxies.flops import flops  # noqa: E402  isort: skip
from nasrank.proxies.grad_norm import grad_norm  # noqa: E402  isort: skip
from nasrank.proxies.gradsign import gradsign  # noqa: E402  isort: skip
from nasrank.proxies.grasp import grasp  # noqa: E402  isort: skip
from nasrank.proxies.jacov import jacov  # noqa: E402  isort: skip
from nasrank.proxies.l2_norm import l2_norm  # noqa: E402  isort: skip
from nasrank.proxies.meco import meco  # noqa: E402  isort: skip
from nasrank.proxies.nwot import nwot  # noqa: E402  isort: skip
from nasrank.proxies.params import params  # noqa: E402  isort: skip
from nasrank.proxies.plain import plain  # noqa: E402  isort: skip
from nasrank.proxies.snip import snip  # noqa: E402  isort: skip
from nasrank.proxies.swap import swap  # noqa: E402  isort: skip
from nasrank.proxies.synflow import synflow  # noqa: E402  isort: skip
from nasrank.proxies.zen import zen  # noqa: E402  isort: skip
from nasrank.proxies.zico import zico  # noqa: E402  isort: skip
from nasrank.proxies.hidden_covariance import hidden_covariance  # noqa: E402  isort: skip
from nasrank.proxies.wpca import wpca  # noqa: E402  isort: skip

from nasrank.proxies.ensemble import (  # noqa: E402  isort: skip
    LABEL_FREE_ENSEMBLE,
    RankEnsemble,
    label_free_ensemble,
)

__all__ = [
    "LABEL_FREE_ENSEMBLE",
    "PROXIES",
    "as_batch",
    "deterministic",
    "epe_nas",
    "fisher",
    "flops",
    "grad_norm",
    "gradsign",
    "grasp",
    "hidden_covariance",
    "jacov",
    "l2_norm",
    "label_free_ensemble",
    "meco",
    "nwot",
    "params",
    "plain",
    "ProxySpec",
    "RankEnsemble",
    "register_proxy",
    "resolve_proxies",
    "score",
    "score_many",
    "ScoreResult",
    "snip",
    "swap",
    "synflow",
    "wpca",
    "zen",
    "zico",
]
