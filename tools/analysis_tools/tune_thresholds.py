"""Choose thresholds per attribute and per value on validation predictions.

    # 1. predictions on the validation set (mmpretrain's test.py dumps them)
    python tools/test.py CONFIG CHECKPOINT --out val_preds.pkl \\
        --cfg-options test_dataloader.dataset.ann_file=val.jsonl
    # 2. thresholds: maximise F1 ...
    python tools/analysis_tools/tune_thresholds.py val_preds.pkl \\
        --config CONFIG --out thresholds.json
    # ... or reach a target precision
    python tools/analysis_tools/tune_thresholds.py val_preds.pkl \\
        --config CONFIG --mode precision --target-precision 0.9 \\
        --out thresholds.json

The JSON (``default``, ``attributes``, ``values``, plus ``support``,
``fallback``, ``stats`` and ``meta``) is accepted by
``AttributeMetric(thresholds=...)``, ``AttributeMetricSuite``,
``tools/misc/infer.py --thresholds`` and
``AttributeExtractor(thresholds=...)``.
Values (attributes) with fewer than ``--min-support`` labelled positives
fall back to their attribute's (the global) threshold. The schema is the
one of ``--config``'s head, or ``--schema``.
"""

import argparse
import json
import os.path as osp
import sys

import mmfashion_attr  # noqa: F401
from mmfashion_attr.evaluation.threshold_tuning import (
    summarize,
    tune_thresholds,
)
from tools.common.prediction_args import (
    add_prediction_args,
    predictions_from_args,
)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_prediction_args(p)
    p.add_argument('--out', required=True, help='thresholds JSON to write')
    p.add_argument('--mode', choices=('f1', 'precision'), default='f1')
    p.add_argument(
        '--target-precision', type=float, help='with --mode precision'
    )
    p.add_argument(
        '--min-support',
        type=int,
        default=10,
        help='labelled positives needed to tune a value or '
        'attribute (default 10)',
    )
    p.add_argument(
        '--default',
        type=float,
        default=0.3,
        help='global threshold if it cannot be tuned (0.3)',
    )
    p.add_argument(
        '--no-per-value', action='store_true', help='tune per attribute only'
    )
    p.add_argument(
        '--no-category-mask',
        action='store_true',
        help='count values not allowed for the category too',
    )
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.mode == 'precision' and args.target_precision is None:
        sys.exit('--mode precision needs --target-precision')
    schema, scores, gt, mask, _ = predictions_from_args(
        args, use_category_mask=not args.no_category_mask
    )
    thr = tune_thresholds(
        schema,
        scores,
        gt,
        mask,
        mode=args.mode,
        target_precision=args.target_precision,
        min_support=args.min_support,
        default=args.default,
        per_value=not args.no_per_value,
    )
    thr['meta']['predictions'] = osp.abspath(args.predictions)
    with open(args.out, 'w', encoding='utf-8') as f:
        json.dump(thr, f, indent=1)
    print(summarize(thr))
    print(f'-> {args.out}')


if __name__ == '__main__':
    main()
