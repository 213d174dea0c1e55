"""Speed and memory of every paper variant against plain classifiers.

One process measures, at the same image size, batch, precision and memory
format: the baseline and approaches 1-4 (built from the paper configs), a
plain EfficientNetV2-M + GAP + linear classifier (same backbone code, same
number of outputs) and timm's ``tf_efficientnetv2_m`` when timm is
importable, each eager and/or compiled (``NAME:compiled``,
``torch.compile``). For each: training step throughput (forward, loss,
backward, Adam step), inference throughput, batch-1 latency, peak memory,
and the first call's time (compilation for a compiled model).

    python tools/analysis_tools/benchmark.py --device cuda --img-size 384 \\
        --batch 64 --precision bf16 --channels-last --rounds 5 \\
        --variants approach3 approach3:compiled timm timm:compiled \\
        --modes train --compare approach3:compiled/timm:1.05 \\
        approach3:compiled/timm:compiled:1.0
    python tools/analysis_tools/benchmark.py --device cpu --img-size 384 \\
        --batch 4 --steps 3 --variants baseline approach3 plain

The timing method (``tools/common/benchmarking.py``): CUDA events on a GPU,
warm-up until the step time is stable, every (model, mode) measured once
per round in a rotating order, medians over rounds with their range, and
ratios taken round by round. ``--compare A/B[:TARGET]`` prints the
throughput ratio of A to B (above 1: A is faster) with its range over
rounds and a verdict: within the noise of 1.0 (or of the target) when the
range includes it. The "x plain" / "x timm" columns are the same ratios'
medians. Losses: the masked multi-label loss for ours, BCE for the plain
and timm classifiers. Inputs are random tensors already on the device:
``tools/analysis_tools/benchmark_train_e2e.py`` measures training fed by
the real data loader.
"""

import argparse
import json
import resource
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
    Case,
    device_label,
    interleaved_rounds,
    make_timer,
    paired_ratio,
    paper_config,
    summary,
    verdict,
)

MODES = ('train', 'infer', 'latency')


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


def build_net(name, args, num_values):
    """The network of a model name (without ``:compiled``)."""
    if name == 'timm':
        return TimmNet(num_values)
    if name == 'plain':
        return PlainNet(args.arch, num_values, args.plain_act)
    return OursNet(name, args.arch)


class Bench:
    """One model on the device with its inputs and optimizer, and a step
    function per mode."""

    def __init__(self, spec, net, args, device, num_values):
        self.spec, self.net, self.device = spec, net, device
        self.compiled = spec.endswith(':compiled')
        self.dtype = torch.bfloat16 if args.precision == 'bf16' else None
        self.fmt = (
            torch.channels_last
            if args.channels_last
            else torch.contiguous_format
        )
        net.to(device).to(memory_format=self.fmt)
        self.fwd = (
            torch.compile(
                net,
                dynamic=False,
                mode=args.compile_mode,
                backend=args.compile_backend,
            )
            if self.compiled
            else net
        )
        self.x = torch.randn(
            args.batch, 3, args.img_size, args.img_size, device=device
        ).to(memory_format=self.fmt)
        self.x1 = self.x[:1].contiguous(memory_format=self.fmt)
        g = torch.Generator(device='cpu').manual_seed(0)
        v = num_values
        self.target = (torch.rand(args.batch, v, generator=g) < 0.1).to(device)
        self.mask = (torch.rand(args.batch, v, generator=g) < 0.8).to(device)
        self.opt = torch.optim.Adam(net.parameters(), lr=1e-5)
        self.param_mb = (
            sum(p.numel() * p.element_size() for p in net.parameters()) / 2**20
        )
        self.peak_mb = None
        self._base = 0

    def autocast(self):
        return torch.autocast(
            self.device.type, dtype=self.dtype, enabled=self.dtype is not None
        )

    def train_step(self):
        self.opt.zero_grad(set_to_none=True)
        with self.autocast():
            logits = self.fwd(self.x)
        self.net.loss(logits, self.target, self.mask).backward()
        self.opt.step()

    def infer(self, inp):
        with torch.no_grad(), self.autocast():
            return self.fwd(inp)

    def case(self, mode):
        """A :class:`Case` timing ``mode`` of this model."""
        train = mode == 'train'

        def setup():
            self.net.train(train)
            if self.device.type == 'cuda':
                torch.cuda.synchronize(self.device)
                torch.cuda.reset_peak_memory_stats(self.device)
                self._base = torch.cuda.memory_allocated(self.device)
            if train:
                return self.train_step
            inp = self.x if mode == 'infer' else self.x1
            return lambda: self.infer(inp)

        def teardown():
            if train and self.device.type == 'cuda':
                # this model's share: what the step allocated on top of
                # what was resident, plus its weights
                peak = torch.cuda.max_memory_allocated(self.device)
                mb = (peak - self._base) / 2**20 + self.param_mb
                self.peak_mb = max(self.peak_mb or 0.0, mb)
            elif train:
                self.peak_mb = peak_memory_mb(self.device)

        return Case(f'{self.spec}/{mode}', setup=setup, teardown=teardown)


