"""DeepFashion Category and Attribute Prediction Benchmark converter.

Source: Liu et al., "DeepFashion: Powering Robust Clothes Recognition and
Retrieval with Rich Annotations", CVPR 2016
(https://mmlab.ie.cuhk.edu.hk/projects/DeepFashion/AttributePrediction.html).

Files (the benchmark's ``Anno/`` and ``Eval/`` folders), each starting
with a count line and a header line:

* ``Anno/list_attr_cloth.txt``: ``attribute_name attribute_type`` (the
  name may contain spaces; type 1 texture, 2 fabric, 3 shape, 4 part,
  5 style);
* ``Anno/list_attr_img.txt``: ``image_name`` then one label per attribute:
  ``1`` positive, ``-1`` negative, ``0`` unknown;
* ``Anno/list_category_cloth.txt``: ``category_name category_type``;
* ``Anno/list_category_img.txt``: ``image_name category_label``
  (1-based);
* ``Eval/list_eval_partition.txt``: ``image_name evaluation_status``
  (``train``/``val``/``test``).

Tasks are the five attribute types, values the attributes of each type;
``0`` becomes an unknown (masked) value. The category is the record's
product category and also a ``category`` attribute.
"""

from __future__ import annotations

import os.path as osp
from typing import Dict, Iterator, List, Optional, Tuple

from tqdm import tqdm

from .base import Conversion, ConversionError, ConversionReport, unique_names

ATTRIBUTE_TYPES = {
    1: 'texture',
    2: 'fabric',
    3: 'shape',
    4: 'part',
    5: 'style',
}
DEEPFASHION_GROUPS = {
    'texture': ('large', 'fine'),
    'fabric': ('large', 'fine'),
    'shape': ('large', 'coarse'),
    'part': ('small', 'fine'),
    'style': ('large', 'fine'),
    'category': ('large', 'coarse'),
}


def _lines(path: str, what: str) -> Iterator[Tuple[int, str]]:
    """Data lines after the count and header lines; checks the count."""
    try:
        f = open(path, encoding='utf-8')
    except FileNotFoundError:
        raise ConversionError(f'{path}: {what} not found') from None
    with f:
        first = f.readline().strip()
        try:
            count = int(first)
        except ValueError:
            raise ConversionError(
                f'{path}:1: expected the number of entries, got {first!r}'
            ) from None
        f.readline()
        n = 0
        for lineno, line in enumerate(f, 3):
            if line.strip():
                n += 1
                yield lineno, line.rstrip('\n')
        if n != count:
            raise ConversionError(
                f'{path}: the first line says {count} entries but the file '
                f'has {n}'
            )


def _name_type(path: str, what: str) -> List[Tuple[str, int]]:
    out = []
    for lineno, line in _lines(path, what):
        parts = line.rsplit(None, 1)
        try:
            out.append((parts[0].strip(), int(parts[1])))
        except (IndexError, ValueError):
            raise ConversionError(
                f'{path}:{lineno}: expected "name type", got {line!r}'
            ) from None
    return out


