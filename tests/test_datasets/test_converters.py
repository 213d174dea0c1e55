"""Readers of the public datasets on fixtures with the real files' shape.

Expected vectors are hand-computed from the fixtures (see
``public_fixtures.py``) and the real Fashionpedia ontology.
"""

import glob
import json
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmpretrain.registry import DATASETS

from mmfashion_attr.datasets import CatalogDataset, ConvertedDataset
from mmfashion_attr.datasets.converters import (
    ConversionError,
    convert_deepfashion,
    convert_fashionai,
    convert_fashionpedia_attributes,
    convert_fashionpedia_instances,
    convert_imaterialist2018,
    convert_sources,
    write_conversion,
)
from mmfashion_attr.structures import AttributeSchema
from tests.helpers import public_fixtures as fx
from tests.helpers.tinydata import REPO
from tools.dataset_converters import convert


def _vec(n, ones):
    v = np.zeros(n, np.uint8)
    v[list(ones)] = 1
    return v


def _catalog(conv, tmp_path, split, data_root):
    """Write a conversion and read one split back with CatalogDataset."""
    out = tmp_path / 'converted'
    write_conversion(conv, str(out), img_root=data_root, progress=False)
    return CatalogDataset(
        ann_file=str(out / f'{split}.jsonl'),
        schema=str(out / 'schema.json'),
        data_prefix=str(data_root),
    )


# ------------------------------------------------- Fashionpedia attributes
def test_fashionpedia_attributes_label_mapping(tmp_path):
    paths = fx.make_fashionpedia_attributes(str(tmp_path))
    conv = convert_fashionpedia_attributes(
        paths, img_prefix=dict(train='train', val='test')
    )
    schema = AttributeSchema.from_dict(conv.schema)
    # the paper's six supercategories, with the real ontology's sizes
    assert schema.names == [
        'length',
        'neckline_type',
        'opening_type',
        'silhouette',
        'textile_pattern',
        'waistline',
    ]
    assert schema.num_values_per_attribute == [15, 25, 10, 25, 18, 7]
    # sparse ids: 339/340 follow 332 after deleted ids -> the last two
    assert schema.attributes[4].values[-2:] == ('toile de jouy', 'plant')
    assert conv.report.stats['train/images_without_chosen_attributes'] == 1

    ds = _catalog(conv, tmp_path, 'train', tmp_path)
    assert len(ds) == 3  # image 4 (nickname only) is dropped
    n = schema.num_values  # 100; offsets 0, 15, 40, 50, 75, 93
    assert n == 100
    gt, mask, cat = ds.get_gt_attr(0)
    # above-the-hip = length[0], short (length) = length[11],
    # v-neck = neckline[4] -> 19, plain (pattern) = textile[0] -> 75
    np.testing.assert_array_equal(gt, _vec(n, [0, 11, 19, 75]))
    # labelled: length, neckline type, textile pattern; the rest missing
    np.testing.assert_array_equal(
        mask, _vec(n, list(range(0, 40)) + list(range(75, 93)))
    )
    assert cat == -1
    gt, mask, _ = ds.get_gt_attr(1)
    # floral = textile[8] -> 83, single breasted = opening[0] -> 40,
    # normal waist = waistline[3] -> 96
    np.testing.assert_array_equal(gt, _vec(n, [40, 83, 96]))
    np.testing.assert_array_equal(
        mask, _vec(n, list(range(40, 50)) + list(range(75, 100)))
    )
    gt, _, _ = ds.get_gt_attr(2)
    np.testing.assert_array_equal(gt, _vec(n, [91, 92]))
    assert ds.get_data_info(0)['img_path'] == str(
        tmp_path / 'train' / 'a1.jpg'
    )


