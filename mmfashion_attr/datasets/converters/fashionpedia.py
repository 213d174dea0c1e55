"""Fashionpedia / iMaterialist-Fashion 2020-2021 (FGVC7/8) converters.

Source: Jia et al., "Fashionpedia: Ontology, Segmentation, and an
Attribute Localization Dataset", ECCV 2020 (https://fashionpedia.github.io);
the same files are the iMaterialist-Fashion 2021 (FGVC8) competition data
that Parekh & Shaik (VISAPP 2023, Sec. 5.1, Table 4) use with the six
supercategories ``length``, ``neckline type``, ``opening type``,
``silhouette``, ``textile pattern`` and ``waistline``.

Two tasks:

* global attributes (``attributes_{train,val}2020.json``, one
  ``{image_id, attribute_ids}`` per image): one record per image
  (:func:`convert_fashionpedia_attributes`);
* instances (``instances_attributes_{train,val}2020.json``): one record per
  main garment (categories 0-12) cropped to its box plus a context margin,
  with the attributes of the garment and of the garment parts (sleeve,
  neckline, ...) lying on it (:func:`convert_fashionpedia_instances`).

Attributes (tasks) are supercategories, values are the ontology's
attributes inside each supercategory, in id order. Ids are sparse (deleted
during annotation) and are always mapped, never used as indices. A
supercategory with no attribute on a sample is **missing** (masked), not
negative. With ``split_length=True`` the ``length`` supercategory becomes
``garment_length`` and ``sleeve_length`` (sleeveless, short, elbow-length,
three quarter, wrist-length), each missing on its own.
"""

from __future__ import annotations

import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

from .base import (
    Conversion,
    ConversionError,
    ConversionReport,
    CropJob,
    iter_annotations,
    load_json,
    snake,
    unique_names,
)
from .rle import RLEError, segmentation_box

PAPER_SUPERCATEGORIES = (
    'length',
    'neckline type',
    'opening type',
    'silhouette',
    'textile pattern',
    'waistline',
)
SLEEVE_LENGTH_NAMES = (
    'sleeveless',
    'short (length)',
    'elbow-length',
    'three quarter (length)',
    'wrist-length',
)
MAIN_GARMENT_IDS = tuple(range(13))
GARMENT_PART_SUPERCATEGORY = 'garment parts'

# (roi, granularity) after the paper's Table 2: lengths are large-region
# coarse attributes, neck type small fine, closure (opening) small coarse,
# pattern large fine.
TASK_GROUPS = {
    'length': ('large', 'coarse'),
    'garment_length': ('large', 'coarse'),
    'sleeve_length': ('small', 'coarse'),
    'neckline_type': ('small', 'fine'),
    'opening_type': ('small', 'coarse'),
    'silhouette': ('large', 'fine'),
    'textile_pattern': ('large', 'fine'),
    'waistline': ('small', 'coarse'),
    'nickname': ('large', 'fine'),
    'category': ('large', 'coarse'),
}


