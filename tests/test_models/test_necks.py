import pytest
import torch

from mmfashion_attr.models import (
    ChannelPreservingFPN,
    DetailPreservingFPN,
    GAPConcatFusion,
)
from mmfashion_attr.utils.compat import get_mmdet_fpn

MMDetFPN = get_mmdet_fpn()


def pyramid(channels, size=16, n=2):
    return tuple(
        torch.randn(n, c, size >> i, size >> i) for i, c in enumerate(channels)
    )


@pytest.mark.parametrize('extra', [False, 'on_input', 'on_output'])
def test_equals_mmdet_fpn_when_channels_equal(extra):
    """With equal widths no projection is used: same function as mmdet's."""
    torch.manual_seed(0)
    num_outs = 5 if extra else 3
    ours = ChannelPreservingFPN(
        [8, 8, 8], num_outs=num_outs, add_extra_convs=extra
    )
    ref = MMDetFPN([8, 8, 8], 8, num_outs, add_extra_convs=extra)
    ours.init_weights()
    ref.load_state_dict(ours.state_dict())  # same parameter names
    x = pyramid([8, 8, 8])
    for a, b in zip(ours(x), ref(x)):
        torch.testing.assert_close(a, b)


def test_channel_preserving_shapes_effnetv2m_levels():
    neck = ChannelPreservingFPN([80, 176, 512])
    assert isinstance(neck, MMDetFPN)
    x = (
        torch.randn(1, 80, 48, 48),
        torch.randn(1, 176, 24, 24),
        torch.randn(1, 512, 12, 12),
    )
    outs = neck(x)
    assert [tuple(o.shape[1:]) for o in outs] == [
        (80, 48, 48),
        (176, 24, 24),
        (512, 12, 12),
    ]
    assert neck.out_channels == [80, 176, 512]
    assert GAPConcatFusion()(outs)[0].shape == (1, 768)


def test_top_down_path_reaches_fine_level():
    """The finest output depends on the coarsest input (top-down path)."""
    torch.manual_seed(0)
    neck = ChannelPreservingFPN([4, 6, 10]).eval()
    x = list(pyramid([4, 6, 10], n=1))
    base = neck(tuple(x))[0]
    x[2] = x[2] + 1.0
    assert not torch.allclose(neck(tuple(x))[0], base)
    # and not the other way round (no bottom-up path in FPN)
    x = list(pyramid([4, 6, 10], n=1))
    top = neck(tuple(x))[2]
    x[0] = x[0] + 1.0
    torch.testing.assert_close(neck(tuple(x))[2], top)


def test_projection_commutes_with_upsampling():
    """Projecting before upsampling equals upsampling before projecting."""
    torch.manual_seed(0)
    neck = ChannelPreservingFPN([4, 6]).eval()
    x = pyramid([4, 6], n=1)
    lat = [c(t) for c, t in zip(neck.lateral_convs, x)]
    proj = neck.top_down_convs[0]
    up_then_proj = proj(
        torch.nn.functional.interpolate(
            lat[1], size=lat[0].shape[2:], mode='nearest'
        )
    )
    expected = neck.fpn_convs[0](lat[0] + up_then_proj)
    torch.testing.assert_close(neck(x)[0], expected)


def test_extra_levels_keep_top_width():
    neck = ChannelPreservingFPN(
        [4, 6, 10], num_outs=5, add_extra_convs='on_input'
    )
    outs = neck(pyramid([4, 6, 10], size=32))
    assert [o.shape[1] for o in outs] == [4, 6, 10, 10, 10]
    assert [o.shape[2] for o in outs] == [32, 16, 8, 4, 2]


def test_gap_concat_fusion_reference():
    x = (torch.arange(8.0).view(1, 2, 2, 2), torch.ones(1, 3, 1, 1) * 5)
    (y,) = GAPConcatFusion()(x)
    assert y.tolist() == [[1.5, 5.5, 5.0, 5.0, 5.0]]
    (y,) = GAPConcatFusion(levels=[1])(x)
    assert y.tolist() == [[5.0, 5.0, 5.0]]


