"""Every public-release reader on excerpts of the real files.

The fixtures are in ``tests/data/real`` (see its README for sources).
Expected values were read in the fixture files by hand, or are counted
here directly from the files, never taken from a converter's output.
"""

import csv
import json
import os.path as osp
import shutil
from pathlib import Path

import pytest

from mmfashion_attr.datasets.converters import (
    ConversionError,
    convert_deepfashion,
    convert_fashionai,
    convert_fashionpedia_attributes,
    convert_fashionpedia_instances,
    convert_imaterialist2018,
    convert_imaterialist2020_attributes,
    convert_imaterialist2020_instances,
    read_label_map,
)
from tests.helpers.real_files import (
    LABEL_MAP_2018,
    LABELS_2020,
    REPO,
    TRAIN_CSV_2020,
    real,
)
from tools.dataset_converters import convert


def _names(path, key):
    """``{id: name}`` of a Fashionpedia ontology file's ``key`` list."""
    with open(path, encoding='utf-8') as f:
        return {x['id']: x['name'] for x in json.load(f)[key]}


def _by_id(records):
    return {r['id']: r for r in records}


def _as_sets(attrs):
    return {k: set(v) for k, v in attrs.items()}


# ----------------------------------------------------------- DeepFashion
FINE_TASKS = ['texture', 'sleeve', 'length', 'neckline', 'fabric', 'fit']


def test_deepfashion_fine_layout():
    conv = convert_deepfashion(real('deepfashion'))  # only Anno_fine there
    assert [a['name'] for a in conv.schema['attributes']] == [
        'category'
    ] + FINE_TASKS
    values = {a['name']: a['values'] for a in conv.schema['attributes']}
    assert values['texture'] == [
        'floral',
        'graphic',
        'striped',
        'embroidered',
        'pleated',
        'solid',
        'lattice',
    ]
    assert values['fit'] == ['tight', 'loose', 'conventional']
    assert len(conv.schema['categories']) == 50
    assert {s: len(r) for s, r in conv.splits.items()} == dict(
        train=5, val=5, test=5
    )
    first = conv.splits['train'][0]
    # train.txt line 1, train_attr.txt line 1 (positions 3, 9, 12, 16,
    # 18, 25), train_cate.txt line 1 (3 = Blouse)
    assert first['img_path'] == 'img/Sweet_Crochet_Blouse/img_00000070.jpg'
    assert first['category'] == 'Blouse'
    assert first['attributes'] == dict(
        texture=['embroidered'],
        sleeve=['sleeveless'],
        length=['no_dress'],
        neckline=['no_neckline'],
        fabric=['chiffon'],
        fit=['conventional'],
    )
    jeans = conv.splits['train'][3]  # line 4: 26 = Jeans, denim, tight
    assert jeans['category'] == 'Jeans'
    assert jeans['attributes']['fabric'] == ['denim']
    assert jeans['attributes']['fit'] == ['tight']
    # 0/1 labels: no unknown value; one positive per type on every row,
    # as many positives as 1s in the files
    ones = 0
    for split in ('train', 'val', 'test'):
        with open(real('deepfashion', 'Anno_fine', f'{split}_attr.txt')) as f:
            ones += f.read().split().count('1')
    got = [
        v
        for recs in conv.splits.values()
        for r in recs
        for vs in r['attributes'].values()
        for v in vs
    ]
    assert len(got) == ones == 15 * 6
    assert not any(v.startswith('?') for v in got)
    assert conv.report.num_errors == 0 and conv.report.rejected == 0


def test_deepfashion_fine_labels_overridden():
    conv = convert_deepfashion(
        real('deepfashion'), anno_dir='Anno_fine', labels='1/-1/0'
    )
    texture = conv.splits['train'][0]['attributes']['texture']
    # read as 1/-1/0, every 0 is an unknown value
    assert texture == [
        '?floral',
        '?graphic',
        '?striped',
        'embroidered',
        '?pleated',
        '?solid',
        '?lattice',
    ]


