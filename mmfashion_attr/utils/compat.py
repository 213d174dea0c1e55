"""Every workaround for the unmaintained OpenMMLab stack, in one place.

The OpenMMLab packages this project pins (mmengine 0.10.7, mmcv-lite
2.1.0, mmpretrain 1.2.0, mmdet 3.3.0) have had no release since 2024 and
break on recent torch. :func:`apply_all` runs when :mod:`mmfashion_attr` is
imported (configs import it through ``custom_imports``) and applies each
fix exactly once. Each fix is a small, named function with the upstream
reference it works around and the versions it was written for
(:data:`FIX_REQUIREMENTS`). Outside those versions a fix is skipped with a
:class:`CompatWarning`, except :func:`secure_checkpoint_loading`: running
without it would load URL checkpoints with ``weights_only=False``, so an
unknown mmengine raises :class:`IncompatibleVersionError` instead.

Fixes:

1. :func:`allow_mmengine_checkpoint_globals` - torch >= 2.6 loads with
   ``weights_only=True`` and mmengine 0.10.7 saves full-training checkpoints
   (message hub, history buffers, numpy scalars) that the restricted
   unpickler refuses (mmengine#1655, PR#1650, fixed on main by #1670, never
   released). The exact types those checkpoints contain are allow-listed
   (:mod:`mmfashion_attr.utils.checkpoint`), keeping ``weights_only``
   protection on: a malicious checkpoint is still refused.
2. :func:`get_mmdet_fpn` - ``import mmdet.models`` needs ``mmcv._ext``,
   which mmcv-lite lacks, so ``type='mmdet.FPN'`` fails. ``fpn.py`` itself
   only needs ``mmcv.cnn``, so with mmcv-lite it is loaded by file path
   under its real module name and registered into mmdet's own registry. With
   a compiled mmcv the normal import is used.
3. :func:`patch_cpu_distributed` - mmengine's ``init_dist`` calls
   ``torch.cuda.set_device`` unconditionally and defaults to NCCL
   (``mmengine/dist/utils.py``, ``_init_dist_pytorch``); its runner wraps
   the model in DDP with ``device_ids=[local_rank]``
   (``Runner.wrap_model``). On a machine without a GPU, ``set_device`` is
   skipped, the backend falls back to ``gloo`` and ``device_ids`` is
   dropped for CPU modules.
4. :func:`patch_persistent_workers` - the stock ``tools/train.py`` of
   mmpretrain 1.2.0 (``merge_args``, ``default_dataloader_cfg``) forces
   ``persistent_workers=True``, which torch's ``DataLoader`` rejects when
   ``num_workers=0``.
5. :func:`patch_efficientnet_v2_train` - ``EfficientNetV2.train()`` returns
   ``None`` instead of ``self`` (mmpretrain 1.2.0), so ``model.eval()``
   chains break.
6. :func:`secure_checkpoint_loading` - mmengine loads URL checkpoints
   through ``torch.hub.load_state_dict_from_url`` with its default
   ``weights_only=False``; every scheme now loads with ``weights_only=True``
   and a refusal names the file and the refused globals.
7. :func:`settle_gloo_workers_at_exit` - a gloo process group runs its
   collectives on worker threads (``pt_gloo_runloop``) that drop their
   finished work, and with it the last C++ references to the work's
   tensors, after the caller has been woken. Since torch keeps a tensor's
   Python object alive through C++ references (``c10/util/intrusive_ptr.h``,
   "PyObject preservation"), that drop takes the GIL. mmengine never
   destroys its process group, and DDP keeps the group alive in C++ even
   after ``destroy_process_group``, so the worker threads outlive the
   interpreter; a worker that asks for the GIL once Python has begun to
   finalize is ended with ``pthread_exit`` inside a ``noexcept`` destructor,
   and the process aborts with ``terminate called without an active
   exception`` after the run has finished (pytorch#190489). At exit, while
   the interpreter is still whole, the GIL is released until every gloo
   worker thread is seen idle.

Known-irrelevant upstream warnings are silenced here and only here
(:func:`silence_known_warnings`): mmcv-lite's ``Fail to import
MultiScaleDeformableAttention`` (this package needs no mmcv ops).

Not fixable in code and handled by configuration instead: by-epoch
schedulers store ``end=max_epochs`` of the first run in the checkpoint, so
the configs always set ``end`` explicitly.
"""

