"""Validate an annotation set before a long run
(``tools/dataset_converters/check.py``).

Finds, for any supported format (see
:data:`mmfashion_attr.datasets.converters.CONVERTERS`):

* unreadable, missing or corrupt images (fully decoded with Pillow);
* unknown ids (attribute, label, category, image ids), malformed lines;
* duplicate records;
* values outside a category's allowed set;
* attributes that are never labelled (and values never positive);

and reports per attribute and per value the counts, missing rates and
imbalance.
"""

from __future__ import annotations

import os.path as osp
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from tqdm import tqdm

from ..structures import AttributeSchema, SchemaError
from .catalog_format import CatalogFormatError, encode_record
from .converters import Conversion, strip_private

IMAGE_CHECKS = ('none', 'exists', 'decode')


@dataclass
class AttributeStats:
    """Counts of one attribute in one split."""

    name: str
    num_records: int
    labelled: int
    values: Dict[str, Tuple[int, int, int]]  # positive, negative, unknown

    @property
    def missing_rate(self) -> float:
        return 1.0 - self.labelled / max(self.num_records, 1)

    @property
    def imbalance(self) -> float:
        """Most / least frequent positive count (values with any
        positive); ``inf`` when some value has none."""
        pos = [p for p, _, _ in self.values.values()]
        if not pos or max(pos) == 0:
            return float('nan')
        if min(pos) == 0:
            return float('inf')
        return max(pos) / min(pos)


@dataclass
class CheckResult:
    """What :func:`check_conversion` found."""

    errors: List[Tuple[str, str]] = field(default_factory=list)
    warnings: List[Tuple[str, str]] = field(default_factory=list)
    error_counts: Dict[str, int] = field(default_factory=dict)
    warning_counts: Dict[str, int] = field(default_factory=dict)
    stats: Dict[str, List[AttributeStats]] = field(default_factory=dict)
    num_records: Dict[str, int] = field(default_factory=dict)
    num_images_checked: int = 0
    max_kept: int = 100

    def error(self, kind: str, msg: str) -> None:
        self.error_counts[kind] = self.error_counts.get(kind, 0) + 1
        if self.error_counts[kind] <= self.max_kept:
            self.errors.append((kind, msg))

    def warn(self, kind: str, msg: str) -> None:
        self.warning_counts[kind] = self.warning_counts.get(kind, 0) + 1
        if self.warning_counts[kind] <= self.max_kept:
            self.warnings.append((kind, msg))

    @property
    def ok(self) -> bool:
        return not self.error_counts


def check_image(path: str, mode: str = 'decode') -> Optional[str]:
    """``None`` if the image is fine, else what is wrong with it."""
    if mode == 'none':
        return None
    if not osp.isfile(path):
        return 'missing'
    if mode == 'exists':
        return None
    from PIL import Image, ImageFile

    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with Image.open(path) as im:
            im.load()
            if im.width < 1 or im.height < 1:
                return 'empty image'
    except Exception as e:  # PIL raises many types on corrupt files
        return f'cannot decode ({type(e).__name__}: {e})'
    return None


def check_conversion(
    conv: Conversion,
    img_root: Optional[str] = '',
    images: str = 'decode',
    workers: int = 4,
    progress: bool = True,
    learned_allowed_splits: Sequence[str] = (),
) -> CheckResult:
    """Check a converter's output (run with ``on_error='collect'``).

    Args:
        conv: The conversion (its report's errors are included).
        img_root: Folder image paths are relative to (``None``: skip the
            image check).
        images: ``none``, ``exists`` or ``decode`` (full decode).
        workers: Threads for the image check.
        progress: Show tqdm progress bars.
        learned_allowed_splits: Splits whose values outside the allowed set
            are only warnings (the schema's allowed values were learned
            from another split, so unseen values are expected).
    """
    if images not in IMAGE_CHECKS:
        raise ValueError(f'images must be one of {IMAGE_CHECKS}')
    res = CheckResult()
    for kind, n in conv.report.error_counts.items():
        res.error_counts[kind] = res.error_counts.get(kind, 0) + n
    res.errors.extend(
        ('conversion', m) for m in conv.report.errors[: res.max_kept]
    )
    for kind, n in conv.report.warning_counts.items():
        res.warning_counts[kind] = res.warning_counts.get(kind, 0) + n
    res.warnings.extend(
        ('conversion', m) for m in conv.report.warnings[: res.max_kept]
    )
    try:
        schema = AttributeSchema.from_dict(conv.schema, source='<schema>')
    except SchemaError as e:
        res.error('invalid_schema', str(e))
        return res

    labelled_any = np.zeros(schema.num_attributes, dtype=bool)
    for split, records in conv.splits.items():
        acc = _Counts(schema)
        seen: Dict[str, str] = {}
        bar = tqdm(
            records,
            desc=f'records {split}',
            unit='rec',
            disable=not progress or len(records) < 2000,
        )
        for i, rec in enumerate(bar):
            where = rec.get('_where', f'{split}[{i}]')
            clean = strip_private(rec)
            try:
                enc = encode_record(schema, clean, split, i)
            except CatalogFormatError as e:
                res.error('invalid_record', f'{where}: {e.problem}')
                continue
            if enc.img_path in seen:
                res.error(
                    'duplicate_record',
                    f'{where}: duplicate record for {enc.img_path!r} '
                    f'(first at {seen[enc.img_path]})',
                )
                continue
            seen[enc.img_path] = where
            for name, value in enc.disallowed:
                msg = (
                    f'{where}: {name}={value!r} is not allowed for '
                    f'category {clean.get("category")!r}'
                )
                if split in learned_allowed_splits:
                    res.warn('value_not_allowed', msg)
                else:
                    res.error('value_not_allowed', msg)
            acc.add(enc.gt_attr, enc.gt_attr_mask)
        res.num_records[split] = acc.n
        res.stats[split] = acc.stats()
        for k, st in enumerate(res.stats[split]):
            if st.labelled:
                labelled_any[k] = True
            elif len(conv.splits) > 1:
                res.warn(
                    'attribute_unlabelled_in_split',
                    f'{split}: attribute {st.name!r} is never labelled',
                )
    for k, name in enumerate(schema.names):
        if not labelled_any[k]:
            res.error(
                'attribute_never_labelled',
                f'attribute {name!r} is never labelled in any split',
            )
    train = res.stats.get('train')
    if train:
        for st in train:
            if not st.labelled:
                continue
            for v, (p, _, _) in st.values.items():
                if p == 0:
                    res.warn(
                        'value_never_positive',
                        f'train: {st.name}={v!r} is never positive',
                    )
    if img_root is not None and images != 'none':
        _check_images(conv, img_root, images, workers, progress, res)
    return res


