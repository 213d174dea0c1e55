"""tools/dataset_converters/check.py finds every planted defect and passes
clean sets."""

import json
import os
import os.path as osp
import subprocess
import sys

import pytest

from mmfashion_attr.datasets.converters import convert_sources
from mmfashion_attr.datasets.dataset_check import check_conversion, check_image
from tests.helpers import public_fixtures as fx
from tests.helpers.tinydata import REPO
from tools.dataset_converters import check

TOOL_SCRIPT = osp.join(REPO, 'tools', 'dataset_converters', 'check.py')


def _write_catalog(root, schema, records):
    os.makedirs(root, exist_ok=True)
    with open(osp.join(root, 'schema.json'), 'w') as f:
        json.dump(schema, f)
    with open(osp.join(root, 'train.jsonl'), 'w') as f:
        for r in records:
            f.write((r if isinstance(r, str) else json.dumps(r)) + '\n')
    for r in records:
        if isinstance(r, dict):
            fx.gradient_image(osp.join(root, r['img_path']), 20, 30)


def _clean_records():
    return [
        dict(
            img_path='img/0.jpg',
            category='tee',
            attributes={
                'sleeve': ['short'],
                'colour': ['red'],
                'pattern': ['solid'],
            },
        ),
        dict(
            img_path='img/1.jpg',
            category='jeans',
            attributes={
                'closure': ['zip'],
                'colour': ['blue'],
                'pattern': ['stripes'],
            },
        ),
        dict(
            img_path='img/2.jpg',
            category='dress',
            attributes={
                'sleeve': ['long'],
                'closure': ['button'],
                'colour': ['white', 'red'],
                'pattern': ['floral'],
            },
        ),
    ]


def test_clean_catalog_passes(tmp_path, small_schema_dict, capsys):
    root = str(tmp_path / 'cat')
    _write_catalog(root, small_schema_dict, _clean_records())
    rc = check.main(
        [
            'catalog',
            f'train={root}/train.jsonl',
            '--schema',
            f'{root}/schema.json',
            '--no-progress',
            '--json',
            str(tmp_path / 'out.json'),
        ]
    )
    out = capsys.readouterr().out
    assert rc == 0, out
    assert 'no errors' in out
    report = json.load(open(tmp_path / 'out.json'))
    assert report['ok'] and report['num_records'] == {'train': 3}
    stats = {a['name']: a for a in report['stats']['train']}
    # closure: labelled on 2 of 3 -> missing 1/3; button 1, zip 1
    assert stats['closure']['labelled'] == 2
    assert stats['closure']['missing_rate'] == pytest.approx(1 / 3)
    assert stats['closure']['values']['zip'] == [1, 1, 0]
    assert stats['colour']['values']['red'] == [2, 1, 0]
    # category from the record: tee 1, jeans 1, dress 1
    assert stats['category']['values']['dress'] == [1, 2, 0]
    assert stats['colour']['imbalance'] == pytest.approx(2.0)


def test_broken_catalog_every_defect_found(
    tmp_path, small_schema_dict, capsys
):
    root = str(tmp_path / 'cat')
    recs = [
        dict(
            img_path='img/0.jpg',
            category='tee',
            attributes={'sleeve': ['short'], 'colour': ['red']},
        ),
        # duplicate record
        dict(
            img_path='img/0.jpg',
            category='tee',
            attributes={'colour': ['blue']},
        ),
        # value outside the category's allowed set (jeans have no sleeve)
        dict(
            img_path='img/1.jpg',
            category='jeans',
            attributes={'sleeve': ['short'], 'colour': ['blue']},
        ),
        # unknown value and unknown category
        dict(img_path='img/2.jpg', attributes={'colour': ['purple']}),
        dict(img_path='img/3.jpg', category='hat', attributes={}),
        # corrupt and missing images
        dict(img_path='img/4.jpg', attributes={'colour': ['red']}),
        dict(img_path='img/5.jpg', attributes={'colour': ['red']}),
        '{"img_path": "img/6.jpg", ',  # malformed line
    ]
    # 'closure' and 'pattern' are never labelled
    _write_catalog(root, small_schema_dict, recs)
    fx.corrupt_image(osp.join(root, 'img', '4.jpg'))
    os.remove(osp.join(root, 'img', '5.jpg'))
    rc = check.main(
        [
            'catalog',
            f'train={root}/train.jsonl',
            '--schema',
            f'{root}/schema.json',
            '--no-progress',
        ]
    )
    out = capsys.readouterr().out
    assert rc == 1
    conv = convert_sources(
        'catalog',
        [f'train={root}/train.jsonl'],
        on_error='collect',
        schema=f'{root}/schema.json',
    )
    res = check_conversion(conv, img_root=root, progress=False)
    assert res.error_counts == {
        'malformed_record': 1,
        'duplicate_record': 1,
        'value_not_allowed': 1,
        'invalid_record': 2,
        'attribute_never_labelled': 2,
        'image_unreadable': 1,
        'image_missing': 1,
    }
    messages = '\n'.join(m for _, m in res.errors)
    assert "train.jsonl:3: sleeve='short' is not allowed" in messages
    assert "attribute 'closure' is never labelled" in messages
    assert 'img/4.jpg: cannot decode' in messages
    assert 'train.jsonl:4' in messages and 'purple' in messages
    for kind in res.error_counts:
        assert f"'{kind}'" in out  # printed in the summary


