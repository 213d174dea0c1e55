"""Geometry and determinism of the paper's input pipeline transforms."""

import math

import cv2
import numpy as np
import pytest
import torch
from mmcv.transforms import Compose
from mmengine.runner import set_random_seed
from mmpretrain.registry import TRANSFORMS

import mmfashion_attr  # noqa: F401
from mmfashion_attr.datasets.transforms import (
    FashionRandomAffine,
    ResizePad,
    affine_matrix,
)


def _centroid(img: np.ndarray):
    """Intensity-weighted centroid ``(x, y)`` of a gray image."""
    img = img.astype(np.float64)
    if img.ndim == 3:
        img = img.sum(-1)
    ys, xs = np.mgrid[: img.shape[0], : img.shape[1]]
    total = img.sum()
    assert total > 0, 'the marked point left the image'
    return (xs * img).sum() / total, (ys * img).sum() / total


def _marked(h, w, x, y, r=1, channels=3):
    img = np.zeros((h, w, channels), np.uint8)
    img[y - r : y + r + 1, x - r : x + r + 1] = 255
    return img


# ------------------------------------------------------------- ResizePad
def test_resize_pad_landscape_geometry_and_keys():
    img = _marked(50, 100, 29, 19, r=2)  # w=100, h=50
    out = ResizePad(scale=40, interpolation='area')(
        dict(img=img, img_shape=(50, 100))
    )
    assert out['img'].shape == (40, 40, 3)
    assert out['img_shape'] == (40, 40) == out['pad_shape']
    # factor 0.4: 100x50 -> 40x20, centered: 10 rows of padding on top
    assert out['scale_factor'] == pytest.approx((0.4, 0.4))
    assert out['pad_offset'] == (0, 10)
    assert (out['img'][:10] == 0).all() and (out['img'][30:] == 0).all()
    # pixel-center convention: (x + 0.5) * s - 0.5; area keeps the mass
    cx, cy = _centroid(out['img'])
    assert cx == pytest.approx((29 + 0.5) * 0.4 - 0.5, abs=0.15)
    assert cy == pytest.approx((19 + 0.5) * 0.4 - 0.5 + 10, abs=0.15)


def test_resize_pad_portrait_pad_value_and_corner_mode():
    img = np.full((60, 30, 3), 200, np.uint8)
    out = ResizePad(scale=20, pad_val=(1, 2, 3))(dict(img=img))
    # 30x60 -> 10x20, 5 columns of padding each side
    assert out['pad_offset'] == (5, 0)
    assert (out['img'][:, :5] == [1, 2, 3]).all()
    assert (out['img'][:, 15:] == [1, 2, 3]).all()
    assert (out['img'][:, 5:15] == 200).all()
    out = ResizePad(scale=20, center=False, pad_val=7)(dict(img=img))
    assert out['pad_offset'] == (0, 0)
    assert (out['img'][:, :10] == 200).all()
    assert (out['img'][:, 10:] == 7).all()


def test_resize_pad_odd_padding_gray_and_upscale():
    img = np.full((7, 10), 9, np.uint8)  # gray, upscaled 10 -> 33
    out = ResizePad(scale=33)(dict(img=img))
    assert out['img'].shape == (33, 33)
    nh = round(7 * 3.3)  # 23
    top = (33 - nh) // 2
    assert out['pad_offset'] == (0, top)
    assert (out['img'][top : top + nh] == 9).all()
    assert (out['img'][:top] == 0).all()
    assert (out['img'][top + nh :] == 0).all()
    one_channel = ResizePad(scale=33)(dict(img=img[..., None]))['img']
    assert one_channel.shape == (33, 33, 1)


def test_resize_pad_rejects_bad_args():
    with pytest.raises(ValueError):
        ResizePad(scale=0)
    with pytest.raises(ValueError):
        ResizePad(scale=10, interpolation='cubic-ish')
    with pytest.raises(ValueError, match='channels'):
        ResizePad(scale=10, pad_val=(1, 2))(dict(img=np.zeros((4, 8, 3))))


# --------------------------------------------------- FashionRandomAffine
def test_affine_matrix_matches_cv2_rotation():
    # an independent reference: cv2's own rotation matrix about the center
    w, h = 120, 80
    ref = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), 7.5, 1.3)
    ours = affine_matrix(w, h, scale=1.3, angle=7.5)
    np.testing.assert_allclose(ours[:2], ref, atol=1e-9)