class _Counts:
    """Running per-value counts of one split (no N x V arrays kept)."""

    def __init__(self, schema: AttributeSchema) -> None:
        self.schema = schema
        self.n = 0
        self.attr_ids = schema.attribute_ids()
        self.pos = np.zeros(schema.num_values, np.int64)
        self.neg = np.zeros(schema.num_values, np.int64)
        self.unknown = np.zeros(schema.num_values, np.int64)
        self.labelled = np.zeros(schema.num_attributes, np.int64)

    def add(self, gt: np.ndarray, mask: np.ndarray) -> None:
        gt, mask = gt.astype(bool), mask.astype(bool)
        self.n += 1
        self.pos += gt & mask
        self.neg += ~gt & mask
        attr_labelled = np.zeros(self.schema.num_attributes, bool)
        np.logical_or.at(attr_labelled, self.attr_ids, mask)
        self.labelled += attr_labelled
        self.unknown += attr_labelled[self.attr_ids] & ~mask

    def stats(self) -> List[AttributeStats]:
        out = []
        for k, spec in enumerate(self.schema.attributes):
            sl = self.schema.slice(k)
            values = {
                v: (
                    int(self.pos[sl.start + j]),
                    int(self.neg[sl.start + j]),
                    int(self.unknown[sl.start + j]),
                )
                for j, v in enumerate(spec.values)
            }
            out.append(
                AttributeStats(
                    spec.name, self.n, int(self.labelled[k]), values
                )
            )
        return out


def _check_images(
    conv: Conversion,
    img_root: str,
    mode: str,
    workers: int,
    progress: bool,
    res: CheckResult,
) -> None:
    paths: Dict[str, str] = {}
    if conv.crops:
        for jobs in conv.crops.values():
            for job in jobs:
                paths.setdefault(job.src, job.dst)
    else:
        for split, records in conv.splits.items():
            for i, rec in enumerate(records):
                p = rec.get('img_path')
                if isinstance(p, str):
                    paths.setdefault(p, rec.get('_where', f'{split}[{i}]'))
    items = sorted(paths.items())

    def one(item):
        rel, where = item
        full = rel if osp.isabs(rel) else osp.join(img_root, rel)
        return rel, where, check_image(full, mode)

    with ThreadPoolExecutor(max(1, workers)) as pool:
        results = pool.map(one, items)
        for rel, where, problem in tqdm(
            results,
            total=len(items),
            desc='images',
            unit='img',
            disable=not progress,
        ):
            if problem is not None:
                kind = (
                    'image_missing'
                    if problem == 'missing'
                    else 'image_unreadable'
                )
                res.error(kind, f'{where}: image {rel}: {problem}')
    res.num_images_checked = len(items)


def format_report(res: CheckResult, max_values: int = 50) -> str:
    """A human-readable report: problems, then per split, attribute and
    value counts."""
    lines = []
    for split, stats in res.stats.items():
        lines.append(f'== {split}: {res.num_records.get(split, 0)} records')
        for st in stats:
            lines.append(
                f'  {st.name}: labelled {st.labelled}, missing '
                f'{100 * st.missing_rate:.1f}%, imbalance '
                f'{st.imbalance:.1f} (max/min positives)'
            )
            for v, (p, n, u) in list(st.values.items())[:max_values]:
                extra = f', unknown {u}' if u else ''
                lines.append(f'      {v}: positive {p}, negative {n}{extra}')
            if len(st.values) > max_values:
                lines.append(
                    f'      ... {len(st.values) - max_values} more values'
                )
    if res.num_images_checked:
        lines.append(f'images checked: {res.num_images_checked}')
    if res.warning_counts:
        lines.append(f'WARNINGS {dict(sorted(res.warning_counts.items()))}')
        lines.extend(f'  warning [{k}] {m}' for k, m in res.warnings[:50])
    if res.error_counts:
        lines.append(f'ERRORS {dict(sorted(res.error_counts.items()))}')
        lines.extend(f'  error [{k}] {m}' for k, m in res.errors)
    else:
        lines.append('no errors')
    return '\n'.join(lines)
