"""Property-based tests (hypothesis) of the annotation reader against an
independent reference written here: random schemas, missing / empty /
unknown values, JSON Lines and CSV.

Guards against CSV and JSONL disagreeing on some combination of missing,
empty and unknown values.
"""

import csv
import json

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from mmfashion_attr.datasets import read_catalog
from mmfashion_attr.structures import AttributeSchema
from tests.helpers.properties import SETTINGS


# ------------------------------------------------------------ strategies
@st.composite
def schemas(draw):
    attrs = [
        dict(
            name=f'a{i}',
            values=[f'v{i}x{j}' for j in range(draw(st.integers(1, 4)))],
        )
        for i in range(draw(st.integers(1, 4)))
    ]
    cats = []
    if draw(st.booleans()):
        cats = [f'c{k}' for k in range(draw(st.integers(1, 3)))]
        attrs.insert(
            draw(st.integers(0, len(attrs))),
            dict(name='category', values=cats, from_category=True),
        )
    return dict(attributes=attrs, categories=cats)


@st.composite
def catalogs(draw):
    """A schema and records: each attribute missing, ``[]``, or some values
    positive and some unknown (``?v``)."""
    schema = draw(schemas())
    records = []
    for n in range(draw(st.integers(1, 6))):
        rec = dict(img_path=f'img/{n}.jpg', attributes={})
        if schema['categories'] and draw(st.booleans()):
            rec['category'] = draw(st.sampled_from(schema['categories']))
        for a in schema['attributes']:
            if a.get('from_category') or draw(st.booleans()):
                continue  # missing
            values = draw(st.lists(st.sampled_from(a['values']), unique=True))
            unknown = draw(
                st.lists(
                    st.booleans(), min_size=len(values), max_size=len(values)
                )
            )
            rec['attributes'][a['name']] = [
                ('?' + v) if u else v for v, u in zip(values, unknown)
            ]
        records.append(rec)
    return schema, records


def reference_encoding(schema, rec):
    """The catalog format's semantics, written out independently."""
    gt, mask = [], []
    for a in schema['attributes']:
        listed = rec['attributes'].get(a['name'])
        if a.get('from_category') and listed is None and 'category' in rec:
            listed = [rec['category']]
        for v in a['values']:
            if listed is None:
                gt.append(0)
                mask.append(0)
            else:
                gt.append(int(v in listed))
                mask.append(int(('?' + v) not in listed))
    return np.array(gt, np.uint8), np.array(mask, np.uint8)


def write_csv(path, schema, records):
    names = [
        a['name'] for a in schema['attributes'] if not a.get('from_category')
    ]
    with open(path, 'w', newline='', encoding='utf-8') as f:
        w = csv.writer(f)
        w.writerow(['img_path', 'category'] + names)
        for r in records:
            cells = []
            for n in names:
                v = r['attributes'].get(n)
                cells.append(
                    '' if v is None else '[]' if not v else '|'.join(v)
                )
            w.writerow([r['img_path'], r.get('category', '')] + cells)


# ---------------------------------------------------------------- reader
@SETTINGS
@given(catalogs())
def test_reader_matches_reference_for_jsonl_and_csv(tmp_path, catalog):
    schema_dict, records = catalog
    schema = AttributeSchema.from_dict(schema_dict)
    jsonl = tmp_path / 'c.jsonl'
    jsonl.write_text(''.join(json.dumps(r) + '\n' for r in records))
    write_csv(tmp_path / 'c.csv', schema_dict, records)
    for path in (jsonl, tmp_path / 'c.csv'):
        encoded, report = read_catalog(str(path), schema)
        assert report.num_skipped == 0 and len(encoded) == len(records)
        for r, e in zip(records, encoded):
            gt, mask = reference_encoding(schema_dict, r)
            assert e.gt_attr.tolist() == gt.tolist(), (path, r)
            assert e.gt_attr_mask.tolist() == mask.tolist(), (path, r)
            cat = r.get('category')
            assert e.category_idx == (
                -1 if cat is None else schema_dict['categories'].index(cat)
            )
            # a positive is always labelled; an unknown never
            assert not (e.gt_attr & ~e.gt_attr_mask & 1).any()
