"""Static int8 quantisation of an exported model.

Calibration reads the catalog's own images through the test pipeline
(checked against the image files decoded with cv2), and the int8 model
computes what the float32 model computes, within the error of 8-bit
arithmetic, with the same inputs, outputs and metadata.
"""

import json
import os.path as osp

import cv2
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from mmengine.config import Config

from mmfashion_attr.apis import init_attribute_model
from mmfashion_attr.apis.onnx_export import (
    export_onnx,
    input_size,
    onnx_metadata,
)
from mmfashion_attr.apis.onnx_quantization import (
    calibration_images,
    is_quantized,
    quantize_onnx_int8,
    sample_indices,
)
from mmfashion_attr.structures import AttributeSchema
from tests.helpers.schemas import TINY_SCHEMA
from tests.helpers.tiny_model import tiny_model_files
from tools.analysis_tools import onnx_accuracy
from tools.deployment import export_onnx as export_onnx_tool


@pytest.fixture(scope='module')
def fp32(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('int8')
    cfg_path, ckpt, root = tiny_model_files(tmp, n=8)
    cfg = Config.fromfile(cfg_path)
    model = init_attribute_model(cfg, ckpt)
    out = str(tmp / 'model.onnx')
    export_onnx(model, out, input_size(cfg), thresholds=dict(default=0.4))
    return cfg, out, root, tmp


def catalog_images(root, split='train'):
    """The catalog's images, BGR ``(1, 3, H, W)`` float32, read with cv2
    (the tiny catalog's images have the network's input size)."""
    with open(osp.join(root, f'{split}.jsonl')) as f:
        paths = [json.loads(line)['img_path'] for line in f]
    return [
        cv2.imread(osp.join(root, p)).transpose(2, 0, 1)[None] for p in paths
    ]


def test_sample_indices_spread_over_the_split():
    assert sample_indices(10, 4) == [0, 3, 6, 9]
    assert sample_indices(3, 5) == [0, 1, 2]
    assert sample_indices(5, 0) == [] and sample_indices(0, 3) == []


def test_calibration_reads_the_catalog_images(fp32):
    cfg, _, root, _ = fp32
    files = catalog_images(root)
    got = list(calibration_images(cfg, 3, 'train'))
    assert len(got) == 3
    for img, i in zip(got, sample_indices(len(files), 3)):
        assert img.dtype == np.float32 and img.shape == (1, 3, 64, 64)
        np.testing.assert_array_equal(img, files[i].astype(np.float32))


def test_int8_model_is_close_to_float32(fp32):
    cfg, path, root, tmp = fp32
    out = str(tmp / 'model_int8.onnx')
    info = quantize_onnx_int8(path, out, calibration_images(cfg, 8))
    assert info['calibration_images'] == 8
    assert info['weights'] == 'int8 per channel'
    assert is_quantized(out) and not is_quantized(path)
    ops = {n.op_type for n in onnx.load(out).graph.node}
    assert {'QuantizeLinear', 'DequantizeLinear'} <= ops
    # inputs, outputs and the float model's metadata are kept
    meta, meta32 = onnx_metadata(out), onnx_metadata(path)
    assert {k: meta[k] for k in meta32} == meta32
    assert json.loads(meta['quantization']) == info
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    s32 = ort.InferenceSession(path, opts, providers=['CPUExecutionProvider'])
    s8 = ort.InferenceSession(out, opts, providers=['CPUExecutionProvider'])
    assert [o.name for o in s8.get_outputs()] == [
        o.name for o in s32.get_outputs()
    ]
    # the calibration images themselves and a held-out split
    images = catalog_images(root, 'train') + catalog_images(root, 'val')
    x = np.concatenate(images).astype(np.float32)
    ref = np.concatenate(s32.run(None, {'image': x}), axis=1)
    got = np.concatenate(s8.run(None, {'image': x}), axis=1)
    assert got.shape == ref.shape
    diff = np.abs(got - ref)
    # sigmoid scores: 8-bit activations move them by a few hundredths
    assert diff.max() < 0.1 and diff.mean() < 0.02
    # and not by nothing: the graph does run in int8
    assert diff.max() > 0


def test_export_tool_writes_the_int8_model(fp32, tmp_path):
    cfg, _, root, tmp = fp32
    cfg_path = osp.join(root, 'tiny_cfg.py')
    ckpt = osp.join(root, 'random.pth')
    out = str(tmp_path / 'm.onnx')
    export_onnx_tool.main(
        [cfg_path, ckpt, '--out', out, '--int8', '--calib-images', '4']
    )
    out8 = str(tmp_path / 'm_int8.onnx')
    assert osp.isfile(out) and is_quantized(out8)
    info = json.loads(onnx_metadata(out8)['quantization'])
    assert info['calibration_images'] == 4


def test_accuracy_tool_scores_every_model_on_the_split(fp32, tmp_path):
    cfg, path, root, tmp = fp32
    out8 = str(tmp_path / 'int8.onnx')
    quantize_onnx_int8(path, out8, calibration_images(cfg, 4))
    rows = onnx_accuracy.main(
        [
            osp.join(root, 'tiny_cfg.py'), path, out8,
            '--checkpoint', osp.join(root, 'random.pth'),
            '--split', 'val', '--threads', '1',
            '--out', str(tmp_path / 'acc.json'),
        ]
    )  # fmt: skip
    assert [r['model'] for r in rows] == ['pytorch', path, out8]
    ref, f32, i8 = rows
    n = len(catalog_images(root, 'val'))
    values = AttributeSchema.from_dict(TINY_SCHEMA).num_values
    assert ref['decisions'] == f32['decisions'] == n * values
    # float32 ONNX is PyTorch within 1e-4: the same decisions, the same F1
    assert f32['max_abs_score_diff'] < 1e-4
    assert f32['changed_decisions'] == 0 and f32['delta_points'] == 0
    assert ref['delta_points'] == 0
    assert i8['delta_points'] == pytest.approx(
        100 * (i8['mean_micro_f1'] - ref['mean_micro_f1'])
    )
    assert json.load(open(tmp_path / 'acc.json'))['rows'][2]['model'] == out8
