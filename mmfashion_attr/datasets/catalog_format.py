"""Reading and encoding the catalog annotation format.

One record per image, as JSON Lines (``.jsonl``) or CSV (``.csv``).

JSON Lines, one object per line::

    {"img_path": "img/0001.jpg", "category": "t-shirt",
     "attributes": {"sleeve_length": ["short"], "colour": ["red", "white"],
                    "pattern": [], "closure": ["button", "?zip"]}}

CSV, a header with ``img_path``, optionally ``category``, then one column per
attribute; values separated by ``|``::

    img_path,category,sleeve_length,colour,pattern,closure
    img/0001.jpg,t-shirt,short,red|white,[],button|?zip

Meaning of an attribute's entry:

* absent (JSON key missing, CSV cell empty): the attribute is **missing**;
  all its values are masked out of loss and metrics;
* an empty list (``[]``): labelled, **no value** applies (all negatives);
* ``"?value"``: that single value is **unknown** and masked; the other values
  of the attribute are labelled (listed ones positive, the rest negative).

Encoding turns a record into ``gt_attr`` (0/1 per flat value), and
``gt_attr_mask`` (1 where labelled), both ``uint8[num_values]``, plus the
category index (``-1`` when absent). Values not allowed for the record's
category are counted by the reader; the model masks them out of the loss.
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass, field
from typing import Dict, Iterable, Iterator, List, Optional, Tuple

import numpy as np

from ..structures import AttributeSchema

UNKNOWN_PREFIX = '?'
CSV_SEPARATOR = '|'
CSV_EMPTY = '[]'
RESERVED_KEYS = ('img_path', 'category', 'attributes', 'id')
CSV_FIXED_COLUMNS = ('img_path', 'category', 'id')
# utf-8-sig: the byte order mark that Excel and some exporters put at the
# start of a UTF-8 file is not part of the first key / column name
ENCODING = 'utf-8-sig'


class CatalogFormatError(ValueError):
    """A malformed catalog record; the message names the file and line."""

    def __init__(self, path: str, line: int, problem: str) -> None:
        self.path, self.line, self.problem = path, line, problem
        super().__init__(f'{path}:{line}: {problem}')


@dataclass
class EncodedRecord:
    """One record encoded against a schema."""

    img_path: str
    category_idx: int
    gt_attr: np.ndarray
    gt_attr_mask: np.ndarray
    line: int
    disallowed: List[Tuple[str, str]] = field(default_factory=list)


def iter_raw_records(
    path: str, schema: Optional[AttributeSchema] = None
) -> Iterator[Tuple[int, object]]:
    """Yield ``(line_number, record)`` from a JSONL or CSV file.

    CSV cells are turned into the JSON form (lists of values). A line that
    cannot be parsed (invalid JSON, a key twice in one object, a wrong
    number of cells) yields a :class:`CatalogFormatError` in place of the
    record, so the caller decides whether to raise or skip; a file that
    cannot be read at all, or a CSV header with a duplicate or empty
    column name or (given ``schema``) a column that is not an attribute of
    the schema, raises.
    """
    ext = os.path.splitext(path)[1].lower()
    if ext == '.csv':
        yield from _iter_csv(path, schema)
    elif ext in ('.jsonl', '.json', '.ndjson'):
        yield from _iter_jsonl(path)
    else:
        raise CatalogFormatError(
            path, 0, f'unsupported extension {ext!r} (use .jsonl or .csv)'
        )


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list) -> dict:
    """``object_pairs_hook``: JSON silently keeps the last of two equal
    keys, which would drop a label without a word."""
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _iter_jsonl(path: str) -> Iterator[Tuple[int, dict]]:
    with open(path, encoding=ENCODING) as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line, object_pairs_hook=_unique_keys)
            except json.JSONDecodeError as e:
                rec = CatalogFormatError(
                    path, lineno, f'invalid JSON ({e.msg})'
                )
            except _DuplicateKey as e:
                rec = CatalogFormatError(
                    path,
                    lineno,
                    f'key {e.args[0]!r} appears twice in one object '
                    '(JSON would keep only the last)',
                )
            if not isinstance(rec, (dict, CatalogFormatError)):
                rec = CatalogFormatError(
                    path, lineno, 'a record must be a JSON object'
                )
            yield lineno, rec


def _iter_csv(
    path: str, schema: Optional[AttributeSchema] = None
) -> Iterator[Tuple[int, dict]]:
    with open(path, encoding=ENCODING, newline='') as f:
        text = f.read()
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        return
    header = [h.strip() for h in header]
    if 'img_path' not in header:
        raise CatalogFormatError(path, 1, "CSV header has no 'img_path'")
    dups = sorted({h for h in header if header.count(h) > 1})
    if dups or '' in header:
        raise CatalogFormatError(
            path, 1, f'duplicate or empty column names {dups or [""]}'
        )
    if schema is not None:
        unknown = [
            h
            for h in header
            if h not in CSV_FIXED_COLUMNS and h not in schema.names
        ]
        if unknown:
            raise CatalogFormatError(
                path,
                1,
                f'columns {unknown} are not attributes of the schema '
                f'({schema.source}); the schema has {schema.names}',
            )
    for row in reader:
        lineno = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            yield (
                lineno,
                CatalogFormatError(
                    path,
                    lineno,
                    f'{len(row)} cells but the header has {len(header)}',
                ),
            )
            continue
        rec: dict = {'attributes': {}}
        for key, cell in zip(header, row):
            cell = cell.strip()
            if key in CSV_FIXED_COLUMNS:
                if cell:
                    rec[key] = cell
            elif cell == CSV_EMPTY:
                rec['attributes'][key] = []
            elif cell:
                rec['attributes'][key] = [
                    v.strip() for v in cell.split(CSV_SEPARATOR)
                ]
        yield lineno, rec


def encode_record(
    schema: AttributeSchema, rec: dict, path: str, lineno: int
) -> EncodedRecord:
    """Validate and encode one record; raise :class:`CatalogFormatError`."""

    def fail(problem: str):
        raise CatalogFormatError(path, lineno, problem)

    img = rec.get('img_path')
    if not isinstance(img, str) or not img.strip():
        fail("missing, empty or non-string 'img_path'")
    rid = rec.get('id')
    if rid is not None and (
        isinstance(rid, bool) or not isinstance(rid, (str, int))
    ):
        fail(f"'id' must be a string or an integer, got {rid!r}")
    category = rec.get('category')
    if category is not None and not isinstance(category, str):
        fail(f"'category' must be a string, got {type(category).__name__}")
    try:
        cat_idx = schema.category_index(category)
    except KeyError:
        fail(f'unknown category {category!r}')
    attrs = rec.get('attributes', {})
    if not isinstance(attrs, dict):
        fail("'attributes' must be an object {attribute: [values]}")
    unexpected = [k for k in rec if k not in RESERVED_KEYS]
    if unexpected:
        fail(f"unexpected keys {unexpected}; attributes go under 'attributes'")

    target = np.zeros(schema.num_values, dtype=np.uint8)
    mask = np.zeros(schema.num_values, dtype=np.uint8)
    disallowed = []
    for name, values in attrs.items():
        try:
            i = schema.attribute_index(name)
        except KeyError:
            fail(f'unknown attribute {name!r}')
        if not isinstance(values, list) or not all(
            isinstance(v, str) for v in values
        ):
            fail(
                f'attribute {name!r} must be a list of strings, got {values!r}'
            )
        sl = schema.slice(i)
        mask[sl] = 1
        seen = set()
        for v in values:
            unknown = v.startswith(UNKNOWN_PREFIX)
            value = v[1:] if unknown else v
            if value in seen:
                fail(f'value {value!r} of {name!r} listed twice')
            seen.add(value)
            try:
                j = sl.start + schema.value_index(name, value)
            except KeyError:
                fail(f'unknown value {value!r} for attribute {name!r}')
            if unknown:
                mask[j] = 0
            else:
                target[j] = 1
                if not schema.is_allowed(category, name, value):
                    disallowed.append((name, value))
    for i, spec in enumerate(schema.attributes):
        if spec.from_category and category is not None and spec.name in attrs:
            # the label of a from_category attribute is the record's
            # category: given both, they must agree
            given = attrs[spec.name]
            positives = [v for v in given if not v.startswith(UNKNOWN_PREFIX)]
            if not given or (positives and positives != [category]):
                fail(
                    f'attribute {spec.name!r} = {attrs[spec.name]} '
                    f'contradicts the record category {category!r}'
                )
        if (
            spec.from_category
            and category is not None
            and (spec.name not in attrs)
        ):
            sl = schema.slice(i)
            if category in spec.values:
                mask[sl] = 1
                target[sl.start + spec.values.index(category)] = 1
    return EncodedRecord(img, cat_idx, target, mask, lineno, disallowed)


@dataclass
class CatalogReadReport:
    """What a read of a catalog file found (counts are per record)."""

    path: str
    num_records: int = 0
    num_skipped: int = 0
    errors: List[str] = field(default_factory=list)
    disallowed: Dict[str, int] = field(default_factory=dict)
    duplicates: List[str] = field(default_factory=list)


def read_catalog(
    path: str,
    schema: AttributeSchema,
    on_error: str = 'raise',
    max_errors_kept: int = 50,
) -> Tuple[List[EncodedRecord], CatalogReadReport]:
    """Read and encode a whole catalog file.

    Args:
        path: The ``.jsonl`` or ``.csv`` file.
        schema: The attribute schema.
        on_error: ``raise`` stops at the first malformed record (message with
            file and line); ``skip`` drops malformed records and counts them
            in the report.
        max_errors_kept: How many error messages the report keeps.
    """
    items = (
        (path, lineno, rec) for lineno, rec in iter_raw_records(path, schema)
    )
    return encode_records(schema, items, path, on_error, max_errors_kept)


def encode_records(
    schema: AttributeSchema,
    items: Iterable[Tuple[str, int, object]],
    source: str,
    on_error: str = 'raise',
    max_errors_kept: int = 50,
) -> Tuple[List[EncodedRecord], CatalogReadReport]:
    """Encode ``(where, line, record)`` items; see :func:`read_catalog`.

    A record may be a :class:`CatalogFormatError` (a line that could not be
    parsed). Duplicate image paths are errors. ``source`` names the report.
    """
    if on_error not in ('raise', 'skip'):
        raise ValueError(f"on_error must be 'raise' or 'skip', not {on_error}")
    report = CatalogReadReport(source)
    records: List[EncodedRecord] = []
    seen_paths: Dict[str, int] = {}
    seen_ids: Dict[object, int] = {}
    for where, lineno, rec in items:
        try:
            if isinstance(rec, CatalogFormatError):
                raise rec
            enc = encode_record(schema, rec, where, lineno)
            # 'img/a.jpg' and './img/a.jpg' are the same image
            norm = os.path.normpath(enc.img_path)
            if norm in seen_paths:
                raise CatalogFormatError(
                    where,
                    lineno,
                    f'duplicate record for {enc.img_path!r} (first at line '
                    f'{seen_paths[norm]})',
                )
            rid = rec.get('id')
            if rid is not None and rid in seen_ids:
                raise CatalogFormatError(
                    where,
                    lineno,
                    f'duplicate record id {rid!r} (first at line '
                    f'{seen_ids[rid]})',
                )
        except CatalogFormatError as e:
            if on_error == 'raise':
                raise
            _keep(report, str(e), max_errors_kept)
            if e.problem.startswith('duplicate record'):
                report.duplicates.append(rec.get('img_path'))
            report.num_skipped += 1
            continue
        seen_paths[norm] = lineno
        if rec.get('id') is not None:
            seen_ids[rec['id']] = lineno
        for name, value in enc.disallowed:
            key = f'{name}/{value}'
            report.disallowed[key] = report.disallowed.get(key, 0) + 1
        records.append(enc)
    report.num_records = len(records)
    return records, report


def _keep(report: CatalogReadReport, msg: str, limit: int) -> None:
    if len(report.errors) < limit:
        report.errors.append(msg)
