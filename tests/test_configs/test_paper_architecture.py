"""The paper's architecture as the configs build it.

Parekh & Shaik (VISAPP 2023): EfficientNetV2-M pretrained on ImageNet,
tapped at Keras' ``block3e_add``, ``block5n_add`` and ``block7e_add``
(80 x 48 x 48, 176 x 24 x 24, 512 x 12 x 12 at 384 px; section 4.1.3) or,
for the baseline, at the 1280 x 12 x 12 top conv (section 4.1.2); CBAM
attention (Woo et al., ECCV 2018: reduction ratio 16, 7 x 7 spatial
kernel); one branch per attribute made of one hidden fully connected layer
and an output layer (sections 4.1.5 and 5.2).

The pyramid shapes after each variant's neck, the fused widths and
approach 4's use of mmdet's own FPN are guarded with the model tests of
the paper variants; the order of CBAM's two attentions by its NumPy
reference test.
"""

from __future__ import annotations

from pathlib import Path

import mmpretrain
import pytest
import torch
import yaml
from mmengine.config import Config
from mmpretrain.registry import MODELS

# Keras block name -> (mmpretrain layer index, channels, side at 384 px).
# The letter is the block's place in its stage: 'e' the 5th, 'n' the 14th.
PAPER_TAPS = {
    'block3e': (3, 80, 48),
    'block5n': (5, 176, 24),
    'block7e': (7, 512, 12),
}
TOP_CONV = (8, 1280, 12)
CBAM_REDUCTION, CBAM_KERNEL = 16, 7  # Woo et al. (ECCV 2018)
HIDDEN = 512
WEIGHTS_NAME = 'efficientnetv2-m_3rdparty_in1k'


@pytest.fixture(scope='module')
def effnetv2_m():
    """The configs' EfficientNetV2-M with every paper tap, and its outputs
    for one 384 px image."""
    repo = Path(__file__).resolve().parents[2]
    cfg = Config.fromfile(
        str(repo / 'configs/paper/approach3_effnetv2-m_8xb16_catalog-384px.py')
    )
    backbone_cfg = dict(cfg.model.backbone, init_cfg=None)
    backbone_cfg['out_indices'] = tuple(
        i for i, _, _ in [*PAPER_TAPS.values(), TOP_CONV]
    )
    backbone = MODELS.build(backbone_cfg).eval()
    with torch.no_grad():
        feats = backbone(torch.zeros(1, 3, 384, 384))
    return backbone, feats


def test_taps_are_the_paper_blocks(effnetv2_m):
    backbone, feats = effnetv2_m
    for (name, (index, channels, side)), feat in zip(
        PAPER_TAPS.items(), feats
    ):
        place = ord(name[-1]) - ord('a') + 1
        assert len(backbone.layers[index]) == place, name
        assert tuple(feat.shape) == (1, channels, side, side), name
    index, channels, side = TOP_CONV
    assert tuple(feats[-1].shape) == (1, channels, side, side)


def test_variants_tap_the_paper_blocks(paper_variant_config, load_config):
    backbone = load_config(paper_variant_config).model.backbone
    assert backbone.arch == 'm'
    if 'baseline' in paper_variant_config:
        assert tuple(backbone.out_indices) == (TOP_CONV[0],)
    else:
        taps = tuple(index for index, _, _ in PAPER_TAPS.values())
        assert tuple(backbone.out_indices) == taps


def _cbam_parameters(channels: int) -> int:
    """Woo et al.: a shared MLP C -> C/r -> C (with biases) and a k x k
    convolution of the 2 pooled maps to 1 (with bias)."""
    hidden = channels // CBAM_REDUCTION
    mlp = channels * hidden + hidden + hidden * channels + channels
    return mlp + 2 * CBAM_KERNEL**2 + 1


@pytest.mark.parametrize(
    'variant', ['baseline', 'approach1', 'approach3', 'approach4']
)
def test_attention_is_cbam_r16_k7(variant, load_config):
    cfg = load_config(
        f'configs/paper/{variant}_effnetv2-m_8xb16_catalog-384px.py'
    )
    (attention_cfg,) = [n for n in cfg.model.neck if n.type == 'ScaleWiseCBAM']
    attention = MODELS.build(attention_cfg)
    levels = list(attention_cfg.in_channels)
    assert len(attention.attentions) == len(levels)
    for channels, level in zip(levels, attention.attentions):
        count = sum(p.numel() for p in level.parameters())
        assert count == _cbam_parameters(channels), channels


def test_one_branch_per_attribute_with_one_hidden_layer(
    paper_variant_config, load_config
):
    """Each attribute's logits depend on exactly two weight matrices and
    two bias vectors of their own: in -> 512 -> its values."""
    head_cfg = load_config(paper_variant_config).model.head
    assert head_cfg.hidden_channels == HIDDEN
    sizes = {'neck': 7, 'sleeve': 3, 'closure': 4}
    head_cfg.schema = {
        'attributes': [
            {'name': n, 'values': [f'{n}{i}' for i in range(k)]}
            for n, k in sizes.items()
        ]
    }
    head = MODELS.build(head_cfg)
    fused = head_cfg.in_channels
    logits = head(torch.randn(4, fused))
    owners = []
    for part, (name, k) in zip(
        logits.split(list(sizes.values()), dim=1), sizes.items()
    ):
        grads = torch.autograd.grad(
            part.sum(), list(head.parameters()), retain_graph=True,
            allow_unused=True,
        )  # fmt: skip
        used = {i for i, g in enumerate(grads) if g is not None and g.any()}
        params = list(head.parameters())
        shapes = sorted(tuple(params[i].shape) for i in used)
        assert shapes == sorted(
            [(HIDDEN, fused), (HIDDEN,), (k, HIDDEN), (k,)]
        )
        owners.append(used)
    assert not set.intersection(*owners), 'branches share parameters'


def _mmpretrain_weights_url(model_name: str) -> str:
    """The weights URL mmpretrain's own model index gives for a model."""
    root = Path(mmpretrain.__file__).parent
    candidates = [
        root / '.mim' / 'configs' / 'efficientnet_v2' / 'metafile.yml',
        root.parent / 'configs' / 'efficientnet_v2' / 'metafile.yml',
    ]
    metafile = next((p for p in candidates if p.is_file()), None)
    assert metafile, f'no EfficientNetV2 metafile among {candidates}'
    models = yaml.safe_load(metafile.read_text())['Models']
    (entry,) = [m for m in models if m['Name'] == model_name]
    return entry['Weights']


def test_backbone_starts_from_the_imagenet_weights_mmpretrain_publishes(
    paper_config, load_config
):
    init = load_config(paper_config).model.backbone.init_cfg
    assert init.type == 'Pretrained'
    assert init.checkpoint == _mmpretrain_weights_url(WEIGHTS_NAME)
    # the file is a whole ImageClassifier: keep its backbone.* weights
    assert init.prefix == 'backbone'
