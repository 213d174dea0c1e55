"""Converters from public fashion-attribute datasets to the catalog format.

Every converter returns a :class:`Conversion` (schema dict, records per
split, report). :func:`convert_sources` dispatches on a format name, as the
command-line tools (``tools/dataset/convert.py``, ``tools/dataset/check.py``)
do.
"""

from __future__ import annotations

from typing import Dict, List, Sequence

from .base import (
    Conversion,
    ConversionError,
    ConversionReport,
    CropJob,
    holdout_split,
    strip_private,
    write_conversion,
    write_crops,
)
from .catalog import convert_catalog
from .deepfashion import convert_deepfashion
from .fashionai import FASHIONAI_ATTRIBUTES, convert_fashionai
from .fashionpedia import (
    PAPER_SUPERCATEGORIES,
    FashionpediaOntology,
    convert_fashionpedia_attributes,
    convert_fashionpedia_instances,
    learn_allowed,
)
from .imaterialist2018 import convert_imaterialist2018, read_label_map
from .imaterialist2020 import (
    convert_imaterialist2020_attributes,
    convert_imaterialist2020_instances,
)
from .outcome import (
    DEFAULT_MAX_REJECT_RATIO,
    conversion_problems,
    unwritten_files,
)

FORMATS = {
    'catalog': 'catalog files: split=FILE.jsonl|csv ... (needs schema)',
    'fashionpedia-attr': 'Fashionpedia global attributes: '
    'train=attributes_train2020.json val=attributes_val2020.json',
    'fashionpedia-inst': 'Fashionpedia instances: '
    'train=instances_attributes_train2020.json '
    'val=instances_attributes_val2020.json',
    'fashionai': 'FashionAI label files: train=base/Annotations/label.csv '
    'train=web/Annotations/skirt_length_labels.csv (warm-up) val=...',
    'imat2018': 'iMaterialist-2018: train=train.json val=validation.json '
    '(needs label_map)',
    'deepfashion': 'DeepFashion attribute benchmark root folder '
    '(Anno/, Anno_coarse/ or Anno_fine/, Eval/, img/)',
    'imat2020-attr': 'Kaggle iMaterialist-Fashion 2020/2021, one record '
    'per image: train=train.csv (needs ontology: label_descriptions.json)',
    'imat2020-inst': 'Kaggle iMaterialist-Fashion 2020/2021, one record '
    'per garment: train=train.csv (needs ontology: label_descriptions.json)',
}
KAGGLE_CONVERTERS = {
    'imat2020-attr': convert_imaterialist2020_attributes,
    'imat2020-inst': convert_imaterialist2020_instances,
}


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


def convert_sources(
    fmt: str, sources: Sequence[str], on_error: str = 'raise', **options
) -> Conversion:
    """Run the converter of ``fmt`` on ``sources`` (see :data:`FORMATS`).

    Args:
        fmt: A key of :data:`FORMATS`.
        sources: ``SPLIT=PATH`` strings (``deepfashion``: the root folder).
        on_error: ``raise`` or ``collect``.
        **options: Keyword arguments of the format's converter.
    """
    if fmt not in FORMATS:
        raise ConversionError(
            f'unknown format {fmt!r}; known: {sorted(FORMATS)}'
        )
    if not sources:
        raise ConversionError(f'{fmt}: no source given')
    if fmt == 'deepfashion':
        if len(sources) != 1:
            raise ConversionError(
                'deepfashion: give the benchmark root '
                'folder as the only source'
            )
        return convert_deepfashion(sources[0], on_error=on_error, **options)
    files = parse_sources(sources)
    if fmt == 'fashionai':
        return convert_fashionai(files, on_error=on_error, **options)
    files = _single(files, fmt)
    if fmt in KAGGLE_CONVERTERS:
        return KAGGLE_CONVERTERS[fmt](files, on_error=on_error, **options)
    if fmt == 'catalog':
        if 'schema' not in options:
            raise ConversionError('catalog: a schema is needed (--schema)')
        return convert_catalog(files, on_error=on_error, **options)
    if fmt == 'fashionpedia-attr':
        return convert_fashionpedia_attributes(
            files, on_error=on_error, **options
        )
    if fmt == 'fashionpedia-inst':
        return convert_fashionpedia_instances(
            files, on_error=on_error, **options
        )
    if 'label_map' not in options:
        raise ConversionError(
            'imat2018: the label map CSV is needed (--label-map)'
        )
    return convert_imaterialist2018(files, on_error=on_error, **options)


__all__ = [
    'Conversion',
    'ConversionError',
    'ConversionReport',
    'CropJob',
    'DEFAULT_MAX_REJECT_RATIO',
    'FASHIONAI_ATTRIBUTES',
    'FORMATS',
    'FashionpediaOntology',
    'PAPER_SUPERCATEGORIES',
    'conversion_problems',
    'convert_catalog',
    'convert_deepfashion',
    'convert_fashionai',
    'convert_fashionpedia_attributes',
    'convert_fashionpedia_instances',
    'convert_imaterialist2018',
    'convert_imaterialist2020_attributes',
    'convert_imaterialist2020_instances',
    'convert_sources',
    'holdout_split',
    'learn_allowed',
    'parse_sources',
    'read_label_map',
    'strip_private',
    'unwritten_files',
    'write_conversion',
    'write_crops',
]
