"""epe_nas: class-wise correlation of input Jacobians."""

from __future__ import annotations

import torch

from nasrank.proxies._context import ProxyContext
from nasrank.proxies._passes import input_jacobian, train_forward
from nasrank.proxies.registry import register_proxy

__all__ = ["epe_nas"]

_K = 1e-5


@register_proxy(
    "epe_nas", needs_data=True, needs_labels=True, needs_grad=True, group="train",
    requires={"jacobian"}, version="2",
)
def epe_nas(ctx: ProxyContext) -> float:
    """EPE-NAS (Lopes et al., "EPE-NAS: Efficient Performance Estimation Without Training
    for Neural Architecture Search", ICANN 2021).

    Input Jacobians ``d(sum of outputs)/dx_n`` (train-mode copy) grouped by class label;
    per class ``c``: ``s_c = sum_ij log(|corrcoef(J_c)_ij| + k)``, ``k = 1e-5`` (a class
    with one sample has the 1 x 1 matrix ``[1]``); score = ``sum_c |s_c|``. For more than
    100 classes the paper's variant is used: ``s_c`` divided by the class size and the
    score ``sum_c sum_c' |s_c - s_c'| / C``. The number of classes is the model's output
    width. Larger = predicted better.

    Token-id models: the ids have no gradient, so ``x_n`` is generalised to the output of
    the embedding table that reads them (the network's continuous input), as for any
    layer after a lookup; version 2 (version 1 was NaN on token ids).

    Reference implementation: NASLib ``measures/epe_nas.py`` (after the authors' code).
    """
    jac = input_jacobian(ctx).to(torch.float64)
    labels = ctx.targets
    if labels.dim() != 1 or labels.dtype.is_floating_point:
        raise ValueError(f"needs one integer class label per sample; got {labels.dtype} "
                         f"targets of shape {tuple(labels.shape)}")
    n_classes = int(train_forward(ctx).outputs.shape[-1])
    per_class = []
    for c in torch.unique(labels.cpu()).tolist():
        rows = jac[labels == c]
        if rows.shape[0] == 1:
            corr = torch.ones((1, 1), dtype=torch.float64)
        else:
            corr = torch.corrcoef(rows)
        s = torch.log(corr.abs() + _K).sum()
        if n_classes > 100:
            s = s / corr.shape[0]
        per_class.append(s)
    scores = torch.stack(per_class)
    if not torch.isfinite(scores).all():
        raise ValueError("a sample's input Jacobian is constant, so its correlation is undefined")
    if n_classes <= 100:
        return float(scores.abs().sum())
    return float((scores[:, None] - scores[None, :]).abs().sum() / scores.numel())
