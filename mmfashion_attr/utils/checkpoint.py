"""Pickle safety: the one allow-list and the one loader of checkpoints.

A checkpoint is a pickle, and a pickle can run code when it is loaded.
Everything this package reads that is a pickle goes through this module:

* :func:`load_checkpoint_safely` - ``torch.load(weights_only=True)`` of a
  path, a file object or any mmengine file-backend URI, with a refusal
  that names the file and the refused globals
  (:class:`UnsafeCheckpointError`). ``weights_only=True`` is passed
  explicitly, so ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` cannot turn it off.
* :func:`install_safe_checkpoint_loaders` - every mmengine checkpoint
  scheme (``load_from``, ``--resume``, ``Pretrained`` init_cfg, URLs)
  loads through the same ``weights_only=True`` path. mmengine 0.10.7 reads
  ``http(s)://``, ``torchvision://``, ``open-mmlab://`` and ``mmcls://``
  checkpoints with ``torch.hub.load_state_dict_from_url``, whose default is
  still ``weights_only=False`` (mmengine#1655; fixed on mmengine main by
  #1670, never released).
* :func:`load_pickle_safely` - plain pickles that are not ``torch.save``
  archives (the ``DumpResults`` file of ``tools/test.py --out``), read by
  an unpickler that resolves only allow-listed globals.

The allow-list (:func:`checkpoint_globals` plus :data:`TENSOR_PICKLE_GLOBALS`)
holds exactly the types an mmengine 0.10.7 training checkpoint and a
prediction dump contain beyond tensors; :func:`allow_checkpoint_globals`
registers it with torch. Arbitrary callables (``os.system``,
``builtins.eval`` ...) stay forbidden, and ``builtins.getattr`` resolves
only to :func:`history_buffer_getattr`.
"""

from __future__ import annotations

import _compat_pickle
import functools
import io
import os
import pickle
import re
from typing import Any, FrozenSet, List, Union

import torch

_GLOBAL_RE = re.compile(r'GLOBAL ([\w.]+)')

# Globals a tensor pickled with plain ``pickle`` (not ``torch.save``) needs;
# all of them are in torch's own ``weights_only`` allow-list.
TENSOR_PICKLE_GLOBALS = (
    '_codecs.encode',
    'collections.OrderedDict',
    'torch._utils._rebuild_tensor',
    'torch._utils._rebuild_tensor_v2',
    'torch.Size',
    'torch.device',
    'torch.float32',
    'torch.FloatStorage',
    'torch.ByteStorage',
    'torch.LongStorage',
    'torch.BoolStorage',
)


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint refused by the ``weights_only`` unpickler.

    Attributes:
        source: The file or URL.
        refused: The globals (``module.name``) outside the allow-list.
    """

    def __init__(self, source: str, refused: List[str], detail: str) -> None:
        self.source, self.refused, self.detail = source, refused, detail
        what = ', '.join(refused) if refused else detail
        super().__init__(
            f'{source}: checkpoint refused: it contains non-allow-listed '
            f'global(s) {what}. Unpickling them could run code from the '
            'file, so mmfashion_attr loads checkpoints only with '
            'torch.load(weights_only=True). If you trust where the file '
            'comes from, convert it once in a throw-away environment to a '
            "plain {'state_dict': ...} checkpoint, or allow exactly these "
            'classes with torch.serialization.add_safe_globals([...]). Do '
            'not set TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD or pass '
            'weights_only=False.'
        )


# ---------------------------------------------------------------------------
# The allow-list
# ---------------------------------------------------------------------------
def checkpoint_globals() -> list:
    """The exact non-tensor globals that an mmengine 0.10.7 checkpoint holds.

    Found by pickling the checkpoints of a full training run (message hub
    with :class:`HistoryBuffer` objects, numpy scalars and arrays in log
    buffers, dtypes) and listing every ``GLOBAL`` opcode (the compat tests
    re-derive this from a fresh run).
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


def _qualified(obj: Any) -> str:
    return f'{obj.__module__}.{obj.__qualname__}'


