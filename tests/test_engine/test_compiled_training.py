"""Training through mmengine's ``compile`` option (``--cfg-options
compile=...``) computes what eager training computes, and the plugin's
hooks add no graph break to the compiled step.

The reference is the same runner without ``compile``: same weights, same
batches, same hooks. ``backend='aot_eager'`` traces the step with dynamo
and AOT autograd (the forward and the backward graphs inductor would
compile) but runs them with eager kernels: what is checked is the capture,
not inductor's code generation, in seconds rather than minutes on a CPU.
The backbone is EfficientNetV2-b0 cut after its third stage, at 64 px.
"""

import json
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmfashion_attr.engine import NonFiniteLossHook
from tests.helpers.tinydata import make_tiny_catalog, write_tiny_config

dynamo_utils = pytest.importorskip('torch._dynamo.utils')


class Record(Hook):
    """Losses, gradients (just before each optimizer step) and graph
    counts of every iteration."""

    priority = 'LOWEST'

    def __init__(self):
        self.losses, self.grads, self.graphs, self.hook_state = [], [], [], []
        self.buffers = []

    def before_train(self, runner):
        optimizer = runner.optim_wrapper.optimizer
        params = [p for g in optimizer.param_groups for p in g['params']]
        self.buffers = [torch.zeros_like(p) for p in params]
        buffers = self.buffers

        # Runs inside the compiled step: in-place copies into tensors made
        # beforehand keep Python state (which dynamo would guard on)
        # unchanged.
        def pre_step(optimizer, args, kwargs):
            for buf, p in zip(buffers, params):
                buf.copy_(p.grad)

        optimizer.register_step_pre_hook(pre_step)

    def after_train_iter(
        self, runner, batch_idx, data_batch=None, outputs=None
    ):
        self.losses.append({k: v.item() for k, v in outputs.items()})
        self.grads.append([b.clone() for b in self.buffers])
        self.graphs.append(
            dynamo_utils.counters['stats'].get('unique_graphs', 0)
        )
        # what the default hooks left inside the step
        self.hook_state.append(
            (
                'update_params' in vars(runner.optim_wrapper),
                'parse_losses' in vars(runner.model),
            )
        )


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('c'))
    make_tiny_catalog(root, n=6)
    # batches (top, top), (bottom, bottom), (top, bottom)
    path = osp.join(root, 'train.jsonl')
    lines = open(path).read().splitlines()
    with open(path, 'w') as f:
        f.write('\n'.join(lines[i] for i in (0, 2, 1, 3, 4, 5)) + '\n')
    return root


def relative_error(got, ref):
    """``||got - ref|| / ||ref||`` (float64; 0 when both are 0)."""
    got, ref = got.double(), ref.double()
    den = ref.norm()
    return float((got - ref).norm() / den) if den > 0 else float(got.norm())


def train(root, compile_cfg):
    extra = f'compile = {compile_cfg!r}\n'
    name = 'compiled' if compile_cfg else 'eager'
    cfg = Config.fromfile(
        write_tiny_config(
            root, osp.join(root, name), epochs=1, batch=2, extra=extra
        )
    )
    # EfficientNetV2-b0's first three stages (16 / 32 / 48 channels)
    cfg.model.backbone.out_indices = (1, 2, 3)
    for neck in cfg.model.neck[:2]:
        neck.in_channels = [16, 32, 48]
    cfg.model.head.in_channels = 16 + 32 + 48
    cfg.train_dataloader.sampler = dict(type='DefaultSampler', shuffle=False)
    cfg.train_cfg.val_interval = 100
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=100)
    runner = Runner.from_cfg(cfg)
    record = Record()
    runner.register_hook(record)
    runner.train()
    return runner, record


def test_compiled_step_equals_eager_step_without_graph_breaks_of_ours(
    tiny, root
):
    torch._dynamo.reset()
    eager, ref = train(tiny, None)
    dynamo_utils.counters.clear()
    compiled, got = train(tiny, dict(backend='aot_eager'))
    # the default runtime's hooks are on, NonFiniteLossHook among them
    assert any(isinstance(h, NonFiniteLossHook) for h in compiled.hooks)
    assert len(got.losses) == len(ref.losses) == 3
    for r, g in zip(ref.losses, got.losses):
        assert r.keys() == g.keys()
        for k in r:
            assert g[k] == pytest.approx(r[k], rel=1e-5, abs=1e-6), k
    # gradients and weights: relative error of each tensor (float32
    # rounding of other but equivalent kernels lands far below 1e-4)
    for r, g in zip(ref.grads, got.grads):
        assert len(r) == len(g) > 0
        for i, (a, b) in enumerate(zip(r, g)):
            assert relative_error(b, a) < 1e-4, i
    for (name, a), b in zip(
        eager.model.state_dict().items(), compiled.model.state_dict().values()
    ):
        assert relative_error(b, a) < 1e-4, name
    # The step was captured. mmengine's optim wrapper counts its calls in
    # a Python int (``_inner_count``) that the step reads: the second
    # iteration recompiles once, with that count as a dynamic value. The
    # third batch (other categories than the first two) runs the graphs of
    # the second: the categories are not compiled in.
    assert got.graphs[0] > 0 and got.graphs[2] == got.graphs[1]
    # graph breaks: only the backward call and torch's optimizer step
    # (mmengine's update_params and torch.optim), none in the plugin
    breaks = dynamo_utils.counters['graph_break']
    reasons = ' '.join(breaks)
    assert 'Tensor.item()' not in reasons and 'data dependent' not in reasons
    assert set(breaks) == {
        k
        for k in breaks
        if 'Tensor.backward()' in k or 'torch._dynamo.graph_break()' in k
    }, json.dumps(list(breaks))
    # NonFiniteLossHook (raise mode) puts nothing into the step
    assert got.hook_state == [(False, False)] * 3
