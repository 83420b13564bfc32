from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from nasrank.cli import main

ARCHS = ["(2, 2, 2, 2, 2, 2)", "(3, 3, 3, 3, 3, 3)", "(0, 0, 0, 0, 0, 0)", "(1, 1, 1, 1, 1, 1)", "(2, 3, 0, 4, 2, 0)"]


@pytest.fixture
def table(tmp_path):
    """A tiny ground-truth table whose accuracy is monotone in parameter count."""
    from nasrank.complexity import count_params
    from nasrank.spaces import get_space

    space = get_space("nb201")
    path = tmp_path / "t.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["arch", "accuracy", "test_loss"])
        for a in ARCHS:
            p = count_params(space.build(a)) / 1e6
            w.writerow([a, 50 + 10 * p, 2.0 - p])
    return path


def test_score_writes_scores_reasons_and_timings(tmp_path, capsys):
    out = tmp_path / "s.json"
    argv = ["score", "--space", "nb201", "--arch", ARCHS[0], "--data", "synthetic",
            "--batch-size", "8", "--proxies", "params,synflow,nwot", "--json", str(out)]
    assert main(argv) == 0
    assert "synflow" in capsys.readouterr().out
    result = json.loads(out.read_text())
    assert set(result["scores"]) == {"params", "synflow", "nwot"}
    assert result["scores"]["params"] == pytest.approx(1.531546)
    assert result["arch"].startswith("|nor_conv_3x3~0|")
    assert "synthetic" in result["data"]


def test_correlate_end_to_end_on_a_table(table, tmp_path):
    out, per_arch, plot = tmp_path / "c.json", tmp_path / "c.csv", tmp_path / "c.png"
    argv = ["correlate", "--space", "nb201", "--benchmark", f"table:{table}", "--data", "synthetic",
            "--batch-size", "4", "--proxies", "params,flops", "--n", "all",
            "--json", str(out), "--csv", str(per_arch), "--plot", str(plot)]
    assert main(argv) == 0
    summary = json.loads(out.read_text())
    assert summary["n"] == len(ARCHS)
    assert set(summary["proxies"]) == {"params", "flops"}
    params = summary["proxies"]["params"]
    assert params["spearman"] == pytest.approx(1.0)
    assert params["kendall"] == pytest.approx(1.0)
    assert set(params) >= {"spearman", "kendall", "top10_precision", "nan_count", "median_seconds"}
    rows = list(csv.DictReader(per_arch.open()))
    assert len(rows) == len(ARCHS) and "params" in rows[0]
    assert plot.stat().st_size > 1000


def test_correlate_orients_loss_metrics(table, tmp_path):
    out = tmp_path / "c.json"
    argv = ["correlate", "--space", "nb201", "--benchmark", f"table:{table}", "--metric", "test_loss",
            "--data", "synthetic", "--batch-size", "4", "--proxies", "params", "--n", "all", "--json", str(out)]
    assert main(argv) == 0
    summary = json.loads(out.read_text())
    assert summary["higher_is_better"] is False
    assert summary["proxies"]["params"]["spearman"] == pytest.approx(1.0)


def test_correlate_reports_a_user_ensemble(table, tmp_path):
    # the reported Kendall must be that of sum_m w_m log(rank_m / n), computed here from
    # the per-architecture CSV
    out, per_arch = tmp_path / "c.json", tmp_path / "c.csv"
    argv = ["correlate", "--space", "nb201", "--benchmark", f"table:{table}", "--data", "synthetic",
            "--batch-size", "4", "--proxies", "params", "--ensemble", "2*params+l2_norm:log_rank",
            "--n", "all", "--json", str(out), "--csv", str(per_arch)]  # fmt: skip
    assert main(argv) == 0
    summary = json.loads(out.read_text())
    assert set(summary["proxies"]) == {"params", "l2_norm", "2*params+l2_norm:log_rank"}
    ens = summary["proxies"]["2*params+l2_norm:log_rank"]
    assert ens["members"] == ["params", "l2_norm"] and ens["aggregation"] == "log_rank"
    assert ens["weights"] == [2.0, 1.0]
    rows = list(csv.DictReader(per_arch.open()))
    from scipy.stats import kendalltau, rankdata

    logs = [2 * np.log(rankdata([float(r[m]) for r in rows]) / len(rows)) for m in ("params",)]
    logs.append(np.log(rankdata([float(r["l2_norm"]) for r in rows]) / len(rows)))
    want = kendalltau(sum(logs), [float(r["accuracy"]) for r in rows])[0]
    assert ens["kendall"] == pytest.approx(want)


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (["--ensemble", "params"], "two or more proxies joined by '+'"),
        (["--ensemble", "params+synflw"], "did you mean 'synflow'"),
        (["--ensemble", "params+flops:median"], "unknown aggregation 'median'"),
        (["--ensemble", "x*params+flops"], "weight 'x' is not a number"),
        (["--ensemble", "params+params"], "must differ"),
        (["--proxies", "synflw"], "did you mean 'synflow'"),
        (["--metric", "acc"], "no metric 'acc'"),
        (["--n", "1"], "at least 2"),
        (["--n", "many"], "positive integer or 'all'"),
        (["--data", "cifar10:/no/such/dir"], "/no/such/dir"),
        (["--data", "imagenet:/x"], "did you mean"),
    ],
)
def test_correlate_bad_input(table, capsys, extra, fragment):
    argv = ["correlate", "--space", "nb201", "--benchmark", f"table:{table}", "--proxies", "params", *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and fragment in err


def test_correlate_on_nbnlp_uses_token_data_and_only_archs_with_the_metric(tmp_path):
    # Three cells; the leaky-ReLU one has no PTB loss, so correlating with ptb_test_loss
    # scores only the other two, on the space's default token batch (no --data given).
    def recipe(act):
        return json.dumps(
            {"f": {"op": "linear", "input": ["x", "h_prev_0"]}, "h_new_0": {"op": act, "input": ["f"]}}
        )

    table = tmp_path / "derived_nbnlp_wt2_recipes_losses.csv"
    with table.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["recepie_id", "status", "num_params", "final_train_loss", "final_val_loss",
                    "final_test_loss", "best_val_loss", "ptb_final_test_loss", "recipe"])
        w.writerow([1, "OK", 1, 4.7, 5.2, 5.0, 5.1, 6.0, recipe("activation_tanh")])
        w.writerow([2, "OK", 1, 4.0, 4.5, 4.4, 4.4, 5.5, recipe("activation_sigm")])
        w.writerow([3, "OK", 1, 4.1, 4.6, 4.5, 4.5, "", recipe("activation_leaky_relu")])
    out = tmp_path / "c.json"
    argv = ["correlate", "--space", "nbnlp", "--benchmark", f"nbnlp:{table}", "--metric",
            "ptb_test_loss", "--batch-size", "3", "--proxies", "params,hidden_covariance",
            "--n", "all", "--json", str(out)]
    assert main(argv) == 0
    summary = json.loads(out.read_text())
    assert summary["n"] == 2
    assert summary["data"].startswith("tokens:33278:70 ")
    assert summary["proxies"]["hidden_covariance"]["nan_count"] == 0