def test_fashionpedia_attributes_split_length(tmp_path):
    paths = fx.make_fashionpedia_attributes(str(tmp_path))
    conv = convert_fashionpedia_attributes(paths, split_length=True)
    schema = AttributeSchema.from_dict(conv.schema)
    assert schema.names[:2] == ['garment_length', 'sleeve_length']
    assert schema.attributes[1].values == (
        'sleeveless',
        'short (length)',
        'elbow-length',
        'three quarter (length)',
        'wrist-length',
    )
    assert schema.attributes[1].roi == 'small'
    train = {r['id']: r['attributes'] for r in conv.splits['train']}
    assert train['1']['garment_length'] == ['above-the-hip (length)']
    assert train['1']['sleeve_length'] == ['short (length)']
    assert 'garment_length' not in train['2']
    val = conv.splits['val'][0]['attributes']
    # only a sleeve length: garment length stays missing, not negative
    assert val == {
        'sleeve_length': ['wrist-length'],
        'silhouette': ['straight'],
    }


def test_fashionpedia_attributes_errors(tmp_path):
    paths = fx.make_fashionpedia_attributes(str(tmp_path), broken=True)
    with pytest.raises(ConversionError, match='unknown attribute id 999'):
        convert_fashionpedia_attributes(paths)
    conv = convert_fashionpedia_attributes(paths, on_error='collect')
    assert conv.report.error_counts == {
        'unknown_attribute_id': 1,
        'unknown_image_id': 1,
        'duplicate_record': 1,
    }
    with pytest.raises(ConversionError, match='supercategories'):
        convert_fashionpedia_attributes(paths, supercategories=['colour'])


def test_fashionpedia_external_ontology(tmp_path):
    paths = fx.make_fashionpedia_attributes(str(tmp_path))
    for p in paths.values():  # files without the ontology
        d = json.load(open(p))
        d.pop('attributes')
        json.dump(d, open(p, 'w'))
    with pytest.raises(ConversionError, match='ontology'):
        convert_fashionpedia_attributes(paths)
    conv = convert_fashionpedia_attributes(paths, ontology=fx.ontology_path())
    assert len(conv.splits['train']) == 3


# ------------------------------------------------- Fashionpedia instances
def test_fashionpedia_instances_garments_parts_categories(tmp_path):
    paths = fx.make_fashionpedia_instances(str(tmp_path))
    conv = convert_fashionpedia_instances(
        paths, img_prefix=dict(train='train', val='test')
    )
    recs = {r['id']: r for r in conv.splits['train']}
    assert sorted(recs) == ['101', '201', '202']  # garments only
    dress = recs['101']
    assert dress['category'] == 'dress'
    # garment attributes + its sleeve (wrist-length) and neckline (v-neck)
    assert dress['attributes'] == {
        'textile_pattern': ['floral'],
        'length': ['maxi (length)', 'wrist-length'],
        'neckline_type': ['v-neck'],
    }
    # the shared sleeve goes to the smaller garment (the top)
    assert recs['201']['attributes'] == {
        'textile_pattern': ['plain (pattern)'],
        'length': ['short (length)'],
    }
    assert recs['201']['category'] == 'top, t-shirt, sweatshirt'
    assert recs['202']['attributes'] == {
        'opening_type': ['single breasted'],
        'length': ['above-the-hip (length)'],
    }
    assert conv.report.stats['train/unassigned_parts'] == 1  # the pocket

    schema = AttributeSchema.from_dict(conv.schema)
    assert schema.names[0] == 'category'
    assert schema.attributes[0].from_category
    assert len(schema.categories) == 13
    # allowed values learned from train
    assert conv.schema['allowed']['dress'] == {
        'category': ['dress'],
        'length': ['maxi (length)', 'wrist-length'],
        'neckline_type': ['v-neck'],
        'textile_pattern': ['floral'],
    }
    assert conv.schema['allowed']['skirt'] == {'category': ['skirt']}

    out = tmp_path / 'inst'
    write_conversion(conv, str(out), img_root=str(tmp_path), progress=False)
    # crop of the dress: box [50, 40, 100, 200] + 10 % -> x 40..160,
    # y 20..260 of the gradient image (pixel = (x, y, 128) in BGR)
    crop = cv2.imread(str(out / 'crops' / 'train' / 'i1_101.jpg'))
    assert crop.shape == (240, 120, 3)
    assert abs(int(crop[5, 5, 0]) - 45) <= 6
    assert abs(int(crop[5, 5, 1]) - 25) <= 6
    # val crop clipped to the 60 x 90 image: x 0..55, y 0..88
    crop = cv2.imread(str(out / 'crops' / 'val' / 'i3_301.jpg'))
    assert crop.shape == (88, 55, 3)

    ds = CatalogDataset(
        ann_file=str(out / 'train.jsonl'),
        schema=str(out / 'schema.json'),
        data_root=str(out),
    )
    gt, mask, cat = ds.get_gt_attr(0)
    assert cat == schema.category_index('dress')
    assert gt[schema.flat_index('category', 'dress')] == 1
    assert gt[schema.flat_index('length', 'wrist-length')] == 1
    assert mask[schema.slice('opening_type')].sum() == 0  # missing
    # the val dress has dots and a waistline, never seen on train dresses
    val = CatalogDataset(
        ann_file=str(out / 'val.jsonl'),
        schema=str(out / 'schema.json'),
        data_root=str(out),
    )
    assert val.read_report.disallowed == {
        'waistline/normal waist': 1,
        'textile_pattern/dot': 1,
    }
    assert osp.isfile(val.get_data_info(0)['img_path'])


