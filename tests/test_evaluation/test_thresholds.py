"""Threshold tuning: hand-computed optima, fallbacks, the JSON and the CLI."""

import json
import os
import pickle

import numpy as np
import pytest
import torch
from mmengine.fileio import dump

from mmfashion_attr.evaluation import AttributeMetric
from mmfashion_attr.evaluation.predictions import (
    load_prediction_samples,
    load_predictions,
)
from mmfashion_attr.evaluation.threshold_tuning import (
    choose_threshold,
    tune_thresholds,
)
from mmfashion_attr.evaluation.thresholds import threshold_vector
from tools.analysis_tools import tune_thresholds as tune_thresholds_tool

SCORES = np.array([0.9, 0.8, 0.7, 0.4, 0.2])
LABELS = np.array([1, 0, 1, 1, 0], bool)
# t     tp fp fn  precision  F1
# 0.9    1  0  2  1          2/5
# 0.8    1  1  2  1/2        2/6
# 0.7    2  1  1  2/3        4/6
# 0.4    3  1  0  3/4        6/7   <- best F1
# 0.2    3  2  0  3/5        6/8


def test_f1_optimum_hand_computed():
    res = choose_threshold(SCORES, LABELS)
    assert res['threshold'] == pytest.approx(0.4)
    assert res['f1'] == pytest.approx(6 / 7)
    assert res['precision'] == pytest.approx(3 / 4)
    assert res['recall'] == 1.0


def test_f1_ties_take_the_highest_threshold():
    # t=0.9: P=1, R=1/2, F1=2/3; t=0.5: P=2/4, R=1, F1=2/3
    res = choose_threshold(
        np.array([0.9, 0.8, 0.6, 0.5]), np.array([1, 0, 0, 1], bool)
    )
    assert res['threshold'] == pytest.approx(0.9)
    assert res['f1'] == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    'target,expected',
    [(0.75, 0.4), (0.7, 0.4), (0.9, 0.9), (0.6, 0.2), (0.76, 0.9)],
)
def test_precision_target_hand_computed(target, expected):
    res = choose_threshold(SCORES, LABELS, 'precision', target)
    assert res['threshold'] == pytest.approx(expected)
    assert res['precision'] >= target


def test_unreachable_target_and_no_positive():
    assert (
        choose_threshold(
            np.array([0.9, 0.5]), np.array([0, 1], bool), 'precision', 0.6
        )
        is None
    )
    assert choose_threshold(SCORES, np.zeros(5, bool)) is None
    with pytest.raises(ValueError, match='target_precision'):
        choose_threshold(SCORES, LABELS, 'precision')


def hand_set(schema):
    """colour/red: the 5 entries above; colour/blue: 2 positives only;
    closure: unlabelled."""
    n, v = 5, schema.num_values
    scores = np.zeros((n, v), np.float32)
    gt = np.zeros((n, v), bool)
    mask = np.zeros((n, v), bool)
    red = schema.flat_index('colour', 'red')
    blue = schema.flat_index('colour', 'blue')
    scores[:, red], gt[:, red], mask[:, red] = SCORES, LABELS, True
    scores[:, blue] = [0.35, 0.3, 0.1, 0.05, 0.6]
    gt[:, blue] = [1, 1, 0, 0, 0]
    mask[:, blue] = True
    return scores, gt, mask


def test_tune_levels_and_fallbacks(small_schema):
    s = small_schema
    scores, gt, mask = hand_set(s)
    thr = tune_thresholds(s, scores, gt, mask, min_support=3, default=0.25)
    # colour/red has 3 positives: tuned as above
    assert thr['values']['colour/red'] == pytest.approx(0.4)
    # colour/blue has 2 < 3 positives: falls back to the attribute
    assert 'colour/blue' not in thr['values']
    assert thr['fallback']['colour/blue'] == 'attribute'
    # colour pooled (10 entries, 5 positives), by hand:
    #   t=0.4: tp 3 fp 2 (0.6, 0.8) fn 2 -> F1 6/10; t=0.35: tp4 fp2 fn1
    #   -> 8/11; t=0.3: tp5 fp2 -> 10/12 (best); t=0.2: tp5 fp3 -> 10/13
    assert thr['attributes']['colour'] == pytest.approx(0.3)
    assert thr['stats']['attributes']['colour']['f1'] == pytest.approx(10 / 12)
    assert thr['default'] == pytest.approx(0.3)  # same pool as colour
    assert 'closure' not in thr['attributes']
    assert thr['support']['values']['colour/blue'] == 2
    vec = threshold_vector(s, thr)
    assert vec[s.flat_index('colour', 'blue')] == pytest.approx(0.3)
    assert vec[s.flat_index('colour', 'red')] == pytest.approx(0.4)
    # too little support everywhere: the given default
    thr = tune_thresholds(s, scores, gt, mask, min_support=100, default=0.25)
    assert thr['default'] == 0.25 and not thr['attributes']
    assert not thr['values']


