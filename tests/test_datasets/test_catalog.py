import json

import numpy as np
import pytest

from mmfashion_attr.datasets import (
    CatalogDataset,
    CatalogFormatError,
    read_catalog,
)


def write(path, lines):
    path.write_text('\n'.join(lines) + '\n')
    return str(path)


def rec(**kw):
    d = dict(img_path='a.jpg', category='tee', attributes={})
    d.update(kw)
    return json.dumps(d)


def test_missing_empty_unknown_semantics(tmp_path, small_schema):
    p = write(
        tmp_path / 'c.jsonl',
        [
            rec(
                attributes={
                    'sleeve': ['short'],
                    'colour': ['red', 'white'],
                    'pattern': [],
                    'closure': ['?zip', 'button'],
                },
                category='dress',
            ),
        ],
    )
    (r,), report = read_catalog(p, small_schema)
    s = small_schema
    # category filled from the record (from_category)
    assert r.gt_attr[s.slice('category')].tolist() == [0, 0, 1]
    assert r.gt_attr_mask[s.slice('category')].tolist() == [1, 1, 1]
    assert r.gt_attr[s.slice('sleeve')].tolist() == [1, 0, 0]
    assert r.gt_attr_mask[s.slice('sleeve')].tolist() == [1, 1, 1]
    # multi-label
    assert r.gt_attr[s.slice('colour')].tolist() == [1, 0, 1]
    # empty list: labelled, all negative
    assert r.gt_attr_mask[s.slice('pattern')].all()
    assert not r.gt_attr[s.slice('pattern')].any()
    # unknown value masked, others labelled
    assert r.gt_attr[s.slice('closure')].tolist() == [1, 0, 0, 0]
    assert r.gt_attr_mask[s.slice('closure')].tolist() == [1, 0, 1, 1]
    assert r.category_idx == 2 and report.num_records == 1


def test_absent_attribute_is_missing(tmp_path, small_schema):
    p = write(tmp_path / 'c.jsonl', [rec(attributes={'sleeve': ['long']})])
    (r,), _ = read_catalog(p, small_schema)
    assert not r.gt_attr_mask[small_schema.slice('closure')].any()
    assert not r.gt_attr_mask[small_schema.slice('pattern')].any()


def test_no_category(tmp_path, small_schema):
    line = json.dumps(dict(img_path='x.jpg', attributes={'sleeve': []}))
    (r,), _ = read_catalog(write(tmp_path / 'c.jsonl', [line]), small_schema)
    assert r.category_idx == -1
    assert not r.gt_attr_mask[small_schema.slice('category')].any()


def test_csv_equals_jsonl(tmp_path, small_schema):
    j = write(
        tmp_path / 'c.jsonl',
        [
            rec(
                img_path='a.jpg',
                attributes={
                    'colour': ['red', 'blue'],
                    'pattern': [],
                    'closure': ['?zip'],
                },
            ),
            rec(
                img_path='b.jpg',
                category='jeans',
                attributes={'closure': ['button']},
            ),
        ],
    )
    c = write(
        tmp_path / 'c.csv',
        [
            'img_path,category,sleeve,closure,colour,pattern',
            'a.jpg,tee,,?zip,red|blue,[]',
            'b.jpg,jeans,,button,,',
        ],
    )
    rj, _ = read_catalog(j, small_schema)
    rc, _ = read_catalog(c, small_schema)
    for a, b in zip(rj, rc):
        assert np.array_equal(a.gt_attr, b.gt_attr)
        assert np.array_equal(a.gt_attr_mask, b.gt_attr_mask)
        assert a.category_idx == b.category_idx


@pytest.mark.parametrize(
    'bad, problem',
    [
        ('{"img_path": "a.jpg", ', 'invalid JSON'),
        ('[1, 2]', 'JSON object'),
        (rec(attributes={'fit': ['slim']}), "unknown attribute 'fit'"),
        (rec(attributes={'sleeve': ['cap']}), "unknown value 'cap'"),
        (rec(attributes={'sleeve': 'short'}), 'list of strings'),
        (rec(attributes={'sleeve': ['short', 'short']}), 'listed twice'),
        (rec(category='socks'), "unknown category 'socks'"),
        (rec(category=3), "'category' must be a string"),
        (json.dumps({'category': 'tee'}), "'img_path'"),
        (rec(sleeve=['short']), 'unexpected keys'),
    ],
)
def test_malformed_record_names_file_and_line(
    tmp_path, small_schema, bad, problem
):
    p = write(tmp_path / 'cat.jsonl', [rec(img_path='ok.jpg'), '', bad])
    with pytest.raises(CatalogFormatError) as e:
        read_catalog(p, small_schema)
    assert str(e.value).startswith(f'{p}:3: ')
    assert problem in str(e.value)
    assert e.value.line == 3


def test_csv_errors_name_line(tmp_path, small_schema):
    p = write(
        tmp_path / 'c.csv',
        ['img_path,sleeve', 'a.jpg,short', 'b.jpg,short,extra'],
    )
    with pytest.raises(CatalogFormatError, match=r'c\.csv:3: 3 cells'):
        read_catalog(p, small_schema)
    p = write(tmp_path / 'd.csv', ['path,sleeve', 'a.jpg,short'])
    with pytest.raises(CatalogFormatError, match=r'd\.csv:1: .*img_path'):
        read_catalog(p, small_schema)


def test_duplicates_and_skip_mode(tmp_path, small_schema):
    p = write(
        tmp_path / 'c.jsonl',
        [
            rec(img_path='a.jpg'),
            'not json',
            rec(img_path='b.jpg'),
            rec(img_path='a.jpg'),
            rec(img_path='c.jpg', attributes={'fit': []}),
        ],
    )
    with pytest.raises(CatalogFormatError, match=':2: invalid JSON'):
        read_catalog(p, small_schema)
    recs, report = read_catalog(p, small_schema, on_error='skip')
    assert [r.img_path for r in recs] == ['a.jpg', 'b.jpg']
    assert report.num_skipped == 3
    assert report.duplicates == ['a.jpg']
    assert any(':4: duplicate record' in e for e in report.errors)
    assert any(':5: unknown attribute' in e for e in report.errors)


def test_disallowed_values_are_counted(tmp_path, small_schema):
    p = write(
        tmp_path / 'c.jsonl',
        [
            rec(
                category='jeans',
                attributes={'closure': ['elastic'], 'sleeve': ['long']},
            )
        ],
    )
    _, report = read_catalog(p, small_schema)
    assert report.disallowed == {'closure/elastic': 1, 'sleeve/long': 1}


def test_dataset_paths_and_fields(tmp_path, small_schema_dict):
    (tmp_path / 'schema.json').write_text(json.dumps(small_schema_dict))
    write(
        tmp_path / 'train.jsonl',
        [rec(img_path='img/a.jpg'), rec(img_path='/abs/b.jpg')],
    )
    ds = CatalogDataset(
        ann_file='train.jsonl', schema='schema.json', data_root=str(tmp_path)
    )
    assert len(ds) == 2
    info = ds.get_data_info(0)
    assert info['img_path'] == str(tmp_path / 'img' / 'a.jpg')
    assert ds.get_data_info(1)['img_path'] == '/abs/b.jpg'
    assert info['gt_attr'].dtype == np.uint8
    assert info['category_idx'] == 0
    assert ds.metainfo['classes'][3] == 'sleeve/short'
    assert ds.metainfo['attributes'][0] == 'category'
    gt, mask, cat = ds.get_gt_attr(0)
    assert gt.shape == mask.shape == (18,) and cat == 0