def test_fashionpedia_instances_errors(tmp_path):
    paths = fx.make_fashionpedia_instances(str(tmp_path), broken=True)
    conv = convert_fashionpedia_instances(paths, on_error='collect')
    assert conv.report.error_counts == {
        'unknown_category_id': 1,
        'bad_bbox': 1,
        'duplicate_record': 1,
    }
    with pytest.raises(ConversionError):
        convert_fashionpedia_instances(paths)


# ------------------------------------------------------------------ FashionAI
@pytest.mark.parametrize('maybe', ['unknown', 'negative', 'positive'])
def test_fashionai_maybe_and_missing(tmp_path, maybe):
    csv_path = fx.make_fashionai(str(tmp_path))
    conv = convert_fashionai(
        dict(train=csv_path), maybe=maybe, root=str(tmp_path)
    )
    schema = AttributeSchema.from_dict(conv.schema)
    assert schema.num_values_per_attribute == [6, 8, 5, 5, 5, 10, 6, 9]
    ds = _catalog(conv, tmp_path, 'train', tmp_path)
    n = 54  # offsets: skirt 0, coat 6, collar 14, lapel 19, neck 24,
    #         neckline 29, pant 39, sleeve 45
    gt, mask, _ = ds.get_gt_attr(0)  # collar 'nnynn' -> Peter Pan
    np.testing.assert_array_equal(gt, _vec(n, [16]))
    np.testing.assert_array_equal(mask, _vec(n, range(14, 19)))
    gt, mask, _ = ds.get_gt_attr(1)  # sleeve 'nnnmynnnn'
    expect_gt = {'unknown': [49], 'negative': [49], 'positive': [48, 49]}
    np.testing.assert_array_equal(gt, _vec(n, expect_gt[maybe]))
    sleeve = set(range(45, 54))
    if maybe == 'unknown':
        sleeve.discard(48)  # Short Sleeves is 'm': masked
    np.testing.assert_array_equal(mask, _vec(n, sleeve))
    assert ds.get_data_info(2)['img_path'] == str(
        tmp_path / 'Images' / 'pant_length_labels' / 'c.jpg'
    )


def test_fashionai_errors(tmp_path):
    csv_path = fx.make_fashionai(str(tmp_path), broken=True)
    conv = convert_fashionai(dict(train=csv_path), on_error='collect')
    assert conv.report.error_counts == {
        'unknown_attribute': 1,
        'bad_label': 2,
        'duplicate_record': 1,
    }
    assert len(conv.splits['train']) == len(fx.FASHIONAI_ROWS)
    with pytest.raises(ConversionError, match='label.csv:9'):
        convert_fashionai(dict(train=csv_path))


