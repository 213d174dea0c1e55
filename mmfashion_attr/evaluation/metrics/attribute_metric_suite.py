"""The full attribute metric suite: micro / macro F1, mAP, per value, per
group of the paper's Table 2 and per product category.

Parekh & Shaik (VISAPP 2023) report per-attribute micro F1 at a threshold of
0.3 (section 5.3) and discuss the gains per attribute type (small / large
region of interest, coarse / fine grained, Table 2). This suite adds what a
catalog team needs to choose thresholds and compare models: macro F1 and
mean average precision per attribute, precision / recall / F1 / support per
value, means over the schema's groups and, optionally, per category.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Union

import numpy as np
from mmpretrain.registry import METRICS

from ...structures import AttributeSchema
from .attribute_metric import AttributeMetric, micro_prf


def ranking_counts(scores: np.ndarray, gt: np.ndarray):
    """True / false positives when predicting ``score >= t`` for every
    distinct score ``t``, from the highest threshold down.

    Args:
        scores: 1-D scores.
        gt: 1-D bool ground truth, same length.

    Returns:
        ``(thresholds, tp, fp)``, each 1-D with one entry per distinct score
        (descending thresholds, non-decreasing counts).
    """
    scores = np.asarray(scores, dtype=np.float64).ravel()
    gt = np.asarray(gt, dtype=bool).ravel()
    if scores.size == 0:
        empty = np.zeros(0)
        return empty, empty.astype(np.int64), empty.astype(np.int64)
    order = np.argsort(-scores, kind='mergesort')
    s = scores[order]
    y = gt[order].astype(np.int64)
    tps = np.cumsum(y)
    fps = np.cumsum(1 - y)
    last = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]
    return s[last], tps[last], fps[last]


def precision_recall_curve(scores: np.ndarray, gt: np.ndarray):
    """Precision and recall of ``score >= t`` for every distinct score.

    Same points as ``sklearn.metrics.precision_recall_curve`` (without its
    final ``(precision=1, recall=0)`` point), ordered from the highest
    threshold down.

    Returns:
        ``(precision, recall, thresholds)``; recall is 0 where there is no
        positive.
    """
    thr, tp, fp = ranking_counts(scores, gt)
    positives = int(np.count_nonzero(gt))
    precision = tp / np.maximum(tp + fp, 1)
    recall = tp / positives if positives else np.zeros_like(precision)
    return precision, recall, thr


def average_precision(scores: np.ndarray, gt: np.ndarray) -> float:
    """Average precision ``sum_k (R_k - R_{k-1}) P_k`` (scikit-learn's
    definition, ties handled as one threshold); ``nan`` without positives."""
    if not np.any(gt):
        return float('nan')
    precision, recall, _ = precision_recall_curve(scores, gt)
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def value_counts(
    pred: np.ndarray, gt: np.ndarray, mask: np.ndarray
) -> Dict[str, np.ndarray]:
    """Per column (value) counts over the masked entries of ``(N, V)``
    arrays: ``tp``, ``fp``, ``fn``, ``support`` (labelled positives) and
    ``labelled``."""
    return dict(
        tp=np.count_nonzero(pred & gt & mask, axis=0),
        fp=np.count_nonzero(pred & ~gt & mask, axis=0),
        fn=np.count_nonzero(~pred & gt & mask, axis=0),
        support=np.count_nonzero(gt & mask, axis=0),
        labelled=np.count_nonzero(mask, axis=0),
    )


def _ratio(num, den) -> np.ndarray:
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def value_prf(counts: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
    """Per value precision, recall and F1 (0 where undefined, as
    scikit-learn's ``zero_division=0``)."""
    tp, fp, fn = counts['tp'], counts['fp'], counts['fn']
    return dict(
        precision=_ratio(tp, tp + fp),
        recall=_ratio(tp, tp + fn),
        f1=_ratio(2 * tp, 2 * tp + fp + fn),
    )


SUMMARY_KEYS = ('micro_f1', 'macro_f1', 'mAP', 'precision', 'recall')


@METRICS.register_module()
class AttributeMetricSuite(AttributeMetric):
    """Per-attribute, per-value, per-group and per-category metrics.

    Extends :class:`AttributeMetric` (same thresholds, masking and keys):
    only labelled entries count (missing attributes, unknown values and,
    with ``use_category_mask``, values not allowed for the category are
    left out). Keys, all under the prefix ``attr/``:

    * per attribute: ``<a>/micro_f1``, ``<a>/precision``, ``<a>/recall``
      (as the core metric), ``<a>/macro_f1`` (mean F1 over the attribute's
      values that have a labelled entry) and ``<a>/mAP`` (mean average
      precision over its values with a labelled positive; the key is absent
      when there is none);
    * means over attributes: ``mean_micro_f1``, ``mean_precision``,
      ``mean_recall``, ``mean_macro_f1``, ``mean_mAP``;
    * per group the schema declares (``roi/small``, ``roi/large``,
      ``granularity/coarse``, ``granularity/fine``; paper, Table 2):
      ``group/<axis>/<group>/mean_<m>`` for the five metrics above;
    * with ``per_value``: ``<a>/<value>/precision``, ``recall``, ``f1``,
      ``AP`` (values with a labelled positive) and ``support`` (number of
      labelled positives) for values with a labelled entry;
    * with ``per_category``: ``by_category/<category>/<a>/micro_f1`` and
      ``by_category/<category>/mean_micro_f1`` over the samples of each
      product category (``unknown`` for samples without one).

    Distributed evaluation: every sample becomes one result (unlabelled
    samples as an all-masked placeholder), so mmengine's ordered collection
    stays aligned across ranks and drops the padded duplicates of the last
    batch; all computation happens once, on the collected results, so no
    rank waits in a per-attribute collective even when it saw no label of
    an attribute.

    Args:
        schema: Attribute schema. Defaults to the dataset's.
        thresholds: A float (paper: 0.3), a dict or a JSON file written by
            ``tools/analysis_tools/tune_thresholds.py``.
        use_category_mask: Leave out values not allowed for the category.
        per_value: Also report per value metrics. Defaults to False.
        per_category: Also report per product category. Defaults to False.
        collect_device: ``cpu`` or ``gpu``.
        prefix: Key prefix. Defaults to ``attr``.
    """

    def __init__(
        self,
        schema: Union[None, str, dict, AttributeSchema] = None,
        thresholds: Union[float, str, dict] = 0.3,
        use_category_mask: bool = True,
        per_value: bool = False,
        per_category: bool = False,
        collect_device: str = 'cpu',
        prefix: Optional[str] = None,
    ) -> None:
        super().__init__(
            schema=schema,
            thresholds=thresholds,
            use_category_mask=use_category_mask,
            collect_device=collect_device,
            prefix=prefix,
        )
        self.per_value = per_value
        self.per_category = per_category

    # ------------------------------------------------------------ helpers
    def attribute_metrics(
        self,
        scores: np.ndarray,
        gt: np.ndarray,
        mask: np.ndarray,
        pred: np.ndarray,
    ) -> Dict[str, dict]:
        """``{attribute: metrics}`` for attributes with a labelled entry;
        each holds the summary metrics and a ``values`` dict per value."""
        counts = value_counts(pred, gt, mask)
        prf = value_prf(counts)
        out = {}
        for i, a in enumerate(self.schema.attributes):
            sl = self.schema.slice(i)
            m = micro_prf(pred[:, sl], gt[:, sl], mask[:, sl])
            if m['num_labelled'] == 0:
                continue
            values, f1s, aps = {}, [], []
            for j, v in enumerate(a.values):
                k = sl.start + j
                if counts['labelled'][k] == 0:
                    continue
                keep = mask[:, k]
                ap = average_precision(scores[keep, k], gt[keep, k])
                values[v] = dict(
                    precision=float(prf['precision'][k]),
                    recall=float(prf['recall'][k]),
                    f1=float(prf['f1'][k]),
                    support=int(counts['support'][k]),
                )
                if not np.isnan(ap):
                    values[v]['AP'] = ap
                    aps.append(ap)
                f1s.append(prf['f1'][k])
            m['macro_f1'] = float(np.mean(f1s))
            if aps:
                m['mAP'] = float(np.mean(aps))
            m['values'] = values
            out[a.name] = m
        return out

    @staticmethod
    def means(
        per_attr: Dict[str, dict], names: Sequence[str], prefix: str
    ) -> Dict[str, float]:
        """``<prefix>mean_<metric>`` over the given attributes that have the
        metric (none: the key is absent)."""
        out = {}
        for k in SUMMARY_KEYS:
            vals = [
                per_attr[n][k]
                for n in names
                if n in per_attr and k in per_attr[n]
            ]
            if vals:
                out[f'{prefix}mean_{k}'] = float(np.mean(vals))
        return out

    # ------------------------------------------------------------ compute
    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        if not results:
            return {}
        scores, gt, mask, pred = self.predictions(results)
        out = self.attribute_summary(scores, gt, mask, pred)
        per_attr = self.attribute_metrics(scores, gt, mask, pred)
        for name, m in per_attr.items():
            for k in ('macro_f1', 'mAP'):
                if k in m:
                    out[f'{name}/{k}'] = m[k]
            if self.per_value:
                for v, vm in m['values'].items():
                    for k, x in vm.items():
                        out[f'{name}/{v}/{k}'] = x
        out.update(self.means(per_attr, list(per_attr), ''))
        for group, names in self.schema.groups().items():
            out.update(self.means(per_attr, names, f'group/{group}/'))
        if self.per_category:
            out.update(self._per_category(results, scores, gt, mask, pred))
        return out

    def _per_category(
        self, results, scores, gt, mask, pred
    ) -> Dict[str, float]:
        cats = np.array([r['category_idx'] for r in results])
        names = list(self.schema.categories) + ['unknown']
        out = {}
        for c in np.unique(cats):
            sel = cats == c
            cat, f1s = names[c], []
            for i, a in enumerate(self.schema.attributes):
                sl = self.schema.slice(i)
                m = micro_prf(pred[sel, sl], gt[sel, sl], mask[sel, sl])
                if m['num_labelled']:
                    out[f'by_category/{cat}/{a.name}/micro_f1'] = m['micro_f1']
                    f1s.append(m['micro_f1'])
            if f1s:
                out[f'by_category/{cat}/mean_micro_f1'] = float(np.mean(f1s))
        return out