class FashionpediaOntology:
    """Ontology lookups (categories and attributes by id).

    Args:
        data: A dict with ``categories`` and/or ``attributes`` lists of
            ``{id, name, supercategory}`` (an annotation file or
            ``fashionpedia_label_descriptions.json``).
        supercategories: The attribute supercategories used as tasks.
        split_length: Split ``length`` into garment and sleeve length.
        source: File name for messages.
    """

    def __init__(
        self,
        data: dict,
        supercategories: Sequence[str] = PAPER_SUPERCATEGORIES,
        split_length: bool = False,
        source: str = '<ontology>',
    ) -> None:
        attrs = data.get('attributes')
        if not attrs:
            raise ConversionError(f"{source}: no 'attributes' ontology")
        self.attributes = {int(a['id']): a for a in attrs}
        self.categories = {int(c['id']): c for c in data.get('categories', [])}
        known = {a['supercategory'] for a in attrs}
        unknown = [s for s in supercategories if s not in known]
        if unknown:
            raise ConversionError(
                f'{source}: unknown attribute supercategories {unknown}; '
                f'the ontology has {sorted(known)}'
            )
        self.id_to_task: Dict[int, Tuple[str, str]] = {}
        tasks: Dict[str, List[Tuple[int, str]]] = {}
        for sc in supercategories:
            for aid in sorted(self.attributes):
                a = self.attributes[aid]
                if a['supercategory'] != sc:
                    continue
                task = snake(sc)
                if sc == 'length' and split_length:
                    task = (
                        'sleeve_length'
                        if a['name'] in SLEEVE_LENGTH_NAMES
                        else 'garment_length'
                    )
                tasks.setdefault(task, []).append((aid, a['name']))
        self.tasks: Dict[str, List[str]] = {}
        for task, items in tasks.items():
            names = unique_names([n for _, n in items], [i for i, _ in items])
            self.tasks[task] = names
            for (aid, _), name in zip(items, names):
                self.id_to_task[aid] = (task, name)

    def schema_attributes(self) -> List[dict]:
        out = []
        for task, values in self.tasks.items():
            d = dict(name=task, values=list(values))
            roi, gran = TASK_GROUPS.get(task, (None, None))
            if roi:
                d['roi'] = roi
                d['granularity'] = gran
            out.append(d)
        return out

    def group(
        self, attribute_ids, report: ConversionReport, where: str
    ) -> Dict[str, List[str]]:
        """``{task: [value]}`` of a list of attribute ids."""
        out: Dict[str, List[str]] = {}
        for aid in attribute_ids:
            try:
                aid = int(aid)
            except (TypeError, ValueError):
                report.error(
                    'unknown_attribute_id',
                    f'{where}: attribute id {aid!r} is not an int',
                )
                continue
            if aid not in self.attributes:
                report.error(
                    'unknown_attribute_id',
                    f'{where}: unknown attribute id {aid}',
                )
                continue
            hit = self.id_to_task.get(aid)
            if hit is None:
                report.count('ignored_attribute_labels')
                continue
            task, value = hit
            vals = out.setdefault(task, [])
            if value in vals:
                report.count('repeated_attribute_labels')
            else:
                vals.append(value)
        return out


def _ontology(
    files: Dict[str, str],
    ontology: Optional[str],
    supercategories,
    split_length,
) -> Tuple[FashionpediaOntology, Dict[str, dict]]:
    data = {
        split: load_json(path, 'Fashionpedia annotation file')
        for split, path in files.items()
    }
    if ontology is not None:
        onto_src, onto = ontology, load_json(ontology, 'ontology file')
    else:
        onto_src, onto = next(
            ((files[s], d) for s, d in data.items() if d.get('attributes')),
            (None, None),
        )
        if onto is None:
            raise ConversionError(
                f"{list(files.values())}: no file has an 'attributes' "
                'ontology; pass ontology= (e.g. '
                'fashionpedia_label_descriptions.json)'
            )
    for split, d in data.items():
        if files[split] != onto_src:
            _same_ontology(d, files[split], onto, onto_src)
    return FashionpediaOntology(
        onto, supercategories, split_length, onto_src
    ), data


def _same_ontology(d: dict, path: str, onto: dict, onto_src: str) -> None:
    """Refuse a file whose own ontology gives its ids other meanings than
    the one in use (the official sample file has a pre-release ontology:
    its attribute 147 is ``knee (length)``, the release's ``hip
    (length)``)."""
    for key in ('attributes', 'categories'):
        if not d.get(key) or not onto.get(key):
            continue
        a = {int(x['id']): x['name'] for x in d[key]}
        b = {int(x['id']): x['name'] for x in onto[key]}
        diff = sorted(i for i in set(a) | set(b) if a.get(i) != b.get(i))
        if diff:
            i = diff[0]
            raise ConversionError(
                f'{path}: its own {key} differ from {onto_src} in '
                f'{len(diff)} ids (e.g. id {i}: {a.get(i)!r} here, '
                f'{b.get(i)!r} there); convert it with its own ontology'
            )


