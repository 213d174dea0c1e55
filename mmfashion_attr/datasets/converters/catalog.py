"""The catalog format itself, as a "converter" (for the checker)."""

from __future__ import annotations

from typing import Dict, Union

from ...structures import AttributeSchema, SchemaError
from ..catalog_format import CatalogFormatError, iter_raw_records
from .base import Conversion, ConversionError, ConversionReport


def convert_catalog(
    files: Dict[str, str], schema: Union[str, dict], on_error: str = 'raise'
) -> Conversion:
    """Read catalog files (``.jsonl``/``.csv``) as raw records.

    Args:
        files: ``{split: path}``.
        schema: The schema JSON path or dict.
        on_error: ``raise`` or ``collect`` (unparsable lines).
    """
    try:
        schema_dict = AttributeSchema.build(schema).to_dict()
    except SchemaError as e:
        raise ConversionError(str(e)) from None
    report = ConversionReport(on_error)
    splits = {}
    for split, path in files.items():
        records = []
        try:
            for lineno, rec in iter_raw_records(path):
                report.inputs += 1
                if isinstance(rec, CatalogFormatError):
                    report.reject('malformed_record', str(rec))
                    continue
                rec['_where'] = f'{path}:{lineno}'
                records.append(rec)
        except FileNotFoundError:
            raise ConversionError(f'{path}: catalog file not found') from None
        except CatalogFormatError as e:
            raise ConversionError(str(e)) from None
        report.count(f'{split}/records', len(records))
        splits[split] = records
    return Conversion(schema_dict, splits, report)
