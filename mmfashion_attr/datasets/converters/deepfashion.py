"""DeepFashion Category and Attribute Prediction Benchmark converter.

Source: Liu et al., "DeepFashion: Powering Robust Clothes Recognition and
Retrieval with Rich Annotations", CVPR 2016
(https://mmlab.ie.cuhk.edu.hk/projects/DeepFashion/AttributePrediction.html).

The benchmark has been released in three annotation layouts; the folder
(``anno_dir``) picks one, and it is found on its own when the root holds
only one of them:

* ``Anno/`` (the original release) and ``Anno_coarse/`` (its place in the
  current release): 1000 attributes. Files start with a count line and a
  header line:

  * ``list_attr_cloth.txt``: ``attribute_name attribute_type`` (the name
    may contain spaces; type 1 texture, 2 fabric, 3 shape, 4 part,
    5 style);
  * ``list_attr_img.txt``: ``image_name`` then one label per attribute:
    ``1`` positive, ``-1`` negative, ``0`` unknown (the benchmark's
    README);
  * ``list_category_cloth.txt``: ``category_name category_type``;
  * ``list_category_img.txt``: ``image_name category_label`` (1-based);
  * ``Eval/list_eval_partition.txt``: ``image_name evaluation_status``
    (``train``/``val``/``test``).

* ``Anno_fine/`` (current release): 26 attributes of six types (1 texture,
  2 sleeve, 3 length, 4 neckline, 5 fabric, 6 fit), with per-split files
  and no count or header lines: ``<split>.txt`` (image names),
  ``<split>_attr.txt`` (26 labels per row, aligned with ``<split>.txt``
  by row) and ``<split>_cate.txt`` (1-based category). Labels are ``1``
  positive and ``0`` negative; every image has one positive per type.
  ``list_attr_cloth.txt`` and ``list_category_cloth.txt`` are as above
  (the count line of the attribute list has a trailing space).

Label semantics follow the layout (``1/-1/0`` for ``Anno``/``Anno_coarse``,
``0/1`` for ``Anno_fine``) and can be set with ``labels``. Tasks are the
attribute types, values the attributes of each type; an unknown label
becomes a masked value. The category is the record's product category and
also a ``category`` attribute.
"""

from __future__ import annotations

import os
import os.path as osp
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Tuple

from tqdm import tqdm

from .base import Conversion, ConversionError, ConversionReport, unique_names
from .text_input import open_text, text_lines

ATTRIBUTE_TYPES = {
    1: 'texture',
    2: 'fabric',
    3: 'shape',
    4: 'part',
    5: 'style',
}
FINE_ATTRIBUTE_TYPES = {
    1: 'texture',
    2: 'sleeve',
    3: 'length',
    4: 'neckline',
    5: 'fabric',
    6: 'fit',
}
DEEPFASHION_GROUPS = {
    'texture': ('large', 'fine'),
    'fabric': ('large', 'fine'),
    'shape': ('large', 'coarse'),
    'part': ('small', 'fine'),
    'style': ('large', 'fine'),
    'sleeve': ('small', 'coarse'),
    'length': ('large', 'coarse'),
    'neckline': ('small', 'fine'),
    'fit': ('large', 'coarse'),
    'category': ('large', 'coarse'),
}
ANNO_DIRS = ('Anno', 'Anno_coarse', 'Anno_fine')
FINE_ANNO_DIR = 'Anno_fine'
FINE_SPLITS = ('train', 'val', 'test')
# label -> meaning: True positive, False negative, None unknown
LABEL_SEMANTICS = {
    '1/-1/0': {'1': True, '-1': False, '0': None},
    '0/1': {'1': True, '0': False},
}
TEXT = 'plain text (UTF-8)'


def _lines(path: str, what: str) -> Iterator[Tuple[int, str]]:
    """Data lines after the count and header lines; checks the count."""
    with open_text(path, what, TEXT) as f:
        lines = text_lines(f, path, TEXT)
        first = next(lines, (1, ''))[1].strip()
        try:
            count = int(first)
        except ValueError:
            raise ConversionError(
                f'{path}:1: expected the number of entries, got {first!r}'
            ) from None
        next(lines, None)
        n = 0
        for lineno, line in lines:
            if line.strip():
                n += 1
                yield lineno, line.rstrip('\r\n')
        if n != count:
            raise ConversionError(
                f'{path}: the first line says {count} entries but the file '
                f'has {n}'
            )


