"""FashionAI attributes (Alibaba Tianchi, 2018) converter.

Source: Zou et al., "FashionAI: A Hierarchical Dataset for Fashion
Understanding", CVPR workshops 2019; data on the Tianchi platform
(https://tianchi.aliyun.com/competition/entrance/231649).

Label files have no header; each row is::

    Images/collar_design_labels/0a1b.jpg,collar_design_labels,nnynn

the image path (relative to the folder holding ``Annotations/`` and
``Images/``), the attribute key and one character per value of that
attribute: ``y`` (yes), ``n`` (no) or ``m`` (maybe). Every image is
labelled for one attribute only; the other seven are **missing**.
``m`` is handled by ``maybe``: ``unknown`` (default; that value is masked,
the other values of the attribute stay labelled), ``negative`` or
``positive``.

The releases name the file differently: round 1 ``base/Annotations/
label.csv``, the warm-up round ``web/Annotations/skirt_length_labels.csv``
(skirt length only); any of them is read. Rows whose labels are ``?`` (the
test questions, ``rank/Tests/question.csv``) are refused. A fourth column
is not part of the format: copies of the round-1 answers
(``s1ab_label.csv``) carry one that is ``0`` on every row; a ``0`` there is
read and reported (``fourth_column_zero``), any other value refuses the
row, since its meaning is not documented.
"""

from __future__ import annotations

import csv
import os.path as osp
from typing import Dict, Optional, Sequence, Union

from tqdm import tqdm

from .base import Conversion, ConversionReport
from .text_input import open_text, text_lines

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
CSV = 'CSV (UTF-8)'


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
        files: ``{split: path or [paths]}`` of label files (e.g. the
            ``base`` and ``web`` training sets together).
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
            with open_text(path, 'label file', CSV) as f:
                lines = (line for _, line in text_lines(f, path, CSV))
                rows = tqdm(
                    csv.reader(lines),
                    desc=osp.basename(path),
                    unit='row',
                    disable=not progress,
                )
                extra = {}
                for lineno, row in enumerate(rows, 1):
                    if not row or not any(c.strip() for c in row):
                        continue
                    report.inputs += 1
                    rec = _row(row, path, lineno, spec, maybe, report, extra)
                    if rec is None:
                        continue
                    img = osp.normpath(osp.join(base, rec['img_path']))
                    if root is not None:
                        img = osp.relpath(img, root)
                    rec['img_path'] = img
                    if img in seen:
                        report.reject(
                            'duplicate_record',
                            f'{path}:{lineno}: duplicate record for {img} '
                            f'(first at {seen[img]})',
                        )
                        continue
                    seen[img] = f'{path}:{lineno}'
                    records.append(rec)
                if extra:
                    report.warn(
                        'fourth_column_zero',
                        f'{path}: column 4 is not part of the FashionAI '
                        f'label format; {extra["rows"]} row(s) with 0 there '
                        'were read without it',
                    )
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


def _row(row, path, lineno, spec, maybe, report, extra) -> Optional[dict]:
    where = f'{path}:{lineno}'
    if len(row) < 3:
        report.reject(
            'malformed_line',
            f'{where}: expected image,attribute,labels; got {row}',
        )
        return None
    if len(row) > 4 or (len(row) == 4 and row[3].strip() != '0'):
        report.reject(
            'extra_column',
            f'{where}: {len(row)} columns; the FashionAI format has three '
            '(image,attribute,labels) and column 4 is understood only when '
            f'it is 0 (got {row[3:]})',
        )
        return None
    if len(row) == 4:
        extra['rows'] = extra.get('rows', 0) + 1
        report.count('fourth_column_zero')
    img, key, labels = row[0].strip(), row[1].strip(), row[2].strip()
    if labels == '?':
        report.reject(
            'unlabelled_question',
            f"{where}: label '?': this is a test question file "
            '(rank/Tests/question.csv), not a label file',
        )
        return None
    if key not in spec:
        report.reject(
            'unknown_attribute', f'{where}: unknown attribute key {key!r}'
        )
        return None
    values = spec[key]
    if len(labels) != len(values):
        report.reject(
            'bad_label',
            f'{where}: {key} has {len(values)} values but the label '
            f'{labels!r} has {len(labels)} characters',
        )
        return None
    bad = sorted(set(labels) - set('ynm'))
    if bad:
        report.reject(
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
