"""Annotation errors are caught before training, with the file and line
(or record id).

Guards against silently learning from mislabelled rows: JSON keeps the
last of two equal keys (a label dropped without a word), a CSV column the
schema does not know is ignored while empty, the same image listed twice
under two spellings, a record id used twice, a category attribute that
contradicts the record's category, an Excel byte order mark breaking the
header, an empty file training nothing; and against a model head built
from another schema than the annotations (each output then means another
value, and nothing fails).
"""

import json
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmfashion_attr.datasets import (
    CatalogDataset,
    CatalogFormatError,
    read_catalog,
)
from mmfashion_attr.engine import SchemaMismatchError, schema_differences
from tests.helpers.schemas import TINY_SCHEMA
from tests.helpers.tinydata import make_tiny_catalog, write_tiny_config


def rec(**kw):
    d = dict(img_path='a.jpg', category='tee', attributes={})
    d.update(kw)
    return json.dumps(d)


OK = rec(img_path='ok.jpg', attributes={'sleeve': ['short']})

# (lines of a .jsonl file, words of the problem); the bad record is line 3
JSONL_ERRORS = {
    'unknown attribute': (
        rec(attributes={'fit': ['slim']}),
        "unknown attribute 'fit'",
    ),
    'unknown value': (
        rec(attributes={'sleeve': ['cap']}),
        "unknown value 'cap'",
    ),
    'unknown category': (rec(category='socks'), "unknown category 'socks'"),
    'values not a list': (
        rec(attributes={'sleeve': 'short'}),
        'list of strings',
    ),
    'value not a string': (rec(attributes={'sleeve': [1]}), 'list of strings'),
    'null values': (rec(attributes={'sleeve': None}), 'list of strings'),
    'category not a string': (
        rec(category=True),
        "'category' must be a string",
    ),
    'attributes not an object': (
        rec(attributes=[['sleeve', 'short']]),
        "'attributes' must be an object",
    ),
    'id not a string': (rec(id=[1]), "'id' must be a string or an integer"),
    'blank img_path': (rec(img_path='  '), "'img_path'"),
    'duplicate key': (
        '{"img_path": "a.jpg", "attributes": {"sleeve": ["short"], '
        '"sleeve": ["long"]}}',
        "key 'sleeve' appears twice",
    ),
    'category contradiction': (
        rec(category='tee', attributes={'category': ['jeans']}),
        "contradicts the record category 'tee'",
    ),
    'duplicate image, other spelling': (
        rec(img_path='./ok.jpg'),
        "duplicate record for './ok.jpg' (first at line 1)",
    ),
}


def write(path, lines):
    path.write_text('\n'.join(lines) + '\n', encoding='utf-8')
    return str(path)


@pytest.mark.parametrize('case', sorted(JSONL_ERRORS))
def test_jsonl_errors_name_file_and_line(tmp_path, small_schema, case):
    bad, words = JSONL_ERRORS[case]
    p = write(tmp_path / 'cat.jsonl', [OK, '', bad])
    with pytest.raises(CatalogFormatError) as e:
        read_catalog(p, small_schema)
    assert str(e.value).startswith(f'{p}:3: '), str(e.value)
    assert words in str(e.value)
    assert (e.value.path, e.value.line) == (p, 3)
    # skip mode: the good record stays, the bad one is counted
    records, report = read_catalog(p, small_schema, on_error='skip')
    assert [r.img_path for r in records] == ['ok.jpg']
    assert report.num_skipped == 1 and f'{p}:3: ' in report.errors[0]


def test_duplicate_record_id(tmp_path, small_schema):
    p = write(
        tmp_path / 'c.jsonl',
        [rec(img_path='a.jpg', id='sku-1'), rec(img_path='b.jpg', id='sku-1')],
    )
    with pytest.raises(
        CatalogFormatError,
        match=r"c\.jsonl:2: duplicate record id 'sku-1' "
        r'\(first at line 1\)',
    ):
        read_catalog(p, small_schema)


@pytest.mark.parametrize(
    'header, row, words',
    [
        (
            'img_path,sleeve,sleeve',
            'a.jpg,short,long',
            "column names ['sleeve']",
        ),
        ('img_path,,sleeve', 'a.jpg,x,short', 'empty column names'),
        # a column the schema does not know, even with empty cells
        (
            'img_path,fit,sleeve',
            'a.jpg,,short',
            "columns ['fit'] are not attributes of the schema",
        ),
    ],
)
def test_csv_header_schema_mismatch_is_line_1(
    tmp_path, small_schema, header, row, words
):
    p = write(tmp_path / 'c.csv', [header, row])
    for on_error in ('raise', 'skip'):  # a header error fails the file
        with pytest.raises(CatalogFormatError) as e:
            read_catalog(p, small_schema, on_error=on_error)
        assert str(e.value).startswith(f'{p}:1: ') and words in str(e.value)


def test_csv_row_errors_name_line(tmp_path, small_schema):
    p = write(
        tmp_path / 'c.csv',
        ['img_path,sleeve', 'a.jpg,short', 'b.jpg,short|', 'c.jpg,short,x'],
    )
    with pytest.raises(
        CatalogFormatError,
        match=r'c\.csv:3: unknown value '
        "''",
    ):
        read_catalog(p, small_schema)
    _, report = read_catalog(p, small_schema, on_error='skip')
    assert report.num_skipped == 2
    assert any(':4: 3 cells but the header has 2' in e for e in report.errors)


