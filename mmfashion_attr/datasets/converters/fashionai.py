"""FashionAI attributes (Alibaba Tianchi, 2018) converter.

Source: Zou et al., "FashionAI: A Hierarchical Dataset for Fashion
Understanding", CVPR workshops 2019; data on the Tianchi platform
(https://tianchi.aliyun.com/competition/entrance/231649).

``Annotations/label.csv`` has no header; each row is::

    Images/collar_design_labels/0a1b.jpg,collar_design_labels,nnynn

the image path (relative to the folder holding ``Annotations/`` and
``Images/``), the attribute key and one character per value of that
attribute: ``y`` (yes), ``n`` (no) or ``m`` (maybe). Every image is
labelled for one attribute only; the other seven are **missing**.
``m`` is handled by ``maybe``: ``unknown`` (default; that value is masked,
the other values of the attribute stay labelled), ``negative`` or
``positive``.
"""

from __future__ import annotations

import csv
import os.path as osp
from typing import Dict, Optional, Sequence, Union

from tqdm import tqdm

from .base import Conversion, ConversionError, ConversionReport

# Value names in label order, from the dataset description (Zou et al.,
# 2019, Fig. 2 / Tianchi data page).
FASHIONAI_ATTRIBUTES = {
    'skirt_length_labels': [
        'Invisible',
        'Short Length',
        'Knee Length',
        'Midi Length',
        'Ankle Length',
        'Floor Length',
    ],
    'coat_length_labels': [
        'Invisible',
        'High Waist Length',
        'Regular Length',
        'Long Length',
        'Micro Length',
        'Knee Length',
        'Midi Length',
        'Ankle&Floor Length',
    ],
    'collar_design_labels': [
        'Invisible',
        'Shirt Collar',
        'Peter Pan',
        'Puritan Collar',
        'Rib Collar',
    ],
    'lapel_design_labels': [
        'Invisible',
        'Notched',
        'Collarless',
        'Shawl Collar',
        'Plus Size Shawl',
    ],
    'neck_design_labels': [
        'Invisible',
        'Turtle Neck',
        'Ruffle Semi-High Collar',
        'Low Turtle Neck',
        'Draped Collar',
    ],
    'neckline_design_labels': [
        'Invisible',
        'Strapless Neck',
        'Deep V Neckline',
        'Straight Neck',
        'V Neckline',
        'Square Neckline',
        'Off Shoulder',
        'Round Neckline',
        'Sweat Heart Neck',
        'One Shoulder Neckline',
    ],
    'pant_length_labels': [
        'Invisible',
        'Short Pant',
        'Mid Length',
        '3/4 Length',
        'Cropped Pant',
        'Full Length',
    ],
    'sleeve_length_labels': [
        'Invisible',
        'Sleeveless',
        'Cup Sleeves',
        'Short Sleeves',
        'Elbow Sleeves',
        '3/4 Sleeves',
        'Wrist Length',
        'Long Sleeves',
        'Extra Long Sleeves',
    ],
}
FASHIONAI_GROUPS = {
    'skirt_length_labels': ('large', 'coarse'),
    'coat_length_labels': ('large', 'coarse'),
    'pant_length_labels': ('large', 'coarse'),
    'sleeve_length_labels': ('small', 'coarse'),
    'collar_design_labels': ('small', 'fine'),
    'lapel_design_labels': ('small', 'fine'),
    'neck_design_labels': ('small', 'fine'),
    'neckline_design_labels': ('small', 'fine'),
}
MAYBE_CHOICES = ('unknown', 'negative', 'positive')


def _csv_root(path: str) -> str:
    """The folder image paths in a ``label.csv`` are relative to."""
    folder = osp.dirname(osp.abspath(path))
    if osp.basename(folder).lower() == 'annotations':
        folder = osp.dirname(folder)
    return folder


