"""Training-time reliability: hooks and an exactly resumable loop.

Importing registers, into mmpretrain's registries, ``BadImageLoggerHook``,
``NonFiniteLossHook``, ``SchemaCheckHook``,
``ResumableEpochBasedTrainLoop``, ``ResumableSampler`` and
``SafeLoadImage`` (the configs' ``custom_hooks``, see
``configs/_base_/default_runtime.py``).
"""

from ..datasets.samplers.resumable_sampler import ResumableSampler
from ..datasets.transforms.load_image_tolerant import (
    BadImageError,
    SafeLoadImage,
)
from .hooks import *  # noqa: F401,F403
from .hooks import __all__ as _hooks_all
from .runner import *  # noqa: F401,F403
from .runner import __all__ as _runner_all

__all__ = [
    'BadImageError',
    'ResumableSampler',
    'SafeLoadImage',
    *_hooks_all,
    *_runner_all,
]
