"""Repeat-factor sampling that understands missing attributes."""

import json
import math
from collections import Counter

import numpy as np
import pytest
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from mmpretrain.registry import DATA_SAMPLERS

import mmfashion_attr.datasets.samplers.repeat_factor_attr_sampler as rfs
from mmfashion_attr.datasets import CatalogDataset
from mmfashion_attr.datasets.samplers import (
    AttributeRepeatFactorSampler,
    attribute_repeat_factors,
)

# 10 samples; attribute A (values a, b) always labelled: a on 8, b on 2.
# attribute B (values x, y) labelled on 2 samples only: x on #0, y on #9.
GT = np.zeros((10, 4), np.uint8)
GT[:8, 0] = 1
GT[8:, 1] = 1
GT[0, 2] = 1
GT[9, 3] = 1
MASK = np.zeros((10, 4), np.uint8)
MASK[:, :2] = 1
MASK[[0, 9], 2:] = 1


def test_factors_by_hand_labelled_vs_all():
    t = 0.5
    r_b = math.sqrt(t / 0.2)  # b: 2 of 10 labelled
    f = attribute_repeat_factors(GT, MASK, t)
    # x, y: 1 of 2 labelled -> f = 0.5 -> r = 1: not rare
    expect = np.array([1.0] * 8 + [r_b, r_b])
    np.testing.assert_allclose(f, expect)
    # LVIS definition (all samples): x, y look rare (1 of 10)
    f_all = attribute_repeat_factors(GT, MASK, t, frequency='all')
    r_xy = math.sqrt(t / 0.1)
    np.testing.assert_allclose(f_all, [r_xy] + [1.0] * 7 + [r_b, r_xy])
    np.testing.assert_allclose(
        attribute_repeat_factors(GT, MASK, t, frequency='all', max_repeat=2.0),
        [2.0] + [1.0] * 7 + [r_b, 2.0],
    )


def test_unknown_positives_are_ignored():
    gt = GT.copy()
    mask = MASK.copy()
    gt[1, 1] = 1
    mask[1, 1] = 0  # '?b' on sample 1: not a labelled positive
    f = attribute_repeat_factors(gt, mask, 0.5)
    assert f[1] == 1.0
    with pytest.raises(ValueError):
        attribute_repeat_factors(GT, MASK, 0.5, frequency='sometimes')


class _Labels:
    def __len__(self):
        return len(GT)

    def get_gt_attr(self, i):
        return GT[i], MASK[i], -1


def test_epochs_are_seeded_and_follow_the_factors():
    s = AttributeRepeatFactorSampler(_Labels(), threshold=0.5, seed=3)
    r_b = math.sqrt(2.5)
    assert len(s) == round(8 + 2 * r_b)  # 11
    first = list(s)
    again = list(
        AttributeRepeatFactorSampler(_Labels(), threshold=0.5, seed=3)
    )
    assert first == again
    s.set_epoch(1)
    assert list(s) != first
    # over many epochs the mean count of sample i approaches r_i
    counts = Counter()
    epochs = 400
    for e in range(epochs):
        s.set_epoch(e)
        idx = s._epoch_indices()
        counts.update(idx)
    mean = np.array([counts[i] / epochs for i in range(10)])
    # fixed epoch length (11) cuts or pads around sum(r) = 11.16
    np.testing.assert_allclose(mean[8:], r_b, atol=0.1)
    np.testing.assert_allclose(mean[:8], 1.0, atol=0.1)


def test_distributed_shards(monkeypatch):
    shards = []
    for rank in range(2):
        monkeypatch.setattr(rfs, 'get_dist_info', lambda r=rank: (r, 2))
        s = AttributeRepeatFactorSampler(_Labels(), threshold=0.5, seed=0)
        s.set_epoch(4)
        shards.append(list(s))
        full = s._epoch_indices()
    assert len(shards[0]) == len(shards[1]) == len(s) == 6
    assert s.total_size == 12
    assert shards[0] == full[0::2] and shards[1] == full[1::2]


def test_builds_from_config_on_a_catalog_dataset(tmp_path, small_schema_dict):
    (tmp_path / 'schema.json').write_text(json.dumps(small_schema_dict))
    recs = [
        dict(
            img_path=f'{i}.jpg',
            category='tee',
            attributes={'sleeve': ['short']},
        )
        for i in range(9)
    ]
    recs.append(
        dict(img_path='9.jpg', category='tee', attributes={'sleeve': ['long']})
    )
    with open(tmp_path / 'train.jsonl', 'w') as f:
        f.writelines(json.dumps(r) + '\n' for r in recs)
    ds = CatalogDataset(
        ann_file=str(tmp_path / 'train.jsonl'),
        schema=str(tmp_path / 'schema.json'),
    )
    s = DATA_SAMPLERS.build(
        dict(
            type='AttributeRepeatFactorSampler',
            threshold=0.5,
            seed=0,
            max_repeat=None,
        ),
        default_args=dict(dataset=ds),
    )
    # 'long' is 1 of 10 -> r = sqrt(5); 'short' 0.9, category 'tee' 1.0
    np.testing.assert_allclose(s.repeat_factors, [1.0] * 9 + [math.sqrt(5)])
    # and through mmengine's Runner, as a config selects it
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        loader = Runner.build_dataloader(
            dict(
                batch_size=4,
                num_workers=0,
                sampler=dict(
                    type='AttributeRepeatFactorSampler', threshold=0.5
                ),
                dataset=ds,
                collate_fn=dict(type='default_collate'),
            ),
            seed=1,
        )
    assert isinstance(loader.sampler, AttributeRepeatFactorSampler)
    assert loader.sampler.seed == 1


def test_rejects_datasets_without_labels():
    with pytest.raises(TypeError, match='get_gt_attr'):
        AttributeRepeatFactorSampler(list(range(5)), seed=0)
    with pytest.raises(ValueError):
        AttributeRepeatFactorSampler(_Labels(), threshold=0, seed=0)
