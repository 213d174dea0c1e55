"""mmpretrain's shipped tools drive training of our configs."""

import glob
import json
import os
import os.path as osp
import subprocess
import sys

import mmpretrain
import pytest
from tinydata import REPO, make_tiny_catalog, write_tiny_config

MIM_TOOLS = osp.join(osp.dirname(mmpretrain.__file__), '.mim', 'tools')


def run(cmd, cwd, timeout=600, env=None):
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1', **(env or {}))
    env.pop('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', None)
    proc = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def last_scalars(work):
    files = glob.glob(osp.join(work, '*', 'vis_data', 'scalars.json'))
    assert files, f'no scalars.json under {work}'
    with open(files[0]) as f:
        return [json.loads(line) for line in f]


def test_stock_train_then_test_py(tmp_path):
    root = make_tiny_catalog(str(tmp_path), n=8)
    work = str(tmp_path / 'work')
    cfg = write_tiny_config(root, work, epochs=1)
    run([sys.executable, osp.join(MIM_TOOLS, 'train.py'), cfg], root)
    ckpt = osp.join(work, 'epoch_1.pth')
    assert osp.exists(ckpt)
    vals = [r for r in last_scalars(work) if 'attr/mean_micro_f1' in r]
    assert vals and 0 <= vals[-1]['attr/mean_micro_f1'] <= 1
    # closure is missing from every record: no key for it
    assert 'attr/closure/micro_f1' not in vals[-1]
    out = run(
        [
            sys.executable,
            osp.join(MIM_TOOLS, 'test.py'),
            cfg,
            ckpt,
            '--work-dir',
            str(tmp_path / 'test'),
        ],
        root,
    )
    assert 'attr/colour/micro_f1' in out


def test_project_train_py_resume_and_cfg_options(tmp_path):
    root = make_tiny_catalog(str(tmp_path), n=8)
    work = str(tmp_path / 'work')
    cfg = write_tiny_config(root, work, epochs=1)
    run([sys.executable, osp.join(REPO, 'tools', 'train.py'), cfg], root)
    out = run(
        [
            sys.executable,
            osp.join(REPO, 'tools', 'train.py'),
            cfg,
            '--resume',
            '--cfg-options',
            'train_cfg.max_epochs=2',
        ],
        root,
    )
    assert 'resumed epoch: 1' in out.lower() or 'resumed' in out.lower()
    assert osp.exists(osp.join(work, 'epoch_2.pth'))


def test_two_process_gloo_with_attribute_missing_from_every_batch(tmp_path):
    """DDP on CPU through the stock train.py; 'closure' has no label in any
    batch and find_unused_parameters stays off."""
    root = make_tiny_catalog(str(tmp_path), n=8, drop=('closure',))
    work = str(tmp_path / 'work')
    cfg = write_tiny_config(root, work, epochs=2, batch=2)
    with open(cfg) as f:
        assert 'find_unused_parameters' not in f.read()
    out = run(
        [
            sys.executable,
            '-m',
            'torch.distributed.run',
            '--nproc_per_node=2',
            '--master_port=29533',
            osp.join(MIM_TOOLS, 'train.py'),
            cfg,
            '--launcher',
            'pytorch',
        ],
        root,
    )
    assert 'Expected to have finished reduction' not in out
    assert osp.exists(osp.join(work, 'epoch_2.pth'))
    # and the project's dist_test.sh evaluates it with 2 processes
    out = run(
        [
            'bash',
            osp.join(REPO, 'tools', 'dist_test.sh'),
            cfg,
            osp.join(work, 'epoch_2.pth'),
            '2',
            '--work-dir',
            str(tmp_path / 'test'),
        ],
        root,
        env=dict(PYTHON=sys.executable, PORT='29534'),
    )
    assert 'attr/colour/micro_f1' in out
    assert 'world_size: 2' in out.replace('\n', ' ') or 'Distributed' in out


@pytest.mark.parametrize(
    'script',
    ['dist_train.sh', 'dist_test.sh', 'dist_launch.sh', 'slurm_train.sh'],
)
def test_shell_wrappers_are_valid_bash(script):
    subprocess.run(['bash', '-n', osp.join(REPO, 'tools', script)], check=True)
