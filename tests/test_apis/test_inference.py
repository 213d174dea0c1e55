"""AttributeExtractor and tools/misc/infer.py on a random tiny model."""

import copy
import glob
import json
import os
import os.path as osp
import pickle

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, default_collate
from mmpretrain.registry import TRANSFORMS
from PIL import Image

from mmfashion_attr.apis import (
    AttributeExtractor,
    init_attribute_model,
    load_image,
)
from tests.helpers.schemas import TINY_SCHEMA
from tests.helpers.tiny_model import tiny_model_files
from tools.misc import infer


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    return tiny_model_files(tmp_path_factory.mktemp('tiny'))


@pytest.fixture(scope='module')
def extractor(files):
    cfg, ckpt, _ = files
    return AttributeExtractor(cfg, ckpt, thresholds=0.5, batch_size=3)


def reference_scores(cfg_path, ckpt, paths):
    """Scores through the dataset's own pipeline (LoadImageFromFile ...)."""
    cfg = Config.fromfile(cfg_path)
    model = init_attribute_model(cfg, ckpt)
    pipe = Compose(
        [TRANSFORMS.build(t) for t in cfg.test_dataloader.dataset.pipeline]
    )
    data = default_collate([pipe(dict(img_path=p)) for p in paths])
    with torch.no_grad():
        return np.stack([s.pred_score.numpy() for s in model.test_step(data)])


def test_outputs_follow_scores_and_thresholds(files, extractor):
    cfg, ckpt, root = files
    paths = sorted(glob.glob(osp.join(root, 'img', '*.png')))[:4]
    ref = reference_scores(cfg, ckpt, paths)
    res = extractor(paths)
    schema = extractor.schema
    assert [r['input'] for r in res] == paths
    for r, sc in zip(res, ref):
        assert r['category'] is None and r['not_applicable'] == []
        for i, a in enumerate(schema.attributes):
            s = sc[schema.slice(i)]
            want = sorted(
                [(v, s[j]) for j, v in enumerate(a.values) if s[j] >= 0.5],
                key=lambda t: -t[1],
            )
            got = [(d['value'], d['score']) for d in r['attributes'][a.name]]
            assert [g[0] for g in got] == [w[0] for w in want]
            np.testing.assert_allclose(
                [g[1] for g in got], [w[1] for w in want], atol=1e-6
            )
            assert (a.name in r['abstained']) == (not want)
        json.dumps(r)  # serialisable


def test_input_types_agree(files, extractor):
    _, _, root = files
    path = osp.join(root, 'img', '001.png')
    bgr = cv2.imread(path)
    with open(path, 'rb') as f:
        data = f.read()
    ex = copy.copy(extractor)
    ex.return_scores = True
    res = ex(
        [
            path,
            bgr,
            Image.open(path),
            data,
            cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY),
        ]
    )
    ref = res[0]['scores']
    for r in res[1:4]:
        for a, vals in r['scores'].items():
            for v, sc in vals.items():
                assert sc == pytest.approx(ref[a][v], abs=1e-6), (r, a, v)
    # a grey image is a different image: scores differ somewhere
    assert res[4]['scores'] != ref


def test_batches_and_single_calls_agree(files, extractor):
    _, _, root = files
    paths = sorted(glob.glob(osp.join(root, 'img', '*.png')))[:5]
    a = extractor(paths, batch_size=2)
    b = [extractor(p, batch_size=1)[0] for p in paths]
    for x, y in zip(a, b):
        assert x['abstained'] == y['abstained']
        for name in x['attributes']:
            np.testing.assert_allclose(
                [d['score'] for d in x['attributes'][name]],
                [d['score'] for d in y['attributes'][name]],
                atol=1e-5,
            )


def test_threshold_file_and_abstention(files, tmp_path):
    cfg, ckpt, root = files
    thr = tmp_path / 'thr.json'
    thr.write_text(
        json.dumps(
            dict(
                default=1.5,  # nothing passes ...
                values={'colour/red': 0.0},
            )
        )
    )  # ... but
    ex = AttributeExtractor(cfg, ckpt, thresholds=str(thr))
    r = ex(osp.join(root, 'img', '000.png'))[0]
    assert [d['value'] for d in r['attributes']['colour']] == ['red']
    assert r['abstained'] == ['category', 'closure']
    assert r['attributes']['closure'] == []