def _images(d: dict, path: str, report: ConversionReport) -> Dict[int, dict]:
    if not isinstance(d.get('images'), list):
        raise ConversionError(f"{path}: no 'images' list")
    if not isinstance(d.get('annotations'), list):
        raise ConversionError(f"{path}: no 'annotations' list")
    images: Dict[int, dict] = {}
    for i, img in enumerate(d['images']):
        iid = img.get('id')
        if iid is None or not img.get('file_name'):
            report.error(
                'malformed_image',
                f"{path}: images[{i}] lacks 'id' or 'file_name'",
            )
            continue
        if iid in images:
            report.error(
                'duplicate_record',
                f'{path}: images[{i}]: duplicate image id {iid}',
            )
            continue
        images[iid] = img
    return images


def convert_fashionpedia_attributes(
    files: Dict[str, str],
    supercategories: Sequence[str] = PAPER_SUPERCATEGORIES,
    split_length: bool = False,
    ontology: Optional[str] = None,
    keep_empty: bool = False,
    img_prefix: Optional[Dict[str, str]] = None,
    on_error: str = 'raise',
    progress: bool = False,
) -> Conversion:
    """Convert the global-attribute files (one record per image).

    Args:
        files: ``{split: path}``, e.g. ``{'train':
            'attributes_train2020.json', 'val': 'attributes_val2020.json'}``.
        supercategories: Attribute supercategories used as tasks.
        split_length: Split ``length`` into garment and sleeve length.
        ontology: A JSON with the ``attributes`` ontology, when the
            annotation files lack it.
        keep_empty: Keep images with none of the chosen supercategories
            (all attributes missing); dropped and counted by default.
        img_prefix: ``{split: folder}`` put before the images'
            ``file_name`` (Fashionpedia: ``train/`` and ``test/``).
        on_error: ``raise`` or ``collect`` (see :class:`ConversionReport`).
        progress: Show tqdm progress bars.
    """
    report = ConversionReport(on_error)
    onto, data = _ontology(files, ontology, supercategories, split_length)
    splits = {}
    for split, d in data.items():
        path = files[split]
        images = _images(d, path, report)
        seen = set()
        records = []
        for _, where, ann in iter_annotations(
            d['annotations'], path, split, progress
        ):
            report.inputs += 1
            iid = ann.get('image_id')
            if iid not in images:
                report.reject(
                    'unknown_image_id', f'{where}: unknown image_id {iid!r}'
                )
                continue
            if iid in seen:
                report.reject(
                    'duplicate_record',
                    f'{where}: second annotation of image {iid}',
                )
                continue
            seen.add(iid)
            attrs = onto.group(ann.get('attribute_ids') or [], report, where)
            if not attrs and not keep_empty:
                report.count(f'{split}/images_without_chosen_attributes')
                continue
            records.append(
                dict(
                    id=str(iid),
                    img_path=_prefixed(
                        img_prefix, split, images[iid]['file_name']
                    ),
                    attributes=attrs,
                    _where=where,
                )
            )
        unannotated = len(set(images) - seen)
        if unannotated:
            report.count(f'{split}/images_without_annotation', unannotated)
        report.count(f'{split}/records', len(records))
        splits[split] = records
    schema = dict(attributes=onto.schema_attributes(), categories=[])
    return Conversion(schema, splits, report)


def _prefixed(prefix: Optional[Dict[str, str]], split: str, name: str) -> str:
    if prefix and prefix.get(split):
        return osp.join(prefix[split], name)
    return name


def _expand_box(
    bbox, margin: float, width: Optional[int], height: Optional[int]
) -> Tuple[int, int, int, int]:
    x, y, w, h = (float(v) for v in bbox)
    x0, y0 = x - margin * w, y - margin * h
    x1, y1 = x + w + margin * w, y + h + margin * h
    x0, y0 = max(0, int(round(x0))), max(0, int(round(y0)))
    x1, y1 = int(round(x1)), int(round(y1))
    if width:
        x1 = min(int(width), x1)
    if height:
        y1 = min(int(height), y1)
    return x0, y0, x1, y1