def _coarse_root(tmp_path, anno='Anno_coarse'):
    """A coarse layout from the real attribute-list rows (24 of the 1000,
    count line set to 24) and two image rows written here (no raw
    ``list_attr_img.txt`` rows are public)."""
    rows = []
    for name in ('0001-0014', '0366-0372', '0998-1002'):
        path = real('deepfashion_anno', f'list_attr_cloth.txt.lines{name}')
        with open(path, encoding='utf-8', newline='') as f:
            lines = f.read().splitlines(keepends=True)
        rows += lines[2:] if name == '0001-0014' else lines
    header = 'attribute_name  attribute_type\n'
    folder = tmp_path / anno
    folder.mkdir(parents=True)
    (folder / 'list_attr_cloth.txt').write_text(
        f'{len(rows)}\n' + header + ''.join(rows)
    )
    labels = ['-1'] * len(rows)
    labels[2], labels[12], labels[17] = '1', '1', '0'
    (folder / 'list_attr_img.txt').write_text(
        '2\nimage_name  attribute_labels\n'
        'img/Sheer_Pleated-Front_Blouse/img_00000001.jpg  '
        + ' '.join(labels)
        + '\nimg/Other/img_00000002.jpg  '
        + ' '.join(['-1'] * len(rows))
        + '\n'
    )
    return tmp_path, rows


def test_deepfashion_coarse_layout_real_attribute_list(tmp_path):
    root, rows = _coarse_root(tmp_path)
    conv = convert_deepfashion(str(root))  # only Anno_coarse there
    values = {a['name']: a['values'] for a in conv.schema['attributes']}
    # counted in the excerpt: type 1: 11 "abstract ..." + floral, floral
    # flutter; 2: floral knit, floral lace; 3: a-line, floral lace mini;
    # 4: five zip*; 5: flawless, flirty
    assert {k: len(v) for k, v in values.items()} == dict(
        texture=13, fabric=2, shape=2, part=5, style=2
    )
    assert 'abstract chevron print' in values['texture']  # spaces kept
    assert values['style'] == ['flawless', 'flirty']  # trailing spaces
    assert 'floral flutter' in values['texture']
    rec = conv.splits['train'][0]
    # attribute rows 3, 13 and 18 of the list: "abstract chevron" (1),
    # "flawless" (1), "floral lace" (0: unknown)
    assert rec['attributes']['texture'] == ['abstract chevron']
    assert rec['attributes']['style'] == ['flawless']
    assert rec['attributes']['fabric'] == ['?floral lace']
    assert conv.splits['train'][1]['attributes'] == {
        t: [] for t in values
    }  # all -1: labelled negatives
    assert len(rows) == 24


def test_deepfashion_layout_must_be_chosen(tmp_path):
    root, _ = _coarse_root(tmp_path)
    shutil.copytree(real('deepfashion', 'Anno_fine'), root / 'Anno_fine')
    with pytest.raises(ConversionError, match='choose one with anno_dir'):
        convert_deepfashion(str(root))
    conv = convert_deepfashion(str(root), anno_dir='Anno_fine')
    assert len(conv.splits['train']) == 5
    with pytest.raises(ConversionError, match='no annotation folder'):
        convert_deepfashion(str(tmp_path / 'Anno_fine'))
    # the fine list read with the coarse types: type 6 is refused
    with pytest.raises(ConversionError, match=r'type 6 \(expected 1-5\)'):
        convert_deepfashion(
            str(root),
            anno_dir='Anno_coarse',
            attr_cloth=real('deepfashion', 'Anno_fine', 'list_attr_cloth.txt'),
        )


def test_deepfashion_fine_rows_must_align(tmp_path):
    shutil.copytree(real('deepfashion', 'Anno_fine'), tmp_path / 'Anno_fine')
    path = tmp_path / 'Anno_fine' / 'val_attr.txt'
    lines = path.read_text().splitlines(keepends=True)
    path.write_text(''.join(lines[:-1]))
    with pytest.raises(ConversionError, match='matched row by row'):
        convert_deepfashion(str(tmp_path))


