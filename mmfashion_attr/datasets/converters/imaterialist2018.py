"""iMaterialist-Fashion 2018 (FGVC5, iFashion-Attribute) converter.

Source: Guo et al., "The iMaterialist Fashion Attribute Dataset", ICCV
workshops 2019; Kaggle "imaterialist-challenge-fashion-2018" and
https://github.com/visipedia/imat_fashion_comp.

``train.json`` / ``validation.json``::

    {"images": [{"imageId": "1", "url": "..."}],
     "annotations": [{"imageId": "1", "labelId": ["95", "66", ...]}]}

and the label map ``iMat_fashion_2018_label_map_228.csv`` with the header
``labelId,taskId,labelName,taskName`` (228 labels in 8 tasks: category,
color, gender, material, neckline, pattern, sleeve, style). Images are
downloaded from the urls as ``<imageId>.jpg``.

Tasks are the label map's tasks in ``taskId`` order (1 category, 2 color,
3 gender, 4 material, 5 neckline, 6 pattern, 8 sleeve, 9 style; there is
no task 7), values its labels in labelId order. A task with no label on an
image is **missing**, not negative. A label repeated inside one image (the
real ``validation.json`` has such rows) counts once.

The label map must be the CSV; a copy saved as an Excel workbook (a zip
archive) or in another code page than UTF-8 is refused with a message
naming the file.
"""

from __future__ import annotations

import csv
import os.path as osp
from typing import Dict, Optional, Sequence

from .base import (
    Conversion,
    ConversionError,
    ConversionReport,
    iter_annotations,
    load_json,
    snake,
    unique_names,
)
from .text_input import open_text, text_lines

IMAT2018_GROUPS = {
    'category': ('large', 'coarse'),
    'color': ('large', 'coarse'),
    'gender': ('large', 'coarse'),
    'material': ('large', 'fine'),
    'neckline': ('small', 'fine'),
    'pattern': ('large', 'fine'),
    'sleeve': ('small', 'coarse'),
    'style': ('large', 'fine'),
}
LABEL_MAP_FORMAT = 'CSV (UTF-8) like iMat_fashion_2018_label_map_228.csv'


def _number_first(text: str) -> tuple:
    return (int(text), text) if text.isdigit() else (1 << 30, text)


def read_label_map(path: str) -> Dict[str, tuple]:
    """``{labelId: (task, value)}`` from the label map CSV.

    The entries are ordered by ``taskId`` (by first appearance when the
    file has no ``taskId`` column), then by ``labelId``, so the tasks come
    out in the official order.

    Raises:
        ConversionError: The file is missing, not UTF-8 CSV text (e.g. an
            ``.xlsx`` workbook), lacks the needed columns, or has empty or
            duplicate ids, or a task with two ``taskId`` values.
    """
    what, fmt = 'label map', LABEL_MAP_FORMAT
    rows = []
    with open_text(path, what, fmt) as f:
        reader = csv.DictReader(line for _, line in text_lines(f, path, fmt))
        need = {'labelId', 'labelName', 'taskName'}
        if not need <= set(reader.fieldnames or ()):
            raise ConversionError(
                f'{path}: the header must have {sorted(need)}, got '
                f'{reader.fieldnames}'
            )
        for lineno, row in enumerate(reader, 2):
            lid = (row['labelId'] or '').strip()
            if not lid or not (row['taskName'] or '').strip():
                raise ConversionError(
                    f'{path}:{lineno}: empty labelId or taskName'
                )
            tid = (row.get('taskId') or '').strip()
            rows.append(
                (lid, snake(row['taskName']), row['labelName'].strip(), tid)
            )
    ids = [r[0] for r in rows]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise ConversionError(f'{path}: duplicate labelIds {dup}')
    task_id: Dict[str, str] = {}
    for lid, task, _, tid in rows:
        if task_id.setdefault(task, tid) != tid:
            raise ConversionError(
                f'{path}: task {task!r} has taskId {task_id[task]!r} and '
                f'{tid!r} (labelId {lid})'
            )
    rows.sort(key=lambda r: _number_first(r[0]))
    first = {t: i for i, t in reversed(list(enumerate(r[1] for r in rows)))}
    by_task: Dict[str, list] = {}
    for lid, task, name, _ in rows:
        by_task.setdefault(task, []).append((lid, name))
    order = sorted(
        by_task, key=lambda t: (_number_first(task_id[t]), first[t])
    )
    out = {}
    for task in order:
        items = by_task[task]
        names = unique_names([n for _, n in items], [i for i, _ in items])
        for (lid, _), name in zip(items, names):
            out[lid] = (task, name)
    return out


