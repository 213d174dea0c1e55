"""Extract attributes of images: one JSON line per image.

    python tools/misc/infer.py CONFIG CHECKPOINT INPUT... --out preds.jsonl \\
        [--thr 0.3 | --thresholds thresholds.json] [--vis-dir DIR]

``INPUT`` is any mix of image files, folders (searched recursively for
images) and lists: a ``.csv`` with an ``img_path`` column (optional
``category`` and attribute columns in the catalog format) or without a
header (first column = path), a catalog ``.jsonl`` (``img_path``,
``category``, ``attributes``) or a ``.txt`` with one path per line.
Relative paths in a list are relative to the list's folder (or
``--data-root``). With ``--use-category`` a listed category applies the
schema's category mask; listed attributes are drawn as ground truth in the
pictures of ``--vis-dir`` (green box: correct, red: wrong); the image in a
picture is shrunk to ``--max-size`` pixels on its longer side (default:
the network's input size).

An image that cannot be read or processed gives
``{"input": ..., "error": "..."}`` and the run goes on; the exit status is
1 when no image succeeded or a picture could not be written. Each line is
a record of :class:`mmfashion_attr.apis.AttributeExtractor` (see its
docstring).
"""

import argparse
import csv
import json
import os
import os.path as osp
import sys

import mmfashion_attr  # noqa: F401
from mmfashion_attr.apis import AttributeExtractor
from mmfashion_attr.datasets.catalog_format import iter_raw_records
from mmfashion_attr.visualization import save_picture

IMG_EXT = ('.jpg', '.jpeg', '.png', '.bmp', '.webp', '.tif', '.tiff')


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
    if ext == '.txt':
        with open(path, encoding='utf-8') as f:
            rows = [dict(img_path=ln.strip()) for ln in f if ln.strip()]
    elif ext == '.csv':
        with open(path, encoding='utf-8', newline='') as f:
            first = next(csv.reader(f), [])
        if 'img_path' in [c.strip() for c in first]:
            rows = [r for _, r in iter_raw_records(path)]
        else:
            with open(path, encoding='utf-8', newline='') as f:
                rows = [
                    dict(img_path=r[0].strip())
                    for r in csv.reader(f)
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


def collect_inputs(inputs, data_root=None):
    """Expand INPUT arguments to entries in a stable order."""
    entries = []
    for item in inputs:
        if osp.isdir(item):
            found = []
            for root, _, files in os.walk(item):
                found += [
                    osp.join(root, f)
                    for f in files
                    if f.lower().endswith(IMG_EXT)
                ]
            entries += [dict(path=f) for f in sorted(found)]
        elif item.lower().endswith(('.csv', '.jsonl', '.txt', '.ndjson')):
            entries += _list_file(item, data_root)
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
    )
    entries = collect_inputs(args.inputs, args.data_root)
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
            f.write(json.dumps(dict(input=None, error=e['error'])) + '\n')
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
    if n_vis_err:
        print(
            f'error: {n_vis_err} pictures could not be written',
            file=sys.stderr,
        )
        return 1
    return 0 if n_ok or not n_err else 1


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
