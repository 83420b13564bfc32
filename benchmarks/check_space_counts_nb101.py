"""Check NAS-Bench-101 parameter counts / FLOPs against NAS-Bench-Suite-Zero through the
paths users take, and time them.

For every architecture of ``zc_nasbench101.json`` (keys are NASLib 56-tuples; stored
``params`` in millions, 10 classes, and ``flops`` in MFLOPs, 32x32 input):

* ``nasrank build --space nb101 --arch KEY --json`` (in process, ``nasrank.cli.main``):
  params and MFLOPs against the stored ones;
* ``nasrank score --space nb101 --arch KEY --proxies params --store S`` for every key into
  one score store: the ``params`` score, and how many keys were read back from the row of
  another spelling of the same network;
* the scoring service (``nasrank.store.score_archs``) over the keys' network ids
  (``space.network_id``) through a second store;
* the pool a search or ``score-space --pool benchmark:...`` uses: canonical ids (one per
  isomorphism class), which build nasbench's trained representative. Suite-Zero scored the
  network of each key as given, so the keys whose vertex order splits channels unlike the
  representative (``network_id(key) != canonical(key)``) are reported apart.

Also reports the distinct canonical and network ids and, with ``--enumerate``, checks that
the space enumerates the benchmark's 423,624 cells.

Usage: OMP_NUM_THREADS=1 python benchmarks/check_space_counts_nb101.py [--suite-zero PATH]
       [--json OUT] [--enumerate]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch

from nasrank.cli import main as nasrank
from nasrank.complexity import count_params
from nasrank.spaces import get_space
from nasrank.store import ScoreStore, score_archs

DEFAULT = (
    Path(__file__).resolve().parents[2] / "shared/data/nas-bench-suite-zero/zc_nasbench101.json"
)
TOL_M = 1e-6  # the stored params are rounded to whole parameters (6 decimals in millions)


def _number(value: float | dict) -> float:
    return value["score"] if isinstance(value, dict) else value


def _cli(argv: list[str], out: Path) -> dict:
    """``nasrank ARGV --json OUT`` in process (its table discarded); the JSON written."""
    with contextlib.redirect_stdout(io.StringIO()):
        code = nasrank([*argv, "--json", str(out)])
    if code != 0:
        raise SystemExit(f"nasrank {' '.join(argv)} exited {code}")
    return json.loads(out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--suite-zero", type=Path, default=DEFAULT)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--enumerate", action="store_true", help="also enumerate the space")
    args = parser.parse_args()
    torch.set_num_threads(1)
    records = json.loads(args.suite_zero.read_text())["nasbench101"]["cifar10"]
    stored = {k: _number(r["params"]) for k, r in records.items()}
    space = get_space("nb101")
    work = Path(tempfile.mkdtemp(prefix="nb101-counts-"))
    out = work / "out.json"

    # ---- nasrank build --arch KEY ---------------------------------------------------------
    build_ok = flops_ok = 0
    worst_params = worst_flops = 0.0
    flops_diff: dict[int, int] = {}
    build_s: list[float] = []
    network_of: dict[str, str] = {}
    for key, rec in records.items():
        t = time.perf_counter()
        result = _cli(["build", "--space", "nb101", "--arch", key], out)
        build_s.append(time.perf_counter() - t)
        network_of[key] = result["arch"]
        dp = abs(result["params_m"] - stored[key])
        stored_f = _number(rec["flops"])
        df = abs(result["mflops"] - stored_f) / stored_f
        diff = round((result["mflops"] - stored_f) * 1e6)
        flops_diff[diff] = flops_diff.get(diff, 0) + 1
        build_ok += dp <= TOL_M
        flops_ok += df <= 0.01
        worst_params, worst_flops = max(worst_params, dp), max(worst_flops, df)

    # ---- nasrank score --arch KEY --proxies params, one store --------------------------------
    store_path = work / "score.sqlite"
    score_ok = from_store = 0
    score_s: list[float] = []
    for key in records:
        t = time.perf_counter()
        result = _cli(
            [
                "score",
                "--space",
                "nb101",
                "--arch",
                key,
                "--proxies",
                "params",
                "--store",
                str(store_path),
                "--threads",
                "1",
            ],
            out,
        )
        score_s.append(time.perf_counter() - t)
        score_ok += abs(result["scores"]["params"] - stored[key]) <= TOL_M
        from_store += result["from_store"] == ["params"]

    # ---- the scoring service over the keys' network ids ----------------------------------------
    t = time.perf_counter()
    with ScoreStore(work / "service.sqlite") as store:
        networks = [space.network_id(k) for k in records]
        scored = score_archs(space, networks, ["params"], None, store=store)
    service_s = time.perf_counter() - t
    service_ok = sum(
        abs(scored[n].scores["params"] - stored[k]) <= TOL_M for k, n in zip(records, networks)
    )

    # ---- canonical-id pools: nasbench's trained representative ---------------------------------
    canonical_s: list[float] = []
    canonical_of: dict[str, str] = {}
    for key in records:
        t = time.perf_counter()
        canonical_of[key] = space.canonical(key)
        canonical_s.append(time.perf_counter() - t)
    rep_params = {c: count_params(space.build(c)) / 1e6 for c in set(canonical_of.values())}
    variants = [k for k in records if network_of[k] != canonical_of[k]]
    rep_ok = sum(abs(rep_params[canonical_of[k]] - stored[k]) <= TOL_M for k in records)
    rep_ok_variants = sum(abs(rep_params[canonical_of[k]] - stored[k]) <= TOL_M for k in variants)

    report: dict = {
        "archs": len(records),
        "distinct_canonical_ids": len(set(canonical_of.values())),
        "distinct_network_ids": len(set(network_of.values())),
        "keys_not_in_the_representative_order": len(variants),
        "cli_build_params_equal_1e-6": build_ok,
        "cli_build_flops_within_1pct": flops_ok,
        "max_params_abs_diff_m": worst_params,
        "max_flops_rel_diff": worst_flops,
        "flops_minus_stored_histogram": {str(k): v for k, v in sorted(flops_diff.items())},
        "cli_score_store_params_equal_1e-6": score_ok,
        "cli_score_read_from_store": from_store,
        "service_network_ids_params_equal_1e-6": service_ok,
        "service_distinct_networks_scored": len(scored.by_arch),
        "canonical_pool_params_equal_1e-6": rep_ok,
        "canonical_pool_params_equal_among_those_keys": rep_ok_variants,
        "median_cli_build_seconds": statistics.median(build_s),
        "max_cli_build_seconds": max(build_s),
        "median_cli_score_seconds": statistics.median(score_s),
        "service_seconds": service_s,
        "median_canonical_seconds": statistics.median(canonical_s),
    }
    if args.enumerate:
        t = time.perf_counter()
        all_ids = list(space.enumerate())
        ids = set(canonical_of.values())
        report["enumerate"] = {
            "count": len(all_ids),
            "distinct": len(set(all_ids)),
            "expected": space.size,
            "suite_zero_ids_inside": len(ids & set(all_ids)),
            "seconds": time.perf_counter() - t,
        }
    for k, v in report.items():
        print(f"{k}: {v}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