# ------------------------------------------------------- DetailPreservingFPN
def _conv_bn_relu(x, module):
    """conv -> BatchNorm (running statistics) -> ReLU, written with
    torch.nn.functional from the parameters of an mmcv ``ConvModule``."""
    conv, bn = module.conv, module.bn
    y = torch.nn.functional.conv2d(
        x, conv.weight, conv.bias, padding=conv.kernel_size[0] // 2
    )
    y = (y - bn.running_mean[None, :, None, None]) / torch.sqrt(
        bn.running_var[None, :, None, None] + bn.eps
    )
    y = y * bn.weight[None, :, None, None] + bn.bias[None, :, None, None]
    return torch.relu(y)


def test_detail_preserving_fpn_reference():
    """Laterals normalised, then concat[lateral, up(coarser output)] mixed
    by conv3x3-BN-ReLU going down, as the docstring states."""
    torch.manual_seed(0)
    neck = DetailPreservingFPN([2, 3, 4])
    for m in neck.modules():  # non-trivial running statistics
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    neck.eval()
    x = pyramid([2, 3, 4], size=8, n=2)
    lat = [_conv_bn_relu(t, m) for t, m in zip(x, neck.lateral_convs)]
    p2 = lat[2]
    up = torch.repeat_interleave(torch.repeat_interleave(p2, 2, 2), 2, 3)
    p1 = _conv_bn_relu(torch.cat([lat[1], up], 1), neck.fuse_convs[1])
    up = torch.repeat_interleave(torch.repeat_interleave(p1, 2, 2), 2, 3)
    p0 = _conv_bn_relu(torch.cat([lat[0], up], 1), neck.fuse_convs[0])
    outs = neck(x)
    assert [tuple(o.shape[1:]) for o in outs] == [
        (2, 8, 8),
        (3, 4, 4),
        (4, 2, 2),
    ]
    for got, want in zip(outs, (p0, p1, p2)):
        torch.testing.assert_close(got, want)


def test_detail_preserving_fpn_levels_cannot_swamp_each_other():
    """In training, each level is normalised before fusion: scaling one
    input level by 1000 changes no output. The FPN's sum is swamped."""
    torch.manual_seed(0)
    x = pyramid([4, 6, 10], size=8, n=4)
    louder = (x[0], x[1], x[2] * 1000)
    ours = DetailPreservingFPN([4, 6, 10]).train()
    for a, b in zip(ours(x), ours(louder)):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-4)
    fpn = ChannelPreservingFPN([4, 6, 10]).train()
    fpn.init_weights()
    fine, fine_loud = fpn(x)[0], fpn(louder)[0]
    assert (fine_loud - fine).abs().mean() > 100 * fine.abs().mean()


def test_detail_preserving_fpn_paths():
    """Top-down reaches the finest level; nothing flows bottom-up."""
    torch.manual_seed(0)
    neck = DetailPreservingFPN([4, 6, 10]).eval()
    x = list(pyramid([4, 6, 10], n=1))
    base = neck(tuple(x))
    x[2] = x[2] + 1.0
    assert not torch.allclose(neck(tuple(x))[0], base[0])
    x = list(pyramid([4, 6, 10], n=1))
    base = neck(tuple(x))
    x[0] = x[0] + 1.0
    changed = neck(tuple(x))
    assert not torch.allclose(changed[0], base[0])
    torch.testing.assert_close(changed[1], base[1])
    torch.testing.assert_close(changed[2], base[2])


def test_detail_preserving_fpn_checks_levels():
    with pytest.raises(ValueError, match='2 out_channels for 3 levels'):
        DetailPreservingFPN([4, 6, 10], out_channels=[4, 6])
    neck = DetailPreservingFPN([4, 6, 10], out_channels=[8, 8, 8])
    assert [o.shape[1] for o in neck(pyramid([4, 6, 10]))] == [8, 8, 8]
    with pytest.raises(ValueError, match='expects 3 levels, got 2'):
        neck(pyramid([4, 6]))
