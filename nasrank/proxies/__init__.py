"""Zero-cost proxies: score an architecture at initialisation, without training.

Usage::

    from nasrank.proxies import score
    result = score(model, batch, ["synflow", "gradsign", "nwot"])
    result["synflow"], result.reasons, result.seconds

Every proxy is a registered :class:`ProxySpec` (``PROXIES``), callable on its own
(``nasrank.proxies.synflow(model, batch)``). Scores are floats where larger means
"predicted better" (``plain`` is the one documented exception, kept as published).
Failures give NaN with a reason, never an exception for the whole batch.

Rank aggregations over a pool of candidates (the label-free ensemble, AZ-NAS, VKDNW_agg)
are :class:`RankEnsemble` objects (``ENSEMBLES``), not per-model proxies.
"""

from nasrank.proxies.engine import ScoreResult, as_batch, deterministic, score, score_many
from nasrank.proxies.registry import PROXIES, ProxySpec, register_proxy, resolve_proxies

# Registration happens here, explicitly, one import per proxy module; the public names
# are the proxies' functions (callable views of the registered specs).
from nasrank.proxies import (  # noqa: E402  isort: skip
    az_nas as _az_nas,
    epe_nas as _epe_nas,
    fisher as _fisher,
    flops as _flops,
    grad_norm as _grad_norm,
    gradsign as _gradsign,
    grasp as _grasp,
    jacov as _jacov,
    l2_norm as _l2_norm,
    meco as _meco,
    nwot as _nwot,
    params as _params,
    plain as _plain,
    snip as _snip,
    swap as _swap,
    synflow as _synflow,
    zen as _zen,
    zico as _zico,
    hidden_covariance as _hidden_covariance,
    wpca as _wpca,
    vkdnw as _vkdnw,
)
from nasrank.proxies.standalone import Proxy, standalone  # noqa: E402  isort: skip

az_expressivity = standalone(_az_nas.az_expressivity)
az_progressivity = standalone(_az_nas.az_progressivity)
az_trainability = standalone(_az_nas.az_trainability)
epe_nas = standalone(_epe_nas.epe_nas)
fisher = standalone(_fisher.fisher)
flops = standalone(_flops.flops)
grad_norm = standalone(_grad_norm.grad_norm)
gradsign = standalone(_gradsign.gradsign)
grasp = standalone(_grasp.grasp)
jacov = standalone(_jacov.jacov)
l2_norm = standalone(_l2_norm.l2_norm)
meco = standalone(_meco.meco)
nwot = standalone(_nwot.nwot)
params = standalone(_params.params)
plain = standalone(_plain.plain)
snip = standalone(_snip.snip)
swap = standalone(_swap.swap)
synflow = standalone(_synflow.synflow)
zen = standalone(_zen.zen)
zico = standalone(_zico.zico)
hidden_covariance = standalone(_hidden_covariance.hidden_covariance)
wpca = standalone(_wpca.wpca)
vkdnw = standalone(_vkdnw.vkdnw)
vkdnw_single = standalone(_vkdnw.vkdnw_single)

from nasrank.proxies.ensemble import (  # noqa: E402  isort: skip
    AZ_NAS,
    ENSEMBLES,
    LABEL_FREE_ENSEMBLE,
    VKDNW_AGG,
    RankEnsemble,
    label_free_ensemble,
    parse_ensemble,
)

__all__ = [
    "AZ_NAS",
    "ENSEMBLES",
    "LABEL_FREE_ENSEMBLE",
    "VKDNW_AGG",
    "az_expressivity",
    "az_progressivity",
    "az_trainability",
    "PROXIES",
    "Proxy",
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
    "parse_ensemble",
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
    "vkdnw",
    "vkdnw_single",
    "wpca",
    "zen",
    "zico",
]
