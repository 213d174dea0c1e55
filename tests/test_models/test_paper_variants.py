"""The paper's five variants with EfficientNetV2-M at 384 px."""

import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmpretrain.registry import MODELS

from mmfashion_attr.models import ChannelPreservingFPN
from mmfashion_attr.utils.compat import get_mmdet_fpn
from tests.helpers.tinydata import REPO

CFG = osp.join(
    REPO, 'configs', 'paper', '{}_effnetv2-m_8xb16_catalog-384px.py'
)
# variant -> (neck level shapes (C, H, W), fused width)
EXPECTED = {
    'baseline': ([(1280, 12, 12)], 1280),
    'approach1': ([(80, 48, 48), (176, 24, 24), (512, 12, 12)], 768),
    'approach1-noattn': ([(80, 48, 48), (176, 24, 24), (512, 12, 12)], 768),
    'approach2': ([(80, 48, 48), (176, 24, 24), (512, 12, 12)], 768),
    'approach3': ([(80, 48, 48), (176, 24, 24), (512, 12, 12)], 768),
    'approach4': (
        [
            (256, 48, 48),
            (256, 24, 24),
            (256, 12, 12),
            (256, 6, 6),
            (256, 3, 3),
        ],
        1280,
    ),
}


@pytest.fixture(scope='module')
def image():
    torch.manual_seed(0)
    return torch.randn(1, 3, 384, 384)


def build(variant, variant_schema_file):
    cfg = Config.fromfile(CFG.format(variant))
    cfg.model.backbone.init_cfg = None  # no download in tests
    cfg.model.head.schema = variant_schema_file
    return MODELS.build(cfg.model).eval()


@pytest.mark.parametrize('variant', list(EXPECTED))
def test_variant_shapes(variant, variant_schema_file, image):
    model = build(variant, variant_schema_file)
    levels, fused = EXPECTED[variant]
    with torch.no_grad():
        feats = model.backbone(image)
        neck_in = feats
        # run the neck stage by stage to see the pyramid levels
        for stage in model.neck[:-1]:
            neck_in = stage(neck_in)
        assert [tuple(f.shape[1:]) for f in neck_in] == levels
        (vec,) = model.neck[-1](neck_in)
        assert vec.shape == (1, fused)
        assert model.head.in_channels == fused
        scores = model(image, mode='predict')[0].pred_score
    assert scores.shape == (50 + 89 + 3,)


def test_approach4_neck_is_mmdet_fpn(variant_schema_file):
    model = build('approach4', variant_schema_file)
    fpn = model.neck[0]
    assert type(fpn) is get_mmdet_fpn()
    assert type(fpn).__module__ == 'mmdet.models.necks.fpn'
    assert fpn.add_extra_convs == 'on_input' and fpn.num_outs == 5
    # P6 from the 512-channel C5 input, P7 from P6 (RetinaNet)
    assert fpn.fpn_convs[3].conv.in_channels == 512
    assert fpn.fpn_convs[4].conv.in_channels == 256


@pytest.mark.parametrize(
    'variant, fpn_type, n_cbam',
    [
        ('baseline', None, 1),
        ('approach1', None, 3),
        ('approach1-noattn', None, 0),
        ('approach2', ChannelPreservingFPN, 0),
        ('approach3', ChannelPreservingFPN, 3),
    ],
)
def test_variant_composition(variant, fpn_type, n_cbam, variant_schema_file):
    model = build(variant, variant_schema_file)
    types = [type(m).__name__ for m in model.neck]
    if fpn_type:
        assert isinstance(model.neck[0], fpn_type)
        assert isinstance(model.neck[0], get_mmdet_fpn())
    else:
        assert 'FPN' not in ' '.join(types)
    cbams = [m for m in model.neck if type(m).__name__ == 'ScaleWiseCBAM']
    assert sum(len(m.attentions) for m in cbams) == n_cbam


def test_paper_training_settings():
    cfg = Config.fromfile(CFG.format('approach3'))
    assert cfg.optim_wrapper.optimizer.type == 'Adam'
    assert cfg.optim_wrapper.optimizer.lr == 1e-5
    assert cfg.param_scheduler.step_size == 8
    assert cfg.param_scheduler.gamma == 0.75
    assert 'end' in cfg.param_scheduler
    assert cfg.train_dataloader.batch_size * 8 == 128
    aff = [t for t in cfg.train_pipeline if t.type == 'FashionRandomAffine']
    assert aff and aff[0].zoom == 0.2 and aff[0].translate == 0.2
    assert aff[0].rotate == 10 and aff[0].shear == 0.1
    flip = [t for t in cfg.train_pipeline if t.type == 'RandomFlip'][0]
    assert flip.prob == 0.5 and flip.direction == 'horizontal'
    assert cfg.val_evaluator.thresholds == 0.3
    assert cfg.model.backbone.arch == 'm'
    assert cfg.model.backbone.init_cfg.checkpoint.startswith('https://')
