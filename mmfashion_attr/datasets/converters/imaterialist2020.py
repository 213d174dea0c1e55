"""Kaggle iMaterialist (Fashion) 2020 / 2021 (FGVC7 / FGVC8) converters.

Source: the Kaggle competitions "imaterialist-fashion-2020-fgvc7" and
"imaterialist-fashion-2021-fgvc8", built on Fashionpedia (Jia et al.,
"Fashionpedia: Ontology, Segmentation, and an Attribute Localization
Dataset", ECCV 2020). Their download is not the Fashionpedia JSON files:

* ``label_descriptions.json``: ``{"categories": [...], "attributes":
  [...]}`` with ``{id, name, supercategory, level}`` records (46
  categories, 294 attributes with sparse ids 0-340), the Fashionpedia
  ontology;
* ``train.csv`` with the header
  ``ImageId,EncodedPixels,Height,Width,ClassId,AttributesIds``, one row per
  mask: ``ImageId`` without ``.jpg`` (the image is
  ``train/<ImageId>.jpg``), the mask as Kaggle RLE (``start length``
  pairs, 1-based, column-major, see :mod:`.rle`), the full image size,
  the category id and the comma-separated attribute ids (empty for a mask
  without attributes).

Two readers, like the Fashionpedia ones: one record per main garment
(:func:`convert_imaterialist2020_instances`: category from ``ClassId``,
attributes from ``AttributesIds`` plus those of the garment parts lying on
it, crop box from the mask) and one record per image with the union of
its masks' attributes (:func:`convert_imaterialist2020_attributes`). The
2019 (FGVC6) files are another format (``ClassId`` such as
``10_3_20``, no ``AttributesIds``, 92 attributes in another id space) and
are refused.
"""

from __future__ import annotations

import csv
import os.path as osp
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

from tqdm import tqdm

from .base import Conversion, ConversionError, ConversionReport, load_json
from .fashionpedia import (
    PAPER_SUPERCATEGORIES,
    FashionpediaOntology,
    instance_conversion,
)
from .rle import RLEError, kaggle_rle_box
from .text_input import open_text, text_lines

KAGGLE_COLUMNS = (
    'ImageId',
    'EncodedPixels',
    'Height',
    'Width',
    'ClassId',
    'AttributesIds',
)
CSV = 'CSV (UTF-8)'
IMAGE_DIR = 'train'
# EncodedPixels of a large mask exceed the csv module's default 128 KiB.
_FIELD_LIMIT = 1 << 28


def load_label_descriptions(
    path: str,
    supercategories: Sequence[str] = PAPER_SUPERCATEGORIES,
    split_length: bool = False,
) -> FashionpediaOntology:
    """The ontology of ``label_descriptions.json``.

    Raises:
        ConversionError: The file is missing or unreadable, or it is the
            2019 (FGVC6) label file, whose attribute ids mean other things.
    """
    data = load_json(path, 'label_descriptions.json')
    info = data.get('info') or {}
    if '2019' in str(info.get('description', '')):
        raise ConversionError(
            f'{path}: this is the 2019 (FGVC6) label file ("'
            f'{info["description"]}"); its attribute ids are another id '
            'space. Use label_descriptions.json of the 2020 or 2021 '
            'competition'
        )
    return FashionpediaOntology(data, supercategories, split_length, path)


def _header(reader: Iterator[List[str]], path: str) -> Dict[str, int]:
    header = next(reader, None)
    if header is None:
        raise ConversionError(f'{path}: empty file')
    col = {name.strip(): i for i, name in enumerate(header)}
    missing = [c for c in KAGGLE_COLUMNS if c not in col]
    if missing == ['AttributesIds']:
        raise ConversionError(
            f'{path}: no AttributesIds column; this looks like the 2019 '
            '(FGVC6) train.csv, whose ClassId holds category_attribute '
            'ids. Only the 2020/2021 train.csv is read'
        )
    if missing:
        raise ConversionError(
            f'{path}: the header must have {", ".join(KAGGLE_COLUMNS)}; '
            f'missing {missing} (got {header})'
        )
    return col


def _int_ids(text: str) -> List[int]:
    return [int(t) for t in text.split(',') if t.strip()]


