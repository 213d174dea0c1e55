"""Extract attributes of images: one JSON line per image.

    python tools/misc/infer.py CONFIG CHECKPOINT INPUT... --out preds.jsonl \\
        [--thr 0.3 | --thresholds thresholds.json] [--vis-dir DIR]

``INPUT`` is any mix of image files, folders (searched recursively) and
lists: a ``.csv`` with an ``img_path`` column (optional ``category`` and
attribute columns in the catalog format) or without a header (first
column = path), a catalog ``.jsonl`` (``img_path``, ``category``,
``attributes``) or a ``.txt`` with one path per line (UTF-8, with or
without a byte order mark). Relative paths in a list are relative to the
list's folder (or ``--data-root``). With ``--use-category`` a listed
category applies the schema's category mask; listed attributes are drawn
as ground truth in the pictures of ``--vis-dir`` (green box: correct, red:
wrong); the image in a picture is shrunk to ``--max-size`` pixels on its
longer side (default: the network's input size). A checkpoint without a
saved schema needs ``--schema``.

In a folder, files with the extension of an allowed format (JPEG, PNG,
WebP, BMP, TIFF, GIF) are processed; files of other image formats
(``.jp2``, ``.heic``, ``.eps`` ...) get an error line; other files are
counted and named on stderr. Every image goes through the decoding path of
training and evaluation: a file that path refuses (not a regular file,
too many bytes or pixels, a format outside the allow-list, truncated,
zero bytes ...) gives ``{"input": ..., "error": "..."}`` and the run goes
on. Each other line is a record of
:class:`mmfashion_attr.apis.AttributeExtractor` (see its docstring).

Exit status: 0 when every input gave attributes, 1 when at least one
input failed (its error line says why), no input was found or a picture
could not be written, 2 for a wrong command line.
"""

import argparse
import csv
import io
import json
import os
import os.path as osp
import sys
from collections import Counter

import mmfashion_attr  # noqa: F401
from mmfashion_attr.apis import AttributeExtractor
from mmfashion_attr.datasets.catalog_format import (
    CatalogFormatError,
    iter_raw_records,
    iter_text_lines,
)
from mmfashion_attr.utils.image_io import (
    IMAGE_EXTENSIONS,
    REFUSED_IMAGE_EXTENSIONS,
)
from mmfashion_attr.visualization import save_picture

ALLOWED = 'JPEG, PNG, WebP, BMP, TIFF, GIF'


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument(
        'inputs',
        nargs='+',
        metavar='INPUT',
        help='image files, folders, .csv / .jsonl / .txt lists',
    )
    p.add_argument('--out', required=True, help='output .jsonl')
    thr = p.add_mutually_exclusive_group()
    thr.add_argument('--thr', type=float, help='one threshold for all')
    thr.add_argument(
        '--thresholds',
        help='JSON of tools/analysis_tools/tune_thresholds.py',
    )
    p.add_argument('--vis-dir', help='write a prediction picture per image')
    p.add_argument(
        '--max-size',
        type=int,
        help='longer side of the image in a picture (default: the '
        "network's input size)",
    )
    p.add_argument(
        '--data-root', help='base of relative paths in .csv/.jsonl/.txt lists'
    )
    p.add_argument(
        '--use-category',
        action='store_true',
        help='apply the category mask of listed categories',
    )
    p.add_argument('--category', help='one category for every image')
    p.add_argument(
        '--schema',
        help='schema.json the checkpoint was trained with (required for '
        'a checkpoint without a saved schema)',
    )
    p.add_argument('--batch-size', type=int, default=8)
    p.add_argument('--device', default='cpu')
    p.add_argument(
        '--scores',
        action='store_true',
        help="also write every allowed value's score",
    )
    p.add_argument('--no-progress', action='store_true')
    return p.parse_args(argv)


def _list_file(path, data_root):
    """Entries ``dict(path, category, gt)`` of a .csv / .jsonl / .txt."""
    base = data_root or osp.dirname(osp.abspath(path))
    ext = osp.splitext(path)[1].lower()
    rows = []
    if ext in ('.txt', '.csv'):
        # UTF-8 with or without a byte order mark; a line in another
        # encoding is an error line naming the file and line
        lines = []
        for _, text in iter_text_lines(path):
            if isinstance(text, Exception):
                rows.append(text)
                text = '\n'
            lines.append(text)
        text = ''.join(lines)
        first = next(csv.reader(io.StringIO(text)), []) if lines else []
        if ext == '.txt':
            rows += [dict(img_path=ln.strip()) for ln in lines if ln.strip()]
        elif 'img_path' in [c.strip() for c in first]:
            rows = [r for _, r in iter_raw_records(path)]
        else:
            rows += [
                dict(img_path=r[0].strip())
                for r in csv.reader(io.StringIO(text))
                if r and r[0].strip()
            ]
    else:
        rows = [r for _, r in iter_raw_records(path)]
    out = []
    for r in rows:
        if isinstance(r, Exception) or not r.get('img_path'):
            out.append(
                dict(
                    path=None,
                    error=str(r)
                    if isinstance(r, Exception)
                    else f'{path}: record without img_path',
                )
            )
            continue
        out.append(
            dict(
                path=osp.join(base, r['img_path']),
                category=r.get('category'),
                gt=r.get('attributes') or None,
            )
        )
    return out


