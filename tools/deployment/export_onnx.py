"""Export a model to ONNX with one named output per attribute, optionally
also as a static int8 model.

    python tools/deployment/export_onnx.py CONFIG CHECKPOINT \\
        --out model.onnx [--thresholds thresholds.json] [--opset 17] \\
        [--verify] [--int8 --calib-images 256 [--int8-out model_int8.onnx]]

Input ``image``: float32 ``(batch, 3, S, S)``, BGR pixels 0..255 after the
test pipeline's ``ResizePad`` (S from the config); the normalisation runs
inside the graph. Outputs: one ``(batch, num_values)`` tensor of sigmoid
scores per attribute, named after it (non-word characters become ``_``).
The schema, the output names and the thresholds are in the model's
metadata. ``--verify`` runs the file in onnxruntime on random images and
compares with PyTorch.

``--int8`` also writes an int8 (QDQ) model (default: ``--out`` with
``_int8`` before the extension), calibrated on ``--calib-images`` images of
the config's ``--calib-split`` (default: train) through the test pipeline
(``mmfashion_attr.apis.onnx_quantization``). Score it against the float32
model with ``tools/analysis_tools/onnx_accuracy.py`` before serving it.
"""

import argparse
import os.path as osp

import torch
from mmengine.config import Config

import mmfashion_attr  # noqa: F401
from mmfashion_attr.apis import init_attribute_model
from mmfashion_attr.apis.onnx_export import (
    compare_with_onnxruntime,
    export_onnx,
    input_size,
)
from mmfashion_attr.apis.onnx_quantization import (
    CALIBRATION_METHODS,
    calibration_images,
    quantize_onnx_int8,
)


def int8_path(out: str) -> str:
    """``model.onnx`` -> ``model_int8.onnx``."""
    root, ext = osp.splitext(out)
    return f'{root}_int8{ext or ".onnx"}'


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--out', required=True)
    p.add_argument('--thresholds', help='JSON stored in the metadata')
    p.add_argument('--opset', type=int, default=17)
    p.add_argument(
        '--input-size',
        type=int,
        help='default: the ResizePad scale of the config',
    )
    p.add_argument('--verify', action='store_true')
    p.add_argument(
        '--schema',
        help='schema.json the checkpoint was trained with (required for '
        'a checkpoint without a saved schema)',
    )
    p.add_argument(
        '--int8', action='store_true', help='also write a static int8 model'
    )
    p.add_argument('--int8-out', help='default: OUT with _int8')
    p.add_argument('--calib-images', type=int, default=256)
    p.add_argument(
        '--calib-split', default='train', choices=['train', 'val', 'test']
    )
    p.add_argument(
        '--calib-method', default='minmax', choices=CALIBRATION_METHODS
    )
    p.add_argument(
        '--per-tensor',
        action='store_true',
        help='one weight scale per tensor instead of per channel',
    )
    p.add_argument(
        '--reduce-range',
        action='store_true',
        help='7-bit weights (CPUs without VNNI)',
    )
    args = p.parse_args(argv)
    cfg = Config.fromfile(args.config)
    size = args.input_size or input_size(cfg)
    model = init_attribute_model(cfg, args.checkpoint, schema=args.schema)
    mapping = export_onnx(
        model, args.out, size, args.thresholds, opset=args.opset
    )
    for attr, name in mapping.items():
        print(f'{attr:<24} -> output {name!r}')
    if args.verify:
        images = torch.rand(3, 3, size, size) * 255
        diff = compare_with_onnxruntime(model, args.out, images)
        print(f'max |onnxruntime - pytorch| = {diff:.2e}')
        if diff > 1e-4:
            raise SystemExit('verification failed (> 1e-4)')
    print(f'-> {args.out}')
    if args.int8:
        out8 = args.int8_out or int8_path(args.out)
        info = quantize_onnx_int8(
            args.out,
            out8,
            calibration_images(cfg, args.calib_images, args.calib_split),
            per_channel=not args.per_tensor,
            method=args.calib_method,
            reduce_range=args.reduce_range,
        )
        print(
            f'int8: {info["calibration_images"]} calibration images '
            f'({args.calib_split}), {info["weights"]} -> {out8}'
        )


if __name__ == '__main__':
    main()
