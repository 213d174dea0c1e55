"""Batch-1 latency of the inference backends of ``AttributeExtractor``.

Builds a paper variant (random weights: speed does not depend on them) or
a trained model (``--config``, ``--checkpoint``), then each backend of
``mmfashion_attr.apis.inference_backends`` on one device, each checked
against eager PyTorch at construction, and times a call on a test-pipeline
image (uint8 pixels on the host in, float32 scores on the host out) with
the timing method of ``tools/common/benchmarking.py``: warm-up until
stable, interleaved rounds, medians with their range, paired ratios.

Backends: ``eager`` (the reference), ``compile`` (``torch.compile``;
``mode='reduce-overhead'``, i.e. CUDA graphs, on a GPU), ``cuda_graph``
(captured by hand; CUDA only), ``onnxruntime`` (float32; CUDA / TensorRT
execution providers on a GPU when installed) and ``onnxruntime-int8``
(static int8 of ``mmfashion_attr.apis.onnx_quantization``: a given
``--int8-onnx`` file, or quantised here on ``--calib-images`` images, from
the config's training split when ``--config`` is given, random otherwise).

    python tools/analysis_tools/benchmark_latency.py --device cpu \\
        --variant approach3 --threads 2 --rounds 5 \\
        --backends eager onnxruntime onnxruntime-int8 \\
        --compare onnxruntime-int8/eager:2.0 onnxruntime/eager:1.3
    python tools/analysis_tools/benchmark_latency.py --device cuda \\
        --backends eager cuda_graph compile onnxruntime --batch 1
"""

import argparse
import json
import os.path as osp
import sys
import tempfile

import numpy as np
import torch
from mmengine.config import Config

import mmfashion_attr  # noqa: F401  (registers, applies compat)
from mmfashion_attr.apis import init_attribute_model
from mmfashion_attr.apis.inference_backends import (
    BackendMismatchError,
    BaseInferenceBackend,
    build_inference_backend,
)
from mmfashion_attr.apis.onnx_export import export_onnx, input_size
from mmfashion_attr.apis.onnx_quantization import (
    calibration_images,
    quantize_onnx_int8,
)
from tools.analysis_tools.benchmark import parse_compare
from tools.common.benchmarking import (
    Case,
    device_label,
    interleaved_rounds,
    make_timer,
    paired_ratio,
    paper_config,
    summary,
    verdict,
)

BACKENDS = (
    'eager',
    'compile',
    'cuda_graph',
    'onnxruntime',
    'onnxruntime-int8',
)


class EagerBackend(BaseInferenceBackend):
    """The reference itself, timed like the others."""

    name = 'eager'

    def __init__(self, model, size, device='cpu', **kwargs):
        super().__init__(model, size, device, **kwargs)
        self.setup((1,))

    def run(self, images):
        return self.eager(images)


def build_model(args):
    """``(model, cfg or None, input size)`` on the device, eval."""
    if args.config:
        cfg = Config.fromfile(args.config)
        model = init_attribute_model(cfg, args.checkpoint, args.device)
        return model, cfg, args.img_size or input_size(cfg)
    cfg = paper_config(args.variant, args.arch)
    model = init_attribute_model(cfg, device=args.device)
    return model, None, args.img_size or 384


def int8_model(args, model, cfg, size, tmp):
    """The int8 ONNX file to time: given, or quantised here."""
    if args.int8_onnx:
        return args.int8_onnx
    fp32 = osp.join(tmp, 'fp32.onnx')
    export_onnx(model, fp32, size)
    if cfg is not None:
        calib = calibration_images(cfg, args.calib_images, 'train')
    else:
        rng = np.random.default_rng(0)
        calib = (
            rng.integers(0, 256, (1, 3, size, size)).astype(np.float32)
            for _ in range(args.calib_images)
        )
    out = osp.join(tmp, 'int8.onnx')
    quantize_onnx_int8(fp32, out, calib)
    return out


