"""Convert a public fashion-attribute dataset into the catalog format.

Writes ``schema.json`` and ``<split>.jsonl`` into ``--out`` (and, for
``fashionpedia-inst``, the garment crops under ``--out/crops/``), ready for
``CatalogDataset`` and the configs in ``configs/public/``. Examples
(docs/en/user_guides/dataset_prepare.md has one per dataset)::

    python tools/dataset_converters/convert.py fashionpedia-attr \
        train=data/fashionpedia/attributes_train2020.json \
        val=data/fashionpedia/attributes_val2020.json \
        --img-prefix train=train val=test --out data/fashionpedia/attr
    python tools/dataset_converters/convert.py deepfashion data/deepfashion \
        --out data/deepfashion/catalog
"""

import json
import os.path as osp
import sys

from mmfashion_attr.datasets.converters import (
    ConversionError,
    holdout_split,
    write_conversion,
)
from tools.common.dataset_args import convert_from_args, format_parser


def parse_args(argv=None):
    parser = format_parser(__doc__)
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument(
        '--val-fraction',
        type=float,
        help='hold out this fraction of train as val (deterministic, by '
        'image path), for sets without a labelled val split (FashionAI)',
    )
    parser.add_argument(
        '--schema-only', action='store_true', help='write only schema.json'
    )
    parser.add_argument(
        '--strict',
        action='store_true',
        help='stop at the first error in the sources '
        '(default: skip and count them)',
    )
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    img_root, conv = convert_from_args(
        args, on_error='raise' if args.strict else 'collect'
    )
    if conv is None:
        return 2
    if args.val_fraction:
        try:
            holdout_split(conv, args.val_fraction)
        except ConversionError as e:
            print(f'error: {e}', file=sys.stderr)
            return 2
    if args.schema_only:
        conv.splits, conv.crops = {}, {}
    written = write_conversion(
        conv, args.out, img_root=img_root, progress=not args.no_progress
    )
    rep = conv.report
    print(
        json.dumps(
            dict(
                written=written,
                stats=rep.stats,
                errors=rep.error_counts,
                warnings=rep.warning_counts,
            ),
            indent=1,
        )
    )
    for msg in rep.errors[:20]:
        print(f'skipped: {msg}', file=sys.stderr)
    if rep.num_errors:
        print(
            f'{rep.num_errors} source errors were skipped; run '
            'tools/dataset_converters/check.py for the full list',
            file=sys.stderr,
        )
    print(f'schema: {osp.join(args.out, "schema.json")}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
