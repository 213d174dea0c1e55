"""AttributeMetricSuite against scikit-learn, and under 2-process gloo."""

import datetime
import json
import os
import pickle

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from mmpretrain.registry import METRICS
from sklearn.metrics import (
    average_precision_score,
    f1_score,
    precision_score,
    recall_score,
)

from mmfashion_attr.evaluation import AttributeMetric, AttributeMetricSuite
from mmfashion_attr.evaluation.metrics.attribute_metric_suite import (
    average_precision,
    precision_recall_curve,
)
from mmfashion_attr.structures import AttributeSchema
from tests.helpers.processes import free_port


def make_samples(schema, n, seed, ties=False, partial=True):
    """Random predictions and labels as data-sample dicts; ``partial``:
    entries and whole attributes missing at times, random categories."""
    rng = np.random.default_rng(seed)
    v = schema.num_values
    score = rng.random((n, v))
    if ties:
        score = np.round(score, 1)
    gt = rng.random((n, v)) < 0.35
    mask = rng.random((n, v)) < (0.75 if partial else 2)
    for i in range(schema.num_attributes if partial else 0):
        mask[rng.random(n) < 0.25, schema.slice(i)] = False
    cats = rng.integers(-1, len(schema.categories) if partial else 0, n)
    return [
        dict(
            pred_score=torch.from_numpy(score[k]).float(),
            gt_attr=torch.from_numpy(gt[k].astype(np.uint8)),
            gt_attr_mask=torch.from_numpy(mask[k].astype(np.uint8)),
            category_idx=int(cats[k]),
        )
        for k in range(n)
    ]


def evaluate(samples, **kwargs):
    metric = AttributeMetricSuite(**kwargs)
    metric.process(None, samples)
    return metric.evaluate(len(samples))


def column(schema, samples, k, thr=0.3, cat=None):
    """sklearn inputs for flat value ``k`` (labelled, allowed entries)."""
    allowed = schema.allowed_matrix()
    y, s = [], []
    for r in samples:
        c = r['category_idx']
        if cat is not None and c != cat:
            continue
        if r['gt_attr_mask'][k] and allowed[c][k]:
            y.append(int(r['gt_attr'][k]))
            s.append(float(r['pred_score'][k]))
    y, s = np.array(y, int), np.array(s)
    return y, s, (s >= np.float32(thr)).astype(int)


@pytest.mark.parametrize('seed,ties', [(0, False), (1, True), (2, False)])
def test_matches_sklearn(small_schema, seed, ties):
    s = small_schema
    samples = make_samples(s, 70, seed, ties)
    res = evaluate(samples, schema=s, per_value=True, per_category=True)
    core = AttributeMetric(schema=s)
    core.process(None, samples)
    for k, val in core.evaluate(len(samples)).items():
        assert res[k] == pytest.approx(val), k  # core keys unchanged
    kw = dict(zero_division=0)
    per_attr = {}
    for i, a in enumerate(s.attributes):
        f1s, aps = [], []
        for j, v in enumerate(a.values):
            y, sc, p = column(s, samples, s.slice(i).start + j)
            if len(y) == 0:
                assert f'attr/{a.name}/{v}/f1' not in res
                continue
            f1 = f1_score(y, p, **kw)
            f1s.append(f1)
            key = f'attr/{a.name}/{v}/'
            assert res[key + 'f1'] == pytest.approx(f1)
            assert res[key + 'precision'] == pytest.approx(
                precision_score(y, p, **kw)
            )
            assert res[key + 'recall'] == pytest.approx(
                recall_score(y, p, **kw)
            )
            assert res[key + 'support'] == y.sum()
            if y.sum():
                ap = average_precision_score(y, sc)
                aps.append(ap)
                assert res[key + 'AP'] == pytest.approx(ap)
        per_attr[a.name] = (np.mean(f1s), np.mean(aps))
        assert res[f'attr/{a.name}/macro_f1'] == pytest.approx(np.mean(f1s))
        assert res[f'attr/{a.name}/mAP'] == pytest.approx(np.mean(aps))
    assert res['attr/mean_macro_f1'] == pytest.approx(
        np.mean([m[0] for m in per_attr.values()])
    )
    assert res['attr/mean_mAP'] == pytest.approx(
        np.mean([m[1] for m in per_attr.values()])
    )
    # groups of the paper's Table 2, as the schema declares them
    small = ['sleeve', 'closure']
    assert res['attr/group/roi/small/mean_micro_f1'] == pytest.approx(
        np.mean([res[f'attr/{n}/micro_f1'] for n in small])
    )
    assert res['attr/group/granularity/fine/mean_mAP'] == pytest.approx(
        per_attr['pattern'][1]
    )
    # per category: micro F1 = sklearn's F1 over the pooled values
    for c, cat in enumerate(s.categories):
        f1s = []
        for i, a in enumerate(s.attributes):
            ys, ps = [], []
            for k in range(s.slice(i).start, s.slice(i).stop):
                y, _, p = column(s, samples, k, cat=c)
                ys += y.tolist()
                ps += p.tolist()
            if ys:
                f1s.append(f1_score(ys, ps, **kw))
                assert res[
                    f'attr/by_category/{cat}/{a.name}/micro_f1'
                ] == pytest.approx(f1s[-1])
        assert res[f'attr/by_category/{cat}/mean_micro_f1'] == pytest.approx(
            np.mean(f1s)
        )