def _coverage(part, garment) -> float:
    """Fraction of the part's box inside the garment's box."""
    px, py, pw, ph = part
    gx, gy, gw, gh = garment
    iw = max(0.0, min(px + pw, gx + gw) - max(px, gx))
    ih = max(0.0, min(py + ph, gy + gh) - max(py, gy))
    return iw * ih / max(pw * ph, 1e-9)


def convert_fashionpedia_instances(
    files: Dict[str, str],
    supercategories: Sequence[str] = PAPER_SUPERCATEGORIES,
    split_length: bool = False,
    ontology: Optional[str] = None,
    img_prefix: Optional[Dict[str, str]] = None,
    on_error: str = 'raise',
    progress: bool = False,
    **garment_options,
) -> Conversion:
    """Convert the instance files: one record per main garment.

    Each garment (category in ``garment_ids``) becomes a crop of its box
    grown by ``margin`` (a fraction of the box's width/height on each side,
    clipped to the image). Its attributes are those of the garment plus
    those of the garment parts (ontology supercategory ``garment parts``:
    sleeve, neckline, collar, ...) lying on it: a part belongs to the
    garment whose box covers the largest fraction of the part's box (at
    least ``min_part_coverage``; ties go to the smaller garment). An
    annotation without ``bbox`` gets the box of its ``segmentation``
    (polygons, or COCO RLE, compressed or not; the official sample file
    ``fashionpedia-api/data/sample.json`` has no ``bbox``). Annotations of
    other categories (shoes, bags, ...) are counted and left out.

    The garment's category is the record's product category. The schema's
    ``allowed`` values per category are the values labelled at least
    ``min_allowed_count`` times on that category in the ``allowed_from``
    split (``None``: no restriction); an attribute never labelled on a
    category does not apply to it.

    Args:
        files: ``{split: instances_attributes_<split>2020.json}``.
        supercategories: Attribute supercategories used as tasks.
        split_length: Split ``length`` into garment and sleeve length.
        ontology: A JSON with ``categories``/``attributes`` when the files
            lack them (a file with an ontology of its own that gives ids
            other meanings is refused).
        img_prefix: ``{split: folder}`` put before the source images'
            ``file_name`` (Fashionpedia: ``train/`` and ``test/``).
        on_error: ``raise`` or ``collect``.
        progress: Show tqdm progress bars.
        **garment_options: ``garment_ids``, ``margin``,
            ``min_part_coverage``, ``category_attribute``,
            ``allowed_from``, ``min_allowed_count`` and ``crop_dir`` of
            :func:`instance_conversion`.
    """
    report = ConversionReport(on_error)
    onto, data = _ontology(files, ontology, supercategories, split_length)
    return instance_conversion(
        onto,
        data,
        files,
        report,
        img_prefix=img_prefix,
        progress=progress,
        **garment_options,
    )


def _valid_box(bbox) -> bool:
    return (
        isinstance(bbox, (list, tuple))
        and len(bbox) == 4
        and all(isinstance(v, (int, float)) for v in bbox)
        and bbox[2] > 0
        and bbox[3] > 0
    )


def _garment_box(
    ann: dict, where: str, report: ConversionReport
) -> Optional[list]:
    """The annotation's ``bbox``, or the box of its ``segmentation`` when it
    has none (polygons or COCO RLE); None (rejected) when neither gives
    one."""
    if 'bbox' in ann:
        if _valid_box(ann['bbox']):
            return list(ann['bbox'])
        report.reject('bad_bbox', f'{where}: bad bbox {ann["bbox"]!r}')
        return None
    seg = ann.get('segmentation')
    if seg is None:
        report.reject('no_box', f'{where}: no bbox and no segmentation')
        return None
    try:
        box = segmentation_box(seg)
    except RLEError as e:
        report.reject('bad_segmentation', f'{where}: segmentation: {e}')
        return None
    if box is None or not _valid_box(box):
        report.reject(
            'empty_segmentation', f'{where}: the segmentation is empty'
        )
        return None
    report.count('boxes_from_segmentation')
    return list(box)


