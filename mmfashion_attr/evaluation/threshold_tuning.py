"""Choose decision thresholds per attribute and per value on validation data.

The paper thresholds every sigmoid at 0.3 (Parekh & Shaik, VISAPP 2023,
section 5.3). A catalog ships an extractor whose thresholds are chosen per
attribute and per value on validation predictions, either to maximise F1 or
to reach a target precision. The result is the threshold JSON read by
:func:`~mmfashion_attr.evaluation.thresholds.load_thresholds`
(metrics, inference, ONNX serving)::

    {"default": 0.35,
     "attributes": {"colour": 0.42},
     "values": {"colour/red": 0.51},
     "support": {"attributes": {"colour": 812}, "values": {"colour/red": 96}},
     "fallback": {"colour/purple": "attribute"},
     "stats": {...}, "meta": {...}}

A threshold ``t`` predicts ``score >= t``; the chosen ``t`` is one of the
observed scores. A value (attribute) whose labelled positives are fewer
than ``min_support`` gets no entry and falls back to its attribute's (the
global) threshold; so does one whose target precision is not reached.
"""

from __future__ import annotations

from typing import Dict, Optional

import numpy as np

from ..structures import AttributeSchema
from .metrics.attribute_metric_suite import precision_recall_curve

MODES = ('f1', 'precision')


def choose_threshold(
    scores: np.ndarray,
    gt: np.ndarray,
    mode: str = 'f1',
    target_precision: Optional[float] = None,
) -> Optional[dict]:
    """The threshold for one pool of labelled (score, label) entries.

    Args:
        scores: 1-D scores.
        gt: 1-D bool labels.
        mode: ``f1``: maximise F1 (ties: the highest threshold);
            ``precision``: the lowest threshold whose precision reaches
            ``target_precision`` (the highest recall at that precision).
        target_precision: Required for ``mode='precision'``.

    Returns:
        ``dict(threshold, f1, precision, recall)``, or None when there is
        no positive or the target precision is not reached.
    """
    if mode not in MODES:
        raise ValueError(f'mode must be one of {MODES}, not {mode!r}')
    if mode == 'precision' and target_precision is None:
        raise ValueError("mode='precision' needs target_precision")
    if not np.any(gt):
        return None
    precision, recall, thr = precision_recall_curve(scores, gt)
    den = precision + recall
    f1 = np.divide(
        2 * precision * recall, den, out=np.zeros_like(den), where=den > 0
    )
    if mode == 'f1':
        k = int(np.argmax(f1))  # first maximum = highest threshold
    else:
        ok = np.flatnonzero(precision >= target_precision - 1e-12)
        if ok.size == 0:
            return None
        k = int(ok[-1])
    return dict(
        threshold=float(thr[k]),
        f1=float(f1[k]),
        precision=float(precision[k]),
        recall=float(recall[k]),
    )


def tune_thresholds(
    schema: AttributeSchema,
    scores: np.ndarray,
    gt: np.ndarray,
    mask: np.ndarray,
    mode: str = 'f1',
    target_precision: Optional[float] = None,
    min_support: int = 10,
    default: float = 0.3,
    per_value: bool = True,
) -> dict:
    """Thresholds for the whole schema from validation predictions.

    Three levels, each pooled over its labelled entries: global (all
    values), per attribute (its values share one threshold: micro F1) and
    per value. A level with fewer than ``min_support`` labelled positives,
    or where the target is not reached, is left out and falls back to the
    level above (global: ``default``).

    Args:
        schema: The attribute schema.
        scores: ``(N, V)`` sigmoid scores.
        gt: ``(N, V)`` bool labels.
        mask: ``(N, V)`` bool, True where labelled (category mask applied).
        mode: ``f1`` or ``precision`` (see :func:`choose_threshold`).
        target_precision: The precision to reach with ``mode='precision'``.
        min_support: Labelled positives needed to tune a level.
        default: Global threshold when it cannot be tuned.
        per_value: Also tune per value. Defaults to True.

    Returns:
        The threshold dict (JSON-serialisable), see the module docstring.
    """
    scores = np.asarray(scores, dtype=np.float32)
    gt = np.asarray(gt, dtype=bool)
    mask = np.asarray(mask, dtype=bool)

    def tune(sel_scores, sel_gt):
        support = int(np.count_nonzero(sel_gt))
        res = None
        if support >= min_support:
            res = choose_threshold(sel_scores, sel_gt, mode, target_precision)
        return support, res

    support, res = tune(scores[mask], gt[mask])
    out = dict(
        default=res['threshold'] if res else float(default),
        attributes={},
        values={},
        support=dict(all=support, attributes={}, values={}),
        fallback={},
        stats=dict(attributes={}, values={}),
    )
    if res:
        out['stats']['all'] = res
    else:
        out['fallback']['*'] = 'default'
    for i, a in enumerate(schema.attributes):
        sl = schema.slice(i)
        m = mask[:, sl]
        support, res = tune(scores[:, sl][m], gt[:, sl][m])
        out['support']['attributes'][a.name] = support
        if res:
            out['attributes'][a.name] = res['threshold']
            out['stats']['attributes'][a.name] = res
        else:
            out['fallback'][a.name] = 'global'
        if not per_value:
            continue
        for j, v in enumerate(a.values):
            k = sl.start + j
            key = f'{a.name}/{v}'
            support, res = tune(scores[mask[:, k], k], gt[mask[:, k], k])
            out['support']['values'][key] = support
            if res:
                out['values'][key] = res['threshold']
                out['stats']['values'][key] = res
            else:
                out['fallback'][key] = (
                    'attribute' if a.name in out['attributes'] else 'global'
                )
    out['meta'] = dict(
        mode=mode,
        target_precision=target_precision,
        min_support=int(min_support),
        default=float(default),
        num_samples=int(len(scores)),
    )
    return out


def summarize(thresholds: Dict) -> str:
    """A short human-readable table of a threshold dict."""
    lines = [f'default {thresholds["default"]:.4f}']
    for name, t in thresholds['attributes'].items():
        n = thresholds.get('support', {}).get('attributes', {}).get(name)
        lines.append(f'{name:<24} {t:.4f}  (support {n})')
    lines.append(
        f'{len(thresholds["values"])} value thresholds, '
        f'{len(thresholds.get("fallback", {}))} fallbacks'
    )
    return '\n'.join(lines)
