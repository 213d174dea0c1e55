import torch
from mmpretrain.models.backbones import EfficientNetV2

from mmfashion_attr.models import EfficientNetV2Taps


def test_taps_equal_mmpretrain_outputs_and_drop_unused_layers():
    torch.manual_seed(0)
    ref = EfficientNetV2(arch='b0', out_indices=(3, 5, 6)).eval()
    ours = EfficientNetV2Taps(arch='b0', out_indices=(3, 5, 6)).eval()
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
