"""Count and log the images :class:`SafeLoadImage` refused, per epoch."""

from __future__ import annotations

from typing import List, Optional, Sequence

import torch
from mmengine.dist import all_gather_object, all_reduce
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS


def _metainfo(sample) -> dict:
    if hasattr(sample, 'metainfo'):
        return sample.metainfo
    return sample if isinstance(sample, dict) else {}


@HOOKS.register_module()
class BadImageLoggerHook(Hook):
    """Per-epoch count of unusable images, summed over workers and ranks.

    Reads what :class:`SafeLoadImage` leaves in the data samples' metainfo
    (``PackAttrInputs`` must keep the meta keys ``skipped_images`` and
    ``load_error``):

    * training (``on_error='skip'``): ``skipped_images`` of every batch; at
      the end of each epoch the counts of all ranks are summed (one
      ``all_reduce`` and one ``all_gather_object`` per epoch) and logged
      with a few examples (``path: reason``). With ``max_skip_ratio`` the
      run stops when more than that fraction of the epoch's loads failed
      (e.g. a storage mount went away) instead of training on what is left;
    * validation and test (``on_error='mark'``): the samples with
      ``load_error`` (kept in the dataset, unlabelled), logged after each
      evaluation. Each message names the evaluation (``val #3, epoch 3``):
      mmengine's logger drops a warning identical to an earlier one, so
      the same failures must not give the same text twice.

    A file refused again when the dataset's refetch draws it a second time
    is counted again; ``distinct`` in the log counts files once.

    Args:
        max_skip_ratio: Stop training (``RuntimeError``) when the refused
            loads of an epoch exceed this fraction of all loads. None: never.
        max_examples: How many ``path: reason`` examples to log.
    """

    priority = 'NORMAL'

    def __init__(
        self, max_skip_ratio: Optional[float] = None, max_examples: int = 5
    ) -> None:
        if max_skip_ratio is not None and not 0 <= max_skip_ratio <= 1:
            raise ValueError('max_skip_ratio must be in [0, 1]')
        self.max_skip_ratio = max_skip_ratio
        self.max_examples = int(max_examples)
        self.max_gathered = 10000  # per rank, for the distinct count
        self.history: List[dict] = []  # one entry per finished epoch/eval
        self._evaluations = 0
        self._reset('train')
        self._reset('val')

    def _reset(self, phase: str) -> None:
        setattr(self, f'_{phase}_failed', [])
        setattr(self, f'_{phase}_loaded', 0)

    # ---------------------------------------------------------------- train
    def before_train_epoch(self, runner) -> None:
        self._reset('train')

    def after_train_iter(
        self, runner, batch_idx: int, data_batch=None, outputs=None
    ) -> None:
        samples = (data_batch or {}).get('data_samples') or []
        self._train_loaded += len(samples)
        for s in samples:
            self._train_failed.extend(_metainfo(s).get('skipped_images', ()))

    def after_train_epoch(self, runner) -> None:
        failed, total, examples, distinct = self._reduce('train')
        loads = failed + total
        entry = dict(
            phase='train',
            epoch=runner.epoch + 1,
            failed=failed,
            distinct=distinct,
            loaded=total,
        )
        self.history.append(entry)
        if failed:
            runner.logger.warning(
                f'Epoch {runner.epoch + 1}: skipped {failed} unusable '
                f'training image loads ({distinct} distinct files) out of '
                f'{loads}; examples: {examples}'
            )
        else:
            runner.logger.info(
                f'Epoch {runner.epoch + 1}: no unusable training images'
            )
        if (
            self.max_skip_ratio is not None
            and loads
            and failed / loads > self.max_skip_ratio
        ):
            raise RuntimeError(
                f'{failed} of {loads} image loads failed in epoch '
                f'{runner.epoch + 1} ({failed / loads:.1%} > '
                f'max_skip_ratio={self.max_skip_ratio}); examples: '
                f'{examples}'
            )

    # ------------------------------------------------------------- val/test
    def before_val_epoch(self, runner) -> None:
        self._reset('val')

    def after_val_iter(
        self,
        runner,
        batch_idx: int,
        data_batch=None,
        outputs: Optional[Sequence] = None,
    ) -> None:
        self._count_marked(data_batch, outputs)

    # test runs count like validation runs
    before_test_epoch = before_val_epoch
    after_test_iter = after_val_iter

    def _count_marked(self, data_batch, outputs) -> None:
        samples = (
            outputs
            if outputs is not None
            else ((data_batch or {}).get('data_samples') or [])
        )
        for s in samples:
            meta = _metainfo(s)
            self._val_loaded += 1
            if meta.get('load_error'):
                self._val_failed.append(
                    f'{meta.get("img_path", "?")}: {meta["load_error"]}'
                )

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._log_eval(runner, 'val')

    def after_test_epoch(self, runner, metrics=None) -> None:
        self._log_eval(runner, 'test')

    def _log_eval(self, runner, phase: str) -> None:
        failed, total, examples, distinct = self._reduce('val')
        self._evaluations += 1
        self.history.append(
            dict(
                phase=phase,
                epoch=runner.epoch,
                failed=failed,
                distinct=distinct,
                loaded=total,
            )
        )
        if failed:
            runner.logger.warning(
                f'{phase} #{self._evaluations} (epoch {runner.epoch}): '
                f'{failed} of {total} images could not be loaded and were '
                'left out of the metric (unlabelled placeholder); '
                f'examples: {examples}'
            )

    # -------------------------------------------------------------- helpers
    def _reduce(self, phase: str):
        """Sum over ranks: ``(failed, loaded, examples, distinct)``.

        Padded duplicates of distributed evaluation are counted as loaded
        samples; the failed-file list is exact.
        """
        failed: list = getattr(self, f'_{phase}_failed')
        loaded: int = getattr(self, f'_{phase}_loaded')
        counts = torch.tensor([len(failed), loaded], dtype=torch.int64)
        all_reduce(counts)
        gathered = all_gather_object(failed[: self.max_gathered])
        files = [m for part in gathered for m in part]
        distinct = len({m.split(': ', 1)[0] for m in files})
        examples = files[: self.max_examples]
        return int(counts[0]), int(counts[1]), examples, distinct
