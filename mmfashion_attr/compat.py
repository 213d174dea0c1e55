"""Every workaround for the unmaintained OpenMMLab stack, in one place.

The OpenMMLab packages pinned by this project (mmengine 0.10.7, mmcv-lite
2.1.0, mmpretrain 1.2.0, mmdet 3.3.0) have had no release since 2024 and
break on torch 2.14. :func:`apply_all` is called when :mod:`mmfashion_attr`
is imported (configs import it through ``custom_imports``) and applies each
fix exactly once. Each fix is a small, named function with the upstream
reference it works around, and each has a test in ``tests/test_compat.py``.

Fixes:

1. :func:`allow_mmengine_checkpoint_globals` - torch >= 2.6 loads with
   ``weights_only=True`` and mmengine 0.10.7 saves full-training checkpoints
   (message hub, history buffers, numpy scalars) that the restricted
   unpickler refuses (mmengine#1655, PR#1650, fixed on main by #1670, never
   released). We allow-list exactly the types those checkpoints contain,
   keeping ``weights_only`` protection on. A malicious checkpoint is still
   refused.
2. :func:`get_mmdet_fpn` - ``import mmdet.models`` needs ``mmcv._ext``,
   which mmcv-lite lacks, so ``type='mmdet.FPN'`` fails. ``fpn.py`` itself
   only needs ``mmcv.cnn``, so with mmcv-lite it is loaded by file path
   under its real module name and registered into mmdet's own registry. With
   a compiled mmcv the normal import is used.
3. :func:`patch_cpu_distributed` - mmengine's ``init_dist`` calls
   ``torch.cuda.set_device`` unconditionally and defaults to NCCL; its
   runner wraps the model in DDP with ``device_ids=[local_rank]``. On a
   machine without a GPU we skip ``set_device``, fall back to ``gloo`` and
   drop ``device_ids`` for CPU modules (ENVIRONMENT.md item 4).
4. :func:`patch_persistent_workers` - the stock ``tools/train.py`` forces
   ``persistent_workers=True`` which torch rejects when ``num_workers=0``.
5. :func:`patch_efficientnet_v2_train` - ``EfficientNetV2.train()`` returns
   ``None`` instead of ``self`` (mmpretrain 1.2.0), so ``model.eval()``
   chains break.
6. :func:`secure_checkpoint_loading` - mmengine loads URL checkpoints
   through ``torch.hub.load_state_dict_from_url`` with its default
   ``weights_only=False``; every scheme now loads with ``weights_only=True``
   and a refusal names the file and the refused globals.

Not fixable in code and handled by configuration instead (see README):
by-epoch schedulers store ``end=max_epochs`` of the first run, so our
configs always set ``end`` explicitly.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import pickle
import sys
import warnings
from typing import Callable, List

import torch

_APPLIED: List[str] = []


def _once(func: Callable[[], object]) -> Callable[[], object]:
    """Run a patch function only once per process, recording its name."""
    result: list = []

    @functools.wraps(func)
    def wrapper():
        if not result:
            result.append(func())
            _APPLIED.append(func.__name__)
        return result[0]

    return wrapper


def applied_fixes() -> List[str]:
    """Names of the fixes applied so far in this process."""
    return list(_APPLIED)


# ---------------------------------------------------------------------------
# 1. weights_only loading of mmengine checkpoints (mmengine#1655)
# ---------------------------------------------------------------------------
def mmengine_checkpoint_globals() -> list:
    """The exact non-tensor globals that an mmengine 0.10.7 checkpoint holds.

    Found by pickling the checkpoints of a full training run (message hub
    with :class:`HistoryBuffer` objects, numpy scalars and arrays in log
    buffers, dtypes) and listing every ``GLOBAL`` opcode
    (``tests/test_compat.py`` re-checks this on a fresh run).
    """
    import numpy as np
    from mmengine.logging.history_buffer import HistoryBuffer

    try:  # numpy >= 2
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core.multiarray import _reconstruct, scalar

    dtype_classes = [
        type(np.dtype(t))
        for t in (
            np.float64,
            np.float32,
            np.float16,
            np.int64,
            np.int32,
            np.int16,
            np.int8,
            np.uint8,
            np.bool_,
        )
    ]
    return [
        HistoryBuffer,
        _reconstruct,
        scalar,
        np.ndarray,
        np.dtype,
        *dtype_classes,
    ]


def history_buffer_getattr(obj, name: str):
    """A ``builtins.getattr`` that only resolves HistoryBuffer statistics.

    A :class:`HistoryBuffer` pickles its statistics methods as
    ``getattr(HistoryBuffer, 'mean')``. Allowing the real ``getattr`` would
    let a crafted checkpoint walk attributes of any allowed object; this
    stand-in is registered under the name ``builtins.getattr`` for
    ``weights_only`` loading and refuses everything else.
    """
    from mmengine.logging.history_buffer import HistoryBuffer

    if (
        obj is HistoryBuffer
        and isinstance(name, str)
        and (
            name in HistoryBuffer._statistics_methods
            or name in ('min', 'max', 'mean', 'current')
        )
    ):
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'mmfashion_attr: refusing getattr({obj!r}, {name!r}) in a '
        'weights_only checkpoint (only HistoryBuffer statistics methods '
        'are allowed)'
    )


@_once
def allow_mmengine_checkpoint_globals() -> list:
    """Allow-list mmengine checkpoint types for ``torch.load(weights_only)``.

    Only the listed classes become loadable, plus
    :func:`history_buffer_getattr` in place of ``builtins.getattr``;
    arbitrary callables (``os.system``, ``builtins.eval``...) stay
    forbidden, so a malicious pickle is still refused by torch.
    """
    safe = mmengine_checkpoint_globals()
    torch.serialization.add_safe_globals(
        safe + [(history_buffer_getattr, 'builtins.getattr')]
    )
    return safe


# ---------------------------------------------------------------------------
# 2. mmdet's FPN with mmcv-lite
# ---------------------------------------------------------------------------
def has_mmcv_ops() -> bool:
    """Whether a compiled mmcv (with ``mmcv._ext``) is installed."""
    return importlib.util.find_spec('mmcv._ext') is not None


@_once
def get_mmdet_fpn() -> type:
    """Return mmdet's own ``FPN`` class and make ``type='mmdet.FPN'`` work.

    With compiled mmcv this is a plain import. With mmcv-lite,
    ``mmdet/models/necks/fpn.py`` is executed on its own (its imports are
    ``mmcv.cnn``, ``mmengine``, ``mmdet.registry`` and ``mmdet.utils``), under
    its real module name ``mmdet.models.necks.fpn``; its decorator registers
    the class in mmdet's ``MODELS`` registry. mmdet's registry is then marked
    as imported so that a lookup does not try ``import mmdet.models`` (which
    would fail on ``mmcv._ext``); with mmcv-lite only the FPN is available
    from mmdet, which is all this project needs.
    """
    if has_mmcv_ops():
        from mmdet.models.necks.fpn import FPN

        return FPN

    name = 'mmdet.models.necks.fpn'
    module = sys.modules.get(name)
    if module is None:
        import mmdet

        path = os.path.join(
            os.path.dirname(mmdet.__file__), 'models', 'necks', 'fpn.py'
        )
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception:
            del sys.modules[name]
            raise
    from mmdet.registry import MODELS as MMDET_MODELS

    MMDET_MODELS._imported = True
    return module.FPN


# ---------------------------------------------------------------------------
# 3. Multi-process training on CPU (gloo)
# ---------------------------------------------------------------------------
def _cpu_safe_init_dist(init_dist: Callable) -> Callable:

    @functools.wraps(init_dist)
    def wrapper(launcher, backend='nccl', *args, **kwargs):
        if torch.cuda.is_available():
            return init_dist(launcher, backend, *args, **kwargs)
        if backend == 'nccl':
            warnings.warn(
                'mmfashion_attr.compat: no CUDA device, using the '
                "'gloo' backend instead of 'nccl'."
            )
            backend = 'gloo'
        original = torch.cuda.set_device
        torch.cuda.set_device = lambda *a, **k: None
        try:
            return init_dist(launcher, backend, *args, **kwargs)
        finally:
            torch.cuda.set_device = original

    wrapper.__mmfashion_patched__ = True
    return wrapper


@_once
def patch_cpu_distributed() -> None:
    """Let mmengine's distributed launch and DDP wrapper run on CPU."""
    import mmengine.dist
    import mmengine.dist.utils as dist_utils
    import mmengine.runner.runner as runner_mod
    from mmengine.model.wrappers.distributed import MMDistributedDataParallel

    patched = _cpu_safe_init_dist(dist_utils.init_dist)
    dist_utils.init_dist = patched
    mmengine.dist.init_dist = patched
    runner_mod.init_dist = patched

    original_init = MMDistributedDataParallel.__init__

    @functools.wraps(original_init)
    def ddp_init(self, module, *args, **kwargs):
        params = list(module.parameters())
        if (
            kwargs.get('device_ids')
            and params
            and (params[0].device.type == 'cpu')
        ):
            # DDP requires device_ids=None for CPU modules.
            kwargs['device_ids'] = None
        original_init(self, module, *args, **kwargs)

    MMDistributedDataParallel.__init__ = ddp_init