def _plain_lines(path: str, what: str) -> List[Tuple[int, str]]:
    """Non-empty lines of a file without count or header lines."""
    with open_text(path, what, TEXT) as f:
        return [
            (lineno, line.strip())
            for lineno, line in text_lines(f, path, TEXT)
            if line.strip()
        ]


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


def find_anno_dir(root: str) -> str:
    """The one annotation folder (``Anno``, ``Anno_coarse`` or
    ``Anno_fine``) under ``root``.

    Raises:
        ConversionError: None or several of them are there.
    """
    if not osp.isdir(root):
        raise ConversionError(f'{root}: DeepFashion root folder not found')
    found = [d for d in ANNO_DIRS if osp.isdir(osp.join(root, d))]
    if len(found) == 1:
        return found[0]
    if not found:
        raise ConversionError(
            f'{root}: no annotation folder; expected one of '
            f'{", ".join(ANNO_DIRS)} (the benchmark root holds it)'
        )
    raise ConversionError(
        f'{root} holds {", ".join(found)}; choose one with anno_dir '
        '(--anno-dir): Anno_coarse for the 1000 attributes, Anno_fine for '
        'the 26 fine-grained ones'
    )


def _attribute_schema(
    attr_cloth: str, type_names: Dict[int, str]
) -> Tuple[List[dict], List[Tuple[str, str]]]:
    """Schema attributes of ``list_attr_cloth.txt`` and, per attribute
    (file order), its ``(task, value)``."""
    attrs = _name_type(attr_cloth, 'attribute list')
    types: Dict[str, List[int]] = {}
    for j, (name, t) in enumerate(attrs):
        if t not in type_names:
            raise ConversionError(
                f'{attr_cloth}: attribute {name!r} has unknown type {t} '
                f'(expected {min(type_names)}-{max(type_names)})'
            )
        types.setdefault(type_names[t], []).append(j)
    value_of: List[Tuple[str, str]] = [None] * len(attrs)
    schema_attrs = []
    for t in sorted(type_names):
        task = type_names[t]
        if task not in types:
            continue
        idx = types[task]
        names = unique_names([attrs[j][0] for j in idx], idx)
        for j, n in zip(idx, names):
            value_of[j] = (task, n)
        d = dict(name=task, values=names)
        d['roi'], d['granularity'] = DEEPFASHION_GROUPS[task]
        schema_attrs.append(d)
    return schema_attrs, value_of


def _read_labels(
    labels: List[str],
    value_of: List[Tuple[str, str]],
    tasks: List[str],
    meaning: Dict[str, Optional[bool]],
) -> Tuple[Optional[Dict[str, List[str]]], Optional[str]]:
    """``({task: [values]}, None)`` or ``(None, bad label)``."""
    rec_attrs: Dict[str, List[str]] = {t: [] for t in tasks}
    for j, lab in enumerate(labels):
        if lab not in meaning:
            return None, lab
        sense = meaning[lab]
        if sense is False:
            continue
        task, value = value_of[j]
        rec_attrs[task].append(value if sense else '?' + value)
    return rec_attrs, None


