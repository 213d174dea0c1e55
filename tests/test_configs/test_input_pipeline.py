"""The paper's input: 384 px keeping the aspect ratio, Keras normalisation,
and its augmentation in training only.

Parekh & Shaik (VISAPP 2023), section 5.2: images "resized to 380 x 380 by
maintaining aspect ratio" (384 here: EfficientNetV2-M's 12 x 12 top map);
"zoom in and out within range of +/- 20%, translation within +/-20% both
in horizontal and vertical directions, rotation within +/- 10 degrees,
shear in range +/-10% and flipping of images from left to right with 50%
probability". The ImageNet weights are Keras' EfficientNetV2-M, whose
preprocessing is ``x / 127.5 - 1`` on RGB pixels.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from mmpretrain.registry import MODELS, TRANSFORMS

SIZE = 384
APPROACH3 = 'configs/paper/approach3_effnetv2-m_8xb16_catalog-384px.py'
SPLITS = ('train', 'val', 'test')


def _pipeline(cfg, split: str) -> list:
    return cfg[f'{split}_dataloader'].dataset.pipeline


def _only(pipeline: list, type_name: str) -> dict:
    found = [t for t in pipeline if t.type == type_name]
    assert len(found) == 1, f'expected one {type_name}, got {found}'
    return found[0]


def _is_random(transform_cfg: dict) -> bool:
    """Whether the transform draws random numbers (mmcv marks such
    transforms with ``cache_randomness``)."""
    transform = TRANSFORMS.build(transform_cfg)
    return bool(getattr(transform, '_methods_with_randomness', []))


def test_normalisation_is_keras_rgb_scaling(paper_config, load_config):
    """BGR pixels in (as loaded) -> RGB / 127.5 - 1 out."""
    cfg = load_config(paper_config)
    pre = MODELS.build(cfg.model.data_preprocessor)
    blue, green, red = 10, 100, 250
    img = torch.empty(3, 2, 2, dtype=torch.uint8)
    img[0], img[1], img[2] = blue, green, red
    out = pre(dict(inputs=[img], data_samples=None), False)['inputs'][0]
    want = torch.tensor([red, green, blue], dtype=torch.float32) / 127.5 - 1
    torch.testing.assert_close(out, want[:, None, None].expand(3, 2, 2))


@pytest.mark.parametrize('split', SPLITS)
def test_resize_to_384_keeping_aspect_ratio(split, paper_config, load_config):
    pipeline = _pipeline(load_config(paper_config), split)
    resize = TRANSFORMS.build(_only(pipeline, 'ResizePad'))
    img = np.full((150, 300, 3), 200, np.uint8)  # 2:1 landscape
    out = resize(dict(img=img, img_shape=img.shape[:2]))['img']
    assert out.shape == (SIZE, SIZE, 3)
    rows = np.flatnonzero(out.any(axis=(1, 2)))
    cols = np.flatnonzero(out.any(axis=(0, 2)))
    # the photo fills the width and half the height, centred
    assert len(cols) == SIZE and len(rows) == SIZE // 2
    assert rows[0] == SIZE // 4


def test_paper_augmentation_in_training(paper_config, load_config):
    pipeline = _pipeline(load_config(paper_config), 'train')
    affine = _only(pipeline, 'FashionRandomAffine')
    assert (affine.zoom, affine.translate) == (0.2, 0.2)
    assert (affine.rotate, affine.shear) == (10, 0.1)
    assert affine.get('prob', 1.0) == 1.0
    flip = _only(pipeline, 'RandomFlip')
    assert flip.prob == 0.5 and flip.direction == 'horizontal'
    random = [t.type for t in pipeline if _is_random(t)]
    assert sorted(random) == ['FashionRandomAffine', 'RandomFlip']


@pytest.mark.parametrize('split', ('val', 'test'))
def test_no_augmentation_in_evaluation(split, paper_config, load_config):
    """A flip (or any random transform) in evaluation changes the scores."""
    cfg = load_config(paper_config)
    pipeline = _pipeline(cfg, split)
    assert not [t.type for t in pipeline if 'Flip' in t.type]
    assert not [t.type for t in pipeline if _is_random(t)]
    assert 'tta_model' not in cfg and 'tta_pipeline' not in cfg


def _centroid(img: np.ndarray) -> tuple:
    ys, xs = np.nonzero(img[..., 0])
    weights = img[ys, xs, 0].astype(np.float64)
    return (
        float((xs * weights).sum() / weights.sum()),
        float((ys * weights).sum() / weights.sum()),
    )


def _fixed_draw(cfg, **ranges) -> object:
    """The config's training affine with each range narrowed to one value,
    so that its "random" draw is known."""
    affine = _only(_pipeline(cfg, 'train'), 'FashionRandomAffine')
    return TRANSFORMS.build(dict(affine, **ranges))


def test_translation_is_a_fraction_of_width_and_height(load_config):
    """x moves by translate * width, y by translate * height."""
    cfg = load_config(APPROACH3)
    shift = _fixed_draw(
        cfg, zoom=(1.0, 1.0), translate=(0.2, 0.2), rotate=0, shear=0
    )
    h, w = 40, 100
    img = np.random.RandomState(0).randint(1, 255, (h, w, 3), np.uint8)
    out = shift(dict(img=img.copy()))['img']
    dx, dy = 20, 8  # 0.2 * 100, 0.2 * 40
    np.testing.assert_array_equal(out[dy:, dx:], img[: h - dy, : w - dx])
    assert not out[:dy].any() and not out[:, :dx].any()


def test_zoom_and_translation_map_a_point_as_computed_by_hand(load_config):
    """One fixed draw on a 160 x 80 image: a marked point lands where
    zoom about the centre plus a (width, height)-scaled shift puts it."""
    cfg = load_config(APPROACH3)
    # one translate range draws both shifts: x and y get the same fraction
    zoom, frac = 1.15, -0.1
    warp = _fixed_draw(
        cfg, zoom=(zoom, zoom), translate=(frac, frac), rotate=0, shear=0
    )
    h, w, x0, y0 = 80, 160, 60, 30
    img = np.zeros((h, w, 3), np.uint8)
    img[y0 - 1 : y0 + 2, x0 - 1 : x0 + 2] = 255
    out = warp(dict(img=img))['img']
    cx, cy = (w - 1) / 2, (h - 1) / 2
    want_x = cx + zoom * (x0 - cx) + frac * w
    want_y = cy + zoom * (y0 - cy) + frac * h
    got_x, got_y = _centroid(out)
    assert got_x == pytest.approx(want_x, abs=0.3)
    assert got_y == pytest.approx(want_y, abs=0.3)