def test_affine_matrix_components():
    w, h = 101, 51
    c = np.array([50.0, 25.0, 1.0])
    # every pure zoom / rotation / shear keeps the center fixed
    for kw in (
        dict(scale=1.2),
        dict(angle=10),
        dict(shear_x=0.1),
        dict(shear_y=-0.1),
    ):
        np.testing.assert_allclose(affine_matrix(w, h, **kw) @ c, c)
    # a pure translation moves every point by (tx, ty)
    m = affine_matrix(w, h, tx=5, ty=-3)
    np.testing.assert_allclose(m @ [0, 0, 1], [5, -3, 1])
    # shear x: a point one row below the center moves right by shear_x
    m = affine_matrix(w, h, shear_x=0.1)
    np.testing.assert_allclose(m @ [50, 26, 1], [50.1, 26, 1])


@pytest.mark.parametrize('seed', range(6))
def test_marked_point_lands_where_the_matrix_says(seed):
    np.random.seed(seed)
    w, h, x0, y0 = 120, 80, 50, 34
    img = _marked(h, w, x0, y0, r=1)
    out = FashionRandomAffine()(dict(img=img))
    mat = out['affine_matrix']
    assert out['img'].shape == img.shape and out['img_shape'] == (h, w)
    assert not np.allclose(mat, np.eye(3))
    ex, ey, _ = mat @ [x0, y0, 1]
    cx, cy = _centroid(out['img'])
    assert cx == pytest.approx(ex, abs=0.3)
    assert cy == pytest.approx(ey, abs=0.3)


def test_parameters_stay_in_the_paper_ranges():
    w, h = 200, 100
    t = FashionRandomAffine()
    np.random.seed(0)
    seen = dict(scale=[], angle=[], tx=[], ty=[], sx=[], sy=[])
    for _ in range(300):
        p = t._sample()
        seen['scale'].append(p['scale'])
        seen['angle'].append(p['angle'])
        seen['tx'].append(p['tx'])
        seen['ty'].append(p['ty'])
        seen['sx'].append(p['shear_x'])
        seen['sy'].append(p['shear_y'])
    for key, (lo, hi) in dict(
        scale=(0.8, 1.2),
        angle=(-10, 10),
        tx=(-0.2, 0.2),
        ty=(-0.2, 0.2),
        sx=(-0.1, 0.1),
        sy=(-0.1, 0.1),
    ).items():
        vals = np.array(seen[key])
        assert vals.min() >= lo and vals.max() <= hi, key
        # spread over the range, both signs / directions
        assert vals.min() < lo + 0.2 * (hi - lo), key
        assert vals.max() > hi - 0.2 * (hi - lo), key
    # rotation only: the matrix's angle is the drawn one, translation in px
    t = FashionRandomAffine(zoom=0, translate=0, shear=0, rotate=10)
    np.random.seed(3)
    mat = t(dict(img=np.zeros((h, w, 3), np.uint8)))['affine_matrix']
    angle = math.degrees(math.atan2(mat[0, 1], mat[0, 0]))
    assert -10 <= angle <= 10 and abs(angle) > 1e-6
    assert np.linalg.det(mat[:2, :2]) == pytest.approx(1.0)
    t = FashionRandomAffine(zoom=0, rotate=0, shear=0, translate=0.2)
    for _ in range(50):
        mat = t(dict(img=np.zeros((h, w, 3), np.uint8)))['affine_matrix']
        np.testing.assert_allclose(mat[:2, :2], np.eye(2))
        assert abs(mat[0, 2]) <= 0.2 * w and abs(mat[1, 2]) <= 0.2 * h


def test_border_fill_and_prob():
    img = np.full((40, 60, 3), 100, np.uint8)
    t = FashionRandomAffine(
        zoom=(0.5, 0.5),
        translate=0,
        rotate=0,
        shear=0,
        pad_val=(10, 20, 30),
        interpolation='nearest',
    )
    out = t(dict(img=img.copy()))
    assert (out['img'][0, 0] == [10, 20, 30]).all()  # zoomed out: border
    assert (out['img'][20, 30] == 100).all()
    skip = FashionRandomAffine(prob=0.0)(dict(img=img.copy()))
    np.testing.assert_array_equal(skip['img'], img)
    np.testing.assert_array_equal(skip['affine_matrix'], np.eye(3))
    # >4 channels and gray images keep their shape
    many = FashionRandomAffine()(dict(img=np.ones((20, 30, 6), np.uint8)))
    assert many['img'].shape == (20, 30, 6)
    gray = FashionRandomAffine()(dict(img=np.ones((20, 30), np.uint8)))
    assert gray['img'].shape == (20, 30)
    with pytest.raises(ValueError):
        FashionRandomAffine(prob=1.5)
    with pytest.raises(ValueError):
        FashionRandomAffine(zoom=1.0)


