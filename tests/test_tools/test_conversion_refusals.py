"""No silent success: what ``convert.py`` and ``check.py`` refuse, with
which message and exit status, on the real-file fixtures.

``convert.py``: 0 written, 1 output not written, 2 sources unreadable or
the conversion failed its checks. ``check.py``: 0 clean, 1 errors found,
2 unreadable files.
"""

import json
import os.path as osp
import zipfile

import cv2
import numpy as np
import pytest

from mmfashion_attr.datasets.converters import (
    Conversion,
    ConversionReport,
    conversion_problems,
    holdout_split,
)
from tests.helpers.real_files import (
    LABEL_MAP_2018,
    LABELS_2020,
    REAL,
    TRAIN_CSV_2020,
)
from tools.dataset_converters import check as check_tool
from tools.dataset_converters import convert as convert_tool

WARM_UP = osp.join(REAL, 'fashionai', 'web', 'Annotations')
QUESTIONS = osp.join(
    REAL, 'fashionai', 'rank', 'Tests', 'question.csv.lines00001-00003'
)


@pytest.fixture(scope='module')
def convert():
    return convert_tool.main


@pytest.fixture(scope='module')
def check():
    return check_tool.main


def _err_lines(capsys):
    err = capsys.readouterr().err
    return [line for line in err.splitlines() if line.startswith('error:')]


# ------------------------------------------------ empty or mostly rejected
def test_question_file_converts_to_nothing_and_fails(
    tmp_path, capsys, convert, check
):
    out = tmp_path / 'out'
    rc = convert(['fashionai', f'train={QUESTIONS}', '--out', str(out)])
    assert rc == 2
    errors = _err_lines(capsys)
    assert errors[0] == (
        'error: 3 of 3 source items (100.0%) were rejected, more than the '
        'allowed 5.0% (--max-reject-ratio); errors: unlabelled_question 3'
    )
    assert "error: split 'train' has no record" in errors
    assert errors[-1] == f'error: nothing written to {out}'
    assert not out.exists()
    rc = check(['fashionai', f'train={QUESTIONS}', '--images', 'none'])
    assert rc == 1
    assert "error: split 'train' has no record" in _err_lines(capsys)


def test_reject_ratio(tmp_path, capsys, convert):
    # the real warm-up rows plus one broken row written here: 1 of 7
    rows = open(osp.join(WARM_UP, 'skirt_length_labels.csv')).read()
    path = tmp_path / 'Annotations' / 'skirt_length_labels.csv'
    path.parent.mkdir()
    assert rows.endswith('\n')
    path.write_text(rows + 'Images/x.jpg,skirt_length_labels,nyn\n')
    args = ['fashionai', f'train={path}', '--no-progress']
    assert convert(args + ['--out', str(tmp_path / 'a')]) == 2
    assert (
        '1 of 7 source items (14.3%) were rejected' in (_err_lines(capsys)[0])
    )
    rc = convert(
        args + ['--out', str(tmp_path / 'b'), '--max-reject-ratio', '0.2']
    )
    assert rc == 0
    captured = capsys.readouterr()
    assert f'skipped: {path}:7: skirt_length_labels has 6 values' in (
        captured.err
    )
    summary = json.loads(captured.out[: captured.out.rindex('}') + 1])
    assert summary['inputs'] == 7 and summary['rejected'] == 1
    assert sum(1 for _ in open(tmp_path / 'b' / 'train.jsonl')) == 6


def test_empty_split_without_errors_fails(tmp_path):
    conv = Conversion(
        dict(attributes=[]), dict(train=[], val=[{}]), ConversionReport()
    )
    assert conversion_problems(conv) == ["split 'train' has no record"]
    assert conversion_problems(conv, allow_empty=True) == []
    conv.report.stats['train/images_without_chosen_attributes'] = 4
    assert conversion_problems(conv) == [
        "split 'train' has no record (images_without_chosen_attributes 4)"
    ]


