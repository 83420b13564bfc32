"""Check the NAS-Bench-301 networks against NAS-Bench-Suite-Zero and DARTS, and time builds.

Checks (10 classes, 32x32 input):

* the ``suite_zero`` network of three reference architectures reproduces the stored
  Suite-Zero ``params`` exactly and ``flops`` within 1 % with
  :func:`nasrank.complexity.count_flops`, and exactly with the torchstat convention the
  stored numbers were measured with (NASLib's ``model_stats`` -> tensorwatch
  ``ModelStats`` -> torchstat: as ``count_flops`` except that a Linear layer's bias is
  not counted and an adaptive pooling counts ``C * (h + 1) * (w + 1)`` per output cell
  over its ``h x w`` window);
* optionally every architecture of a Suite-Zero ``zc_nasbench301.json`` (``--suite-zero``);
* DARTS-V2 in the DARTS evaluation network (C=36, 20 cells) has ~3.3 M parameters;
* median build time of the ``suite_zero`` network over sampled architectures (< 0.2 s).

Usage::

    OMP_NUM_THREADS=1 python benchmarks/check_space_counts_nb301.py [--n 50] [--json out.json]
        [--suite-zero ../shared/data/nas-bench-suite-zero/zc_nasbench301.json]

Exit status 0 when every check passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn

from nasrank.complexity import count_flops, count_params
from nasrank.spaces import get_space

REFERENCES = [  # NAS-Bench-Suite-Zero NB301: NASLib compact form, params (M), flops (M)
    (
        "[[(0,2),(1,2),(2,2),(1,1),(1,2),(2,5),(0,0),(3,0)],"
        "[(1,0),(0,4),(1,5),(0,2),(1,2),(2,0),(3,5),(2,1)]]",
        0.575402,
        108.180992,
    ),
    (
        "[[(1,5),(0,6),(0,1),(1,5),(0,2),(3,4),(4,0),(2,3)],"
        "[(1,0),(0,6),(0,5),(1,5),(3,4),(2,5),(2,5),(4,0)]]",
        0.907882,
        160.740864,
    ),
    (
        "[[(1,4),(0,4),(1,4),(0,3),(1,3),(2,1),(2,4),(3,4)],"
        "[(1,3),(0,4),(2,1),(1,4),(3,6),(1,0),(0,0),(2,1)]]",
        1.293482,
        226.58816,
    ),
]
DARTS_V2 = (
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
    "('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), "
    "('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), "
    "('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
    "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])"
)
DEFAULT_SUITE_ZERO = (
    Path(__file__).resolve().parents[1].parent
    / "shared/data/nas-bench-suite-zero/zc_nasbench301.json"
)


@torch.no_grad()
def torchstat_flops(model: nn.Module, input_shape: tuple[int, ...] = (3, 32, 32)) -> int:
    """FLOPs in the torchstat convention behind the stored Suite-Zero numbers."""
    total = 0

    def hook(m: nn.Module, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        nonlocal total
        x = inputs[0]
        if isinstance(m, nn.Conv2d):
            k = m.kernel_size[0] * m.kernel_size[1]
            positions = out.numel() // out.shape[1]
            total += k * m.in_channels * m.out_channels // m.groups * positions
            if m.bias is not None:
                total += m.out_channels * positions
        elif isinstance(m, nn.BatchNorm2d):
            total += x.numel() * (2 if m.affine else 1)
        elif isinstance(m, (nn.ReLU, nn.ReLU6, nn.PReLU, nn.ELU, nn.LeakyReLU)):
            total += x.numel()
        elif isinstance(m, (nn.AvgPool2d, nn.MaxPool2d)):
            k = m.kernel_size if isinstance(m.kernel_size, tuple) else (m.kernel_size,) * 2
            total += out.numel() * k[0] * k[1]
        elif isinstance(m, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
            (h, w), (oh, ow) = x.shape[2:], out.shape[2:]
            for i in range(oh):
                rows = math.ceil((i + 1) * h / oh) - (i * h) // oh + 1
                for j in range(ow):
                    cols = math.ceil((j + 1) * w / ow) - (j * w) // ow + 1
                    total += x.shape[0] * x.shape[1] * rows * cols
        elif isinstance(m, nn.Linear):
            total += x.shape[0] * m.in_features * m.out_features

    handles = [m.register_forward_hook(hook) for m in model.modules()]
    model.eval()
    try:
        model(torch.zeros(1, *input_shape))
    finally:
        for h in handles:
            h.remove()
    return total


def _score(value: Any) -> float:
    return float(value["score"] if isinstance(value, dict) else value)


def check_references(space: Any) -> tuple[list[dict[str, Any]], bool]:
    rows, ok = [], True
    for arch, params_m, mflops in REFERENCES:
        model = space.build(arch)
        params = count_params(model)
        flops = count_flops(model)
        exact = torchstat_flops(model)
        row = {
            "arch": arch,
            "params_m": params / 1e6,
            "ref_params_m": params_m,
            "mflops": flops / 1e6,
            "ref_mflops": mflops,
            "mflops_rel_err": flops / 1e6 / mflops - 1,
            "torchstat_mflops": exact / 1e6,
        }
        row["params_ok"] = abs(params / 1e6 - params_m) < 1e-6
        row["flops_ok"] = abs(row["mflops_rel_err"]) < 0.01
        row["torchstat_exact"] = abs(exact / 1e6 - mflops) < 1e-6
        ok &= row["params_ok"] and row["flops_ok"]
        rows.append(row)
    return rows, ok


def _records(node: Any, num_classes: int = 10) -> Any:
    """Yield ``(arch key, record, num_classes)`` from nested task dicts of a Suite-Zero file."""
    for key, value in node.items():
        if not isinstance(value, dict):
            continue
        if "params" in value and "flops" in value:
            yield key, value, num_classes
        else:
            yield from _records(value, 100 if "100" in key else num_classes)


def check_suite_zero_file(space: Any, path: Path, limit: int | None) -> dict[str, Any]:
    data = json.loads(path.read_text())
    worst_params = worst_flops = 0.0
    n = 0
    for key, rec, num_classes in _records(data):
        model = space.build(key, num_classes=num_classes)
        worst_params = max(worst_params, abs(count_params(model) / 1e6 - _score(rec["params"])))
        worst_flops = max(worst_flops, abs(count_flops(model) / 1e6 / _score(rec["flops"]) - 1))
        n += 1
        if limit is not None and n >= limit:
            break
    return {
        "path": str(path),
        "archs": n,
        "max_abs_params_m": worst_params,
        "max_rel_flops": worst_flops,
        "ok": n > 0 and worst_params < 1e-6 and worst_flops < 0.01,
    }


def time_builds(space: Any, n: int, **kwargs: Any) -> dict[str, float]:
    times = []
    for seed in range(n):
        arch = space.sample(seed)
        start = time.perf_counter()
        space.build(arch, **kwargs)
        times.append(time.perf_counter() - start)
    times.sort()
    return {
        "n": n,
        "median_s": statistics.median(times),
        "p90_s": times[min(n - 1, int(0.9 * n))],
        "max_s": times[-1],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50, help="architectures to time (default 50)")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--suite-zero", type=Path, default=None, help="zc_nasbench301.json")
    parser.add_argument("--limit", type=int, default=None, help="max archs from --suite-zero")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    space = get_space("nb301")
    results: dict[str, Any] = {}

    rows, ok = check_references(space)
    results["references"] = rows
    print("Suite-Zero NB301 references (suite_zero network, 10 classes, 32x32)")
    print(
        f"{'params M':>10} {'ref':>10} {'MFLOPs':>12} {'ref':>12} {'rel err':>9} {'torchstat':>12}"
    )
    for r in rows:
        print(
            f"{r['params_m']:10.6f} {r['ref_params_m']:10.6f} {r['mflops']:12.6f} "
            f"{r['ref_mflops']:12.6f} {r['mflops_rel_err']:9.2e} {r['torchstat_mflops']:12.6f}"
            f"{'' if r['torchstat_exact'] else ' (torchstat convention differs)'}"
        )

    path = args.suite_zero or (DEFAULT_SUITE_ZERO if DEFAULT_SUITE_ZERO.is_file() else None)
    if path is not None:
        summary = check_suite_zero_file(space, path, args.limit)
        results["suite_zero_file"] = summary
        ok &= summary["ok"]
        print(
            f"{path}: {summary['archs']} archs, max |params diff| {summary['max_abs_params_m']:.2e}"
            f" M, max flops rel err {summary['max_rel_flops']:.2e}"
        )

    v2 = {
        "params": count_params(space.build(DARTS_V2, variant="darts")),
        "params_with_aux": count_params(space.build(DARTS_V2, variant="darts", auxiliary=True)),
        "mflops": count_flops(space.build(DARTS_V2, variant="darts")) / 1e6,
    }
    results["darts_v2_eval"] = v2
    ok &= abs(v2["params"] / 1e6 - 3.3) < 0.05
    print(
        f"DARTS-V2, C=36, 20 cells: {v2['params'] / 1e6:.6f} M params "
        f"({v2['params_with_aux'] / 1e6:.6f} M with auxiliary head), {v2['mflops']:.2f} MFLOPs"
    )

    small = time_builds(space, args.n)
    large = time_builds(space, max(1, args.n // 5), variant="darts")
    results["build_time"] = {"suite_zero": small, "darts": large}
    ok &= small["median_s"] < 0.2
    print(
        f"build time, suite_zero network: median {small['median_s'] * 1e3:.1f} ms, "
        f"p90 {small['p90_s'] * 1e3:.1f} ms over {small['n']} archs; "
        f"darts network: median {large['median_s'] * 1e3:.1f} ms over {large['n']}"
    )
    results["ok"] = bool(ok)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    print("all checks passed" if ok else "SOME CHECKS FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