from __future__ import annotations

import atexit
import functools
import importlib.metadata
import importlib.util
import os
import sys
import time
import warnings
from typing import Callable, Dict, List, Optional, Tuple

import torch

from .checkpoint import (
    allow_checkpoint_globals,
    history_buffer_getattr,
    install_safe_checkpoint_loaders,
)
from .checkpoint import checkpoint_globals as mmengine_checkpoint_globals

# The versions each fix was written for (``,``-separated conditions).
FIX_REQUIREMENTS: Dict[str, Dict[str, str]] = {
    'allow_mmengine_checkpoint_globals': dict(
        torch='>=2.6', mmengine='==0.10.7'
    ),
    'get_mmdet_fpn': dict(mmdet='==3.3.0', mmcv='>=2.1.0,<2.2.0'),
    'patch_cpu_distributed': dict(mmengine='==0.10.7'),
    'patch_persistent_workers': dict(
        mmengine='==0.10.7', mmpretrain='==1.2.0'
    ),
    'patch_efficientnet_v2_train': dict(mmpretrain='==1.2.0'),
    'secure_checkpoint_loading': dict(mmengine='==0.10.7'),
    'settle_gloo_workers_at_exit': dict(torch='>=2.6', mmengine='==0.10.7'),
}
# Fixes without which running would be wrong (unsafe): outside their
# versions, importing the plugin fails instead of warning.
REQUIRED_FIXES = ('secure_checkpoint_loading',)

# Distribution names to look a package's version up under.
_DISTRIBUTIONS = {'mmcv': ('mmcv', 'mmcv-lite')}

_APPLIED: List[str] = []
_SKIPPED: Dict[str, str] = {}
_RESULTS: Dict[str, object] = {}


class CompatWarning(UserWarning):
    """A compatibility fix was skipped (installed version out of range)."""


class IncompatibleVersionError(RuntimeError):
    """A required fix does not match the installed upstream version."""


# ---------------------------------------------------------------------------
# Version guards
# ---------------------------------------------------------------------------
def installed_version(package: str) -> Optional[str]:
    """The installed version of ``package`` (None if not installed).

    ``mmcv`` is found as either the ``mmcv`` or the ``mmcv-lite``
    distribution.
    """
    for dist in _DISTRIBUTIONS.get(package, (package,)):
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def version_satisfies(version: str, spec: str) -> bool:
    """Whether ``version`` meets every condition of ``spec``.

    Args:
        version: A version string, e.g. ``'2.14.1+cu130'`` (local labels
            and pre-release tags are compared as mmengine's
            ``digit_version`` does).
        spec: Conditions joined by ``,``, each one of ``==``, ``!=``,
            ``>=``, ``<=``, ``>``, ``<`` and a version, e.g.
            ``'>=2.1.0,<2.2.0'``.
    """
    from mmengine.utils import digit_version

    ops = {
        '==': lambda a, b: a == b,
        '!=': lambda a, b: a != b,
        '>=': lambda a, b: a >= b,
        '<=': lambda a, b: a <= b,
        '>': lambda a, b: a > b,
        '<': lambda a, b: a < b,
    }
    have = digit_version(version)
    for cond in spec.split(','):
        cond = cond.strip()
        op = next(o for o in ops if cond.startswith(o))
        if not ops[op](have, digit_version(cond[len(op) :].strip())):
            return False
    return True


def version_mismatches(requires: Dict[str, str]) -> List[str]:
    """``'package VERSION (needs SPEC)'`` for each unmet requirement."""
    out = []
    for package, spec in requires.items():
        have = installed_version(package)
        if have is None or not version_satisfies(have, spec):
            out.append(f'{package} {have or "not installed"} (needs {spec})')
    return out


