"""mmpretrain's shipped tools and the project's launchers drive training and
testing of our configs; what they report is checked against the written
predictions and checkpoints."""

import glob
import json
import os.path as osp
import pickle
import re
import sys

import numpy as np
import pytest
import torch

from tests.helpers.processes import MIM_TOOLS, free_port, run, torchrun
from tests.helpers.schemas import TINY_SCHEMA
from tests.helpers.tinydata import REPO, make_tiny_catalog, write_tiny_config

# Output scores start at 0.5 (no prior) and are thresholded at 0.5: after a
# short run some values pass and some do not, so the F1 compared below are
# not trivially 0.
THR = 0.5
EXTRA = f"""
model = dict(head=dict(schema=schema_file, hidden_channels=8, prior_prob=None))
val_evaluator = dict(thresholds={THR})
test_evaluator = dict(thresholds={THR})
"""


def scalars(work):
    """The records of the newest run's ``vis_data/scalars.json``."""
    files = sorted(glob.glob(osp.join(work, '*', 'vis_data', 'scalars.json')))
    assert files, f'no scalars.json under {work}'
    with open(files[-1]) as f:
        return [json.loads(line) for line in f]


def load_samples(path):
    """The per-sample dicts that ``test.py --out`` wrote (a file this test
    made, so plain pickle is fine)."""
    with open(path, 'rb') as f:
        return pickle.load(f)


def micro_f1_by_hand(samples, attribute, thr=THR):
    """Micro F1 of one attribute of the tiny schema from dumped predictions,
    written out here independently of the metric."""
    # the tiny schema allows every value for every category (and the
    # category attribute is never masked): no category mask to apply
    for per_cat in TINY_SCHEMA['allowed'].values():
        for a in TINY_SCHEMA['attributes']:
            if not a.get('from_category'):
                assert per_cat.get(a['name'], a['values']) == a['values']
    start = 0
    for a in TINY_SCHEMA['attributes']:
        if a['name'] == attribute:
            stop = start + len(a['values'])
            break
        start += len(a['values'])
    tp = fp = fn = 0
    for s in samples:
        if 'gt_attr' not in s:
            continue
        score = np.asarray(s['pred_score'], np.float32)[start:stop]
        gt = np.asarray(s['gt_attr'])[start:stop].astype(bool)
        labelled = np.asarray(s['gt_attr_mask'])[start:stop].astype(bool)
        pred = score >= thr
        tp += int(np.sum(pred & gt & labelled))
        fp += int(np.sum(pred & ~gt & labelled))
        fn += int(np.sum(~pred & gt & labelled))
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0


def printed_metric(out, key):
    """The last value of ``key`` in a tool's log output."""
    found = re.findall(rf'{re.escape(key)}: ([0-9.]+)', out)
    assert found, f'{key} not in the output'
    return float(found[-1])


def test_stock_train_then_test_py(tmp_path):
    root = make_tiny_catalog(str(tmp_path), n=8)
    work = str(tmp_path / 'work')
    cfg = write_tiny_config(root, work, epochs=1, extra=EXTRA)
    _, out, err = run(
        [sys.executable, osp.join(MIM_TOOLS, 'train.py'), cfg], cwd=root
    )
    assert 'MultiScaleDeformableAttention' not in out + err
    ckpt = osp.join(work, 'epoch_1.pth')
    assert osp.exists(ckpt)
    val = [r for r in scalars(work) if 'attr/mean_micro_f1' in r][-1]
    # closure is missing from every record: no key for it
    assert 'attr/closure/micro_f1' not in val
    preds = str(tmp_path / 'preds.pkl')
    _, out, err = run(
        [
            sys.executable,
            osp.join(MIM_TOOLS, 'test.py'),
            cfg,
            ckpt,
            '--work-dir',
            str(tmp_path / 'test'),
            '--out',
            preds,
        ],
        cwd=root,
    )
    samples = load_samples(preds)
    assert len(samples) == 8
    f1 = {a: micro_f1_by_hand(samples, a) for a in ('category', 'colour')}
    assert 0 < f1['colour'] < 1  # a score that says something
    # the test set is the validation set (same records, same weights)
    for a, v in f1.items():
        assert val[f'attr/{a}/micro_f1'] == pytest.approx(v, abs=1e-4)
        assert printed_metric(out, f'attr/{a}/micro_f1') == pytest.approx(
            v, abs=1e-4
        )
    assert val['attr/mean_micro_f1'] == pytest.approx(
        np.mean(list(f1.values())), abs=1e-4
    )


