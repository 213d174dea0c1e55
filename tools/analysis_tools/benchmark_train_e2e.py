"""Training throughput fed by the real data loader, against model-only.

Writes a catalog of realistic product JPEGs (about 800 x 1000, garments on
clutter, quality 90; ``--num-images`` files, hard links to ``--distinct``
rendered images), builds the config's training data loader on it
(the config's train pipeline, ``--workers`` workers, pinned memory, the
config's collate function) and the config's model and optimizer, then
times three cases with the timing method of ``tools/common/benchmarking.py``
(warm-up, interleaved rounds, paired ratios):

* ``model-only``: the model's ``train_step`` (data preprocessor, forward,
  loss, backward, optimizer step) on one batch of the loader, over and
  over: what the model alone can train;
* ``end-to-end``: the same ``train_step`` on the next batch of the loader,
  as the runner's training loop calls it;
* ``loader``: the next batch of the same loader without the model: what
  the CPU side delivers.

Each round's number is the mean step time over ``--steps`` steps (a
loader's stalls are occasional: a median would hide them), measured after
the loader's prefetched batches are drained. The report gives images per
second of each case, with the range over rounds, and the end-to-end to
model-only throughput ratio with a verdict against ``--target``.

    python tools/analysis_tools/benchmark_train_e2e.py --device cuda \\
        --variant approach3 --batch 64 --workers 16 --precision bf16 \\
        --channels-last --rounds 3 --steps 20 --num-images 2048
    python tools/analysis_tools/benchmark_train_e2e.py CONFIG --device cuda

Without ``CONFIG`` a paper variant is built (random weights, the paper's
attribute value counts). ``--compile`` compiles ``train_step`` as
mmengine's ``compile=True`` does; its first call (compilation) is
reported.
"""

import argparse
import json
import os
import os.path as osp
import shutil
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

import mmfashion_attr  # noqa: F401  (registers, applies compat)
from mmfashion_attr.structures import AttributeSchema
from tools.analysis_tools.benchmark_pipeline import make_jpegs
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

CASES = ('model-only', 'end-to-end', 'loader')


