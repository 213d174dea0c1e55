"""Static int8 quantisation of an exported model with ONNX Runtime.

:func:`quantize_onnx_int8` turns the float32 graph of
:func:`~mmfashion_attr.apis.onnx_export.export_onnx` into a QDQ graph
(``QuantizeLinear`` / ``DequantizeLinear`` pairs around every convolution,
matrix product and element-wise op that ONNX Runtime runs in int8):
weights int8 per output channel, activations uint8 with ranges calibrated
on catalog images run through the config's test pipeline
(:func:`calibration_images`). ONNX Runtime fuses the pairs into integer
kernels (``QLinearConv``, ...) when it loads the graph. Inputs, outputs and
metadata (schema, output names, thresholds) stay those of the float32
model, so a server runs either file alike; the metadata gains
``quantization``.

Accuracy depends on the model and the calibration images: score it on a
labelled split with ``tools/analysis_tools/onnx_accuracy.py`` before
serving.
"""

from __future__ import annotations

import json
import os
import os.path as osp
import tempfile
from typing import Iterable, Iterator, List, Optional, Sequence, Union

import numpy as np
from mmengine.config import Config

from ..utils.misc import get_test_pipeline_cfg

CALIBRATION_METHODS = ('minmax', 'percentile', 'entropy')


def sample_indices(total: int, num: int) -> List[int]:
    """``num`` indices spread evenly over ``range(total)`` (all of them
    when ``num >= total``)."""
    if num <= 0 or total <= 0:
        return []
    if num >= total:
        return list(range(total))
    return sorted({int(i) for i in np.linspace(0, total - 1, num)})


def build_split_dataset(cfg: Config, split: str = 'train'):
    """The config's dataset of ``split`` (``train`` / ``val`` / ``test``)
    with the **test** pipeline: what the deployed model sees."""
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import DATASETS

    dataset_cfg = cfg[f'{split}_dataloader']['dataset'].copy()
    dataset_cfg['pipeline'] = get_test_pipeline_cfg(cfg)
    dataset_cfg['test_mode'] = True
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return DATASETS.build(dataset_cfg)


def calibration_images(
    cfg: Config, num: int, split: str = 'train'
) -> Iterator[np.ndarray]:
    """``num`` images of the split (evenly spaced over it) after the test
    pipeline, each ``float32 (1, 3, S, S)`` BGR 0..255 (the exported
    graph's input). Calibrate on training images, score on test images."""
    dataset = build_split_dataset(cfg, split)
    for i in sample_indices(len(dataset), num):
        inputs = dataset[i]['inputs']
        yield inputs.numpy().astype(np.float32)[None]


class _Reader:
    """An ``onnxruntime.quantization.CalibrationDataReader`` over arrays."""

    def __init__(self, images: Iterable[np.ndarray]) -> None:
        self._it = iter(images)
        self.count = 0

    def get_next(self) -> Optional[dict]:
        img = next(self._it, None)
        if img is None:
            return None
        self.count += 1
        img = np.asarray(img, dtype=np.float32)
        return {'image': img if img.ndim == 4 else img[None]}

    def __iter__(self):
        return self

    def __next__(self):
        item = self.get_next()
        if item is None:
            raise StopIteration
        return item


def quantize_onnx_int8(
    fp32_file: str,
    out_file: str,
    calibration: Iterable[np.ndarray],
    per_channel: bool = True,
    method: str = 'minmax',
    reduce_range: bool = False,
    exclude_nodes: Sequence[str] = (),
) -> dict:
    """Write the int8 (QDQ) version of ``fp32_file`` to ``out_file``.

    Args:
        fp32_file: A model written by ``export_onnx``.
        out_file: The int8 model to write.
        calibration: Input images, each ``float32 (1, 3, S, S)`` or
            ``(3, S, S)`` (:func:`calibration_images`).
        per_channel: Weights quantised per output channel (True) or per
            tensor.
        method: Activation range calibration: ``minmax``, ``percentile``
            or ``entropy``.
        reduce_range: 7-bit weights, for CPUs without VNNI where the 8-bit
            ``u8s8`` products can saturate.
        exclude_nodes: Node names kept in float32.

    Returns:
        The ``quantization`` metadata written into the model.
    """
    import onnx
    from onnxruntime.quantization import (
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quant_pre_process,
        quantize_static,
    )

    if method not in CALIBRATION_METHODS:
        raise ValueError(
            f'method must be one of {CALIBRATION_METHODS}, not {method!r}'
        )
    methods = dict(
        minmax=CalibrationMethod.MinMax,
        percentile=CalibrationMethod.Percentile,
        entropy=CalibrationMethod.Entropy,
    )
    reader = _Reader(calibration)
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        # shape inference and graph cleanup first, as onnxruntime advises
        pre = osp.join(tmp, 'pre.onnx')
        quant_pre_process(fp32_file, pre)
        quantize_static(
            pre,
            out_file,
            reader,
            quant_format=QuantFormat.QDQ,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            per_channel=per_channel,
            reduce_range=reduce_range,
            calibrate_method=methods[method],
            nodes_to_exclude=list(exclude_nodes),
        )
    if reader.count == 0:
        raise ValueError('no calibration images')
    info = dict(
        format='QDQ',
        activations='uint8',
        weights='int8 per channel' if per_channel else 'int8 per tensor',
        reduce_range=bool(reduce_range),
        calibration=method,
        calibration_images=reader.count,
    )
    src = onnx.load(fp32_file)
    proto = onnx.load(out_file)
    del proto.metadata_props[:]
    for p in src.metadata_props:
        proto.metadata_props.add().CopyFrom(p)
    entry = proto.metadata_props.add()
    entry.key, entry.value = 'quantization', json.dumps(info)
    onnx.save(proto, out_file)
    return info


def is_quantized(onnx_file: Union[str, os.PathLike]) -> bool:
    """Whether ``onnx_file`` was written by :func:`quantize_onnx_int8`."""
    from .onnx_export import onnx_metadata

    return 'quantization' in onnx_metadata(os.fspath(onnx_file))