def test_deterministic_under_seed():
    img = np.random.RandomState(0).randint(0, 255, (48, 64, 3), np.uint8)
    t = FashionRandomAffine()
    set_random_seed(123)
    a = t(dict(img=img.copy()))
    set_random_seed(123)
    b = t(dict(img=img.copy()))
    set_random_seed(124)
    c = t(dict(img=img.copy()))
    np.testing.assert_array_equal(a['img'], b['img'])
    np.testing.assert_array_equal(a['affine_matrix'], b['affine_matrix'])
    assert not np.allclose(a['affine_matrix'], c['affine_matrix'])


# ------------------------------------------------------- whole pipeline
def _paper_pipeline(scale):
    return Compose(
        [
            TRANSFORMS.build(t)
            for t in [
                dict(type='LoadImageFromFile'),
                dict(
                    type='FashionRandomAffine',
                    zoom=0.2,
                    translate=0.2,
                    rotate=10,
                    shear=0.1,
                ),
                dict(type='RandomFlip', prob=1.0, direction='horizontal'),
                dict(type='ResizePad', scale=scale),
                dict(type='PackAttrInputs'),
            ]
        ]
    )


def test_paper_pipeline_point_and_determinism(tmp_path):
    w, h, x0, y0 = 90, 60, 40, 25
    path = str(tmp_path / 'img.png')
    cv2.imwrite(path, _marked(h, w, x0, y0, r=1))
    gt = np.array([1, 0, 1], np.uint8)
    info = dict(
        img_path=path,
        gt_attr=gt,
        gt_attr_mask=np.ones(3, np.uint8),
        category_idx=2,
    )
    pipe = _paper_pipeline(scale=45)
    set_random_seed(7)
    out = pipe(dict(info))
    set_random_seed(7)
    again = pipe(dict(info))
    assert torch.equal(out['inputs'], again['inputs'])
    assert out['inputs'].shape == (3, 45, 45)
    sample = out['data_samples']
    assert sample.metainfo['category_idx'] == 2
    assert sample.gt_attr.tolist() == [1, 0, 1]
    # follow the point: affine, then flip (x -> w - 1 - x), then resize-pad
    np.random.seed(7)
    random_affine = FashionRandomAffine()
    ax, ay, _ = random_affine(dict(img=np.zeros((h, w, 3), np.uint8)))[
        'affine_matrix'
    ] @ [x0, y0, 1]
    fx, fy = w - 1 - ax, ay
    s = 45 / 90
    top = (45 - round(60 * s)) // 2
    cx, cy = _centroid(out['inputs'].numpy().transpose(1, 2, 0))
    assert cx == pytest.approx((fx + 0.5) * s - 0.5, abs=0.3)
    assert cy == pytest.approx((fy + 0.5) * s - 0.5 + top, abs=0.3)


@pytest.mark.parametrize(
    'dtype,shape,fill',
    [
        (np.uint8, (5, 7, 3), (10, 20, 30)),  # cv2.copyMakeBorder path
        (np.uint8, (5, 7), (9,)),
        (np.uint8, (5, 7, 1), (9,)),
        (np.float32, (5, 7, 4), (0.5, 1.5, 2.5, 3.5)),
        (np.uint8, (5, 7, 6), (1, 2, 3, 4, 5, 6)),  # numpy fallback
        (np.int16, (5, 7, 3), (-1, 0, 1)),  # numpy fallback
    ],
)
def test_pad_matches_numpy_pad(dtype, shape, fill):
    from mmfashion_attr.datasets.transforms.resize_pad import _pad

    rng = np.random.default_rng(0)
    img = (rng.random(shape) * 100).astype(dtype)
    out = _pad(img, fill, 1, 2, 3, 4)
    planes = img[..., None] if img.ndim == 2 else img
    ref = np.stack(
        [
            np.pad(planes[..., c], ((1, 2), (3, 4)), constant_values=v)
            for c, v in enumerate(fill)
        ],
        axis=-1,
    )
    ref = ref[..., 0] if img.ndim == 2 else ref
    assert out.dtype == img.dtype and out.shape == ref.shape
    np.testing.assert_array_equal(out, ref)
