"""Per-attribute precision-recall curves of a test run (matplotlib)."""

from __future__ import annotations

import os
import os.path as osp
import re
from typing import List, Optional, Sequence

import numpy as np

from ..evaluation.metrics.attribute_metric_suite import (
    average_precision,
    precision_recall_curve,
)
from ..evaluation.thresholds import threshold_vector
from ..structures import AttributeSchema


def _operating_point(scores, gt, thr):
    pred = scores >= thr
    tp = np.count_nonzero(pred & gt)
    p = tp / max(np.count_nonzero(pred), 1)
    r = tp / max(np.count_nonzero(gt), 1)
    return r, p


def plot_pr_curves(
    scores: np.ndarray,
    gt: np.ndarray,
    mask: np.ndarray,
    schema: AttributeSchema,
    out_dir: str,
    thresholds=0.3,
    attributes: Optional[Sequence[str]] = None,
    dpi: int = 80,
) -> List[str]:
    """One PNG per attribute: a curve per value (AP in the legend), the
    attribute's pooled (micro) curve, and each value's operating point at
    its threshold.

    Args:
        scores: ``(N, V)`` scores; ``gt``, ``mask``: ``(N, V)`` bool labels
            and labelled entries (category mask applied).
        schema: The schema.
        out_dir: Where ``pr_<attribute>.png`` files go.
        thresholds: Float, dict or JSON file (operating points).
        attributes: Only these attributes. Defaults to all labelled.
        dpi: Resolution of the PNGs.

    Returns:
        The written files.
    """
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    os.makedirs(out_dir, exist_ok=True)
    thr = threshold_vector(schema, thresholds)
    files = []
    for i, a in enumerate(schema.attributes):
        if attributes is not None and a.name not in attributes:
            continue
        sl = schema.slice(i)
        m = mask[:, sl]
        if not np.any(gt[:, sl] & m):
            continue
        fig, ax = plt.subplots(figsize=(5, 4), dpi=dpi)
        p, r, _ = precision_recall_curve(scores[:, sl][m], gt[:, sl][m])
        ap = average_precision(scores[:, sl][m], gt[:, sl][m])
        ax.plot(
            np.r_[0, r],
            np.r_[1, p],
            'k--',
            lw=1.5,
            label=f'all values (AP {ap:.2f})',
        )
        for j, v in enumerate(a.values):
            k = sl.start + j
            keep = mask[:, k]
            if not np.any(gt[keep, k]):
                continue
            p, r, _ = precision_recall_curve(scores[keep, k], gt[keep, k])
            ap = average_precision(scores[keep, k], gt[keep, k])
            (line,) = ax.plot(
                np.r_[0, r], np.r_[1, p], lw=1, label=f'{v} (AP {ap:.2f})'
            )
            ax.plot(
                *_operating_point(scores[keep, k], gt[keep, k], thr[k]),
                'o',
                color=line.get_color(),
                ms=4,
            )
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel('recall')
        ax.set_ylabel('precision')
        ax.set_title(f'{a.name} (dots: operating points)')
        ax.legend(fontsize=7, loc='lower left')
        fig.tight_layout()
        name = re.sub(r'[^\w.-]', '_', a.name)
        path = osp.join(out_dir, f'pr_{name}.png')
        fig.savefig(path)
        plt.close(fig)
        files.append(path)
    return files
