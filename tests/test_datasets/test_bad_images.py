"""The bad-input catalogue: odd and unusable image files.

Every file is generated (``tests/helpers/bad_images.py``). Guards against: a
week-long run dying on one unreadable upload (mmcv's LoadImageFromFile
asserts), silently learning from a truncated or mis-converted image
(cv2 drops alpha, ignores 16-bit grayscale scaling...), a decompression
bomb allocating gigabytes, and validation / inference losing or crashing
on a bad image.
"""

import json
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.runner import Runner
from PIL import Image

from mmfashion_attr.datasets.transforms.load_image_tolerant import (
    BadImageError,
    SafeLoadImage,
    decode_image,
)
from mmfashion_attr.engine import BadImageLoggerHook
from tests.helpers.bad_images import (
    META_KEYS,
    RED,
    bad_catalogue,
    loadable_catalogue,
    save_image,
    write_files,
)
from tests.helpers.tinydata import make_tiny_catalog, write_tiny_config


# ----------------------------------------------------------------- unit
@pytest.mark.parametrize('name', sorted(loadable_catalogue()))
def test_odd_but_valid_images_load_as_8bit_bgr(tmp_path, name):
    """Each odd format decodes to the RGB content a viewer shows (EXIF
    applied, transparency on white, 16 bits scaled), stored BGR uint8."""
    data, expected_rgb, tol = loadable_catalogue()[name]
    paths = write_files(str(tmp_path), {name: (data,)})
    out = SafeLoadImage(on_error='raise').transform(dict(img_path=paths[name]))
    img = out['img']
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
    assert img.shape == expected_rgb.shape
    assert out['img_shape'] == out['ori_shape'] == expected_rgb.shape[:2]
    diff = np.abs(img[..., ::-1].astype(int) - expected_rgb.astype(int))
    assert diff.max() <= tol, (name, diff.max())
    rgb = SafeLoadImage(channel_order='rgb').transform(
        dict(img_path=paths[name])
    )['img']
    assert np.array_equal(rgb, img[..., ::-1])


@pytest.mark.parametrize('name', sorted(bad_catalogue()))
def test_unusable_files_raise_skip_or_mark(tmp_path, name):
    data, words = bad_catalogue()[name]
    paths = write_files(str(tmp_path), {name: (data,)})
    path = paths[name]
    with pytest.raises(BadImageError) as e:
        SafeLoadImage(on_error='raise').transform(dict(img_path=path))
    assert e.value.path == path and str(e.value).startswith(f'{path}: ')
    assert words in str(e.value)

    skip = SafeLoadImage(on_error='skip')
    assert skip.transform(dict(img_path=path)) is None
    assert skip.num_failed == 1
    # the refusal travels with the next sample this instance loads
    good = write_files(
        str(tmp_path),
        {'ok.png': (save_image(Image.new('RGB', (3, 2), RED), 'PNG'),)},
    )['ok.png']
    nxt = skip.transform(dict(img_path=good))
    assert nxt['skipped_images'] == [str(e.value)]
    assert 'skipped_images' not in skip.transform(dict(img_path=good))

    gt = np.ones(5, np.uint8)
    marked = SafeLoadImage(on_error='mark', placeholder_size=(6, 5)).transform(
        dict(img_path=path, gt_attr=gt, gt_attr_mask=gt.copy())
    )
    assert marked['load_error'] == e.value.reason
    assert marked['img'].shape == (6, 5, 3) and (marked['img'] == 255).all()
    assert not marked['gt_attr_mask'].any()  # unlabelled: no loss, no metric


def test_missing_file_and_size_limits(tmp_path):
    with pytest.raises(BadImageError, match='cannot read'):
        SafeLoadImage(on_error='raise').load(str(tmp_path / 'nope.jpg'))
    one = save_image(Image.new('RGB', (1, 1)), 'PNG')
    with pytest.raises(ValueError, match='smaller than min_size=2'):
        decode_image(one, min_size=2)
    # the bomb guard reads only the header: a 1-gigapixel claim costs
    # nothing, whatever max_pixels is
    with pytest.raises(ValueError, match='max_pixels=1000'):
        decode_image(
            save_image(Image.new('RGB', (50, 50)), 'PNG'), max_pixels=1000
        )


