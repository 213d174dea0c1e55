"""What every converter produces: a schema, catalog records and a report.

A converter reads a public dataset's own annotation files and returns a
:class:`Conversion`: the attribute schema (a dict, see
:mod:`mmfashion_attr.structures.attribute_schema`), one list of catalog
records per split (see :mod:`mmfashion_attr.datasets.catalog_format`) and a
:class:`ConversionReport` of the problems found (unknown ids, duplicate
records, malformed lines). :func:`write_conversion` writes
``schema.json`` and ``<split>.jsonl`` with the catalog writer
(:func:`~mmfashion_attr.datasets.catalog_writer.write_catalog`) and, for
the instance task, the crops, so
:class:`~mmfashion_attr.datasets.CatalogDataset` reads every format.
"""

from __future__ import annotations

import json
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

from ..catalog_writer import write_catalog


class ConversionError(ValueError):
    """A problem in a source annotation file (the message names it)."""


@dataclass
class ConversionReport:
    """Problems and counts found while converting.

    Args:
        on_error: ``raise`` raises :class:`ConversionError` at the first
            error; ``collect`` records every error (the checker's mode).
        max_kept: How many messages of each kind are kept (all are
            counted).

    Attributes:
        inputs: Source items read (rows, lines, annotations).
        rejected: Source items that became no record because of an error
            (see :meth:`reject`); items left out on purpose (e.g. images
            without the chosen attributes) are not rejections.
    """

    on_error: str = 'raise'
    max_kept: int = 200
    errors: List[str] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)
    error_counts: Dict[str, int] = field(default_factory=dict)
    warning_counts: Dict[str, int] = field(default_factory=dict)
    stats: Dict[str, int] = field(default_factory=dict)
    inputs: int = 0
    rejected: int = 0

    def __post_init__(self) -> None:
        if self.on_error not in ('raise', 'collect'):
            raise ValueError(
                f"on_error must be 'raise' or 'collect', not {self.on_error}"
            )

    def error(self, kind: str, msg: str) -> None:
        """Record (or raise) an error of a kind, e.g. ``unknown_id``."""
        if self.on_error == 'raise':
            raise ConversionError(msg)
        self.error_counts[kind] = self.error_counts.get(kind, 0) + 1
        if len(self.errors) < self.max_kept:
            self.errors.append(msg)

    def reject(self, kind: str, msg: str) -> None:
        """Record (or raise) an error that drops a source item."""
        self.error(kind, msg)
        self.rejected += 1

    def warn(self, kind: str, msg: str) -> None:
        self.warning_counts[kind] = self.warning_counts.get(kind, 0) + 1
        if len(self.warnings) < self.max_kept:
            self.warnings.append(msg)

    def count(self, key: str, n: int = 1) -> None:
        self.stats[key] = self.stats.get(key, 0) + n

    @property
    def num_errors(self) -> int:
        return sum(self.error_counts.values())


@dataclass
class CropJob:
    """Crop ``box`` (``x0, y0, x1, y1`` pixels) of ``src`` into ``dst``."""

    src: str
    dst: str
    box: Tuple[int, int, int, int]


@dataclass
class Conversion:
    """The result of a converter.

    Attributes:
        schema: The schema dict.
        splits: ``{split: [catalog record]}``.
        report: Problems and counts.
        crops: ``{split: [CropJob]}``: images to write (instance task).
    """

    schema: dict
    splits: Dict[str, List[dict]]
    report: ConversionReport
    crops: Dict[str, List[CropJob]] = field(default_factory=dict)


def load_json(path: str, what: str) -> dict:
    """Read a JSON file with an error naming the file (and saying so when
    it is not UTF-8 text, e.g. a zip archive)."""
    from .text_input import sniff_text

    sniff_text(path, what, 'JSON (UTF-8)')
    try:
        with open(path, encoding='utf-8-sig') as f:
            return json.load(f)
    except UnicodeDecodeError as e:
        raise ConversionError(
            f'{path}: the {what} is not UTF-8 text ({e.reason}); save it '
            'as JSON (UTF-8)'
        ) from None
    except json.JSONDecodeError as e:
        raise ConversionError(f'{path}: not valid JSON ({e})') from None


def unique_names(names: Sequence[str], ids: Sequence) -> List[str]:
    """Make value names unique inside one attribute: a repeated name gets
    its source id appended (``name [id]``)."""
    seen: Dict[str, int] = {}
    for n in names:
        seen[n] = seen.get(n, 0) + 1
    out = []
    for n, i in zip(names, ids):
        n = n.lstrip('?') or f'value {i}'
        out.append(f'{n} [{i}]' if seen.get(n, 0) > 1 else n)
    return out


