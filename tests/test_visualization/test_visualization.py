"""Prediction pictures, precision-recall curves and Grad-CAM."""

import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.fileio import dump

from mmfashion_attr.apis import AttributeExtractor
from mmfashion_attr.visualization import (
    AttributeGradCAM,
    attribute_cam,
    attribute_verdicts,
    cam_to_image,
    draw_prediction,
    stack_pictures,
)
from mmfashion_attr.visualization.grad_cam import resize_pad_geometry
from mmfashion_attr.visualization.pr_curves import plot_pr_curves
from mmfashion_attr.visualization.prediction_picture import GREEN, RED
from tests.helpers.tiny_model import tiny_model_files
from tools.analysis_tools import pr_curves
from tools.misc import infer
from tools.visualization import visualize_cam

RESULT = {
    'input': 'a.jpg',
    'category': 'top',
    'attributes': {
        'colour': [
            {'value': 'red', 'score': 0.9},
            {'value': 'blue', 'score': 0.4},
        ],
        'closure': [],
        'category': [{'value': 'top', 'score': 0.8}],
    },
    'abstained': ['closure'],
    'not_applicable': ['sleeve'],
}


@pytest.fixture(scope='module')
def extractor(tmp_path_factory):
    """A random tiny model; ``extractor.files``: config, checkpoint, root."""
    files = tiny_model_files(tmp_path_factory.mktemp('vis'))
    ex = AttributeExtractor(*files[:2])
    ex.files = files
    return ex


def count_colour(img, bgr):
    return int(np.count_nonzero(np.all(img == np.array(bgr), axis=2)))


def test_verdicts_hand_checked():
    gt = {
        'colour': ['red', 'blue'],
        'closure': ['zip'],
        'category': ['top', '?bottom'],
    }
    assert attribute_verdicts(RESULT, gt) == {
        'colour': True,
        'closure': False,
        'category': True,
    }
    assert attribute_verdicts(RESULT, {'closure': []}) == {
        'colour': None,
        'closure': True,
        'category': None,
    }
    assert attribute_verdicts(RESULT, None)['colour'] is None


def test_prediction_picture_boxes_and_size():
    img = np.full((100, 50, 3), 200, np.uint8)
    plain = draw_prediction(img, RESULT, height=200)
    assert plain.shape[0] == 200 and plain.shape[1] > 100
    assert np.array_equal(plain[:, :100], cv2.resize(img, (100, 200)))
    assert count_colour(plain, GREEN) == 0 and count_colour(plain, RED) == 0
    # colour right, closure wrong: one green and one red box
    pic = draw_prediction(
        img,
        RESULT,
        gt={'colour': ['red', 'blue'], 'closure': ['zip']},
        height=200,
    )
    assert count_colour(pic, GREEN) > 50 and count_colour(pic, RED) > 50
    # all wrong: no green
    pic = draw_prediction(img, RESULT, gt={'colour': ['blue']}, height=200)
    assert count_colour(pic, GREEN) == 0 and count_colour(pic, RED) > 50
    # text was written in the panel
    panel = plain[:, 100:]
    assert np.count_nonzero(panel < 128) > 200
    grid = stack_pictures([plain, pic, plain], columns=2, pad=4)
    assert grid.shape == (2 * (200 + 4) + 4, 2 * (plain.shape[1] + 4) + 4, 3)


def manual_grad_cam(model, x, k, level):
    """Grad-CAM with autograd.grad on the backbone output, no hooks."""
    with torch.enable_grad():
        feats = model.backbone(x)
        target = feats[level]
        logits = model.head(model.neck(feats))
        (grad,) = torch.autograd.grad(logits[:, k].sum(), target)
    w = grad.mean(dim=(2, 3), keepdim=True)
    cam = torch.relu((w * target).sum(1)).detach()
    peak = cam.flatten(1).amax(1)[:, None, None]
    return torch.where(peak > 0, cam / peak.clamp_min(1e-12), cam)


