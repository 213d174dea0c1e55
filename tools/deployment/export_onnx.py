"""Export a model to ONNX with one named output per attribute.

    python tools/deployment/export_onnx.py CONFIG CHECKPOINT \\
        --out model.onnx [--thresholds thresholds.json] [--opset 17] \\
        [--verify]

Input ``image``: float32 ``(batch, 3, S, S)``, BGR pixels 0..255 after the
test pipeline's ``ResizePad`` (S from the config); the normalisation runs
inside the graph. Outputs: one ``(batch, num_values)`` tensor of sigmoid
scores per attribute, named after it (non-word characters become ``_``).
The schema, the output names and the thresholds are in the model's
metadata. ``--verify`` runs the file in onnxruntime on random images and
compares with PyTorch.
"""

import argparse

import torch
from mmengine.config import Config

import mmfashion_attr  # noqa: F401
from mmfashion_attr.apis import init_attribute_model
from mmfashion_attr.apis.onnx_export import (
    compare_with_onnxruntime,
    export_onnx,
    input_size,
)


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


if __name__ == '__main__':
    main()