def test_project_train_py_resume_and_cfg_options(tmp_path):
    root = make_tiny_catalog(str(tmp_path), n=8)
    work = str(tmp_path / 'work')
    cfg = write_tiny_config(root, work, epochs=1)
    train_py = osp.join(REPO, 'tools', 'train.py')
    run([sys.executable, train_py, cfg], cwd=root)
    _, out, err = run(
        [
            sys.executable,
            train_py,
            cfg,
            '--resume',
            '--cfg-options',
            'train_cfg.max_epochs=2',
        ],
        cwd=root,
    )
    # 8 images in batches of 4: 2 iterations per epoch
    assert 'resumed epoch: 1, iter: 2' in out + err
    ckpt = torch.load(osp.join(work, 'epoch_2.pth'))
    assert ckpt['meta']['epoch'] == 2 and ckpt['meta']['iter'] == 4
    # the resumed run trained epoch 2 only (a restart would log epoch 1)
    trained = [r for r in scalars(work) if 'loss' in r]
    assert trained and {r['epoch'] for r in trained} == {2}
    assert sorted(r['iter'] for r in trained) == [3, 4]


@pytest.mark.dist
def test_two_process_gloo_with_attribute_missing_from_every_batch(tmp_path):
    """DDP on CPU through the stock train.py; 'closure' has no label in any
    batch and find_unused_parameters stays off."""
    root = make_tiny_catalog(str(tmp_path), n=8, drop=('closure',))
    work = str(tmp_path / 'work')
    cfg = write_tiny_config(root, work, epochs=2, batch=2, extra=EXTRA)
    with open(cfg) as f:
        assert 'find_unused_parameters' not in f.read()
    _, out, err = run(
        torchrun(osp.join(MIM_TOOLS, 'train.py'), cfg),
        cwd=root,
    )
    out += err
    assert 'Expected to have finished reduction' not in out
    assert 'Distributed training: True' in out and 'GPU number: 2' in out
    # 8 images over 2 ranks in batches of 2: 2 iterations per epoch (one
    # process would take 4)
    ckpt = torch.load(osp.join(work, 'epoch_2.pth'))
    assert ckpt['meta']['iter'] == 4
    # and the project's dist_test.sh evaluates it with 2 processes
    preds = str(tmp_path / 'preds.pkl')
    _, out, err = run(
        [
            'bash',
            osp.join(REPO, 'tools', 'dist_test.sh'),
            cfg,
            osp.join(work, 'epoch_2.pth'),
            '2',
            '--work-dir',
            str(tmp_path / 'test'),
            '--out',
            preds,
        ],
        cwd=root,
        env=dict(PYTHON=sys.executable, PORT=str(free_port())),
    )
    out += err
    assert 'GPU number: 2' in out
    # both ranks' results collected once each, no padding duplicates
    samples = load_samples(preds)
    assert sorted(s['img_path'] for s in samples) == sorted(
        glob.glob(osp.join(root, 'img', '*.png'))
    )
    assert printed_metric(out, 'attr/colour/micro_f1') == pytest.approx(
        micro_f1_by_hand(samples, 'colour'), abs=1e-4
    )


@pytest.mark.parametrize(
    'script',
    ['dist_train.sh', 'dist_test.sh', 'dist_launch.sh', 'slurm_train.sh'],
)
def test_shell_wrappers_are_valid_bash(script):
    run(['bash', '-n', osp.join(REPO, 'tools', script)])
