"""What the shipped configs set for resuming and for unusable images.

The paper and public-dataset configs train with the exactly resumable loop
and a training loader whose workers start afresh every epoch (what exact
resume needs with workers); the stock ``tools/train.py`` of mmpretrain
keeps the config's ``persistent_workers`` (its defaults are overridden by
the config's own keys). The demo keeps mmengine's loop. Every config stops
training when more than 5 % of the images of an epoch are unusable.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import SimpleNamespace

from tests.helpers.processes import MIM_TOOLS

REPO = Path(__file__).resolve().parents[2]


def _stock_merge_args(cfg):
    """mmpretrain's ``tools/train.py`` ``merge_args`` with no options."""
    spec = importlib.util.spec_from_file_location(
        'mmpretrain_stock_train', f'{MIM_TOOLS}/train.py'
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    args = SimpleNamespace(
        work_dir='work_dirs/x', amp=False, auto_scale_lr=False,
        resume=False, no_validate=False, no_pin_memory=False,
        no_persistent_workers=False, cfg_options=None, launcher='none',
        local_rank=0,
    )  # fmt: skip
    return module.merge_args(cfg, args)


def test_paper_configs_resume_exactly(paper_config, load_config):
    cfg = load_config(paper_config)
    assert cfg.train_cfg['type'] == 'ResumableEpochBasedTrainLoop'
    assert cfg.train_dataloader['num_workers'] > 0
    assert cfg.train_dataloader['persistent_workers'] is False
    merged = _stock_merge_args(cfg)
    assert merged.train_dataloader['persistent_workers'] is False
    # validation keeps its workers between epochs: it draws no randomness
    assert merged.val_dataloader['persistent_workers'] is True


def test_public_configs_resume_exactly(public_config, load_config):
    cfg = load_config(public_config)
    assert cfg.train_cfg['type'] == 'ResumableEpochBasedTrainLoop'
    assert cfg.train_dataloader['persistent_workers'] is False


def test_demo_configs_keep_mmengine_loop(load_config):
    demos = sorted(
        p.relative_to(REPO).as_posix()
        for p in (REPO / 'configs/demo').glob('*.py')
    )
    assert len(demos) >= 3
    for path in demos:
        cfg = load_config(path)
        assert dict(cfg.train_cfg) == dict(
            by_epoch=True, max_epochs=10, val_interval=10
        ), path


def test_every_config_caps_unusable_images_at_5_percent(load_config):
    paths = sorted(
        p.relative_to(REPO).as_posix()
        for p in (REPO / 'configs').glob('**/*.py')
        if '_base_' not in p.parts
    )
    for path in paths:
        hooks = [
            h for h in load_config(path).custom_hooks
            if h['type'] == 'BadImageLoggerHook'
        ]  # fmt: skip
        assert [h.get('max_skip_ratio') for h in hooks] == [0.05], path
