"""Boxes of segmentation masks: polygons, COCO RLE and Kaggle RLE.

Fashionpedia's instance files give each garment a ``segmentation`` in the
COCO forms (Lin et al., "Microsoft COCO", ECCV 2014; the COCO API's
``maskApi``): a list of polygons ``[[x1, y1, x2, y2, ...], ...]``, an
uncompressed RLE ``{"size": [h, w], "counts": [int, ...]}`` or a compressed
RLE ``{"size": [h, w], "counts": "<string>"}``. The Kaggle iMaterialist
(Fashion) 2020/2021 ``train.csv`` gives ``EncodedPixels``: space-separated
``start length`` pairs.

Both RLE forms number the pixels column by column (top to bottom, then
left to right). COCO counts alternate between runs of 0 and runs of 1,
starting with 0; Kaggle starts are 1-based (pixel 1 is the top-left one).

Boxes are ``(x, y, w, h)`` in pixels, COCO's convention: a mask covering
the columns ``x0..x1`` and rows ``y0..y1`` (inclusive) has the box
``(x0, y0, x1 - x0 + 1, y1 - y0 + 1)``; a polygon's box spans its extreme
coordinates. Only the runs are looked at (with numpy), no mask is drawn,
so a box of a 5000 x 4000 photo costs as much as its number of runs.
"""

from __future__ import annotations

import warnings
from typing import List, Optional, Sequence, Tuple

import numpy as np

Box = Tuple[float, float, float, float]


class RLEError(ValueError):
    """A mask encoding that cannot be decoded (the message says why)."""


def decode_coco_counts(counts: str) -> List[int]:
    """The run lengths of a compressed COCO RLE string.

    The COCO API (``maskApi.c``, ``rleFrString``) writes each count as a
    little-endian sequence of 5-bit groups, one character per group
    (``chr(group + 48)``), with bit ``0x20`` set on every group but the
    last and ``0x10`` of the last one the sign; from the third count on,
    the value stored is the difference to the count two places before.

    Raises:
        RLEError: A character outside the code range or a string that
            ends inside a count.
    """
    out: List[int] = []
    pos, n = 0, len(counts)
    while pos < n:
        value, shift, more = 0, 0, True
        while more:
            if pos >= n:
                raise RLEError('the string ends inside a count')
            code = ord(counts[pos]) - 48
            if not 0 <= code < 64:
                raise RLEError(
                    f'character {counts[pos]!r} at {pos} is not a COCO RLE '
                    'code (expected "0" to "o")'
                )
            value |= (code & 0x1F) << shift
            more = bool(code & 0x20)
            pos += 1
            shift += 5
            if not more and code & 0x10:
                value |= -1 << shift
        if len(out) > 2:
            value += out[-2]
        out.append(value)
    return out


def _extent(
    starts: np.ndarray, lengths: np.ndarray, height: int, total: int
) -> Optional[Box]:
    """Box of 0-based column-major runs of ones (``starts``, ``lengths``)."""
    keep = lengths > 0
    starts, lengths = starts[keep], lengths[keep]
    if not len(starts):
        return None
    ends = starts + lengths - 1
    bad = (starts < 0) | (ends >= total)
    if bad.any():
        i = int(np.argmax(bad))
        raise RLEError(
            f'a run covers pixels {starts[i]}..{ends[i]} of a mask of {total}'
        )
    first, last = starts // height, ends // height
    # a run over several columns touches the top and bottom rows
    multi = first != last
    top = np.where(multi, 0, starts % height)
    bottom = np.where(multi, height - 1, ends % height)
    x0, y0 = int(first.min()), int(top.min())
    return (x0, y0, int(last.max()) - x0 + 1, int(bottom.max()) - y0 + 1)


def _size(segmentation: dict) -> Tuple[int, int]:
    size = segmentation.get('size')
    if (
        not isinstance(size, (list, tuple))
        or len(size) != 2
        or not all(isinstance(v, int) and v > 0 for v in size)
    ):
        raise RLEError(f'bad RLE size {size!r} (expected [height, width])')
    return size[0], size[1]


def coco_rle_box(segmentation: dict) -> Optional[Box]:
    """Box of a COCO RLE (compressed or uncompressed); None when empty.

    Raises:
        RLEError: Bad ``size`` or ``counts``, or counts that do not add up
            to ``height * width``.
    """
    h, w = _size(segmentation)
    counts = segmentation.get('counts')
    if isinstance(counts, (bytes, bytearray)):
        counts = counts.decode('ascii')
    if isinstance(counts, str):
        counts = decode_coco_counts(counts)
    elif not isinstance(counts, (list, tuple)) or not all(
        isinstance(c, int) for c in counts
    ):
        raise RLEError('RLE counts must be a string or a list of ints')
    if any(c < 0 for c in counts):
        raise RLEError('negative RLE count')
    if sum(counts) != h * w:
        raise RLEError(
            f'RLE counts add up to {sum(counts)} pixels, the size '
            f'{h}x{w} has {h * w}'
        )
    counts = np.asarray(counts, dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return _extent(starts[1::2], counts[1::2], h, h * w)


def kaggle_rle_box(encoded: str, height: int, width: int) -> Optional[Box]:
    """Box of a Kaggle ``EncodedPixels`` string; None when empty.

    Args:
        encoded: ``"start length start length ..."`` with 1-based starts
            over the column-major pixel order.
        height: Image height (the ``Height`` column).
        width: Image width (the ``Width`` column).

    Raises:
        RLEError: Odd number of values, a value that is not an integer,
            or a run outside the image.
    """
    n = len(encoded.split())
    if n % 2:
        raise RLEError(
            f'EncodedPixels has {n} numbers; it must hold start length pairs'
        )
    try:
        with warnings.catch_warnings():
            # older numpy warns and stops at a value that is not an integer
            warnings.simplefilter('ignore', DeprecationWarning)
            nums = np.fromstring(encoded, dtype=np.int64, sep=' ')
    except ValueError:
        nums = None
    if nums is None or len(nums) != n:
        raise RLEError('EncodedPixels holds a value that is not an integer')
    return _extent(nums[0::2] - 1, nums[1::2], height, height * width)


def polygon_box(polygons: Sequence[Sequence[float]]) -> Optional[Box]:
    """Box spanning the vertices of COCO polygons; None without vertices.

    Raises:
        RLEError: A polygon with an odd number of coordinates.
    """
    xs: List[float] = []
    ys: List[float] = []
    for poly in polygons:
        if not isinstance(poly, (list, tuple)) or len(poly) % 2:
            raise RLEError('a polygon must be a flat list of x, y coordinates')
        xs.extend(poly[0::2])
        ys.extend(poly[1::2])
    if not xs:
        return None
    x0, y0 = min(xs), min(ys)
    return (x0, y0, max(xs) - x0, max(ys) - y0)


def segmentation_box(segmentation) -> Optional[Box]:
    """Box of a COCO ``segmentation`` in any of its three forms.

    Returns:
        ``(x, y, w, h)``, or None for an empty mask.

    Raises:
        RLEError: A segmentation of none of the forms, or a broken one.
    """
    if isinstance(segmentation, dict):
        return coco_rle_box(segmentation)
    if isinstance(segmentation, (list, tuple)):
        return polygon_box(segmentation)
    raise RLEError(
        f'segmentation of type {type(segmentation).__name__}; expected '
        'polygons (a list) or an RLE (a dict)'
    )


__all__ = [
    'RLEError',
    'coco_rle_box',
    'decode_coco_counts',
    'kaggle_rle_box',
    'polygon_box',
    'segmentation_box',
]
