"""An epoch-based training loop that resumes exactly, mid-epoch included."""

from __future__ import annotations

import random
from typing import Optional

import numpy as np
import torch
from mmengine.dist import get_rank
from mmengine.logging import print_log
from mmengine.runner import EpochBasedTrainLoop
from mmpretrain.registry import LOOPS

SKIP_MODES = ('auto', 'replay', 'sampler')
_EPOCH_TAG, _ITER_TAG = 0, 1


def derived_seed(seed: int, rank: int, step: int, tag: int) -> int:
    """A 63-bit seed for ``(seed, rank, step, tag)`` (numpy SeedSequence)."""
    ss = np.random.SeedSequence(
        [int(seed) & 0xFFFFFFFFFFFFFFFF, int(rank), int(step), int(tag)]
    )
    return int(ss.generate_state(1, np.uint64)[0] >> np.uint64(1))


def seed_everything(seed: int) -> None:
    """Seed Python's, numpy's and torch's (CPU and CUDA) global RNGs."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


@LOOPS.register_module()
class ResumableEpochBasedTrainLoop(EpochBasedTrainLoop):
    """``EpochBasedTrainLoop`` whose resumed runs equal uninterrupted ones.

    mmengine's loop, resumed from a checkpoint saved in the middle of an
    epoch, starts that epoch again from its first batch (the epoch then has
    more iterations than the others), and no resume restores the global
    random states that augmentation and dropout draw from. This loop:

    1. **continues an interrupted epoch at the next unseen batch**: the
       ``k`` batches already trained in that epoch (``iter - epoch *
       len(dataloader)``) are skipped, either by loading and discarding
       them (``skip_mode='replay'``: exact with any sampler and with
       dataloader workers, costs the data loading of ``k`` batches) or by
       leaving their indices out of the sampler
       (``'sampler'``, needs :class:`ResumableSampler`: no loading, exact
       when augmentation runs in the main process, ``num_workers=0``).
       ``'auto'`` picks ``'sampler'`` when the sampler supports it and
       ``num_workers == 0``, otherwise ``'replay'``;
    2. **makes the global random state a function of the position in
       training**: Python's, numpy's and torch's global RNGs are seeded
       from ``(runner.seed, rank, iteration)`` before each batch is loaded
       (and from ``(seed, rank, epoch start)`` before each epoch's iterator
       is created), so a resumed run draws the same augmentations, dropout
       masks and refetch indices as the uninterrupted one, and validation
       in between does not shift training's randomness. Nothing extra is
       stored in checkpoints; each rank gets its own streams.

    Data order is the sampler's (``DefaultSampler``: a function of seed
    and epoch, set by ``DistSamplerSeedHook``). Not covered: random state
    inside **persistent** dataloader workers (``persistent_workers=True``)
    carries over epochs and restarts on resume; with workers, use
    ``persistent_workers=False`` for exact resume.

    Args:
        skip_mode: ``'auto'``, ``'replay'`` or ``'sampler'``.
        **kwargs: As ``EpochBasedTrainLoop`` (``max_epochs``,
            ``val_begin``, ``val_interval``, ``dynamic_intervals``).
    """

    def __init__(
        self,
        runner,
        dataloader,
        max_epochs: int,
        skip_mode: str = 'auto',
        **kwargs,
    ) -> None:
        if skip_mode not in SKIP_MODES:
            raise ValueError(
                f'skip_mode must be one of {SKIP_MODES}, not {skip_mode!r}'
            )
        super().__init__(runner, dataloader, max_epochs, **kwargs)
        self.skip_mode = skip_mode
        self._resume_skip = 0
        self.last_skip: Optional[tuple] = None  # (mode, batches) if resumed

    # ----------------------------------------------------------- seeding
    def _reseed(self, step: int, tag: int) -> None:
        seed = self.runner.seed if self.runner.seed is not None else 0
        seed_everything(derived_seed(seed, get_rank(), step, tag))

    # ------------------------------------------------------------ resume
    def run(self) -> torch.nn.Module:
        self._resume_skip = 0
        if self._iter > 0:
            n = len(self.dataloader)
            skip = self._iter - self._epoch * n
            if 0 <= skip <= n:
                self._resume_skip = skip
            else:
                print_log(
                    f'ResumableEpochBasedTrainLoop: iteration {self._iter} '
                    f'does not fall in epoch {self._epoch} of {n} batches '
                    '(the dataloader length changed?); restarting the epoch',
                    logger='current',
                    level=30,
                )
        return super().run()

    def _resolve_mode(self) -> str:
        loader = self.dataloader
        can_sample = (
            hasattr(loader.sampler, 'skip') and loader.batch_size is not None
        )
        if self.skip_mode == 'sampler':
            if not can_sample:
                raise TypeError(
                    "skip_mode='sampler' needs a sampler with skip() "
                    '(ResumableSampler) and a plain batch_size, got '
                    f'{type(loader.sampler).__name__}'
                )
            return 'sampler'
        if self.skip_mode == 'auto' and can_sample and loader.num_workers == 0:
            return 'sampler'
        return 'replay'

    def run_epoch(self) -> None:
        """Iterate one epoch (the remainder of it when resuming)."""
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        n = len(self.dataloader)
        skip, self._resume_skip = self._resume_skip, 0
        base = self._iter - skip  # global index of this epoch's batch 0
        if skip < n:
            mode = self._resolve_mode() if skip else None
            if mode == 'sampler':
                self.dataloader.sampler.skip(skip * self.dataloader.batch_size)
            self._reseed(base, _EPOCH_TAG)
            iterator = iter(self.dataloader)
            if skip:
                self.last_skip = (mode, skip)
                print_log(
                    f'Resuming epoch {self._epoch + 1} at batch {skip + 1}/'
                    f'{n} (skip_mode={mode!r})',
                    logger='current',
                )
            if mode == 'replay':
                for idx in range(skip):
                    self._reseed(base + idx, _ITER_TAG)
                    next(iterator)
            for idx in range(skip, n):
                self._reseed(base + idx, _ITER_TAG)
                try:
                    data_batch = next(iterator)
                except StopIteration:
                    break
                self.run_iter(idx, data_batch)
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1
