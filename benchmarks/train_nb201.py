"""Real training of the NAS-Bench-201 optimum with `nasrank train`: accuracy, time, kill-and-resume.

Two parts, each run through the command line exactly as a user would (the commands are
printed before they run):

* ``accuracy``: the NB-201 CIFAR-10 optimum trained 1 epoch on 10,000 class-balanced images
  of the extracted ``cifar10-jpg`` folder, tested on 2,000 test images (target >= 35 %).
  One epoch of 79 steps needs a short warm-up and a cosine to 0; batch 128, lr 0.1, 20 %
  warm-up, no augmentation (a single pass gains nothing from it).
* ``resume``: a short run (3 epochs on 1,000 images) is started with ``--checkpoint-dir``,
  killed with SIGKILL early in epoch 2, and the same command is started again: it
  resumes after epoch 1 and finishes. With ``--verify`` (default) the same command also runs
  uninterrupted in a fresh directory and the two per-epoch histories and final accuracies
  are compared (they agree exactly on CPU).

Usage:
    python benchmarks/train_nb201.py [--part accuracy|resume|all] [--data-dir DIR]
        [--out DIR] [--device cpu|cuda] [--threads N] [--no-verify]

The data folder defaults to /tmp/cifar10-jpg; when it is absent it is extracted from
../shared/data/cifar10-jpg/cifar10-jpg.tar.gz (if present) into its parent directory.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

OPTIMUM = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|"
    "+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|"
)
TARBALL = Path(__file__).resolve().parents[2] / "shared/data/cifar10-jpg/cifar10-jpg.tar.gz"


def ensure_data(data_dir: Path) -> Path:
    if (data_dir / "train").is_dir() and (data_dir / "test").is_dir():
        return data_dir
    if not TARBALL.is_file():
        sys.exit(f"{data_dir} has no train/ and test/ folders and {TARBALL} is absent")
    print(f"extracting {TARBALL} into {data_dir.parent} ...", flush=True)
    with tarfile.open(TARBALL) as tar:
        tar.extractall(data_dir.parent, filter="data")
    if not (data_dir / "train").is_dir():
        sys.exit(f"the archive did not produce {data_dir}/train; pass --data-dir")
    return data_dir


def nasrank(*args: str) -> list[str]:
    return [sys.executable, "-m", "nasrank", "train", *args]


def show(cmd: list[str]) -> None:
    print("$ " + " ".join(shlex.quote(c) for c in ["nasrank", *cmd[3:]]), flush=True)


def accuracy(args: argparse.Namespace, env: dict[str, str]) -> dict:
    out = args.out / "accuracy.json"
    cmd = nasrank(
        "--space", "nb201", "--arch", OPTIMUM, "--data", f"images:{args.data_dir}",
        "--train-size", "10000", "--test-size", "2000", "--epochs", "1",
        "--batch-size", "128", "--lr", "0.1", "--warmup-epochs", "0.2", "--no-augment",
        "--seed", "0", "--device", args.device, "--json", str(out),
    )  # fmt: skip
    show(cmd)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=env)
    wall = time.perf_counter() - start
    result = json.loads(out.read_text())
    summary = {
        "command": " ".join(shlex.quote(c) for c in ["nasrank", *cmd[3:]]),
        "test_accuracy": result["test_accuracy"],
        "train_accuracy": result["train_accuracy"],
        "train_seconds": result["seconds"],
        "wall_seconds_with_startup_and_decoding": wall,
        "device": result["device"],
        "target_met": result["test_accuracy"] >= 35.0,
    }
    print(json.dumps(summary, indent=2), flush=True)
    return summary


def resume(args: argparse.Namespace, env: dict[str, str]) -> dict:
    ckpt = args.out / "resume-ckpt"
    for d in (ckpt, args.out / "uninterrupted-ckpt"):
        if d.exists():
            for f in d.iterdir():
                f.unlink()
    common = [
        "--space", "nb201", "--arch", OPTIMUM, "--data", f"images:{args.data_dir}",
        "--train-size", "1000", "--test-size", "500", "--epochs", "3",
        "--batch-size", "100", "--lr", "0.1", "--seed", "0", "--device", args.device,
    ]  # fmt: skip
    cmd = nasrank(*common, "--checkpoint-dir", str(ckpt), "--json", str(args.out / "resumed.json"))
    show(cmd)
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stderr is not None
    epoch1_seconds = None
    for line in proc.stderr:
        sys.stderr.write("  | " + line)
        if line.startswith("epoch 1/3"):
            epoch1_seconds = float(line.rsplit(",", 1)[1].split()[0])
            break
    if epoch1_seconds is None:
        sys.exit("the first run ended before epoch 1 finished")
    # Early in epoch 2: epoch 1 also pays one-off start-up costs, and on a shared machine
    # epoch times vary 2x, so wait a fifth of it (the checkpoint says where the kill landed).
    delay = max(5.0, 0.2 * epoch1_seconds)
    time.sleep(delay)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    import torch

    saved = torch.load(ckpt / "checkpoint.pt", weights_only=True)
    print(
        f"killed with SIGKILL {delay:.0f} s after epoch 1 ended (rc {proc.returncode}); "
        f"checkpoint on disk: {saved['epoch']} completed epoch(s)",
        flush=True,
    )

    show(cmd)
    rerun = subprocess.run(cmd, stderr=subprocess.PIPE, text=True, env=env, check=True)
    sys.stderr.write("".join("  | " + line for line in rerun.stderr.splitlines(True)))
    resumed = json.loads((args.out / "resumed.json").read_text())
    summary: dict = {
        "command": " ".join(shlex.quote(c) for c in ["nasrank", *cmd[3:]]),
        "killed_during_epoch": int(saved["epoch"]) + 1,
        "checkpoint_epoch_at_kill": int(saved["epoch"]),
        "resumed_after_epoch": resumed["resumed_after_epoch"],
        "epochs": resumed["epochs"],
        "test_accuracy": resumed["test_accuracy"],
        "history": resumed["history"],
    }
    if args.verify:
        ref_cmd = nasrank(
            *common,
            "--checkpoint-dir",
            str(args.out / "uninterrupted-ckpt"),
            "--json",
            str(args.out / "uninterrupted.json"),
        )
        show(ref_cmd)
        subprocess.run(ref_cmd, check=True, env=env, stderr=subprocess.DEVNULL)
        ref = json.loads((args.out / "uninterrupted.json").read_text())

        def strip(history: list[dict]) -> list[dict]:
            return [{k: v for k, v in h.items() if k != "seconds"} for h in history]

        summary["same_as_uninterrupted"] = (
            strip(ref["history"]) == strip(resumed["history"])
            and ref["test_accuracy"] == resumed["test_accuracy"]
        )
        summary["uninterrupted_test_accuracy"] = ref["test_accuracy"]
    print(json.dumps({k: v for k, v in summary.items() if k != "history"}, indent=2), flush=True)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--part", choices=("accuracy", "resume", "all"), default="all")
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/cifar10-jpg"))
    parser.add_argument("--out", type=Path, default=Path("/tmp/nasrank-train-bench"))
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--threads", type=int, help="torch CPU threads (OMP_NUM_THREADS)")
    parser.add_argument("--no-verify", dest="verify", action="store_false")
    args = parser.parse_args()
    args.data_dir = ensure_data(args.data_dir.resolve())
    args.out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    if args.threads:
        env["OMP_NUM_THREADS"] = str(args.threads)
    report: dict = {"cpu_count": os.cpu_count(), "load_average_at_start": os.getloadavg()}
    if args.part in ("accuracy", "all"):
        report["accuracy"] = accuracy(args, env)
    if args.part in ("resume", "all"):
        report["resume"] = resume(args, env)
    report["load_average_at_end"] = os.getloadavg()
    (args.out / "summary.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"summary: {args.out / 'summary.json'}")


if __name__ == "__main__":
    main()
