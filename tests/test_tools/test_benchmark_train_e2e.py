"""The end-to-end training benchmark's bookkeeping, on a tiny model.

No timing is asserted: the catalog it writes is checked against the files
on disk, the model really trains on the loader's batches, every step and
batch is accounted for, and the reported throughputs and ratio follow from
the per-round step times.
"""

import argparse
import json
import os.path as osp

import cv2
import pytest
import torch
from mmengine.registry import DefaultScope

from tools.analysis_tools import benchmark_train_e2e as e2e
from tools.common.benchmarking import PAPER_SCHEMA, paired_ratio


def test_end_to_end_benchmark_bookkeeping(tmp_path):
    torch.set_num_threads(1)
    folder = tmp_path / 'cat'
    report = e2e.main(
        [
            '--device', 'cpu', '--arch', 'b0', '--img-size', '32',
            '--batch', '2', '--workers', '1', '--prefetch', '1',
            '--num-images', '6', '--distinct', '3', '--jpeg-size', '80', '100',
            '--rounds', '2', '--steps', '2', '--max-warmup', '1',
            '--dir', str(folder), '--out', str(tmp_path / 'e2e.json'),
        ]
    )  # fmt: skip
    # the catalog: 6 records, JPEGs of 80 x 100, every attribute
    # of the paper's schema labelled
    with open(folder / 'train.jsonl') as f:
        records = [json.loads(line) for line in f]
    assert len({r['img_path'] for r in records}) == 6
    # 3 rendered JPEGs behind the 6 files
    contents = {(folder / r['img_path']).read_bytes() for r in records}
    assert len(contents) == 3
    for r in records:
        img = cv2.imread(osp.join(folder, r['img_path']))
        assert r['img_path'].endswith('.jpg') and img.shape == (100, 80, 3)
        assert set(r['attributes']) == {
            a['name'] for a in PAPER_SCHEMA['attributes']
        }
    rows = {r['case']: r for r in report['rows']}
    assert list(rows) == ['model-only', 'end-to-end', 'loader']
    for r in rows.values():
        assert len(r['rounds_s']) == 2
        assert r['img_s'] == pytest.approx(2 / r['step_s'])
        lo, hi = r['img_s_range']
        assert lo == pytest.approx(2 / max(r['rounds_s']))
        assert hi == pytest.approx(2 / min(r['rounds_s']))
        assert r['first_call_s'] > 0
    # the loader cases drain what the worker prefetched (1 x 1) first
    drain = 1 * 1 + 1
    assert all(w >= drain for w in rows['end-to-end']['warmup_steps'])
    assert all(w >= drain for w in rows['loader']['warmup_steps'])
    # every step accounted for: training steps of the two training cases;
    # batches: one fixed batch, then one per end-to-end or loader call
    calls = {k: sum(v['warmup_steps']) + 2 * 2 for k, v in rows.items()}
    assert report['train_steps'] == calls['model-only'] + calls['end-to-end']
    assert report['batches_drawn'] == 1 + calls['end-to-end'] + calls['loader']
    assert report['losses_finite']
    (comp,) = report['compare']
    ref = paired_ratio(
        rows['model-only']['rounds_s'], rows['end-to-end']['rounds_s']
    )
    assert comp['median'] == pytest.approx(ref['median'])
    assert comp['target'] == 0.95 and comp['lo'] <= comp['median']
    saved = json.load(open(tmp_path / 'e2e.json'))
    assert saved['train_steps'] == report['train_steps']


def test_training_step_changes_the_weights_on_loader_batches(tmp_path):
    """The batches of the benchmark's loader are what the model trains on:
    packed inputs of the configured size, and a step moves the weights."""
    ns = argparse.Namespace(
        config=None, variant='approach3', arch='b0', precision='fp32',
        img_size=32, batch=2, workers=0, prefetch=2, device='cpu',
        channels_last=False, compile=False,
    )  # fmt: skip
    cfg, schema = e2e.load_config(ns)
    # rendered in two processes: two different JPEGs behind four files
    schema_file = e2e.write_catalog(
        str(tmp_path), schema, 4, 2, (80, 100), procs=2
    )
    contents = {(tmp_path / f'img/{i:05d}.jpg').read_bytes() for i in range(4)}
    assert len(contents) == 2
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        loader = e2e.build_loader(cfg, str(tmp_path), schema_file, ns)
        batch = next(iter(loader))
        assert tuple(batch['inputs'].shape) == (2, 3, 32, 32)
        model, optim_wrapper = e2e.build_model(cfg, ns)
        before = [p.detach().clone() for p in model.parameters()]
        model.train_step(batch, optim_wrapper)
    moved = [
        not torch.equal(a, p.detach())
        for a, p in zip(before, model.parameters())
    ]
    assert any(moved)
