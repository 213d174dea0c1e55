"""Command-line options shared by ``tools/dataset/convert.py`` and
``tools/dataset/check.py``."""

from __future__ import annotations

import argparse
from typing import Dict

from . import FORMATS
from .deepfashion import ANNO_DIRS, LABEL_SEMANTICS
from .fashionai import MAYBE_CHOICES
from .fashionpedia import PAPER_SUPERCATEGORIES
from .outcome import DEFAULT_MAX_REJECT_RATIO


def add_format_args(parser: argparse.ArgumentParser) -> None:
    """Add FORMAT, SRC... and every format's options."""
    parser.add_argument(
        'format',
        choices=sorted(FORMATS),
        metavar='FORMAT',
        help='; '.join(f'{k}: {v}' for k, v in FORMATS.items()),
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


def options_from_args(args: argparse.Namespace, img_root: str = None) -> dict:
    """The converter keyword arguments of ``args.format``."""
    fmt = args.format
    if fmt == 'catalog':
        return dict(schema=args.schema) if args.schema else {}
    if fmt.split('-')[0] in ('fashionpedia', 'imat2020'):
        opts = dict(
            supercategories=args.supercategories,
            split_length=args.split_length,
            ontology=args.ontology,
            img_prefix=_pairs(args.img_prefix) or None,
        )
        if fmt.endswith('-attr'):
            opts['keep_empty'] = args.keep_empty
        else:
            opts.update(
                margin=args.margin,
                min_allowed_count=args.min_allowed_count,
                category_attribute=not args.no_category_attribute,
            )
        return opts
    if fmt == 'fashionai':
        return dict(maybe=args.maybe, root=img_root)
    if fmt == 'imat2018':
        opts = dict(
            keep_empty=args.keep_empty,
            img_prefix=_pairs(args.img_prefix) or None,
        )
        if args.label_map:
            opts['label_map'] = args.label_map
        if args.tasks:
            opts['tasks'] = args.tasks
        return opts
    return dict(
        category_attribute=not args.no_category_attribute,
        anno_dir=args.anno_dir,
        labels=args.label_semantics,
    )


def default_img_root(fmt: str, sources) -> str:
    """Where images are looked up when ``--img-root`` is not given: the
    folder of the first annotation file (FashionAI: the common folder of
    the ``label.csv`` roots; DeepFashion: the benchmark root)."""
    import os.path as osp

    from . import parse_sources
    from .fashionai import _csv_root

    if fmt == 'deepfashion':
        return sources[0]
    files = [p for ps in parse_sources(sources).values() for p in ps]
    if fmt == 'fashionai':
        return osp.commonpath([_csv_root(p) for p in files])
    return osp.dirname(osp.abspath(files[0]))


def prepare(args: argparse.Namespace):
    """``(img_root, converter options)`` from the parsed arguments."""
    img_root = args.img_root or default_img_root(args.format, args.sources)
    opts = options_from_args(args, img_root=img_root)
    if args.format != 'catalog':
        opts['progress'] = not args.no_progress
    return img_root, opts
