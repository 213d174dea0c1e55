"""The table of converters: one entry per source format.

Each :class:`ConverterSpec` says how a format's sources are given (one root
folder, one file per split, or several files per split), which converter
reads them, which keyword options a caller may pass and which of them are
required. :func:`convert_sources` dispatches on the format name through
:data:`CONVERTERS`; an unknown name is a :class:`ConversionError` that lists
the known ones. A new format is one more entry (or a call to
:func:`register_converter`).
"""

from __future__ import annotations

import os.path as osp
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from .base import Conversion, ConversionError
from .catalog import convert_catalog
from .deepfashion import convert_deepfashion
from .fashionai import _csv_root, convert_fashionai
from .fashionpedia import (
    convert_fashionpedia_attributes,
    convert_fashionpedia_instances,
)
from .imaterialist2018 import convert_imaterialist2018
from .imaterialist2020 import (
    convert_imaterialist2020_attributes,
    convert_imaterialist2020_instances,
)

# How the sources of a format are given.
ROOT = 'root'  # one folder: the dataset's root
ONE_FILE_PER_SPLIT = 'one_file_per_split'  # SPLIT=PATH, once per split
FILES_PER_SPLIT = 'files_per_split'  # SPLIT=PATH, repeatable


@dataclass(frozen=True)
class ConverterSpec:
    """One source format.

    Args:
        convert: The converter. Called as ``convert(root, **options)`` for
            :data:`ROOT` sources, else ``convert({split: path(s)},
            **options)``; always with ``on_error``.
        description: What the sources are (shown by the tools' ``--help``).
        sources: :data:`ROOT`, :data:`ONE_FILE_PER_SPLIT` or
            :data:`FILES_PER_SPLIT`.
        options: The keyword options of ``convert`` a caller may set.
        required: ``{option: message}`` of options that must be given.
        image_root: The folder images are relative to, from the
            annotation files, when the caller gives none. Defaults to the
            folder of the first file (a :data:`ROOT` format: the root).
    """

    convert: Callable[..., Conversion]
    description: str
    sources: str = ONE_FILE_PER_SPLIT
    options: Tuple[str, ...] = ()
    required: Dict[str, str] = field(default_factory=dict)
    image_root: Optional[Callable[[List[str]], str]] = None


def _label_csv_root(files: List[str]) -> str:
    """FashionAI: the common folder of the ``label.csv`` roots."""
    return osp.commonpath([_csv_root(p) for p in files])


_FASHIONPEDIA_OPTIONS = (
    'supercategories',
    'split_length',
    'ontology',
    'img_prefix',
    'progress',
)

_KAGGLE_ONTOLOGY = dict(
    ontology='the Kaggle train.csv has no ontology of its own: pass '
    'label_descriptions.json (--ontology)'
)

CONVERTERS: Dict[str, ConverterSpec] = {
    'catalog': ConverterSpec(
        convert_catalog,
        'catalog files: split=FILE.jsonl|csv ... (needs schema)',
        options=('schema',),
        required=dict(schema='a schema is needed (--schema)'),
    ),
    'fashionpedia-attr': ConverterSpec(
        convert_fashionpedia_attributes,
        'Fashionpedia global attributes: '
        'train=attributes_train2020.json val=attributes_val2020.json',
        options=_FASHIONPEDIA_OPTIONS + ('keep_empty',),
    ),
    'fashionpedia-inst': ConverterSpec(
        convert_fashionpedia_instances,
        'Fashionpedia instances: '
        'train=instances_attributes_train2020.json '
        'val=instances_attributes_val2020.json',
        options=_FASHIONPEDIA_OPTIONS
        + ('margin', 'min_allowed_count', 'category_attribute'),
    ),
    'fashionai': ConverterSpec(
        convert_fashionai,
        'FashionAI label files: train=base/Annotations/label.csv '
        'train=web/Annotations/skirt_length_labels.csv (warm-up) val=...',
        sources=FILES_PER_SPLIT,
        options=('maybe', 'root', 'progress'),
        image_root=_label_csv_root,
    ),
    'imat2018': ConverterSpec(
        convert_imaterialist2018,
        'iMaterialist-2018: train=train.json val=validation.json '
        '(needs label_map)',
        options=('label_map', 'tasks', 'keep_empty', 'img_prefix', 'progress'),
        required=dict(label_map='the label map CSV is needed (--label-map)'),
    ),
    'deepfashion': ConverterSpec(
        convert_deepfashion,
        'DeepFashion attribute benchmark root folder (Anno/, Anno_coarse/ '
        'or Anno_fine/, Eval/, img/)',
        sources=ROOT,
        options=('category_attribute', 'anno_dir', 'labels', 'progress'),
    ),
    'imat2020-attr': ConverterSpec(
        convert_imaterialist2020_attributes,
        'Kaggle iMaterialist (Fashion) 2020/2021, one record per image: '
        'train=train.csv (needs ontology: label_descriptions.json)',
        options=_FASHIONPEDIA_OPTIONS + ('keep_empty',),
        required=_KAGGLE_ONTOLOGY,
    ),
    'imat2020-inst': ConverterSpec(
        convert_imaterialist2020_instances,
        'Kaggle iMaterialist (Fashion) 2020/2021, one record per garment: '
        'train=train.csv (needs ontology: label_descriptions.json)',
        options=_FASHIONPEDIA_OPTIONS
        + ('margin', 'min_allowed_count', 'category_attribute'),
        required=_KAGGLE_ONTOLOGY,
    ),
}


