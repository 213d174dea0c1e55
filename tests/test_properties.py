"""Issue 6, item 7: property-based tests (hypothesis) of the annotation
reader, the masked loss and the metric, against independent references
written here: random schemas, random masks, all-missing batches,
single-sample batches, attributes with no labelled entry, ``[]`` labels.

Guards against the edge cases examples miss: an attribute labelled in no
sample of a batch (0 / 0), a NaN logit behind a mask leaking into the
loss or its gradient, CSV and JSONL disagreeing on some combination of
missing / empty / unknown values, a metric that depends on the order or
the split of the samples (what distributed evaluation does to them).
"""

import csv
import json

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.metrics import f1_score, precision_score, recall_score

from mmfashion_attr.datasets import read_catalog
from mmfashion_attr.evaluation.metrics.attribute_metric import AttributeMetric
from mmfashion_attr.models.losses.masked_multilabel_loss import (
    MaskedMultiLabelLoss,
)
from mmfashion_attr.schema import AttributeSchema

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
    ],
)


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


# ------------------------------------------------------------------ loss
@st.composite
def loss_batches(draw):
    sizes = draw(st.lists(st.integers(1, 4), min_size=1, max_size=4))
    n = draw(st.integers(1, 5))  # single-sample batches included
    v = sum(sizes)
    floats = st.floats(-30, 30, allow_nan=False, width=32)
    logits = np.array(
        draw(st.lists(floats, min_size=n * v, max_size=n * v)), np.float32
    ).reshape(n, v)
    target = np.array(
        draw(st.lists(st.booleans(), min_size=n * v, max_size=n * v))
    ).reshape(n, v)
    kind = draw(
        st.sampled_from(
            ['random', 'all_missing', 'all_labelled', 'one_attribute_empty']
        )
    )
    mask = np.array(
        draw(st.lists(st.booleans(), min_size=n * v, max_size=n * v))
    ).reshape(n, v)
    ids = np.repeat(np.arange(len(sizes)), sizes)
    if kind == 'all_missing':
        mask[:] = False
    elif kind == 'all_labelled':
        mask[:] = True
    elif kind == 'one_attribute_empty':
        mask[:, ids == draw(st.integers(0, len(sizes) - 1))] = False
    reduction = draw(st.sampled_from(['mean', 'sample']))
    return logits, target, mask, ids, reduction


def reference_loss(logits, target, mask, ids, reduction):
    x = logits.astype(np.float64)
    elem = np.where(target, np.logaddexp(0, -x), np.logaddexp(0, x))
    out = []
    for a in range(ids.max() + 1):
        m = mask[:, ids == a]
        total = (elem[:, ids == a] * m).sum()
        denom = m.sum() if reduction == 'mean' else m.any(axis=1).sum()
        out.append(total / denom if denom else 0.0)
    return np.array(out)


@SETTINGS
@given(loss_batches())
def test_masked_loss_matches_reference_and_masks_gradients(batch):
    logits, target, mask, ids, reduction = batch
    crit = MaskedMultiLabelLoss(reduction=reduction)
    # NaN / inf behind the mask must change nothing
    poisoned = np.where(mask, logits, np.float32('nan'))
    poisoned[
        ~mask & (np.arange(logits.size).reshape(logits.shape) % 2 == 0)
    ] = np.inf
    x = torch.tensor(poisoned, requires_grad=True)
    loss = crit(
        x,
        torch.tensor(target),
        torch.tensor(mask),
        torch.tensor(ids),
        int(ids.max()) + 1,
    )
    ref = reference_loss(logits, target, mask, ids, reduction)
    assert torch.isfinite(loss).all()
    assert np.allclose(
        loss.detach().double().numpy(), ref, rtol=1e-4, atol=1e-5
    )
    unlabelled = [a for a in range(len(ref)) if not mask[:, ids == a].any()]
    assert all(loss[a].item() == 0.0 for a in unlabelled)
    loss.sum().backward()
    grad = x.grad.numpy()
    assert np.isfinite(grad).all()
    assert (grad[~mask] == 0).all()


