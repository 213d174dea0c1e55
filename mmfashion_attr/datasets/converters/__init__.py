"""Converters from public fashion-attribute datasets to the catalog format.

Every converter returns a :class:`Conversion` (schema dict, records per
split, report). :func:`convert_sources` dispatches on a format name through
the table :data:`CONVERTERS` (:mod:`.registry`), as the command-line tools
(``tools/dataset_converters/convert.py`` and ``check.py``) do.
"""

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
from .fashionai import FASHIONAI_ATTRIBUTES, MAYBE_CHOICES, convert_fashionai
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
from .registry import (
    CONVERTERS,
    ConverterSpec,
    convert_sources,
    converter_options,
    default_img_root,
    formats,
    get_converter,
    parse_sources,
    register_converter,
)

__all__ = [
    'CONVERTERS',
    'Conversion',
    'ConversionError',
    'ConversionReport',
    'ConverterSpec',
    'CropJob',
    'DEFAULT_MAX_REJECT_RATIO',
    'FASHIONAI_ATTRIBUTES',
    'FashionpediaOntology',
    'MAYBE_CHOICES',
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
    'converter_options',
    'default_img_root',
    'formats',
    'get_converter',
    'holdout_split',
    'learn_allowed',
    'parse_sources',
    'read_label_map',
    'register_converter',
    'strip_private',
    'unwritten_files',
    'write_conversion',
    'write_crops',
]