@functools.lru_cache(maxsize=None)
def allowed_global_names() -> FrozenSet[str]:
    """Dotted names of the whole allow-list (``module.qualname``); numpy
    globals are listed under both their numpy 2 and numpy 1 modules."""
    names = set(TENSOR_PICKLE_GLOBALS)
    for obj in checkpoint_globals():
        name = _qualified(obj)
        names.add(name)
        if name.startswith('numpy._core.'):
            names.add('numpy.core.' + name[len('numpy._core.') :])
    return frozenset(names)


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


def allow_checkpoint_globals() -> list:
    """Register the allow-list with ``torch.serialization``.

    Only the listed classes become loadable with ``weights_only=True``, plus
    :func:`history_buffer_getattr` in place of ``builtins.getattr``.

    Returns:
        The registered classes and functions.
    """
    allowed = checkpoint_globals()
    torch.serialization.add_safe_globals(
        allowed + [(history_buffer_getattr, 'builtins.getattr')]
    )
    return allowed


# ---------------------------------------------------------------------------
# The loader
# ---------------------------------------------------------------------------
def _refused_globals(f, err: Exception) -> List[str]:
    found: List[str] = []
    try:
        if isinstance(f, (str, os.PathLike)) or hasattr(f, 'seek'):
            if hasattr(f, 'seek'):
                f.seek(0)
            found = list(
                torch.serialization.get_unsafe_globals_in_checkpoint(f)
            )
    except Exception:  # legacy (non-zip) format: parse torch's message
        found = []
    for name in _GLOBAL_RE.findall(str(err)):
        if name not in found:
            found.append(name)
    return found


def _refusal(source: str, f, err: pickle.UnpicklingError):
    if isinstance(err, UnsafeCheckpointError):
        return err
    detail = (
        str(err).strip().splitlines()[-1]
        if str(err).strip()
        else type(err).__name__
    )
    if 'refusing getattr' in str(err):  # history_buffer_getattr's refusal
        detail = str(err)
    return UnsafeCheckpointError(source, _refused_globals(f, err), detail)


def load_checkpoint_safely(
    f: Union[str, os.PathLike, io.IOBase], map_location: Any = 'cpu'
) -> Any:
    """``torch.load(f, map_location, weights_only=True)`` with a clear error.

    The one checkpoint loader of the package: inference, export and
    mmengine's ``load_checkpoint`` / ``load_from`` / ``--resume`` (once
    :func:`install_safe_checkpoint_loaders` ran) all read through it.

    Args:
        f: A local path, a binary file object, or a URI of any mmengine
            file backend (``http(s)://``, ``s3://`` ...; fetched as bytes).
        map_location: As ``torch.load``. Defaults to ``'cpu'``.

    Raises:
        UnsafeCheckpointError: The file holds objects outside the
            allow-list (a ``pickle.UnpicklingError``).
        FileNotFoundError: No such local file.
    """
    if isinstance(f, (str, os.PathLike)):
        source = os.fspath(f)
        if '://' in source:
            from mmengine.fileio import get as get_bytes

            f = io.BytesIO(get_bytes(source))
        else:
            f = os.path.expanduser(source)
            if not os.path.isfile(f):
                raise FileNotFoundError(f'{f} can not be found.')
    else:
        source = getattr(f, 'name', '<file object>')
    try:
        return torch.load(f, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        raise _refusal(str(source), f, err) from None


def _storage_from_bytes(data: bytes):
    """``torch.storage._load_from_bytes`` with ``weights_only=True`` (the
    original passes ``weights_only=False``: a pickle inside the pickle)."""
    return torch.load(io.BytesIO(data), weights_only=True)


class _AllowListUnpickler(pickle.Unpickler):
    """A ``pickle.Unpickler`` resolving only :func:`allowed_global_names`."""

    def find_class(self, module: str, name: str) -> Any:
        # protocol 2 (mmengine's dump) uses Python 2 names: __builtin__ ...
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        else:
            module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        full = f'{module}.{name}'
        if full == 'torch.storage._load_from_bytes':
            return _storage_from_bytes
        if full == 'builtins.getattr':
            return history_buffer_getattr
        if full in allowed_global_names():
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f'refusing to load {full} (only tensors, arrays and plain '
            'containers are allowed)'
        )


