"""Each upstream workaround in mmfashion_attr.utils.compat, tested: the
fix itself, its version guard on both sides, and the silenced warning."""

import glob
import io
import json
import os
import os.path as osp
import pickle
import pickletools

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner import Runner

from mmfashion_attr.utils import compat
from tests.helpers.processes import free_port, python
from tests.helpers.tinydata import REPO, make_tiny_catalog, write_tiny_config


def test_all_fixes_applied_on_import():
    assert set(compat.applied_fixes()) == {
        'allow_mmengine_checkpoint_globals',
        'get_mmdet_fpn',
        'patch_cpu_distributed',
        'patch_persistent_workers',
        'patch_efficientnet_v2_train',
        'secure_checkpoint_loading',
        'settle_gloo_workers_at_exit',
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
    (re-derives the list of mmfashion_attr.utils.checkpoint)."""
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


# ---------------------------------------------- gloo worker threads at exit
def test_thread_states_reads_proc_stat_lines(tmp_path):
    """proc(5): ``tid (comm) state ...``; comm may hold spaces and ')'."""
    lines = {
        '101': '101 (pt_gloo_runloop) S 1 100 100 0 -1',
        '102': '102 (pt_gloo_runloop) R 1 100 100 0 -1',
        '103': '103 (python) S 1 100 100 0 -1',
        '104': '104 (pt_gloo_runloop) x) R 1 100 100 0 -1',
        '105': None,  # the thread ended between listdir and open
    }
    for tid, line in lines.items():
        os.makedirs(tmp_path / tid)
        if line is not None:
            (tmp_path / tid / 'stat').write_text(line + '\n')
    states = compat.thread_states(task_dir=str(tmp_path))
    assert sorted(states) == ['R', 'S']
    assert compat.thread_states('pt_gloo_runloop) x', str(tmp_path)) == ['R']
    assert compat.thread_states(task_dir=str(tmp_path / 'missing')) == []


def test_wait_until_idle_needs_consecutive_sleeping_readings():
    readings = iter(
        [['R', 'S'], ['S', 'S'], ['S', 'R'], ['S', 'S'], [], ['S', 'S']]
    )
    calls = []

    def read():
        calls.append(1)
        return next(readings)

    assert compat.wait_until_idle(read, interval=0, settle=3)
    # readings 4, 5 and 6 are the first three idle ones in a row
    assert len(calls) == 6
    busy = compat.wait_until_idle(
        lambda: ['R'], interval=0.001, settle=2, timeout=0.05
    )
    assert busy is False


# A gloo process whose last collectives are still running on the worker
# threads when the script ends: without the exit handler the interpreter
# finalizes while the workers need the GIL, and the process aborts with
# "terminate called without an active exception" (SIGABRT). The observer is
# registered before the plugin's handler, so it runs after it.
GLOO_EXIT_SCRIPT = """
import atexit, json, os, sys
import torch
import torch.distributed as dist

def observe():
    from mmfashion_attr.utils import compat
    print(json.dumps(dict(compat._EXIT_RESULT)), flush=True)

atexit.register(observe)
from mmfashion_attr.utils import compat  # noqa: E402

before = compat.thread_states()
os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=sys.argv[1])
dist.init_process_group('gloo', rank=0, world_size=1)
import time  # noqa: E402
deadline = time.monotonic() + 10  # the workers name themselves once started
while not compat.thread_states() and time.monotonic() < deadline:
    time.sleep(0.01)
print(json.dumps(dict(before=before, after=compat.thread_states())))
for _ in range(50):
    dist.all_gather([torch.zeros(100000)], torch.ones(100000), async_op=True)