def test_fully_labelled_equals_sklearn_2d_macro(small_schema):
    s = small_schema
    samples = make_samples(s, 50, 7, partial=False)
    assert all(r['gt_attr_mask'].all() for r in samples)
    assert {r['category_idx'] for r in samples} == {-1}
    res = evaluate(samples, schema=s, thresholds=0.5)
    sl = s.slice('pattern')
    y = np.stack([r['gt_attr'].numpy()[sl] for r in samples])
    sc = np.stack([r['pred_score'].numpy()[sl] for r in samples])
    assert res['attr/pattern/macro_f1'] == pytest.approx(
        f1_score(y, sc >= 0.5, average='macro', zero_division=0)
    )
    assert res['attr/pattern/mAP'] == pytest.approx(
        average_precision_score(y, sc, average='macro')
    )
    assert 'attr/pattern/solid/f1' not in res  # per_value is off


def test_curve_helpers_match_sklearn():
    from sklearn.metrics import precision_recall_curve as sk_curve

    rng = np.random.default_rng(3)
    sc = np.round(rng.random(40), 1)
    y = rng.random(40) < 0.4
    p, r, t = precision_recall_curve(sc, y)
    sp, sr, st = sk_curve(y, sc)
    order = np.argsort(-st)  # sklearn: ascending thresholds + final point
    np.testing.assert_allclose(t, st[order])
    np.testing.assert_allclose(p, sp[:-1][order])
    np.testing.assert_allclose(r, sr[:-1][order])
    assert average_precision(sc, y) == pytest.approx(
        average_precision_score(y, sc)
    )
    assert np.isnan(average_precision(sc, np.zeros(40, bool)))


def test_unlabelled_samples_change_nothing(small_schema):
    s = small_schema
    samples = make_samples(s, 30, 4)
    ref = evaluate(samples, schema=s, per_value=True)
    extra = [
        dict(pred_score=torch.rand(s.num_values), category_idx=0)
        for _ in range(5)
    ]
    metric = AttributeMetricSuite(schema=s, per_value=True)
    metric.process(None, samples[:10] + extra + samples[10:])
    assert len(metric.results) == 35  # placeholders keep ranks aligned
    assert metric.evaluate(35) == pytest.approx(ref)