def convert_imaterialist2018(
    files: Dict[str, str],
    label_map: str,
    tasks: Optional[Sequence[str]] = None,
    img_ext: str = '.jpg',
    keep_empty: bool = False,
    img_prefix: Optional[Dict[str, str]] = None,
    on_error: str = 'raise',
    progress: bool = False,
) -> Conversion:
    """Convert iMaterialist-2018 JSON files.

    Args:
        files: ``{split: path}``, e.g. ``{'train': 'train.json', 'val':
            'validation.json'}``.
        label_map: The label map CSV.
        tasks: Tasks to keep (default: all of the label map).
        img_ext: Image file extension (``<imageId><ext>``).
        keep_empty: Keep images with no label of the kept tasks.
        img_prefix: ``{split: folder}`` put before ``<imageId><ext>``.
        on_error: ``raise`` or ``collect``.
        progress: Show tqdm progress bars.
    """
    report = ConversionReport(on_error)
    lmap = read_label_map(label_map)
    all_tasks = list(dict.fromkeys(t for t, _ in lmap.values()))
    if tasks is not None:
        tasks = [snake(t) for t in tasks]
        unknown = [t for t in tasks if t not in all_tasks]
        if unknown:
            raise ConversionError(
                f'{label_map}: unknown tasks {unknown}; it has {all_tasks}'
            )
    keep = list(tasks) if tasks is not None else all_tasks
    splits = {}
    for split, path in files.items():
        d = load_json(path, 'iMaterialist-2018 annotation file')
        anns = d.get('annotations')
        if not isinstance(anns, list):
            raise ConversionError(f"{path}: no 'annotations' list")
        known_images = None
        if isinstance(d.get('images'), list):
            known_images = {str(im.get('imageId')) for im in d['images']}
        records, seen = [], set()
        for _, where, ann in iter_annotations(anns, path, split, progress):
            report.inputs += 1
            iid = ann.get('imageId')
            if iid is None:
                report.reject('malformed_record', f"{where}: no 'imageId'")
                continue
            iid = str(iid)
            if known_images is not None and iid not in known_images:
                report.reject(
                    'unknown_image_id',
                    f'{where}: imageId {iid} is not in images',
                )
                continue
            if iid in seen:
                report.reject(
                    'duplicate_record',
                    f'{where}: second annotation of image {iid}',
                )
                continue
            seen.add(iid)
            attrs: Dict[str, list] = {}
            for lid in ann.get('labelId') or []:
                hit = lmap.get(str(lid).strip())
                if hit is None:
                    report.error(
                        'unknown_label_id', f'{where}: unknown labelId {lid!r}'
                    )
                    continue
                task, value = hit
                if task not in keep:
                    continue
                vals = attrs.setdefault(task, [])
                if value in vals:
                    report.count('repeated_labels')
                else:
                    vals.append(value)
            if not attrs and not keep_empty:
                report.count(f'{split}/images_without_labels')
                continue
            img = iid + img_ext
            if img_prefix and img_prefix.get(split):
                img = osp.join(img_prefix[split], img)
            records.append(
                dict(id=iid, img_path=img, attributes=attrs, _where=where)
            )
        report.count(f'{split}/records', len(records))
        splits[split] = records
    schema_attrs = []
    for task in keep:
        values = [v for t, v in lmap.values() if t == task]
        d = dict(name=task, values=values)
        if task in IMAT2018_GROUPS:
            d['roi'], d['granularity'] = IMAT2018_GROUPS[task]
        schema_attrs.append(d)
    return Conversion(
        dict(attributes=schema_attrs, categories=[]), splits, report
    )