def test_category_mask_from_checkpoint_schema(tmp_path):
    """The checkpoint's schema wins over the config's file; a category that
    rules an attribute out makes it not applicable, disallowed values are
    suppressed even at threshold 0."""
    schema = copy.deepcopy(TINY_SCHEMA)
    schema['allowed']['bottom'] = {'category': ['bottom'], 'colour': ['blue']}
    cfg, ckpt, root = tiny_model_files(tmp_path, schema=schema)
    with pytest.warns(UserWarning, match="using the checkpoint's"):
        ex = AttributeExtractor(cfg, ckpt, thresholds=0.0)
    img = osp.join(root, 'img', '000.png')
    bottom, top, none = ex([img] * 3, categories=['bottom', 'top', None])
    assert bottom['not_applicable'] == ['closure']
    assert 'closure' not in bottom['attributes']
    assert [d['value'] for d in bottom['attributes']['colour']] == ['blue']
    # the category branch itself is never masked (schema.allowed_matrix)
    assert len(bottom['attributes']['category']) == 2
    assert bottom['category'] == 'bottom'
    for r in (top, none):  # 'top' is not restricted; None: no mask
        assert r['not_applicable'] == []
        assert len(r['attributes']['colour']) == 3


def test_bad_inputs_give_error_entries(files, extractor, tmp_path):
    _, _, root = files
    good = osp.join(root, 'img', '002.png')
    broken = tmp_path / 'broken.jpg'
    broken.write_bytes(b'not an image at all')
    inputs = [
        good,
        str(broken),
        osp.join(root, 'nope.png'),
        np.zeros((4, 4, 5), np.uint8),
        b'\x00\x01',
        42,
        good,
    ]
    res = extractor(inputs)
    assert len(res) == len(inputs)
    assert 'attributes' in res[0] and 'attributes' in res[-1]
    for r in res[1:6]:
        assert set(r) == {'input', 'error'}
    assert 'no such file' in res[2]['error']
    assert 'shape' in res[3]['error']
    assert 'unsupported input type' in res[5]['error']
    assert 'uint8' in extractor([np.zeros((8, 8, 3), np.float32)])[0]['error']
    r = extractor([good, good], categories=['top', 'shoe'])
    assert 'attributes' in r[0] and 'unknown category' in r[1]['error']


def test_a_failing_batch_is_retried_image_by_image(files, monkeypatch):
    cfg, ckpt, root = files
    ex = AttributeExtractor(cfg, ckpt, batch_size=4)
    test_step = ex._test_step

    def poisoned(packed):
        shapes = [p['data_samples'].ori_shape for p in packed]
        if (7, 7) in shapes:
            raise RuntimeError('poisoned batch')
        return test_step(packed)

    monkeypatch.setattr(ex, '_test_step', poisoned)
    good = osp.join(root, 'img', '001.png')
    res = ex([good, np.zeros((7, 7, 3), np.uint8), good])
    assert 'attributes' in res[0] and 'attributes' in res[2]
    assert res[1]['error'] == 'RuntimeError: poisoned batch'
    assert res[0]['attributes'] == ex(good)[0]['attributes']


def test_registered_in_inferencers(files):
    from mmengine.registry import INFERENCERS

    assert INFERENCERS.get('AttributeExtractor') is AttributeExtractor
    cfg, ckpt, root = files
    ex = INFERENCERS.build(
        dict(type='AttributeExtractor', config=cfg, checkpoint=ckpt)
    )
    assert ex.thresholds == pytest.approx(0.3)  # the head's default
    assert 'attributes' in ex(osp.join(root, 'img', '000.png'))[0]


class _Evil:
    def __reduce__(self):
        return (os.system, ('touch pwned_by_checkpoint',))


def test_checkpoint_loading_keeps_weights_only(files, tmp_path, monkeypatch):
    cfg, _, _ = files
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    bad = tmp_path / 'evil.pth'
    with open(bad, 'wb') as f:
        torch.save(dict(state_dict={}, meta=_Evil()), f)
    with pytest.raises(pickle.UnpicklingError):
        AttributeExtractor(cfg, str(bad))
    assert not (tmp_path / 'pwned_by_checkpoint').exists()


def test_loads_a_checkpoint_written_by_mmengine_training(tmp_path):
    """A real training checkpoint (message hub, history buffers, numpy)
    loads with weights_only, and its dataset_meta schema is used."""
    from mmengine.runner import Runner

    cfg_path, _, root = tiny_model_files(tmp_path, n=4)
    cfg = Config.fromfile(cfg_path)
    cfg.train_cfg = dict(by_epoch=True, max_epochs=1, val_interval=10)
    cfg.work_dir = str(tmp_path / 'work')
    Runner.from_cfg(cfg).train()
    ckpt = osp.join(cfg.work_dir, 'epoch_1.pth')
    os.remove(osp.join(root, 'schema.json'))  # only the checkpoint has it
    ex = AttributeExtractor(cfg_path, ckpt)
    assert ex.schema.names == ['category', 'colour', 'closure']
    assert 'attributes' in ex(osp.join(root, 'img', '000.png'))[0]