@dataclass
class _LabelRows:
    """How the label rows of one conversion are read: the ``(task,
    value)`` of each attribute column, the label meanings, the category
    names and the report to fill."""

    value_of: List[Tuple[str, str]]
    tasks: List[str]
    meaning: Dict[str, Optional[bool]]
    categories: List[str]
    report: ConversionReport
    progress: bool

    def record(
        self,
        img: str,
        labels: List[str],
        lineno: int,
        where: str,
        seen: Dict[str, int],
    ) -> Optional[dict]:
        """The record of one image's label row, or None (rejected)."""
        report = self.report
        report.inputs += 1
        n_attr = len(self.value_of)
        if len(labels) != n_attr:
            report.reject(
                'malformed_line',
                f'{where}: {len(labels)} labels but {n_attr} attributes',
            )
            return None
        if img in seen:
            report.reject(
                'duplicate_record',
                f'{where}: duplicate record for {img} (first at line '
                f'{seen[img]})',
            )
            return None
        seen[img] = lineno
        rec_attrs, bad = _read_labels(
            labels, self.value_of, self.tasks, self.meaning
        )
        if rec_attrs is None:
            report.reject(
                'bad_label',
                f'{where}: label {bad!r} (expected {", ".join(self.meaning)})',
            )
            return None
        return dict(img_path=img, attributes=rec_attrs, _where=where)

    def category(self, text: str, where: str) -> Optional[str]:
        """The category of a 1-based label, or None (an error)."""
        n = len(self.categories)
        try:
            label = int(text)
            if not 1 <= label <= n:
                raise ValueError
        except ValueError:
            self.report.error(
                'unknown_category_id',
                f'{where}: bad category label {text!r} (1..{n})',
            )
            return None
        return self.categories[label - 1]


def convert_deepfashion(
    root: str,
    anno_dir: Optional[str] = None,
    labels: Optional[str] = None,
    attr_cloth: Optional[str] = None,
    attr_img: Optional[str] = None,
    category_cloth: Optional[str] = None,
    category_img: Optional[str] = None,
    partition: Optional[str] = 'Eval/list_eval_partition.txt',
    category_attribute: bool = True,
    progress: bool = False,
    on_error: str = 'raise',
) -> Conversion:
    """Convert the DeepFashion attribute benchmark.

    Args:
        root: The benchmark folder (holding ``Anno*/``, ``Eval/``,
            ``img/``); relative file names below are looked up under it,
            and image paths (``img/...``) are relative to it.
        anno_dir: ``Anno``, ``Anno_coarse`` or ``Anno_fine`` (a folder
            under ``root``, or a path). Default: the only one present.
        labels: ``1/-1/0`` (1 positive, -1 negative, 0 unknown) or ``0/1``
            (1 positive, 0 negative). Default: ``0/1`` for ``Anno_fine``,
            ``1/-1/0`` otherwise.
        attr_cloth: Attribute names and types (default
            ``<anno_dir>/list_attr_cloth.txt``).
        attr_img: Per-image attribute labels (default
            ``<anno_dir>/list_attr_img.txt``; not used by ``Anno_fine``,
            whose per-split files are read).
        category_cloth: Category names (default
            ``<anno_dir>/list_category_cloth.txt``; missing: no
            categories).
        category_img: Per-image categories (default
            ``<anno_dir>/list_category_img.txt``).
        partition: Split file (``None`` or missing: all ``train``); not
            used by ``Anno_fine``.
        category_attribute: Add a ``category`` attribute from the category.
        progress: Show a progress bar while reading the labels.
        on_error: ``raise`` or ``collect``.
    """
    if anno_dir is None:
        anno_dir = find_anno_dir(root)
    anno = anno_dir if osp.isabs(anno_dir) else osp.join(root, anno_dir)
    if not osp.isdir(anno):
        raise ConversionError(f'{anno}: annotation folder not found')
    fine = osp.basename(osp.normpath(anno)).lower() == FINE_ANNO_DIR.lower()
    if labels is None:
        labels = '0/1' if fine else '1/-1/0'
    if labels not in LABEL_SEMANTICS:
        raise ConversionError(
            f'labels must be one of {sorted(LABEL_SEMANTICS)}, not {labels!r}'
        )
    report = ConversionReport(on_error)

    def full(p, default):
        if p is None:
            return osp.join(anno, default)
        return p if osp.isabs(p) else osp.join(root, p)

    attr_cloth = full(attr_cloth, 'list_attr_cloth.txt')
    category_cloth = full(category_cloth, 'list_category_cloth.txt')
    type_names = FINE_ATTRIBUTE_TYPES if fine else ATTRIBUTE_TYPES
    schema_attrs, value_of = _attribute_schema(attr_cloth, type_names)
    categories: List[str] = []
    if osp.exists(category_cloth):
        cats = _name_type(category_cloth, 'category list')
        categories = unique_names(
            [c for c, _ in cats], range(1, len(cats) + 1)
        )
    rows = _LabelRows(
        value_of=value_of,
        tasks=[a['name'] for a in schema_attrs],
        meaning=LABEL_SEMANTICS[labels],
        categories=categories,
        report=report,
        progress=progress,
    )
    if fine:
        splits = _fine_splits(anno, rows)
    else:
        splits = _listing_splits(
            full(attr_img, 'list_attr_img.txt'),
            full(category_img, 'list_category_img.txt'),
            partition and full(partition, partition),
            rows,
        )
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
    for split, recs in splits.items():
        report.count(f'{split}/records', len(recs))
    schema = dict(attributes=schema_attrs, categories=categories)
    return Conversion(schema, splits, report)


