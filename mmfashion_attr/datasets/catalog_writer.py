"""Writing the catalog format: ``schema.json`` and ``<split>.jsonl``.

The one writer of the format read by :mod:`.catalog_format` and
:class:`~mmfashion_attr.datasets.CatalogDataset`: the converters of public
datasets (:func:`~.converters.write_conversion`) and the synthetic
generator (:func:`~.synthetic.make_synthetic_dataset`) both write through
:func:`write_catalog`.
"""

from __future__ import annotations

import json
import os
import os.path as osp
from typing import Dict, List, Union

from ..structures import AttributeSchema

SCHEMA_FILE = 'schema.json'


def write_jsonl(path: str, records: List[dict]) -> None:
    """Write catalog records as JSON Lines (UTF-8, one object a line)."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        for rec in records:
            f.write(json.dumps(rec, ensure_ascii=False) + '\n')


def write_schema(path: str, schema: Union[dict, AttributeSchema]) -> None:
    """Write a schema as JSON (indented, UTF-8)."""
    if isinstance(schema, AttributeSchema):
        schema = schema.to_dict()
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(schema, f, indent=1, ensure_ascii=False)


def write_catalog(
    out_dir: str,
    schema: Union[dict, AttributeSchema],
    record_files: Dict[str, List[dict]],
) -> Dict[str, str]:
    """Write ``schema.json`` and one ``<name>.jsonl`` per entry.

    Args:
        out_dir: Output folder (created).
        schema: The schema (dict or :class:`AttributeSchema`).
        record_files: ``{name: records}``, usually one entry per split.

    Returns:
        ``{'schema': path, name: path, ...}`` of the written files.
    """
    os.makedirs(out_dir, exist_ok=True)
    written = {'schema': osp.join(out_dir, SCHEMA_FILE)}
    write_schema(written['schema'], schema)
    for name, records in record_files.items():
        written[name] = osp.join(out_dir, f'{name}.jsonl')
        write_jsonl(written[name], records)
    return written


__all__ = ['SCHEMA_FILE', 'write_catalog', 'write_jsonl', 'write_schema']
