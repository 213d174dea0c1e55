"""Opening annotation text files with errors that say what is wrong.

Annotation files travel as CSV, TXT and JSON, but copies in other forms
circulate too: the iMaterialist-2018 label map as an Excel workbook, label
files re-saved in a legacy code page. Reading such a file as UTF-8 text
fails deep inside ``csv`` or ``json`` with a bare ``UnicodeDecodeError``
that names neither the file nor the fix. :func:`open_text` looks at the
first bytes before anything is parsed and :func:`text_lines` turns a
decoding error later in the file into a :class:`ConversionError` with the
file name and line.
"""

from __future__ import annotations

import codecs
import io
from typing import Iterator, Tuple

from .base import ConversionError

# Leading bytes of container formats mistaken for text files.
_MAGIC = (
    (b'PK\x03\x04', 'a zip archive (an .xlsx workbook is one)'),
    (b'\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1', 'an Excel 97-2003 (.xls) workbook'),
    (b'\x1f\x8b', 'a gzip archive'),
    (b'\x89PNG', 'a PNG image'),
    (b'\xff\xd8\xff', 'a JPEG image'),
    (b'%PDF', 'a PDF document'),
)
_SNIFF_BYTES = 1 << 16


def _not_text(path: str, what: str, expected: str, kind: str) -> None:
    raise ConversionError(
        f'{path}: the {what} is {kind}, not {expected}; save it as {expected}'
    )


def sniff_text(path: str, what: str, expected: str) -> None:
    """Refuse a file that is not UTF-8 text, judging by its first bytes.

    Args:
        path: The file.
        what: What the file is for, e.g. ``label map``.
        expected: The format to use instead, e.g. ``CSV (UTF-8)``.

    Raises:
        ConversionError: The file is missing, a known binary format, or its
            first 64 KiB are not UTF-8 (the message names the file, what
            it looks like and the format to use).
    """
    try:
        with open(path, 'rb') as f:
            head = f.read(_SNIFF_BYTES)
    except FileNotFoundError:
        raise ConversionError(f'{path}: {what} not found') from None
    except IsADirectoryError:
        raise ConversionError(
            f'{path}: is a folder; the {what} must be a file'
        ) from None
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            _not_text(path, what, expected, kind)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        _not_text(path, what, expected, 'UTF-16 text')
    try:
        codecs.getincrementaldecoder('utf-8')().decode(head, final=False)
    except UnicodeDecodeError as e:
        _not_text(
            path,
            what,
            expected,
            f'not UTF-8 text (byte 0x{head[e.start]:02x} at offset '
            f'{e.start}; another code page?)',
        )


def open_text(path: str, what: str, expected: str) -> io.TextIOWrapper:
    """Open a UTF-8 text file (a BOM is skipped) after :func:`sniff_text`.

    The file is opened with ``newline=''`` so the ``csv`` module sees the
    original line ends (CRLF files read correctly).
    """
    sniff_text(path, what, expected)
    return open(path, encoding='utf-8-sig', newline='')


def text_lines(
    f: io.TextIOWrapper, path: str, expected: str
) -> Iterator[Tuple[int, str]]:
    """``(line number, line)`` of an open text file, 1-based.

    Raises:
        ConversionError: The file stops being UTF-8 after the part that
            :func:`sniff_text` checked.
    """
    lineno = 0
    try:
        for lineno, line in enumerate(f, 1):
            yield lineno, line
    except UnicodeDecodeError as e:
        raise ConversionError(
            f'{path}:{lineno + 1}: not UTF-8 text ({e.reason}); save it '
            f'as {expected}'
        ) from None


__all__ = ['open_text', 'sniff_text', 'text_lines']