# ------------------------------------------------------------ iMaterialist-18
def test_imaterialist2018_label_map(tmp_path):
    p = fx.make_imaterialist2018(str(tmp_path))
    conv = convert_imaterialist2018(
        dict(train=p['train'], val=p['val']),
        label_map=p['label_map'],
        img_prefix=dict(train='train', val='val'),
    )
    schema = AttributeSchema.from_dict(conv.schema)
    # tasks in taskId order (1-4), values in label-id order
    assert schema.names == ['pattern', 'style', 'neckline', 'category']
    assert schema.attributes[1].values == ('Bandeaus', 'Asymmetric')
    assert schema.attributes[2].values == ('Asymmetric', 'V-Necks')
    ds = _catalog(conv, tmp_path, 'train', tmp_path)
    n = 6  # pattern 0, style 1-2, neckline 3-4, category 5
    gt, mask, _ = ds.get_gt_attr(0)  # labels 20 (V-Necks), 1 (Argyle)
    np.testing.assert_array_equal(gt, _vec(n, [0, 4]))
    np.testing.assert_array_equal(mask, _vec(n, [0, 3, 4]))
    gt, mask, _ = ds.get_gt_attr(1)  # 3, 11 (style Asymmetric), 10
    np.testing.assert_array_equal(gt, _vec(n, [1, 2, 5]))
    np.testing.assert_array_equal(mask, _vec(n, [1, 2, 5]))
    assert ds.get_data_info(0)['img_path'] == str(tmp_path / 'train' / '1.jpg')


def test_imaterialist2018_errors(tmp_path):
    p = fx.make_imaterialist2018(str(tmp_path), broken=True)
    conv = convert_imaterialist2018(
        dict(train=p['train']), label_map=p['label_map'], on_error='collect'
    )
    assert conv.report.error_counts == {
        'unknown_label_id': 1,
        'duplicate_record': 1,
    }
    with pytest.raises(ConversionError, match='unknown tasks'):
        convert_imaterialist2018(
            dict(train=p['train']), label_map=p['label_map'], tasks=['colour']
        )


# ----------------------------------------------------------------- DeepFashion
def test_deepfashion_types_unknown_and_categories(tmp_path):
    root = fx.make_deepfashion(str(tmp_path))
    conv = convert_deepfashion(root)
    schema = AttributeSchema.from_dict(conv.schema)
    assert schema.names == [
        'category',
        'texture',
        'fabric',
        'shape',
        'part',
        'style',
    ]
    assert schema.categories == ['Dress', 'Shorts', 'Top']
    assert schema.attributes[5].values == ('boho chic',)  # name w/ space
    assert sorted(conv.splits) == ['train', 'val']
    ds = _catalog(conv, tmp_path, 'train', root)
    n = 9  # category 0-2, texture 3-4, fabric 5, shape 6, part 7, style 8
    gt, mask, cat = ds.get_gt_attr(0)  # 1 -1 -1 1 0 -1, Dress
    assert cat == 0
    np.testing.assert_array_equal(gt, _vec(n, [0, 3, 6]))
    # v-neck is 0 (unknown): masked; all -1 types stay labelled negatives
    np.testing.assert_array_equal(mask, _vec(n, [0, 1, 2, 3, 4, 5, 6, 8]))
    gt, mask, cat = ds.get_gt_attr(1)  # Shorts, denim
    assert cat == 1
    np.testing.assert_array_equal(gt, _vec(n, [1, 5]))
    val = _catalog(conv, tmp_path, 'val', root)
    gt, mask, cat = val.get_gt_attr(0)  # 0 1 -1 -1 1 1, Top
    np.testing.assert_array_equal(gt, _vec(n, [2, 4, 7, 8]))
    np.testing.assert_array_equal(mask, _vec(n, [0, 1, 2, 4, 5, 6, 7, 8]))


