"""``--device`` of the scoring commands (score, score-space, correlate, search): a CUDA
device this machine lacks is exit 2 with one line before any work (no --json written, the
store unchanged); ``--device cpu`` gives the scores of no ``--device``; the --json says
which device scored."""

from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path

import pytest
import torch

from nasrank.cli import main

ARCH = "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|"
PROXIES = "params,synflow,nwot"

no_cuda = pytest.mark.skipif(
    torch.cuda.is_available(), reason="checks the refusal of CUDA on a machine without it"
)


@pytest.fixture(autouse=True)
def _quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NASRANK_STORE", raising=False)
    monkeypatch.setenv("NASRANK_PROGRESS", "0")


def _argv(command: str, tmp_path: Path) -> list[str]:
    """A cheap working command of each scoring subcommand, with a store and --json."""
    store, out = str(tmp_path / "scores.sqlite"), str(tmp_path / "out.json")
    return {
        "score": [
            "score", "--space", "nb201", "--arch", ARCH, "--proxies", PROXIES,
            "--data", "synthetic", "--batch-size", "8", "--store", store, "--json", out,
        ],
        "score-space": [
            "score-space", "--space", "nb201", "--pool", "2", "--proxies", "params,nwot",
            "--batch-size", "4", "--store", store, "--json", out,
        ],
        "correlate": [
            "correlate", "--space", "nb201", "--benchmark", "nb201-analog", "--n", "3",
            "--proxies", "params,nwot", "--batch-size", "4", "--store", store, "--json", out,
        ],
        "search": [
            "search", "--method", "zc-topk", "--proxies", "params", "--pool", "3",
            "--proxy-source", "engine", "--budget", "2", "--batch-size", "4",
            "--store", store, "--json", out,
        ],
    }[command]  # fmt: skip


def _files(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.endswith(("-wal", "-shm"))
    }


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


COMMANDS = ["score", "score-space", "correlate", "search"]


@no_cuda
@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("device", ["cuda", "cuda:0", "cuda:3"])
def test_cuda_without_cuda_is_refused_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, device: str
) -> None:
    capsys.readouterr()
    assert main([*_argv(command, tmp_path), "--device", device]) == 2
    line = _one_line(capsys)
    assert f"nasrank {command}: error: --device {device}" in line
    assert "CUDA is not available" in line and "--device cpu" in line
    assert _files(tmp_path) == {}  # no --json, no store created


@no_cuda
@pytest.mark.parametrize("command", COMMANDS)
def test_cuda_refusal_leaves_an_existing_store_unchanged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    argv = _argv(command, tmp_path)
    assert main(argv) == 0  # fills the store and writes the --json
    (tmp_path / "out.json").unlink()
    before = _files(tmp_path)
    capsys.readouterr()
    assert main([*argv, "--device", "cuda"]) == 2
    assert "CUDA is not available" in _one_line(capsys)
    assert _files(tmp_path) == before


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("value", ["tpu", "gpu", "", "cuda:", "cuda:x", "cuda:-1", "cpu:0"])
def test_malformed_device_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, value: str
) -> None:
    capsys.readouterr()
    assert main([*_argv(command, tmp_path), "--device", value]) == 2
    assert "--device" in _one_line(capsys)
    assert _files(tmp_path) == {}


def _score_json(tmp_path: Path, name: str, *extra: str) -> dict:
    out = tmp_path / f"{name}.json"
    argv = [
        "score", "--space", "nb201", "--arch", ARCH, "--proxies", PROXIES,
        "--data", "synthetic", "--batch-size", "8", "--json", str(out), *extra,
    ]  # fmt: skip
    assert main(argv) == 0
    return json.loads(out.read_text())


def test_score_on_cpu_equals_the_default(tmp_path: Path) -> None:
    default = _score_json(tmp_path, "default")
    cpu = _score_json(tmp_path, "cpu", "--device", "cpu")
    assert set(cpu["scores"]) == {"params", "synflow", "nwot"}
    assert cpu["scores"] == default["scores"]  # bit-identical, not approximately
    assert default["device"] == "cpu" and cpu["device"] == "cpu"
    keys = list(cpu)
    assert keys.index("device") == keys.index("threads") + 1


def test_device_spelling_is_normalised_in_the_json(tmp_path: Path) -> None:
    assert _score_json(tmp_path, "upper", "--device", "CPU")["device"] == "cpu"


@pytest.mark.parametrize("command", ["score-space", "correlate"])
def test_json_records_the_device_beside_threads(tmp_path: Path, command: str) -> None:
    assert main([*_argv(command, tmp_path), "--device", "cpu"]) == 0
    payload = json.loads((tmp_path / "out.json").read_text())
    assert payload["device"] == "cpu" and "threads" in payload


def test_correlate_on_cpu_equals_the_default(tmp_path: Path) -> None:
    argv = _argv("correlate", tmp_path)
    argv[argv.index("--store") : argv.index("--store") + 2] = []  # compute both times
    assert main(argv) == 0
    default = json.loads((tmp_path / "out.json").read_text())
    assert main([*argv, "--device", "cpu"]) == 0
    cpu = json.loads((tmp_path / "out.json").read_text())
    for name in ("params", "nwot"):
        assert cpu["proxies"][name]["spearman"] == default["proxies"][name]["spearman"]


def test_search_json_records_the_device(tmp_path: Path) -> None:
    assert main([*_argv("search", tmp_path), "--device", "cpu"]) == 0
    payload = json.loads((tmp_path / "out.json").read_text())
    assert payload["config"]["device"] == "cpu"
    assert payload["config"]["proxy_source"] == "engine"


def test_score_jobs_carry_the_device_to_workers() -> None:
    from nasrank.data import load_batch
    from nasrank.spaces import get_space
    from nasrank.store import ScoreJob, score_arch

    batch = load_batch("synthetic", batch_size=4, seed=0)
    job = ScoreJob("nb201", batch, 0, {"num_classes": 10}, "cpu")
    copy = pickle.loads(pickle.dumps(job))
    assert copy.device == "cpu"
    outcome = copy((ARCH, ("params", "nwot")))
    direct = score_arch(
        get_space("nb201"), ARCH, batch, ["params", "nwot"], build_kwargs={"num_classes": 10}
    )
    assert outcome.scores == dict(direct)
