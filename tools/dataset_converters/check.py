"""Validate an annotation set before a long run.

Reports unreadable/corrupt/missing images, unknown ids, duplicate records,
values outside a category's allowed set and attributes that are never
labelled; prints per-attribute and per-value counts, missing rates and
imbalance. A split without records, or more rejected source items than
``--max-reject-ratio``, is an error. Exit status: 0 clean, 1 errors found,
2 the files could not be read at all (missing, not UTF-8 text, an
``.xlsx`` workbook instead of a CSV, a broken layout) or the ``--json``
report could not be written. Examples::

    python tools/dataset_converters/check.py catalog \
        train=data/catalog/train.jsonl val=data/catalog/val.jsonl \
        --schema data/catalog/schema.json
    python tools/dataset_converters/check.py fashionpedia-attr \
        train=data/fashionpedia/attributes_train2020.json \
        --img-prefix train=train
"""

import json
import sys
from dataclasses import asdict

from mmfashion_attr.datasets.converters import conversion_problems
from mmfashion_attr.datasets.dataset_check import (
    IMAGE_CHECKS,
    check_conversion,
    format_report,
)
from tools.common.dataset_args import convert_from_args, format_parser


def parse_args(argv=None):
    parser = format_parser(__doc__)
    parser.add_argument(
        '--images',
        choices=IMAGE_CHECKS,
        default='decode',
        help='image check: none, exists, decode (default)',
    )
    parser.add_argument(
        '--workers', type=int, default=4, help='threads for the image check'
    )
    parser.add_argument(
        '--max-values',
        type=int,
        default=50,
        help='values listed per attribute',
    )
    parser.add_argument('--json', help='also write the findings as JSON')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    img_root, conv = convert_from_args(args)
    if conv is None:
        return 2
    learned = (
        [s for s in conv.splits if s != 'train']
        if args.format.endswith('-inst')
        else []
    )
    res = check_conversion(
        conv,
        img_root=img_root,
        images=args.images,
        workers=args.workers,
        progress=not args.no_progress,
        learned_allowed_splits=learned,
    )
    print(format_report(res, max_values=args.max_values))
    problems = conversion_problems(conv, args.max_reject_ratio)
    for p in problems:
        print(f'error: {p}', file=sys.stderr)
    if args.json:
        out = dict(
            ok=res.ok and not problems,
            problems=problems,
            errors=res.errors,
            error_counts=res.error_counts,
            warnings=res.warnings,
            warning_counts=res.warning_counts,
            num_records=res.num_records,
            stats={
                s: [
                    dict(
                        asdict(a),
                        missing_rate=a.missing_rate,
                        imbalance=a.imbalance,
                    )
                    for a in st
                ]
                for s, st in res.stats.items()
            },
        )
        try:
            with open(args.json, 'w', encoding='utf-8') as f:
                json.dump(out, f, indent=1, default=str)
        except OSError as e:
            print(f'error: cannot write {args.json}: {e}', file=sys.stderr)
            return 2
    return 0 if res.ok and not problems else 1


if __name__ == '__main__':
    sys.exit(main())
