"""Resume only from an intact checkpoint; fall back to the newest one."""

from __future__ import annotations

import glob
import os.path as osp
from typing import List, Optional, Tuple

from mmengine.dist import broadcast_object_list, get_rank, get_world_size
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS

from ...utils.checkpoint import (
    CorruptCheckpointError,
    verify_checkpoint_archive,
)

LAST_CHECKPOINT = 'last_checkpoint'


class NoCheckpointToResumeError(FileNotFoundError):
    """``--resume`` found a ``last_checkpoint`` record but no intact
    checkpoint to resume from."""


def _problem(path: str) -> Optional[str]:
    """Why ``path`` cannot be resumed from (None: intact)."""
    if not osp.isfile(path):
        return 'no such file'
    try:
        verify_checkpoint_archive(path)
    except CorruptCheckpointError as e:
        return e.problem
    except OSError as e:
        return f'unreadable ({type(e).__name__}: {e})'
    return None


def _candidates(folders: List[str], exclude: str = '') -> List[str]:
    """The checkpoints of the folders, newest first (``best_*`` ones left
    out: resuming from them would rewind training)."""
    files = {
        osp.abspath(p)
        for folder in folders
        for p in glob.glob(osp.join(glob.escape(folder), '*.pth'))
        if not osp.basename(p).startswith('best_')
    }
    files.discard(osp.abspath(exclude) if exclude else '')
    return sorted(files, key=lambda p: (osp.getmtime(p), p), reverse=True)


def choose_resume_checkpoint(
    work_dir: str,
) -> Tuple[Optional[str], List[str]]:
    """The checkpoint ``--resume`` (auto resume) should load, and warnings.

    ``work_dir/last_checkpoint`` names the checkpoint mmengine would load.
    When that file is intact (every zip member passes its CRC check) it is
    the one. When it is corrupt, truncated or missing, or
    ``last_checkpoint`` is empty (the run was killed while writing it), the
    newest intact checkpoint of the work dir (and of the folder
    ``last_checkpoint`` points into) is chosen instead, with a warning.

    Returns:
        ``(path, warnings)``; path None when there is no
        ``last_checkpoint`` at all (mmengine then starts from scratch).

    Raises:
        NoCheckpointToResumeError: A ``last_checkpoint`` record exists but
            no intact checkpoint does.
    """
    record = osp.join(work_dir, LAST_CHECKPOINT)
    if not osp.exists(record):
        return None, []
    with open(record, encoding='utf-8', errors='replace') as f:
        named = f.read().strip()
    if named and not osp.isabs(named) and not osp.exists(named):
        named = osp.join(work_dir, osp.basename(named))
    if named:
        problem = _problem(named)
        if problem is None:
            return named, []
        why = f'{record} names {named}, which is unusable: {problem}'
    else:
        why = f'{record} is empty (the run was stopped while writing it)'
    folders = [work_dir] + ([osp.dirname(named)] if named else [])
    for path in _candidates(folders, exclude=named):
        if _problem(path) is None:
            return path, [
                f'{why}; resuming from the newest intact checkpoint '
                f'{path} instead'
            ]
    raise NoCheckpointToResumeError(
        f'cannot resume: {why}, and {work_dir} holds no other intact '
        'checkpoint. Start without --resume, or pass --resume PATH of a '
        'checkpoint from elsewhere'
    )


@HOOKS.register_module()
class CheckpointIntegrityHook(Hook):
    """Verify a checkpoint before resuming; fall back to the newest intact.

    mmengine's auto resume (``--resume`` without a path) loads whatever
    ``work_dir/last_checkpoint`` names: a checkpoint truncated by a kill or
    a full disk stops the run with an unzip error, an empty
    ``last_checkpoint`` gives ``FileNotFoundError:  can not be found.``, and
    a bit flipped on disk loads silently (torch does not check the zip
    CRCs) and trains on garbage. Before the checkpoint is loaded
    (``before_run``), this hook reads every member of the archive and
    checks its CRC (:func:`~mmfashion_attr.utils.checkpoint.
    verify_checkpoint_archive`); a corrupt, missing or unnamed checkpoint
    is replaced by the newest intact one of the work dir, with a warning,
    and no intact one is a clear error. A checkpoint given explicitly
    (``--resume PATH``) must be intact: it is never replaced.

    Rank 0 decides and broadcasts the choice, so every rank resumes from
    the same file. Every checkpoint loaded through this package (``load_from``,
    ``test.py``, inference) is verified the same way when it is read.
    """

    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        if not getattr(runner, '_resume', False):
            return
        explicit = runner._load_from
        decision = [None, [], None]  # path, warnings, error message
        error: Optional[Exception] = None
        if get_rank() == 0:
            try:
                if explicit is not None:
                    problem = _problem(explicit)
                    if problem is not None:
                        raise CorruptCheckpointError(
                            explicit,
                            f'{problem}; cannot resume from it (pass '
                            'another checkpoint, or --resume without a '
                            'path to use the newest intact one of the '
                            'work dir)',
                        )
                    decision[0] = explicit
                else:
                    path, warnings = choose_resume_checkpoint(runner.work_dir)
                    decision[0], decision[1] = path, warnings
            except (CorruptCheckpointError, NoCheckpointToResumeError) as e:
                error, decision[2] = e, str(e)
        if get_world_size() > 1:
            broadcast_object_list(decision, src=0)
        path, warnings, message = decision
        if error is not None:
            raise error
        if message is not None:  # rank 0 raised it
            raise RuntimeError(message)
        for w in warnings:
            runner.logger.warning(w)
        if explicit is None and path is not None:
            runner._load_from = path  # mmengine resumes from _load_from
