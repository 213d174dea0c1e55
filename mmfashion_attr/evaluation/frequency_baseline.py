"""The best constant predictor: each value scored by its training frequency.

The reference the demo must beat: for every attribute value, the score is
the fraction of training samples labelled for that value (over the samples
where the value is labelled and allowed) that have it. Thresholded like the
model's scores, it predicts the frequent values for every image.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..structures import AttributeSchema


def value_frequencies(
    schema: AttributeSchema,
    gt: np.ndarray,
    mask: np.ndarray,
    category_idx: Sequence[int],
    use_category_mask: bool = True,
) -> np.ndarray:
    """Positive rate of each flat value over its labelled training entries.

    Args:
        schema: The attribute schema.
        gt: ``(N, V)`` 0/1 labels.
        mask: ``(N, V)`` 1 where labelled.
        category_idx: ``(N,)`` category of each sample (-1 unknown).
        use_category_mask: Count only entries allowed for the category.

    Returns:
        ``float32[V]`` frequencies (0 where never labelled).
    """
    mask = mask.astype(bool)
    if use_category_mask:
        mask = mask & schema.allowed_matrix()[np.asarray(category_idx)]
    pos = (gt.astype(bool) & mask).sum(axis=0)
    n = mask.sum(axis=0)
    return np.where(n > 0, pos / np.maximum(n, 1), 0).astype(np.float32)