def _folder_entries(folder, ignored):
    """Entries of the files under ``folder``: images of an allowed format
    to process, images of another format as errors; other files are
    counted by extension in ``ignored``."""
    entries = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            path = osp.join(root, name)
            ext = osp.splitext(name)[1].lower()
            if ext in IMAGE_EXTENSIONS:
                entries.append(dict(path=path))
            elif ext in REFUSED_IMAGE_EXTENSIONS:
                entries.append(
                    dict(
                        path=None,
                        input=path,
                        error=f'{path}: {ext} is not an allowed image '
                        f'format (allowed: {ALLOWED}); not processed',
                    )
                )
            else:
                ignored[ext or '(no extension)'] += 1
    return entries


def collect_inputs(inputs, data_root=None, ignored=None):
    """Expand INPUT arguments to entries in a stable order; ``ignored``
    (a Counter) receives the extensions of the non-image files found in
    folders."""
    entries = []
    ignored = Counter() if ignored is None else ignored
    for item in inputs:
        if osp.isdir(item):
            entries += _folder_entries(item, ignored)
        elif item.lower().endswith(('.csv', '.jsonl', '.txt', '.ndjson')):
            try:
                entries += _list_file(item, data_root)
            except CatalogFormatError as e:  # the whole file is unusable
                entries.append(dict(path=None, input=item, error=str(e)))
        else:
            entries.append(dict(path=item))
    return entries


def ground_truth(entry, schema):
    """Listed attributes as ground truth for the pictures; the record's
    category labels the ``from_category`` attributes."""
    gt = dict(entry.get('gt') or {})
    if entry.get('category'):
        for a in schema.attributes:
            if a.from_category:
                gt.setdefault(a.name, [entry['category']])
    return gt or None


def _vis_name(path, used):
    stem = osp.splitext(osp.basename(path or 'image'))[0] or 'image'
    name, k = stem, 1
    while name in used:
        k += 1
        name = f'{stem}_{k}'
    used.add(name)
    return name + '.png'


def _progress(total, disable):
    try:
        from tqdm import tqdm

        return tqdm(total=total, unit='img', disable=disable, file=sys.stderr)
    except ImportError:  # pragma: no cover - tqdm comes with mmdet
        from mmengine.utils import ProgressBar

        class _Bar(ProgressBar):
            def update(self, n=1):
                for _ in range(n):
                    super().update()

            def close(self):
                pass

        return _Bar(total)


def main(argv=None):
    args = parse_args(argv)
    thresholds = args.thresholds if args.thresholds else args.thr
    extractor = AttributeExtractor(
        args.config,
        args.checkpoint,
        device=args.device,
        thresholds=thresholds,
        batch_size=args.batch_size,
        return_scores=args.scores,
        schema=args.schema,
    )
    ignored = Counter()
    entries = collect_inputs(args.inputs, args.data_root, ignored)
    if ignored:
        kinds = ', '.join(f'{k}: {n}' for k, n in sorted(ignored.items()))
        print(
            f'ignored {sum(ignored.values())} files in the folders that '
            f'are not images ({kinds})',
            file=sys.stderr,
        )
    bad = [e for e in entries if e['path'] is None]
    entries = [e for e in entries if e['path'] is not None]
    cats = [
        args.category or (e.get('category') if args.use_category else None)
        for e in entries
    ]
    if args.vis_dir:
        os.makedirs(args.vis_dir, exist_ok=True)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    n_ok = n_err = n_vis_err = 0
    used = set()
    bar = _progress(len(entries), args.no_progress)
    with open(args.out, 'w', encoding='utf-8') as f:
        for e in bad:
            record = dict(input=e.get('input'), error=e['error'])
            f.write(json.dumps(record) + '\n')
            n_err += 1
        paths = [e['path'] for e in entries]
        gts = [ground_truth(e, extractor.schema) for e in entries]
        for batch in extractor.iter_results(
            paths,
            cats,
            draw=bool(args.vis_dir),
            ground_truth=gts,
            max_size=args.max_size,
        ):
            for res in batch:
                picture = res.pop('visualization', None)
                if 'error' in res:
                    n_err += 1
                else:
                    n_ok += 1
                if picture is not None:
                    name = _vis_name(res['input'], used)
                    n_vis_err += _save(osp.join(args.vis_dir, name), picture)
                f.write(json.dumps(res) + '\n')
            f.flush()
            bar.update(len(batch))
    bar.close()
    print(f'{n_ok} images, {n_err} errors -> {args.out}', file=sys.stderr)
    if not n_ok and not n_err:
        print('no input found', file=sys.stderr)
    if n_vis_err:
        print(
            f'error: {n_vis_err} pictures could not be written',
            file=sys.stderr,
        )
        return 1
    return 0 if n_ok and not n_err else 1


def _save(path, picture) -> int:
    """Write one prediction picture; 1 (and a message) when it fails."""
    try:
        save_picture(path, picture)
    except OSError as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
