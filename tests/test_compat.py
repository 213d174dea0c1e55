"""Each upstream workaround in mmfashion_attr.compat, tested."""

import io
import os
import pickle
import pickletools

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner import Runner
from tinydata import make_tiny_catalog, write_tiny_config

from mmfashion_attr import compat


def test_all_fixes_applied_on_import():
    assert set(compat.applied_fixes()) == {
        'allow_mmengine_checkpoint_globals',
        'get_mmdet_fpn',
        'patch_cpu_distributed',
        'patch_persistent_workers',
        'patch_efficientnet_v2_train',
        'secure_checkpoint_loading',
    }
    assert 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD' not in os.environ
    assert compat.apply_all() == compat.applied_fixes()  # idempotent


class _Evil:
    def __reduce__(self):
        return (os.system, ('echo pwned',))


def test_malicious_pickle_still_refused(tmp_path):
    p = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'x': _Evil()}, p)
    with pytest.raises(pickle.UnpicklingError, match='weights_only|system'):
        torch.load(p)
    from mmengine.runner import load_checkpoint

    with pytest.raises(pickle.UnpicklingError):
        load_checkpoint(torch.nn.Linear(1, 1), str(p))


def test_message_hub_state_loads_with_weights_only(tmp_path):
    """mmengine#1655: HistoryBuffer/numpy in checkpoints load safely."""
    import numpy as np

    hub = MessageHub.get_instance('compat-test')
    hub.update_scalar('train/loss', np.float64(0.5))
    hub.update_scalar('train/lr', 1e-3)
    hub.update_info('arr', np.arange(3, dtype=np.int64))
    p = tmp_path / 'ckpt.pth'
    torch.save(
        {
            'message_hub': hub.state_dict(),
            'meta': {'seed': np.int64(3), 'dtype': np.dtype('float32')},
        },
        p,
    )
    loaded = torch.load(p)  # weights_only=True is torch's default
    buf = loaded['message_hub']['log_scalars']['train/loss']
    assert isinstance(buf, HistoryBuffer) and buf.current() == 0.5
    assert loaded['meta']['seed'] == 3


def _globals_in_pickle(path):
    import zipfile

    with zipfile.ZipFile(path) as z:
        name = [n for n in z.namelist() if n.endswith('data.pkl')][0]
        data = z.read(name)
    found, strings = set(), []
    for op, arg, _ in pickletools.genops(io.BytesIO(data)):
        if op.name in ('SHORT_BINUNICODE', 'BINUNICODE', 'UNICODE'):
            strings.append(arg)
        elif op.name == 'GLOBAL':
            found.add(tuple(arg.split(' ')))
        elif op.name == 'STACK_GLOBAL':
            found.add((strings[-2], strings[-1]))
    # protocol-2 names as torch's unpickler maps them (__builtin__ ->
    # builtins)
    from torch._weights_only_unpickler import _read_global_instruction

    return {
        '.'.join(
            _read_global_instruction(
                io.BytesIO(f'{m}\n{n}\n'.encode()).readline
            )
        )
        for m, n in found
    }


@pytest.fixture(scope='module')
def trained_run(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('tiny'))
    make_tiny_catalog(root, n=8)
    work = os.path.join(root, 'work')
    cfg = Config.fromfile(write_tiny_config(root, work, epochs=1))
    runner = Runner.from_cfg(cfg)
    runner.train()
    return root, work, cfg


def test_checkpoint_globals_are_exactly_allow_listed(trained_run):
    """Every non-torch global of a real mmengine checkpoint is allow-listed
    (re-derives the list in compat.mmengine_checkpoint_globals)."""
    _, work, _ = trained_run
    found = _globals_in_pickle(os.path.join(work, 'epoch_1.pth'))
    allowed = {
        f'{g.__module__}.{g.__qualname__}'
        for g in compat.mmengine_checkpoint_globals()
    }
    allowed.add('builtins.getattr')  # the history_buffer_getattr stand-in
    from torch._weights_only_unpickler import _get_allowed_globals

    builtin = set(_get_allowed_globals())
    missing = {
        g
        for g in found
        if g not in allowed
        and g not in builtin
        and not g.startswith(('torch.', 'collections.OrderedDict'))
    }
    assert not missing, f'checkpoint globals not allow-listed: {missing}'


