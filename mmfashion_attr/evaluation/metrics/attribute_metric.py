"""Per-attribute micro precision / recall / F1 (paper, section 5.3)."""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmpretrain.registry import METRICS

from ...structures import AttributeSchema
from ..thresholds import threshold_vector


def micro_prf(
    pred: np.ndarray, gt: np.ndarray, mask: np.ndarray
) -> Dict[str, float]:
    """Micro precision, recall and F1 over the masked entries.

    Args:
        pred: Bool predictions.
        gt: Bool ground truth.
        mask: Bool, True where the entry counts.

    Returns:
        dict with ``precision``, ``recall``, ``micro_f1``, ``support``
        (labelled positives) and ``num_labelled`` (labelled entries).
        Undefined ratios (0 / 0) are 0, as in scikit-learn's
        ``zero_division=0``.
    """
    tp = np.count_nonzero(pred & gt & mask)
    fp = np.count_nonzero(pred & ~gt & mask)
    fn = np.count_nonzero(~pred & gt & mask)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    return dict(
        precision=precision,
        recall=recall,
        micro_f1=f1,
        support=int(np.count_nonzero(gt & mask)),
        num_labelled=int(np.count_nonzero(mask)),
    )


@METRICS.register_module()
class AttributeMetric(BaseMetric):
    """Per-attribute micro F1, precision and recall, and their means.

    Only labelled entries count: missing attributes, unknown values and
    (with ``use_category_mask``) values not allowed for the sample's
    category are left out. Keys::

        attr/<attribute>/micro_f1, attr/<attribute>/precision,
        attr/<attribute>/recall, attr/mean_micro_f1,
        attr/mean_precision, attr/mean_recall

    The means are over attributes with at least one labelled entry.
    Results are collected per sample, so mmengine's distributed collection
    drops the padded duplicates of the last batch and no rank waits for
    another inside a per-attribute computation.

    Args:
        schema: Attribute schema. Defaults to the dataset's
            (``dataset_meta['schema']``).
        thresholds: A float (paper: 0.3), a dict or a JSON file with
            per-attribute / per-value thresholds.
        use_category_mask: Leave out values not allowed for the category.
        collect_device: ``cpu`` or ``gpu``.
        prefix: Key prefix. Defaults to ``attr``.
    """

    default_prefix = 'attr'

    def __init__(
        self,
        schema: Union[None, str, dict, AttributeSchema] = None,
        thresholds: Union[float, str, dict] = 0.3,
        use_category_mask: bool = True,
        collect_device: str = 'cpu',
        prefix: Optional[str] = None,
    ) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self._schema = (
            None if schema is None else AttributeSchema.build(schema)
        )
        self.thresholds = thresholds
        self.use_category_mask = use_category_mask

    @property
    def schema(self) -> AttributeSchema:
        if self._schema is None:
            meta = self.dataset_meta or {}
            if 'schema' not in meta:
                raise ValueError(
                    'AttributeMetric needs a schema: pass schema=... or use a '
                    "dataset whose metainfo has 'schema'"
                )
            self._schema = AttributeSchema.from_dict(meta['schema'])
        return self._schema

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        # Exactly one result per sample, in order: mmengine's distributed
        # collection interleaves the ranks' lists and cuts the padded
        # duplicates by position. An unlabelled sample is fully masked.
        for s in data_samples:
            score = _np(s['pred_score']).astype(np.float32)
            if 'gt_attr' in s:
                gt = _np(s['gt_attr']).astype(bool)
                mask = _np(s['gt_attr_mask']).astype(bool)
            else:
                gt = mask = np.zeros(score.shape, dtype=bool)
            self.results.append(
                dict(
                    pred_score=score,
                    gt_attr=gt,
                    gt_attr_mask=mask,
                    category_idx=int(s.get('category_idx', -1)),
                )
            )

    def stack(self, results: List[dict]):
        """``(scores, gt, mask)`` arrays with the category mask applied."""
        scores = np.stack([r['pred_score'] for r in results])
        gt = np.stack([r['gt_attr'] for r in results])
        mask = np.stack([r['gt_attr_mask'] for r in results])
        if self.use_category_mask:
            allowed = self.schema.allowed_matrix()
            cats = np.array([r['category_idx'] for r in results])
            mask &= allowed[cats]
        return scores, gt, mask

    def predictions(self, results: List[dict]):
        """``(scores, gt, mask, pred)`` arrays of the collected results:
        :meth:`stack` and the thresholded scores."""
        scores, gt, mask = self.stack(results)
        pred = scores >= threshold_vector(self.schema, self.thresholds)
        return scores, gt, mask, pred

    def attribute_summary(
        self,
        scores: np.ndarray,
        gt: np.ndarray,
        mask: np.ndarray,
        pred: np.ndarray,
    ) -> Dict[str, float]:
        """``<a>/micro_f1``, ``<a>/precision``, ``<a>/recall`` of the
        attributes with a labelled entry and their ``mean_*``."""
        out: Dict[str, float] = {}
        per_attr = []
        for i, a in enumerate(self.schema.attributes):
            sl = self.schema.slice(i)
            m = micro_prf(pred[:, sl], gt[:, sl], mask[:, sl])
            if m['num_labelled'] == 0:
                continue
            per_attr.append(m)
            for k in ('micro_f1', 'precision', 'recall'):
                out[f'{a.name}/{k}'] = m[k]
        for k in ('micro_f1', 'precision', 'recall'):
            out[f'mean_{k}'] = (
                float(np.mean([m[k] for m in per_attr])) if per_attr else 0.0
            )
        return out

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        if not results:
            return {}
        return self.attribute_summary(*self.predictions(results))


def _np(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)
