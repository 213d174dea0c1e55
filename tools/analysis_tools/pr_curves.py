"""Per-attribute precision-recall curves from a test run's predictions.

    python tools/test.py CONFIG CHECKPOINT --out preds.pkl
    python tools/analysis_tools/pr_curves.py preds.pkl --config CONFIG \\
        --out-dir work_dirs/pr [--thresholds thresholds.json]

Writes ``pr_<attribute>.png`` per attribute (one curve per value with its
average precision, the attribute's pooled curve, and the operating point
of every value at its threshold). Needs matplotlib (installed with
mmengine).
"""

import argparse

import mmfashion_attr  # noqa: F401
from mmfashion_attr.evaluation.thresholds import parse_thresholds
from mmfashion_attr.visualization.pr_curves import plot_pr_curves
from tools.common.prediction_args import (
    add_prediction_args,
    predictions_from_args,
)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_prediction_args(p)
    p.add_argument('--out-dir', required=True)
    p.add_argument(
        '--thresholds',
        default='0.3',
        help='a float or a thresholds JSON (operating points)',
    )
    p.add_argument('--attributes', nargs='*', help='only these attributes')
    args = p.parse_args(argv)
    schema, scores, gt, mask, _ = predictions_from_args(args)
    files = plot_pr_curves(
        scores,
        gt,
        mask,
        schema,
        args.out_dir,
        parse_thresholds(args.thresholds),
        args.attributes,
    )
    print('\n'.join(files))


if __name__ == '__main__':
    main()