def test_resume_with_weights_only(trained_run):
    root, work, cfg = trained_run
    cfg = cfg.copy()
    cfg.train_cfg.max_epochs = 2
    cfg.resume = True
    cfg.load_from = os.path.join(work, 'epoch_1.pth')
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.epoch == 2
    assert os.path.exists(os.path.join(work, 'epoch_2.pth'))
    # resumed, not restarted: the optimizer state came from epoch 1
    ckpt = torch.load(os.path.join(work, 'epoch_2.pth'))
    assert ckpt['meta']['epoch'] == 2
    assert ckpt['meta']['iter'] == 4  # 2 epochs x 2 iters, continued


def test_mmdet_fpn_from_registry():
    from mmpretrain.registry import MODELS

    fpn = MODELS.build(
        dict(type='mmdet.FPN', in_channels=[4, 8], out_channels=4, num_outs=2)
    )
    assert type(fpn).__module__ == 'mmdet.models.necks.fpn'
    assert type(fpn) is compat.get_mmdet_fpn()
    if not compat.has_mmcv_ops():
        # the lite path loaded fpn.py under its real name
        import sys

        assert sys.modules['mmdet.models.necks.fpn'].FPN is type(fpn)


def test_persistent_workers_dropped_without_workers():
    from mmengine.runner import Runner
    from torch.utils.data import Dataset

    class DS(Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return i

    from mmpretrain.registry import DATASETS

    DATASETS.register_module('CompatTinyDS', module=DS, force=True)
    loader = Runner.build_dataloader(
        dict(
            batch_size=1,
            num_workers=0,
            persistent_workers=True,
            dataset=dict(type='CompatTinyDS'),
            sampler=dict(type='DefaultSampler', shuffle=False),
        )
    )
    assert list(loader) == [[0], [1]]
    assert loader.persistent_workers is False


def test_efficientnet_v2_train_returns_self():
    from mmpretrain.models.backbones import EfficientNetV2

    m = EfficientNetV2(arch='b0')
    assert m.eval() is m and m.train() is m and not m.train(False).training


def test_init_dist_on_cpu_uses_gloo(monkeypatch):
    """The patched init_dist skips cuda.set_device and picks gloo."""
    import mmengine.dist.utils as du

    calls = {}

    def fake_init(launcher, backend='nccl', **kw):
        torch.cuda.set_device(0)  # would raise on a machine without CUDA
        calls['backend'] = backend

    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    patched = compat._cpu_safe_init_dist(fake_init)
    patched('pytorch', 'nccl')
    assert calls['backend'] == 'gloo'
    assert getattr(du.init_dist, '__mmfashion_patched__', False)


def test_ddp_wrapper_drops_device_ids_for_cpu_module(monkeypatch):
    from mmengine.model.wrappers.distributed import MMDistributedDataParallel

    seen = {}

    def fake_ddp_init(self, module, **kwargs):
        seen.update(kwargs)

    monkeypatch.setattr(
        torch.nn.parallel.DistributedDataParallel, '__init__', fake_ddp_init
    )
    MMDistributedDataParallel(module=torch.nn.Linear(2, 2), device_ids=[0])
    assert seen['device_ids'] is None


def test_getattr_stand_in_only_resolves_history_buffer_methods(tmp_path):
    assert (
        compat.history_buffer_getattr(HistoryBuffer, 'mean')
        is HistoryBuffer.mean
    )

    class Sneaky:
        def __reduce__(self):
            # getattr(HistoryBuffer, '__init__') -> a function with globals
            return (getattr, (HistoryBuffer, '__init__'))

    p = tmp_path / 'sneaky.pth'
    torch.save({'x': Sneaky()}, p)
    with pytest.raises(pickle.UnpicklingError, match='refusing getattr'):
        torch.load(p)
