import numpy as np
import pytest
import torch
from sklearn.metrics import f1_score, precision_score, recall_score

from mmfashion_attr.evaluation import AttributeMetric
from mmfashion_attr.evaluation.thresholds import threshold_vector


def random_results(schema, n, seed):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        gt = (rng.random(schema.num_values) < 0.3).astype(np.uint8)
        mask = (rng.random(schema.num_values) < 0.7).astype(np.uint8)
        # whole attributes missing sometimes
        for i in range(schema.num_attributes):
            if rng.random() < 0.2:
                mask[schema.slice(i)] = 0
        out.append(
            dict(
                pred_score=torch.from_numpy(rng.random(schema.num_values)),
                gt_attr=torch.from_numpy(gt),
                gt_attr_mask=torch.from_numpy(mask),
                category_idx=int(rng.integers(-1, len(schema.categories))),
            )
        )
    return out


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_matches_sklearn_on_random_data(small_schema, seed):
    s = small_schema
    samples = random_results(s, 60, seed)
    metric = AttributeMetric(schema=s, thresholds=0.3)
    metric.process(None, samples)
    res = metric.evaluate(len(samples))
    allowed = s.allowed_matrix()
    f1s = []
    for i, a in enumerate(s.attributes):
        sl = s.slice(i)
        y_true, y_pred = [], []
        for r in samples:
            keep = (
                r['gt_attr_mask'].numpy()[sl].astype(bool)
                & allowed[r['category_idx']][sl]
            )
            y_true += r['gt_attr'].numpy()[sl][keep].tolist()
            y_pred += (r['pred_score'].numpy()[sl][keep] >= 0.3).tolist()
        kw = dict(zero_division=0)
        f1 = f1_score(y_true, y_pred, **kw)
        f1s.append(f1)
        assert res[f'attr/{a.name}/micro_f1'] == pytest.approx(f1)
        assert res[f'attr/{a.name}/precision'] == pytest.approx(
            precision_score(y_true, y_pred, **kw)
        )
        assert res[f'attr/{a.name}/recall'] == pytest.approx(
            recall_score(y_true, y_pred, **kw)
        )
    assert res['attr/mean_micro_f1'] == pytest.approx(np.mean(f1s))


def test_micro_f1_equals_sklearn_micro_average_on_2d(small_schema):
    """Per attribute, our F1 is sklearn's multilabel micro average."""
    s = small_schema
    samples = random_results(s, 40, 5)
    for r in samples:
        r['gt_attr_mask'][:] = 1
        r['category_idx'] = -1
    metric = AttributeMetric(schema=s, thresholds=0.5)
    metric.process(None, samples)
    res = metric.evaluate(len(samples))
    sl = s.slice('pattern')
    y = np.stack([r['gt_attr'].numpy()[sl] for r in samples])
    p = np.stack([r['pred_score'].numpy()[sl] >= 0.5 for r in samples])
    assert res['attr/pattern/micro_f1'] == pytest.approx(
        f1_score(y, p, average='micro', zero_division=0)
    )


def test_unlabelled_attribute_is_left_out_of_mean(small_schema):
    s = small_schema
    n = s.num_values
    gt = torch.zeros(n, dtype=torch.uint8)
    mask = torch.zeros(n, dtype=torch.uint8)
    mask[s.slice('colour')] = 1
    gt[s.flat_index('colour', 'red')] = 1
    score = torch.zeros(n)
    score[s.flat_index('colour', 'red')] = 0.31
    metric = AttributeMetric(schema=s)
    metric.process(
        None,
        [
            dict(
                pred_score=score,
                gt_attr=gt,
                gt_attr_mask=mask,
                category_idx=-1,
            ),
            dict(pred_score=score),
        ],
    )  # unlabelled: kept as a fully masked placeholder
    # one result per sample, so distributed collection (which interleaves
    # the ranks' lists and drops padded duplicates by position) stays right
    assert len(metric.results) == 2
    assert not metric.results[1]['gt_attr_mask'].any()
    res = metric.evaluate(2)
    assert res['attr/colour/micro_f1'] == 1.0
    assert 'attr/pattern/micro_f1' not in res
    assert res['attr/mean_micro_f1'] == 1.0


def test_threshold_vector_precedence(small_schema):
    t = threshold_vector(
        small_schema,
        dict(
            default=0.3,
            attributes={'pattern': 0.5},
            values={'pattern/dots': 0.7, 'sleeve/long': 0.1},
        ),
    )
    assert t[small_schema.flat_index('category', 'tee')] == pytest.approx(0.3)
    assert t[small_schema.flat_index('pattern', 'solid')] == pytest.approx(0.5)
    assert t[small_schema.flat_index('pattern', 'dots')] == pytest.approx(0.7)
    assert t[small_schema.flat_index('sleeve', 'long')] == pytest.approx(0.1)


def test_schema_from_dataset_meta(small_schema):
    metric = AttributeMetric()
    with pytest.raises(ValueError, match='needs a schema'):
        metric.schema
    metric.dataset_meta = dict(schema=small_schema.to_dict())
    assert metric.schema.names == small_schema.names


def test_value_frequencies_hand_computed(small_schema):
    from mmfashion_attr.evaluation.frequency_baseline import value_frequencies

    s = small_schema
    gt = np.zeros((4, s.num_values), np.uint8)
    mask = np.zeros_like(gt)
    c = s.slice('colour')
    mask[:3, c] = 1
    gt[0, c.start] = gt[1, c.start] = gt[1, c.start + 1] = 1
    # sample 3 is jeans: colour red not allowed for jeans -> left out
    mask[3, c] = 1
    gt[3, c.start] = 1
    freq = value_frequencies(s, gt, mask, [-1, -1, -1, 1])
    np.testing.assert_allclose(freq[c], [2 / 3, 1 / 4, 0])
    assert freq[s.slice('pattern')].sum() == 0  # never labelled
