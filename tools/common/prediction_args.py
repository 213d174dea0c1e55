"""Command-line options of the tools that read ``tools/test.py --out``
prediction files (``tune_thresholds.py``, ``pr_curves.py``)."""

from __future__ import annotations

import argparse

from mmfashion_attr.evaluation.predictions import read_predictions


def add_prediction_args(parser: argparse.ArgumentParser) -> None:
    """The ``PREDICTIONS.pkl`` argument and ``--config`` / ``--schema``."""
    parser.add_argument('predictions', help='tools/test.py --out FILE.pkl')
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument('--config', help='config whose head names the schema')
    src.add_argument('--schema', help='schema.json')


def predictions_from_args(
    args: argparse.Namespace, use_category_mask: bool = True
):
    """``(schema, scores, gt, mask, category_idx)`` for arguments of
    :func:`add_prediction_args`."""
    return read_predictions(
        args.predictions,
        config=args.config,
        schema=args.schema,
        use_category_mask=use_category_mask,
    )