def iter_annotations(
    annotations: Sequence[dict], path: str, split: str, progress: bool
) -> Iterator[Tuple[int, str, dict]]:
    """``(index, where, annotation)`` of an annotation list, ``where``
    naming the file and index for error messages; a tqdm bar with
    ``progress``."""
    from tqdm import tqdm

    bar = tqdm(
        annotations,
        desc=f'annotations {split}',
        unit='ann',
        disable=not progress,
    )
    for i, ann in enumerate(bar):
        yield i, f'{path}: annotations[{i}]', ann


def strip_private(record: dict) -> dict:
    """A record without the converter's private keys (``_where``...)."""
    return {k: v for k, v in record.items() if not k.startswith('_')}


def snake(name: str) -> str:
    """``neckline type`` -> ``neckline_type``."""
    return '_'.join(name.strip().lower().replace('/', ' ').split())


def write_conversion(
    conv: Conversion,
    out_dir: str,
    img_root: Optional[str] = None,
    progress: bool = True,
    jpeg_quality: int = 95,
) -> Dict[str, str]:
    """Write ``schema.json``, ``<split>.jsonl`` and any crops.

    Args:
        conv: A converter's result.
        out_dir: Output folder (created).
        img_root: Folder the crop sources are relative to.
        progress: Show tqdm progress bars.
        jpeg_quality: JPEG quality of written crops.

    Returns:
        ``{name: path}`` of the written annotation files.
    """
    written = write_catalog(
        out_dir,
        conv.schema,
        {
            split: [strip_private(r) for r in recs]
            for split, recs in conv.splits.items()
        },
    )
    for split, jobs in conv.crops.items():
        write_crops(
            jobs,
            out_dir,
            img_root,
            progress,
            jpeg_quality,
            desc=f'crops {split}',
        )
    return written


def write_crops(
    jobs: Sequence[CropJob],
    out_dir: str,
    img_root: Optional[str],
    progress: bool = True,
    jpeg_quality: int = 95,
    desc: str = 'crops',
) -> int:
    """Cut the crops out of their images; returns how many were written.

    Images are opened once per source even when it has many crops; an
    unreadable source is reported and its crops skipped.
    """
    import cv2
    from tqdm import tqdm

    by_src: Dict[str, List[CropJob]] = {}
    for job in jobs:
        by_src.setdefault(job.src, []).append(job)
    n = 0
    bar = tqdm(by_src.items(), desc=desc, unit='img', disable=not progress)
    for src, src_jobs in bar:
        src_path = src if img_root is None else osp.join(img_root, src)
        img = cv2.imread(src_path, cv2.IMREAD_COLOR)
        if img is None:
            bar.write(
                f'warning: cannot read {src_path}; '
                f'{len(src_jobs)} crops skipped'
            )
            continue
        h, w = img.shape[:2]
        for job in src_jobs:
            x0, y0, x1, y1 = job.box
            x0, y0 = max(0, x0), max(0, y0)
            x1, y1 = min(w, x1), min(h, y1)
            if x1 <= x0 or y1 <= y0:
                continue
            dst = osp.join(out_dir, job.dst)
            os.makedirs(osp.dirname(dst), exist_ok=True)
            ok = cv2.imwrite(
                dst,
                img[y0:y1, x0:x1],
                [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality],
            )
            if not ok:
                bar.write(f'warning: cannot write {dst}')
            n += bool(ok)
    return n


def holdout_split(
    conv: Conversion,
    fraction: float,
    source: str = 'train',
    target: str = 'val',
    seed: int = 0,
) -> Conversion:
    """Move a deterministic ``fraction`` of ``source`` into ``target``.

    For datasets without a labelled validation set (FashionAI, the Kaggle
    iMaterialist-Fashion sets). A record goes to ``target`` when the hash
    of ``seed`` and its image path (or its ``_group``, e.g. the source
    photo of a garment crop, so that all garments of a photo land in one
    split) falls below ``fraction``; the split does not depend on the
    record order and is the same on every machine. Crops follow their
    records.
    """
    import hashlib

    if not 0 < fraction < 1:
        raise ValueError(f'fraction must be in (0, 1), not {fraction}')
    if target in conv.splits:
        raise ConversionError(f'there is already a {target!r} split')
    keep, moved = [], []
    for rec in conv.splits.get(source, []):
        key = rec.get('_group', rec['img_path'])
        h = hashlib.md5(f'{seed}:{key}'.encode()).hexdigest()
        (moved if int(h[:8], 16) / 0xFFFFFFFF < fraction else keep).append(rec)
    conv.splits[source], conv.splits[target] = keep, moved
    if conv.crops.get(source):
        dst = {r['img_path'] for r in moved}
        jobs = conv.crops[source]
        conv.crops[source] = [j for j in jobs if j.dst not in dst]
        conv.crops[target] = [j for j in jobs if j.dst in dst]
    conv.report.count(f'{target}/records_held_out', len(moved))
    return conv