def test_byte_order_mark_is_not_part_of_the_header(tmp_path, small_schema):
    bom = '\ufeff'
    c = write(
        tmp_path / 'c.csv',
        [bom + 'img_path,category,sleeve', 'a.jpg,tee,short'],
    )
    j = write(
        tmp_path / 'c.jsonl', [bom + rec(attributes={'sleeve': ['short']})]
    )
    (rc,), _ = read_catalog(c, small_schema)
    (rj,), _ = read_catalog(j, small_schema)
    assert rc.gt_attr[small_schema.slice('sleeve')].tolist() == [1, 0, 0]
    assert (rj.gt_attr == rc.gt_attr).all()


def test_empty_annotation_file_is_an_error(tmp_path, small_schema_dict):
    (tmp_path / 'schema.json').write_text(json.dumps(small_schema_dict))
    (tmp_path / 'train.jsonl').write_text('\n')
    with pytest.raises(CatalogFormatError, match='no usable records'):
        CatalogDataset(
            ann_file='train.jsonl',
            schema='schema.json',
            data_root=str(tmp_path),
        )
    write(tmp_path / 'bad.jsonl', ['not json'])
    with pytest.raises(CatalogFormatError, match='1 malformed records'):
        CatalogDataset(
            ann_file='bad.jsonl',
            schema='schema.json',
            data_root=str(tmp_path),
            on_error='skip',
        )


# --------------------------------------------------- before training starts
class CountIters(Hook):
    def __init__(self):
        self.iters = 0

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self.iters += 1


@pytest.fixture
def tiny(root):
    make_tiny_catalog(root, n=4)
    return root


def runner_for(root, extra=''):
    extra = (
        "custom_imports = dict(imports=['mmfashion_attr', "
        "'mmfashion_attr.engine'], allow_failed_imports=False)\n"
        "custom_hooks = [dict(type='SchemaCheckHook')]\n" + extra
    )
    cfg = Config.fromfile(
        write_tiny_config(
            root, osp.join(root, 'work'), epochs=1, batch=2, extra=extra
        )
    )
    runner = Runner.from_cfg(cfg)
    count = CountIters()
    runner.register_hook(count)
    return runner, count


def test_bad_validation_file_stops_the_run_before_training(tiny):
    with open(osp.join(tiny, 'val.jsonl'), 'a') as f:
        f.write(
            json.dumps(
                dict(img_path='img/999.png', attributes={'colour': ['purple']})
            )
            + '\n'
        )
    runner, count = runner_for(tiny)
    with pytest.raises(
        CatalogFormatError,
        match=r'val\.jsonl:5: unknown '
        "value 'purple'",
    ):
        runner.train()
    assert count.iters == 0


def _other_schema(root):
    """The tiny schema with the colour values in another order: the same
    size, so nothing but the check notices."""
    other = json.loads(json.dumps(TINY_SCHEMA))
    other['attributes'][1]['values'] = ['blue', 'green', 'red']
    path = osp.join(root, 'other_schema.json')
    with open(path, 'w') as f:
        json.dump(other, f)
    return path


def test_head_and_data_schema_mismatch_stops_before_training(tiny):
    other = _other_schema(tiny)
    runner, count = runner_for(
        tiny, f'model = dict(head=dict(schema={other!r}, hidden_channels=8))\n'
    )
    with pytest.raises(SchemaMismatchError) as e:
        runner.train()
    assert "values of 'colour' differ" in str(e.value)
    assert 'train.jsonl' in str(e.value) and count.iters == 0


def test_without_the_check_a_permuted_schema_trains_silently(tiny):
    """Control: the same mismatch without SchemaCheckHook trains."""
    other = _other_schema(tiny)
    runner, count = runner_for(
        tiny,
        'custom_hooks = []\n'
        f'model = dict(head=dict(schema={other!r}, hidden_channels=8))\n',
    )
    runner.train()
    assert count.iters == 2


def test_checkpoint_of_another_schema_is_refused(tiny):
    runner, _ = runner_for(tiny)
    runner.train()
    ckpt = osp.join(tiny, 'work', 'epoch_1.pth')
    state = torch.load(ckpt)
    state['meta']['dataset_meta']['schema']['attributes'][1]['values'] = [
        'blue',
        'green',
        'red',
    ]
    torch.save(state, osp.join(tiny, 'permuted.pth'))
    tester, _ = runner_for(tiny, 'load_from = data_root + "permuted.pth"\n')
    with pytest.raises(SchemaMismatchError, match='checkpoint was trained'):
        tester.test()
    ok, _ = runner_for(tiny, f'load_from = {ckpt!r}\n')
    assert 'attr/colour/micro_f1' in ok.test()


def test_schema_differences_lists_what_changed():
    a = json.loads(json.dumps(TINY_SCHEMA))
    b = json.loads(json.dumps(TINY_SCHEMA))
    assert schema_differences(a, b) == []
    b['attributes'].pop(2)
    b['categories'] = ['bottom', 'top']
    b['allowed'] = {}
    diff = schema_differences(a, b)
    assert any("missing ['closure']" in d for d in diff)
    assert any('categories differ' in d for d in diff)
    assert any(
        "allowed values differ for categories ['bottom']" in d for d in diff
    )