def test_infer_cli(files, tmp_path, capsys):
    cfg, ckpt, root = files
    imgs = sorted(glob.glob(osp.join(root, 'img', '*.png')))
    folder = tmp_path / 'folder' / 'sub'
    folder.mkdir(parents=True)
    for p in imgs[:2]:
        cv2.imwrite(str(folder / osp.basename(p)), cv2.imread(p))
    (folder / 'notes.txt').write_text('not an image')
    (tmp_path / 'folder' / 'bad.png').write_bytes(b'broken')
    plain = tmp_path / 'paths.csv'
    plain.write_text(f'{imgs[2]}\n{imgs[3]}\n')
    listed = tmp_path / 'list.csv'
    listed.write_text(
        'img_path,category,colour\n'
        'img/004.png,bottom,red|green\nimg/005.png,top,[]\n'
    )
    out = tmp_path / 'out' / 'preds.jsonl'
    vis = tmp_path / 'vis'
    rc = infer.main(
        [
            cfg,
            ckpt,
            str(tmp_path / 'folder'),
            str(plain),
            str(listed),
            str(root + '/val.jsonl'),
            '--data-root',
            root,
            '--out',
            str(out),
            '--thr',
            '0.4',
            '--vis-dir',
            str(vis),
            '--use-category',
            '--batch-size',
            '2',
        ]
    )
    assert rc == 0
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    n_val = len(open(osp.join(root, 'val.jsonl')).readlines())
    assert len(lines) == 3 + 2 + 2 + n_val
    assert 'error' in lines[0] and lines[0]['input'].endswith('bad.png')
    ok = [x for x in lines if 'error' not in x]
    documented = {
        'input',
        'category',
        'attributes',
        'abstained',
        'not_applicable',
    }  # the record documented by AttributeExtractor
    assert all(set(x) == documented for x in ok)
    assert all(
        isinstance(d['score'], float) and set(d) == {'value', 'score'}
        for x in ok
        for v in x['attributes'].values()
        for d in v
    )
    assert len(ok) == len(lines) - 1
    assert ok[4]['category'] == 'bottom'  # listed category applied
    pics = sorted(os.listdir(vis))
    assert len(pics) == len(ok)  # one picture per image, names unique
    pic = cv2.imread(str(vis / pics[0]))
    # small images are not enlarged: as tall as the text panel, image and
    # text side by side
    assert 64 <= pic.shape[0] < 256 and pic.shape[1] > pic.shape[0]
    err = capsys.readouterr().err
    assert f'{len(ok)} images, 1 errors' in err


def test_base_inferencer_steps_and_pictures(files):
    """preprocess / forward / visualize / postprocess, as mmpretrain's
    BaseInferencer runs them; ``draw=True`` adds the prediction pictures."""
    from mmfashion_attr.visualization import draw_prediction

    cfg, ckpt, root = files
    ex = AttributeExtractor(cfg, ckpt, thresholds=0.5, batch_size=2)
    paths = sorted(glob.glob(osp.join(root, 'img', '*.png')))[:3]
    batches = list(ex.preprocess(paths, batch_size=2, categories='top'))
    assert [[b[0] for b in batch] for batch in batches] == [[0, 1], [2]]
    preds = ex.forward(batches[0])
    assert [p.metainfo['input'] for p in preds] == paths[:2]
    assert [p.metainfo['category'] for p in preds] == ['top', 'top']
    assert ex.visualize(paths[:2], preds) is None
    records = ex.postprocess(preds, None)
    assert records == ex(paths[:2], categories='top')
    gt = [{'colour': ['red']}, None, {'colour': []}]
    pictures = ex.visualize(paths[:2], preds, draw=True, ground_truth=gt)
    for path, record, picture, g in zip(paths, records, pictures, gt):
        img = load_image(path)
        # within the tiny model's 64 px input: the image is kept as it is
        assert max(img.shape[:2]) <= 64
        want = draw_prediction(img, record, gt=g, height=img.shape[0])
        np.testing.assert_array_equal(picture, want)
    # max_size shrinks the image (area interpolation, aspect kept)
    small = ex.visualize(paths[:1], preds[:1], draw=True, max_size=16)[0]
    img = load_image(paths[0])
    f = 16 / max(img.shape[:2])
    size = (round(img.shape[1] * f), round(img.shape[0] * f))
    shrunk = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
    want = draw_prediction(shrunk, records[0], height=size[1])
    np.testing.assert_array_equal(small, want)
    drawn = ex(paths, draw=True)
    assert all(r['visualization'].ndim == 3 for r in drawn)
    assert [dict(r, visualization=None) for r in drawn] == [
        dict(r, visualization=None) for r in ex(paths)
    ]
    samples = ex(paths, return_datasamples=True)
    assert [s.pred_score.shape for s in samples] == [(7,)] * 3
    with pytest.raises(ValueError, match='unknown argument'):
        ex(paths, colour='red')
    with pytest.raises(NotImplementedError):
        ex(paths[:1], show=True)
