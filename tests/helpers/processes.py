"""Running tools in subprocesses: mmpretrain's shipped tools, free ports
for ``torch.distributed`` and the environment every launch gets."""

import os
import os.path as osp
import socket
import subprocess
import sys

import mmpretrain

from .tinydata import REPO

MIM_TOOLS = osp.join(osp.dirname(mmpretrain.__file__), '.mim', 'tools')


def free_port() -> int:
    """A TCP port free on localhost right now."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def torchrun(script: str, cfg: str, *args: str, nproc: int = 2) -> list:
    """The command line of a shipped tool ``script`` run on ``cfg`` by
    ``torch.distributed.run`` with ``nproc`` processes on this machine."""
    return [
        sys.executable,
        '-m',
        'torch.distributed.run',
        f'--nproc_per_node={nproc}',
        f'--master_port={free_port()}',
        script,
        cfg,
        '--launcher',
        'pytorch',
        *args,
    ]


def tool_env(**extra) -> dict:
    """The environment of a launched tool: the repository importable, one
    OpenMP thread, and torch's ``weights_only`` protection left on."""
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1', **extra)
    env.pop('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', None)
    return env


def run(cmd, cwd=None, timeout=600, env=None, check=True):
    """Run ``cmd``; returns ``(returncode, stdout, stderr)``; with ``check``
    a non-zero status fails the test with the output's tail."""
    proc = subprocess.run(
        cmd,
        cwd=cwd,
        env=tool_env(**(env or {})),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check:
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.returncode, proc.stdout, proc.stderr


def python(*args, **kwargs):
    """:func:`run` of ``python ARGS`` with this interpreter."""
    return run([sys.executable, *args], **kwargs)
