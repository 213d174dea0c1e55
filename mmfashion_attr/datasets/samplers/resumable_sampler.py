"""A ``DefaultSampler`` that can resume in the middle of an epoch."""

from __future__ import annotations

import itertools
from typing import Iterator

from mmengine.dataset import DefaultSampler
from mmpretrain.registry import DATA_SAMPLERS


@DATA_SAMPLERS.register_module()
class ResumableSampler(DefaultSampler):
    """mmengine's ``DefaultSampler`` plus :meth:`skip` for mid-epoch resume.

    The order of an epoch is the same as ``DefaultSampler``'s (a function
    of ``seed`` and ``epoch`` only); :meth:`skip` drops the first ``n``
    indices of this rank's next epoch, so
    :class:`~mmfashion_attr.engine.ResumableEpochBasedTrainLoop` continues
    an interrupted epoch at the next unseen batch without loading the seen
    ones. ``len()`` stays the full epoch's, so batch indices, logging and
    checkpoint intervals keep counting from the start of the epoch.

    Args:
        Same as ``DefaultSampler``.
    """

    _skip = 0

    def skip(self, num_samples: int) -> None:
        """Leave out the first ``num_samples`` indices of the next epoch."""
        if num_samples < 0:
            raise ValueError('num_samples must be >= 0')
        self._skip = int(num_samples)

    def __iter__(self) -> Iterator[int]:
        indices = super().__iter__()
        skip, self._skip = self._skip, 0
        return itertools.islice(indices, skip, None)
