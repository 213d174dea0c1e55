"""A non-finite loss is a clear error naming the samples of the batch, or
the step is skipped (by config).

Guards against: one NaN loss silently turning every weight into NaN (the
run then "trains" for days on garbage, see the control test), and an
error that does not say which batch it came from.
"""

import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmfashion_attr.engine import NonFiniteLossHook, describe_batch
from tests.helpers.tinydata import make_tiny_catalog, write_tiny_config


class InjectNonFinite(Hook):
    """Make the head's losses non-finite at the given iterations; record
    the batch and the weights around them."""

    priority = 'HIGHEST'

    def __init__(self, iters, value=float('nan')):
        self.iters, self.value = set(iters), value
        self.batches, self.before, self.after = {}, {}, {}

    @staticmethod
    def snapshot(runner):
        state = {k: v.clone() for k, v in runner.model.state_dict().items()}
        opt = runner.optim_wrapper.state_dict()['state']
        state.update(
            {
                f'opt{p}.{k}': torch.as_tensor(v).clone()
                for p, s in opt.items()
                for k, v in s.items()
            }
        )
        return state

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter not in self.iters:
            return
        self.batches[runner.iter] = [
            s.img_path for s in data_batch['data_samples']
        ]
        self.before[runner.iter] = self.snapshot(runner)
        head = runner.model.head
        original = head.loss

        def bad_loss(*args, **kwargs):
            del head.loss  # once
            out = original(*args, **kwargs)
            out['loss_colour'] = out['loss_colour'] * self.value
            return out

        head.loss = bad_loss

    def after_train_iter(
        self, runner, batch_idx, data_batch=None, outputs=None
    ):
        if runner.iter in self.iters:
            self.after[runner.iter] = self.snapshot(runner)


@pytest.fixture
def tiny(root):
    make_tiny_catalog(root, n=8)
    return root


def train(root, inject, hook=None, epochs=1):
    extra = (
        "custom_imports = dict(imports=['mmfashion_attr', "
        "'mmfashion_attr.engine'], allow_failed_imports=False)\n"
        f'custom_hooks = {[hook] if hook else []!r}\n'
    )
    cfg = Config.fromfile(
        write_tiny_config(
            root, osp.join(root, 'work'), epochs=epochs, batch=2, extra=extra
        )
    )
    runner = Runner.from_cfg(cfg)
    runner.register_hook(inject)
    runner.train()
    return runner


def test_raise_names_the_batch_samples_and_terms(tiny):
    inject = InjectNonFinite({1})
    with pytest.raises(FloatingPointError) as e:
        train(tiny, inject, dict(type='NonFiniteLossHook'))
    msg = str(e.value)
    assert 'epoch 1, iteration 2' in msg
    assert 'loss_colour=nan' in msg
    for path in inject.batches[1]:
        assert path in msg
    assert "on_nonfinite='skip'" in msg  # says how to skip instead


@pytest.mark.parametrize('value', [float('nan'), float('inf')])
def test_skip_leaves_weights_and_optimizer_untouched(tiny, value):
    inject = InjectNonFinite({1, 2}, value)
    runner = train(
        tiny, inject, dict(type='NonFiniteLossHook', on_nonfinite='skip')
    )
    hook = next(h for h in runner.hooks if isinstance(h, NonFiniteLossHook))
    assert hook.num_skipped == 2
    assert [s['samples'] for s in hook.skipped] == [
        inject.batches[1],
        inject.batches[2],
    ]
    for it in (1, 2):
        before, after = inject.before[it], inject.after[it]
        assert all(torch.equal(before[k], after[k]) for k in before), it
    assert runner.iter == 4  # the epoch went on
    assert all(torch.isfinite(p).all() for p in runner.model.parameters())
    log = open(runner.logger.log_file).read()
    assert 'Skipped step' in log and 'skipped 2 steps' in log
    # the wrappers are removed after training
    assert 'update_params' not in vars(runner.optim_wrapper)


def test_without_the_hook_one_nan_poisons_the_backbone(tiny):
    """Control (no fix): training goes on and every weight upstream of the
    NaN loss term (the whole backbone) becomes NaN."""
    runner = train(tiny, InjectNonFinite({1}))
    assert runner.iter == 4
    params = list(runner.model.backbone.parameters())
    assert params and all(torch.isnan(p).all() for p in params)


def test_consecutive_skips_mean_divergence(tiny):
    inject = InjectNonFinite({0, 1, 2, 3})
    with pytest.raises(FloatingPointError, match='diverged'):
        train(
            tiny,
            inject,
            dict(
                type='NonFiniteLossHook',
                on_nonfinite='skip',
                max_consecutive_skips=2,
            ),
        )


def test_describe_batch_and_bad_arguments():
    from mmpretrain.structures import DataSample

    batch = dict(
        data_samples=[
            DataSample(metainfo=dict(img_path='a.jpg')),
            DataSample(metainfo=dict(sample_idx=7)),
        ]
    )
    assert describe_batch(batch) == ['a.jpg', 'sample_idx=7']
    assert describe_batch(batch, limit=1) == ['a.jpg', '... (1 more)']
    assert describe_batch(None) == []
    with pytest.raises(ValueError):
        NonFiniteLossHook(on_nonfinite='ignore')
    assert not math.isfinite(float('nan'))