@pytest.mark.parametrize('level', [-1, 0])
def test_grad_cam_equals_autograd_reference(extractor, level):
    model = extractor.model
    torch.manual_seed(0)
    x = torch.randn(3, 3, 64, 64)
    k = extractor.schema.flat_index('colour', 'green')
    cam, score = AttributeGradCAM(model, 'backbone', level)(x, k)
    ref = manual_grad_cam(model, x, k, level)
    assert cam.shape == ref.shape and cam.shape[0] == 3
    torch.testing.assert_close(cam, ref, atol=1e-5, rtol=1e-4)
    assert float(cam.min()) >= 0 and float(cam.max()) <= 1 + 1e-6
    with torch.no_grad():
        want = model.head.predict_scores(model.extract_feat(x))[:, k]
    torch.testing.assert_close(score, want, atol=1e-6, rtol=1e-5)
    assert not model.training
    # a neck level is hooked too, and gives its own resolution
    cam_neck, _ = AttributeGradCAM(model, 'neck.1', 0)(x, k)
    assert cam_neck.shape[-1] == model.backbone(x)[0].shape[-1]
    with pytest.raises(KeyError, match='no module'):
        AttributeGradCAM(model, 'nope')


def test_cam_crop_removes_resize_pad_padding(extractor):
    img = np.zeros((40, 80, 3), np.uint8)  # wide: padded top and bottom
    geometry = resize_pad_geometry(extractor.pipeline, img.shape)
    assert geometry == (32, 64, 0, 16)
    cam = np.zeros((64, 64), np.float32)
    cam[16:48] = 1.0  # exactly the image area of the padded input
    full = cam_to_image(cam, 64, geometry, img.shape[:2])
    assert full.shape == (40, 80)
    assert full.min() > 0.99  # no padding left in the map


def test_attribute_cam_and_cli(extractor, tmp_path):
    cfg, ckpt, _ = extractor.files
    img = np.full((48, 64, 3), 90, np.uint8)
    img[10:30, 5:25] = (0, 0, 255)
    path = str(tmp_path / 'wide.png')
    cv2.imwrite(path, img)
    cam, score, pic = attribute_cam(
        extractor, path, 'colour', 'red', target_layer='neck.1', level=0
    )
    assert cam.shape == (48, 64) and 0 <= cam.min() and cam.max() <= 1
    assert pic.shape == (48 + 22, 128, 3)
    assert np.array_equal(pic[22:, :64], img)  # left: the image itself
    assert 0 < score < 1
    out = tmp_path / 'cam.png'
    visualize_cam.main(
        [
            cfg,
            ckpt,
            path,
            '--attribute',
            'colour',
            '--out',
            str(out),
            '--layer',
            'neck.1',
            '--level',
            '0',
        ]
    )
    saved = cv2.imread(str(out))
    assert saved.shape == (70, 128, 3) and saved[22:, 64:].std() > 1


def test_pr_curves_files(small_schema, tmp_path):
    s = small_schema
    rng = np.random.default_rng(0)
    n = 60
    gt = rng.random((n, s.num_values)) < 0.3
    mask = np.ones_like(gt)
    mask[:, s.slice('closure')] = False  # unlabelled: no picture
    scores = np.clip(gt * 0.4 + rng.random(gt.shape) * 0.6, 0, 1)
    files = plot_pr_curves(
        scores.astype(np.float32),
        gt,
        mask,
        s,
        str(tmp_path / 'pr'),
        thresholds=0.5,
        dpi=50,
    )
    names = sorted(osp.basename(f) for f in files)
    assert names == [
        'pr_category.png',
        'pr_colour.png',
        'pr_pattern.png',
        'pr_sleeve.png',
    ]
    pic = cv2.imread(files[0])
    assert pic.shape == (200, 250, 3)  # 5 x 4 inches at 50 dpi
    assert pic.std() > 10  # axes and curves drawn
    # the CLI on a test.py-style predictions pickle
    samples = [
        dict(
            pred_score=torch.from_numpy(scores[k]).float(),
            gt_attr=torch.from_numpy(gt[k].astype(np.uint8)),
            gt_attr_mask=torch.from_numpy(mask[k].astype(np.uint8)),
            category_idx=-1,
        )
        for k in range(n)
    ]
    dump(samples, str(tmp_path / 'preds.pkl'))
    s.dump(str(tmp_path / 'schema.json'))
    pr_curves.main(
        [
            str(tmp_path / 'preds.pkl'),
            '--schema',
            str(tmp_path / 'schema.json'),
            '--out-dir',
            str(tmp_path / 'cli'),
            '--attributes',
            'colour',
        ]
    )
    assert osp.isfile(tmp_path / 'cli' / 'pr_colour.png')
    assert not osp.exists(tmp_path / 'cli' / 'pr_pattern.png')