def test_fashionpedia_broken_and_clean(tmp_path, capsys):
    clean = tmp_path / 'clean'
    clean.mkdir()
    fx.make_fashionpedia_attributes(str(clean))
    args = [
        'fashionpedia-attr',
        f'train={clean}/attributes_train2020.json',
        f'val={clean}/attributes_val2020.json',
        '--img-prefix',
        'train=train',
        'val=test',
        '--no-progress',
    ]
    assert check.main(args) == 0
    out = capsys.readouterr().out
    # textile pattern: plain, floral, plant, toile de jouy once each
    assert 'textile_pattern: labelled 3, missing 0.0%' in out
    assert 'waistline: labelled 1, missing 66.7%' in out

    broken = tmp_path / 'broken'
    broken.mkdir()
    fx.make_fashionpedia_attributes(str(broken), broken=True)
    conv = convert_sources(
        'fashionpedia-attr',
        [
            f'train={broken}/attributes_train2020.json',
            f'val={broken}/attributes_val2020.json',
        ],
        on_error='collect',
        img_prefix=dict(train='train', val='test'),
    )
    res = check_conversion(conv, img_root=str(broken), progress=False)
    assert res.error_counts == {
        'unknown_attribute_id': 1,
        'unknown_image_id': 1,
        'duplicate_record': 1,
        'image_unreadable': 1,
        'image_missing': 1,
    }


@pytest.mark.parametrize('fmt', ['fashionai', 'imat2018', 'deepfashion'])
def test_other_formats_broken_and_clean(tmp_path, fmt):
    def run(root, broken):
        if fmt == 'fashionai':
            src = [f'train={fx.make_fashionai(root, broken)}']
            opts = dict(root=root)
        elif fmt == 'imat2018':
            p = fx.make_imaterialist2018(root, broken)
            src = [f'train={p["train"]}']
            opts = dict(
                label_map=p['label_map'], img_prefix=dict(train='train')
            )
        else:
            src = [fx.make_deepfashion(root, broken)]
            opts = {}
        conv = convert_sources(fmt, src, on_error='collect', **opts)
        return check_conversion(conv, img_root=root, progress=False)

    (tmp_path / 'c').mkdir()
    (tmp_path / 'b').mkdir()
    assert run(str(tmp_path / 'c'), False).ok
    res = run(str(tmp_path / 'b'), True)
    expected = {
        'fashionai': {
            'unknown_attribute': 1,
            'bad_label': 2,
            'duplicate_record': 1,
        },
        'imat2018': {'unknown_label_id': 1, 'duplicate_record': 1},
        # DeepFashion's broken rows have no image files either
        'deepfashion': {
            'bad_label': 1,
            'malformed_line': 1,
            'duplicate_record': 1,
        },
    }[fmt]
    assert res.error_counts == expected


def test_check_image_modes(tmp_path):
    good = str(tmp_path / 'good.png')
    fx.gradient_image(good, 8, 8)
    bad = str(tmp_path / 'bad.jpg')
    fx.corrupt_image(bad)
    (tmp_path / 'text.jpg').write_text('not an image')
    assert check_image(good) is None
    assert check_image(bad).startswith('cannot decode')
    assert check_image(str(tmp_path / 'text.jpg')).startswith('cannot')
    assert check_image(str(tmp_path / 'none.jpg')) == 'missing'
    assert check_image(bad, 'exists') is None
    assert check_image(str(tmp_path / 'none.jpg'), 'none') is None


def test_check_image_refuses_what_training_refuses(tmp_path):
    """The checker reads through training's decoding path: a FIFO does
    not block it, EPS is not handed to Ghostscript, a header over the pixel
    cap is refused with the reason training gives."""
    from tests.helpers.bad_images import bad_catalogue, write_files

    bad = bad_catalogue()
    paths = write_files(
        str(tmp_path), {k: bad[k] for k in ('eps.jpg', 'bomb_100mp.png')}
    )
    os.mkfifo(tmp_path / 'pipe.jpg')
    assert check_image(str(tmp_path / 'pipe.jpg')) == (
        'cannot decode: not a regular file (a FIFO (named pipe)); only '
        'regular files are read'
    )
    assert 'PostScript / EPS' in check_image(paths['eps.jpg'])
    assert 'exceeds max_pixels' in check_image(paths['bomb_100mp.png'])


def test_cli_exit_codes(tmp_path, small_schema_dict, capsys):
    root = str(tmp_path / 'cat')
    _write_catalog(root, small_schema_dict, _clean_records())
    args = [
        'catalog',
        f'train={root}/train.jsonl',
        '--schema',
        f'{root}/schema.json',
        '--no-progress',
    ]
    assert check.main(args) == 0
    assert check.main(['catalog', f'train={root}/nope.jsonl'] + args[2:]) == 2
    assert 'not found' in capsys.readouterr().err
    os.remove(osp.join(root, 'img', '1.jpg'))
    # one real process: the script runs standalone and exits non-zero
    proc = subprocess.run(
        [sys.executable, TOOL_SCRIPT] + args, capture_output=True, text=True
    )
    assert proc.returncode == 1 and 'image_missing' in proc.stdout
