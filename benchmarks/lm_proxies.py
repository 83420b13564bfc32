"""Hidden covariance on NAS-Bench-NLP and W-PCA on NAS-Bench-BERT (issue: RNN/transformer proxies).

Token batches are seeded synthetic Zipfian ids (``tokens:`` data spec): no PTB, WikiText-2
or GLUE text is available here. Correlations are per benchmark row (341 NLP rows, 271 with
a PTB loss; 500 BERT records) so they compare with the references computed from the
benchmarks' stored scores on the same rows; every unique architecture is scored once.

* NAS-Bench-NLP: ``hidden_covariance`` on ``tokens:33278:70``, 50 sequences (the reference's
  evaluation batch: 50 x bptt 70).
* NAS-Bench-BERT: ``wpca`` on ``tokens:30522:128``, 32 sequences, models built with the
  architecture's own sizes (``convention="arch"``).

``--ablation`` adds the variant tables: for NLP the layer (1-3), the hidden states read
(``h_0 = 0 .. h_{T-1}``, the reference) or output (``h_1 .. h_T``), the correlation over
units (the reference) or over samples (nasrank's earlier definition, at batch 16 x 35);
for BERT the parameter count (all / without the head / without head and embeddings), the
FFN layers (each block's first linear layer / every stacked linear layer), eta, PCA over
the flattened batch or per sequence then averaged, on all architectures for both model
conventions and on ``--ablation-n`` architectures for BERT-vs-PyTorch initialisation,
eval-vs-train mode, uniform tokens and 128 sequences.

``--part timing`` times wpca (20 BERT archs) and hidden_covariance (10 NLP archs) alone,
2 torch threads, model build excluded -- run it on an idle machine.

Usage: python benchmarks/lm_proxies.py [--data-root DIR] [--part nlp|bert|both|timing]
       [--ablation] [--ablation-n 100] [--json OUT]
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
from torch import nn

from nasrank.benchmarks.nbbert import read_nbbert_rows
from nasrank.benchmarks.nbnlp import read_nbnlp_rows
from nasrank.data import load_batch
from nasrank.metrics import kendall
from nasrank.proxies import score
from nasrank.proxies.hidden_covariance import _score as hidden_covariance_of
from nasrank.proxies.hidden_covariance import _states_read
from nasrank.proxies.wpca import _count, _linear_output_eigenvalues
from nasrank.spaces import get_space
from nasrank.store import build_model

DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "shared" / "data"
NLP_DATA, NLP_BATCH = "tokens:33278:70", 50
BERT_DATA, BERT_BATCH = "tokens:30522:128", 32
ETAS = (0.9, 0.95, 0.99, 0.999)


def _score_archs(
    space_name: str, archs: list[str], data: str, batch_size: int, proxies: list[str], seed: int
) -> dict[str, dict]:
    space = get_space(space_name)
    batch = load_batch(data, batch_size=batch_size, seed=seed)
    out: dict[str, dict] = {}
    for i, arch in enumerate(archs):
        model = build_model(space, arch, seed=seed)  # initialised as `nasrank correlate` does
        result = score(model, batch, proxies, seed=seed)
        seconds = result.seconds.get(proxies[0], float("nan"))
        out[arch] = {**result, "_seconds": seconds, "_reasons": result.reasons}
        if (i + 1) % 25 == 0:
            print(f"  {space_name}: {i + 1}/{len(archs)}", flush=True)
    return out


# ---- NAS-Bench-NLP ---------------------------------------------------------------------
def _samples_orientation(h: torch.Tensor) -> float:
    # nasrank's earlier definition: correlation between samples (batch x time), not units.
    rows = h.reshape(-1, h.shape[-1]).double().numpy()
    with np.errstate(all="ignore"):
        corr = np.corrcoef(rows)
    if not np.isfinite(corr).all():
        return float("nan")
    lam = np.linalg.eigvalsh(corr)
    return float(-np.sum(np.log(lam + 1e-5) + 1.0 / (lam + 1e-5)))


def _safe(f, *args) -> float:  # noqa: ANN001
    try:
        return f(*args)
    except Exception:  # noqa: BLE001 - a variant that fails is NaN
        return float("nan")


def _nlp_variants(archs: list[str], batch_size: int, seq: int, seed: int) -> pd.DataFrame:
    space = get_space("nbnlp")
    x = load_batch(f"tokens:33278:{seq}", batch_size=batch_size, seed=seed).inputs
    out = {}
    for i, arch in enumerate(archs):
        model = build_model(space, arch, seed=seed).eval()
        caught: dict[int, torch.Tensor] = {}
        hooks = [
            rnn.register_forward_hook(lambda m, a, o, j=j, c=caught: c.setdefault(j, o))
            for j, rnn in enumerate(model.rnns)
        ]
        with torch.no_grad():
            model(x)
        for h in hooks:
            h.remove()
        r = {}
        for j, o in caught.items():
            read = _states_read(model.rnns[j], o)
            r[f"layer {j + 1}, states read h_0..h_T-1, units"] = _safe(hidden_covariance_of, read)
            r[f"layer {j + 1}, outputs h_1..h_T, units"] = _safe(hidden_covariance_of, o)
            if j == 0 and batch_size * seq <= 1000:
                r["layer 1, outputs h_1..h_T, samples (earlier nasrank)"] = _samples_orientation(o)
        out[arch] = r
        if (i + 1) % 50 == 0:
            print(f"  nlp ablation {batch_size}x{seq}: {i + 1}/{len(archs)}", flush=True)
    return pd.DataFrame(out).T


def nlp(root: Path, seed: int, ablation: bool) -> dict:
    rows = read_nbnlp_rows(root / "nas-bench-nlp")
    ser = pd.read_csv(root / "nas-bench-nlp" / "serianni_RNN_results.csv", encoding="utf-8-sig")
    ser["recepie_id"] = ser["log name"].str.split("_").str[3].astype(int)
    ser = ser.drop_duplicates("recepie_id").set_index("recepie_id")
    archs = sorted(set(rows["arch"]))
    scores = _score_archs(
        "nbnlp", archs, NLP_DATA, NLP_BATCH, ["hidden_covariance", "params"], seed
    )
    rows["hidden_covariance"] = [scores[a]["hidden_covariance"] for a in rows["arch"]]
    rows["layer1_ref"] = [
        ser["Layer 1 Hidden Covariance"].get(r, np.nan) for r in rows["recepie_id"]
    ]
    ptb = rows[rows["ptb_final_test_loss"].notna()]
    report = {
        "data": f"{NLP_DATA} batch {NLP_BATCH} (synthetic Zipfian tokens, not PTB/WikiText "
        f"text), seed {seed}",
        "unique_archs": len(scores),
        "median_seconds": statistics.median(s["_seconds"] for s in scores.values()),
        "nan": int(sum(np.isnan(s["hidden_covariance"]) for s in scores.values())),
        "ptb_rows": len(ptb),
        "ptb_kendall_hidden_covariance": kendall(
            ptb["hidden_covariance"], -ptb["ptb_final_test_loss"]
        ),
        "ptb_kendall_reference_layer1": kendall(ptb["layer1_ref"], -ptb["ptb_final_test_loss"]),
        "ptb_reference_rows_available": int(ptb["layer1_ref"].notna().sum()),
        "ptb_kendall_ours_vs_reference_layer1": kendall(
            ptb["hidden_covariance"], ptb["layer1_ref"]
        ),
        "ok_rows": len(rows),
        "wt2_kendall_hidden_covariance": kendall(
            rows["hidden_covariance"], -rows["final_test_loss"]
        ),
        "wt2_kendall_reference_layer1": kendall(rows["layer1_ref"], -rows["final_test_loss"]),
        "wt2_kendall_params": kendall(rows["num_params"], -rows["final_test_loss"]),
    }
    if ablation:
        table = {}
        for b, t in ((NLP_BATCH, 70), (16, 35)):
            frame = _nlp_variants(archs, b, t, seed)
            for col in frame.columns:
                a_ptb, a_all = ptb["arch"].map(frame[col]), rows["arch"].map(frame[col])
                table[f"{b}x{t}: {col}"] = {
                    "ptb": kendall(a_ptb, -ptb["ptb_final_test_loss"]),
                    "wt2": kendall(a_all, -rows["final_test_loss"]),
                    "vs_reference_layer1_ptb_rows": kendall(a_ptb, ptb["layer1_ref"]),
                    "nan_archs": int(frame[col].isna().sum()),
                }
        report["ablation"] = table
    return report


# ---- NAS-Bench-BERT --------------------------------------------------------------------
def _bert_record(model: nn.Module, x: torch.Tensor) -> dict:
    """Parameter counts and, for every linear layer of every FFN block, the PCA
    dimensions (flattened batch; per sequence, averaged) at each eta."""
    modules = dict(model.named_modules())
    names = [
        n
        for n, m in modules.items()
        if n.startswith("encoder.layers.") and ".ffn." in n and n.endswith("fc1")
    ]
    ffn: dict[str, dict] = {}

    def hook(m: nn.Module, args: tuple, out: torch.Tensor, name: str) -> None:
        flat = _linear_output_eigenvalues(m, args[0])
        seqs = out.float() - out.float().mean(1, keepdim=True)
        ev = torch.linalg.eigvalsh((seqs @ seqs.transpose(1, 2)).double()).flip(-1)
        per_seq = [np.mean([_count(e.clamp_min(0), eta) for e in ev]) for eta in ETAS]
        ffn[name] = {"flat": [_count(flat, eta) for eta in ETAS], "seq": per_seq}

    hooks = [modules[n].register_forward_hook(lambda m, a, o, n=n: hook(m, a, o, n)) for n in names]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    named = dict(model.named_parameters())
    total = sum(p.numel() for p in named.values())
    head = sum(p.numel() for n, p in named.items() if n.startswith("head."))
    emb = sum(p.numel() for n, p in named.items() if n.startswith("embeddings."))
    params = {"all": total, "no head": total - head, "no head, no embeddings": total - head - emb}
    return {"params": params, "ffn": ffn}


def _bert_setting(archs: list[str], setting: str, seed: int) -> dict[str, dict]:
    space = get_space("nbbert")
    batch = 128 if setting == "128 sequences" else BERT_BATCH
    if setting == "uniform tokens":
        x = space.example_input(batch, seed, seq_len=128)
    else:
        x = load_batch(BERT_DATA, batch_size=batch, seed=seed).inputs
    out = {}
    for i, arch in enumerate(archs):
        convention = "serianni" if setting == "serianni" else "arch"
        model = build_model(space, arch, seed=seed, convention=convention)
        if setting == "pytorch init":
            for m in model.modules():
                if m is not model and hasattr(m, "reset_parameters"):
                    m.reset_parameters()
        model.train(setting == "train mode")
        out[arch] = _bert_record(model, x)
        if (i + 1) % 50 == 0:
            print(f"  bert ablation {setting}: {i + 1}/{len(archs)}", flush=True)
    return out


def _bert_variants(records: dict[str, dict]) -> pd.DataFrame:
    table: dict[str, dict[str, float]] = {}
    for arch, rec in records.items():
        r: dict[str, float] = {}
        for p, n in rec["params"].items():
            r[f"params ({p})"] = n
        for kind in ("flat", "seq"):
            for e, eta in enumerate(ETAS):
                for layers in ("first", "all"):
                    dims = sum(
                        f[kind][e]
                        for name, f in rec["ffn"].items()
                        if layers == "all" or name.endswith("ffn.0.fc1")
                    )
                    key = f"{kind}, eta {eta}, {layers} linear(s) per FFN"
                    r[f"PCA only: {key}"] = dims
                    for p, n in rec["params"].items():
                        r[f"W-PCA: {key}, params ({p})"] = dims * n
        table[arch] = r
    return pd.DataFrame(table).T


def bert(root: Path, seed: int, ablation: bool, ablation_n: int) -> dict:
    rows = read_nbbert_rows(root / "nas-bench-bert")
    ref = pd.read_csv(root / "nas-bench-bert" / "BERT_results_activation.csv").set_index("ID")
    archs = sorted(set(rows["arch"]))
    scores = _score_archs("nbbert", archs, BERT_DATA, BERT_BATCH, ["wpca", "params"], seed)
    rows["wpca"] = [scores[a]["wpca"] for a in rows["arch"]]
    rows["params"] = [scores[a]["params"] for a in rows["arch"]]
    rows["stored_params"] = [ref["Number of Parameters"].get(i, np.nan) for i in rows["id"]]
    rows["head_confidence"] = [ref["Head Confidence"].get(i, np.nan) for i in rows["id"]]
    report = {
        "data": f"{BERT_DATA} batch {BERT_BATCH} (synthetic Zipfian tokens, not GLUE text), "
        f"seed {seed}",
        "rows": len(rows),
        "unique_archs": len(scores),
        "median_seconds_wpca": statistics.median(s["_seconds"] for s in scores.values()),
        "nan": int(sum(np.isnan(s["wpca"]) for s in scores.values())),
        "kendall_wpca": kendall(rows["wpca"], rows["glue"]),
        "kendall_params_built": kendall(rows["params"], rows["glue"]),
        "kendall_params_stored": kendall(rows["stored_params"], rows["glue"]),
        "kendall_head_confidence_stored": kendall(rows["head_confidence"], rows["glue"]),
    }
    if ablation:
        subset = [archs[i] for i in np.random.default_rng(0).permutation(len(archs))[:ablation_n]]
        table: dict[str, dict[str, float]] = {}
        settings = [
            ("arch sizes (default)", archs),
            ("serianni", archs),
            ("pytorch init", subset),
            ("train mode", subset),
            ("uniform tokens", subset),
            ("128 sequences", subset),
        ]

        def taus(frame: pd.DataFrame) -> dict[str, float]:
            sub = rows[rows["arch"].isin(frame.index)]
            return {c: kendall(sub["arch"].map(frame[c]), sub["glue"]) for c in frame.columns}

        for setting, pool in settings:
            frame = _bert_variants(_bert_setting(pool, setting, seed))
            table[f"{setting}, {len(pool)} archs"] = taus(frame)
            if setting == "arch sizes (default)":  # on the subset the others use
                table[f"{setting}, {len(subset)}-arch subset"] = taus(frame.loc[subset])
        report["ablation"] = table
    return report


def timing(root: Path, seed: int, n_bert: int = 20, n_nlp: int = 10, threads: int = 2) -> dict:
    """Median seconds per architecture of wpca and hidden_covariance alone (model build
    excluded, timed apart), ``threads`` torch threads, on the benchmarks' first archs."""
    torch.set_num_threads(threads)
    out = {"threads": threads}
    parts = [
        ("nbbert", read_nbbert_rows(root / "nas-bench-bert"), BERT_DATA, BERT_BATCH,
         "wpca", n_bert),
        ("nbnlp", read_nbnlp_rows(root / "nas-bench-nlp"), NLP_DATA, NLP_BATCH,
         "hidden_covariance", n_nlp),
    ]  # fmt: skip
    for space_name, rows, data, batch_size, proxy, n in parts:
        space = get_space(space_name)
        batch = load_batch(data, batch_size=batch_size, seed=seed)
        build, run = [], []
        for arch in sorted(set(rows["arch"]))[:n]:
            t0 = time.perf_counter()
            model = build_model(space, arch, seed=seed)
            t1 = time.perf_counter()
            score(model, batch, proxies=[proxy])
            build.append(t1 - t0)
            run.append(time.perf_counter() - t1)
        out[proxy] = {
            "space": space_name,
            "archs": n,
            "batch": f"{data} x {batch_size}",
            "median_seconds": statistics.median(run),
            "median_build_seconds": statistics.median(build),
        }
    return out


def _plain(obj: object) -> object:
    return obj.item() if hasattr(obj, "item") else str(obj)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--part", choices=["nlp", "bert", "both", "timing"], default="both")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ablation", action="store_true", help="add the variant tables")
    parser.add_argument("--ablation-n", type=int, default=100, help="subset for BERT settings")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    report = {}
    if args.part in ("nlp", "both"):
        report["nbnlp"] = nlp(args.data_root, args.seed, args.ablation)
        print(json.dumps(report["nbnlp"], indent=1, default=_plain))
    if args.part in ("bert", "both"):
        report["nbbert"] = bert(args.data_root, args.seed, args.ablation, args.ablation_n)
        print(json.dumps(report["nbbert"], indent=1, default=_plain))
    if args.part == "timing":
        report["timing"] = timing(args.data_root, args.seed)
        print(json.dumps(report["timing"], indent=1, default=_plain))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=_plain))


if __name__ == "__main__":
    main()
