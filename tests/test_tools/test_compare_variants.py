"""tools/analysis_tools/compare_variants.py on a tiny budget.

Two configs x two seeds, one epoch on eight images, through the stock
train.py / test.py. The summary must agree with the metrics each run's
test.py wrote, its intervals with a hand computation (scipy's t), a second
call must not retrain, a changed config must be refused, and a failing
config must give exit code 1 with the failure named.
"""

import glob
import json
import os
import os.path as osp
from types import SimpleNamespace

import numpy as np
import pytest
from scipy import stats

from tests.helpers.processes import python
from tests.helpers.tinydata import REPO, make_tiny_catalog, write_tiny_config

TOOL = osp.join(REPO, 'tools', 'analysis_tools', 'compare_variants.py')


def call(args, cwd):
    rc, out, err = python(TOOL, *args, cwd=cwd, timeout=900, check=False)
    return SimpleNamespace(returncode=rc, stdout=out, stderr=err)


@pytest.fixture(scope='module')
def study(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('study'))
    make_tiny_catalog(root, n=8)
    # a low threshold so the one-epoch models predict positives (F1 > 0)
    extra = (
        "val_evaluator = dict(type='AttributeMetric', thresholds=0.05)\n"
        'test_evaluator = val_evaluator\n'
    )
    cfg_a = write_tiny_config(root, osp.join(root, 'unused'), 1, extra=extra)
    cfg_b = osp.join(root, 'wider.py')
    with open(cfg_b, 'w') as f:
        f.write("_base_ = './tiny_cfg.py'\n")
        f.write('model = dict(head=dict(hidden_channels=16))\n')
    work = osp.join(root, 'work')
    args = [cfg_a, cfg_b, '--seeds', '2', '--work-dir', work,
            '--parallel', '2', '--names', 'ref', 'wide']  # fmt: skip
    proc = call(args, root)
    return root, work, args, proc


def test_summary_matches_the_runs(study):
    root, work, args, proc = study
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    with open(osp.join(work, 'summary.json')) as f:
        summary = json.load(f)
    assert osp.getsize(osp.join(work, 'summary.png')) > 1000
    assert '| ref | 2 |' in open(osp.join(work, 'summary.md')).read()
    per_run = {}
    for name in ('ref', 'wide'):
        for seed in (0, 1):
            # the metrics file test.py itself wrote
            files = glob.glob(
                osp.join(work, name, f'seed_{seed}', 'test', '*', '*.json')
            )
            assert len(files) == 1, files
            with open(files[0]) as f:
                m = json.load(f)
            per_run[name, seed] = m
            got = summary['configs'][name]['per_seed'][str(seed)]
            for attr in ('category', 'colour'):
                assert got[attr] == m[f'attr/{attr}/micro_f1']
            assert got['all'] == pytest.approx(m['attr/mean_micro_f1'])
    assert any(m['attr/colour/micro_f1'] > 0 for m in per_run.values())
    # seeds give different runs; the interval is t(0.975, 1) * s / sqrt(2)
    for name in ('ref', 'wide'):
        vals = [per_run[name, s]['attr/colour/micro_f1'] for s in (0, 1)]
        st = summary['configs'][name]['stats']['colour']
        assert st['mean'] == pytest.approx(np.mean(vals))
        half = stats.t.ppf(0.975, 1) * np.std(vals, ddof=1) / np.sqrt(2)
        assert st['ci95'] == pytest.approx(half, abs=1e-3 * max(half, 1))
    diffs = [
        per_run['wide', s]['attr/colour/micro_f1']
        - per_run['ref', s]['attr/colour/micro_f1']
        for s in (0, 1)
    ]
    d = summary['configs']['wide']['diff_to_reference']['colour']
    assert d['mean'] == pytest.approx(np.mean(diffs))
    # seeds change the run (the randomness seed reaches train.py)
    assert any(
        json.load(open(osp.join(work, 'ref', f'seed_{s}', 'run.json')))['seed']
        == s
        for s in (0, 1)
    )
    assert 'constant' in summary and 'category' in summary['constant']


def test_second_call_reuses_and_changes_are_refused(study):
    root, work, args, proc = study
    result = osp.join(work, 'ref', 'seed_0', 'result.json')
    before = os.stat(result).st_mtime_ns
    again = call(args + ['--summary-only'], root)
    assert again.returncode == 0, again.stderr[-2000:]
    assert '4 done' in again.stdout
    assert os.stat(result).st_mtime_ns == before
    changed = call(args + ['--cfg-options', 'model.head.dropout=0.1'], root)
    assert changed.returncode == 2
    assert (
        'ref seed 0' in changed.stderr and '--rerun-changed' in changed.stderr
    )


def test_failing_config_is_reported(study):
    root, work, args, proc = study
    bad = osp.join(root, 'bad.py')
    with open(bad, 'w') as f:
        f.write("_base_ = './tiny_cfg.py'\n")
        f.write("model = dict(neck=[dict(type='NoSuchNeck')])\n")
    # the reference's seed 0 is reused from the study: only bad.py trains
    out = call([args[0], bad, '--seeds', '1', '--work-dir', work,
                '--names', 'ref', 'bad'], root)  # fmt: skip
    assert out.returncode == 1
    assert '1 done' in out.stdout
    assert 'bad seed 0' in out.stderr and 'train.log' in out.stderr
