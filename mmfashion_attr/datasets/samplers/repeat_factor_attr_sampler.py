"""Repeat-factor sampling for imbalanced, partially labelled attributes.

LVIS-style repeat factors (Gupta et al., "LVIS: A Dataset for Large
Vocabulary Instance Segmentation", CVPR 2019, Sec. 5; Mahajan et al. 2018)
adapted to multi-attribute labels with missing attributes: the frequency of
a value is counted among the samples where it is *labelled*, so a value of
a rarely annotated attribute is not mistaken for a rare value. Addresses the
class imbalance of Parekh & Shaik (VISAPP 2023, Sec. 2, "Label
Distribution").
"""

from __future__ import annotations

import math
from typing import Iterator, Optional, Sized

import numpy as np
import torch
from mmengine.dist import get_dist_info, sync_random_seed
from mmpretrain.registry import DATA_SAMPLERS
from torch.utils.data import Sampler


def _labels(dataset, idx: int):
    if hasattr(dataset, 'get_gt_attr'):
        gt, mask, _ = dataset.get_gt_attr(idx)
        return gt, mask
    if hasattr(dataset, 'get_data_info'):
        info = dataset.get_data_info(idx)
        if 'gt_attr' in info:
            return info['gt_attr'], info.get('gt_attr_mask')
    raise TypeError(
        f'{type(dataset).__name__} exposes no attribute labels: it needs '
        'get_gt_attr(idx) -> (gt_attr, gt_attr_mask, category_idx) or '
        "'gt_attr'/'gt_attr_mask' in get_data_info(idx)"
    )


def attribute_repeat_factors(
    gt_attr: np.ndarray,
    gt_attr_mask: Optional[np.ndarray],
    threshold: float,
    frequency: str = 'labelled',
    max_repeat: Optional[float] = None,
) -> np.ndarray:
    """Repeat factor of every sample.

    For each value ``v``: ``f_v`` = positives / samples where ``v`` is
    labelled (``frequency='labelled'``) or / all samples (``'all'``, the
    LVIS definition), and ``r_v = max(1, sqrt(threshold / f_v))``. A
    sample's factor is the largest ``r_v`` over its labelled positive values
    (its rarest one), ``1`` if it has none, capped at ``max_repeat``.

    Args:
        gt_attr: ``[num_samples, num_values]`` 0/1 labels.
        gt_attr_mask: Same shape, 1 where labelled (``None``: all).
        threshold: Frequency below which values are oversampled.
        frequency: ``labelled`` or ``all``.
        max_repeat: Upper bound of the factors.
    """
    gt = np.asarray(gt_attr, dtype=bool)
    mask = (
        np.ones_like(gt)
        if gt_attr_mask is None
        else np.asarray(gt_attr_mask, dtype=bool)
    )
    pos = gt & mask
    num_pos = pos.sum(0).astype(np.float64)
    if frequency == 'labelled':
        denom = mask.sum(0).astype(np.float64)
    elif frequency == 'all':
        denom = np.full(gt.shape[1], float(len(gt)))
    else:
        raise ValueError(
            f"frequency must be 'labelled' or 'all', not {frequency!r}"
        )
    freq = np.divide(
        num_pos, denom, out=np.zeros_like(num_pos), where=denom > 0
    )
    with np.errstate(divide='ignore'):
        r_value = np.where(
            num_pos > 0, np.maximum(1.0, np.sqrt(threshold / freq)), 1.0
        )
    factors = (
        np.where(pos, r_value[None, :], 1.0).max(1)
        if gt.size
        else np.ones(len(gt))
    )
    if max_repeat is not None:
        factors = np.minimum(factors, max_repeat)
    return factors


@DATA_SAMPLERS.register_module()
class AttributeRepeatFactorSampler(Sampler):
    """Oversample samples that carry rare labelled attribute values.

    Each epoch, sample ``i`` appears ``floor(r_i)`` times plus once more
    with probability ``r_i - floor(r_i)`` (stochastic rounding, as
    detectron2's ``RepeatFactorTrainingSampler``), see
    :func:`attribute_repeat_factors`; the list is shuffled, and padded or
    cut to a fixed epoch length of ``round(sum(r))`` rounded up to a
    multiple of the world size, then split across ranks like mmengine's
    ``DefaultSampler`` (``indices[rank::world_size]``). Everything is
    drawn from a generator seeded with ``seed + epoch``, so all ranks agree
    and runs are reproducible.

    The dataset must expose the labels without loading images:
    ``get_gt_attr(idx) -> (gt_attr, gt_attr_mask, category_idx)`` (as
    :class:`~mmfashion_attr.datasets.CatalogDataset`) or ``gt_attr`` /
    ``gt_attr_mask`` in ``get_data_info(idx)``.

    Config: ``sampler=dict(type='AttributeRepeatFactorSampler',
    threshold=0.05)``.

    Args:
        dataset: The dataset.
        threshold: Values rarer than this (fraction of the samples where
            they are labelled) are oversampled.
        frequency: ``labelled`` (default; missing attributes do not count)
            or ``all`` (fraction of all samples, as LVIS).
        max_repeat: Cap of a sample's repeat factor (``None``: none).
        shuffle: Shuffle the repeated indices.
        seed: Random seed; ``None``: synchronised across ranks.
    """

    def __init__(
        self,
        dataset: Sized,
        threshold: float = 0.05,
        frequency: str = 'labelled',
        max_repeat: Optional[float] = 10.0,
        shuffle: bool = True,
        seed: Optional[int] = None,
    ) -> None:
        if not 0 < threshold <= 1:
            raise ValueError(f'threshold must be in (0, 1], not {threshold}')
        if max_repeat is not None and max_repeat < 1:
            raise ValueError(f'max_repeat must be >= 1, not {max_repeat}')
        self.rank, self.world_size = get_dist_info()
        self.dataset = dataset
        self.threshold = threshold
        self.shuffle = shuffle
        self.seed = sync_random_seed() if seed is None else seed
        self.epoch = 0
        n = len(dataset)
        if n == 0:
            raise ValueError('AttributeRepeatFactorSampler: empty dataset')
        labels = [_labels(dataset, i) for i in range(n)]
        gt = np.stack([np.asarray(g) for g, _ in labels])
        mask = (
            None
            if labels[0][1] is None
            else np.stack([np.asarray(m) for _, m in labels])
        )
        self.repeat_factors = attribute_repeat_factors(
            gt, mask, threshold, frequency, max_repeat
        )
        epoch_size = max(1, int(round(float(self.repeat_factors.sum()))))
        self.num_samples = math.ceil(epoch_size / self.world_size)
        self.total_size = self.num_samples * self.world_size

    def _epoch_indices(self) -> list:
        g = torch.Generator()
        g.manual_seed(self.seed + self.epoch)
        factors = torch.as_tensor(self.repeat_factors, dtype=torch.float64)
        whole = torch.floor(factors)
        extra = torch.rand(len(factors), generator=g, dtype=torch.float64) < (
            factors - whole
        )
        reps = (whole + extra.to(torch.float64)).to(torch.long)
        indices = torch.repeat_interleave(torch.arange(len(factors)), reps)
        if self.shuffle:
            indices = indices[torch.randperm(len(indices), generator=g)]
        indices = indices.tolist()
        if len(indices) < self.total_size:
            indices = indices * (self.total_size // len(indices) + 1)
        return indices[: self.total_size]

    def __iter__(self) -> Iterator[int]:
        indices = self._epoch_indices()
        return iter(indices[self.rank : self.total_size : self.world_size])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Called by mmengine's ``DistSamplerSeedHook`` every epoch."""
        self.epoch = epoch