def test_attribute_without_positive_has_no_map(small_schema):
    s = small_schema
    samples = make_samples(s, 20, 5)
    for r in samples:
        r['gt_attr'][s.slice('closure')] = 0
    res = evaluate(samples, schema=s)
    assert 'attr/closure/mAP' not in res
    assert res['attr/closure/macro_f1'] == 0.0
    assert 'attr/closure/micro_f1' in res


def test_registered_and_thresholds_from_json(small_schema, tmp_path):
    s = small_schema
    path = tmp_path / 'thr.json'
    path.write_text(
        json.dumps(dict(default=0.9, values={'pattern/solid': 0.0}))
    )
    samples = make_samples(s, 30, 6)
    metric = METRICS.build(
        dict(
            type='AttributeMetricSuite',
            schema=s.to_dict(),
            thresholds=str(path),
            per_value=True,
        )
    )
    metric.process(None, samples)
    res = metric.evaluate(len(samples))
    y, _, _ = column(s, samples, s.flat_index('pattern', 'solid'))
    assert res['attr/pattern/solid/recall'] == (1.0 if y.sum() else 0.0)
    y, _, p = column(s, samples, s.flat_index('pattern', 'dots'), thr=0.9)
    assert res['attr/pattern/dots/f1'] == pytest.approx(
        f1_score(y, p, zero_division=0)
    )


# --------------------------------------------------------- distributed
def _worker(rank, port, schema_dict, parts, size, out_dir):
    os.environ['OMP_NUM_THREADS'] = '1'
    dist.init_process_group(
        'gloo',
        init_method=f'tcp://127.0.0.1:{port}',
        rank=rank,
        world_size=2,
        timeout=datetime.timedelta(seconds=60),
    )
    try:
        metric = AttributeMetricSuite(
            schema=AttributeSchema.from_dict(schema_dict),
            per_value=True,
            per_category=True,
        )
        metric.process(None, parts[rank])
        res = metric.evaluate(size)
        with open(os.path.join(out_dir, f'rank{rank}.pkl'), 'wb') as f:
            pickle.dump(res, f)
    finally:
        dist.destroy_process_group()


@pytest.mark.dist
def test_two_process_gloo_equals_single_process(small_schema, tmp_path):
    """DefaultSampler layout: rank r gets samples r, r+2, ...; the last
    batch of rank 1 is padded with a duplicate of sample 0. Rank 1 has no
    labelled 'closure' and one unlabelled sample."""
    s = small_schema
    samples = make_samples(s, 11, 8)
    for k in range(1, 11, 2):
        samples[k]['gt_attr_mask'][s.slice('closure')] = 0
    samples[3] = dict(
        pred_score=samples[3]['pred_score'], category_idx=1
    )  # unlabelled
    samples[0]['gt_attr_mask'][:] = 1  # the padded duplicate counts ...
    samples[0]['category_idx'] = -1
    kw = dict(schema=s, per_value=True, per_category=True)
    ref = evaluate(samples, **kw)
    assert 'attr/closure/micro_f1' in ref
    padded = samples + samples[:1]  # 12 = 2 ranks x 6
    twice = evaluate(padded, **kw)  # ... if it is not dropped
    assert twice['attr/mean_micro_f1'] != pytest.approx(
        ref['attr/mean_micro_f1']
    )
    parts = [padded[0::2], padded[1::2]]
    ctx = mp.start_processes(
        _worker,
        args=(free_port(), s.to_dict(), parts, len(samples), str(tmp_path)),
        nprocs=2,
        join=False,
        start_method='spawn',
    )
    deadline = datetime.datetime.now() + datetime.timedelta(seconds=240)
    while not ctx.join(timeout=5):
        if datetime.datetime.now() > deadline:
            for p in ctx.processes:
                p.kill()
            pytest.fail('distributed evaluation hung')
    for rank in range(2):
        with open(tmp_path / f'rank{rank}.pkl', 'rb') as f:
            res = pickle.load(f)
        assert res.keys() == ref.keys()
        for k in ref:
            assert res[k] == pytest.approx(ref[k]), k
