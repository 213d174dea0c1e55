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


# ------------------------------------------------------------- encodings
def test_excel_cp1252_csv_names_line_and_encoding(tmp_path, small_schema):
    """Excel's "CSV" on Windows writes cp1252: the bad line is reported
    with the byte, the column and the likely encoding; skip drops it."""
    p = tmp_path / 'excel.csv'
    p.write_bytes(
        'img_path,category,sleeve\na.jpg,tee,short\n'
        'café.jpg,tee,long\nb.jpg,tee,short\n'.encode('cp1252')
    )
    with pytest.raises(CatalogFormatError) as e:
        read_catalog(str(p), small_schema)
    msg = str(e.value)
    assert msg.startswith(f'{p}:3: not valid UTF-8 (byte 0xe9 at column 4)')
    assert 'Windows-1252' in msg and 'save it as UTF-8' in msg
    records, report = read_catalog(str(p), small_schema, on_error='skip')
    assert [r.img_path for r in records] == ['a.jpg', 'b.jpg']
    assert (
        report.num_skipped == 1
        and f'{p}:3: not valid UTF-8' in (report.errors[0])
    )


def test_latin1_jsonl_names_the_line(tmp_path, small_schema):
    p = tmp_path / 'latin.jsonl'
    bad = json.dumps(dict(img_path='ñandú.jpg'), ensure_ascii=False)
    lines = [OK, bad, rec(img_path='z.jpg')]
    p.write_bytes(('\n'.join(lines) + '\n').encode('latin-1'))
    with pytest.raises(CatalogFormatError, match=r'latin\.jsonl:2: not valid'):
        read_catalog(str(p), small_schema)
    records, report = read_catalog(str(p), small_schema, on_error='skip')
    assert [r.img_path for r in records] == ['ok.jpg', 'z.jpg']
    assert report.num_skipped == 1


@pytest.mark.parametrize('encoding', ['utf-16', 'utf-32'])
def test_utf16_and_utf32_files_are_refused_on_line_1(
    tmp_path, small_schema, encoding
):
    for ext, text in (
        ('.csv', 'img_path,sleeve\na.jpg,short\n'),
        ('.jsonl', OK + '\n'),
    ):
        p = tmp_path / f'wide{ext}'
        p.write_bytes(text.encode(encoding))  # with a byte order mark
        for on_error in ('raise', 'skip'):
            with pytest.raises(CatalogFormatError) as e:
                read_catalog(str(p), small_schema, on_error=on_error)
            assert str(e.value).startswith(f'{p}:1: the file is encoded as')
            assert encoding.upper().replace('-', '') in str(e.value).replace(
                '-', ''
            )
    # without a byte order mark the NUL bytes give it away
    p = tmp_path / 'nobom.jsonl'
    p.write_bytes((OK + '\n').encode('utf-16-le'))
    with pytest.raises(CatalogFormatError, match=r':1: NUL bytes.*UTF-16'):
        read_catalog(str(p), small_schema)


def test_same_image_by_relative_absolute_or_linked_path(
    tmp_path, small_schema_dict
):
    """Duplicates are found on the image file, not the spelling."""
    (tmp_path / 'schema.json').write_text(json.dumps(small_schema_dict))
    (tmp_path / 'img').mkdir()
    (tmp_path / 'linked').symlink_to(tmp_path / 'img')
    cases = {
        'absolute': str(tmp_path / 'img' / 'a.jpg'),
        'linked folder': 'linked/a.jpg',
        'dot-dot': 'img/../img/a.jpg',
    }
    for case, other in cases.items():
        write(
            tmp_path / 'train.jsonl',
            [rec(img_path='img/a.jpg'), rec(img_path=other)],
        )
        with pytest.raises(
            CatalogFormatError, match=r'train\.jsonl:2: duplicate record'
        ):
            CatalogDataset(
                ann_file='train.jsonl',
                schema='schema.json',
                data_root=str(tmp_path),
            )
        ds = CatalogDataset(
            ann_file='train.jsonl',
            schema='schema.json',
            data_root=str(tmp_path),
            on_error='skip',
        )
        assert len(ds) == 1 and ds.read_report.num_skipped == 1, case


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
    with pytest.raises(SchemaMismatchError, match="values of 'colour'"):
        tester.test()
    ok, _ = runner_for(tiny, f'load_from = {ckpt!r}\n')
    assert 'attr/colour/micro_f1' in ok.test()


