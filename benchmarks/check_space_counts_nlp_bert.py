"""Check the NAS-Bench-NLP and NAS-Bench-BERT model builders against the benchmarks'
stored parameter counts, and time the benchmark loaders.

* NAS-Bench-NLP: every row of ``derived_nbnlp_wt2_recipes_losses.csv`` (341 OK + 4 failed):
  parameters of ``NBNLPSpace().build(recipe)`` (tied 3-layer LM, vocabulary 33,278) and of
  the closed form :func:`nasrank.spaces.nbnlp.count_params` versus ``num_params``.
* NAS-Bench-BERT: all 500 records of ``BERT_benchmark.json``: parameters outside the
  classification head of ``NBBERTSpace().build(arch, convention=...)`` versus "Number of
  Parameters" of ``BERT_results_activation.csv``, for both conventions ("serianni":
  hidden 256 / FFN 1024 for every network, as Serianni & Kalita built them; "arch": the
  architecture's own sizes), with the residual pattern of the latter and Kendall's tau of
  each count with the GLUE score.

Usage: python benchmarks/check_space_counts_nlp_bert.py [--data DIR] [--json OUT]
       [--nlp-closed-form-only]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import pandas as pd
from scipy.stats import kendalltau

from nasrank.benchmarks import load_benchmark
from nasrank.spaces import get_space
from nasrank.spaces.nbnlp import count_params

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data"


def check_nlp(folder: Path, build: bool) -> dict:
    frame = pd.read_csv(folder / "derived_nbnlp_wt2_recipes_losses.csv")
    space = get_space("nbnlp")
    report: dict = {"rows": len(frame), "ok_rows": int((frame["status"] == "OK").sum())}
    closed = [count_params(r) for r in frame["recipe"]]
    ok = frame["status"] == "OK"
    report["closed_form_equal_ok"] = int(
        sum(c == n for c, n, o in zip(closed, frame["num_params"], ok) if o)
    )
    report["closed_form_equal_all"] = int(sum(c == n for c, n in zip(closed, frame["num_params"])))
    if build:
        equal_ok = equal_all = 0
        build_s = []
        for recipe, stored, is_ok in zip(frame["recipe"], frame["num_params"], ok):
            t = time.perf_counter()
            model = space.build(recipe)
            build_s.append(time.perf_counter() - t)
            n = sum(p.numel() for p in model.parameters())
            equal_all += n == stored
            equal_ok += bool(n == stored and is_ok)
        report["built_model_equal_ok"] = equal_ok
        report["built_model_equal_all"] = equal_all
        report["median_build_seconds"] = statistics.median(build_s)
    ids = [space.canonical(r) for r in frame["recipe"]]
    report["unique_recipe_strings"] = int(frame["recipe"].nunique())
    report["unique_canonical_ids"] = len(set(ids))
    report["unique_canonical_ids_ok"] = len({a for a, o in zip(ids, ok) if o})
    ptb = ok & frame["ptb_final_test_loss"].notna()
    report["ptb_rows"] = int(ptb.sum())
    report["ptb_unique_archs"] = len({a for a, p in zip(ids, ptb) if p})
    t = time.perf_counter()
    samples = [space.sample(s) for s in range(200)]
    report["sample_ms"] = 1000 * (time.perf_counter() - t) / 200
    report["sample_unique_of_200"] = len(set(samples))
    return report


def _backbone(model) -> int:
    return sum(p.numel() for n, p in model.named_parameters() if not n.startswith("head."))


def _group(space, arch: str) -> str:
    parsed = space.parse(arch)
    ffn = all(layer.feed_forward_dimension == 1024 for layer in parsed.layers)
    return f"hidden {parsed.hidden_size}, " + ("all FFN 1024" if ffn else "some FFN 512")


def check_bert(folder: Path) -> dict:
    records = json.loads((folder / "BERT_benchmark.json").read_text())
    stored = pd.read_csv(folder / "BERT_results_activation.csv").set_index("ID")
    space = get_space("nbbert")
    report: dict = {"records": len(records)}
    counts: dict[str, list[int]] = {"serianni": [], "arch": []}
    build_s, glue, target, groups = [], [], [], []
    for record in records:
        arch = space.canonical(record)
        target.append(int(stored.loc[record["id"], "Number of Parameters"]))
        glue.append(record["scores"]["glue"])
        groups.append(_group(space, arch))
        for convention, values in counts.items():
            t = time.perf_counter()
            model = space.build(arch, convention=convention)
            build_s.append(time.perf_counter() - t)
            values.append(_backbone(model))
    for convention, values in counts.items():
        report[f"{convention}_equal"] = sum(a == b for a, b in zip(values, target))
        report[f"kendall_tau_glue_{convention}_params"] = float(kendalltau(values, glue)[0])
    report["kendall_tau_glue_stored_params"] = float(kendalltau(target, glue)[0])
    residuals: dict[str, dict] = {}
    for group in sorted(set(groups)):
        rows = [i for i, g in enumerate(groups) if g == group]
        diff = [target[i] - counts["arch"][i] for i in rows]
        residuals[group] = {
            "archs": len(rows),
            "equal": sum(d == 0 for d in diff),
            "stored_minus_built_min": min(diff),
            "stored_minus_built_max": max(diff),
            "stored_over_built_mean": statistics.mean(target[i] / counts["arch"][i] for i in rows),
        }
    report["arch_convention_residuals"] = residuals
    report["median_build_seconds"] = statistics.median(build_s)
    report["unique_archs"] = len({space.canonical(r) for r in records})
    return report


def time_loaders(data: Path) -> dict:
    out = {}
    for spec in (f"nbnlp:{data / 'nas-bench-nlp'}", f"nbbert:{data / 'nas-bench-bert'}"):
        t = time.perf_counter()
        bench = load_benchmark(spec)
        out[spec.split(":")[0]] = {"seconds": time.perf_counter() - t, "archs": len(bench)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT, help="the shared data folder")
    parser.add_argument("--json", type=Path, help="write the report here")
    parser.add_argument("--nlp-closed-form-only", action="store_true", help="skip building 345 LMs")
    args = parser.parse_args()
    report = {"loaders": time_loaders(args.data)}  # first: cold import + parse timings
    print("loaders", report["loaders"])
    report["nbnlp"] = check_nlp(args.data / "nas-bench-nlp", build=not args.nlp_closed_form_only)
    print("nbnlp", json.dumps(report["nbnlp"], indent=1))
    report["nbbert"] = check_bert(args.data / "nas-bench-bert")
    print("nbbert", json.dumps(report["nbbert"], indent=1))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