# ---------------------------------------------------------------- metric
@st.composite
def metric_batches(draw):
    sizes = draw(st.lists(st.integers(1, 4), min_size=1, max_size=4))
    n = draw(st.integers(1, 6))
    v = sum(sizes)
    scores = np.array(
        draw(
            st.lists(st.floats(0, 1, width=32), min_size=n * v, max_size=n * v)
        ),
        np.float32,
    ).reshape(n, v)
    gt = np.array(
        draw(st.lists(st.booleans(), min_size=n * v, max_size=n * v))
    ).reshape(n, v)
    mask = np.array(
        draw(st.lists(st.booleans(), min_size=n * v, max_size=n * v))
    ).reshape(n, v)
    if draw(st.booleans()):  # an attribute labelled nowhere
        ids = np.repeat(np.arange(len(sizes)), sizes)
        mask[:, ids == draw(st.integers(0, len(sizes) - 1))] = False
    split = draw(st.integers(0, n))
    order = draw(st.permutations(list(range(n))))
    return sizes, scores, gt, mask, split, order


def compute(schema, samples):
    metric = AttributeMetric(schema=schema, thresholds=0.3)
    metric.process(None, samples)
    return metric.compute_metrics(metric.results)


@SETTINGS
@given(metric_batches())
def test_metric_matches_sklearn_and_ignores_order_and_split(batch):
    sizes, scores, gt, mask, split, order = batch
    schema = AttributeSchema.from_dict(
        dict(
            attributes=[
                dict(name=f'a{i}', values=[f'v{j}' for j in range(s)])
                for i, s in enumerate(sizes)
            ]
        )
    )
    samples = [
        dict(
            pred_score=torch.tensor(scores[i]),
            gt_attr=torch.tensor(gt[i].astype(np.uint8)),
            gt_attr_mask=torch.tensor(mask[i].astype(np.uint8)),
            category_idx=-1,
        )
        for i in range(len(scores))
    ]
    got = compute(schema, samples)
    ids = np.repeat(np.arange(len(sizes)), sizes)
    f1s = []
    for a in range(len(sizes)):
        m = mask[:, ids == a]
        key = f'a{a}/micro_f1'
        if not m.any():
            assert key not in got  # left out of the mean too
            continue
        y = gt[:, ids == a][m]
        p = (scores[:, ids == a] >= 0.3)[m]
        ref = dict(
            micro_f1=f1_score(y, p, zero_division=0),
            precision=precision_score(y, p, zero_division=0),
            recall=recall_score(y, p, zero_division=0),
        )
        for k, r in ref.items():
            assert got[f'a{a}/{k}'] == pytest.approx(r)
        f1s.append(ref['micro_f1'])
    assert got['mean_micro_f1'] == pytest.approx(
        float(np.mean(f1s)) if f1s else 0.0
    )
    # what distributed collection does: results from two ranks, any order
    shuffled = [samples[i] for i in order]
    assert compute(schema, shuffled[:split] + shuffled[split:]) == got


def test_metric_on_unlabelled_only_and_empty():
    schema = AttributeSchema.from_dict(
        dict(attributes=[dict(name='a', values=['x', 'y'])])
    )
    assert compute(schema, []) == {}
    # no gt_attr: kept as a fully masked placeholder (one result per
    # sample for distributed collection), so it scores like `masked`
    unlabelled = [dict(pred_score=torch.ones(2))]
    assert compute(schema, unlabelled) == dict(
        mean_micro_f1=0.0, mean_precision=0.0, mean_recall=0.0
    )
    masked = [
        dict(
            pred_score=torch.ones(2),
            gt_attr=torch.ones(2),
            gt_attr_mask=torch.zeros(2),
            category_idx=-1,
        )
    ]
    assert compute(schema, masked) == dict(
        mean_micro_f1=0.0, mean_precision=0.0, mean_recall=0.0
    )
