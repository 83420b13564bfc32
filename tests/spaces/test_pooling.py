"""The spaces' average pooling (a depthwise convolution) against ``nn.AvgPool2d``."""

from __future__ import annotations

import io

import pytest
import torch
from torch import nn

from nasrank.complexity import count_flops
from nasrank.spaces._pooling import AvgPool2d

CONFIGS = [
    dict(kernel_size=3, stride=1, padding=1, count_include_pad=False),  # NB-201, DARTS
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),  # DARTS reduction
    dict(kernel_size=2, stride=2, padding=0),  # NB-201 residual shortcut
    dict(kernel_size=5, stride=3, padding=0, count_include_pad=False),  # DARTS aux head
    dict(kernel_size=3, stride=1, padding=1, count_include_pad=True),
    dict(kernel_size=(3, 2), stride=(1, 2), padding=(1, 0), count_include_pad=False),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),  # falls back to the pooling
    dict(kernel_size=3, stride=1, padding=1, divisor_override=2),  # falls back
]


@pytest.mark.parametrize(
    "config", CONFIGS, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items())
)
def test_values_and_gradients_equal_nn_avgpool2d(config):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4, 6, 11, 9, generator=g, dtype=torch.float64, requires_grad=True)
    want = nn.AvgPool2d(**config)(x)
    got = AvgPool2d(**config)(x)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    cot = torch.randn(want.shape, generator=g, dtype=torch.float64)
    (gw,) = torch.autograd.grad(want, x, cot)
    (gg,) = torch.autograd.grad(got, x, cot)
    torch.testing.assert_close(gg, gw, rtol=1e-12, atol=1e-12)


def test_three_dimensional_input_and_integer_kinds_fall_back():
    x = torch.randn(6, 8, 8)  # (C, H, W): no batch dimension
    torch.testing.assert_close(AvgPool2d(3, 1, 1)(x), nn.AvgPool2d(3, 1, 1)(x))


def test_counts_are_cached_per_input_size():
    pool = AvgPool2d(3, 1, 1, count_include_pad=False)
    for size in (8, 5, 8):
        x = torch.randn(2, 3, size, size)
        torch.testing.assert_close(pool(x), nn.AvgPool2d(3, 1, 1, count_include_pad=False)(x))
    assert len(pool._counts) == 2


def test_flops_and_state_are_those_of_the_pooling():
    ours, theirs = nn.Sequential(AvgPool2d(3, 1, 1)), nn.Sequential(nn.AvgPool2d(3, 1, 1))
    assert count_flops(ours, (4, 16, 16)) == count_flops(theirs, (4, 16, 16)) > 0
    assert list(ours.state_dict()) == list(theirs.state_dict()) == []


def test_onnx_export_keeps_the_averagepool_node():
    onnx = pytest.importorskip("onnx")
    buf = io.BytesIO()
    torch.onnx.export(
        nn.Sequential(AvgPool2d(3, 1, 1, count_include_pad=False)),
        (torch.randn(1, 4, 8, 8),),
        buf,
        dynamo=False,
    )
    ops = [n.op_type for n in onnx.load_from_string(buf.getvalue()).graph.node]
    assert "AveragePool" in ops and "Conv" not in ops
