"""Property-based tests (hypothesis) of the metric against scikit-learn:
random masks, attributes with no labelled entry, any order of the samples
and any split of them into batches and ranks (what distributed evaluation
does to them).
"""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import f1_score, precision_score, recall_score

from mmfashion_attr.evaluation.metrics.attribute_metric import AttributeMetric
from mmfashion_attr.structures import AttributeSchema
from tests.helpers.properties import SETTINGS


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
    # where the shuffled samples are cut into ranks: 2 to 4 non-empty parts
    cuts = []
    if n > 1:
        cuts = sorted(
            set(draw(st.lists(st.integers(1, n - 1), min_size=1, max_size=3)))
        )
    order = draw(st.permutations(list(range(n))))
    return sizes, scores, gt, mask, cuts, order


def compute(schema, samples):
    metric = AttributeMetric(schema=schema, thresholds=0.3)
    metric.process(None, samples)
    return metric.compute_metrics(metric.results)


@SETTINGS
@given(metric_batches())
def test_metric_matches_sklearn_and_ignores_order_and_split(batch):
    sizes, scores, gt, mask, cuts, order = batch
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
    # what distributed evaluation does: the samples shuffled and split over
    # ranks, each rank processing its own in batches of one, the ranks'
    # results concatenated before computing
    shuffled = [samples[i] for i in order]
    bounds = [0, *cuts, len(shuffled)]
    parts = [shuffled[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
    assert all(parts) and (len(parts) >= 2 or len(shuffled) == 1)
    collected = []
    for part in parts:
        rank = AttributeMetric(schema=schema, thresholds=0.3)
        for s in part:
            rank.process(None, [s])
        collected += rank.results
    assert len(collected) == len(samples)
    merged = AttributeMetric(schema=schema, thresholds=0.3)
    assert merged.compute_metrics(collected) == got


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