def register_converter(name: str, spec: ConverterSpec) -> None:
    """Add a format to :data:`CONVERTERS` (an existing name is an error)."""
    if name in CONVERTERS:
        raise KeyError(f'converter {name!r} is already registered')
    CONVERTERS[name] = spec


def get_converter(fmt: str) -> ConverterSpec:
    """The spec of ``fmt``.

    Raises:
        ConversionError: ``fmt`` is not a registered format.
    """
    try:
        return CONVERTERS[fmt]
    except KeyError:
        raise ConversionError(
            f'unknown format {fmt!r}; known: {sorted(CONVERTERS)}'
        ) from None


def formats() -> Dict[str, str]:
    """``{format: description}`` of every registered converter."""
    return {name: spec.description for name, spec in CONVERTERS.items()}


def parse_sources(sources: Sequence[str]) -> Dict[str, List[str]]:
    """``['train=a.json', 'val=b.json', 'c.json']`` -> ``{split: [paths]}``
    (a bare path is ``train``)."""
    out: Dict[str, List[str]] = {}
    for s in sources:
        split, sep, path = s.partition('=')
        if not sep:
            split, path = 'train', s
        if not split or not path:
            raise ConversionError(f'bad source {s!r}; use SPLIT=PATH')
        out.setdefault(split, []).append(path)
    return out


def _single(files: Dict[str, List[str]], fmt: str) -> Dict[str, str]:
    out = {}
    for split, paths in files.items():
        if len(paths) != 1:
            raise ConversionError(
                f'{fmt}: one file per split expected, {split} has {paths}'
            )
        out[split] = paths[0]
    return out


def converter_options(fmt: str, values: dict) -> dict:
    """The options of ``fmt`` among ``values`` (None values left out, so
    the converter's defaults apply)."""
    spec = get_converter(fmt)
    return {k: values[k] for k in spec.options if values.get(k) is not None}


def convert_sources(
    fmt: str, sources: Sequence[str], on_error: str = 'raise', **options
) -> Conversion:
    """Run the converter of ``fmt`` on ``sources`` (see :data:`CONVERTERS`).

    Args:
        fmt: A key of :data:`CONVERTERS`.
        sources: ``SPLIT=PATH`` strings (a :data:`ROOT` format: the root
            folder).
        on_error: ``raise`` or ``collect``.
        **options: Keyword options of the format's converter.

    Raises:
        ConversionError: Unknown format, missing sources or required
            options, or a problem in the sources.
    """
    spec = get_converter(fmt)
    if not sources:
        raise ConversionError(f'{fmt}: no source given')
    for option, message in spec.required.items():
        if option not in options:
            raise ConversionError(f'{fmt}: {message}')
    if spec.sources == ROOT:
        if len(sources) != 1:
            raise ConversionError(
                f'{fmt}: give the root folder as the only source'
            )
        return spec.convert(sources[0], on_error=on_error, **options)
    files = parse_sources(sources)
    if spec.sources == ONE_FILE_PER_SPLIT:
        files = _single(files, fmt)
    return spec.convert(files, on_error=on_error, **options)


def default_img_root(fmt: str, sources: Sequence[str]) -> str:
    """Where images are looked up when no image root is given (see
    :attr:`ConverterSpec.image_root`)."""
    spec = get_converter(fmt)
    if spec.sources == ROOT:
        return sources[0]
    files = [p for ps in parse_sources(sources).values() for p in ps]
    if spec.image_root is not None:
        return spec.image_root(files)
    return osp.dirname(osp.abspath(files[0]))


__all__ = [
    'CONVERTERS',
    'FILES_PER_SPLIT',
    'ONE_FILE_PER_SPLIT',
    'ROOT',
    'ConverterSpec',
    'convert_sources',
    'converter_options',
    'default_img_root',
    'formats',
    'get_converter',
    'parse_sources',
    'register_converter',
]
