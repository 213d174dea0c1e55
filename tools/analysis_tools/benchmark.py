"""Speed and memory of every paper variant against plain classifiers.

One process measures, at the same image size, batch, precision and memory
format: the baseline and approaches 1-4 (built from the paper configs), a
plain EfficientNetV2-M + GAP + linear classifier (same backbone code, same
number of outputs) and timm's ``tf_efficientnetv2_m`` when timm is
importable. For each: training step throughput (forward, loss, backward,
Adam step), inference throughput, batch-1 latency and peak memory; and the
ratio of each to the plain classifier's. Prints a table, writes JSON.

    python tools/analysis_tools/benchmark.py --device cuda --img-size 384 \\
        --batch 64 --precision bf16 --channels-last --out bench.json
    python tools/analysis_tools/benchmark.py --device cpu --img-size 384 \\
        --batch 4 --steps 3 --variants baseline approach3 plain

The models differ only in neck and head, so the numbers isolate what the
paper's multi-scale neck and attribute branches cost. ``--rounds N``
measures all models round-robin N times and reports each number's median
(drift of a shared machine then hits every model alike; every round is
kept in the JSON); ``--modes`` picks training / inference / batch-1
latency; ``--plain-act Swish`` gives the plain classifier mmpretrain's
stock activation (see ``EfficientNetV2Taps``). Losses: the masked
multi-label loss for ours, BCE for the plain and timm classifiers. Inputs
are random tensors already on the device: the data pipeline is measured by
``tools/analysis_tools/benchmark_pipeline.py``.
"""

import argparse
import json
import resource
import statistics
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

import mmfashion_attr  # noqa: F401  (registers, applies compat)
from mmfashion_attr.structures import AttributeSchema
from tools.common.benchmarking import (
    ARCH_TAPS,
    PAPER_SCHEMA,
    VARIANTS,
    paper_config,
    timed,
)


class OursNet(nn.Module):
    """Backbone -> neck -> head logits of a paper variant."""

    def __init__(self, variant: str, arch: str):
        super().__init__()
        from mmpretrain.registry import MODELS

        model = MODELS.build(paper_config(variant, arch).model)
        self.backbone, self.neck, self.head = (
            model.backbone,
            model.neck,
            model.head,
        )

    def forward(self, x):
        return self.head(self.neck(self.backbone(x)))

    def loss(self, logits, target, mask):
        h = self.head
        return h.loss_module(
            logits, target, mask, h.attribute_ids, h.schema.num_attributes
        ).sum()


class PlainNet(nn.Module):
    """EfficientNetV2 + global average pooling + one linear layer.

    The backbone is the variants' own (``EfficientNetV2Taps``, the whole
    network, fused SiLU), so the ratio to it isolates neck and head cost;
    ``--plain-act Swish`` measures mmpretrain's stock activation instead.
    """

    def __init__(self, arch: str, num_outputs: int, act: str = 'SiLU'):
        super().__init__()
        from mmfashion_attr.models import EfficientNetV2Taps

        self.backbone = EfficientNetV2Taps(
            arch=arch,
            out_indices=(ARCH_TAPS[arch][1],),
            act_cfg=dict(type=act),
        )
        self.fc = nn.Linear(1280, num_outputs)

    def forward(self, x):
        return self.fc(self.backbone(x)[-1].mean(dim=(2, 3)))

    @staticmethod
    def loss(logits, target, mask):
        return F.binary_cross_entropy_with_logits(
            logits.float(), target.float()
        )


class TimmNet(PlainNet):
    """timm's ``tf_efficientnetv2_m`` (no weights) with the same outputs."""

    def __init__(self, num_outputs: int):
        nn.Module.__init__(self)
        import timm

        self.net = timm.create_model(
            'tf_efficientnetv2_m', pretrained=False, num_classes=num_outputs
        )

    def forward(self, x):
        return self.net(x)


def peak_memory_mb(device):
    if device.type == 'cuda':
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(name, net, args, device, num_values):
    dtype = torch.bfloat16 if args.precision == 'bf16' else None
    fmt = (
        torch.channels_last if args.channels_last else torch.contiguous_format
    )
    net = net.to(device).to(memory_format=fmt)
    fwd = torch.compile(net) if args.compile else net
    x = torch.randn(
        args.batch, 3, args.img_size, args.img_size, device=device
    ).to(memory_format=fmt)
    x1 = x[:1].contiguous(memory_format=fmt)
    g = torch.Generator(device='cpu').manual_seed(0)
    target = (torch.rand(args.batch, num_values, generator=g) < 0.1).to(device)
    mask = (torch.rand(args.batch, num_values, generator=g) < 0.8).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=1e-5)

    def autocast():
        return torch.autocast(
            device.type, dtype=dtype, enabled=dtype is not None
        )

    def train_step():
        opt.zero_grad(set_to_none=True)
        with autocast():
            logits = fwd(x)
        net.loss(logits, target, mask).backward()
        opt.step()

    def infer(inp):
        with torch.no_grad(), autocast():
            fwd(inp)

    if device.type == 'cuda':
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    row = dict(
        model=name, params_m=sum(p.numel() for p in net.parameters()) / 1e6
    )
    if 'train' in args.modes:
        net.train()
        row['train_step_s'] = timed(
            train_step, device, args.warmup, args.steps
        )
        row['train_img_s'] = args.batch / row['train_step_s']
        row['train_peak_mb'] = peak_memory_mb(device)
    net.eval()
    if 'infer' in args.modes:
        row['infer_step_s'] = timed(
            lambda: infer(x), device, args.warmup, args.steps
        )
        row['infer_img_s'] = args.batch / row['infer_step_s']
    if 'latency' in args.modes:
        row['latency_b1_ms'] = 1e3 * timed(
            lambda: infer(x1), device, args.warmup, args.steps
        )
    net.to('cpu')
    return row


