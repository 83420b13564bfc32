"""The registry of zero-cost proxies and the metadata each one declares.

A proxy is registered with :func:`register_proxy` on a *reduction* function that receives
a :class:`~nasrank.proxies._context.ProxyContext` and returns a float. The context runs
the passes the proxy needs (a train-mode forward/backward, per-sample gradients, a
synflow pass, ...) once per :func:`~nasrank.proxies.engine.score` call and shares them
between all proxies that need them; the reduction only turns pass results into a number.

The object registered is a :class:`ProxySpec`; the package-level name (e.g.
``nasrank.proxies.synflow``) is its callable view (:mod:`nasrank.proxies.standalone`),
a plain proxy function ``synflow(model, batch, *, loss_fn=None, seed=0) -> float``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from nasrank._version import __version__
from nasrank.registry import Registry

if TYPE_CHECKING:

    from nasrank.proxies._context import ProxyContext

__all__ = ["PROXIES", "ProxySpec", "register_proxy", "resolve_proxies", "PASS_GROUPS"]

#: Passes a proxy may draw on; proxies in the same group share one pass per model.
PASS_GROUPS: tuple[str, ...] = (
    "static", "train", "per_sample", "synflow", "zen", "blocks", "fisher_info"
)

#: Artifacts of the shared train-mode pass a proxy may request (see ``_passes.py``).
TRAIN_ARTIFACTS: frozenset[str] = frozenset(
    {"relu_kernel", "relu_patterns", "meco", "jacobian", "loss_grads", "fisher", "hvp"}
)
#: Statistics of the per-sample gradient pass a proxy may request.
PER_SAMPLE_ARTIFACTS: frozenset[str] = frozenset({"sign_sum", "moments"})
#: Artifacts of the groups with one pass each: the block features of the trunk (AZ-NAS,
#: ``_blocks.py``) and the Fisher information of a parameter subset (VKDNW, ``_fisher_info.py``).
BLOCK_ARTIFACTS: frozenset[str] = frozenset({"blocks"})
FISHER_INFO_ARTIFACTS: frozenset[str] = frozenset({"fisher_info"})


@dataclass(frozen=True)
class ProxySpec:
    """A registered zero-cost proxy: its reduction function and what it needs.

    Attributes:
        name: Stable snake_case registry name.
        compute: ``(ctx) -> float`` reduction; raises on failure (the engine turns the
            exception into NaN plus a reason).
        needs_data: Uses the values of the batch inputs (not just their shape).
        needs_labels: Uses the batch targets (through the loss).
        needs_grad: Back-propagates.
        group: The pass it draws on (one of :data:`PASS_GROUPS`).
        requires: Artifacts of that pass it reads.
        min_batch: Smallest batch size for which the proxy is defined.
        version: Version of the proxy's definition; bump it when a change alters the
            scores, so that stored scores of the old definition are not reused (see
            :attr:`store_version` and :mod:`nasrank.store`).
        doc: The reduction's docstring; its first line cites the paper.
    """

    name: str
    compute: Callable[[ProxyContext], float] = field(repr=False)
    needs_data: bool
    needs_labels: bool
    needs_grad: bool
    group: str
    requires: frozenset[str] = frozenset()
    min_batch: int = 1
    version: str = "1"
    doc: str = field(default="", repr=False)

    @property
    def store_version(self) -> str:
        """The version key of stored scores: the proxy's :attr:`version` combined with
        nasrank's version (``"1+nasrank-0.1.0"``), so a new release never reuses scores
        an older one computed."""
        return f"{self.version}+nasrank-{__version__}"

    @property
    def citation(self) -> str:
        """The first line of the proxy's docstring (the paper it implements)."""
        return self.doc.strip().splitlines()[0] if self.doc.strip() else ""


PROXIES: Registry[ProxySpec] = Registry("proxy", accepts=lambda obj: isinstance(obj, ProxySpec))


