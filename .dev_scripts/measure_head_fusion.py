"""Cost of building the head's fused matrices (``fused_weights()``) next
to one forward pass of the whole model at batch 1, on the CPU.

    python .dev_scripts/measure_head_fusion.py CONFIG [--img-size 384]

Times both alternately (median of ``--repeats`` rounds) and prints the
ratio: the share of an inference call that rebuilding the matrices on
every call costs.
"""

import argparse
import statistics
import time

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS

import mmfashion_attr  # noqa: F401
from mmfashion_attr.structures import AttributeSchema


def build(config, schema_file):
    cfg = Config.fromfile(config)
    if schema_file:
        cfg.model.head.schema = AttributeSchema.load(schema_file).to_dict()
    cfg.model.backbone.init_cfg = None
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return MODELS.build(cfg.model).eval()


def timed(fn, n):
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config')
    p.add_argument('--schema', help='schema.json (default: the config one)')
    p.add_argument('--img-size', type=int, default=384)
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--threads', type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    model = build(args.config, args.schema)
    head = model.head
    x = torch.randn(1, 3, args.img_size, args.img_size)
    fused, forward = [], []
    with torch.no_grad():
        model(x, mode='tensor')  # warm-up
        for _ in range(args.repeats):
            fused.append(timed(head.fused_weights, 20))
            forward.append(timed(lambda: model(x, mode='tensor'), 3))
    f, m = statistics.median(fused), statistics.median(forward)
    print(
        f'head: {len(head.schema.names)} attributes, '
        f'{head.schema.num_values} values, hidden '
        f'{sum(head.hidden_sizes)}, in {head.in_channels}'
    )
    print(f'fused_weights(): median {1e3 * f:.3f} ms')
    print(f'forward at batch 1, {args.img_size} px: median {1e3 * m:.1f} ms')
    print(f'ratio: {100 * f / m:.2f} %')


if __name__ == '__main__':
    main()
