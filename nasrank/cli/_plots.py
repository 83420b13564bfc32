"""The figures of ``search --plot``, ``correlate --plot``, ``predict-eval --plot`` and
``nasrank report``: matplotlib figures built from plain arrays, so that a command and the
report of its JSON draw the same picture.

Conventions: a spread is shown by quantiles of the runs (never mean +- std, which leaves
the range of values the runs reached); an axis that counts (queries, training
architectures) has integer ticks; titles name a benchmark by its kind and file name,
never by the full path; proxies whose scores span many orders of magnitude are drawn
against their rank.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "benchmark_label",
    "search_figure",
    "correlation_figure",
    "spearman_figure",
    "predictor_figure",
    "coverage_figure",
    "close",
]


def benchmark_label(name: str) -> str:
    """A benchmark's name without its folders: ``suite-zero:/a/b/zc_nasbench201.json[cifar10]``
    -> ``suite-zero:zc_nasbench201.json[cifar10]``; names without a path are unchanged."""
    scheme, sep, rest = str(name).partition(":")
    if not sep:
        return str(name)
    path, bracket, task = rest.partition("[")
    short = Path(path).name or path
    return f"{scheme}:{short}" + (f"[{task}" if bracket else "")


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def close(fig: Any) -> None:
    """Release a figure of this module."""
    _pyplot().close(fig)


def _wrap(title: str, width: int) -> str:
    return "\n".join(textwrap.wrap(title, width=width, break_long_words=True)) or title


def _integer_ticks(ax: Any, ticks: Sequence[int]) -> None:
    """Exactly ``ticks`` on the x axis, labelled as integers (no minor ticks)."""
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator, StrMethodFormatter

    ax.xaxis.set_major_locator(FixedLocator(sorted({int(t) for t in ticks})))
    ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())


def _query_axis(ax: Any, budget: int) -> None:
    """Queries 1..budget: log-scaled from 10 queries on, ticks 1, 2, 5, 10, 20, ... and
    the budget; linear integer ticks below."""
    if budget >= 10:
        ax.set_xscale("log")
        ticks = [m * 10**e for e in range(len(str(budget)) + 1) for m in (1, 2, 5)]
        ticks = [t for t in ticks if t <= budget and t < 0.75 * budget] + [budget]
    else:
        ticks = list(range(1, budget + 1))
    ax.set_xlim(1, max(budget, 2))
    _integer_ticks(ax, ticks)


def _legend_below(fig: Any, ax: Any) -> None:
    """The legend in a strip of its own under the axes (inside them it would hide the
    bars of the last rows), whatever the figure's height."""
    fig.legend(*ax.get_legend_handles_labels(), loc="lower center", ncol=3, fontsize=7.5,
               frameon=False)  # fmt: skip
    strip = 0.32 / fig.get_figheight()  # inches of one legend row, as a share of the height
    fig.tight_layout(rect=(0, strip, 1, 1))


