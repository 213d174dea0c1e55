"""The paper's training recipe in every config that claims it.

Parekh & Shaik (VISAPP 2023), section 5.2: Adam, learning rate 1e-5
decayed by 0.75 every 8 epochs, batch size 128; predictions thresholded
at 0.3 (section 5.3). Here: 8 GPUs x 16 images, ``StepLR`` stepped once
per epoch.
"""

from __future__ import annotations

import os.path as osp
from types import SimpleNamespace

import pytest
import torch
from mmengine.hooks import ParamSchedulerHook
from mmengine.optim import build_optim_wrapper
from mmengine.registry import PARAM_SCHEDULERS

PAPER_LR = 1e-5
PAPER_GAMMA = 0.75
PAPER_STEP_EPOCHS = 8
PAPER_BATCH = 128
GPUS, PER_GPU = 8, 16


def _recipe(cfg) -> dict:
    """Everything of a config except where its data lives."""
    model = cfg.model.to_dict()
    model['head'].pop('schema')
    recipe = dict(model=model)
    for key in (
        'optim_wrapper',
        'param_scheduler',
        'train_cfg',
        'auto_scale_lr',
        'val_evaluator',
        'test_evaluator',
        'randomness',
    ):
        recipe[key] = cfg.get(key)
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader'].to_dict()
        recipe[f'{split}.pipeline'] = loader['dataset']['pipeline']
        recipe[f'{split}.batch_size'] = loader['batch_size']
        recipe[f'{split}.sampler'] = loader['sampler']
    return recipe


def test_public_configs_share_the_paper_recipe(public_config, load_config):
    """A public-dataset config differs from its paper config in data only."""
    variant = osp.basename(public_config).split('_')[0]
    paper = f'configs/paper/{variant}_effnetv2-m_8xb16_catalog-384px.py'
    want, got = (
        _recipe(load_config(paper)),
        _recipe(load_config(public_config)),
    )
    assert got.keys() == want.keys()
    differing = [k for k in want if got[k] != want[k]]
    assert not differing, f'{public_config} departs from {paper}'


def _schedulers(cfg, optim_wrapper) -> list:
    """The config's parameter schedulers, built as mmengine's runner does."""
    cfgs = cfg.param_scheduler
    cfgs = cfgs if isinstance(cfgs, (list, tuple)) else [cfgs]
    return [
        PARAM_SCHEDULERS.build(s, default_args=dict(optimizer=optim_wrapper))
        for s in cfgs
    ]


def test_adam_lr_1e5_without_weight_decay(paper_config, load_config):
    cfg = load_config(paper_config)
    wrapper = build_optim_wrapper(torch.nn.Linear(2, 2), cfg.optim_wrapper)
    opt = wrapper.optimizer
    assert type(opt) is torch.optim.Adam
    for group in opt.param_groups:
        assert group['lr'] == PAPER_LR
        assert group['weight_decay'] == 0


def test_lr_decays_by_075_every_8_epochs(paper_config, load_config):
    """Run mmengine's ParamSchedulerHook over 20 epochs of 5 iterations.

    A schedule that steps per iteration, or with another step or factor,
    gives other learning rates.
    """
    cfg = load_config(paper_config)
    wrapper = build_optim_wrapper(torch.nn.Linear(2, 2), cfg.optim_wrapper)
    runner = SimpleNamespace(param_schedulers=_schedulers(cfg, wrapper))
    hook = ParamSchedulerHook()
    seen = []
    for _ in range(20):
        lrs = set()
        for i in range(5):
            lrs.add(wrapper.optimizer.param_groups[0]['lr'])
            wrapper.step()  # no gradients: a no-op step
            hook.after_train_iter(runner, i)
        hook.after_train_epoch(runner)
        assert len(lrs) == 1, 'the learning rate changed within an epoch'
        seen.append(lrs.pop())
    want = [
        PAPER_LR * PAPER_GAMMA ** (epoch // PAPER_STEP_EPOCHS)
        for epoch in range(20)
    ]
    assert seen == pytest.approx(want, rel=1e-9)


def test_batch_16_per_gpu_on_8_gpus_is_128(paper_config, load_config):
    cfg = load_config(paper_config)
    assert f'{GPUS}xb{PER_GPU}' in osp.basename(paper_config)
    assert cfg.train_dataloader.batch_size == PER_GPU
    # --auto-scale-lr rescales the paper's lr from this batch size
    assert cfg.auto_scale_lr.base_batch_size == GPUS * PER_GPU == PAPER_BATCH


def test_threshold_is_03(paper_config, load_config):
    cfg = load_config(paper_config)
    assert cfg.model.head.threshold == 0.3
    for evaluator in (cfg.val_evaluator, cfg.test_evaluator):
        assert evaluator.type == 'AttributeMetric'
        assert evaluator.thresholds == 0.3