def load_pickle_safely(path: str) -> Any:
    """Read a plain pickle file resolving only allow-listed globals.

    For pickles that are not ``torch.save`` archives, such as the
    ``DumpResults`` file of ``tools/test.py --out``; tensor storages inside
    are read with ``torch.load(weights_only=True)``.

    Raises:
        pickle.UnpicklingError: The file holds other globals.
    """
    with open(path, 'rb') as f:
        data = f.read()
    return _AllowListUnpickler(io.BytesIO(data)).load()


# ---------------------------------------------------------------------------
# mmengine's checkpoint schemes
# ---------------------------------------------------------------------------
def load_from_local(filename: str, map_location=None) -> Any:
    """mmengine's local-path checkpoint scheme, loading with
    :func:`load_checkpoint_safely`."""
    return load_checkpoint_safely(filename, map_location=map_location)


def load_url_weights_only(
    url: str,
    model_dir=None,
    map_location=None,
    progress: bool = True,
    check_hash: bool = False,
    file_name=None,
) -> Any:
    """mmengine's ``load_url`` with ``weights_only=True`` (torch.hub's
    default is False)."""
    try:
        return torch.hub.load_state_dict_from_url(
            url,
            model_dir=model_dir,
            map_location=map_location,
            progress=progress,
            check_hash=check_hash,
            file_name=file_name,
            weights_only=True,
        )
    except pickle.UnpicklingError as err:
        raise _refusal(url, None, err) from None


load_url_weights_only.__mmfashion_safe__ = True
load_from_local.__mmfashion_safe__ = True


def _named_refusal(loader):
    """Wrap a scheme loader so a refusal names the file."""

    @functools.wraps(loader)
    def wrapper(filename, *args, **kwargs):
        try:
            return loader(filename, *args, **kwargs)
        except pickle.UnpicklingError as err:
            raise _refusal(filename, None, err) from None

    wrapper.__mmfashion_safe__ = True
    return wrapper


def install_safe_checkpoint_loaders() -> None:
    """Make every mmengine checkpoint scheme load with ``weights_only=True``.

    * the local-path scheme loads through :func:`load_checkpoint_safely`;
    * ``mmengine.runner.checkpoint.load_url`` (used by the ``http(s)``,
      ``torchvision``, ``open-mmlab`` and ``mmcls`` schemes) becomes
      :func:`load_url_weights_only`;
    * the other schemes (s3/petrel, pavi, ...) already load with torch's
      default ``weights_only=True``; their refusals are turned into
      :class:`UnsafeCheckpointError` naming the file.

    Idempotent.
    """
    from mmengine.runner import checkpoint as ckpt_mod
    from mmengine.runner.checkpoint import CheckpointLoader

    ckpt_mod.load_url = load_url_weights_only
    CheckpointLoader.register_scheme(prefixes='', force=True)(load_from_local)
    for prefix, loader in list(CheckpointLoader._schemes.items()):
        if not getattr(loader, '__mmfashion_safe__', False):
            CheckpointLoader.register_scheme(prefixes=prefix, force=True)(
                _named_refusal(loader)
            )


def safe_loaders_installed() -> bool:
    """Whether :func:`install_safe_checkpoint_loaders` is in effect."""
    from mmengine.runner import checkpoint as ckpt_mod
    from mmengine.runner.checkpoint import CheckpointLoader

    return getattr(ckpt_mod.load_url, '__mmfashion_safe__', False) and all(
        getattr(fn, '__mmfashion_safe__', False)
        for fn in CheckpointLoader._schemes.values()
    )


__all__ = [
    'TENSOR_PICKLE_GLOBALS',
    'UnsafeCheckpointError',
    'allow_checkpoint_globals',
    'allowed_global_names',
    'checkpoint_globals',
    'history_buffer_getattr',
    'install_safe_checkpoint_loaders',
    'load_checkpoint_safely',
    'load_from_local',
    'load_pickle_safely',
    'load_url_weights_only',
    'safe_loaders_installed',
]