def merge_rounds(runs, batch):
    """One row: the median of each measured number over the rounds, and
    the throughput of the median step time."""
    row = dict(runs[0])
    for k, v in runs[0].items():
        if isinstance(v, float):
            row[k] = statistics.median(run[k] for run in runs)
    for k in ('train', 'infer'):
        if f'{k}_step_s' in row:
            row[f'{k}_img_s'] = batch / row[f'{k}_step_s']
    if len(runs) > 1:
        row['rounds'] = runs
    return row


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu'
    )
    p.add_argument('--img-size', type=int, default=384)
    p.add_argument('--batch', type=int, default=32)
    p.add_argument('--precision', choices=['fp32', 'bf16'], default='fp32')
    p.add_argument('--channels-last', action='store_true')
    p.add_argument('--compile', action='store_true')
    p.add_argument('--arch', default='m', help='EfficientNetV2 arch')
    p.add_argument(
        '--plain-act',
        default='SiLU',
        help="plain classifier's activation (Swish: mmpretrain's stock one)",
    )
    p.add_argument(
        '--variants',
        nargs='+',
        default=VARIANTS + ['plain', 'timm'],
        help='subset of baseline approach1..4 plain timm',
    )
    p.add_argument('--warmup', type=int, default=3)
    p.add_argument('--steps', type=int, default=10)
    p.add_argument(
        '--modes',
        nargs='+',
        choices=['train', 'infer', 'latency'],
        default=['train', 'infer', 'latency'],
        help='what to measure (training step, inference, batch-1 latency)',
    )
    p.add_argument(
        '--rounds',
        type=int,
        default=1,
        help='measure all models round-robin this many times (median)',
    )
    p.add_argument(
        '--threads',
        type=int,
        default=0,
        help='torch CPU threads (0: torch default)',
    )
    p.add_argument('--out', help='write the rows as JSON here')
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    torch.manual_seed(0)
    if device.type == 'cuda':
        torch.backends.cudnn.benchmark = True
    num_values = AttributeSchema.from_dict(PAPER_SCHEMA).num_values
    nets = {}
    for name in args.variants:
        if name == 'timm':
            try:
                nets[name] = TimmNet(num_values)
            except ImportError:
                print('timm not importable: skipped', file=sys.stderr)
        elif name == 'plain':
            nets[name] = PlainNet(args.arch, num_values, args.plain_act)
        else:
            nets[name] = OursNet(name, args.arch)
    # Round-robin: every model is measured once per round, so drift of the
    # machine (clocks, other tenants) hits all of them alike; each metric
    # is the median over rounds.
    per_round = {name: [] for name in nets}
    for r in range(args.rounds):
        for name, net in nets.items():
            per_round[name].append(
                measure(name, net, args, device, num_values)
            )
            print(f'round {r + 1}: measured {name}', file=sys.stderr)
    rows = [merge_rounds(runs, args.batch) for runs in per_round.values()]
    for ref_name in ('plain', 'timm'):
        ref = next((r for r in rows if r['model'] == ref_name), None)
        for r in rows if ref else []:
            # step-time ratios: > 1 means slower than the reference
            for k in ('train', 'infer'):
                if f'{k}_step_s' in r:
                    r[f'{k}_vs_{ref_name}'] = (
                        r[f'{k}_step_s'] / ref[f'{k}_step_s']
                    )
    name = (
        torch.cuda.get_device_name(device) if device.type == 'cuda' else 'cpu'
    )
    setup = (
        f'device={device} ({name}) img={args.img_size} '
        f'batch={args.batch} {args.precision} channels_last='
        f'{args.channels_last} compile={args.compile} '
        f'torch={torch.__version__} threads={torch.get_num_threads()}'
    )
    print(setup)
    cols = [
        ('model', '{:<10}'),
        ('params_m', '{:>8.1f}'),
        ('train_img_s', '{:>11.1f}'),
        ('infer_img_s', '{:>11.1f}'),
        ('latency_b1_ms', '{:>13.1f}'),
        ('train_peak_mb', '{:>13.0f}'),
        ('train_vs_plain', '{:>14.3f}'),
        ('infer_vs_plain', '{:>14.3f}'),
        ('train_vs_timm', '{:>13.3f}'),
        ('infer_vs_timm', '{:>13.3f}'),
    ]
    print(
        ' '.join(
            c.rjust(len(f.format(0))) if c != 'model' else c.ljust(10)
            for c, f in cols
        )
    )
    for r in rows:
        print(
            ' '.join(
                f.format(r[c]) if c in r else ' ' * len(f.format(0))
                for c, f in cols
            )
        )
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(
                dict(setup=setup, args=vars(args), rows=rows), f, indent=1
            )
    return rows


if __name__ == '__main__':
    main()
