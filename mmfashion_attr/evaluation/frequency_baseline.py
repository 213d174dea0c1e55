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


def dataset_labels(dataset) -> tuple:
    """``(gt, mask, category_idx)`` of every sample of a catalog dataset,
    stacked (read from the annotations, no image is decoded)."""
    gt, mask, cat = zip(*(dataset.get_gt_attr(i) for i in range(len(dataset))))
    return np.stack(gt), np.stack(mask), np.array(cat)


def constant_predictor_metrics(cfg) -> tuple:
    """Metrics of the best constant predictor on a config's test set.

    Every value is scored by its frequency in the config's training set
    (:func:`value_frequencies`), thresholded like the model (the test
    evaluator's ``thresholds``, else 0.3) and scored by
    :class:`AttributeMetric` on the test set.

    Args:
        cfg: An mmengine ``Config`` with ``train_dataloader`` and
            ``test_dataloader``.

    Returns:
        ``(metrics, schema)``: the metric dict (``attr/<a>/micro_f1``...)
        and the test set's schema.
    """
    from mmpretrain.registry import DATASETS

    from .metrics import AttributeMetric

    train = DATASETS.build(dict(cfg.train_dataloader.dataset, pipeline=[]))
    test = DATASETS.build(dict(cfg.test_dataloader.dataset, pipeline=[]))
    freq = value_frequencies(train.schema, *dataset_labels(train))
    gt, mask, cat = dataset_labels(test)
    evaluator = cfg.get('test_evaluator') or {}
    if isinstance(evaluator, (list, tuple)):
        evaluator = next((e for e in evaluator if 'thresholds' in e), {})
    thr = evaluator.get('thresholds', 0.3)
    metric = AttributeMetric(schema=test.schema, thresholds=thr)
    metric.process(
        None,
        [
            dict(pred_score=freq, gt_attr=g, gt_attr_mask=m, category_idx=c)
            for g, m, c in zip(gt, mask, cat)
        ],
    )
    metrics = metric.evaluate(len(gt))
    return metrics, test.schema