# --------------------------------------------------- unreadable label maps
def _xlsx(path):
    with zipfile.ZipFile(path, 'w') as z:
        z.writestr('[Content_Types].xml', '<Types/>')
        z.writestr('xl/workbook.xml', '<workbook/>')


def _val_json(tmp_path):
    path = tmp_path / 'validation.json'
    path.write_text(
        json.dumps(dict(annotations=[dict(imageId='1', labelId=['1'])]))
    )
    return str(path)


@pytest.mark.parametrize('tool', ['convert', 'check'])
def test_xlsx_label_map_is_one_line_error_exit_2(
    tmp_path, capsys, tool, request
):
    lmap = tmp_path / 'iMat_fashion_2018_label_map_228.xlsx'
    _xlsx(lmap)
    args = ['imat2018', f'val={_val_json(tmp_path)}', '--label-map', str(lmap)]
    if tool == 'convert':
        args += ['--out', str(tmp_path / 'out')]
    rc = request.getfixturevalue(tool)(args)
    assert rc == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f'error: {lmap}: the label map is a zip archive (an .xlsx workbook '
        'is one), not CSV (UTF-8) like iMat_fashion_2018_label_map_228.csv;'
        ' save it as CSV (UTF-8) like iMat_fashion_2018_label_map_228.csv'
    )


@pytest.mark.parametrize(
    'encoding, what',
    [
        ('cp1252', 'not UTF-8 text (byte 0xe9 at offset'),
        ('utf-16', 'is UTF-16 text'),
    ],
)
def test_label_map_in_another_encoding_exit_2(
    tmp_path, capsys, check, encoding, what
):
    text = open(LABEL_MAP_2018, newline='').read().replace('Argyle', 'Argylé')
    lmap = tmp_path / 'label_map.csv'
    lmap.write_bytes(text.encode(encoding))
    rc = check(
        ['imat2018', f'val={_val_json(tmp_path)}', '--label-map', str(lmap)]
    )
    assert rc == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f'error: {lmap}: the label map ')
    assert what in err and err.count('\n') == 0


def test_non_utf8_fashionai_file_exit_2(tmp_path, capsys, convert):
    path = tmp_path / 'label.csv'
    path.write_bytes(
        'Images/a.jpg,skirt_length_labels,nnnynn # 长\n'.encode('gbk')
    )
    rc = convert(['fashionai', f'train={path}', '--out', str(tmp_path / 'o')])
    assert rc == 2
    err = capsys.readouterr().err
    assert f'error: {path}: the label file is not UTF-8 text' in err


def test_deepfashion_two_layouts_exit_2(tmp_path, capsys, convert):
    (tmp_path / 'Anno_coarse').mkdir()
    (tmp_path / 'Anno_fine').mkdir()
    rc = convert(['deepfashion', str(tmp_path), '--out', str(tmp_path / 'o')])
    assert rc == 2
    assert 'choose one with anno_dir (--anno-dir)' in _err_lines(capsys)[0]


# -------------------------------------------------- outputs really written
def test_fashionpedia_sample_crops_checked(tmp_path, capsys, convert):
    sample = osp.join(REAL, 'fashionpedia', 'sample.json')
    args = ['fashionpedia-inst', f'train={sample}', '--no-progress']
    # no images: the annotations convert, the crops cannot be cut
    rc = convert(
        args + ['--img-root', str(tmp_path), '--out', str(tmp_path / 'a')]
    )
    assert rc == 1
    assert _err_lines(capsys) == [
        'error: 3 of 3 crops were not written (unreadable source images or '
        'boxes outside them; check --img-root and --img-prefix)'
    ]
    # blank images of the sizes in sample.json (618 x 1000, 1000 x 1478)
    for name, (w, h) in {
        '000000009813.jpg': (618, 1000),
        '000000010223.jpg': (1000, 1478),
    }.items():
        cv2.imwrite(str(tmp_path / name), np.full((h, w, 3), 200, np.uint8))
    rc = convert(
        args + ['--img-root', str(tmp_path), '--out', str(tmp_path / 'b')]
    )
    assert rc == 0
    crop = cv2.imread(
        str(tmp_path / 'b' / 'crops' / 'train' / '000000009813_18.jpg')
    )
    # dress box 50..410 x 186..698 + 10 %: x 14..446, y 135..749
    assert crop.shape[:2] == (749 - 135, 446 - 14)


