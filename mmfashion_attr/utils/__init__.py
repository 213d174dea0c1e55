"""Package-wide utilities: upstream compatibility fixes, pickle-safe
checkpoint loading and the runner of mmpretrain's shipped tools."""

from . import checkpoint, compat
from .checkpoint import UnsafeCheckpointError, load_checkpoint_safely
from .mim_tools import mim_tools_dir, run_mim_tool
from .misc import get_test_pipeline_cfg

__all__ = [
    'UnsafeCheckpointError',
    'checkpoint',
    'compat',
    'get_test_pipeline_cfg',
    'load_checkpoint_safely',
    'mim_tools_dir',
    'run_mim_tool',
]