# ------------------------------------------------------------- FashionAI
def test_fashionai_warm_up_label_file():
    root = real('fashionai')
    path = real('fashionai', 'web', 'Annotations', 'skirt_length_labels.csv')
    conv = convert_fashionai(dict(train=path), root=root)
    recs = conv.splits['train']
    assert len(recs) == 6
    assert recs[0]['img_path'] == (
        'web/Images/skirt_length_labels/73131f1c931056ee23ed8bf2a7910344.jpg'
    )
    # nnnynn, nynnnn, nnnnyn, nnnnny, nnnnny, nnnnyn
    assert [r['attributes'] for r in recs] == [
        {'skirt_length_labels': [v]}
        for v in [
            'Midi Length',
            'Short Length',
            'Ankle Length',
            'Floor Length',
            'Floor Length',
            'Ankle Length',
        ]
    ]


def test_fashionai_round_one_rows_and_maybe():
    folder = real('fashionai', 'base_label_rows')
    files = sorted(
        osp.join(folder, n)
        for n in (
            'collar_design_labels_train.csv',
            'neckline_design_labels_train.csv',
            'pant_length_labels_train.csv',
            'sleeve_length_labels_train.csv',
        )
    )
    conv = convert_fashionai(dict(train=files), maybe='unknown')
    recs = conv.splits['train']
    assert len(recs) == 16 and conv.report.num_errors == 0
    sleeve = [r for r in recs if 'sleeve_length_labels' in r['attributes']]
    # row 1 nnnnymnnn: y on Elbow Sleeves, m on 3/4 Sleeves
    assert sleeve[0]['attributes']['sleeve_length_labels'] == [
        'Elbow Sleeves',
        '?3/4 Sleeves',
    ]
    # every image is labelled for one attribute only
    assert all(len(r['attributes']) == 1 for r in recs)
    assert conv.report.stats['maybe_labels'] == 1


def test_fashionai_s1ab_fourth_column():
    files = sorted(str(p) for p in Path(real('fashionai', 's1ab')).iterdir())
    conv = convert_fashionai(dict(train=files))
    n_rows = sum(1 for p in files for line in open(p) if line.strip())
    assert n_rows == 13
    assert len(conv.splits['train']) == n_rows
    assert conv.report.stats['fourth_column_zero'] == n_rows
    assert conv.report.warning_counts['fourth_column_zero'] == len(files)
    assert 'column 4 is not part of the FashionAI' in conv.report.warnings[0]
    line43 = [r for r in conv.splits['train'] if 'f4e9b48d' in r['img_path']]
    assert line43[0]['attributes'] == {
        'collar_design_labels': ['Invisible', '?Shirt Collar']  # ymnnn
    }


def test_fashionai_s1ab_nonzero_fourth_column_is_refused(tmp_path):
    # a real s1ab row with its 4th column changed to 1 here
    src = real('fashionai', 's1ab', 's1ab_label.csv.lines00001-00003')
    rows = open(src).read().splitlines()
    path = tmp_path / 's1ab_label.csv'
    path.write_text('\n'.join([rows[0][:-1] + '1'] + rows[1:]) + '\n')
    conv = convert_fashionai(dict(train=str(path)), on_error='collect')
    assert len(conv.splits['train']) == 2
    assert conv.report.error_counts == {'extra_column': 1}
    assert conv.report.errors[0].startswith(f'{path}:1: 4 columns')
    assert (
        "column 4 is understood only when it is 0 (got ['1'])"
        in (conv.report.errors[0])
    )
    with pytest.raises(ConversionError, match='column 4'):
        convert_fashionai(dict(train=str(path)))


def test_fashionai_question_file_is_refused():
    q = real('fashionai', 'rank', 'Tests', 'question.csv.lines00001-00003')
    conv = convert_fashionai(dict(train=q), on_error='collect')
    assert conv.splits['train'] == []
    assert conv.report.error_counts == {'unlabelled_question': 3}
    assert 'test question file' in conv.report.errors[0]


# ---------------------------------------------- iMaterialist-Fashion 2018


def _label_rows():
    with open(LABEL_MAP_2018, newline='') as f:
        return list(csv.DictReader(f))


