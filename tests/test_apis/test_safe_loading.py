"""Checkpoints load with ``weights_only=True`` everywhere.

Guards against: mmengine loading ``http(s)://`` / ``torchvision://`` /
``open-mmlab://`` checkpoints (``load_from``, ``Pretrained`` init_cfg)
through ``torch.hub.load_state_dict_from_url``, whose default is
``weights_only=False``, so a crafted file runs its code (the control case
below shows it does with stock mmengine); a refusal that only says
"Weights only load failed ... use weights_only=False"; and fixing resume by
switching the protection off process-wide.
"""

import os
import os.path as osp
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from mmengine.runner.checkpoint import CheckpointLoader, load_checkpoint

from mmfashion_attr.utils.checkpoint import (
    UnsafeCheckpointError,
    install_safe_checkpoint_loaders,
    load_checkpoint_safely,
    safe_loaders_installed,
)
from tests.helpers.processes import MIM_TOOLS
from tests.helpers.tinydata import REPO, make_tiny_catalog, write_tiny_config


class Payload:
    """Unpickling runs ``touch <marker>``: harmless proof of execution."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}',))


def evil_checkpoint(path, marker, state_dict=None):
    torch.save(
        {'meta': {}, 'state_dict': state_dict or {}, 'x': Payload(marker)},
        path,
    )
    return str(path)


@pytest.fixture
def safe():
    install_safe_checkpoint_loaders()  # idempotent; the plugin does it too


def test_refusal_names_file_and_global(tmp_path):
    marker = tmp_path / 'pwned'
    path = evil_checkpoint(tmp_path / 'evil.pth', marker)
    with pytest.raises(UnsafeCheckpointError) as e:
        load_checkpoint_safely(path)
    msg = str(e.value)
    assert msg.startswith(f'{path}: checkpoint refused')
    assert e.value.refused == [f'{os.system.__module__}.system']
    assert 'system' in msg and 'trust' in msg
    assert 'weights_only=True' in msg
    assert isinstance(e.value, pickle.UnpicklingError)
    assert not marker.exists()


def test_refused_even_with_the_force_no_weights_only_env(
    tmp_path, monkeypatch
):
    monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    marker = tmp_path / 'pwned'
    with pytest.raises(UnsafeCheckpointError):
        load_checkpoint_safely(evil_checkpoint(tmp_path / 'e.pth', marker))
    assert not marker.exists()


def test_compat_getattr_stand_in_refusal_is_wrapped(tmp_path):
    from mmengine.logging import HistoryBuffer

    class Sneaky:
        def __reduce__(self):
            return (getattr, (HistoryBuffer, '__init__'))

    torch.save({'x': Sneaky()}, tmp_path / 's.pth')
    with pytest.raises(UnsafeCheckpointError, match='refusing getattr'):
        load_checkpoint_safely(str(tmp_path / 's.pth'))


def test_mmengine_load_checkpoint_and_load_from_refuse(root, safe):
    tmp_path = Path(root)
    marker = tmp_path / 'pwned'
    path = evil_checkpoint(tmp_path / 'evil.pth', marker)
    with pytest.raises(UnsafeCheckpointError, match='evil.pth: checkpoint'):
        load_checkpoint(torch.nn.Linear(1, 1), path)
    root = str(tmp_path / 'd')
    make_tiny_catalog(root, n=4)
    cfg = Config.fromfile(write_tiny_config(root, str(tmp_path / 'w')))
    cfg.load_from = path
    with pytest.raises(UnsafeCheckpointError):
        Runner.from_cfg(cfg).test()
    assert not marker.exists()


def test_https_checkpoint_is_loaded_weights_only(tmp_path, monkeypatch, safe):
    """A URL (load_from, Pretrained init_cfg) served from torch.hub's cache:
    stock mmengine unpickles it with weights_only=False."""
    hub = tmp_path / 'hub'
    os.makedirs(hub / 'checkpoints')
    monkeypatch.setattr(torch.hub, '_hub_dir', str(hub))
    marker = tmp_path / 'pwned'
    evil_checkpoint(hub / 'checkpoints' / 'evil.pth', marker)
    url = 'https://example.invalid/models/evil.pth'
    with pytest.raises(UnsafeCheckpointError) as e:
        CheckpointLoader.load_checkpoint(url)
    assert str(e.value).startswith(f'{url}: checkpoint refused')
    assert not marker.exists()
    # a plain weights file from a URL still loads
    torch.save(
        {'state_dict': {'w': torch.ones(2)}}, hub / 'checkpoints' / 'ok.pth'
    )
    ok = CheckpointLoader.load_checkpoint(
        'https://example.invalid/models/ok.pth'
    )
    assert torch.equal(ok['state_dict']['w'], torch.ones(2))


def test_stock_mmengine_url_loader_runs_the_payload(tmp_path, monkeypatch):
    """Control: the hole this closes (stock ``load_url``, no fix)."""
    from mmengine.utils.dl_utils import load_url

    assert not getattr(load_url, '__mmfashion_safe__', False)
    hub = tmp_path / 'hub'
    os.makedirs(hub / 'checkpoints')
    marker = tmp_path / 'pwned'
    evil_checkpoint(hub / 'checkpoints' / 'evil.pth', marker)
    load_url(
        'https://example.invalid/evil.pth', model_dir=str(hub / 'checkpoints')
    )
    assert marker.exists()


def test_own_checkpoints_load_and_resume(root, safe):
    """Checkpoints of a run with every reliability feature on (resumable
    loop, hooks) hold only allow-listed types; resume works."""
    tmp_path = Path(root)
    root = str(tmp_path / 'd')
    make_tiny_catalog(root, n=4)
    work = str(tmp_path / 'w')
    extra = (
        "custom_imports = dict(imports=['mmfashion_attr', "
        "'mmfashion_attr.engine'], allow_failed_imports=False)\n"
        'train_cfg = dict(_delete_=True, max_epochs=1, val_interval=1, '
        "type='ResumableEpochBasedTrainLoop')\n"
        "custom_hooks = [dict(type='NonFiniteLossHook'), "
        "dict(type='BadImageLoggerHook'), dict(type='SchemaCheckHook')]\n"
    )
    cfg = Config.fromfile(
        write_tiny_config(root, work, epochs=1, batch=2, extra=extra)
    )
    Runner.from_cfg(cfg).train()
    ckpt = osp.join(work, 'epoch_1.pth')
    assert torch.serialization.get_unsafe_globals_in_checkpoint(ckpt) == []
    loaded = load_checkpoint_safely(ckpt)
    assert loaded['meta']['epoch'] == 1 and 'optimizer' in loaded
    cfg = cfg.copy()
    cfg.train_cfg.max_epochs = 2
    cfg.resume = True
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.epoch == 2 and runner.iter == 4


DANGEROUS = {
    'builtins.eval',
    'builtins.exec',
    'builtins.compile',
    'builtins.__import__',
    'builtins.open',
    'builtins.setattr',
    'builtins.delattr',
    'os.system',
    'posix.system',
    'subprocess.Popen',
    'functools.partial',
    'operator.attrgetter',
    'operator.methodcaller',
    'pickle.loads',
    'importlib.import_module',
}


def test_protection_stays_on_process_wide(tmp_path, safe):
    assert 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD' not in os.environ
    assert safe_loaders_installed()
    names = set()
    for g in torch.serialization.get_safe_globals():
        obj, name = g if isinstance(g, tuple) else (g, None)
        assert obj is not getattr  # only compat's stand-in, under its name
        names.add(
            name
            or f'{getattr(obj, "__module__", "")}.'
            f'{getattr(obj, "__qualname__", "")}'
        )
    assert not names & DANGEROUS
    marker = tmp_path / 'pwned'
    with pytest.raises(pickle.UnpicklingError):
        torch.load(evil_checkpoint(tmp_path / 'e.pth', marker))
    assert not marker.exists()


def test_stock_test_py_refuses_with_a_clear_message(root):
    """Through mmpretrain's shipped tools/test.py, with only the plugin
    imported (custom_imports): the plugin installs the safe loaders."""
    tmp_path = Path(root)
    root = str(tmp_path / 'd')
    make_tiny_catalog(root, n=4)
    cfg = write_tiny_config(root, str(tmp_path / 'w'))
    marker = tmp_path / 'pwned'
    evil = evil_checkpoint(tmp_path / 'evil.pth', marker)
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    env.pop('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', None)
    proc = subprocess.run(
        [
            sys.executable,
            osp.join(MIM_TOOLS, 'test.py'),
            cfg,
            evil,
            '--work-dir',
            str(tmp_path / 't'),
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert not marker.exists()
    assert 'UnsafeCheckpointError' in out and 'checkpoint refused' in out
    assert f'{os.system.__module__}.system' in out


def test_one_allow_list_for_checkpoints_and_prediction_pickles(tmp_path):
    """The plain-pickle loader (prediction dumps) and torch's weights_only
    loader share the allow-list of mmfashion_attr.utils.checkpoint."""
    import numpy as np
    from mmengine.logging import HistoryBuffer

    from mmfashion_attr.utils.checkpoint import (
        TENSOR_PICKLE_GLOBALS,
        allowed_global_names,
        checkpoint_globals,
        load_pickle_safely,
    )

    names = allowed_global_names()
    registered = {
        f'{g.__module__}.{g.__qualname__}'
        for g in torch.serialization.get_safe_globals()
        if not isinstance(g, tuple)
    }
    for g in checkpoint_globals():
        name = f'{g.__module__}.{g.__qualname__}'
        assert name in names and name in registered
    assert set(TENSOR_PICKLE_GLOBALS) <= names
    data = dict(
        pred_score=torch.rand(3),
        gt_attr=torch.tensor([1, 0, 1], dtype=torch.uint8),
        arr=np.arange(3),
        buf=HistoryBuffer([1.0, 2.0], [1, 1]),
    )
    path = tmp_path / 'ok.pkl'
    path.write_bytes(pickle.dumps([data], protocol=2))  # as mmengine.dump
    loaded = load_pickle_safely(str(path))[0]
    assert torch.equal(loaded['pred_score'], data['pred_score'])
    assert loaded['buf'].mean() == 1.5
    evil = tmp_path / 'evil.pkl'
    marker = tmp_path / 'pwned'
    evil.write_bytes(pickle.dumps([Payload(marker)]))
    with pytest.raises(pickle.UnpicklingError, match='refusing'):
        load_pickle_safely(str(evil))
    assert not marker.exists()
