"""Corrupted checkpoints: verified before they are loaded, and resume falls
back to the newest intact one; non-finite weights and optimizer state are
refused at load and caught during training.

Guards against: a bit flipped on disk resuming silently and training to a
loss of 1e22 (torch does not check the zip CRCs), a checkpoint truncated by
a kill stopping the run with an unzip error although an older one is
intact, an empty ``last_checkpoint`` giving ``FileNotFoundError:  can not
be found.``, and non-finite optimizer state going unnoticed because only
the loss is checked.
"""

import os
import os.path as osp
import zipfile

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmfashion_attr.engine import (
    NoCheckpointToResumeError,
    choose_resume_checkpoint,
)
from mmfashion_attr.utils.checkpoint import (
    CorruptCheckpointError,
    load_checkpoint_safely,
    verify_checkpoint_archive,
)
from tests.helpers.tinydata import make_tiny_catalog, write_tiny_config


def flip_a_byte(path, member_suffix='data/0'):
    """Flip one byte inside a stored tensor of a torch zip archive (the
    archive stays a valid zip; only the CRC tells)."""
    with zipfile.ZipFile(path) as z:
        info = next(
            i for i in z.infolist() if i.filename.endswith(member_suffix)
        )
    with open(path, 'r+b') as f:
        f.seek(info.header_offset + 26)
        name_len = int.from_bytes(f.read(2), 'little')
        extra_len = int.from_bytes(f.read(2), 'little')
        offset = info.header_offset + 30 + name_len + extra_len + 3
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0x40]))


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """Two epochs of the tiny config: epoch_1.pth, epoch_2.pth."""
    root = str(tmp_path_factory.mktemp('ck'))
    make_tiny_catalog(root, n=4)
    cfg = config(root, 'work', epochs=2)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    Runner.from_cfg(cfg).train()
    torch.set_num_threads(threads)
    return root


def config(root, name, epochs=3, hooks=None, resume=False, extra=''):
    hooks = hooks or [
        dict(type='CheckpointIntegrityHook'),
        dict(type='NonFiniteStateHook', interval=1),
    ]
    text = (
        "custom_imports = dict(imports=['mmfashion_attr', "
        "'mmfashion_attr.engine'], allow_failed_imports=False)\n"
        f'custom_hooks = {hooks!r}\n'
        f'train_cfg = dict(max_epochs={epochs}, val_interval=100)\n' + extra
    )
    cfg = Config.fromfile(
        write_tiny_config(
            root, osp.join(root, name), epochs=epochs, batch=2, extra=text
        )
    )
    cfg.resume = resume
    cfg.experiment_name = f'{name}-{epochs}-{resume}'
    return cfg


def work_copy(trained, name, tmp_path):
    """A copy of the trained work dir (the tests damage it)."""
    import shutil

    src, dst = osp.join(trained, 'work'), str(tmp_path / name)
    shutil.copytree(src, dst)
    with open(osp.join(dst, 'last_checkpoint'), 'w') as f:
        f.write(osp.join(dst, 'epoch_2.pth'))
    return dst


def resume(trained, work_dir, **kw):
    cfg = config(trained, 'unused', resume=True, **kw)
    cfg.work_dir = work_dir
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


# ------------------------------------------------------------------ unit
def test_bit_flip_and_truncation_are_detected(trained, tmp_path):
    src = osp.join(trained, 'work', 'epoch_2.pth')
    assert verify_checkpoint_archive(src) is True
    flipped = tmp_path / 'flipped.pth'
    flipped.write_bytes(open(src, 'rb').read())
    flip_a_byte(str(flipped))
    torch.load(flipped, weights_only=False)  # torch loads it silently
    with pytest.raises(CorruptCheckpointError, match='fails its CRC check'):
        load_checkpoint_safely(str(flipped))
    truncated = tmp_path / 'truncated.pth'
    data = open(src, 'rb').read()
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptCheckpointError, match='truncated'):
        load_checkpoint_safely(str(truncated))
    empty = tmp_path / 'empty.pth'
    empty.write_bytes(b'')
    with pytest.raises(CorruptCheckpointError, match='empty file'):
        verify_checkpoint_archive(str(empty))


