from __future__ import annotations

import json
from contextlib import contextmanager

import pytest
import torch

from nasrank.cli import main

SKIP = "(0, 0, 0, 0, 0, 0)"  # all skip_connect: the cheapest NB-201 network
BASE = [
    "train",
    "--space",
    "nb201",
    "--arch",
    SKIP,
    "--data",
    "synthetic:3x8x8:4",
    "--train-size",
    "48",
    "--val-size",
    "16",
    "--test-size",
    "24",
    "--epochs",
    "3",
    "--batch-size",
    "16",
    "--lr",
    "0.05",
]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "\n" not in err, err
    assert "Traceback" not in err
    return err


def _no_seconds(history):
    return [{k: v for k, v in h.items() if k != "seconds"} for h in history]


def test_train_prints_tables_and_writes_json(tmp_path, capsys):
    out = tmp_path / "t.json"
    assert main([*BASE, "--json", str(out)]) == 0
    captured = capsys.readouterr()
    assert "test acc %" in captured.out and "cpu" in captured.out
    assert "epoch 3/3" in captured.err  # per-epoch progress on stderr
    result = json.loads(out.read_text())
    assert (
        result["arch"]
        == "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|"
    )
    assert result["epochs"] == 3 and len(result["history"]) == 3
    assert (
        result["train_samples"] == 48 and result["val_samples"] == 16 and result["test_size"] == 24
    )
    assert 0 <= result["test_accuracy"] <= 100 and 0 <= result["val_accuracy"] <= 100
    assert result["config"]["lr"] == 0.05 and result["config"]["nesterov"] is True
    assert result["device"] == "cpu" and result["resumed_after_epoch"] == 0


def test_interrupted_run_resumes_and_matches_an_uninterrupted_one(tmp_path, capsys, monkeypatch):
    full_json, resumed_json, ckpt = (
        tmp_path / "full.json",
        tmp_path / "resumed.json",
        tmp_path / "ck",
    )
    assert main([*BASE, "--json", str(full_json)]) == 0

    import nasrank.cli.train as cli_train

    real_progress = cli_train.progress

    @contextmanager
    def interrupting_progress(description, total):
        class Handle:
            steps = 0

            def advance(self, n=1):
                self.steps += n
                if self.steps == 5:  # 3 steps per epoch: the 2nd step of epoch 2
                    raise KeyboardInterrupt

        yield Handle()

    monkeypatch.setattr(cli_train, "progress", interrupting_progress)
    assert main([*BASE, "--checkpoint-dir", str(ckpt)]) == 130
    assert "interrupted" in capsys.readouterr().err
    monkeypatch.setattr(cli_train, "progress", real_progress)

    assert main([*BASE, "--checkpoint-dir", str(ckpt), "--json", str(resumed_json)]) == 0
    assert "resuming" in capsys.readouterr().err
    full, resumed = json.loads(full_json.read_text()), json.loads(resumed_json.read_text())
    assert resumed["resumed_after_epoch"] == 1
    assert _no_seconds(resumed["history"]) == _no_seconds(full["history"])
    assert resumed["test_accuracy"] == full["test_accuracy"]
    assert resumed["val_accuracy"] == full["val_accuracy"]


def test_checkpoint_dir_of_another_run_is_refused(tmp_path, capsys):
    ckpt = tmp_path / "ck"
    short = [*BASE[:-4], "--epochs", "1", "--batch-size", "16"]
    assert main([*short, "--checkpoint-dir", str(ckpt)]) == 0
    capsys.readouterr()
    assert main([*short, "--checkpoint-dir", str(ckpt), "--lr", "0.2"]) == 2
    err = _one_line_error(capsys)
    assert "holds a different run" in err and "lr 0.1 (saved) vs 0.2" in err
    assert main([*short, "--checkpoint-dir", str(ckpt), "--arch", "(2, 0, 0, 0, 0, 0)"]) == 2
    assert "arch" in _one_line_error(capsys)


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (["--arch", "(9, 9, 9, 9, 9, 9)"], "contains 9"),
        (["--space", "nb2001"], "did you mean"),
        (["--data", "imagenet:/x"], "did you mean"),
        (["--data", "cifar10:/no/such/dir"], "/no/such/dir"),
        (["--train-size", "0"], "--train-size must be >= 1"),
        (["--val-size", "-1"], "--val-size must be >= 0"),
        (["--epochs", "0"], "epochs must be a positive integer"),
        (["--lr", "-1"], "lr must be finite and non-negative"),
        (["--warmup-epochs", "3"], "must be below epochs"),
        (["--device", "tpu"], "invalid choice"),
        (["--epochs", "two"], "invalid int value"),
    ],
)
def test_bad_input_exits_2_with_one_line(extra, fragment, capsys):
    assert main([*BASE, *extra]) == 2
    assert fragment in _one_line_error(capsys)


def test_sizes_beyond_an_image_folder_are_refused(tmp_path, capsys):
    from PIL import Image

    for split, n in (("train", 4), ("test", 2)):
        for label in ("cat", "dog"):
            (tmp_path / split / label).mkdir(parents=True)
            for i in range(n):
                Image.new("RGB", (8, 8), (40 * i, 0, 0)).save(tmp_path / split / label / f"{i}.png")
    argv = [*BASE[:5], "--data", f"images:{tmp_path}", "--epochs", "1"]
    assert main([*argv, "--train-size", "6", "--val-size", "3"]) == 2
    assert "--train-size 6 + --val-size 3 exceeds the 8 training samples" in _one_line_error(capsys)
    assert main([*argv, "--val-size", "8"]) == 2
    assert "exceeds" in _one_line_error(capsys)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message shown without CUDA")
def test_cuda_without_cuda_is_refused(capsys):
    assert main([*BASE, "--device", "cuda"]) == 2
    assert "CUDA is not available" in _one_line_error(capsys)