def read_kaggle_csv(
    path: str,
    report: ConversionReport,
    with_boxes: bool = True,
    progress: bool = False,
) -> dict:
    """The masks of a ``train.csv`` as COCO-style ``images`` and
    ``annotations`` (``id`` = the row's line number, ``image_id`` =
    ``ImageId``, ``category_id``, ``attribute_ids``, ``bbox`` when
    ``with_boxes``).

    Bad rows are rejected through ``report`` with the file and line.
    """
    csv.field_size_limit(max(csv.field_size_limit(), _FIELD_LIMIT))
    images: Dict[str, dict] = {}
    anns: List[dict] = []
    with open_text(path, 'train.csv', CSV) as f:
        reader = csv.reader(line for _, line in text_lines(f, path, CSV))
        col = _header(reader, path)
        width = max(col.values()) + 1
        for row in tqdm(
            reader, desc=osp.basename(path), unit='row', disable=not progress
        ):
            if not row or not any(c.strip() for c in row):
                continue
            report.inputs += 1
            where = f'{path}:{reader.line_num}'
            ann = _row(row, col, width, where, report, with_boxes)
            if ann is None:
                continue
            iid = ann['image_id']
            size = (ann.pop('height'), ann.pop('width'))
            img = images.setdefault(
                iid,
                dict(
                    id=iid,
                    file_name=f'{iid}.jpg',
                    height=size[0],
                    width=size[1],
                ),
            )
            if (img['height'], img['width']) != size:
                report.reject(
                    'inconsistent_size',
                    f'{where}: {iid} is {size[0]}x{size[1]} here but '
                    f'{img["height"]}x{img["width"]} on an earlier row',
                )
                continue
            ann['id'] = reader.line_num
            anns.append(ann)
    return dict(images=list(images.values()), annotations=anns)


def _row(
    row: List[str],
    col: Dict[str, int],
    width: int,
    where: str,
    report: ConversionReport,
    with_boxes: bool,
) -> Optional[dict]:
    if len(row) < width:
        report.reject(
            'malformed_line',
            f'{where}: {len(row)} columns, the header has {width}',
        )
        return None
    iid = row[col['ImageId']].strip()
    if not iid:
        report.reject('malformed_line', f'{where}: empty ImageId')
        return None
    try:
        h, w = int(row[col['Height']]), int(row[col['Width']])
        cid = int(row[col['ClassId']])
        if h <= 0 or w <= 0:
            raise ValueError
    except ValueError:
        report.reject(
            'malformed_line',
            f'{where}: Height, Width and ClassId must be integers (got '
            f'{row[col["Height"]]!r}, {row[col["Width"]]!r}, '
            f'{row[col["ClassId"]]!r})',
        )
        return None
    try:
        attr_ids = _int_ids(row[col['AttributesIds']])
    except ValueError:
        report.reject(
            'bad_attribute_ids',
            f'{where}: AttributesIds {row[col["AttributesIds"]]!r} is not '
            'a comma-separated list of integers',
        )
        return None
    ann = dict(
        image_id=iid,
        category_id=cid,
        attribute_ids=attr_ids,
        height=h,
        width=w,
        _where=where,
    )
    if with_boxes:
        try:
            box = kaggle_rle_box(row[col['EncodedPixels']], h, w)
        except RLEError as e:
            report.reject('bad_rle', f'{where}: EncodedPixels: {e}')
            return None
        if box is None:
            report.reject('empty_mask', f'{where}: EncodedPixels is empty')
            return None
        ann['bbox'] = list(box)
    return ann


def _image_prefix(
    img_prefix: Optional[Dict[str, str]], files: Dict[str, str]
) -> Dict[str, str]:
    """Every split's images are ``train/<ImageId>.jpg`` unless told."""
    out = {split: IMAGE_DIR for split in files}
    out.update(img_prefix or {})
    return out