def build_backends(args, model, cfg, size, tmp):
    backends, skipped = {}, {}
    common = dict(check_batch_sizes=(args.batch,))
    for name in args.backends:
        try:
            if name == 'eager':
                backends[name] = EagerBackend(model, size, args.device)
            elif name == 'onnxruntime-int8':
                backends[name] = build_inference_backend(
                    'onnxruntime',
                    model,
                    size,
                    args.device,
                    onnx_file=int8_model(args, model, cfg, size, tmp),
                    threads=args.threads,
                    tolerance=args.int8_tolerance,
                    **common,
                )
            else:
                extra = dict(threads=args.threads) if 'onnx' in name else {}
                backends[name] = build_inference_backend(
                    name, model, size, args.device, **extra, **common
                )
        except BackendMismatchError:
            raise  # a wrong backend is an error, not a skip
        except (ValueError, ImportError, RuntimeError) as e:
            skipped[name] = f'{type(e).__name__}: {e}'
            print(f'{name}: skipped ({e})', file=sys.stderr)
    return backends, skipped


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu'
    )
    p.add_argument('--variant', default='approach3')
    p.add_argument('--arch', default='m', help='EfficientNetV2 arch')
    p.add_argument('--config', help='a trained model instead of a variant')
    p.add_argument('--checkpoint')
    p.add_argument('--img-size', type=int, help='default 384 / config')
    p.add_argument('--batch', type=int, default=1)
    p.add_argument(
        '--backends',
        nargs='+',
        choices=BACKENDS,
        help='default: eager cuda_graph compile onnxruntime on a GPU, eager '
        'onnxruntime onnxruntime-int8 on the CPU',
    )
    p.add_argument('--threads', type=int, default=0, help='0: default')
    p.add_argument('--int8-onnx', help='an int8 model of export_onnx.py')
    p.add_argument('--calib-images', type=int, default=32)
    p.add_argument(
        '--int8-tolerance',
        type=float,
        default=float('inf'),
        help='largest score difference of int8 to eager accepted '
        "(default: any; accuracy is onnx_accuracy.py's job)",
    )
    p.add_argument('--rounds', type=int, default=5)
    p.add_argument('--steps', type=int, default=20)
    p.add_argument('--max-warmup', type=int, default=50)
    p.add_argument('--compare', nargs='*', default=[], metavar='A/B[:TARGET]')
    p.add_argument('--out', help='write the rows as JSON here')
    args = p.parse_args(argv)
    try:
        import onnxruntime

        ort_version = onnxruntime.__version__
    except ImportError:  # its backends are then skipped
        ort_version = 'not installed'

    if args.threads:
        torch.set_num_threads(args.threads)
    args.threads = args.threads or torch.get_num_threads()
    device = torch.device(args.device)
    if args.backends is None:
        args.backends = (
            ['eager', 'cuda_graph', 'compile', 'onnxruntime']
            if device.type == 'cuda'
            else ['eager', 'onnxruntime', 'onnxruntime-int8']
        )
    torch.manual_seed(0)
    model, cfg, size = build_model(args)
    g = torch.Generator().manual_seed(1)
    image = torch.randint(0, 256, (args.batch, 3, size, size), generator=g)
    image = image.to(torch.uint8)
    with tempfile.TemporaryDirectory() as tmp:
        backends, skipped = build_backends(args, model, cfg, size, tmp)
        cases = [
            Case(name, step=lambda b=b: b(image))
            for name, b in backends.items()
        ]
        results = interleaved_rounds(
            cases,
            make_timer(device),
            rounds=args.rounds,
            steps=args.steps,
            max_warmup=args.max_warmup,
            log=lambda m: print(m, file=sys.stderr, flush=True),
        )
    rows = []
    for name, b in backends.items():
        s = summary(results[name]['rounds'])
        rows.append(
            dict(
                backend=name,
                median_ms=1e3 * s['median'],
                min_ms=1e3 * s['min'],
                max_ms=1e3 * s['max'],
                max_abs_diff=b.last_difference,
                providers=getattr(b, 'providers', None),
                stable=all(results[name]['stable']),
                rounds_s=results[name]['rounds'],
            )
        )
    if 'eager' in backends:
        for r in rows:
            ratio = paired_ratio(
                results['eager']['rounds'], results[r['backend']]['rounds']
            )
            r['speedup_vs_eager'] = ratio['median']
            r['speedup_range'] = [ratio['lo'], ratio['hi']]
    comps = []
    for spec in args.compare:
        a, b, target = parse_compare(spec)
        if a in results and b in results:
            ratio = paired_ratio(results[b]['rounds'], results[a]['rounds'])
            comps.append(
                dict(
                    compare=f'{a} / {b}',
                    target=target,
                    verdict=verdict(ratio, target),
                    **ratio,
                )
            )
    name = device_label(device)
    setup = (
        f'{args.config or args.variant} arch={args.arch} img={size} '
        f'batch={args.batch} device={device} ({name}) threads={args.threads} '
        f'torch={torch.__version__} onnxruntime={ort_version} '
        f'rounds={args.rounds} steps={args.steps}'
    )
    print(setup)
    print(
        f'{"backend":<18} {"median ms":>9} {"range ms":>15} '
        f'{"x eager":>7} {"range":>13} {"max|diff|":>9}'
    )
    for r in rows:
        rng = r.get('speedup_range')
        diff = r['max_abs_diff']
        print(
            f'{r["backend"]:<18} {r["median_ms"]:>9.2f} '
            f'{r["min_ms"]:>7.2f}-{r["max_ms"]:<7.2f} '
            f'{r.get("speedup_vs_eager", float("nan")):>7.2f} '
            + (f'{rng[0]:>6.2f}-{rng[1]:<6.2f}' if rng else ' ' * 13)
            + (f' {diff:>9.1e}' if diff is not None else '')
            + ('' if r['stable'] else ' (warm-up not stable)')
        )
    for c in comps:
        tgt = '' if c['target'] is None else f' target {c["target"]:g}'
        print(
            f'speedup {c["compare"]}: {c["median"]:.2f} '
            f'[{c["lo"]:.2f}, {c["hi"]:.2f}]{tgt}: {c["verdict"]}'
        )
    for k, v in skipped.items():
        print(f'{k}: skipped ({v})')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(
                dict(setup=setup, rows=rows, compare=comps, skipped=skipped),
                f,
                indent=1,
            )
    return rows, comps


if __name__ == '__main__':
    main()