def _cam_args(extractor, image, out, *extra):
    cfg, ckpt, _ = extractor.files
    return [cfg, ckpt, image, '--attribute', 'colour', '--out', out, *extra]


def test_cam_tool_refuses_an_unwritable_output(extractor, tmp_path, capsys):
    img = str(tmp_path / 'a.png')
    cv2.imwrite(img, np.full((30, 40, 3), 90, np.uint8))
    tool = visualize_cam
    out = tmp_path / 'missing' / 'cam.png'
    assert tool.main(_cam_args(extractor, img, str(out))) == 1
    err = capsys.readouterr().err
    assert err.strip() == (
        f'error: {out}: the folder {tmp_path / "missing"} does not exist'
    )
    # a folder where the file should go: cv2.imwrite fails
    (tmp_path / 'cam.png').mkdir()
    assert tool.main(_cam_args(extractor, img, str(tmp_path / 'cam.png'))) == 1
    assert 'cannot be written' in capsys.readouterr().err
    assert tool.main(_cam_args(extractor, img, str(tmp_path / 'cam.xyz'))) == 1
    assert 'cannot be written' in capsys.readouterr().err


def test_cam_picture_size(extractor, tmp_path):
    """A 4032 x 3024 photo gives halves of the network input size (64 for
    the tiny model), or of --max-size."""
    img = np.zeros((3024, 4032, 3), np.uint8)
    img[:, :2016] = (0, 0, 255)
    path = str(tmp_path / 'photo.jpg')
    cv2.imwrite(path, img)
    tool = visualize_cam
    out = str(tmp_path / 'cam.png')
    assert tool.main(_cam_args(extractor, path, out)) == 0
    assert cv2.imread(out).shape == (22 + 48, 2 * 64, 3)
    assert tool.main(_cam_args(extractor, path, out, '--max-size', '400')) == 0
    pic = cv2.imread(out)
    assert pic.shape == (22 + 300, 2 * 400, 3)
    # the left half is the photo, shrunk: red left, black right (JPEG)
    assert np.abs(pic[22 + 150, 100].astype(int) - (0, 0, 255)).max() < 4
    assert pic[22 + 150, 300].max() < 4


def test_prediction_pictures_sized_and_checked(extractor, tmp_path, capsys):
    cfg, ckpt, _ = extractor.files
    path = str(tmp_path / 'photo.jpg')
    cv2.imwrite(path, np.full((3024, 4032, 3), 120, np.uint8))
    tool = infer
    vis = tmp_path / 'vis'
    args = [
        cfg,
        ckpt,
        path,
        '--out',
        str(tmp_path / 'p.jsonl'),
        '--no-progress',
    ]
    assert tool.main(args + ['--vis-dir', str(vis), '--max-size', '512']) == 0
    pic = cv2.imread(str(vis / 'photo.png'))
    # the photo shrunk to 512 x 384 next to the text panel
    assert pic.shape[0] == 384
    assert np.all(pic[:, :512] == pic[0, 0]) and pic.shape[1] > 512
    assert tool.main(args + ['--vis-dir', str(tmp_path / 'v2')]) == 0
    small = cv2.imread(str(tmp_path / 'v2' / 'photo.png'))
    assert small.shape[0] < 384 and small.shape[1] < 1000
    # a picture that cannot be written fails the run
    (tmp_path / 'v3' / 'photo.png').mkdir(parents=True)
    capsys.readouterr()
    assert tool.main(args + ['--vis-dir', str(tmp_path / 'v3')]) == 1
    err = capsys.readouterr().err
    assert 'photo.png: cannot be written' in err
    assert 'error: 1 pictures could not be written' in err


def test_fit_within_shrinks_and_never_enlarges():
    from mmfashion_attr.visualization import fit_within

    photo = np.zeros((3024, 4032, 3), np.uint8)
    assert fit_within(photo, 384).shape == (288, 384, 3)
    assert fit_within(photo, None) is photo
    small = np.zeros((30, 40, 3), np.uint8)
    assert fit_within(small, 384) is small
    assert fit_within(np.zeros((1000, 10, 3), np.uint8), 100).shape == (
        100,
        1,
        3,
    )