def rows_from(results, benches, args):
    """One row per model: medians and ranges over rounds."""
    rows = []
    for b in benches:
        row = dict(
            model=b.spec,
            params_m=sum(p.numel() for p in b.net.parameters()) / 1e6,
        )
        for mode in args.modes:
            res = results[f'{b.spec}/{mode}']
            s = summary(res['rounds'])
            n = 1 if mode == 'latency' else args.batch
            key = 'latency_b1_ms' if mode == 'latency' else f'{mode}_img_s'
            if mode == 'latency':
                val = {k: 1e3 * s[k] for k in ('median', 'min', 'max')}
            else:  # throughput of the median / fastest / slowest round
                val = dict(
                    median=n / s['median'], min=n / s['max'], max=n / s['min']
                )
            row[key] = val['median']
            row[f'{key}_range'] = [val['min'], val['max']]
            row[f'{mode}_step_s'] = s['median']
            row[f'{mode}_first_call_s'] = res['first_call_s']
            row[f'{mode}_warmup_steps'] = res['warmup']
            row[f'{mode}_stable'] = all(res['stable'])
            row[f'{mode}_rounds_s'] = res['rounds']
        if b.peak_mb is not None:
            row['train_peak_mb'] = b.peak_mb
        rows.append(row)
    return rows


def parse_compare(spec):
    """``A/B`` or ``A/B:TARGET`` (model names may end in ``:compiled``)."""
    target = None
    head, sep, tail = spec.rpartition(':')
    if sep:
        try:
            target = float(tail)
            spec = head
        except ValueError:
            pass
    a, sep, b = spec.partition('/')
    if not sep or not a or not b:
        raise ValueError(f'--compare {spec!r}: expected A/B[:TARGET]')
    return a, b, target


def throughput_ratio(results, a, b, mode):
    """Paired ratio of A's throughput to B's (B's step time over A's)."""
    return paired_ratio(
        results[f'{b}/{mode}']['rounds'], results[f'{a}/{mode}']['rounds']
    )


def add_reference_columns(rows, results, args):
    """``<mode>_x_plain`` / ``<mode>_x_timm``: median paired throughput
    ratios to the eager plain and timm classifiers."""
    names = {r['model'] for r in rows}
    for ref in ('plain', 'timm'):
        if ref not in names:
            continue
        for r in rows:
            for mode in ('train', 'infer'):
                if mode in args.modes:
                    ratio = throughput_ratio(results, r['model'], ref, mode)
                    r[f'{mode}_x_{ref}'] = ratio['median']


def comparisons(results, args):
    out = []
    for spec in args.compare:
        a, b, target = parse_compare(spec)
        for mode in args.modes:
            if f'{a}/{mode}' not in results or f'{b}/{mode}' not in results:
                continue
            ratio = throughput_ratio(results, a, b, mode)
            out.append(
                dict(
                    compare=f'{a} / {b}',
                    mode=mode,
                    target=target,
                    verdict=verdict(ratio, target),
                    **ratio,
                )
            )
    return out