def _fix(fallback: Optional[Callable[[], object]] = None) -> Callable:
    """Make a fix run once per process, and only for the versions of
    :data:`FIX_REQUIREMENTS` it was written for.

    Outside them the fix is skipped with a :class:`CompatWarning` (and
    ``fallback()`` returned, if given), or, for :data:`REQUIRED_FIXES`,
    :class:`IncompatibleVersionError` is raised.
    """

    def decorator(func: Callable[[], object]) -> Callable[[], object]:
        name = func.__name__

        @functools.wraps(func)
        def wrapper():
            if name in _RESULTS:
                return _RESULTS[name]
            if name not in _SKIPPED:
                problems = version_mismatches(FIX_REQUIREMENTS[name])
                if not problems:
                    _RESULTS[name] = func()
                    _APPLIED.append(name)
                    return _RESULTS[name]
                msg = (
                    f'mmfashion_attr.utils.compat.{name} was written for '
                    f'other versions: {"; ".join(problems)}.'
                )
                if name in REQUIRED_FIXES:
                    raise IncompatibleVersionError(
                        f'{msg} Running without it is unsafe; install the '
                        'pinned versions of requirements.txt.'
                    )
                _SKIPPED[name] = msg
                warnings.warn(
                    f'{msg} Not applied; the upstream behaviour it works '
                    'around may return.',
                    CompatWarning,
                    stacklevel=3,
                )
            return fallback() if fallback is not None else None

        return wrapper

    return decorator


def applied_fixes() -> List[str]:
    """Names of the fixes applied so far in this process."""
    return list(_APPLIED)


def skipped_fixes() -> Dict[str, str]:
    """``{fix: reason}`` of the fixes skipped for their versions."""
    return dict(_SKIPPED)


# ---------------------------------------------------------------------------
# Known-irrelevant upstream warnings
# ---------------------------------------------------------------------------
MMCV_LITE_WARNING = r'Fail to import ``MultiScaleDeformableAttention``'


def silence_known_warnings() -> None:
    """Ignore mmcv-lite's warning about ``MultiScaleDeformableAttention``.

    ``mmcv/cnn/bricks/transformer.py`` (mmcv 2.1.0) warns on import when
    ``mmcv.ops`` is absent: "Fail to import MultiScaleDeformableAttention
    ... install mmcv rather than mmcv-lite". This package needs no mmcv
    ops, so with mmcv-lite the warning is noise. Only that message from
    that module is filtered, and only when the ops are absent. Must run
    before ``mmcv.cnn`` is first imported.
    """
    if not has_mmcv_ops():
        warnings.filterwarnings(
            'ignore',
            message=MMCV_LITE_WARNING,
            category=UserWarning,
            module=r'mmcv\.cnn\.bricks\.transformer\Z',
        )


# ---------------------------------------------------------------------------
# 1. weights_only loading of mmengine checkpoints (mmengine#1655)
# ---------------------------------------------------------------------------
@_fix()
def allow_mmengine_checkpoint_globals() -> list:
    """Allow-list mmengine checkpoint types for ``torch.load(weights_only)``
    (see :func:`mmfashion_attr.utils.checkpoint.allow_checkpoint_globals`).
    """
    return allow_checkpoint_globals()


# ---------------------------------------------------------------------------
# 2. mmdet's FPN with mmcv-lite
# ---------------------------------------------------------------------------
def has_mmcv_ops() -> bool:
    """Whether a compiled mmcv (with ``mmcv._ext``) is installed."""
    return importlib.util.find_spec('mmcv._ext') is not None


def _import_mmdet_fpn() -> type:
    from mmdet.models.necks.fpn import FPN

    return FPN


@_fix(fallback=_import_mmdet_fpn)
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
        return _import_mmdet_fpn()

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
                'mmfashion_attr.utils.compat: no CUDA device, using the '
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


@_fix()
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
@_fix()
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
@_fix()
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
@_fix()
def secure_checkpoint_loading() -> None:
    """Load every mmengine checkpoint with ``weights_only=True``.

    mmengine 0.10.7 reads ``http(s)://``, ``torchvision://``,
    ``open-mmlab://`` and ``mmcls://`` checkpoints (``load_from``,
    ``Pretrained`` init_cfg) with ``torch.hub.load_state_dict_from_url``,
    whose default is still ``weights_only=False``: a crafted file would run
    its code. Every scheme now loads with an explicit ``weights_only=True``
    and a refusal names the file and the refused globals
    (:func:`mmfashion_attr.utils.checkpoint.install_safe_checkpoint_loaders`).
    """
    install_safe_checkpoint_loaders()