def test_deepfashion_errors(tmp_path):
    root = fx.make_deepfashion(str(tmp_path), broken=True)
    conv = convert_deepfashion(root, on_error='collect')
    assert conv.report.error_counts == {
        'bad_label': 1,
        'malformed_line': 1,
        'duplicate_record': 1,
    }
    # a count line that does not match the file is fatal
    path = osp.join(root, 'Anno', 'list_attr_cloth.txt')
    text = open(path).read().replace('6\n', '7\n', 1)
    open(path, 'w').write(text)
    with pytest.raises(ConversionError, match='says 7 entries'):
        convert_deepfashion(root, on_error='collect')


# ------------------------------------------------------- ConvertedDataset
@pytest.mark.parametrize(
    'fmt', ['fashionpedia-attr', 'fashionai', 'imat2018', 'deepfashion']
)
def test_converted_dataset_matches_catalog_route(tmp_path, fmt):
    """Reading the original files directly gives the same samples as the
    convert-then-CatalogDataset route."""
    opts = {}
    if fmt == 'fashionpedia-attr':
        p = fx.make_fashionpedia_attributes(str(tmp_path))
        sources = [
            'train=attributes_train2020.json',
            'val=attributes_val2020.json',
        ]
        opts = dict(img_prefix=dict(train='train', val='test'))
    elif fmt == 'fashionai':
        fx.make_fashionai(str(tmp_path))
        sources = ['train=Annotations/label.csv']
    elif fmt == 'imat2018':
        p = fx.make_imaterialist2018(str(tmp_path))
        sources = ['train=train.json', 'val=validation.json']
        opts = dict(
            label_map='iMat_fashion_2018_label_map_228.csv',
            img_prefix=dict(train='train', val='val'),
        )
    else:
        fx.make_deepfashion(str(tmp_path))
        sources = ['.']
    ds = DATASETS.build(
        dict(
            type='ConvertedDataset',
            format=fmt,
            sources=sources,
            split='train',
            data_root=str(tmp_path),
            converter_options=opts,
        )
    )
    assert isinstance(ds, ConvertedDataset)
    if fmt == 'deepfashion':
        abs_sources = [str(tmp_path)]
    else:
        abs_sources = [s.replace('=', f'={tmp_path}/', 1) for s in sources]
    if fmt == 'fashionai':
        opts = dict(root=str(tmp_path))
    if fmt == 'imat2018':
        opts['label_map'] = p['label_map']
    conv = convert_sources(fmt, abs_sources, **opts)
    ref = _catalog(conv, tmp_path, 'train', tmp_path)
    assert len(ds) == len(ref) > 0
    for i in range(len(ds)):
        a, b = ds.get_data_info(i), ref.get_data_info(i)
        assert osp.normpath(a['img_path']) == osp.normpath(b['img_path'])
        np.testing.assert_array_equal(a['gt_attr'], b['gt_attr'])
        np.testing.assert_array_equal(a['gt_attr_mask'], b['gt_attr_mask'])
        assert a['category_idx'] == b['category_idx']
        assert osp.isfile(a['img_path'])
    assert ds.metainfo['attributes'] == ref.metainfo['attributes']


def test_converted_dataset_refuses_instances(tmp_path):
    fx.make_fashionpedia_instances(str(tmp_path))
    with pytest.raises(ValueError, match='crops'):
        ConvertedDataset(
            format='fashionpedia-inst',
            sources=['train=instances_attributes_train2020.json'],
            data_root=str(tmp_path),
        )