# ---- search: best value so far against queries ---------------------------------------------
def search_figure(
    curves: Mapping[str, np.ndarray],
    optimum: float | None,
    metric: str,
    title: str,
    *,
    ylabel: str | None = None,
) -> Any:
    """Best-so-far curves of several methods: each run faint, the median bold and the
    interquartile range (25-75 % of the runs) as a band; the y-range is what the medians
    and bands reach (from the first query on) and the optimum.

    Args:
        curves: method -> ``(runs, budget)`` best value after each query (NaN-free; a run
            that stopped early repeats its last value).
        optimum: The pool's optimum (dashed line), if known.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.8, 4.4))
    shown: list[float] = [] if optimum is None else [float(optimum)]
    budget = 1
    for i, (method, runs) in enumerate(curves.items()):
        runs = np.asarray(runs, dtype=float)
        if runs.size == 0:
            continue
        color = f"C{i % 10}"
        x = np.arange(1, runs.shape[1] + 1)
        budget = max(budget, runs.shape[1])
        for run in runs:
            ax.plot(x, run, color=color, linewidth=0.6, alpha=0.18)
        q25, median, q75 = np.nanpercentile(runs, [25, 50, 75], axis=0)
        ax.fill_between(x, q25, q75, color=color, alpha=0.22, linewidth=0)
        ax.plot(x, median, color=color, linewidth=2.0, label=f"{method} (median of {len(runs)})")
        shown += [float(np.nanmin(q25)), float(np.nanmax(q75))]
    if optimum is not None:
        ax.axhline(optimum, color="k", linestyle="--", linewidth=0.8, label="optimum")
    if shown:
        lo, hi = min(shown), max(shown)
        pad = 0.05 * (hi - lo) if hi > lo else max(abs(hi) * 0.01, 1e-3)
        ax.set_ylim(lo - pad, hi + pad)
    _query_axis(ax, budget)
    ax.set_xlabel("queries")
    ax.set_ylabel(ylabel or f"best {metric} so far")
    ax.set_title(_wrap(title, 70), fontsize=9)
    ax.grid(alpha=0.25)
    handles, labels = ax.get_legend_handles_labels()
    from matplotlib.patches import Patch

    handles.append(Patch(color="0.6", alpha=0.35, label="25-75 % of runs; thin: each run"))
    # the curves end near the optimum: the legend goes to the other side
    minimizing = any(np.nanmedian(c[:, -1]) < np.nanmedian(c[:, 0]) for c in curves.values())
    ax.legend(handles=handles, fontsize=7.5, loc="upper right" if minimizing else "lower right")
    fig.tight_layout()
    return fig


# ---- correlate: score against ground truth ---------------------------------------------------
def _ranks(values: np.ndarray) -> np.ndarray:
    """Percentile ranks (0-100, ties averaged) of the finite entries; NaN stays NaN."""
    from scipy.stats import rankdata

    out = np.full(values.shape, np.nan)
    finite = np.isfinite(values)
    if finite.sum() > 1:
        out[finite] = 100.0 * (rankdata(values[finite]) - 1) / (finite.sum() - 1)
    elif finite.any():
        out[finite] = 50.0
    return out


def _span(values: np.ndarray) -> str:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return "no finite score"
    return f"scores {finite.min():.3g} .. {finite.max():.3g}"


def correlation_figure(
    scores: Mapping[str, Sequence[float]],
    truth: Sequence[float],
    metric: str,
    spearman: Mapping[str, float | None],
    title: str,
) -> Any:
    """One panel per proxy: the ground truth against the proxy's score *rank* (percentile
    within the sample), which is what Spearman's rho measures and reads the same whether
    the scores span one or thirty orders of magnitude; each panel notes the raw score
    range and how many scores were NaN (not drawn)."""
    import math

    plt = _pyplot()
    names = list(scores)
    cols = max(1, min(4, len(names)))
    rows = max(1, math.ceil(len(names) / cols))
    fig, axes = plt.subplots(
        rows, cols, figsize=(3.6 * cols, 3.0 * rows + 0.5), squeeze=False, sharey=True
    )
    y = np.asarray(truth, dtype=float)
    for ax, name in zip(axes.flat, names):
        values = np.asarray(scores[name], dtype=float)
        ranks = _ranks(values)
        shown = np.isfinite(ranks) & np.isfinite(y)
        ax.scatter(ranks[shown], y[shown], s=7, alpha=0.6, linewidths=0)
        rho = spearman.get(name)
        rho_text = "n/a" if rho is None or not np.isfinite(rho) else f"{rho:.3f}"
        ax.set_title(f"{name}  (Spearman {rho_text})", fontsize=9)
        ax.set_xlim(-3, 103)
        ax.set_xticks([0, 25, 50, 75, 100])
        ax.set_xlabel("score rank (percentile)", fontsize=8)
        ax.tick_params(labelsize=7.5)
        nan = int((~np.isfinite(values)).sum())
        note = _span(values) + (f"; {nan} NaN not shown" if nan else "")
        ax.text(
            0.02,
            0.97,
            note,
            transform=ax.transAxes,
            fontsize=6.5,
            va="top",
            color="0.3",
            bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 1},
        )
        ax.grid(alpha=0.25)
    for ax in axes[:, 0]:
        ax.set_ylabel(metric, fontsize=8)
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    fig.suptitle(_wrap(title, 40 * cols), fontsize=9.5)
    fig.tight_layout()
    return fig


def spearman_figure(summary: Mapping[str, Mapping[str, Any]], title: str) -> Any:
    """Spearman's rho and Kendall's tau per proxy (best first), with the benchmark's
    reference Spearman where it stores one: what a ``correlate`` JSON holds."""
    plt = _pyplot()

    def key(item: tuple[str, Mapping[str, Any]]) -> float:
        value = item[1].get("spearman")
        return -value if isinstance(value, (int, float)) and np.isfinite(value) else 9.0

    items = sorted(summary.items(), key=key)
    names = [n for n, _ in items]

    def column(field: str) -> np.ndarray:
        return np.array(
            [e.get(field) if isinstance(e.get(field), (int, float)) else np.nan for _, e in items],
            dtype=float,
        )

    fig, ax = plt.subplots(figsize=(6.8, 1.5 + 0.32 * max(len(names), 1)))
    yy = np.arange(len(names))
    height = 0.27
    ax.barh(yy - height, column("spearman"), height, label="Spearman (ours)")
    ax.barh(yy, column("kendall"), height, label="Kendall (ours)")
    ref = column("reference_spearman")
    if np.isfinite(ref).any():
        ax.barh(yy + height, ref, height, label="Spearman of the benchmark's stored score")
    ax.set_yticks(yy, names, fontsize=8)
    ax.invert_yaxis()
    ax.axvline(0, color="k", linewidth=0.6)
    ax.set_xlabel("rank correlation with the ground truth")
    ax.set_title(_wrap(title, 80), fontsize=9)
    ax.grid(axis="x", alpha=0.25)
    # below the axes: inside, it would hide the bars of the last proxies
    _legend_below(fig, ax)
    return fig


# ---- predict-eval: rank quality against training size --------------------------------------
def predictor_figure(
    results: Sequence[Mapping[str, Any]], title: str, *, metric: str = "kendall"
) -> Any:
    """Mean +- std over seeds of ``metric`` (Kendall's tau) per mode against the number of
    training architectures, on integer ticks at the sizes measured."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.2, 4.0))
    sizes: set[int] = set()
    for mode in dict.fromkeys(r["mode"] for r in results):
        rs = sorted((r for r in results if r["mode"] == mode), key=lambda r: r["train_size"])
        xs = [int(r["train_size"]) for r in rs]
        means = np.array([r[metric]["mean"] for r in rs], dtype=float)
        stds = np.array([r[metric]["std"] for r in rs], dtype=float)
        ax.errorbar(xs, means, yerr=stds, marker="o", capsize=3, label=str(mode))
        sizes.update(xs)
    if sizes:
        if min(sizes) > 0 and max(sizes) >= 10 * min(sizes):
            ax.set_xscale("log")
        _integer_ticks(ax, sorted(sizes))
    ax.set_xlabel("training architectures")
    label = {"kendall": "Kendall tau", "spearman": "Spearman rho"}.get(metric, metric)
    ax.set_ylabel(f"{label} (mean ± std over seeds)")
    ax.set_title(_wrap(title, 88), fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


# ---- score-space: coverage per proxy -----------------------------------------------------
def coverage_figure(
    proxies: list[str], stored: dict[str, Any], nan: dict[str, Any], total: Any
) -> Any:
    """Stored scores per proxy, finite and NaN, against the pool: what a ``score-space``
    JSON holds."""
    plt = _pyplot()
    counts = np.array([float(stored.get(p) or 0) for p in proxies])
    nans = np.array([float(nan.get(p) or 0) for p in proxies])
    fig, ax = plt.subplots(figsize=(6.8, 1.6 + 0.32 * len(proxies)))
    yy = np.arange(len(proxies))
    ax.barh(yy, counts - nans, label="finite score")
    ax.barh(yy, nans, left=counts - nans, label="NaN (with a reason in the store)")
    if isinstance(total, (int, float)) and total:
        ax.axvline(total, color="k", linestyle="--", linewidth=0.8, label="pool")
    ax.set_yticks(yy, proxies, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("architectures")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # a count
    _legend_below(fig, ax)
    return fig
