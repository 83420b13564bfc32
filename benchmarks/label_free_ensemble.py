"""Choose the default label-free ensemble on one benchmark, report it on others.

Protocol (fixed before the selection set was scored, issue 21):

* **Candidates.** Every :class:`nasrank.proxies.RankEnsemble` of 2 to 5 members drawn from
  the label-free proxies scored on the selection set (``--candidates``; default the 12
  label-free proxies that run on every CNN space at a few forward/backward passes each:
  meco, jacov, synflow, nwot, swap, zen, l2_norm, params, flops, az_expressivity,
  az_progressivity, az_trainability -- not VKDNW, whose Fisher pass alone costs 2.5 times
  the AZ-NAS set on NB-201 (1.74 vs 0.70 s per architecture, 2 threads) and half of all
  twelve's time on NB-101; it stays available as ``VKDNW_AGG``), each with aggregation
  ``mean`` (Borda) and ``log_rank`` (AZ-NAS's
  product of ranks; ``geometric`` orders candidates as it does), ``missing="worst"`` (a
  proxy that is NaN because the output ignores the input or the weights ranks that network
  last, as AZ-NAS's and VKDNW's reference code do).
* **Selection sets.** Per-architecture CSVs of ``nasrank correlate ... --csv FILE``
  (``--selection FILE[@SPACE]``, repeatable), each a space other than the report sets'.
  Version 1 (the default shipped first): NAS-Bench-Suite-Zero's NB-101 CIFAR-10 sample,
  ``nasrank correlate --space nb101 --benchmark suite-zero:zc_nasbench101.json
  --data cifar10:... --n 200 --seed 0 --csv FILE`` (64 real CIFAR-10 images, seed 0).
  Version 2 (written down before its TransNAS-Bench-101 scores were computed, after
  version 1's NB-201 report): the same NB-101 set plus 200 architectures of each
  TransNAS-Bench-101 space, micro and macro, scored the same way (the same 64 CIFAR-10
  images: Taskonomy's are not here) against each of the four tasks' ``val_accuracy``
  (class_scene, class_object, jigsaw, segmentsemantic) -- 9 sets in 3 spaces. No NB-201
  figure is looked at for the choice.
* **Criterion.** Kendall tau with the set's metric, averaged over the sets of a space and
  then over the spaces (with one set: its tau); the one-standard-error rule: the
  bootstrap standard error (1,000 resamples of every set's architectures) of the best
  candidate's criterion sets a band below it, and of the candidates inside the band the
  one with the fewest members wins (then the higher criterion).
* **Report sets.** All 15,625 NB-201 architectures (``--table``, the shipped proxy table
  by default, vs ``nb201-analog`` CIFAR-10 accuracy) and the 725 NB-201 architectures of
  Suite-Zero's sample (the same table's scores vs each of CIFAR-10, CIFAR-100 and
  ImageNet16-120 ``val_accuracy``), for the chosen ensemble and for reference ones (the
  previous default, AZ-NAS, VKDNW_agg). A member missing from the table is reported as such.

Usage::

    python benchmarks/label_free_ensemble.py --selection runs/nb101_sel.csv \\
        --json benchmarks/results/label_free_ensemble.json
    python benchmarks/label_free_ensemble.py --selection nb101.csv@nb101 \\
        --selection tnb_micro_class_scene.csv@tnb101-micro ... (9 sets) --json ...
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SUITE_ZERO_NB201 = ROOT.parent / "shared/data/nas-bench-suite-zero/zc_nasbench201.json"
CANDIDATES = (
    "meco,jacov,synflow,nwot,swap,zen,l2_norm,params,flops,az_expressivity,"
    "az_progressivity,az_trainability"
)
AGGREGATIONS = ("mean", "log_rank")
BOOTSTRAP = 1000


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--selection",
        action="append",
        required=True,
        metavar="CSV[@SPACE]",
        help="correlate --csv of a selection set, and the space it belongs to (repeatable)",
    )
    p.add_argument("--candidates", default=CANDIDATES, help="comma list of member proxies")
    p.add_argument("--min-members", type=int, default=2)
    p.add_argument("--max-members", type=int, default=5)
    p.add_argument("--table", default="nb201-cifar10", help="proxy table of the report sets")
    p.add_argument("--suite-zero", type=Path, default=SUITE_ZERO_NB201)
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    p.add_argument("--top", type=int, default=20, help="candidates listed in the output")
    p.add_argument("--json", type=Path)
    return p.parse_args(argv)


def read_selection(path: Path, candidates: list[str]) -> tuple[list[dict[str, float]], np.ndarray]:
    """Score dicts and ground truth from ``nasrank correlate --csv`` (metric = column 2)."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    absent = [c for c in candidates if c not in header]
    if absent:
        sys.exit(f"{path} has no column for {', '.join(absent)}")
    pool = [{c: float(r[header.index(c)]) for c in candidates} for r in body]
    return pool, np.array([float(r[1]) for r in body])


