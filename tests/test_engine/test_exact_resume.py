"""A run interrupted at iteration k and resumed ends with the same weights
as an uninterrupted run (CPU, deterministic settings).

Guards against: mmengine's EpochBasedTrainLoop restarting an interrupted
epoch from its first batch (the resumed epoch trains some batches twice),
and resumed runs drawing other augmentations / dropout masks than the
uninterrupted one (global RNG state is not part of a checkpoint).
"""

import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

import mmfashion_attr.engine  # noqa: F401  (registers the loop)
from tests.helpers.tinydata import make_tiny_catalog, write_tiny_config


class Killed(Exception):
    pass


class Interrupt(Hook):
    """Kill the run after iteration ``k`` (after its checkpoint is saved:
    lowest priority runs after CheckpointHook)."""

    def __init__(self, k):
        self.k = k

    def after_train_iter(
        self, runner, batch_idx, data_batch=None, outputs=None
    ):
        if runner.iter + 1 == self.k:
            raise Killed(self.k)


class RecordBatches(Hook):
    """The image paths of every trained batch, in order."""

    def __init__(self):
        self.batches = []

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self.batches.append([s.img_path for s in data_batch['data_samples']])


@pytest.fixture(scope='module')
def root(tmp_path_factory):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny model; a busy machine punishes more
    root = str(tmp_path_factory.mktemp('r'))
    make_tiny_catalog(root, n=8)
    yield root
    torch.set_num_threads(threads)


def config(
    root,
    name,
    loop='resumable',
    skip_mode='replay',
    workers=0,
    sampler='DefaultSampler',
    ckpt_every=100,
):
    if loop == 'resumable':
        train_cfg = (
            f"dict(_delete_=True, type='ResumableEpochBasedTrainLoop',"
            f' max_epochs=2, val_interval=1, skip_mode={skip_mode!r})'
        )
    else:  # mmengine's EpochBasedTrainLoop
        train_cfg = 'dict(by_epoch=True, max_epochs=2, val_interval=1)'
    extra = f"""
custom_imports = dict(imports=['mmfashion_attr', 'mmfashion_attr.engine'],
                      allow_failed_imports=False)
train_cfg = {train_cfg}
model = dict(head=dict(schema=schema_file, hidden_channels=8, dropout=0.3))
train_dataloader = dict(batch_size=2, num_workers={workers},
                        persistent_workers=False,
                        sampler=dict(type={sampler!r}, shuffle=True),
                        dataset=dict(_ds, pipeline=_train))
default_hooks = dict(checkpoint=dict(interval={ckpt_every}, by_epoch=False,
                                     max_keep_ckpts=20, save_best=None))
"""
    return write_tiny_config(
        root, osp.join(root, name), epochs=2, batch=2, extra=extra
    )


def run(cfg_path, name, kill_at=None, resume=False):
    cfg = Config.fromfile(cfg_path)
    cfg.experiment_name = f'{name}-{kill_at}-{resume}'
    cfg.resume = resume
    runner = Runner.from_cfg(cfg)
    rec = RecordBatches()
    runner.register_hook(rec, priority='VERY_HIGH')
    if kill_at is not None:
        runner.register_hook(Interrupt(kill_at), priority='LOWEST')
        with pytest.raises(Killed):
            runner.train()
    else:
        runner.train()
    return runner, rec.batches


def final_state(runner):
    state = {f'model.{k}': v for k, v in runner.model.state_dict().items()}
    opt = runner.optim_wrapper.state_dict()['state']
    for p, s in opt.items():
        for k, v in s.items():
            state[f'optim.{p}.{k}'] = torch.as_tensor(v)
    return state


def same(a, b):
    assert a.keys() == b.keys()
    return [k for k in a if not torch.equal(a[k], b[k])]


_reference = {}


def uninterrupted(root, **kw):
    # how an interrupted run would skip does not change an uninterrupted
    # run, nor does ResumableSampler (same order as DefaultSampler)
    key = (kw.get('loop', 'resumable'), kw.get('workers', 0))
    if key not in _reference:
        name = 'ref-' + '-'.join(f'{v}' for v in key)
        runner, batches = run(config(root, name, **kw), name)
        assert runner.iter == 8 and runner.epoch == 2
        _reference[key] = final_state(runner), batches
    return _reference[key]


@pytest.mark.parametrize(
    'kill_at, skip_mode, workers, sampler',
    [
        (3, 'replay', 0, 'DefaultSampler'),  # mid-epoch 1
        (6, 'sampler', 0, 'ResumableSampler'),  # mid-epoch 2, after val
        (4, 'auto', 0, 'DefaultSampler'),  # last batch of epoch 1, before val
        (5, 'replay', 1, 'DefaultSampler'),  # augmentation in a worker
    ],
)
def test_interrupted_and_resumed_equals_uninterrupted(
    root, kill_at, skip_mode, workers, sampler
):
    ref_state, ref_batches = uninterrupted(
        root, skip_mode=skip_mode, workers=workers, sampler=sampler
    )
    name = f'k{kill_at}-{skip_mode}-{workers}'
    cfg = config(
        root,
        name,
        skip_mode=skip_mode,
        workers=workers,
        sampler=sampler,
        ckpt_every=kill_at,
    )
    _, first = run(cfg, name, kill_at=kill_at)
    assert osp.exists(osp.join(root, name, f'iter_{kill_at}.pth'))
    runner, rest = run(cfg, name, resume=True)
    assert runner.iter == 8 and runner.epoch == 2
    # data order: the same batches, none repeated or left out
    assert first + rest == ref_batches
    expected_mode = {'auto': 'replay' if kill_at % 4 else None}.get(
        skip_mode, skip_mode
    )
    if kill_at % 4:
        assert runner.train_loop.last_skip == (expected_mode, kill_at % 4)
    assert same(final_state(runner), ref_state) == []


def test_stock_loop_does_not_resume_exactly(root):
    """Without the fix (mmengine's loop) the same test fails: the resumed
    epoch starts over, so batches are trained twice and weights differ."""
    ref_state, ref_batches = uninterrupted(root, loop='stock')
    cfg = config(root, 'stock-k3', loop='stock', ckpt_every=3)
    _, first = run(cfg, 'stock-k3', kill_at=3)
    runner, rest = run(cfg, 'stock-k3', resume=True)
    assert first + rest != ref_batches
    assert len(first + rest) > len(ref_batches)
    assert same(final_state(runner), ref_state) != []


def test_reseeding_is_per_rank_and_position():
    from mmfashion_attr.engine import derived_seed

    seeds = {
        derived_seed(0, r, s, t)
        for r in range(2)
        for s in range(50)
        for t in range(2)
    }
    assert len(seeds) == 200 and all(0 <= s < 2**63 for s in seeds)
    assert derived_seed(7, 1, 3, 1) == derived_seed(7, 1, 3, 1)
