from . import converters, samplers, transforms  # noqa: F401
from .catalog_dataset import CatalogDataset
from .catalog_format import CatalogFormatError, encode_record, read_catalog
from .catalog_writer import write_catalog, write_jsonl
from .converted_dataset import ConvertedDataset
from .samplers import AttributeRepeatFactorSampler

__all__ = [
    'AttributeRepeatFactorSampler',
    'CatalogDataset',
    'CatalogFormatError',
    'ConvertedDataset',
    'encode_record',
    'read_catalog',
    'write_catalog',
    'write_jsonl',
]