def all_candidates(names: list[str], lo: int, hi: int) -> list[Any]:
    from nasrank.proxies import RankEnsemble

    return [
        RankEnsemble(members, name="+".join(members), aggregation=agg, missing="worst")
        for k in range(lo, hi + 1)
        for members in itertools.combinations(names, k)
        for agg in AGGREGATIONS
    ]


@dataclass
class SelectionSet:
    """One selection set: its space, per-architecture scores and ground truth."""

    space: str
    pool: list[dict[str, float]]
    truth: np.ndarray


def read_selections(specs: list[str], candidates: list[str]) -> list[SelectionSet]:
    """``CSV[@SPACE]`` specs (without a space, a file is a space of its own)."""
    out = []
    for spec in specs:
        path, _, space = spec.partition("@")
        pool, truth = read_selection(Path(path), candidates)
        out.append(SelectionSet(space or path, pool, truth))
    return out


def criterion(taus: Any, sets: list[SelectionSet]) -> float:
    """Mean over spaces of the mean tau over each space's sets (``taus[k]``: set ``k``'s)."""
    spaces: dict[str, list[float]] = {}
    for s, t in zip(sets, taus, strict=True):
        spaces.setdefault(s.space, []).append(t)
    return float(np.mean([np.mean(v) for v in spaces.values()]))


def bootstrap_se(values: list[np.ndarray], sets: list[SelectionSet], seed: int) -> float:
    """Standard error of the criterion of one candidate (``values``: its signal per set)."""
    from nasrank.metrics import kendall

    rng = np.random.default_rng(seed)
    draws = [rng.integers(0, len(s.truth), (BOOTSTRAP, len(s.truth))) for s in sets]
    crit = [
        criterion([kendall(v[d[b]], s.truth[d[b]]) for s, v, d in zip(sets, values, draws)], sets)
        for b in range(BOOTSTRAP)
    ]
    return float(np.std(crit, ddof=1))


def select(sets: list[SelectionSet], ensembles: list[Any], seed: int) -> dict:
    """Every candidate's criterion (and tau per set), and the one-standard-error choice."""
    from nasrank.metrics import kendall

    per_set = np.array([[kendall(e(s.pool), s.truth) for s in sets] for e in ensembles])
    taus = np.array([criterion(row, sets) for row in per_set])
    best = int(np.nanargmax(taus))
    se = bootstrap_se([np.asarray(ensembles[best](s.pool)) for s in sets], sets, seed)
    band = [i for i in range(len(ensembles)) if taus[i] >= taus[best] - se]
    chosen = min(band, key=lambda i: (len(ensembles[i].proxies), -taus[i]))
    order = np.argsort(-taus)
    return {"taus": taus, "per_set": per_set, "best": best, "se": se, "band": band,
            "chosen": chosen, "order": order}  # fmt: skip


def describe(e: Any) -> dict[str, Any]:
    return {"members": list(e.proxies), "aggregation": e.aggregation, "missing": e.missing}