def write_preds(path, schema, scores, gt, mask):
    """A predictions pickle as mmpretrain's test.py --out writes it."""
    samples = [
        dict(
            pred_score=torch.from_numpy(scores[k]),
            gt_attr=torch.from_numpy(gt[k].astype(np.uint8)),
            gt_attr_mask=torch.from_numpy(mask[k].astype(np.uint8)),
            category_idx=-1,
            img_path=f'{k}.jpg',
        )
        for k in range(len(scores))
    ]
    dump(samples, str(path))


def test_cli_writes_json_that_the_metric_accepts(small_schema, tmp_path):
    s = small_schema
    scores, gt, mask = hand_set(s)
    preds = tmp_path / 'val_preds.pkl'
    write_preds(preds, s, scores, gt, mask)
    schema_file = tmp_path / 'schema.json'
    s.dump(str(schema_file))
    out = tmp_path / 'thr.json'
    tune_thresholds_tool.main(
        [
            str(preds),
            '--schema',
            str(schema_file),
            '--out',
            str(out),
            '--min-support',
            '3',
        ]
    )
    thr = json.loads(out.read_text())
    assert thr['values']['colour/red'] == pytest.approx(0.4)
    assert thr['meta']['mode'] == 'f1'
    metric = AttributeMetric(schema=s, thresholds=str(out))
    got_scores, got_gt, got_mask, _ = load_predictions(str(preds), s)
    metric.process(None, load_prediction_samples(str(preds)))
    res = metric.evaluate(5)
    # with the tuned thresholds colour's F1: red at 0.4 (tp3 fp1) and
    # blue at 0.3 (tp2 fp1 fn0) -> 2*5 / (2*5 + 2) = 10/12
    assert res['attr/colour/micro_f1'] == pytest.approx(10 / 12)
    np.testing.assert_array_equal(got_mask, mask)
    out2 = tmp_path / 'thr_p.json'
    tune_thresholds_tool.main(
        [
            str(preds),
            '--schema',
            str(schema_file),
            '--out',
            str(out2),
            '--min-support',
            '3',
            '--mode',
            'precision',
            '--target-precision',
            '0.9',
        ]
    )
    assert json.loads(out2.read_text())['values'][
        'colour/red'
    ] == pytest.approx(0.9)


class _Evil:
    def __reduce__(self):
        return (os.system, ('touch pwned_by_pickle',))


def test_predictions_loader_refuses_code(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / 'bad.pkl'
    bad.write_bytes(pickle.dumps([dict(pred_score=_Evil())]))
    with pytest.raises(ValueError, match='refusing'):
        load_prediction_samples(str(bad))
    assert not (tmp_path / 'pwned_by_pickle').exists()


def test_threshold_arguments_and_specs(tmp_path, small_schema):
    from mmfashion_attr.evaluation.thresholds import (
        load_thresholds,
        parse_thresholds,
    )

    assert parse_thresholds('0.25') == 0.25
    assert parse_thresholds('thr.json') == 'thr.json'
    assert load_thresholds(None) == dict(default=0.3, attributes={}, values={})
    path = tmp_path / 'thr.json'
    path.write_text(json.dumps(dict(values={'colour/red': 0.9})))
    vec = threshold_vector(small_schema, str(path))
    assert vec[small_schema.flat_index('colour', 'red')] == pytest.approx(0.9)
    assert vec[small_schema.flat_index('colour', 'blue')] == pytest.approx(0.3)