def _listing_splits(
    attr_img: str,
    category_img: str,
    partition: Optional[str],
    rows: _LabelRows,
) -> Dict[str, List[dict]]:
    """Records of the ``list_attr_img.txt`` layout (``Anno``,
    ``Anno_coarse``), split by ``list_eval_partition.txt``."""
    categories, report = rows.categories, rows.report
    img_category: Dict[str, str] = {}
    if categories and osp.exists(category_img):
        for lineno, line in _lines(category_img, 'category labels'):
            parts = line.split()
            where = f'{category_img}:{lineno}'
            cat = rows.category(parts[1] if len(parts) > 1 else '', where)
            if cat is not None:
                img_category[parts[0]] = cat
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
    lines = _lines(attr_img, 'attribute labels')
    for lineno, line in tqdm(
        lines, desc='list_attr_img', unit='img', disable=not rows.progress
    ):
        parts = line.split()
        img = parts[0]
        rec = rows.record(img, parts[1:], lineno, f'{attr_img}:{lineno}', seen)
        if rec is None:
            continue
        where = rec['_where']
        if img in img_category:
            rec['category'] = img_category[img]
        elif categories and img_category:
            report.warn('no_category', f'{where}: {img} has no category')
        split = split_of.get(img, 'train' if not split_of else None)
        if split is None:
            report.warn('no_partition', f'{where}: {img} is in no split')
            report.rejected += 1
            continue
        splits.setdefault(split, []).append(rec)
    return splits


def _fine_splits(anno: str, rows: _LabelRows) -> Dict[str, List[dict]]:
    """Records of the ``Anno_fine`` per-split files."""
    present = [
        s for s in FINE_SPLITS if osp.exists(osp.join(anno, f'{s}.txt'))
    ]
    if not present:
        listed = sorted(os.listdir(anno))[:12]
        raise ConversionError(
            f'{anno}: no train.txt / val.txt / test.txt with their '
            f'_attr.txt files (it holds {listed})'
        )
    splits: Dict[str, List[dict]] = {}
    for split in present:
        names_path = osp.join(anno, f'{split}.txt')
        attr_path = osp.join(anno, f'{split}_attr.txt')
        cate_path = osp.join(anno, f'{split}_cate.txt')
        names = _plain_lines(names_path, 'image list')
        attr_lines = _plain_lines(attr_path, 'attribute labels')
        cates = (
            _plain_lines(cate_path, 'category labels')
            if rows.categories and osp.exists(cate_path)
            else None
        )
        for path, other in ((attr_path, attr_lines), (cate_path, cates)):
            if other is not None and len(other) != len(names):
                raise ConversionError(
                    f'{path} has {len(other)} rows but {names_path} has '
                    f'{len(names)}; the files are matched row by row'
                )
        records: List[dict] = []
        seen: Dict[str, int] = {}
        for k in tqdm(
            range(len(names)),
            desc=split,
            unit='img',
            disable=not rows.progress,
        ):
            img = names[k][1]
            lineno, text = attr_lines[k]
            rec = rows.record(
                img, text.split(), lineno, f'{attr_path}:{lineno}', seen
            )
            if rec is None:
                continue
            if cates is not None:
                cat = rows.category(cates[k][1], f'{cate_path}:{cates[k][0]}')
                if cat is not None:
                    rec['category'] = cat
            records.append(rec)
        splits[split] = records
    return splits