def test_imaterialist2018_real_label_map_in_task_id_order():
    lmap = read_label_map(LABEL_MAP_2018)
    rows = _label_rows()
    assert len(lmap) == len(rows) == 228
    tasks = list(dict.fromkeys(t for t, _ in lmap.values()))
    by_id = sorted({(int(r['taskId']), r['taskName']) for r in rows})
    assert tasks == [name for _, name in by_id]
    assert tasks == [
        'category',
        'color',
        'gender',
        'material',
        'neckline',
        'pattern',
        'sleeve',
        'style',
    ]
    sizes = {t: sum(r['taskName'] == t for r in rows) for t in tasks}
    assert sizes == dict(
        category=105,
        color=21,
        gender=3,
        material=34,
        neckline=11,
        pattern=28,
        sleeve=5,
        style=21,
    )
    assert lmap['89'] == ('category', 'Hosiery, Stockings, Tights')
    assert lmap['228'] == ('pattern', 'Zebra')  # last row, no line end
    assert [v for t, v in lmap.values() if t == 'sleeve'] == [
        'Long Sleeved',
        'Puff Sleeves',
        'Short Sleeves',
        'Sleeveless',
        'Strapless',
    ]


def test_imaterialist2018_real_validation_rows():
    conv = convert_imaterialist2018(
        dict(val=real('imaterialist2018', 'validation.json')),
        label_map=LABEL_MAP_2018,
        img_prefix=dict(val='validation'),
    )
    recs = _by_id(conv.splits['val'])
    assert sorted(recs, key=int) == [
        '1',
        '2',
        '3',
        '4',
        '5',
        '9870',
        '9877',
        '9897',
    ]
    name = {
        r['labelId']: (r['taskName'], r['labelName']) for r in _label_rows()
    }
    # 9877: 36 78 17 66 105 153 78 17 66 105 153 224 20 (five repeated)
    expected = {}
    for lid in '36 78 17 66 105 153 224 20'.split():
        task, value = name[lid]
        expected.setdefault(task, set()).add(value)
    assert _as_sets(recs['9877']['attributes']) == expected
    assert sum(len(v) for v in recs['9877']['attributes'].values()) == 8
    assert conv.report.stats['repeated_labels'] == 5
    assert recs['9870']['attributes'] == {'material': ['Nylon']}  # 115
    assert name['115'] == ('material', 'Nylon')
    assert recs['1']['img_path'] == 'validation/1.jpg'


# -------------------------------------------------------------- Fashionpedia
SAMPLE = real('fashionpedia', 'sample.json')


def test_fashionpedia_sample_instances_boxes_from_polygons():
    conv = convert_fashionpedia_instances(dict(train=SAMPLE))
    recs = _by_id(conv.splits['train'])
    # garments (categories 0-12 of the file's own ontology): 18 dress,
    # 34 pants, 37 shirt; sleeves 19, 20, 35, 36, necklines 21, collar 39
    assert sorted(recs) == ['18', '34', '37']
    assert recs['18']['category'] == 'dress'
    # dress 18 + sleeves 19, 20 + neckline 21 (ids in the sample's own
    # pre-release ontology: 147 knee (length), 156 wrist-length, 113
    # symmetrical, 115 fit and flare, 125 circle, 137 empire waistline,
    # 186 plunging (neckline))
    assert _as_sets(recs['18']['attributes']) == dict(
        length={'knee (length)', 'wrist-length'},
        silhouette={'symmetrical', 'fit and flare', 'circle'},
        waistline={'empire waistline'},
        neckline_type={'plunging (neckline)'},
    )
    assert _as_sets(recs['34']['attributes']) == dict(
        opening_type={'fly (opening)'},
        silhouette={'symmetrical'},
        textile_pattern={'plain (pattern)'},
        waistline={'normal waist'},
    )
    # shirt 37 has no attribute; its sleeves 35, 36 carry wrist-length
    assert recs['37']['attributes'] == {'length': ['wrist-length']}
    stats = conv.report.stats
    assert stats['boxes_from_segmentation'] == 9  # 3 garments + 6 parts
    assert stats['train/other_annotations'] == 3  # shoes 16, 17, hat 38
    assert conv.report.rejected == 0 and conv.report.inputs == 12
    # dress box (50, 186, 360, 512) + 10 % margin, clipped to 618 x 1000
    job = [j for j in conv.crops['train'] if j.dst.endswith('_18.jpg')][0]
    assert job.box == (14, 135, 446, 749)
    assert job.src == '000000009813.jpg'