def convert_fashionai(
    files: Dict[str, Union[str, Sequence[str]]],
    maybe: str = 'unknown',
    root: Optional[str] = None,
    attributes: Optional[Dict[str, Sequence[str]]] = None,
    on_error: str = 'raise',
    progress: bool = False,
) -> Conversion:
    """Convert FashionAI ``label.csv`` files.

    Args:
        files: ``{split: path or [paths]}`` of ``label.csv`` files (e.g.
            the ``base`` and ``web`` training sets together).
        maybe: ``unknown``, ``negative`` or ``positive`` for ``m``.
        root: Image paths are written relative to this folder (the
            ``data_prefix`` of the config); absolute when ``None``.
        attributes: ``{key: [value names]}`` to override
            :data:`FASHIONAI_ATTRIBUTES`.
        on_error: ``raise`` or ``collect``.
        progress: Show tqdm progress bars.
    """
    if maybe not in MAYBE_CHOICES:
        raise ValueError(f'maybe must be one of {MAYBE_CHOICES}, not {maybe}')
    spec = {
        k: list(v) for k, v in (attributes or FASHIONAI_ATTRIBUTES).items()
    }
    report = ConversionReport(on_error)
    splits = {}
    for split, paths in files.items():
        paths = [paths] if isinstance(paths, str) else list(paths)
        records, seen = [], {}
        for path in paths:
            base = _csv_root(path)
            try:
                f = open(path, encoding='utf-8', newline='')
            except FileNotFoundError:
                raise ConversionError(
                    f'{path}: label file not found'
                ) from None
            with f:
                rows = tqdm(
                    csv.reader(f),
                    desc=osp.basename(path),
                    unit='row',
                    disable=not progress,
                )
                for lineno, row in enumerate(rows, 1):
                    rec = _row(row, path, lineno, spec, maybe, report)
                    if rec is None:
                        continue
                    img = osp.normpath(osp.join(base, rec['img_path']))
                    if root is not None:
                        img = osp.relpath(img, root)
                    rec['img_path'] = img
                    if img in seen:
                        report.error(
                            'duplicate_record',
                            f'{path}:{lineno}: duplicate record for {img} '
                            f'(first at {seen[img]})',
                        )
                        continue
                    seen[img] = f'{path}:{lineno}'
                    records.append(rec)
        report.count(f'{split}/records', len(records))
        splits[split] = records
    schema_attrs = []
    for key, values in spec.items():
        d = dict(name=key, values=list(values))
        if key in FASHIONAI_GROUPS:
            d['roi'], d['granularity'] = FASHIONAI_GROUPS[key]
        schema_attrs.append(d)
    return Conversion(
        dict(attributes=schema_attrs, categories=[]), splits, report
    )


def _row(row, path, lineno, spec, maybe, report) -> Optional[dict]:
    where = f'{path}:{lineno}'
    if not row or not any(c.strip() for c in row):
        return None
    if len(row) < 3:
        report.error(
            'malformed_line',
            f'{where}: expected image,attribute,labels; got {row}',
        )
        return None
    img, key, labels = row[0].strip(), row[1].strip(), row[2].strip()
    if key not in spec:
        report.error(
            'unknown_attribute', f'{where}: unknown attribute key {key!r}'
        )
        return None
    values = spec[key]
    if len(labels) != len(values):
        report.error(
            'bad_label',
            f'{where}: {key} has {len(values)} values but the label '
            f'{labels!r} has {len(labels)} characters',
        )
        return None
    bad = sorted(set(labels) - set('ynm'))
    if bad:
        report.error(
            'bad_label',
            f'{where}: label {labels!r} has characters {bad} '
            '(expected y, n or m)',
        )
        return None
    out = []
    for value, ch in zip(values, labels):
        if ch == 'y' or (ch == 'm' and maybe == 'positive'):
            out.append(value)
        elif ch == 'm' and maybe == 'unknown':
            out.append('?' + value)
    if 'm' in labels:
        report.count('maybe_labels', labels.count('m'))
    if 'y' not in labels:
        report.warn('no_positive', f'{where}: no value is marked y')
    return dict(img_path=img, attributes={key: out}, _where=where)
