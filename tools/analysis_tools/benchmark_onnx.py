"""Batch-1 CPU latency: ONNX Runtime against PyTorch eager.

Exports a paper variant (random weights: speed does not depend on them),
or a trained model given ``--config`` and ``--checkpoint``, with
``mmfashion_attr.apis.onnx_export`` (the same graph
``tools/deployment/export_onnx.py`` writes: normalisation, network,
sigmoid, one output per attribute), checks that onnxruntime's scores match
PyTorch's, then times both on the same input with the same number of
threads. Prints a table, writes JSON.

    python tools/analysis_tools/benchmark_onnx.py --variant approach3 \\
        --img-size 384 --threads 2 --runs 20
    python tools/analysis_tools/benchmark_onnx.py --config CFG \\
        --checkpoint CKPT
"""

import argparse
import json
import os.path as osp
import statistics
import tempfile

import torch
from mmengine.config import Config

import mmfashion_attr  # noqa: F401  (registers, applies compat)
from mmfashion_attr.apis import init_attribute_model
from mmfashion_attr.apis.onnx_export import (
    AttributeScores,
    compare_with_onnxruntime,
    export_onnx,
    input_size,
)
from tools.common.benchmarking import paper_config, time_calls


def build(args):
    """The model (eval, CPU) and its input side."""
    if args.config:
        cfg = Config.fromfile(args.config)
        size = args.img_size or input_size(cfg)
        return init_attribute_model(cfg, args.checkpoint), size
    cfg = paper_config(args.variant, args.arch)
    return init_attribute_model(cfg), args.img_size or 384


def summary(name, times):
    ms = sorted(1e3 * t for t in times)
    return dict(
        backend=name,
        median_ms=statistics.median(ms),
        p90_ms=ms[min(len(ms) - 1, int(0.9 * len(ms)))],
        min_ms=ms[0],
    )


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--variant', default='approach3')
    p.add_argument('--arch', default='m', help='EfficientNetV2 arch')
    p.add_argument('--config', help='a trained model instead of a variant')
    p.add_argument('--checkpoint')
    p.add_argument('--img-size', type=int, help='default 384 / config')
    p.add_argument('--batch', type=int, default=1)
    p.add_argument('--threads', type=int, default=0, help='0: torch default')
    p.add_argument('--warmup', type=int, default=3)
    p.add_argument('--runs', type=int, default=20)
    p.add_argument('--out', help='write the rows as JSON here')
    args = p.parse_args(argv)
    import onnxruntime as ort

    if args.threads:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()
    torch.manual_seed(0)
    model, size = build(args)
    wrapper = AttributeScores(model.eval()).eval()
    image = torch.rand(args.batch, 3, size, size) * 255
    with tempfile.TemporaryDirectory() as tmp:
        path = osp.join(tmp, 'model.onnx')
        export_onnx(model, path, size)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = (
            ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        )
        sess = ort.InferenceSession(
            path, opts, providers=['CPUExecutionProvider']
        )
        diff = compare_with_onnxruntime(model, path, image)
    feed = {'image': image.numpy()}
    if diff > 1e-4:
        raise SystemExit(f'onnxruntime differs from PyTorch by {diff:.2e}')

    def eager():
        with torch.no_grad():
            wrapper(image)

    cpu = torch.device('cpu')
    rows = [
        summary(
            'pytorch eager', time_calls(eager, cpu, args.warmup, args.runs)
        ),
        summary(
            'onnxruntime',
            time_calls(
                lambda: sess.run(None, feed), cpu, args.warmup, args.runs
            ),
        ),
    ]
    for r in rows:
        r['speedup_vs_eager'] = rows[0]['median_ms'] / r['median_ms']
    setup = (
        f'{args.config or args.variant} arch={args.arch} img={size} '
        f'batch={args.batch} threads={threads} torch={torch.__version__} '
        f'onnxruntime={ort.__version__} max|diff|={diff:.1e}'
    )
    print(setup)
    print(f'{"backend":<14} {"median ms":>9} {"p90 ms":>7} {"speedup":>7}')
    for r in rows:
        print(
            f'{r["backend"]:<14} {r["median_ms"]:>9.1f} {r["p90_ms"]:>7.1f}'
            f' {r["speedup_vs_eager"]:>7.2f}'
        )
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(dict(setup=setup, rows=rows), f, indent=1)
    return rows


if __name__ == '__main__':
    main()
