"""What exact resume costs: mmengine's training loop against the exactly
resumable one, on the same config and data.

Writes a catalog of realistic product JPEGs (as
``benchmark_train_e2e.py`` does), then trains the config's model through
mmengine's ``Runner`` for ``--epochs`` epochs, once per case and round, in
an order rotated every round:

* ``mmengine``: mmengine's ``EpochBasedTrainLoop`` with persistent data
  loader workers (what the stock ``tools/train.py`` sets when a config
  does not say otherwise);
* ``exact``: ``ResumableEpochBasedTrainLoop`` with
  ``persistent_workers=False``, what exact resume needs when the loader
  has workers (the workers, and the random state inside them, start
  afresh every epoch).

With ``--same-workers`` both cases start their workers every epoch, which
leaves the difference of the loops alone.

Validation, checkpoints and the logger's output are off; everything else
(hooks, data pipeline, optimizer) is the config's. A run's number is the
wall time of ``runner.train()`` divided by its iterations (the runner is
built before the clock starts; data loader workers start inside it). The
report gives seconds per iteration of each case (median and range over
rounds), ``exact / mmengine`` round by round with a verdict, and the
difference in seconds per epoch: restarting the workers is a cost per
epoch, so its share shrinks as epochs get longer (a real catalog has
thousands of iterations per epoch, a quick run of this tool a few dozen).

    python tools/analysis_tools/benchmark_exact_resume.py \\
        --arch b0 --img-size 128 --batch 16 --workers 2 --epochs 2 \\
        --num-images 256 --rounds 3
    python tools/analysis_tools/benchmark_exact_resume.py CONFIG --workers 8

Without ``CONFIG`` a paper variant is built (random weights, the paper's
attribute value counts).
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

import torch
from mmengine.config import Config

import mmfashion_attr  # noqa: F401  (registers, applies compat)
from mmfashion_attr.structures import AttributeSchema
from tools.analysis_tools.benchmark_train_e2e import (
    add_catalog_args,
    catalog_from_args,
    set_img_size,
)
from tools.common.benchmarking import (
    paired_ratio,
    paper_config,
    summary,
    verdict,
)

CASES = ('mmengine', 'exact')
LOOPS = dict(
    mmengine='EpochBasedTrainLoop', exact='ResumableEpochBasedTrainLoop'
)


def case_config(cfg, case, folder, schema_file, args, tag):
    """The config of one timed run: ``case``'s loop and workers, the
    generated catalog, no validation, checkpoints or log output."""
    cfg = Config(cfg.to_dict())
    loader = dict(cfg.train_dataloader)
    dataset = dict(loader['dataset'])
    dataset.update(
        data_root=folder, ann_file='train.jsonl', schema=schema_file
    )
    if args.img_size:
        dataset['pipeline'] = set_img_size(dataset['pipeline'], args.img_size)
    loader.update(
        dataset=dataset,
        batch_size=args.batch,
        num_workers=args.workers,
        persistent_workers=(
            case == 'mmengine'
            and args.workers > 0
            and not getattr(args, 'same_workers', False)
        ),
    )
    if args.workers == 0:
        loader.pop('prefetch_factor', None)
    cfg.train_dataloader = loader
    cfg.model.head.schema = schema_file
    cfg.train_cfg = dict(
        type=LOOPS[case], max_epochs=args.epochs, val_interval=10**9
    )
    for key in ('val', 'test'):
        cfg[f'{key}_dataloader'] = None
        cfg[f'{key}_evaluator'] = None
        cfg[f'{key}_cfg'] = None
    hooks = dict(cfg.get('default_hooks') or {})
    hooks.update(
        checkpoint=None, logger=dict(type='LoggerHook', interval=10**9)
    )
    cfg.default_hooks = hooks
    cfg.randomness = dict(seed=0)
    cfg.log_level = 'WARNING'
    cfg.work_dir = os.path.join(folder, 'work', tag)
    cfg.experiment_name = f'exact-resume-{tag}'
    cfg.load_from = None
    cfg.resume = False
    return cfg


def timed_run(cfg):
    """``(seconds per iteration, iterations, loop class name)`` of
    ``runner.train()`` for ``cfg``."""
    from mmengine.runner import Runner

    runner = Runner.from_cfg(cfg)
    start = time.perf_counter()
    runner.train()
    seconds = time.perf_counter() - start
    loop = runner.train_loop
    return seconds / loop.iter, loop.iter, type(loop).__name__


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config', nargs='?', help='default: a paper variant')
    p.add_argument('--variant', default='approach3')
    p.add_argument('--arch', default='m', help='EfficientNetV2 arch')
    p.add_argument('--img-size', type=int, help="default: the config's")
    p.add_argument('--batch', type=int, default=16)
    p.add_argument('--workers', type=int, default=2)
    p.add_argument('--epochs', type=int, default=2)
    add_catalog_args(p, num_images=256, distinct=32)
    p.add_argument(
        '--same-workers',
        action='store_true',
        help='workers started every epoch in both cases: the loops alone',
    )
    p.add_argument('--rounds', type=int, default=3)
    p.add_argument('--threads', type=int, default=0, help='0: default')
    p.add_argument('--out', help='write the report as JSON here')
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.config:
        cfg = Config.fromfile(args.config)
    else:
        cfg = paper_config(args.variant, args.arch)
    schema = AttributeSchema.build(cfg.model.head.schema)
    results = {c: [] for c in CASES}
    loops = {}
    iters = None
    with tempfile.TemporaryDirectory() as folder:
        schema_file = catalog_from_args(folder, schema, args)
        # one untimed run first: imports, allocator and kernels warm up
        timed_run(
            case_config(cfg, CASES[0], folder, schema_file, args, 'warm')
        )
        for r in range(args.rounds):
            order = CASES[r % 2 :] + CASES[: r % 2]
            for case in order:
                run_cfg = case_config(
                    cfg, case, folder, schema_file, args, f'{case}-{r}'
                )
                s_it, iters, loops[case] = timed_run(run_cfg)
                results[case].append(s_it)
                print(
                    f'round {r + 1}/{args.rounds} {case}: '
                    f'{1e3 * s_it:.1f} ms/iter ({iters} iterations)',
                    file=sys.stderr,
                    flush=True,
                )
    ratio = paired_ratio(results['exact'], results['mmengine'])
    # a cost: the exact loop's time over mmengine's, lower is better, so
    # the verdict is read on mmengine's time over the exact loop's
    inverse = paired_ratio(results['mmengine'], results['exact'])
    model = args.config or f'{args.variant} arch={args.arch}'
    setup = (
        f'{model} '
        f'img={args.img_size or "config"} batch={args.batch} '
        f'workers={args.workers} same_workers={args.same_workers} '
        f'epochs={args.epochs} '
        f'images={args.num_images} iterations={iters} '
        f'cpus={len(os.sched_getaffinity(0))} torch={torch.__version__} '
        f'rounds={args.rounds}'
    )
    rows = []
    for case in CASES:
        s = summary(results[case])
        rows.append(
            dict(
                case=case,
                loop=loops[case],
                s_per_iter=s['median'],
                range=[s['min'], s['max']],
                rounds=results[case],
            )
        )
    comp = dict(
        compare='exact / mmengine (time per iteration)',
        median=ratio['median'],
        lo=ratio['lo'],
        hi=ratio['hi'],
        rounds=ratio['rounds'],
        verdict={
            'higher': 'exact is faster',
            'lower': 'exact is slower',
            'within noise of 1.0': 'within noise of 1.0',
        }[verdict(inverse)],
    )
    print(setup)
    print(f'{"case":<9} {"loop":<29} {"s/iter":>8} {"range":>17}')
    for row in rows:
        lo, hi = row['range']
        print(
            f'{row["case"]:<9} {row["loop"]:<29} {row["s_per_iter"]:>8.4f} '
            f'{lo:>8.4f}-{hi:<8.4f}'
        )
    print(
        f'{comp["compare"]}: {comp["median"]:.3f} '
        f'[{comp["lo"]:.3f}, {comp["hi"]:.3f}]: {comp["verdict"]}'
    )
    # the difference, per epoch: most of it is a per-epoch cost (workers
    # started afresh), which a longer epoch spreads over more iterations
    per_epoch = [
        (e - m) * iters / args.epochs
        for e, m in zip(results['exact'], results['mmengine'])
    ]
    extra = dict(
        median=statistics.median(per_epoch),
        lo=min(per_epoch),
        hi=max(per_epoch),
        rounds=per_epoch,
        iterations_per_epoch=iters // args.epochs,
    )
    print(
        f'exact - mmengine, seconds per epoch of '
        f'{extra["iterations_per_epoch"]} iterations: '
        f'{extra["median"]:+.2f} [{extra["lo"]:+.2f}, {extra["hi"]:+.2f}]'
    )
    report = dict(
        setup=setup, rows=rows, compare=[comp], extra_per_epoch=extra
    )
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(report, f, indent=1)
        if not os.path.isfile(args.out):
            raise SystemExit(f'{args.out}: not written')
    return report


if __name__ == '__main__':
    main()