def register_proxy(
    name: str,
    *,
    needs_data: bool,
    needs_labels: bool,
    needs_grad: bool,
    group: str,
    requires: Iterable[str] = (),
    min_batch: int = 1,
    version: str = "1",
) -> Callable[[Callable[[ProxyContext], float]], ProxySpec]:
    """Decorator registering a reduction ``(ctx) -> float`` as proxy ``name``.

    Args:
        name: Registry name.
        needs_data: See :class:`ProxySpec`.
        needs_labels: See :class:`ProxySpec`.
        needs_grad: See :class:`ProxySpec`.
        group: Pass group, one of :data:`PASS_GROUPS`.
        requires: Artifacts of the group's pass the reduction reads.
        min_batch: Smallest batch size the proxy is defined for.
        version: Version of the definition (see :class:`ProxySpec`); default ``"1"``.

    Returns:
        A decorator returning the registered :class:`ProxySpec`.

    Raises:
        ValueError: Unknown group or artifact, or ``name`` already registered.
    """
    if group not in PASS_GROUPS:
        raise ValueError(
            f"unknown pass group {group!r} for proxy {name!r}; expected one of "
            f"{', '.join(PASS_GROUPS)}"
        )
    requires = frozenset(requires)
    allowed = {
        "train": TRAIN_ARTIFACTS,
        "per_sample": PER_SAMPLE_ARTIFACTS,
        "blocks": BLOCK_ARTIFACTS,
        "fisher_info": FISHER_INFO_ARTIFACTS,
    }.get(group, frozenset())
    unknown = requires - allowed
    if unknown:
        raise ValueError(
            f"proxy {name!r} requires unknown {group!r} artifacts "
            f"{sorted(unknown)}; expected a subset of {sorted(allowed)}"
        )

    def decorator(fn: Callable[[ProxyContext], float]) -> ProxySpec:
        spec = ProxySpec(
            name=name,
            compute=fn,
            needs_data=needs_data,
            needs_labels=needs_labels,
            needs_grad=needs_grad,
            group=group,
            requires=requires,
            min_batch=min_batch,
            version=str(version),
            doc=fn.__doc__ or "",
        )
        PROXIES.register(name)(spec)
        return spec

    return decorator


def resolve_proxies(proxies: str | ProxySpec | Sequence[str | ProxySpec] | None) -> list[ProxySpec]:
    """Turn names, specs, ``"all"`` or ``None`` (= all) into a de-duplicated spec list.

    Raises:
        UnknownNameError: A name is not registered (the message suggests the closest).
        TypeError: An entry is neither a name nor a :class:`ProxySpec`.
    """
    if proxies is None or (isinstance(proxies, str) and proxies == "all"):
        return [PROXIES.get(n) for n in PROXIES.names()]
    if isinstance(proxies, (str, ProxySpec)):
        proxies = [proxies]
    out: list[ProxySpec] = []
    for p in proxies:
        if not isinstance(p, (str, ProxySpec)):
            raise TypeError(
                f"proxies must be names or ProxySpec objects, got {p!r} of type {type(p).__name__}"
            )
        if isinstance(p, str) and p.strip() not in PROXIES:
            _refuse_population_signal(p.strip())
        spec = PROXIES.resolve(p.strip() if isinstance(p, str) else p)
        if spec.name not in {s.name for s in out}:
            out.append(spec)
    return out



#: Names of rank aggregations over a pool (``az_nas``, ...) -> their members, noted by
#: :mod:`nasrank.proxies.ensemble` so that asking for one as a proxy explains itself.
_POOL_SIGNALS: dict[str, tuple[str, ...]] = {}


def note_pool_signal(name: str, members: Sequence[str]) -> None:
    """Record that ``name`` is a rank aggregation over a pool with these members (not a
    per-model proxy); :func:`resolve_proxies` then refuses it with that explanation."""
    _POOL_SIGNALS[name] = tuple(members)


def _refuse_population_signal(name: str) -> None:
    """A clear error for the name of a rank ensemble (``az_nas``, ``vkdnw_agg``, ...): it
    ranks a pool of models and has no value for one model alone."""
    from nasrank.errors import UnknownNameError

    members = _POOL_SIGNALS.get(name)
    if members is not None:
        raise UnknownNameError(
            f"{name!r} is a rank aggregation over a pool of architectures, not a proxy of "
            f"one model: score its members {', '.join(members)} and aggregate them with "
            f"nasrank.proxies.ENSEMBLES[{name!r}](pool) (nasrank correlate reports it when "
            "its members are scored)"
        )
