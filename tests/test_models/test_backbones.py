import torch
from mmpretrain.models.backbones import EfficientNetV2

from mmfashion_attr.models import EfficientNetV2Taps


def test_taps_equal_mmpretrain_outputs_and_drop_unused_layers():
    torch.manual_seed(0)
    ref = EfficientNetV2(arch='b0', out_indices=(3, 5, 6)).eval()
    ours = EfficientNetV2Taps(
        arch='b0', out_indices=(3, 5, 6), act_cfg=dict(type='Swish')
    ).eval()
    missing, unexpected = ours.load_state_dict(ref.state_dict(), strict=False)
    assert not missing
    assert unexpected and all(k.startswith('layers.7.') for k in unexpected)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        for a, b in zip(ours(x), ref(x)):
            torch.testing.assert_close(a, b)


def test_every_parameter_gets_a_gradient():
    """No unused parameters: DDP works without find_unused_parameters."""
    m = EfficientNetV2Taps(arch='b0', out_indices=(3, 5, 6))
    sum(o.sum() for o in m(torch.randn(2, 3, 64, 64))).backward()
    assert all(p.grad is not None for p in m.parameters())


def test_baseline_keeps_head_conv():
    m = EfficientNetV2Taps(arch='m', out_indices=(8,))
    assert len(m.layers) == 9 and m.num_layers_dropped == 0


def test_silu_default_matches_mmpretrain_swish_forward_and_backward():
    """The faster fused SiLU is the same function as mmcv's Swish."""
    torch.manual_seed(0)
    ref = EfficientNetV2(arch='b0', out_indices=(3, 5, 6))  # Swish
    ours = EfficientNetV2Taps(arch='b0', out_indices=(3, 5, 6))
    acts = {type(m).__name__ for m in ours.modules()}
    assert 'SiLU' in acts and 'Swish' not in acts
    assert 'Swish' in {type(m).__name__ for m in ref.modules()}
    ours.load_state_dict(ref.state_dict(), strict=False)
    x = torch.randn(2, 3, 64, 64)
    outs = []
    for m in (ref, ours):
        m.train()  # batch statistics, and in-place SiLU under autograd
        ys = m(x)
        sum((y * y).mean() for y in ys).backward()
        outs.append(ys)
    for a, b in zip(*outs):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)
    grads = dict(ref.named_parameters())
    for name, p in ours.named_parameters():
        ref_grad = grads[name].grad
        # BN over 2 images amplifies rounding in single elements: compare
        # each parameter's gradient as a whole (relative L2 error). Biases
        # of a BN that feeds another BN get a zero gradient in exact
        # arithmetic (~1e-7 here), hence the absolute floor.
        err = (p.grad - ref_grad).norm()
        assert err <= 1e-3 * ref_grad.norm() + 1e-5, (name, err.item())