# ------------------------------------------------------------------ configs
def test_public_configs_parse_and_follow_the_dataset():
    files = sorted(glob.glob(osp.join(REPO, 'configs', 'public', '*', '*.py')))
    assert len(files) >= 5
    for path in files:
        cfg = Config.fromfile(path)
        assert cfg.model.head.schema == cfg.schema_file, path
        assert cfg.schema_file.startswith(cfg.data_root), path
        for loader in ('train_dataloader', 'val_dataloader'):
            ds = cfg[loader].dataset
            assert ds.schema == cfg.schema_file
            assert ds.data_root == cfg.data_root
        types = [t.type for t in cfg.train_dataloader.dataset.pipeline]
        assert types == [
            'SafeLoadImage',
            'ResizePad',
            'FashionRandomAffine',
            'RandomFlip',
            'PackAttrInputs',
        ], path
        assert cfg.val_evaluator.type == 'AttributeMetric'


def test_convert_cli_then_public_config_loads_a_batch(tmp_path, capsys):
    """The documented route: convert.py, then the dataset base config's
    train loader yields paper-pipeline batches."""
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner

    root = tmp_path / 'fashionpedia'
    root.mkdir()
    fx.make_fashionpedia_instances(str(root))
    rc = convert.main(
        [
            'fashionpedia-inst',
            f'train={root}/instances_attributes_train2020.json',
            f'val={root}/instances_attributes_val2020.json',
            '--img-prefix',
            'train=train',
            'val=test',
            '--out',
            f'{root}/inst',
            '--no-progress',
        ]
    )
    assert rc == 0, capsys.readouterr()
    assert sorted(
        p.name for p in (root / 'inst' / 'crops' / 'train').iterdir()
    ) == ['i1_101.jpg', 'i2_201.jpg', 'i2_202.jpg']
    cfg = Config.fromfile(
        osp.join(
            REPO,
            'configs',
            'public',
            'fashionpedia_inst',
            'approach3_effnetv2-m_8xb16_fashionpedia_inst-384px.py',
        )
    )
    loader_cfg = cfg.train_dataloader
    loader_cfg.update(
        batch_size=3, num_workers=0, persistent_workers=False, pin_memory=False
    )
    loader_cfg.dataset.update(
        data_root=f'{root}/inst/', schema=f'{root}/inst/schema.json'
    )
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        loader = Runner.build_dataloader(loader_cfg, seed=0)
    batch = next(iter(loader))
    assert len(batch['inputs']) == 3
    assert all(t.shape == (3, 384, 384) for t in batch['inputs'])
    schema = AttributeSchema.load(f'{root}/inst/schema.json')
    cats = sorted(s.metainfo['category_idx'] for s in batch['data_samples'])
    assert cats == sorted(
        schema.category_index(c)
        for c in ['dress', 'top, t-shirt, sweatshirt', 'jacket']
    )


def test_convert_cli_holdout_and_schema_only(tmp_path):
    fx.make_fashionai(str(tmp_path))
    args = [
        'fashionai',
        f'train={tmp_path}/Annotations/label.csv',
        '--no-progress',
    ]
    assert (
        convert.main(
            args + ['--out', f'{tmp_path}/a', '--val-fraction', '0.5']
        )
        == 0
    )
    n = {
        s: sum(1 for _ in open(f'{tmp_path}/a/{s}.jsonl'))
        for s in ('train', 'val')
    }
    assert n['train'] + n['val'] == len(fx.FASHIONAI_ROWS)
    assert n['train'] and n['val']
    # the same split on a second run (hash of the image path)
    assert (
        convert.main(
            args + ['--out', f'{tmp_path}/b', '--val-fraction', '0.5']
        )
        == 0
    )
    assert (
        open(f'{tmp_path}/a/val.jsonl').read()
        == open(f'{tmp_path}/b/val.jsonl').read()
    )
    rec = json.loads(open(f'{tmp_path}/a/train.jsonl').readline())
    assert not osp.isabs(rec['img_path'])
    assert rec['img_path'].startswith('Images/')
    assert '_where' not in rec
    assert (
        convert.main(args + ['--out', f'{tmp_path}/c', '--schema-only']) == 0
    )
    assert sorted(p.name for p in (tmp_path / 'c').iterdir()) == [
        'schema.json'
    ]