def _write_schema(root, name, edit):
    schema = json.loads(json.dumps(TINY_SCHEMA))
    edit(schema)
    path = osp.join(root, name)
    with open(path, 'w') as f:
        json.dump(schema, f)
    return path


def test_checkpoint_without_saved_schema_needs_it_named(tiny):
    """A plain {'state_dict': ...} says nothing about its values' order:
    test / resume need `checkpoint_schema`, and a named schema that does not
    fit the head (values swapped, or a value more) is refused instead of
    testing with exit 0 or leaving a branch randomly initialised."""
    from mmfashion_attr.engine import MissingSchemaError, SchemaCheckHook

    plain = osp.join(tiny, 'plain.pth')
    runner, _ = runner_for(tiny)
    torch.save(dict(state_dict=runner.model.state_dict()), plain)
    load = f'load_from = {plain!r}\n'
    tester, _ = runner_for(tiny, load)
    with pytest.raises(MissingSchemaError, match='checkpoint_schema='):
        tester.test()
    schema = osp.join(tiny, 'schema.json')
    ok, _ = runner_for(tiny, load + f'checkpoint_schema = {schema!r}\n')
    assert 'attr/colour/micro_f1' in ok.test()
    # what the hook does with other named schemas, on the same runner
    checkpoint = torch.load(plain)
    swapped = _other_schema(tiny)
    with pytest.raises(SchemaMismatchError, match="values of 'colour'"):
        SchemaCheckHook(checkpoint_schema=swapped).after_load_checkpoint(
            ok, checkpoint
        )
    # a head with one value more than the checkpoint: named honestly or
    # not, the shapes differ
    extra = _write_schema(
        tiny,
        'extra.json',
        lambda s: s['attributes'][1]['values'].append('black'),
    )
    head = f'model = dict(head=dict(schema={extra!r}, hidden_channels=8))\n'
    shapes, _ = runner_for(
        tiny,
        load
        + head
        + f'checkpoint_schema = {extra!r}\n'
        + 'test_dataloader = dict(batch_size=2, num_workers=0, dataset='
        + f'dict(_ds, ann_file="val.jsonl", schema={extra!r}))\n',
    )
    with pytest.raises(SchemaMismatchError) as e:
        shapes.test()
    assert (
        "head.branches.1.fc_out.weight (attribute 'colour'): checkpoint "
        '(3, 8) vs model (4, 8)' in str(e.value)
    )
    with pytest.raises(SchemaMismatchError, match='named schema'):
        SchemaCheckHook(checkpoint_schema=schema).after_load_checkpoint(
            shapes, checkpoint
        )


def test_every_checkpoint_carries_the_schema(tiny):
    """Saved by SchemaCheckHook even when the training dataset's metainfo
    has none."""
    from mmfashion_attr.engine.hooks.schema_check_hook import (
        add_schema_to_checkpoint,
    )

    runner, _ = runner_for(tiny)
    runner.train_dataloader.dataset._metainfo.pop('schema')
    runner.train()
    ckpt = torch.load(osp.join(tiny, 'work', 'epoch_1.pth'))
    saved = ckpt['meta']['dataset_meta']['schema']
    assert schema_differences(TINY_SCHEMA, saved) == []
    checkpoint = dict(meta=dict(dataset_meta=dict(classes=['x'])))
    add_schema_to_checkpoint(runner.model, checkpoint)
    assert checkpoint['meta']['dataset_meta']['classes'] == ['x']
    assert (
        schema_differences(
            TINY_SCHEMA, checkpoint['meta']['dataset_meta']['schema']
        )
        == []
    )


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