"""


@pytest.mark.dist
def test_gloo_process_exits_cleanly_with_work_in_flight(tmp_path):
    script = tmp_path / 'gloo_exit.py'
    script.write_text(GLOO_EXIT_SCRIPT)
    for _ in range(2):
        rc, out, err = python(str(script), str(free_port()), check=False)
        assert rc == 0 and 'terminate called' not in err, err[-2000:]
        threads, result = [json.loads(line) for line in out.splitlines()]
        # the worker threads exist under the name the handler watches
        assert threads['before'] == [] and len(threads['after']) >= 1
        assert result == {'idle': True}


# ------------------------------------------------------------ version guards
def test_every_fix_is_guarded_and_in_range_here():
    assert [f.__name__ for f in compat.FIXES] == list(compat.FIX_REQUIREMENTS)
    for name, requires in compat.FIX_REQUIREMENTS.items():
        assert requires, name
        assert compat.version_mismatches(requires) == [], name
    assert compat.skipped_fixes() == {}


def test_version_specs():
    ok = compat.version_satisfies
    assert ok('2.14.1+cu130', '>=2.6') and not ok('2.5.1', '>=2.6')
    assert ok('2.1.0', '>=2.1.0,<2.2.0') and ok('2.1.9', '>=2.1.0,<2.2.0')
    assert not ok('2.2.0', '>=2.1.0,<2.2.0')
    assert not ok('2.0.1', '>=2.1.0,<2.2.0')
    assert ok('0.10.7', '==0.10.7') and not ok('0.10.8', '==0.10.7')
    assert compat.version_mismatches({'no-such-package-xyz': '==1.0'}) == [
        'no-such-package-xyz not installed (needs ==1.0)'
    ]


@pytest.fixture
def versions(monkeypatch):
    """Fresh fix bookkeeping and a way to pretend other versions are
    installed (restored after the test)."""
    monkeypatch.setattr(compat, '_APPLIED', [])
    monkeypatch.setattr(compat, '_SKIPPED', {})
    monkeypatch.setattr(compat, '_RESULTS', {})
    real = compat.installed_version

    def pretend(**installed):
        monkeypatch.setattr(
            compat,
            'installed_version',
            lambda package: installed.get(package, real(package)),
        )

    return pretend


@pytest.fixture
def efficientnet_v2(monkeypatch):
    from mmpretrain.models.backbones.efficientnet_v2 import EfficientNetV2

    monkeypatch.setattr(EfficientNetV2, 'train', EfficientNetV2.train)
    return EfficientNetV2


def test_fix_outside_its_versions_is_skipped_with_a_warning(
    versions, efficientnet_v2
):
    before = efficientnet_v2.train
    versions(mmpretrain='1.3.0')
    with pytest.warns(
        compat.CompatWarning,
        match=r'patch_efficientnet_v2_train .*mmpretrain 1\.3\.0 '
        r'\(needs ==1\.2\.0\).*Not applied',
    ):
        assert compat.patch_efficientnet_v2_train() is None
    assert efficientnet_v2.train is before  # untouched
    assert 'patch_efficientnet_v2_train' in compat.skipped_fixes()
    assert compat.applied_fixes() == []


def test_fix_inside_its_versions_is_applied(versions, efficientnet_v2):
    import warnings

    before = efficientnet_v2.train
    versions(mmpretrain='1.2.0')
    with warnings.catch_warnings():
        warnings.simplefilter('error', compat.CompatWarning)
        compat.patch_efficientnet_v2_train()
    assert efficientnet_v2.train is not before
    assert compat.applied_fixes() == ['patch_efficientnet_v2_train']
    m = efficientnet_v2(arch='b0')
    assert m.eval() is m


def test_mmdet_fpn_outside_its_versions_falls_back_to_the_import(versions):
    import sys

    versions(mmdet='3.4.0')
    with pytest.warns(compat.CompatWarning, match='get_mmdet_fpn'):
        fpn = compat.get_mmdet_fpn()
    assert fpn is sys.modules['mmdet.models.necks.fpn'].FPN


def test_required_fix_outside_its_versions_fails_loudly(versions):
    versions(mmengine='0.11.0')
    with pytest.raises(
        compat.IncompatibleVersionError,
        match=r'secure_checkpoint_loading .*mmengine 0\.11\.0.*unsafe',
    ):
        compat.secure_checkpoint_loading()
    versions(mmengine='0.10.7', torch='2.5.1')
    with pytest.warns(compat.CompatWarning, match='torch 2.5.1'):
        assert compat.allow_mmengine_checkpoint_globals() is None
    compat.secure_checkpoint_loading()  # in range again: applied
    assert compat.applied_fixes() == ['secure_checkpoint_loading']


# ----------------------------------------------------------------- warnings
def test_mmcv_lite_warning_silenced_and_only_it():
    """Importing the plugin prints no MultiScaleDeformableAttention warning
    (mmcv-lite); other warnings of the same module still show."""
    code = (
        'import warnings, mmfashion_attr; '
        "warnings.warn_explicit('another warning', UserWarning, "
        "'transformer.py', 1, module='mmcv.cnn.bricks.transformer')"
    )
    _, _, err = python('-c', code)
    assert 'MultiScaleDeformableAttention' not in err
    assert 'another warning' in err
    if not compat.has_mmcv_ops():  # control: mmcv-lite alone warns
        _, _, err = python('-c', 'import mmcv.cnn.bricks.transformer')
        assert 'Fail to import ``MultiScaleDeformableAttention``' in err


TOOL_SCRIPTS = sorted(
    osp.relpath(p, REPO)
    for p in glob.glob(osp.join(REPO, 'tools', '**', '*.py'), recursive=True)
    if osp.basename(p) != '__init__.py'
    and osp.join('tools', 'common') not in p
)


def test_no_tool_prints_the_mmcv_lite_warning():
    assert len(TOOL_SCRIPTS) >= 12
    for script in TOOL_SCRIPTS:
        _, out, err = python(script, '--help', cwd=REPO)
        assert 'usage' in out.lower(), script
        assert 'MultiScaleDeformableAttention' not in err, script
