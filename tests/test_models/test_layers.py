import numpy as np
import pytest
import torch

from mmfashion_attr.models import CBAM, ScaleWiseCBAM


def numpy_cbam(x, w1, b1, w2, b2, wc, bc):
    """CBAM from Woo et al. (2018), eqs. (2) and (3), in plain numpy."""
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    n, c, h, w = x.shape
    out = np.empty_like(x)
    k = wc.shape[-1]
    for i in range(n):
        f = x[i]
        avg, mx = f.mean(axis=(1, 2)), f.max(axis=(1, 2))
        mlp = lambda v: w2 @ np.maximum(w1 @ v + b1, 0) + b2  # noqa: E731
        mc = sig(mlp(avg) + mlp(mx))
        f1 = f * mc[:, None, None]
        desc = np.stack([f1.mean(axis=0), f1.max(axis=0)])
        pad = np.pad(desc, ((0, 0), (k // 2, k // 2), (k // 2, k // 2)))
        ms = np.empty((h, w))
        for y in range(h):
            for xx in range(w):
                ms[y, xx] = (pad[:, y : y + k, xx : xx + k] * wc).sum() + bc[0]
        out[i] = f1 * sig(ms)[None]
    return out


def test_cbam_matches_numpy_reference():
    torch.manual_seed(0)
    m = CBAM(32, reduction=4).eval()
    x = torch.randn(2, 32, 6, 5)
    with torch.no_grad():
        y = m(x).numpy()
    p = {k: v.detach().double().numpy() for k, v in m.state_dict().items()}
    ref = numpy_cbam(
        x.double().numpy(),
        p['mlp.0.weight'],
        p['mlp.0.bias'],
        p['mlp.2.weight'],
        p['mlp.2.bias'],
        p['spatial_conv.weight'][0],
        p['spatial_conv.bias'],
    )
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    'c, r', [(80, 16), (176, 16), (512, 16), (1280, 16), (64, 8), (8, 16)]
)
def test_cbam_parameter_count(c, r):
    hidden = max(1, c // r)
    # shared MLP C -> C/r -> C with biases, 7x7 conv 2 -> 1 with bias
    expected = c * hidden + hidden + hidden * c + c + 2 * 7 * 7 + 1
    assert (
        sum(p.numel() for p in CBAM(c, reduction=r).parameters()) == expected
    )


def test_cbam_shape_and_channels_last():
    m = CBAM(16).eval()
    x = torch.randn(2, 16, 9, 7)
    y = m(x)
    assert y.shape == x.shape
    y2 = m(x.to(memory_format=torch.channels_last))
    torch.testing.assert_close(y, y2)


def test_scale_wise_cbam_has_separate_weights():
    neck = ScaleWiseCBAM([8, 16, 16])
    assert len(neck.attentions) == 3
    a, b = neck.attentions[1], neck.attentions[2]
    assert a.mlp[0].weight.data_ptr() != b.mlp[0].weight.data_ptr()
    xs = (
        torch.randn(1, 8, 8, 8),
        torch.randn(1, 16, 4, 4),
        torch.randn(1, 16, 2, 2),
    )
    outs = neck(xs)
    assert [o.shape for o in outs] == [x.shape for x in xs]
    torch.testing.assert_close(outs[1], a(xs[1]))
    with pytest.raises(ValueError, match='3 levels, got 2'):
        neck(xs[:2])