def instance_conversion(
    onto: FashionpediaOntology,
    data: Dict[str, dict],
    sources: Dict[str, str],
    report: ConversionReport,
    garment_ids: Sequence[int] = MAIN_GARMENT_IDS,
    margin: float = 0.1,
    min_part_coverage: float = 0.5,
    category_attribute: bool = True,
    allowed_from: Optional[str] = 'train',
    min_allowed_count: int = 1,
    crop_dir: str = 'crops',
    img_prefix: Optional[Dict[str, str]] = None,
    progress: bool = False,
    count_inputs: bool = True,
) -> Conversion:
    """Garment records of COCO-style instance data (the rules are those
    of :func:`convert_fashionpedia_instances`).

    Args:
        onto: The ontology the ids are mapped with.
        data: ``{split: {'images': [...], 'annotations': [...]}}``.
            An annotation may carry ``_where`` (its place in the source,
            for messages) and ``_group`` is set on the records to the
            source image, so a held-out split keeps a photo's garments
            together.
        sources: ``{split: source file}`` for messages.
        report: The report to fill.
        garment_ids: Category ids of the main garments (default 0-12).
        margin: Context margin around the box.
        min_part_coverage: Minimum part-box coverage to assign a part.
        category_attribute: Add a ``category`` attribute (the paper's
            category branch) labelled from the product category.
        allowed_from: Split the allowed values are learned from.
        min_allowed_count: Minimum count for a value to be allowed.
        crop_dir: Folder (inside the output folder) for the crops.
        img_prefix: ``{split: folder}`` put before the source images'
            ``file_name``.
        progress: Show tqdm progress bars.
        count_inputs: Count the annotations as source items (off when the
            reader of ``data`` counted its rows already).
    """
    if not onto.categories:
        raise ConversionError(
            f"{list(sources.values())}: no 'categories' ontology; "
            'pass ontology='
        )
    garment_ids = tuple(int(i) for i in garment_ids)
    missing = [i for i in garment_ids if i not in onto.categories]
    if missing:
        raise ConversionError(f'garment ids {missing} are not categories')
    part_ids = {
        cid
        for cid, c in onto.categories.items()
        if c.get('supercategory') == GARMENT_PART_SUPERCATEGORY
    }
    cat_names = unique_names(
        [onto.categories[i]['name'] for i in garment_ids], garment_ids
    )
    cat_name = dict(zip(garment_ids, cat_names))
    splits, crops = {}, {}
    for split, d in data.items():
        path = sources[split]
        images = _images(d, path, report)
        by_image: Dict[int, List[Tuple[str, dict]]] = {}
        seen_ids = set()
        for i, where, ann in iter_annotations(
            d['annotations'], path, split, progress
        ):
            where = ann.get('_where') or where
            report.inputs += count_inputs
            aid = ann.get('id')
            if aid in seen_ids:
                report.reject(
                    'duplicate_record',
                    f'{where}: duplicate annotation id {aid}',
                )
                continue
            seen_ids.add(aid)
            if ann.get('image_id') not in images:
                report.reject(
                    'unknown_image_id',
                    f'{where}: unknown image_id {ann.get("image_id")!r}',
                )
                continue
            cid = ann.get('category_id')
            if cid not in onto.categories:
                report.reject(
                    'unknown_category_id',
                    f'{where}: unknown category_id {cid!r}',
                )
                continue
            if cid not in garment_ids and cid not in part_ids:
                report.count(f'{split}/other_annotations')
                continue
            box = _garment_box(ann, where, report)
            if box is None:
                continue
            ann = dict(ann, bbox=box)
            by_image.setdefault(ann['image_id'], []).append((where, ann))
        records, jobs = [], []
        for iid, anns in by_image.items():
            img = images[iid]
            garments = [
                (w, a) for w, a in anns if a['category_id'] in garment_ids
            ]
            parts = [(w, a) for w, a in anns if a['category_id'] in part_ids]
            owned: Dict[int, List[Tuple[str, dict]]] = {
                a['id']: [] for _, a in garments
            }
            for pw, part in parts:
                best, best_key = None, None
                for _, g in garments:
                    cov = _coverage(part['bbox'], g['bbox'])
                    key = (cov, -g['bbox'][2] * g['bbox'][3])
                    if cov >= min_part_coverage and (
                        best_key is None or key > best_key
                    ):
                        best, best_key = g, key
                if best is None:
                    report.count(f'{split}/unassigned_parts')
                else:
                    owned[best['id']].append((pw, part))
            for gw, g in garments:
                ids = list(g.get('attribute_ids') or [])
                attrs = onto.group(ids, report, gw)
                for pw, part in owned[g['id']]:
                    pattrs = onto.group(
                        part.get('attribute_ids') or [], report, pw
                    )
                    for task, values in pattrs.items():
                        vals = attrs.setdefault(task, [])
                        vals.extend(v for v in values if v not in vals)
                stem = osp.splitext(osp.basename(img['file_name']))[0]
                dst = f'{crop_dir}/{split}/{stem}_{g["id"]}.jpg'
                box = _expand_box(
                    g['bbox'], margin, img.get('width'), img.get('height')
                )
                src = _prefixed(img_prefix, split, img['file_name'])
                jobs.append(CropJob(src, dst, box))
                records.append(
                    dict(
                        id=str(g['id']),
                        img_path=dst,
                        category=cat_name[g['category_id']],
                        attributes=attrs,
                        _where=gw,
                        _group=src,
                    )
                )
        report.count(f'{split}/records', len(records))
        splits[split], crops[split] = records, jobs
    attributes = onto.schema_attributes()
    if category_attribute:
        roi, gran = TASK_GROUPS['category']
        attributes.insert(
            0,
            dict(
                name='category',
                values=cat_names,
                from_category=True,
                roi=roi,
                granularity=gran,
            ),
        )
    schema = dict(attributes=attributes, categories=cat_names)
    if allowed_from is not None:
        if allowed_from not in splits:
            raise ConversionError(
                f'allowed_from={allowed_from!r} is not one of the splits '
                f'{sorted(splits)}'
            )
        schema['allowed'] = learn_allowed(
            splits[allowed_from], attributes, cat_names, min_allowed_count
        )
    return Conversion(schema, splits, report, crops)


def learn_allowed(
    records: Sequence[dict],
    attributes: Sequence[dict],
    categories: Sequence[str],
    min_count: int = 1,
) -> Dict[str, Dict[str, List[str]]]:
    """Values labelled at least ``min_count`` times per category.

    Every category of ``categories`` gets an entry, so an attribute never
    labelled on a category does not apply to it. A ``from_category``
    attribute allows exactly the category itself.
    """
    counts: Dict[str, Dict[str, Dict[str, int]]] = {c: {} for c in categories}
    for rec in records:
        cat = rec.get('category')
        if cat not in counts:
            continue
        for task, values in rec.get('attributes', {}).items():
            per = counts[cat].setdefault(task, {})
            for v in values:
                if not v.startswith('?'):
                    per[v] = per.get(v, 0) + 1
    allowed: Dict[str, Dict[str, List[str]]] = {}
    for cat in categories:
        allowed[cat] = {}
        for a in attributes:
            if a.get('from_category'):
                if cat in a['values']:
                    allowed[cat][a['name']] = [cat]
                continue
            per = counts[cat].get(a['name'], {})
            vals = [v for v in a['values'] if per.get(v, 0) >= min_count]
            if vals:
                allowed[cat][a['name']] = vals
    return allowed
