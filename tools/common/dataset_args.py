"""Command-line options of the dataset tools (``convert.py``, ``check.py``).

The formats and their converters are the table
:data:`mmfashion_attr.datasets.converters.CONVERTERS`; this module only
turns it into command-line options and back into converter options.
"""

from __future__ import annotations

import argparse
import sys
from typing import Dict, Optional, Tuple

from mmfashion_attr.datasets.converters import (
    DEFAULT_MAX_REJECT_RATIO,
    MAYBE_CHOICES,
    PAPER_SUPERCATEGORIES,
    Conversion,
    ConversionError,
    convert_sources,
    converter_options,
    default_img_root,
    formats,
)
from mmfashion_attr.datasets.converters.deepfashion import (
    ANNO_DIRS,
    LABEL_SEMANTICS,
)


def format_parser(doc: str) -> argparse.ArgumentParser:
    """A parser described by the first line of ``doc``, with
    :func:`add_format_args`."""
    parser = argparse.ArgumentParser(description=doc.split('\n')[0])
    add_format_args(parser)
    return parser


def add_format_args(parser: argparse.ArgumentParser) -> None:
    """Add FORMAT, SRC... and every format's options."""
    known = formats()
    parser.add_argument(
        'format',
        choices=sorted(known),
        metavar='FORMAT',
        help='; '.join(f'{k}: {v}' for k, v in known.items()),
    )
    parser.add_argument(
        'sources',
        nargs='+',
        metavar='SRC',
        help='SPLIT=PATH annotation files (a bare PATH is train); '
        'deepfashion: the benchmark root folder',
    )
    parser.add_argument(
        '--img-root',
        help='folder the images are relative to (default: the folder of '
        'the first annotation file; deepfashion: its root)',
    )
    parser.add_argument('--no-progress', action='store_true')
    parser.add_argument(
        '--max-reject-ratio',
        type=float,
        default=DEFAULT_MAX_REJECT_RATIO,
        help='fail when more than this share of the source items (rows, '
        'lines, annotations) is rejected for errors (default: '
        f'{DEFAULT_MAX_REJECT_RATIO})',
    )
    g = parser.add_argument_group('format options')
    g.add_argument('--schema', help='catalog: the schema JSON')
    g.add_argument(
        '--label-map', help='imat2018: iMat_fashion_2018_label_map_228.csv'
    )
    g.add_argument(
        '--tasks', nargs='+', help='imat2018: tasks to keep (default all)'
    )
    g.add_argument(
        '--ontology',
        help='fashionpedia: ontology JSON when the annotation '
        'files lack it (e.g. fashionpedia_label_descriptions.json); '
        'imat2020-*: label_descriptions.json (required)',
    )
    g.add_argument(
        '--anno-dir',
        help='deepfashion: annotation folder under the root, '
        f'{"/".join(ANNO_DIRS)} (default: the only one there)',
    )
    g.add_argument(
        '--label-semantics',
        choices=sorted(LABEL_SEMANTICS),
        help='deepfashion: meaning of the labels of list_attr_img.txt / '
        '<split>_attr.txt: 1/-1/0 (positive/negative/unknown) or 0/1 '
        '(negative/positive); default: 0/1 for Anno_fine, else 1/-1/0',
    )
    g.add_argument(
        '--supercategories',
        nargs='+',
        default=list(PAPER_SUPERCATEGORIES),
        help='fashionpedia: attribute supercategories used as '
        "tasks (default: the paper's six)",
    )
    g.add_argument(
        '--split-length',
        action='store_true',
        help='fashionpedia: split length into garment_length and '
        'sleeve_length',
    )
    g.add_argument(
        '--img-prefix',
        nargs='+',
        default=[],
        metavar='SPLIT=DIR',
        help="fashionpedia/imat2018/imat2020: folder of each split's "
        'images, relative to the image root (Fashionpedia: '
        'train=train val=test; imat2020 default: train)',
    )
    g.add_argument(
        '--margin',
        type=float,
        default=0.1,
        help='fashionpedia-inst/imat2020-inst: context margin around the box',
    )
    g.add_argument(
        '--min-allowed-count',
        type=int,
        default=1,
        help='fashionpedia-inst/imat2020-inst: min count of a value on a '
        'category in train to be allowed',
    )
    g.add_argument(
        '--no-category-attribute',
        action='store_true',
        help='fashionpedia-inst/imat2020-inst/deepfashion: no category branch',
    )
    g.add_argument(
        '--maybe',
        choices=MAYBE_CHOICES,
        default='unknown',
        help='fashionai: meaning of "m" (maybe)',
    )
    g.add_argument(
        '--keep-empty',
        action='store_true',
        help='keep images with none of the chosen attributes',
    )


def _pairs(items) -> Dict[str, str]:
    out = {}
    for it in items:
        k, sep, v = it.partition('=')
        if not sep:
            raise SystemExit(f'expected SPLIT=DIR, got {it!r}')
        out[k] = v
    return out


def prepare(args: argparse.Namespace) -> Tuple[str, dict]:
    """``(img_root, converter options)`` from the parsed arguments: every
    option value, of which the format's converter takes its own."""
    img_root = args.img_root or default_img_root(args.format, args.sources)
    values = dict(
        schema=args.schema,
        label_map=args.label_map,
        tasks=args.tasks,
        ontology=args.ontology,
        supercategories=args.supercategories,
        split_length=args.split_length,
        img_prefix=_pairs(args.img_prefix) or None,
        margin=args.margin,
        min_allowed_count=args.min_allowed_count,
        category_attribute=not args.no_category_attribute,
        maybe=args.maybe,
        keep_empty=args.keep_empty,
        anno_dir=args.anno_dir,
        labels=args.label_semantics,
        root=img_root,
        progress=not args.no_progress,
    )
    return img_root, converter_options(args.format, values)


def convert_from_args(
    args: argparse.Namespace, on_error: str = 'collect'
) -> Tuple[str, Optional[Conversion]]:
    """``(img_root, conversion)`` of the parsed arguments; the conversion
    is None, and the error printed, when the sources cannot be read."""
    img_root, opts = prepare(args)
    try:
        conv = convert_sources(
            args.format, args.sources, on_error=on_error, **opts
        )
    except (ConversionError, OSError) as e:
        print(f'error: {e}', file=sys.stderr)
        return img_root, None
    except UnicodeDecodeError as e:
        print(f'error: a source file is not UTF-8 text ({e})', file=sys.stderr)
        return img_root, None
    return img_root, conv
