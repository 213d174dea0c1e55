"""Mask boxes from polygons, COCO RLE and Kaggle RLE, on real masks.

References are independent of the decoder: the extreme vertices of the
same object's polygon in the official sample, values published with the
data, and masks drawn with numpy in the test and encoded here by a
different method (``np.diff`` over the column-major pixels).
"""

import json
import os.path as osp

import numpy as np
import pytest

from mmfashion_attr.datasets.converters.rle import (
    RLEError,
    coco_rle_box,
    decode_coco_counts,
    kaggle_rle_box,
    polygon_box,
    segmentation_box,
)
from tests.helpers.real_files import REAL


def _json(*parts):
    with open(osp.join(REAL, *parts), encoding='utf-8') as f:
        return json.load(f)


def _extent(mask):
    """``(x, y, w, h)`` of the ones of a mask, with numpy."""
    ys, xs = np.nonzero(mask)
    return (
        xs.min(),
        ys.min(),
        xs.max() - xs.min() + 1,
        ys.max() - ys.min() + 1,
    )


def _coco_counts(mask):
    """Uncompressed COCO counts of a mask (runs of 0 first, column-major)."""
    flat = mask.flatten(order='F').astype(np.int8)
    edges = np.flatnonzero(
        np.diff(np.concatenate([[0], flat, [1 - flat[-1]]]))
    )
    return np.diff(np.concatenate([[0], edges])).tolist()


def _kaggle(mask):
    """Kaggle EncodedPixels of a mask (1-based starts, column-major)."""
    flat = np.concatenate([[0], mask.flatten(order='F'), [0]])
    edges = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    starts, ends = edges[0::2], edges[1::2]
    return ' '.join(f'{s} {e - s}' for s, e in zip(starts, ends))


def test_quoted_fashionpedia_rle_decodes_to_published_values():
    # thread_quote_instances_rle_segmentation.txt: a "segmentation" object
    # of instances_attributes_*2020.json, quoted by its maintainers
    text = open(
        osp.join(REAL, 'fashionpedia', 'thread_quote_instances_rle_'
                 'segmentation.txt'),
        encoding='utf-8',
    ).read()  # fmt: skip
    seg = json.loads('{' + text.strip().rstrip(',') + '}')['segmentation']
    assert seg['size'] == [1024, 688]
    counts = decode_coco_counts(seg['counts'])
    assert sum(counts) == 1024 * 688
    assert sum(counts[1::2]) == 11845  # mask area
    assert coco_rle_box(seg) == (264, 704, 79, 266)


@pytest.mark.parametrize('ann_id', [17, 18, 34, 37, 38])
def test_compressed_rle_box_matches_the_polygon_of_the_same_object(ann_id):
    """fake_results.json holds these objects' ground-truth masks as COCO
    RLE; sample.json holds them as polygons."""
    rle = {a['id']: a for a in _json('fashionpedia', 'fake_results.json')}
    poly = {
        a['id']: a for a in _json('fashionpedia', 'sample.json')['annotations']
    }
    seg = rle[ann_id]['segmentation']
    x, y, w, h = coco_rle_box(seg)
    vertices = np.concatenate(
        [np.reshape(p, (-1, 2)) for p in poly[ann_id]['segmentation']]
    )
    (px0, py0), (px1, py1) = vertices.min(0), vertices.max(0)
    # a rasterised polygon reaches its vertices to within a pixel or two
    # (a thin spike may cover no pixel centre)
    assert abs(x - px0) <= 2 and abs(y - py0) <= 2
    assert abs(x + w - 1 - px1) <= 2 and abs(y + h - 1 - py1) <= 2
    # and the mask area matches the polygon area the sample gives
    area = sum(decode_coco_counts(seg['counts'])[1::2])
    assert abs(area - poly[ann_id]['area']) / poly[ann_id]['area'] < 0.01


def test_polygon_box_of_the_sample_dress():
    ann = {
        a['id']: a for a in _json('fashionpedia', 'sample.json')['annotations']
    }
    # annotation 18: x from 50 to 410, y from 186 to 698 (read in the file)
    assert polygon_box(ann[18]['segmentation']) == (50, 186, 360, 512)
    # annotation 39 has two polygons: x 256..552, y 381..490
    assert segmentation_box(ann[39]['segmentation']) == (256, 381, 296, 109)


def test_real_kaggle_mask_box():
    encoded = open(
        osp.join(REAL, 'imaterialist2020',
                 'notebook_output_encoded_pixels_row1.txt'),
    ).read()  # fmt: skip
    # image 00000663ed1ff0c4e0132b9b9ac53f6e is 5214 x 3676 (H x W); the
    # pants (ClassId 6) cover columns 1163-2839 and rows 3923-5212
    assert kaggle_rle_box(encoded, 5214, 3676) == (1163, 3923, 1677, 1290)
    nums = np.array(encoded.split(), dtype=np.int64)
    starts, lengths = nums[0::2] - 1, nums[1::2]
    pixels = np.concatenate(
        [np.arange(s, s + n) for s, n in zip(starts, lengths)]
    )
    cols, rows = pixels // 5214, pixels % 5214
    assert (cols.min(), rows.min()) == (1163, 3923)
    assert (cols.max(), rows.max()) == (2839, 5212)


@pytest.mark.parametrize('seed', range(6))
def test_random_masks_both_rle_forms(seed):
    rng = np.random.default_rng(seed)
    h, w = rng.integers(1, 40, size=2)
    mask = np.zeros((h, w), np.uint8)
    for _ in range(rng.integers(1, 4)):
        y0, x0 = rng.integers(0, h), rng.integers(0, w)
        y1, x1 = rng.integers(y0, h) + 1, rng.integers(x0, w) + 1
        mask[y0:y1, x0:x1] = 1
    ref = _extent(mask)
    seg = dict(size=[int(h), int(w)], counts=_coco_counts(mask))
    assert coco_rle_box(seg) == ref
    assert kaggle_rle_box(_kaggle(mask), int(h), int(w)) == ref


def test_a_run_over_several_columns_spans_all_rows():
    # 4 rows: pixels 2..5 (0-based) are rows 2, 3 of column 0 and rows 0,
    # 1 of column 1
    assert kaggle_rle_box('3 4', 4, 3) == (0, 0, 2, 4)
    assert coco_rle_box(dict(size=[4, 3], counts=[2, 4, 6])) == (0, 0, 2, 4)


def test_empty_masks():
    assert kaggle_rle_box('', 4, 4) is None
    assert coco_rle_box(dict(size=[2, 2], counts=[4])) is None
    assert polygon_box([]) is None


@pytest.mark.parametrize(
    'call, match',
    [
        (lambda: kaggle_rle_box('1 2 3', 4, 4), 'start length pairs'),
        (lambda: kaggle_rle_box('1 a', 4, 4), 'not an integer'),
        (lambda: kaggle_rle_box('15 5', 4, 4), 'covers pixels 14..18'),
        (lambda: decode_coco_counts('0\x7f'), 'not a COCO RLE code'),
        (lambda: decode_coco_counts('0o'), 'ends inside a count'),
        (
            lambda: coco_rle_box(dict(size=[2, 2], counts=[1, 2])),
            'add up to 3 pixels',
        ),
        (lambda: coco_rle_box(dict(size=[2], counts=[4])), 'bad RLE size'),
        (lambda: polygon_box([[1, 2, 3]]), 'flat list'),
        (lambda: segmentation_box('x'), 'expected polygons'),
    ],
)
def test_broken_encodings_are_errors(call, match):
    with pytest.raises(RLEError, match=match):
        call()
