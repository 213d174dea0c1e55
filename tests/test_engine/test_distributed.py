"""2-process gloo training and validation where an attribute has no
labelled sample on one rank for a whole epoch.

Guards against: a hang (a per-attribute collective that one rank never
reaches), DDP's "Expected to have finished reduction" error (a branch
without gradient on a rank), metrics that depend on the number of
processes (padded duplicates of the distributed sampler counted, per-rank
means averaged), and, with the reliability hooks on, a rank that skips a
non-finite step alone (DDP would wait for its gradients forever).
"""

import glob
import json
import os.path as osp
import sys

import pytest
import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS

from tests.helpers.bad_images import META_KEYS, bad_catalogue
from tests.helpers.processes import MIM_TOOLS, run, torchrun
from tests.helpers.tinydata import make_tiny_catalog, write_tiny_config

# 'closure' is labelled on even indices >= 2 only. With shuffle=False the
# sampler gives rank 1 the odd indices (plus index 0 as the padding of the
# odd-sized val set): rank 1 never sees a closure label.
CLOSURE_AT = {2, 4, 6}
BAD_IMAGE = 'img/002.png'  # even index: refetches happen on rank 0


@HOOKS.register_module(force=True)
class InjectNaNOnRank0(Hook):
    """Make rank 0's loss NaN at iteration 1 (rank 1 stays finite)."""

    priority = 'HIGHEST'

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter != 1 or get_rank() != 0:
            return
        head = (
            runner.model.module.head
            if hasattr(runner.model, 'module')
            else runner.model.head
        )
        original = head.loss

        def bad_loss(*args, **kwargs):
            del head.loss
            out = original(*args, **kwargs)
            out['loss_colour'] = out['loss_colour'] * float('nan')
            return out

        head.loss = bad_loss


def make_data(root):
    make_tiny_catalog(root, n=8, drop=())
    with open(osp.join(root, 'train.jsonl')) as f:
        recs = [json.loads(line) for line in f]
    for i, r in enumerate(recs):
        if i not in CLOSURE_AT:
            r['attributes'].pop('closure')
    for name, part in (('train', recs), ('val', recs[:7])):
        with open(osp.join(root, f'{name}.jsonl'), 'w') as f:
            f.writelines(json.dumps(r) + '\n' for r in part)
    with open(osp.join(root, BAD_IMAGE), 'wb') as f:
        f.write(bad_catalogue()['truncated.jpg'][0])


def make_config(root, work):
    extra = f"""
custom_imports = dict(imports=['mmfashion_attr', 'mmfashion_attr.engine',
                               'tests.test_engine.test_distributed'],
                      allow_failed_imports=False)
_tail = [dict(type='ResizePad', scale=64),
         dict(type='PackAttrInputs', meta_keys={META_KEYS!r})]
_seq = dict(type='DefaultSampler', shuffle=False)
train_dataloader = dict(
    batch_size=2, num_workers=0, sampler=_seq,
    dataset=dict(_ds, pipeline=[dict(type='SafeLoadImage')] + _tail))
val_dataloader = dict(
    batch_size=2, num_workers=0, sampler=_seq,
    dataset=dict(_ds, pipeline=[dict(type='SafeLoadImage',
                                     on_error='mark')] + _tail))
test_dataloader = val_dataloader
train_cfg = dict(_delete_=True, type='ResumableEpochBasedTrainLoop',
                 max_epochs=2, val_interval=1)
custom_hooks = [dict(type='NonFiniteLossHook', on_nonfinite='skip'),
                dict(type='BadImageLoggerHook'),
                dict(type='SchemaCheckHook'),
                dict(type='InjectNaNOnRank0')]
"""
    return write_tiny_config(root, work, epochs=2, batch=2, extra=extra)


def launch(script, cfg, *args, nproc=1, cwd=None):
    """Run a shipped tool (the config imports this module, importable from
    the repository root, for InjectNaNOnRank0)."""
    cmd = [sys.executable, script, cfg, *args]
    if nproc > 1:
        cmd = torchrun(script, cfg, *args, nproc=nproc)
    _, out, err = run(cmd, cwd=cwd)
    return out + err


def logged_test_metrics(work):
    """The metrics that tools/test.py logged (full precision)."""
    for path in sorted(glob.glob(osp.join(work, '*', '*.json'))):
        with open(path) as f:
            for line in f:
                rec = json.loads(line)
                if 'attr/mean_micro_f1' in rec:
                    return {
                        k: v for k, v in rec.items() if k.startswith('attr/')
                    }
    raise AssertionError(f'no metrics under {work}')


def last_val(work):
    path = glob.glob(osp.join(work, '*', 'vis_data', 'scalars.json'))[0]
    with open(path) as f:
        recs = [json.loads(line) for line in f]
    val = [r for r in recs if 'attr/mean_micro_f1' in r][-1]
    return {k: v for k, v in val.items() if k.startswith('attr/')}


@pytest.mark.dist
def test_two_process_training_and_validation_equal_single_process(tmp_path):
    root = str(tmp_path)
    make_data(root)
    work = osp.join(root, 'work')
    cfg = make_config(root, work)
    train_py = osp.join(MIM_TOOLS, 'train.py')
    out = launch(train_py, cfg, nproc=2, cwd=root)
    assert 'Expected to have finished reduction' not in out
    assert 'find_unused_parameters' not in open(cfg).read()
    # the NaN of rank 0 made both ranks skip the step, the run went on
    # (rank 1 skipped too, else DDP would wait for its gradients forever)
    assert (
        'Skipped step: non-finite loss nan at epoch 1, iteration 2 '
        '(rank 0)' in out
    )
    assert 'loss: nan' not in out  # kept out of the logged means
    ckpt = osp.join(work, 'epoch_2.pth')
    state = torch.load(ckpt)['state_dict']
    assert all(
        torch.isfinite(v).all()
        for v in state.values()
        if v.is_floating_point()
    )
    # the bad image (rank 0's shard) is counted over both ranks per epoch
    for epoch in (1, 2):
        assert f'Epoch {epoch}: skipped' in out
    assert out.count('(1 distinct files)') == 2
    ddp_val = last_val(work)
    assert 'attr/closure/micro_f1' in ddp_val  # rank 0 saw closure labels

    # the same checkpoint evaluated by one process: the same metrics as the
    # two-process validation at the end of training (exact floats)
    launch(
        osp.join(MIM_TOOLS, 'test.py'),
        cfg,
        ckpt,
        '--work-dir',
        osp.join(root, 'test'),
        cwd=root,
    )
    assert logged_test_metrics(osp.join(root, 'test')) == ddp_val