def report(ensemble: Any, table: Any, suite_zero: Path) -> dict[str, Any]:
    """The ensemble's rank correlations over the table's archs (nb201-analog) and over the
    725 Suite-Zero archs (each task's val_accuracy)."""
    from nasrank.benchmarks import load_benchmark
    from nasrank.metrics import rank_summary

    lacking = [m for m in ensemble.proxies if m not in table.proxies]
    if lacking:
        return {"not_in_table": lacking}

    def signal(archs: list[str]) -> np.ndarray:
        values = table.scores(archs, list(ensemble.proxies))
        return ensemble([dict(zip(ensemble.proxies, row)) for row in values])

    archs = list(table.archs)
    analog = load_benchmark("nb201-analog")
    out = {"nb201-analog": rank_summary(signal(archs), [analog.query(a) for a in archs])}
    if suite_zero.exists():
        for task in ("cifar10", "cifar100", "ImageNet16-120"):
            bench = load_benchmark(f"suite-zero:{suite_zero}", task=task, space="nb201")
            sample = [a for a in bench.archs() if a in table]
            out[f"suite-zero:{task}"] = rank_summary(
                signal(sample), [bench.query(a) for a in sample]
            )
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from nasrank.metrics import kendall
    from nasrank.proxies import AZ_NAS, LABEL_FREE_ENSEMBLE, PROXIES, VKDNW_AGG, RankEnsemble
    from nasrank.tables import load_table

    names = [c.strip() for c in args.candidates.split(",") if c.strip()]
    labelled = [n for n in names if PROXIES.get(n).needs_labels]
    if labelled:
        sys.exit(f"not label-free: {', '.join(labelled)}")
    sets = read_selections(args.selection, names)
    ensembles = all_candidates(names, args.min_members, args.max_members)
    sel = select(sets, ensembles, args.seed)
    chosen, best = ensembles[sel["chosen"]], ensembles[sel["best"]]
    taus = sel["taus"]
    print(
        f"{len(sets)} selection set(s) ({', '.join(args.selection)}): "
        f"{len(ensembles)} candidates; "
        f"best {best.name} ({best.aggregation}) tau {taus[sel['best']]:.4f}, bootstrap SE "
        f"{sel['se']:.4f}; {len(sel['band'])} within one SE; chosen {chosen.name} "
        f"({chosen.aggregation}) tau {taus[sel['chosen']]:.4f}"
    )
    singles = [{n: float(kendall([p[n] for p in s.pool], s.truth)) for n in names} for s in sets]
    table = load_table(args.table)
    # the default this protocol replaced (chosen on NB-201 itself; NaN members skipped)
    previous = RankEnsemble(("meco", "jacov", "synflow"), name="label_free_ensemble")
    refs = {"chosen": chosen, "default": LABEL_FREE_ENSEMBLE, "previous_default": previous,
            "az_nas": AZ_NAS, "vkdnw_agg": VKDNW_AGG}  # fmt: skip
    reports = {}
    for label, ens in refs.items():
        reports[label] = {**describe(ens), "selection_tau": _tau(ens, sets, names)}
        reports[label].update(report(ens, table, args.suite_zero))
        _print_report(label, reports[label])
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        top = [_row(ensembles[i], sel, i, sets) for i in sel["order"][: args.top]]
        args.json.write_text(
            json.dumps(
                {
                    "protocol": __doc__.split("Usage::")[0].strip(),
                    "selection": {
                        "sets": [
                            {
                                "csv": c,
                                "space": s.space,
                                "archs": len(s.truth),
                                "single_proxy_tau": one,
                            }  # fmt: skip
                            for c, s, one in zip(args.selection, sets, singles)
                        ],
                        "candidates": len(ensembles),
                        "members": names,
                        "best": _row(best, sel, sel["best"], sets),
                        "bootstrap_se": sel["se"],
                        "within_one_se": len(sel["band"]),
                        "chosen": _row(chosen, sel, sel["chosen"], sets),
                        "top": top,
                    },
                    "table": table.describe(),
                    "reports": reports,
                },
                indent=2,
                default=float,
            )
            + "\n"
        )
    return 0


def _tau(ens: Any, sets: list[SelectionSet], names: list[str]) -> float:
    """The selection criterion of any ensemble of the candidates' members."""
    from nasrank.metrics import kendall

    if any(m not in names for m in ens.proxies):
        return math.nan
    return criterion([kendall(ens(s.pool), s.truth) for s in sets], sets)


def _row(ens: Any, sel: dict, i: int, sets: list[SelectionSet]) -> dict[str, Any]:
    """An output row: the ensemble, its criterion ("tau") and its tau per set (in the
    order of ``--selection``)."""
    row = {**describe(ens), "tau": float(sel["taus"][i])}
    if len(sets) > 1:
        row["per_set"] = [float(t) for t in sel["per_set"][i]]
    return row


def _print_report(label: str, r: dict[str, Any]) -> None:
    members = "+".join(r["members"])
    head = f"{label}: {members} ({r['aggregation']}), selection tau {r['selection_tau']:.4f}"
    if "not_in_table" in r:
        print(f"{head}; not in the table: {', '.join(r['not_in_table'])}")
        return
    parts = [
        f"{k} rho {v['spearman']:.3f} tau {v['kendall']:.3f} (n {v['n']})"
        for k, v in r.items()
        if isinstance(v, dict)
    ]
    print(f"{head}\n  " + "\n  ".join(parts))


if __name__ == "__main__":
    sys.exit(main())
