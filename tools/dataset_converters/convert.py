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
        --anno-dir Anno_coarse --out data/deepfashion/catalog

Exit status: 0 written; 1 the output could not be written (annotation
files, or more crops than ``--max-reject-ratio`` allows); 2 the sources
could not be read or the conversion failed its checks (a split without
records, more rejected source items than ``--max-reject-ratio``), in which
case nothing is written.
"""

import json
import os.path as osp
import sys

from mmfashion_attr.datasets.converters import (
    ConversionError,
    conversion_problems,
    holdout_split,
    unwritten_files,
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
    rep = conv.report
    summary = dict(
        stats=rep.stats,
        inputs=rep.inputs,
        rejected=rep.rejected,
        errors=rep.error_counts,
        warnings=rep.warning_counts,
    )
    problems = conversion_problems(
        conv, args.max_reject_ratio, allow_empty=args.schema_only
    )
    if problems:
        _report_skipped(rep)
        print(json.dumps(summary, indent=1), file=sys.stderr)
        for p in problems:
            print(f'error: {p}', file=sys.stderr)
        print(f'error: nothing written to {args.out}', file=sys.stderr)
        return 2
    try:
        written = write_conversion(
            conv, args.out, img_root=img_root, progress=not args.no_progress
        )
    except OSError as e:
        print(f'error: cannot write {args.out}: {e}', file=sys.stderr)
        return 1
    print(json.dumps(dict(written=written, **summary), indent=1))
    _report_skipped(rep)
    return _check_written(conv, written, args)


def _report_skipped(rep) -> None:
    for msg in rep.warnings[:10]:
        print(f'warning: {msg}', file=sys.stderr)
    for msg in rep.errors[:20]:
        print(f'skipped: {msg}', file=sys.stderr)
    if rep.num_errors:
        print(
            f'{rep.num_errors} source errors were skipped; run '
            'tools/dataset_converters/check.py for the full list',
            file=sys.stderr,
        )


def _check_written(conv, written, args) -> int:
    """1 when an output file or too many crops are not on disk."""
    missing, crops = unwritten_files(conv, written, args.out)
    n_crops = sum(len(j) for j in conv.crops.values())
    too_many = crops > args.max_reject_ratio * n_crops
    for path in missing:
        print(f'error: {path} was not written', file=sys.stderr)
    if crops:
        print(
            f'{"error" if too_many else "warning"}: {crops} of {n_crops} '
            'crops were not written (unreadable source images or boxes '
            'outside them; check --img-root and --img-prefix)',
            file=sys.stderr,
        )
    if missing or too_many:
        return 1
    print(f'schema: {osp.join(args.out, "schema.json")}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