def test_fashionpedia_instances_with_compressed_rle(tmp_path):
    """The sample with the dress's polygon replaced here by its real
    compressed RLE mask from fake_results.json."""
    data = json.load(open(SAMPLE))
    rle = {
        a['id']: a
        for a in json.load(open(real('fashionpedia', 'fake_results.json')))
    }
    for ann in data['annotations']:
        if ann['id'] == 18:
            ann['segmentation'] = rle[18]['segmentation']
            assert isinstance(ann['segmentation']['counts'], str)
    path = tmp_path / 'instances.json'
    path.write_text(json.dumps(data))
    conv = convert_fashionpedia_instances(dict(train=str(path)))
    job = [j for j in conv.crops['train'] if j.dst.endswith('_18.jpg')][0]
    # RLE box (50, 186, 360, 512), the polygon's: the same crop
    assert job.box == (14, 135, 446, 749)
    # an uncompressed RLE and a broken one
    h, w = 1000, 618
    for ann in data['annotations']:
        if ann['id'] == 18:
            ann['segmentation'] = dict(
                size=[h, w], counts=[100 * h + 10, 20, h * w - 100 * h - 30]
            )
        if ann['id'] == 34:
            ann['segmentation'] = dict(size=[h, w], counts='0o')
    path.write_text(json.dumps(data))
    conv = convert_fashionpedia_instances(
        dict(train=str(path)), on_error='collect'
    )
    job = [j for j in conv.crops['train'] if j.dst.endswith('_18.jpg')][0]
    # column 100, rows 10-29: (100, 10, 1, 20) + 10 %
    assert job.box == (100, 8, 101, 32)
    assert conv.report.error_counts == {'bad_segmentation': 1}
    assert 'annotations[6]: segmentation' in conv.report.errors[0]


def test_fashionpedia_sample_refuses_the_release_ontology():
    with pytest.raises(ConversionError, match='its own attributes differ'):
        convert_fashionpedia_instances(
            dict(train=SAMPLE), ontology=LABELS_2020
        )


def _global_file(tmp_path):
    """A global-attribute file with the three real annotations of
    attributes_val2020.json (image records written here: they are not in
    the excerpt)."""
    text = open(
        real('fashionpedia', 'attributes_val2020.json.attr340-licenses-'
             'first3annotations.txt'),
        encoding='utf-8',
    ).read()  # fmt: skip
    part = text[text.index('"annotations"') :].rstrip().rstrip(',')
    anns = json.loads('{' + part + ']}')['annotations']
    images = [
        dict(id=a['image_id'], file_name=f'{a["image_id"]}.jpg') for a in anns
    ]
    path = tmp_path / 'attributes_val2020.json'
    path.write_text(json.dumps(dict(annotations=anns, images=images)))
    return str(path), anns


def test_fashionpedia_global_attributes_contradictory_co_labels(tmp_path):
    path, anns = _global_file(tmp_path)
    assert [a['image_id'] for a in anns] == [17039, 17370, 20712]
    conv = convert_fashionpedia_attributes(
        dict(val=path), ontology=LABELS_2020
    )
    recs = _by_id(conv.splits['val'])
    name = _names(LABELS_2020, 'attributes')
    # image 17370: 141 high waist and 145 no waistline; 317 plain
    # (pattern) and 326 geometric
    assert (
        _as_sets(recs['17370']['attributes'])['waistline']
        == {
            name[141],
            name[145],
        }
        == {'high waist', 'no waistline'}
    )
    assert set(recs['17370']['attributes']['textile_pattern']) == {
        'plain (pattern)',
        'geometric',
    }
    # image 20712: three fits (135-137) and five lengths
    ids = set(anns[2]['attribute_ids'])
    assert set(recs['20712']['attributes']['silhouette']) >= {
        name[i] for i in (135, 136, 137)
    }
    lengths = {
        x['name']
        for x in json.load(open(LABELS_2020))['attributes']
        if x['supercategory'] == 'length' and x['id'] in ids
    }
    assert set(recs['20712']['attributes']['length']) == lengths
    assert len(lengths) == 5


