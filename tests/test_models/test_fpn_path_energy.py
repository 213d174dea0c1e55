"""FPNPathEnergy against hand computations and the FPNs' own forward."""

import numpy as np
import pytest
import torch

from mmfashion_attr.models.necks import ChannelPreservingFPN
from mmfashion_attr.models.utils import FPNPathEnergy
from mmfashion_attr.utils.compat import get_mmdet_fpn

# mmdet's own FPN class (imported without mmcv's compiled ops)
FPN = get_mmdet_fpn()


def _identity_laterals(fpn):
    for conv in fpn.lateral_convs:
        c = conv.conv.weight.shape[0]
        conv.conv.weight.data = torch.eye(c).view(c, c, 1, 1)
        conv.conv.bias.data.zero_()


def test_two_levels_by_hand():
    fpn = ChannelPreservingFPN(in_channels=[3, 3])
    _identity_laterals(fpn)
    g = torch.Generator().manual_seed(0)
    c0 = torch.randn(2, 3, 4, 4, generator=g)
    c1 = torch.randn(2, 3, 2, 2, generator=g) * 2 + 1
    energy = FPNPathEnergy(fpn)
    energy.update([c0, c1])
    (row,) = energy.results()
    # numpy: nearest upsampling repeats each cell 2 x 2
    top = np.repeat(np.repeat(c1.numpy(), 2, axis=2), 2, axis=3)
    lat = c0.numpy()
    assert row['level'] == 0 and row['images'] == 2
    assert row['lateral'] == pytest.approx((lat**2).mean(), rel=1e-5)
    assert row['top_down'] == pytest.approx((top**2).mean(), rel=1e-5)
    share = (top**2).mean() / ((lat**2).mean() + (top**2).mean())
    assert row['top_down_share'] == pytest.approx(share, rel=1e-5)
    var_l = lat.var(axis=(2, 3)).mean()
    var_t = top.var(axis=(2, 3)).mean()
    assert row['top_down_share_spatial'] == pytest.approx(
        var_t / (var_l + var_t), rel=1e-5
    )


@pytest.mark.parametrize(
    'fpn',
    [
        ChannelPreservingFPN(in_channels=[4, 8, 16]),
        FPN(in_channels=[4, 8, 16], out_channels=8, num_outs=3),
    ],
    ids=['channel-preserving', 'mmdet'],
)
def test_terms_add_up_to_what_the_fpn_convolves(fpn):
    """lateral + top-down is the input of each level's output conv in the
    module's own forward."""
    fpn.init_weights()
    g = torch.Generator().manual_seed(1)
    inputs = [
        torch.randn(3, c, s, s, generator=g)
        for c, s in ((4, 8), (8, 4), (16, 2))
    ]
    seen = {}
    hooks = [
        fpn.fpn_convs[i].register_forward_pre_hook(
            lambda m, a, i=i: seen.__setitem__(('sum', i), a[0])
        )
        for i in range(2)
    ] + [
        fpn.lateral_convs[i].register_forward_hook(
            lambda m, a, out, i=i: seen.__setitem__(('lat', i), out)
        )
        for i in range(2)
    ]
    with torch.no_grad():
        fpn(inputs)
    for h in hooks:
        h.remove()
    energy = FPNPathEnergy(fpn)
    energy.update(inputs)
    rows = energy.results()
    assert [r['level'] for r in rows] == [0, 1]
    for r in rows:
        lat = seen[('lat', r['level'])]
        top = seen[('sum', r['level'])] - lat
        assert r['lateral'] == pytest.approx(lat.pow(2).mean().item(), 1e-5)
        assert r['top_down'] == pytest.approx(top.pow(2).mean().item(), 1e-4)


def test_batches_accumulate_like_one_batch():
    fpn = ChannelPreservingFPN(in_channels=[4, 8])
    fpn.init_weights()
    g = torch.Generator().manual_seed(2)
    c0 = torch.randn(5, 4, 6, 6, generator=g)
    c1 = torch.randn(5, 8, 3, 3, generator=g)
    whole, parts = FPNPathEnergy(fpn), FPNPathEnergy(fpn)
    whole.update([c0, c1])
    parts.update([c0[:2], c1[:2]])
    parts.update([c0[2:], c1[2:]])
    (a,), (b,) = whole.results(), parts.results()
    assert b['images'] == 5
    for key in ('lateral', 'top_down', 'top_down_share_spatial'):
        assert b[key] == pytest.approx(a[key], rel=1e-5)