def test_reduced_jpeg_decoding(tmp_path):
    """decode_scale: 1/2 size while the longer side stays >= 384, same
    picture (vs an area-resized full decode), full size in ori_shape."""
    from mmfashion_attr.datasets.transforms.load_image_tolerant import (
        jpeg_reduction,
    )

    assert [jpeg_reduction(800, 1000, s) for s in (None, 384, 200, 100)] == [
        1,
        2,
        4,
        8,
    ]
    yy, xx = np.mgrid[0:1000, 0:800]
    smooth = np.stack(
        [xx * 255 // 800, yy * 255 // 1000, np.full_like(xx, 90)], -1
    ).astype(np.uint8)
    paths = write_files(
        str(tmp_path),
        {
            'big.jpg': (
                save_image(Image.fromarray(smooth), 'JPEG', quality=95),
            ),
            'big.png': (save_image(Image.fromarray(smooth), 'PNG'),),
        },
    )
    out = SafeLoadImage(decode_scale=384).transform(
        dict(img_path=paths['big.jpg'])
    )
    assert out['img'].shape == (500, 400, 3)
    assert out['img_shape'] == (500, 400) and out['ori_shape'] == (1000, 800)
    full = SafeLoadImage().transform(dict(img_path=paths['big.jpg']))['img']
    ref = cv2.resize(full, (400, 500), interpolation=cv2.INTER_AREA)
    assert np.abs(out['img'].astype(int) - ref).mean() < 2
    png = SafeLoadImage(decode_scale=384).transform(
        dict(img_path=paths['big.png'])
    )
    assert png['img'].shape == (1000, 800, 3)  # not a JPEG: full decode


def test_pillow_global_settings_untouched():
    from PIL import ImageFile

    before = (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES)
    SafeLoadImage().transform(dict(img_path='/nonexistent.jpg'))
    assert (
        (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES)
        == before
        == (89478485, False)
    )


def test_stock_loader_crashes_or_corrupts(tmp_path):
    """Without the fix: mmcv's LoadImageFromFile kills the run on a
    non-image and a truncated file, and silently shows the hidden colour
    under transparent pixels (black instead of the page's white)."""
    from mmcv.transforms import LoadImageFromFile

    bad = write_files(str(tmp_path), bad_catalogue())
    for name in ('html.jpg', 'truncated.jpg', 'zero.jpg'):
        with pytest.raises(Exception):
            LoadImageFromFile().transform(dict(img_path=bad[name]))
    ok = write_files(str(tmp_path), loadable_catalogue())
    img = LoadImageFromFile().transform(
        dict(img_path=ok['palette_transparent.png'])
    )['img']
    assert (img[:, :4] == 0).all()


# ---------------------------------------------------------- integration
def catalog_with_bad_images(root, bad_names, n=8):
    """The tiny catalog with images ``img/00i.png`` replaced by unusable
    files for the first ``len(bad_names)`` odd indices."""
    make_tiny_catalog(root, n=n, drop=())
    bad = bad_catalogue()
    replaced = []
    for i, name in zip(range(1, n, 2), bad_names):
        path = osp.join(root, 'img', f'{i:03d}.png')
        with open(path, 'wb') as f:
            f.write(bad[name][0])
        replaced.append(path)
    return replaced


def safe_config(
    root, work, train_on_error='skip', hook=None, epochs=2, extra=''
):
    pack = f'dict(type="PackAttrInputs", meta_keys={META_KEYS!r})'
    hook = hook or dict(type='BadImageLoggerHook')
    return write_tiny_config(
        root,
        work,
        epochs=epochs,
        batch=2,
        extra=(
            "custom_imports = dict(imports=['mmfashion_attr', "
            "'mmfashion_attr.engine'], allow_failed_imports=False)\n"
            f'_safe = dict(type="SafeLoadImage", '
            f'on_error={train_on_error!r})\n'
            '_mark = dict(type="SafeLoadImage", on_error="mark")\n'
            f'_tail = [dict(type="ResizePad", scale=64), {pack}]\n'
            'train_dataloader = dict(batch_size=2, num_workers=0, '
            'dataset=dict(_ds, pipeline=[_safe] + _tail))\n'
            'val_dataloader = dict(batch_size=2, num_workers=0, dataset=dict('
            '_ds, pipeline=[_mark] + _tail))\n'
            'test_dataloader = dict(batch_size=2, num_workers=0, dataset=dict('
            "_ds, ann_file='val.jsonl', pipeline=[_mark] + _tail))\n"
            f'custom_hooks = [{hook!r}]\n' + extra
        ),
    )


def _runner(cfg_path, **overrides):
    cfg = Config.fromfile(cfg_path)
    cfg.merge_from_dict(overrides)
    return Runner.from_cfg(cfg)


def test_training_skips_counts_and_logs_bad_images(root):
    bad = catalog_with_bad_images(
        root, ['zero.jpg', 'html.jpg', 'truncated.jpg', 'bomb.png']
    )
    runner = _runner(safe_config(root, osp.join(root, 'work')))
    runner.train()  # no crash
    hook = next(h for h in runner.hooks if isinstance(h, BadImageLoggerHook))
    train = [h for h in hook.history if h['phase'] == 'train']
    assert [h['epoch'] for h in train] == [1, 2]
    for h in train:
        # every bad file is drawn once by the sampler (refetches may draw
        # it again); every batch is still full
        assert h['distinct'] == 4 and h['failed'] >= 4
        assert h['loaded'] == 8
    # validation keeps all 8 samples; the 4 bad ones are marked
    val = [h for h in hook.history if h['phase'] == 'val']
    assert val and val[-1]['failed'] == 4 and val[-1]['loaded'] == 8
    log = open(runner.logger.log_file).read()
    assert 'Epoch 1: skipped' in log and '4 distinct files' in log
    assert bad[0] in log


def test_training_fail_fast_names_the_file(root):
    bad = catalog_with_bad_images(root, ['truncated.jpg'])
    runner = _runner(safe_config(root, osp.join(root, 'w'), 'raise'))
    with pytest.raises(BadImageError, match='truncated') as e:
        runner.train()
    assert e.value.path == bad[0]


def test_too_many_bad_images_stop_the_run(root):
    catalog_with_bad_images(root, ['zero.jpg', 'html.jpg'])
    runner = _runner(
        safe_config(
            root,
            osp.join(root, 'w'),
            hook=dict(type='BadImageLoggerHook', max_skip_ratio=0.1),
        )
    )
    with pytest.raises(RuntimeError, match='max_skip_ratio=0.1'):
        runner.train()


def test_validation_metric_ignores_marked_images(root):
    """Same weights (seeded init), val set with 2 unusable images vs the
    same set without those records: same metrics, dataset size kept."""
    bad = catalog_with_bad_images(root, ['html.jpg', 'bomb.png'])
    with open(osp.join(root, 'val.jsonl')) as f:
        recs = [json.loads(line) for line in f]
    good = [r for r in recs if osp.join(root, r['img_path']) not in bad]
    with open(osp.join(root, 'good.jsonl'), 'w') as f:
        f.writelines(json.dumps(r) + '\n' for r in good)
    cfg = safe_config(root, osp.join(root, 'w'))
    r1 = _runner(cfg, experiment_name='with_bad')
    m_bad = r1.val()
    assert len(r1.val_dataloader.dataset) == len(recs) == len(good) + 2
    r2 = _runner(
        cfg,
        experiment_name='without_bad',
        work_dir=osp.join(root, 'w2'),
        **{'val_dataloader.dataset.ann_file': 'good.jsonl'},
    )
    m_good = r2.val()
    assert m_bad == m_good and 'attr/closure/micro_f1' in m_bad


def test_inference_batch_goes_on_with_an_error_entry(root):
    """A batch with one unusable image: every image gets an output, the bad
    one carries its load_error, the others equal a batch without it."""
    bad = catalog_with_bad_images(root, ['truncated.jpg'])
    runner = _runner(safe_config(root, osp.join(root, 'w')))
    model = runner.model.eval()
    from mmengine.dataset import Compose

    pipe = Compose(
        [
            dict(type='SafeLoadImage', on_error='mark'),
            dict(type='ResizePad', scale=64),
            dict(type='PackAttrInputs', meta_keys=META_KEYS),
        ]
    )
    paths = [osp.join(root, 'img', f'{i:03d}.png') for i in range(4)]
    assert bad[0] in paths
    outs = model.test_step(
        pseudo_collate([pipe(dict(img_path=p)) for p in paths])
    )
    assert len(outs) == 4
    errors = {o.img_path: o.get('load_error') for o in outs}
    assert errors[bad[0]] and 'truncated' in errors[bad[0]]
    assert not any(v for k, v in errors.items() if k != bad[0])
    good = [p for p in paths if p != bad[0]]
    ref = model.test_step(
        pseudo_collate([pipe(dict(img_path=p)) for p in good])
    )
    got = [o for o in outs if o.img_path != bad[0]]
    for a, b in zip(got, ref):
        assert np.allclose(
            a.pred_score.detach().numpy(),
            b.pred_score.detach().numpy(),
            atol=1e-5,
        )


def test_every_refusal_reaches_the_log(tmp_path, capsys):
    """mmengine's logger drops a warning identical to an earlier one, so
    the same file refused in two evaluations must not give the same text
    twice."""
    from mmengine.logging import MMLogger

    MMLogger.get_instance('every_refusal', log_level='WARNING')
    path = write_files(str(tmp_path), {'zero.jpg': (b'',)})['zero.jpg']
    loader = SafeLoadImage(on_error='mark')
    for _ in range(3):
        assert loader.transform(dict(img_path=path))['load_error']
    out = capsys.readouterr().out
    assert out.count(f'{path}: empty file (0 bytes)') == 3