def convert_deepfashion(
    root: str,
    attr_cloth: str = 'Anno/list_attr_cloth.txt',
    attr_img: str = 'Anno/list_attr_img.txt',
    category_cloth: Optional[str] = 'Anno/list_category_cloth.txt',
    category_img: Optional[str] = 'Anno/list_category_img.txt',
    partition: Optional[str] = 'Eval/list_eval_partition.txt',
    category_attribute: bool = True,
    progress: bool = False,
    on_error: str = 'raise',
) -> Conversion:
    """Convert the DeepFashion attribute benchmark.

    Args:
        root: The benchmark folder (holding ``Anno/``, ``Eval/``, ``img/``);
            relative file names below are looked up under it, and image
            paths (``img/...``) are relative to it.
        attr_cloth: Attribute names and types.
        attr_img: Per-image attribute labels.
        category_cloth: Category names (``None``: no categories).
        category_img: Per-image categories.
        partition: Split file (``None`` or missing: all ``train``).
        category_attribute: Add a ``category`` attribute from the category.
        progress: Show a progress bar while reading the labels.
        on_error: ``raise`` or ``collect``.
    """
    report = ConversionReport(on_error)

    def full(p):
        return p if p is None or osp.isabs(p) else osp.join(root, p)

    attr_cloth, attr_img = full(attr_cloth), full(attr_img)
    category_cloth, category_img = full(category_cloth), full(category_img)
    partition = full(partition)

    attrs = _name_type(attr_cloth, 'attribute list')
    types: Dict[str, List[int]] = {}
    for j, (_, t) in enumerate(attrs):
        if t not in ATTRIBUTE_TYPES:
            raise ConversionError(
                f'{attr_cloth}: attribute {attrs[j][0]!r} has unknown type '
                f'{t} (expected 1-5)'
            )
        types.setdefault(ATTRIBUTE_TYPES[t], []).append(j)
    value_of: List[Tuple[str, str]] = [None] * len(attrs)
    schema_attrs = []
    for t in sorted(ATTRIBUTE_TYPES):
        task = ATTRIBUTE_TYPES[t]
        if task not in types:
            continue
        idx = types[task]
        names = unique_names([attrs[j][0] for j in idx], idx)
        for j, n in zip(idx, names):
            value_of[j] = (task, n)
        d = dict(name=task, values=names)
        d['roi'], d['granularity'] = DEEPFASHION_GROUPS[task]
        schema_attrs.append(d)

    categories: List[str] = []
    img_category: Dict[str, str] = {}
    if category_cloth and osp.exists(category_cloth):
        cats = _name_type(category_cloth, 'category list')
        categories = unique_names(
            [c for c, _ in cats], range(1, len(cats) + 1)
        )
        if category_img and osp.exists(category_img):
            for lineno, line in _lines(category_img, 'category labels'):
                parts = line.split()
                try:
                    label = int(parts[1])
                    if not 1 <= label <= len(categories):
                        raise ValueError
                except (IndexError, ValueError):
                    report.error(
                        'unknown_category_id',
                        f'{category_img}:{lineno}: bad category label in '
                        f'{line!r} (1..{len(categories)})',
                    )
                    continue
                img_category[parts[0]] = categories[label - 1]
    if category_attribute and categories:
        roi, gran = DEEPFASHION_GROUPS['category']
        schema_attrs.insert(
            0,
            dict(
                name='category',
                values=list(categories),
                from_category=True,
                roi=roi,
                granularity=gran,
            ),
        )

    split_of: Dict[str, str] = {}
    if partition and osp.exists(partition):
        for lineno, line in _lines(partition, 'partition file'):
            parts = line.split()
            if len(parts) != 2:
                report.error(
                    'malformed_line',
                    f'{partition}:{lineno}: expected "image split"',
                )
                continue
            split_of[parts[0]] = parts[1]

    splits: Dict[str, List[dict]] = {}
    seen: Dict[str, int] = {}
    n_attr = len(attrs)
    lines = _lines(attr_img, 'attribute labels')
    for lineno, line in tqdm(
        lines, desc='list_attr_img', unit='img', disable=not progress
    ):
        parts = line.split()
        where = f'{attr_img}:{lineno}'
        img, labels = parts[0], parts[1:]
        if len(labels) != n_attr:
            report.error(
                'malformed_line',
                f'{where}: {len(labels)} labels but {n_attr} attributes',
            )
            continue
        if img in seen:
            report.error(
                'duplicate_record',
                f'{where}: duplicate record for {img} (first at '
                f'line {seen[img]})',
            )
            continue
        seen[img] = lineno
        rec_attrs: Dict[str, List[str]] = {
            a['name']: [] for a in schema_attrs if not a.get('from_category')
        }
        bad = False
        for j, lab in enumerate(labels):
            if lab == '-1':
                continue
            task, value = value_of[j]
            if lab == '1':
                rec_attrs[task].append(value)
            elif lab == '0':
                rec_attrs[task].append('?' + value)
            else:
                report.error(
                    'bad_label',
                    f'{where}: label {lab!r} (expected 1, -1 or 0)',
                )
                bad = True
                break
        if bad:
            continue
        rec = dict(img_path=img, attributes=rec_attrs, _where=where)
        if img in img_category:
            rec['category'] = img_category[img]
        elif categories and img_category:
            report.warn('no_category', f'{where}: {img} has no category')
        split = split_of.get(img, 'train' if not split_of else None)
        if split is None:
            report.warn('no_partition', f'{where}: {img} is in no split')
            continue
        splits.setdefault(split, []).append(rec)
    for split, recs in splits.items():
        report.count(f'{split}/records', len(recs))
    schema = dict(attributes=schema_attrs, categories=categories)
    return Conversion(schema, splits, report)
