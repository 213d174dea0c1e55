"""Write the synthetic garment dataset (the embedded default dataset).

Usage::

    python tools/dataset_converters/make_synthetic.py data/synthetic \\
        --num 2000 --seed 0 --img-size 128

writes ``schema.json``, ``train.jsonl``, ``val.jsonl`` (``test.jsonl`` with
``--test-fraction``), ``full_labels.jsonl`` and ``img/*.jpg`` in the catalog
format of ``mmfashion_attr.datasets.CatalogDataset`` (use
``data_root=OUT, ann_file='train.jsonl', schema='schema.json'``).
See :mod:`mmfashion_attr.datasets.synthetic`.
"""

import argparse
import json
import sys


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description='Generate the procedural garment dataset (catalog format).'
    )
    p.add_argument('out', help='output folder')
    p.add_argument('--num', type=int, default=2000, help='number of images')
    p.add_argument('--seed', type=int, default=0, help='random seed')
    p.add_argument(
        '--img-size',
        type=int,
        default=128,
        help='side of the square images in pixels',
    )
    p.add_argument('--val-fraction', type=float, default=0.2)
    p.add_argument(
        '--test-fraction',
        type=float,
        default=0.0,
        help='> 0 also writes test.jsonl',
    )
    p.add_argument(
        '--detail-scale',
        type=float,
        default=1.0,
        help='size factor of necklines and closures (small ROI)',
    )
    p.add_argument(
        '--clutter',
        type=float,
        default=0.5,
        help='0..1: background shapes, noise, chance of a second '
        'garment partly in view',
    )
    p.add_argument(
        '--omission-rate',
        type=str,
        default='0.2',
        help='chance an optional attribute is missing from a '
        'record: a float, or JSON {"attribute": rate}',
    )
    p.add_argument(
        '--unknown-rate',
        type=float,
        default=0.05,
        help='chance a labelled value is written as ?value',
    )
    p.add_argument(
        '--imbalance',
        type=float,
        default=1.0,
        help='Zipf exponent of value frequencies (0: uniform)',
    )
    p.add_argument(
        '--workers', type=int, default=0, help='processes (0: automatic)'
    )
    p.add_argument('--jpeg-quality', type=int, default=90)
    p.add_argument(
        '--overwrite',
        action='store_true',
        help='write into a non-empty folder not made by the generator',
    )
    p.add_argument(
        '--json', action='store_true', help='print the whole summary as JSON'
    )
    return p.parse_args(argv)


def _omission(text: str):
    try:
        return float(text)
    except ValueError:
        pass
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise SystemExit(
            f'--omission-rate: expected a number or a JSON '
            f'object, got {text!r}'
        )
    return {str(k): float(v) for k, v in value.items()}


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmfashion_attr.datasets.synthetic import make_synthetic_dataset

    try:
        summary = make_synthetic_dataset(
            args.out,
            num=args.num,
            seed=args.seed,
            img_size=args.img_size,
            val_fraction=args.val_fraction,
            test_fraction=args.test_fraction,
            detail_scale=args.detail_scale,
            clutter=args.clutter,
            omission_rate=_omission(args.omission_rate),
            unknown_rate=args.unknown_rate,
            imbalance=args.imbalance,
            workers=args.workers,
            jpeg_quality=args.jpeg_quality,
            overwrite=args.overwrite,
        )
    except (ValueError, FileExistsError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(summary, indent=1))
        return 0
    print(
        f'wrote {summary["num"]} images of {summary["img_size"]} px to '
        f'{summary["out_dir"]} in {summary["seconds"]:.1f} s'
    )
    print(
        'splits: '
        + ', '.join(f'{k}={v}' for k, v in summary['splits'].items())
    )
    print(f'{"attribute":<14} {"applies":>7} {"labelled":>8}  top values')
    for attr, rate in summary['labelled_rate'].items():
        counts = summary['value_counts'][attr]
        top = sorted(counts.items(), key=lambda kv: -kv[1])[:3]
        top = ', '.join(f'{v} {c}' for v, c in top)
        print(
            f'{attr:<14} {summary["applicable"][attr]:>7} {rate:>8.1%}  {top}'
        )
    print(
        f'multi-label: colour {summary["multi_label"]["colour"]:.1%}, '
        f'closure {summary["multi_label"]["closure"]:.1%}; unknown values '
        f'{summary["unknown_values"]}, empty lists '
        f'{summary["empty_lists"]}, distractors {summary["distractors"]}'
    )
    return 0


if __name__ == '__main__':
    sys.exit(main())
