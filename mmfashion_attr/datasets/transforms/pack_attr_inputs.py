"""Pack an image and its attribute labels into a mmpretrain ``DataSample``."""

from __future__ import annotations

import numpy as np
import torch
from mmpretrain.datasets.transforms import PackInputs
from mmpretrain.registry import TRANSFORMS

ATTR_KEYS = ('gt_attr', 'gt_attr_mask')
# The category index as a 0-d int64 tensor next to ``category_idx`` (an int
# in the metainfo): a compiled training step (``compile=True``) stacks the
# tensors of the batch instead of reading one Python int per sample, which
# torch.compile would treat as constants and recompile for whenever a
# batch's categories change.
CATEGORY_KEY = 'category_tensor'
# load_error / skipped_images: set by SafeLoadImage, read by
# BadImageLoggerHook and inference (absent for normal samples)
DEFAULT_META_KEYS = PackInputs.DEFAULT_META_KEYS + (
    'category_idx',
    'load_error',
    'skipped_images',
)


@TRANSFORMS.register_module()
class PackAttrInputs(PackInputs):
    """Like mmpretrain's ``PackInputs``, plus the attribute labels.

    ``gt_attr`` and ``gt_attr_mask`` become ``uint8`` tensors of the data
    sample (absent in inference-only data), ``category_idx`` goes to the
    metainfo (``-1`` when absent) and, as a 0-d ``int64`` tensor, to the
    data field ``category_tensor`` (what the head reads when every sample
    of a batch has it).

    Args:
        meta_keys: Meta keys to keep. Defaults to mmpretrain's plus
            ``category_idx``.
        **kwargs: Passed to ``PackInputs``.
    """

    def __init__(self, meta_keys=DEFAULT_META_KEYS, **kwargs) -> None:
        kwargs.setdefault('algorithm_keys', ATTR_KEYS + (CATEGORY_KEY,))
        super().__init__(meta_keys=meta_keys, **kwargs)

    def transform(self, results: dict) -> dict:
        results = dict(results)
        results.setdefault('category_idx', -1)
        results[CATEGORY_KEY] = torch.tensor(
            int(results['category_idx']), dtype=torch.int64
        )
        for key in ATTR_KEYS:
            if key in results:
                results[key] = torch.from_numpy(
                    np.ascontiguousarray(results[key], dtype=np.uint8)
                )
        return super().transform(results)
