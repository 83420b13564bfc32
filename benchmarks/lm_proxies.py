"""Hidden covariance on NAS-Bench-NLP and W-PCA on NAS-Bench-BERT (issue: RNN/transformer proxies).

Token batches are seeded synthetic Zipfian ids (``tokens:`` data spec): no PTB, WikiText-2
or GLUE text is available here. Correlations are per benchmark row (341 NLP rows, 271 with
a PTB loss; 500 BERT records) so they compare with the references computed from the
benchmarks' stored scores on the same rows; every unique architecture is scored once.

Usage: python benchmarks/lm_proxies.py [--data-root DIR] [--json OUT] [--part nlp|bert|both]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from nasrank.benchmarks.nbbert import read_nbbert_rows
from nasrank.benchmarks.nbnlp import read_nbnlp_rows
from nasrank.data import load_batch
from nasrank.metrics import kendall
from nasrank.proxies import score
from nasrank.spaces import get_space

DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "shared" / "data"


def _score_archs(
    space_name: str, archs: list[str], data: str, batch_size: int, proxies: list[str], seed: int
) -> dict[str, dict]:
    space = get_space(space_name)
    batch = load_batch(data, batch_size=batch_size, seed=seed)
    out: dict[str, dict] = {}
    for i, arch in enumerate(archs):
        torch.manual_seed(seed)
        model = space.build(arch)
        t = time.perf_counter()
        result = score(model, batch, proxies, seed=seed)
        out[arch] = {**result, "_seconds": time.perf_counter() - t, "_reasons": result.reasons}
        if (i + 1) % 25 == 0:
            print(f"  {space_name}: {i + 1}/{len(archs)}", flush=True)
    return out


def nlp(root: Path, seed: int) -> dict:
    rows = read_nbnlp_rows(root / "nas-bench-nlp")
    ser = pd.read_csv(root / "nas-bench-nlp" / "serianni_RNN_results.csv", encoding="utf-8-sig")
    ser["recepie_id"] = ser["log name"].str.split("_").str[3].astype(int)
    ser = ser.drop_duplicates("recepie_id").set_index("recepie_id")
    data = "tokens:33278:35"
    scores = _score_archs(
        "nbnlp", sorted(set(rows["arch"])), data, 16, ["hidden_covariance", "params"], seed
    )
    rows["hidden_covariance"] = [scores[a]["hidden_covariance"] for a in rows["arch"]]
    rows["layer1_ref"] = [
        ser["Layer 1 Hidden Covariance"].get(r, np.nan) for r in rows["recepie_id"]
    ]
    ptb = rows[rows["ptb_final_test_loss"].notna()]
    return {
        "data": f"{data} batch 16 (synthetic Zipfian tokens, not PTB/WikiText text), seed {seed}",
        "unique_archs": len(scores),
        "median_seconds": statistics.median(s["_seconds"] for s in scores.values()),
        "nan": int(sum(np.isnan(s["hidden_covariance"]) for s in scores.values())),
        "ptb_rows": len(ptb),
        "ptb_kendall_hidden_covariance": kendall(
            ptb["hidden_covariance"], -ptb["ptb_final_test_loss"]
        ),
        "ptb_kendall_reference_layer1": kendall(ptb["layer1_ref"], -ptb["ptb_final_test_loss"]),
        "ptb_reference_rows_available": int(ptb["layer1_ref"].notna().sum()),
        "ok_rows": len(rows),
        "wt2_kendall_hidden_covariance": kendall(
            rows["hidden_covariance"], -rows["final_test_loss"]
        ),
        "wt2_kendall_params": kendall(rows["num_params"], -rows["final_test_loss"]),
    }


def bert(root: Path, seed: int) -> dict:
    rows = read_nbbert_rows(root / "nas-bench-bert")
    ref = pd.read_csv(root / "nas-bench-bert" / "BERT_results_activation.csv").set_index("ID")
    data = "tokens:30522:128"
    scores = _score_archs("nbbert", sorted(set(rows["arch"])), data, 32, ["wpca", "params"], seed)
    rows["wpca"] = [scores[a]["wpca"] for a in rows["arch"]]
    rows["params"] = [scores[a]["params"] for a in rows["arch"]]
    rows["stored_params"] = [ref["Number of Parameters"].get(i, np.nan) for i in rows["id"]]
    rows["head_confidence"] = [ref["Head Confidence"].get(i, np.nan) for i in rows["id"]]
    return {
        "data": f"{data} batch 32 (synthetic Zipfian tokens, not GLUE text), seed {seed}",
        "rows": len(rows),
        "unique_archs": len(scores),
        "median_seconds_wpca": statistics.median(s["_seconds"] for s in scores.values()),
        "nan": int(sum(np.isnan(s["wpca"]) for s in scores.values())),
        "kendall_wpca": kendall(rows["wpca"], rows["glue"]),
        "kendall_params_built": kendall(rows["params"], rows["glue"]),
        "kendall_params_stored": kendall(rows["stored_params"], rows["glue"]),
        "kendall_head_confidence_stored": kendall(rows["head_confidence"], rows["glue"]),
    }


def _plain(obj: object) -> object:
    return obj.item() if hasattr(obj, "item") else str(obj)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--part", choices=["nlp", "bert", "both"], default="both")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    report = {}
    if args.part in ("nlp", "both"):
        report["nbnlp"] = nlp(args.data_root, args.seed)
        print(json.dumps(report["nbnlp"], indent=1, default=_plain))
    if args.part in ("bert", "both"):
        report["nbbert"] = bert(args.data_root, args.seed)
        print(json.dumps(report["nbbert"], indent=1, default=_plain))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=_plain))


if __name__ == "__main__":
    main()