def print_tables(rows, comps, setup):
    print(setup)
    cols = [
        ('model', '{:<20}'),
        ('params_m', '{:>8.1f}'),
        ('train_img_s', '{:>11.1f}'),
        ('infer_img_s', '{:>11.1f}'),
        ('latency_b1_ms', '{:>13.2f}'),
        ('train_peak_mb', '{:>13.0f}'),
        ('train_x_plain', '{:>13.3f}'),
        ('train_x_timm', '{:>12.3f}'),
        ('infer_x_plain', '{:>13.3f}'),
        ('train_first_call_s', '{:>18.1f}'),
    ]
    print(
        ' '.join(
            c.rjust(len(f.format(0))) if c != 'model' else c.ljust(20)
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
    print('ranges over rounds:')
    for r in rows:
        parts = [
            f'{k} {r[k + "_range"][0]:.1f}-{r[k + "_range"][1]:.1f}'
            for k in ('train_img_s', 'infer_img_s', 'latency_b1_ms')
            if k in r
        ]
        unstable = [m for m in MODES if r.get(f'{m}_stable') is False]
        note = (
            f' (warm-up not stable: {", ".join(unstable)})' if unstable else ''
        )
        print(f'  {r["model"]:<20} ' + ', '.join(parts) + note)
    if comps:
        print(
            'throughput ratios (A / B, above 1: A faster), range over rounds:'
        )
        for c in comps:
            tgt = '' if c['target'] is None else f' target {c["target"]:g}'
            print(
                f'  {c["compare"]:<40} {c["mode"]:<7} {c["median"]:.3f} '
                f'[{c["lo"]:.3f}, {c["hi"]:.3f}]{tgt}: {c["verdict"]}'
            )


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu'
    )
    p.add_argument('--img-size', type=int, default=384)
    p.add_argument('--batch', type=int, default=32)
    p.add_argument('--precision', choices=['fp32', 'bf16'], default='fp32')
    p.add_argument('--channels-last', action='store_true')
    p.add_argument(
        '--compile-mode',
        default=None,
        help="torch.compile mode of the ':compiled' models (default: "
        "torch's default)",
    )
    p.add_argument(
        '--compile-backend',
        default='inductor',
        help="torch.compile backend of the ':compiled' models",
    )
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
        help='subset of baseline approach1..4 plain timm, each optionally '
        "with ':compiled'",
    )
    p.add_argument(
        '--modes',
        nargs='+',
        choices=MODES,
        default=list(MODES),
        help='what to measure (training step, inference, batch-1 latency)',
    )
    p.add_argument('--rounds', type=int, default=3, help='interleaved rounds')
    p.add_argument('--steps', type=int, default=10, help='timed steps a round')
    p.add_argument(
        '--warmup-window',
        type=int,
        default=5,
        help='warm-up ends when this many step times ...',
    )
    p.add_argument(
        '--warmup-tolerance',
        type=float,
        default=0.05,
        help='... vary by at most this fraction of their median',
    )
    p.add_argument(
        '--max-warmup', type=int, default=50, help='warm-up steps at most'
    )
    p.add_argument(
        '--compare',
        nargs='*',
        default=[],
        metavar='A/B[:TARGET]',
        help='throughput ratios to report with a verdict',
    )
    p.add_argument(
        '--threads', type=int, default=0, help='torch CPU threads (0: default)'
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
    benches = []
    for spec in args.variants:
        name = spec.split(':')[0]
        try:
            net = build_net(name, args, num_values)
        except ImportError:
            print(f'{name}: not importable, skipped', file=sys.stderr)
            continue
        benches.append(Bench(spec, net, args, device, num_values))
    cases = [b.case(m) for b in benches for m in args.modes]
    results = interleaved_rounds(
        cases,
        make_timer(device),
        rounds=args.rounds,
        steps=args.steps,
        window=args.warmup_window,
        tolerance=args.warmup_tolerance,
        max_warmup=args.max_warmup,
        log=lambda m: print(m, file=sys.stderr, flush=True),
    )
    rows = rows_from(results, benches, args)
    add_reference_columns(rows, results, args)
    comps = comparisons(results, args)
    name = device_label(device)
    setup = (
        f'device={device} ({name}) img={args.img_size} '
        f'batch={args.batch} {args.precision} channels_last='
        f'{args.channels_last} compile={args.compile_backend}/'
        f'{args.compile_mode} '
        f'torch={torch.__version__} threads={torch.get_num_threads()} '
        f'rounds={args.rounds} steps={args.steps}'
    )
    print_tables(rows, comps, setup)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(
                dict(setup=setup, args=vars(args), rows=rows, compare=comps),
                f,
                indent=1,
            )
    return rows, comps


if __name__ == '__main__':
    main()
