"""Load checkpoints with ``torch.load(weights_only=True)``, everywhere.

A checkpoint is a pickle, and a pickle can run code when it is loaded.
torch >= 2.6 loads with ``weights_only=True`` by default, but mmengine
0.10.7 downloads ``http(s)://``, ``torchvision://``, ``open-mmlab://`` and
``mmcls://`` checkpoints through ``torch.hub.load_state_dict_from_url``,
whose default is still ``weights_only=False``: a ``load_from`` URL or a
``Pretrained`` ``init_cfg`` pointing at a crafted file would run its code.
And when torch does refuse a file, its message suggests
``weights_only=False``.

:func:`install_safe_checkpoint_loaders` (applied when the plugin is
imported) makes every mmengine checkpoint scheme load with an explicit
``weights_only=True`` (explicit, so ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD``
cannot turn it off either) and turns a refusal into
:class:`UnsafeCheckpointError`, which names the file and the refused
globals. Nothing is disabled process-wide: the allow-list is torch's plus
the exact mmengine checkpoint types of
:func:`mmfashion_attr.compat.allow_mmengine_checkpoint_globals`.
"""

from __future__ import annotations

import functools
import io
import os
import pickle
import re
from typing import Any, List, Union

import torch

_GLOBAL_RE = re.compile(r'GLOBAL ([\w.]+)')


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


def _refuse(source: str, f, err: pickle.UnpicklingError):
    if isinstance(err, UnsafeCheckpointError):
        return err
    detail = (
        str(err).strip().splitlines()[-1]
        if str(err).strip()
        else type(err).__name__
    )
    if 'refusing getattr' in str(err):  # compat's getattr stand-in
        detail = str(err)
    return UnsafeCheckpointError(source, _refused_globals(f, err), detail)


def load_checkpoint_safely(
    f: Union[str, os.PathLike, io.IOBase], map_location: Any = 'cpu'
) -> Any:
    """``torch.load(f, map_location, weights_only=True)`` with a clear error.

    For inference, export and any code that reads a checkpoint itself
    (mmengine's ``load_checkpoint`` / ``load_from`` / ``--resume`` go
    through the same function once the loaders are installed).

    Args:
        f: A path or a binary file object.
        map_location: As ``torch.load``. Defaults to ``'cpu'``.

    Raises:
        UnsafeCheckpointError: The file holds objects outside the
            allow-list (a ``pickle.UnpicklingError``).
        FileNotFoundError: No such file.
    """
    source = (
        os.fspath(f)
        if isinstance(f, (str, os.PathLike))
        else getattr(f, 'name', '<file object>')
    )
    if isinstance(f, (str, os.PathLike)):
        f = os.path.expanduser(os.fspath(f))
        if not os.path.isfile(f):
            raise FileNotFoundError(f'{f} can not be found.')
    try:
        return torch.load(f, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        raise _refuse(str(source), f, err) from None


def load_from_local(filename: str, map_location=None) -> Any:
    """mmengine's local-path checkpoint scheme, loading with
    :func:`load_checkpoint_safely`."""
    return load_checkpoint_safely(filename, map_location=map_location)


def safe_load_url(
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
        raise _refuse(url, None, err) from None


safe_load_url.__mmfashion_safe__ = True
load_from_local.__mmfashion_safe__ = True


def _named_refusal(loader):
    """Wrap a scheme loader so a refusal names the file."""

    @functools.wraps(loader)
    def wrapper(filename, *args, **kwargs):
        try:
            return loader(filename, *args, **kwargs)
        except pickle.UnpicklingError as err:
            raise _refuse(filename, None, err) from None

    wrapper.__mmfashion_safe__ = True
    return wrapper


def install_safe_checkpoint_loaders() -> None:
    """Make every mmengine checkpoint scheme load with ``weights_only=True``.

    * the local-path scheme loads through :func:`load_checkpoint_safely`;
    * ``mmengine.runner.checkpoint.load_url`` (used by the ``http(s)``,
      ``torchvision``, ``open-mmlab`` and ``mmcls`` schemes) becomes
      :func:`safe_load_url`;
    * the other schemes (s3/petrel, pavi, ...) already load with torch's
      default ``weights_only=True``; their refusals are turned into
      :class:`UnsafeCheckpointError` naming the file.

    Idempotent.
    """
    from mmengine.runner import checkpoint as ckpt_mod
    from mmengine.runner.checkpoint import CheckpointLoader

    ckpt_mod.load_url = safe_load_url
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
    'UnsafeCheckpointError',
    'install_safe_checkpoint_loaders',
    'load_checkpoint_safely',
    'safe_load_url',
    'safe_loaders_installed',
]
