import pytest
import torch

from mmfashion_attr.models import ChannelPreservingFPN, GAPConcatFusion
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