def render_jpegs(folder, num, size, seed=0, procs=1):
    """``num`` JPEGs of ``size`` (w, h) rendered in ``procs`` processes
    (chunk ``c`` with seed ``seed + c`` in ``folder/c``); their paths."""
    procs = max(1, min(procs, num))
    counts = [num // procs + (c < num % procs) for c in range(procs)]
    dirs = [osp.join(folder, str(c)) for c in range(procs)]
    for d in dirs:
        os.makedirs(d, exist_ok=True)
    if procs == 1:
        return make_jpegs(dirs[0], num, seed, size)
    with ProcessPoolExecutor(procs) as ex:
        futures = [
            ex.submit(make_jpegs, d, k, seed + c, size)
            for c, (d, k) in enumerate(zip(dirs, counts))
        ]
        return [p for f in futures for p in f.result()]


def write_catalog(folder, schema, num_images, distinct, size, seed=0, procs=1):
    """``train.jsonl`` of ``num_images`` records over ``distinct`` JPEGs
    of ``size`` (w, h) (rendered in ``procs`` processes), every attribute
    labelled with a random value, and ``schema.json``. Returns the schema
    file."""
    from mmfashion_attr.datasets.catalog_writer import write_catalog as wc

    distinct = max(1, min(distinct, num_images))
    src_dir, img_dir = osp.join(folder, 'src'), osp.join(folder, 'img')
    os.makedirs(src_dir, exist_ok=True)
    os.makedirs(img_dir, exist_ok=True)
    sources = render_jpegs(src_dir, distinct, size, seed, procs)
    rng = np.random.default_rng(seed)
    records = []
    for i in range(num_images):
        # one file per record (the catalog refuses duplicate paths),
        # hard links to the rendered JPEGs where the file system allows
        path = osp.join(img_dir, f'{i:05d}.jpg')
        if not osp.exists(path):
            try:
                os.link(sources[i % distinct], path)
            except OSError:
                shutil.copyfile(sources[i % distinct], path)
        attrs = {
            a.name: [a.values[int(rng.integers(len(a.values)))]]
            for a in schema.attributes
        }
        records.append(dict(img_path=f'img/{i:05d}.jpg', attributes=attrs))
    return wc(folder, schema, dict(train=records))['schema']


def add_catalog_args(parser, num_images=1024, distinct=64):
    """``--num-images``, ``--distinct`` and ``--jpeg-size``: the generated
    catalog of :func:`catalog_from_args`."""
    parser.add_argument('--num-images', type=int, default=num_images)
    parser.add_argument(
        '--distinct', type=int, default=distinct, help='JPEGs rendered'
    )
    parser.add_argument(
        '--jpeg-size', type=int, nargs=2, default=(800, 1000), metavar='W H'
    )


def catalog_from_args(folder, schema, args):
    """:func:`write_catalog` as the arguments of :func:`add_catalog_args`
    (and ``--workers``: one rendering process per worker) say."""
    return write_catalog(
        folder,
        schema,
        args.num_images,
        args.distinct,
        args.jpeg_size,
        procs=max(1, args.workers),
    )


def set_img_size(pipeline, size):
    """The pipeline with every ``scale`` / ``decode_scale`` set to
    ``size``."""
    out = []
    for t in pipeline:
        t = dict(t)
        for k in ('scale', 'decode_scale'):
            if k in t:
                t[k] = size
        out.append(t)
    return out


def load_config(args):
    if args.config:
        cfg = Config.fromfile(args.config)
    else:
        cfg = paper_config(args.variant, args.arch)
    schema = AttributeSchema.build(cfg.model.head.schema)
    if args.precision == 'bf16':
        cfg.optim_wrapper = dict(
            cfg.optim_wrapper, type='AmpOptimWrapper', dtype='bfloat16'
        )
    return cfg, schema


def build_loader(cfg, folder, schema_file, args):
    from mmengine.runner import Runner

    loader_cfg = cfg.train_dataloader.copy()
    dataset = dict(loader_cfg['dataset'])
    dataset.update(
        data_root=folder,
        ann_file='train.jsonl',
        schema=schema_file,
    )
    if args.img_size:
        dataset['pipeline'] = set_img_size(dataset['pipeline'], args.img_size)
    loader_cfg.update(
        dataset=dataset,
        batch_size=args.batch,
        num_workers=args.workers,
        persistent_workers=args.workers > 0,
        pin_memory=torch.device(args.device).type == 'cuda',
    )
    loader_cfg.pop('prefetch_factor', None)
    if args.workers > 0:
        loader_cfg['prefetch_factor'] = args.prefetch
    return Runner.build_dataloader(loader_cfg, seed=0)


class Batches:
    """Endless batches of a loader (epoch after epoch), counted."""

    def __init__(self, loader):
        self.loader = loader
        self.count = 0
        self._it = iter(loader)

    def __call__(self):
        try:
            batch = next(self._it)
        except StopIteration:
            self._it = iter(self.loader)
            batch = next(self._it)
        self.count += 1
        return batch

    def close(self):
        """Stop the loader's workers (before their files go away)."""
        it, self._it = self._it, None
        shutdown = getattr(it, '_shutdown_workers', None)
        if shutdown is not None:
            shutdown()


def build_model(cfg, args):
    from mmengine.optim import build_optim_wrapper
    from mmpretrain.registry import MODELS

    torch.manual_seed(0)
    model = MODELS.build(cfg.model).to(args.device)
    if args.channels_last:
        model.to(memory_format=torch.channels_last)
    model.train()
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    if args.compile:
        # what mmengine's Runner does with ``compile=True``
        model.train_step = torch.compile(model.train_step)
    return model, optim_wrapper


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config', nargs='?', help='default: a paper variant')
    p.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu'
    )
    p.add_argument('--variant', default='approach3')
    p.add_argument('--arch', default='m', help='EfficientNetV2 arch')
    p.add_argument('--img-size', type=int, help="default: the config's")
    p.add_argument('--batch', type=int, default=64)
    p.add_argument(
        '--workers',
        type=int,
        default=len(os.sched_getaffinity(0)),
        help='default: one per usable core',
    )
    p.add_argument('--prefetch', type=int, default=2, help='batches/worker')
    p.add_argument('--precision', choices=['fp32', 'bf16'], default='fp32')
    p.add_argument('--channels-last', action='store_true')
    p.add_argument('--compile', action='store_true')
    add_catalog_args(p)
    p.add_argument('--dir', help='write the catalog here (default: temp)')
    p.add_argument('--rounds', type=int, default=3)
    p.add_argument('--steps', type=int, default=20)
    p.add_argument('--max-warmup', type=int, default=20)
    p.add_argument('--target', type=float, default=0.95)
    p.add_argument('--threads', type=int, default=0, help='0: default')
    p.add_argument('--out', help='write the rows as JSON here')
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == 'cuda':
        torch.backends.cudnn.benchmark = True
    cfg, schema = load_config(args)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.dir or tmp
        schema_file = catalog_from_args(folder, schema, args)
        probe = cv2.imread(osp.join(folder, 'img', '00000.jpg'))
        with DefaultScope.overwrite_default_scope('mmpretrain'):
            loader = build_loader(cfg, folder, schema_file, args)
            model, optim_wrapper = build_model(cfg, args)
            batches = Batches(loader)
            fixed = batches()
            steps = dict(train=0)
            losses = []

            def train(batch):
                steps['train'] += 1
                out = model.train_step(batch, optim_wrapper)
                # a host sync per step, as the runner's logging does
                losses.append(sum(float(v.detach()) for v in out.values()))

            # the batches prefetched while another case ran are drained
            # by the warm-up of the cases that read the loader
            drain = args.workers * args.prefetch + 1
            cases = [
                Case('model-only', step=lambda: train(fixed)),
                Case(
                    'end-to-end',
                    step=lambda: train(batches()),
                    min_warmup=drain,
                ),
                Case('loader', step=batches, min_warmup=drain),
            ]
            results = interleaved_rounds(
                cases,
                make_timer(device),
                rounds=args.rounds,
                steps=args.steps,
                max_warmup=args.max_warmup,
                aggregate='mean',
                log=lambda m: print(m, file=sys.stderr, flush=True),
            )
            batches.close()
        rows = []
        for name in CASES:
            res = results[name]
            s = summary(res['rounds'])
            rows.append(
                dict(
                    case=name,
                    img_s=args.batch / s['median'],
                    img_s_range=[args.batch / s['max'], args.batch / s['min']],
                    step_s=s['median'],
                    rounds_s=res['rounds'],
                    warmup_steps=res['warmup'],
                    stable=all(res['stable']),
                    first_call_s=res['first_call_s'],
                )
            )
    # end-to-end throughput over model-only: model-only's step time over
    # end-to-end's, round by round
    ratio = paired_ratio(
        results['model-only']['rounds'], results['end-to-end']['rounds']
    )
    comp = dict(
        compare='end-to-end / model-only',
        target=args.target,
        verdict=verdict(ratio, args.target),
        **ratio,
    )
    name = device_label(device)
    setup = (
        f'{args.config or args.variant} arch={args.arch} '
        f'img={args.img_size or "config"} batch={args.batch} '
        f'workers={args.workers} device={device} ({name}) {args.precision} '
        f'channels_last={args.channels_last} compile={args.compile} '
        f'jpeg={probe.shape[1]}x{probe.shape[0]} '
        f'cpus={len(os.sched_getaffinity(0))} '
        f'torch={torch.__version__} rounds={args.rounds} steps={args.steps}'
    )
    print(setup)
    print(f'{"case":<12} {"img/s":>9} {"range":>19} {"first call s":>12}')
    for r in rows:
        lo, hi = r['img_s_range']
        print(
            f'{r["case"]:<12} {r["img_s"]:>9.1f} {lo:>9.1f}-{hi:<9.1f} '
            f'{r["first_call_s"]:>12.2f}'
            + ('' if r['stable'] else ' (warm-up not stable)')
        )
    print(
        f'{comp["compare"]}: {comp["median"]:.3f} '
        f'[{comp["lo"]:.3f}, {comp["hi"]:.3f}] target {args.target:g}: '
        f'{comp["verdict"]}'
    )
    report = dict(
        setup=setup,
        rows=rows,
        compare=[comp],
        train_steps=steps['train'],
        batches_drawn=batches.count,
        losses_finite=bool(np.isfinite(losses).all()),
    )
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(report, f, indent=1)
    return report


if __name__ == '__main__':
    main()