# --------------------------------------- Kaggle iMaterialist-Fashion 2020
TRAIN_CSV = TRAIN_CSV_2020
IMAGE_A = '00000663ed1ff0c4e0132b9b9ac53f6e'


def test_kaggle_2020_fixture_holds_the_notebook_values():
    with open(TRAIN_CSV, newline='') as f:
        rows = list(csv.DictReader(f))
    encoded = open(
        real('imaterialist2020', 'notebook_output_encoded_pixels_row1.txt')
    ).read()
    assert rows[0]['EncodedPixels'] == encoded
    head = open(
        real('imaterialist2020', 'notebook_output_train_csv_head.txt')
    ).read()
    for r in rows[:5]:
        assert r['ImageId'] == IMAGE_A
        assert r['EncodedPixels'][:40] in head
        assert r['AttributesIds'] in head


def test_kaggle_2020_instances():
    conv = convert_imaterialist2020_instances(
        dict(train=TRAIN_CSV), ontology=LABELS_2020
    )
    name = _names(LABELS_2020, 'attributes')
    recs = _by_id(conv.splits['train'])
    # garments: line 2 pants (ClassId 6), line 3 shirt (ClassId 0)
    assert sorted(recs) == ['2', '3']
    assert recs['2']['category'] == 'pants'
    assert recs['3']['category'] == 'shirt, blouse'
    # line 3: 115,136,142,146,225,295,316,317 (the chosen supercategories)
    assert _as_sets(recs['3']['attributes']) == dict(
        silhouette={name[115], name[136]},
        waistline={name[142]},
        length={name[146]},
        opening_type={name[225]},
        textile_pattern={name[317]},
    )
    # the sleeve of line 5 (160 wrist-length): its truncated mask, columns
    # 2474-2477 and rows 4406-4420, lies inside the pants' box (columns
    # 1163-2839, rows 3923-5212), so it is assigned to the pants
    assert set(recs['2']['attributes']['length']) == {name[154], name[160]}
    # collar (line 4) and pocket (line 6) lie on no garment box; the
    # necklines of the two other images have no garment
    assert conv.report.stats['train/unassigned_parts'] == 4
    job = [j for j in conv.crops['train'] if j.dst.endswith('_2.jpg')][0]
    assert job.src == f'train/{IMAGE_A}.jpg'
    # box (1163, 3923, 1677, 1290) + 10 %, clipped to 3676 x 5214
    assert job.box == (995, 3794, 3008, 5214)
    assert conv.splits['train'][0]['_group'] == job.src


def test_kaggle_2020_image_level_union():
    conv = convert_imaterialist2020_attributes(
        dict(train=TRAIN_CSV), ontology=LABELS_2020
    )
    name = _names(LABELS_2020, 'attributes')
    recs = _by_id(conv.splits['train'])
    assert sorted(recs) == [
        '00000663ed1ff0c4e0132b9b9ac53f6e',
        '0000fe7c9191fba733c8a69cfaf962b7',
        '0002ec21ddb8477e98b2cbb87ea2e269',
    ]
    a = _as_sets(recs[IMAGE_A]['attributes'])
    # union of lines 2-6: pants and shirt disagree on waist and length
    assert a['waistline'] == {name[143], name[142]}
    assert a['length'] == {name[154], name[146], name[160]}
    assert a['opening_type'] == {name[230], name[225]}
    assert recs['0000fe7c9191fba733c8a69cfaf962b7']['attributes'] == {
        'neckline_type': [name[190]]
    }
    assert recs['0002ec21ddb8477e98b2cbb87ea2e269']['attributes'] == {
        'neckline_type': [name[182]]
    }
    assert recs[IMAGE_A]['img_path'] == f'train/{IMAGE_A}.jpg'