def convert_imaterialist2020_instances(
    files: Dict[str, str],
    ontology: Optional[str] = None,
    supercategories: Sequence[str] = PAPER_SUPERCATEGORIES,
    split_length: bool = False,
    img_prefix: Optional[Dict[str, str]] = None,
    on_error: str = 'raise',
    progress: bool = False,
    **garment_options,
) -> Conversion:
    """One record per main garment of Kaggle ``train.csv`` files.

    Garments, parts, crops and allowed values work as in
    :func:`~.fashionpedia.convert_fashionpedia_instances`; the boxes come
    from the masks (``EncodedPixels``) and the crops are cut from the
    full-size Kaggle images (``Height`` x ``Width``). Record ids are the
    rows' line numbers in ``train.csv``.

    Args:
        files: ``{split: train.csv}`` (the test set has no labels: hold out
            a validation split with ``holdout_split``).
        ontology: ``label_descriptions.json`` (required).
        supercategories: Attribute supercategories used as tasks.
        split_length: Split ``length`` into garment and sleeve length.
        img_prefix: ``{split: folder}`` of the source images (default
            ``train`` for every split).
        on_error: ``raise`` or ``collect``.
        progress: Show tqdm progress bars.
        **garment_options: ``garment_ids``, ``margin``,
            ``min_part_coverage``, ``category_attribute``,
            ``allowed_from``, ``min_allowed_count`` and ``crop_dir`` of
            :func:`~.fashionpedia.instance_conversion`.
    """
    onto = _required_ontology(ontology, supercategories, split_length)
    report = ConversionReport(on_error)
    data = {
        split: read_kaggle_csv(path, report, True, progress)
        for split, path in files.items()
    }
    return instance_conversion(
        onto,
        data,
        files,
        report,
        img_prefix=_image_prefix(img_prefix, files),
        progress=progress,
        count_inputs=False,
        **garment_options,
    )


def _required_ontology(
    ontology: Optional[str], supercategories, split_length
) -> FashionpediaOntology:
    if ontology is None:
        raise ConversionError(
            'the Kaggle train.csv has no ontology of its own: pass '
            'label_descriptions.json (--ontology)'
        )
    return load_label_descriptions(ontology, supercategories, split_length)


def _image_attributes(
    anns: List[dict],
) -> Dict[str, Tuple[str, List[int]]]:
    """``{ImageId: (where of its first row, union of attribute ids)}``."""
    out: Dict[str, Tuple[str, List[int]]] = {}
    for ann in anns:
        where, ids = out.setdefault(ann['image_id'], (ann['_where'], []))
        ids.extend(i for i in ann['attribute_ids'] if i not in ids)
    return out


def convert_imaterialist2020_attributes(
    files: Dict[str, str],
    ontology: Optional[str] = None,
    supercategories: Sequence[str] = PAPER_SUPERCATEGORIES,
    split_length: bool = False,
    keep_empty: bool = False,
    img_prefix: Optional[Dict[str, str]] = None,
    on_error: str = 'raise',
    progress: bool = False,
) -> Conversion:
    """One record per image of Kaggle ``train.csv`` files: the union of the
    attributes of all its masks (garments and parts), as in Fashionpedia's
    global attribute files, so values of one supercategory from different
    garments of a photo appear together.

    Args:
        files: ``{split: train.csv}``.
        ontology: ``label_descriptions.json`` (required).
        supercategories: Attribute supercategories used as tasks.
        split_length: Split ``length`` into garment and sleeve length.
        keep_empty: Keep images with none of the chosen supercategories.
        img_prefix: ``{split: folder}`` of the images (default ``train``).
        on_error: ``raise`` or ``collect``.
        progress: Show tqdm progress bars.
    """
    onto = _required_ontology(ontology, supercategories, split_length)
    report = ConversionReport(on_error)
    prefix = _image_prefix(img_prefix, files)
    splits = {}
    for split, path in files.items():
        data = read_kaggle_csv(path, report, False, progress)
        records = []
        for iid, (where, ids) in _image_attributes(
            data['annotations']
        ).items():
            attrs = onto.group(ids, report, where)
            if not attrs and not keep_empty:
                report.count(f'{split}/images_without_chosen_attributes')
                continue
            img = f'{iid}.jpg'
            if prefix.get(split):
                img = osp.join(prefix[split], img)
            records.append(
                dict(id=iid, img_path=img, attributes=attrs, _where=where)
            )
        report.count(f'{split}/records', len(records))
        splits[split] = records
    schema = dict(attributes=onto.schema_attributes(), categories=[])
    return Conversion(schema, splits, report)


__all__ = [
    'KAGGLE_COLUMNS',
    'convert_imaterialist2020_attributes',
    'convert_imaterialist2020_instances',
    'load_label_descriptions',
    'read_kaggle_csv',
]