def test_resume_choice(trained, tmp_path):
    work = work_copy(trained, 'w', tmp_path)
    ep1, ep2 = osp.join(work, 'epoch_1.pth'), osp.join(work, 'epoch_2.pth')
    assert choose_resume_checkpoint(work) == (ep2, [])
    flip_a_byte(ep2)
    path, warnings = choose_resume_checkpoint(work)
    assert path == ep1
    assert 'fails its CRC check' in warnings[0] and ep1 in warnings[0]
    with open(osp.join(work, 'last_checkpoint'), 'w'):
        pass  # empty, as after a kill while mmengine wrote it
    path, warnings = choose_resume_checkpoint(work)
    assert path == ep1 and 'last_checkpoint is empty' in warnings[0]
    os.remove(ep1)
    with pytest.raises(NoCheckpointToResumeError, match='no other intact'):
        choose_resume_checkpoint(work)
    os.remove(osp.join(work, 'last_checkpoint'))  # never saved: fresh start
    assert choose_resume_checkpoint(work) == (None, [])


# ----------------------------------------------------- through the runner
def test_resume_falls_back_to_the_newest_intact_checkpoint(trained, tmp_path):
    work = work_copy(trained, 'fallback', tmp_path)
    flip_a_byte(osp.join(work, 'epoch_2.pth'))
    runner = resume(trained, work)
    log = open(runner.logger.log_file).read()
    assert 'fails its CRC check' in log
    assert f'resuming from the newest intact checkpoint {work}' in log
    assert 'resumed epoch: 1, iter: 2' in log
    assert runner.epoch == 3


def test_empty_last_checkpoint_without_intact_checkpoint(trained, tmp_path):
    work = work_copy(trained, 'empty', tmp_path)
    for name in ('epoch_1.pth', 'epoch_2.pth'):
        with open(osp.join(work, name), 'r+b') as f:
            f.truncate(1000)
    with open(osp.join(work, 'last_checkpoint'), 'w'):
        pass
    with pytest.raises(NoCheckpointToResumeError) as e:
        resume(trained, work)
    assert 'last_checkpoint is empty' in str(e.value)
    assert 'Start without --resume' in str(e.value)


def test_explicit_corrupt_checkpoint_is_refused(trained, tmp_path):
    work = work_copy(trained, 'explicit', tmp_path)
    target = osp.join(work, 'epoch_2.pth')
    flip_a_byte(target)
    with pytest.raises(CorruptCheckpointError, match='cannot resume from it'):
        resume(trained, work, extra=f'load_from = {target!r}\n')


def test_non_finite_optimizer_state_refused_at_load(trained, tmp_path):
    work = work_copy(trained, 'nan', tmp_path)
    ckpt = torch.load(osp.join(work, 'epoch_2.pth'), weights_only=False)
    state = next(iter(ckpt['optimizer']['state'].values()))
    state['exp_avg_sq'].view(-1)[0] = float('inf')
    torch.save(ckpt, osp.join(work, 'epoch_2.pth'))
    with pytest.raises(FloatingPointError) as e:
        resume(trained, work)
    assert 'epoch_2.pth: the checkpoint holds non-finite values' in str(
        e.value
    )
    assert 'exp_avg_sq (1 of' in str(e.value)


class BreakWeights(Hook):
    """Make one weight NaN after iteration 2 (the loss stays finite until
    the next forward pass)."""

    priority = 'HIGHEST'

    def after_train_iter(
        self, runner, batch_idx, data_batch=None, outputs=None
    ):
        if runner.iter == 1:
            model = runner.model
            with torch.no_grad():
                model.head.branches[0].fc_out.bias[0] = float('nan')


def test_non_finite_weights_caught_during_training(trained, tmp_path):
    cfg = config(trained, 'during', epochs=1)
    runner = Runner.from_cfg(cfg)
    runner.register_hook(BreakWeights())
    with pytest.raises(FloatingPointError) as e:
        runner.train()
    assert 'non-finite training state at epoch 1, after iteration 2' in str(
        e.value
    )
    assert 'head.branches.0.fc_out.bias (1 of 2)' in str(e.value)