# ---------------------------------------------------------------------------
# 4. persistent_workers with num_workers=0
# ---------------------------------------------------------------------------
@_once
def patch_persistent_workers() -> None:
    """Drop ``persistent_workers=True`` when a dataloader has no workers."""
    from mmengine.runner import Runner

    original = Runner.build_dataloader

    def build_dataloader(dataloader, *args, **kwargs):
        if (
            isinstance(dataloader, dict)
            and not dataloader.get('num_workers', 0)
            and dataloader.get('persistent_workers')
        ):
            dataloader = type(dataloader)(dataloader)
            dataloader['persistent_workers'] = False
        return original(dataloader, *args, **kwargs)

    Runner.build_dataloader = staticmethod(build_dataloader)


# ---------------------------------------------------------------------------
# 5. EfficientNetV2.train() returns None
# ---------------------------------------------------------------------------
@_once
def patch_efficientnet_v2_train() -> None:
    """Make ``EfficientNetV2.train()`` return ``self`` like ``nn.Module``."""
    from mmpretrain.models.backbones.efficientnet_v2 import EfficientNetV2

    original = EfficientNetV2.train

    @functools.wraps(original)
    def train(self, mode: bool = True):
        original(self, mode)
        return self

    EfficientNetV2.train = train


# ---------------------------------------------------------------------------
# 6. weights_only=True for every mmengine checkpoint scheme, URLs included
# ---------------------------------------------------------------------------
@_once
def secure_checkpoint_loading() -> None:
    """Load every mmengine checkpoint with ``weights_only=True``.

    mmengine 0.10.7 reads ``http(s)://``, ``torchvision://``,
    ``open-mmlab://`` and ``mmcls://`` checkpoints (``load_from``,
    ``Pretrained`` init_cfg) with ``torch.hub.load_state_dict_from_url``,
    whose default is still ``weights_only=False``: a crafted file would run
    its code. Every scheme now loads with an explicit ``weights_only=True``
    and a refusal names the file and the refused globals
    (:mod:`mmfashion_attr.apis.safe_load`).
    """
    from .apis.safe_load import install_safe_checkpoint_loaders

    install_safe_checkpoint_loaders()


def apply_all() -> List[str]:
    """Apply every fix (idempotent) and return the names applied."""
    allow_mmengine_checkpoint_globals()
    get_mmdet_fpn()
    patch_cpu_distributed()
    patch_persistent_workers()
    patch_efficientnet_v2_train()
    secure_checkpoint_loading()
    return applied_fixes()


__all__ = [
    'apply_all',
    'applied_fixes',
    'allow_mmengine_checkpoint_globals',
    'history_buffer_getattr',
    'mmengine_checkpoint_globals',
    'get_mmdet_fpn',
    'has_mmcv_ops',
    'patch_cpu_distributed',
    'secure_checkpoint_loading',
    'patch_persistent_workers',
    'patch_efficientnet_v2_train',
]
