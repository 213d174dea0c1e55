"""MaskedMultiLabelLoss against torch / torchvision references and hand
computations."""

import math

import pytest
import torch
import torch.nn.functional as F
from torchvision.ops import sigmoid_focal_loss

from mmfashion_attr.models import MaskedMultiLabelLoss


def _flat(n=6, v=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, v, generator=g) * 3
    y = (torch.rand(n, v, generator=g) > 0.6).float()
    return x, y


def test_bce_matches_torch_reference():
    x, y = _flat()
    ids = torch.tensor([0, 0, 1, 1])
    out = MaskedMultiLabelLoss()(x, y, torch.ones_like(y), ids, 2)
    ref = F.binary_cross_entropy_with_logits(x, y, reduction='none')
    torch.testing.assert_close(
        out, torch.stack([ref[:, :2].mean(), ref[:, 2:].mean()])
    )


def test_pos_weight_matches_torch_reference():
    x, y = _flat()
    pw = torch.tensor([1.0, 2.0, 0.5, 4.0])
    out = MaskedMultiLabelLoss(pos_weight=pw.tolist())(
        x, y, torch.ones_like(y), torch.zeros(4, dtype=torch.long), 1
    )
    ref = F.binary_cross_entropy_with_logits(x, y, pos_weight=pw)
    torch.testing.assert_close(out[0], ref)


@pytest.mark.parametrize('alpha', [None, 0.25])
def test_focal_matches_torchvision(alpha):
    x, y = _flat()
    loss = MaskedMultiLabelLoss(gamma_pos=2, gamma_neg=2, alpha=alpha)
    out = loss(x, y, torch.ones_like(y), torch.zeros(4, dtype=torch.long), 1)
    ref = sigmoid_focal_loss(
        x, y, alpha=-1 if alpha is None else alpha, gamma=2, reduction='mean'
    )
    torch.testing.assert_close(out[0], ref)


def test_asymmetric_clip_hand_computed():
    x = torch.tensor([[0.0, 2.0]])
    y = torch.tensor([[1.0, 0.0]])
    loss = MaskedMultiLabelLoss(
        gamma_pos=1, gamma_neg=4, clip=0.05, reduction='mean'
    )
    out = loss(x, y, torch.ones_like(y), torch.tensor([0, 0]), 1)
    p0, p1 = 0.5, 1 / (1 + math.exp(-2))
    pos = -((1 - p0) ** 1) * math.log(p0)
    pm = p1 - 0.05
    neg = -(pm**4) * math.log(1 - pm)
    assert out.item() == pytest.approx((pos + neg) / 2, rel=1e-5)


def test_sample_reduction():
    x, y = _flat(n=4, v=3)
    mask = torch.ones_like(y)
    mask[0] = 0  # sample 0 unlabelled
    mask[1, 2] = 0  # one unknown value
    out = MaskedMultiLabelLoss(reduction='sample')(
        x, y, mask, torch.zeros(3, dtype=torch.long), 1
    )
    ref = F.binary_cross_entropy_with_logits(x, y, reduction='none')
    assert out.item() == pytest.approx(
        ((ref * mask).sum() / 3).item(), rel=1e-5
    )


def test_nan_logit_in_masked_entry_does_not_leak():
    x = torch.tensor([[0.3, float('nan')]], requires_grad=True)
    y = torch.tensor([[1.0, 0.0]])
    out = MaskedMultiLabelLoss()(
        x, y, torch.tensor([[1, 0]]), torch.tensor([0, 0]), 1
    )
    out.sum().backward()
    assert torch.isfinite(out).all() and torch.isfinite(x.grad).all()
    assert x.grad[0, 1] == 0


def test_bad_arguments():
    with pytest.raises(ValueError, match='reduction'):
        MaskedMultiLabelLoss(reduction='sum')
