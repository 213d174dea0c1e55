from . import transforms  # noqa: F401
from .catalog_dataset import CatalogDataset
from .catalog_format import (CatalogFormatError, encode_record, read_catalog,
                             write_jsonl)

__all__ = [
    'CatalogDataset', 'CatalogFormatError', 'encode_record', 'read_catalog',
    'write_jsonl'
]