def test_kaggle_2020_empty_attributes_and_bad_rows(tmp_path):
    """Rows written here around one real row: an empty AttributesIds (as
    in image 0002ec21...) and broken values."""
    real_row = open(TRAIN_CSV).read().splitlines()[6]
    header = 'ImageId,EncodedPixels,Height,Width,ClassId,AttributesIds'
    path = tmp_path / 'train.csv'
    path.write_text(
        '\n'.join(
            [
                header,
                real_row,
                'img_b,1 4,4,4,1,',
                'img_c,1 2 3,4,4,1,',
                'img_d,1 4,x,4,1,',
                'img_e,1 4,4,4,1,"1,a"',
            ]
        )
        + '\n'
    )
    conv = convert_imaterialist2020_instances(
        dict(train=str(path)), ontology=LABELS_2020, on_error='collect'
    )
    assert conv.report.inputs == 5
    assert conv.report.error_counts == dict(
        bad_rle=1, malformed_line=1, bad_attribute_ids=1
    )
    assert conv.report.errors[0].startswith(f'{path}:4: EncodedPixels')
    recs = conv.splits['train']
    assert [r['id'] for r in recs] == ['3']  # img_b: top, no attribute
    assert recs[0]['attributes'] == {}


def test_kaggle_2019_files_are_refused(tmp_path):
    path = tmp_path / 'train.csv'
    path.write_text(
        'ImageId,EncodedPixels,Height,Width,ClassId\nx.jpg,1 2,4,4,10_3_20\n'
    )
    with pytest.raises(ConversionError, match=r'2019 \(FGVC6\) train.csv'):
        convert_imaterialist2020_attributes(
            dict(train=str(path)), ontology=LABELS_2020
        )
    labels = tmp_path / 'label_descriptions.json'
    data = json.load(open(LABELS_2020))
    data['info'] = dict(
        description='The 2019 FGVC^6 iMaterialist Competition - Fashion '
        'track dataset.'
    )
    labels.write_text(json.dumps(data))
    with pytest.raises(ConversionError, match='2019 \\(FGVC6\\) label file'):
        convert_imaterialist2020_attributes(
            dict(train=TRAIN_CSV), ontology=str(labels)
        )
    with pytest.raises(ConversionError, match='--ontology'):
        convert_imaterialist2020_attributes(dict(train=TRAIN_CSV))


def test_kaggle_2020_documented_route_to_a_training_batch(
    tmp_path, monkeypatch
):
    """convert.py on the real rows, then the config of the dataset guide,
    saved where it says (``my_configs/`` next to ``configs/``), yields
    paper-pipeline batches."""
    import textwrap

    import cv2
    import numpy as np
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner

    guide = osp.join(REPO, 'docs', 'en', 'user_guides', 'dataset_prepare.md')
    docs = open(guide, encoding='utf-8').read()
    start = docs.index('# my_configs/imat2020_attr_approach3.py')
    start = docs.rindex('\n', 0, start) + 1
    snippet = textwrap.dedent(docs[start : docs.index('```', start)])
    (tmp_path / 'configs').symlink_to(osp.join(REPO, 'configs'))
    (tmp_path / 'my_configs').mkdir()
    cfg_path = tmp_path / 'my_configs' / 'imat2020_attr_approach3.py'
    cfg_path.write_text(snippet)
    monkeypatch.chdir(tmp_path)
    data = tmp_path / 'data' / 'imat2020'
    (data / 'train').mkdir(parents=True)
    for iid in (
        IMAGE_A,
        '0000fe7c9191fba733c8a69cfaf962b7',
        '0002ec21ddb8477e98b2cbb87ea2e269',
    ):
        cv2.imwrite(
            str(data / 'train' / f'{iid}.jpg'), np.zeros((60, 40, 3), np.uint8)
        )
    rc = convert.main(
        [
            'imat2020-attr',
            f'train={TRAIN_CSV}',
            f'val={TRAIN_CSV}',
            '--ontology',
            LABELS_2020,
            '--img-root',
            str(data),
            '--out',
            str(data / 'attr'),
            '--no-progress',
        ]
    )
    assert rc == 0
    cfg = Config.fromfile(str(cfg_path))
    assert cfg.model.head.schema == 'data/imat2020/attr/schema.json'
    loader_cfg = cfg.train_dataloader
    loader_cfg.update(
        batch_size=3, num_workers=0, persistent_workers=False, pin_memory=False
    )
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        loader = Runner.build_dataloader(loader_cfg, seed=0)
    batch = next(iter(loader))
    assert len(batch['inputs']) == 3
    assert all(t.shape == (3, 384, 384) for t in batch['inputs'])