# ---------------------------------------------------------------------------
# 7. gloo worker threads that take the GIL while Python finalizes
# ---------------------------------------------------------------------------
GLOO_WORKER_THREAD = 'pt_gloo_runloop'


def thread_states(
    name: str = GLOO_WORKER_THREAD, task_dir: str = '/proc/self/task'
) -> List[str]:
    """Scheduler states of this process's threads called ``name``.

    Args:
        name: The thread name (``comm``) to look for.
        task_dir: The folder with one ``<tid>/stat`` per thread (Linux
            ``proc(5)``).

    Returns:
        One state letter per matching thread (``'R'`` running or
        runnable, ``'S'`` sleeping, ...); empty when there is none or the
        folder cannot be read.
    """
    try:
        tids = os.listdir(task_dir)
    except OSError:
        return []
    states = []
    for tid in tids:
        try:
            with open(os.path.join(task_dir, tid, 'stat')) as f:
                stat = f.read()
        except OSError:  # the thread ended meanwhile
            continue
        # "tid (comm) state ...": comm may itself hold spaces and ')'
        head, _, tail = stat.rpartition(')')
        if head.partition('(')[2] == name and tail.split():
            states.append(tail.split()[0])
    return states


def wait_until_idle(
    read_states: Callable[[], List[str]] = thread_states,
    interval: float = 0.01,
    settle: int = 3,
    timeout: float = 10.0,
) -> bool:
    """Release the GIL until the threads ``read_states`` reports sleep.

    Each poll sleeps ``interval`` seconds (the GIL is free meanwhile, so a
    thread waiting for it gets it, finishes and goes back to sleep), then
    reads the states. A worker that still has work to finish is running or
    runnable (``'R'``); an idle one sleeps on its queue (``'S'``).

    Args:
        read_states: Returns the state letter of each watched thread.
        interval: Seconds slept before each reading.
        settle: Consecutive readings in which every watched thread must be
            sleeping (a reading with no thread counts as idle).
        timeout: Seconds after which to give up.

    Returns:
        Whether the threads were seen idle ``settle`` times in a row before
        the timeout.
    """
    deadline = time.monotonic() + timeout
    quiet = 0
    while quiet < settle:
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
        states = read_states()
        quiet = quiet + 1 if all(s == 'S' for s in states) else 0
    return True


_EXIT_RESULT: Dict[str, object] = {}


def _settle_gloo_workers() -> None:
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        return
    if 'gloo' not in str(dist.get_backend()):
        return
    _EXIT_RESULT['idle'] = wait_until_idle()


@_fix()
def settle_gloo_workers_at_exit() -> None:
    """Wait at exit until the gloo worker threads are idle.

    Registered with :mod:`atexit`, so it runs before Python finalizes and
    after every handler registered later; a no-op unless a process group
    with a gloo backend is still initialized.
    """
    atexit.register(_settle_gloo_workers)


FIXES: Tuple[Callable[[], object], ...] = (
    allow_mmengine_checkpoint_globals,
    get_mmdet_fpn,
    patch_cpu_distributed,
    patch_persistent_workers,
    patch_efficientnet_v2_train,
    secure_checkpoint_loading,
    settle_gloo_workers_at_exit,
)


def apply_all() -> List[str]:
    """Silence the known warnings, apply every fix (idempotent) and return
    the names applied."""
    silence_known_warnings()
    for fix in FIXES:
        fix()
    return applied_fixes()


__all__ = [
    'CompatWarning',
    'FIXES',
    'FIX_REQUIREMENTS',
    'IncompatibleVersionError',
    'MMCV_LITE_WARNING',
    'REQUIRED_FIXES',
    'allow_mmengine_checkpoint_globals',
    'applied_fixes',
    'apply_all',
    'get_mmdet_fpn',
    'has_mmcv_ops',
    'history_buffer_getattr',
    'installed_version',
    'mmengine_checkpoint_globals',
    'patch_cpu_distributed',
    'patch_efficientnet_v2_train',
    'patch_persistent_workers',
    'secure_checkpoint_loading',
    'settle_gloo_workers_at_exit',
    'silence_known_warnings',
    'skipped_fixes',
    'thread_states',
    'version_mismatches',
    'version_satisfies',
    'wait_until_idle',
]