def test_unwritable_outputs(tmp_path, capsys, convert, check):
    blocker = tmp_path / 'file'
    blocker.write_text('')
    warm = osp.join(WARM_UP, 'skirt_length_labels.csv')
    rc = convert(['fashionai', f'train={warm}', '--out', str(blocker / 'out')])
    assert rc == 1
    assert _err_lines(capsys)[0].startswith(
        f'error: cannot write {blocker}/out'
    )
    rc = check(
        [
            'fashionai',
            f'train={warm}',
            '--images',
            'none',
            '--json',
            str(blocker / 'c.json'),
        ]
    )
    assert rc == 2
    assert _err_lines(capsys)[0].startswith(
        f'error: cannot write {blocker}/c.json'
    )


# ----------------------------------------------- Kaggle 2020 through the tool
def test_kaggle_2020_tool(tmp_path, capsys, convert):
    train = TRAIN_CSV_2020
    base = [
        '--ontology',
        LABELS_2020,
        '--no-progress',
        '--img-root',
        str(tmp_path),
    ]
    rc = convert(
        ['imat2020-attr', f'train={train}', '--out', str(tmp_path / 'attr')]
        + base
    )
    assert rc == 0
    assert sum(1 for _ in open(tmp_path / 'attr' / 'train.jsonl')) == 3
    rc = convert(
        ['imat2020-inst', f'train={train}', '--out', str(tmp_path / 'inst')]
        + base
    )
    assert rc == 1  # no images yet
    capsys.readouterr()
    (tmp_path / 'train').mkdir()
    image = np.full((5214, 3676, 3), 128, np.uint8)  # Height x Width
    cv2.imwrite(
        str(tmp_path / 'train' / '00000663ed1ff0c4e0132b9b9ac53f6e.jpg'), image
    )
    rc = convert(
        ['imat2020-inst', f'train={train}', '--out', str(tmp_path / 'inst')]
        + base
    )
    assert rc == 0
    crops = tmp_path / 'inst' / 'crops' / 'train'
    assert sorted(p.name for p in crops.iterdir()) == [
        '00000663ed1ff0c4e0132b9b9ac53f6e_2.jpg',
        '00000663ed1ff0c4e0132b9b9ac53f6e_3.jpg',
    ]
    pants = cv2.imread(str(crops / '00000663ed1ff0c4e0132b9b9ac53f6e_2.jpg'))
    assert pants.shape[:2] == (5214 - 3794, 3008 - 995)
    rc = convert(
        ['imat2020-attr', f'train={train}', '--out', str(tmp_path / 'x')]
    )
    assert rc == 2
    assert '--ontology' in _err_lines(capsys)[0]


def test_holdout_keeps_a_photo_together():
    recs = [
        dict(img_path=f'crops/{i}_{k}.jpg', _group=f'photo{i}')
        for i in range(40)
        for k in range(3)
    ]
    conv = Conversion({}, dict(train=recs), ConversionReport())
    holdout_split(conv, 0.5)
    train = {r['_group'] for r in conv.splits['train']}
    val = {r['_group'] for r in conv.splits['val']}
    assert train and val and not train & val
    assert len(conv.splits['train']) + len(conv.splits['val']) == 120


def test_converted_dataset_refuses_a_mostly_rejected_source():
    from mmfashion_attr.datasets import ConvertedDataset

    folder, name = osp.split(QUESTIONS)
    with pytest.raises(ValueError, match="split 'train' has no record"):
        ConvertedDataset(
            'fashionai',
            [f'train={name}'],
            data_root=folder,
            on_error='skip',
            pipeline=[],
        )
