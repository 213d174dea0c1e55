"""Train and test configs x seeds, then compare them (Table 3 on your data).

    python tools/analysis_tools/compare_variants.py \\
        configs/paper/baseline_effnetv2-m_8xb16_catalog-384px.py \\
        configs/paper/approach3_effnetv2-m_8xb16_catalog-384px.py \\
        --seeds 5 --work-dir work_dirs/study --parallel 2

Every config is trained with every seed through mmpretrain's shipped
``tools/train.py`` (``randomness.seed=<seed>``), the last (or best)
checkpoint is tested with the shipped ``tools/test.py``, and
``<work-dir>/summary.{json,md,png}`` compare the configs: per attribute and
per schema group (``roi`` small / large, ``granularity`` coarse / fine and
their crossings), the mean micro-F1 over seeds with a 95 % interval, and
each config's paired difference to the first config (the reference) with
its interval (``mmfashion_attr.evaluation.variant_study``). The best
constant predictor (training frequencies) is listed for scale.

Runs live in ``<work-dir>/<name>/seed_<k>/``; a finished run (its
``result.json``) is not redone, an interrupted one resumes from its last
checkpoint. ``--parallel K`` runs K trainings at once: on GPUs one per
device (``CUDA_VISIBLE_DEVICES``), on CPU with ``cores / K`` threads each.
Exit code 0 when every run finished, 1 when some failed (the summary then
covers the finished ones and names the others), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import glob
import hashlib
import json
import os
import os.path as osp
import queue
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import mmfashion_attr
from mmfashion_attr.evaluation.variant_study import (
    ALL,
    format_table,
    run_scores,
    summarize,
)

PACKAGE_ROOT = osp.dirname(osp.dirname(osp.abspath(mmfashion_attr.__file__)))


@dataclass
class Run:
    """One training + test of one config with one seed."""

    name: str
    config: str
    seed: int
    dir: str

    @property
    def label(self) -> str:
        return f'{self.name} seed {self.seed}'


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description='Train and test configs x seeds through the stock '
        'mmpretrain tools and compare them per attribute and group.'
    )
    p.add_argument('configs', nargs='+', help='configs; the first is the '
                   'reference')  # fmt: skip
    p.add_argument('--work-dir', required=True, help='runs and summary')
    seeds = p.add_mutually_exclusive_group()
    seeds.add_argument(
        '--seeds', type=int, default=3, help='seeds 0..N-1 (default 3)'
    )
    seeds.add_argument('--seed-list', type=int, nargs='+', help='seeds')
    p.add_argument('--names', nargs='+', help='a short name per config '
                   '(default: the file name)')  # fmt: skip
    p.add_argument('--parallel', type=int, default=1, help='trainings at once')
    p.add_argument(
        '--gpus',
        type=int,
        default=None,
        help='GPUs to spread runs over (default: all visible; 0: CPU)',
    )
    p.add_argument(
        '--threads',
        type=int,
        default=None,
        help='CPU threads per run (default: cores / parallel)',
    )
    p.add_argument(
        '--checkpoint',
        choices=('last', 'best'),
        default='last',
        help='which checkpoint is tested (best needs save_best)',
    )
    p.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        metavar='KEY=VALUE',
        help='passed to both train.py and test.py for every run',
    )
    p.add_argument(
        '--rerun-changed',
        action='store_true',
        help='redo runs whose config or options changed since they ran '
        '(default: refuse)',
    )
    p.add_argument(
        '--summary-only',
        action='store_true',
        help='train nothing: summarise the finished runs',
    )
    p.add_argument(
        '--dry-run', action='store_true', help='print the plan and exit'
    )
    return p.parse_args(argv)


# ------------------------------------------------------------------ planning
def config_names(configs: Sequence[str], names) -> List[str]:
    """Names of the configs: given, or the file names without ``.py``."""
    if names is None:
        names = [osp.splitext(osp.basename(c))[0] for c in configs]
    if len(names) != len(configs):
        raise ValueError(
            f'{len(names)} names for {len(configs)} configs (--names)'
        )
    if len(set(names)) != len(names):
        raise ValueError(f'config names are not unique: {names}')
    return list(names)


def fingerprint(config: str, seed: int, cfg_options: Sequence[str]) -> str:
    """A hash of the resolved config (bases included), the options and the
    seed: a run made from something else is not reused."""
    from mmengine.config import Config

    text = Config.fromfile(config).pretty_text
    blob = json.dumps([text, sorted(cfg_options), seed])
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def plan(configs, names, seeds, work_dir) -> List[Run]:
    """Runs in the order config-major, seed-minor."""
    return [
        Run(name, cfg, seed, osp.join(work_dir, name, f'seed_{seed}'))
        for cfg, name in zip(configs, names)
        for seed in seeds
    ]


def _read_json(path: str) -> Optional[dict]:
    if not osp.exists(path):
        return None
    with open(path, encoding='utf-8') as f:
        return json.load(f)


def run_state(run: Run, fp: str) -> str:
    """``'done'``, ``'stale'`` (made from another config or options),
    ``'partial'`` (started, not finished) or ``'new'``."""
    meta = _read_json(osp.join(run.dir, 'run.json'))
    if meta is None:
        return 'new'
    if meta.get('fingerprint') != fp:
        return 'stale'
    if osp.exists(osp.join(run.dir, 'result.json')):
        return 'done'
    return 'partial'


# ----------------------------------------------------------------- executing
def tool_commands(
    run: Run, cfg_options: Sequence[str], checkpoint: Optional[str]
):
    """The train.py and test.py command lines of a run."""
    from mmfashion_attr.utils.mim_tools import mim_tools_dir

    tools = mim_tools_dir()
    opts = [f'randomness.seed={run.seed}', *cfg_options]
    train = [
        sys.executable,
        osp.join(tools, 'train.py'),
        run.config,
        '--work-dir',
        run.dir,
        '--cfg-options',
        *opts,
    ]
    if osp.exists(osp.join(run.dir, 'last_checkpoint')):
        train.append('--resume')
    test = [
        sys.executable,
        osp.join(tools, 'test.py'),
        run.config,
        checkpoint or '<checkpoint>',
        '--work-dir',
        osp.join(run.dir, 'test'),
        '--cfg-options',
        *opts,
    ]
    return train, test


def find_checkpoint(run_dir: str, which: str) -> str:
    """The last (``last_checkpoint``) or best (``best_*.pth``) checkpoint
    of a finished training."""
    if which == 'best':
        found = sorted(glob.glob(osp.join(run_dir, 'best_*.pth')))
        if not found:
            raise RuntimeError(
                f'{run_dir}: no best_*.pth (set default_hooks.checkpoint.'
                f'save_best, or use --checkpoint last)'
            )
        return found[-1]
    marker = osp.join(run_dir, 'last_checkpoint')
    if not osp.exists(marker):
        raise RuntimeError(f'{run_dir}: training wrote no last_checkpoint')
    with open(marker, encoding='utf-8') as f:
        path = f.read().strip()
    if not osp.isfile(path):
        raise RuntimeError(f'{marker} names {path!r}, which does not exist')
    return path


def test_metrics(test_dir: str) -> dict:
    """The metrics test.py wrote (``<dir>/<timestamp>/<timestamp>.json``,
    the newest)."""
    files = glob.glob(osp.join(test_dir, '*', '*.json'))
    if not files:
        raise RuntimeError(f'{test_dir}: test.py wrote no metrics file')
    with open(max(files, key=osp.getmtime), encoding='utf-8') as f:
        metrics = json.load(f)
    if not any(k.endswith('/micro_f1') for k in metrics):
        raise RuntimeError(f'{test_dir}: no micro_f1 in the test metrics')
    return metrics


def _call(cmd: List[str], log: str, env: dict) -> float:
    start = time.time()
    with open(log, 'a', encoding='utf-8') as f:
        f.write('$ ' + ' '.join(cmd) + '\n')
        f.flush()
        rc = subprocess.call(cmd, stdout=f, stderr=subprocess.STDOUT, env=env)
    if rc != 0:
        raise RuntimeError(f'exit code {rc}, see {log}')
    return time.time() - start


def execute(run: Run, fp: str, args, env: dict) -> dict:
    """Train (resuming if started), test, write ``result.json``."""
    os.makedirs(run.dir, exist_ok=True)
    with open(osp.join(run.dir, 'run.json'), 'w', encoding='utf-8') as f:
        json.dump(
            dict(
                name=run.name,
                config=run.config,
                seed=run.seed,
                cfg_options=list(args.cfg_options),
                fingerprint=fp,
            ),
            f,
            indent=1,
        )
    train_cmd, _ = tool_commands(run, args.cfg_options, None)
    train_s = _call(train_cmd, osp.join(run.dir, 'train.log'), env)
    ckpt = find_checkpoint(run.dir, args.checkpoint)
    _, test_cmd = tool_commands(run, args.cfg_options, ckpt)
    test_dir = osp.join(run.dir, 'test')
    if osp.isdir(test_dir):
        shutil.rmtree(test_dir)
    test_s = _call(test_cmd, osp.join(run.dir, 'test.log'), env)
    result = dict(
        name=run.name,
        config=run.config,
        seed=run.seed,
        checkpoint=ckpt,
        fingerprint=fp,
        train_seconds=round(train_s, 1),
        test_seconds=round(test_s, 1),
        metrics=test_metrics(test_dir),
    )
    tmp = osp.join(run.dir, 'result.json.tmp')
    with open(tmp, 'w', encoding='utf-8') as f:
        json.dump(result, f, indent=1)
    os.replace(tmp, osp.join(run.dir, 'result.json'))
    return result


def visible_gpus() -> int:
    try:
        import torch

        return torch.cuda.device_count() if torch.cuda.is_available() else 0
    except Exception:  # pragma: no cover - a broken CUDA install
        return 0


def slot_envs(parallel: int, gpus: int, threads: Optional[int]):
    """One environment per parallel slot: a GPU each (round-robin), or a
    share of the CPU cores."""
    base = dict(os.environ)
    path = base.get('PYTHONPATH')
    base['PYTHONPATH'] = PACKAGE_ROOT + (os.pathsep + path if path else '')
    if threads is None:
        threads = max(1, (os.cpu_count() or 1) // parallel)
    envs = []
    for slot in range(parallel):
        env = dict(base)
        if gpus > 0:
            env['CUDA_VISIBLE_DEVICES'] = str(slot % gpus)
        else:
            env['CUDA_VISIBLE_DEVICES'] = ''
        env['OMP_NUM_THREADS'] = env['MKL_NUM_THREADS'] = str(threads)
        envs.append(env)
    return envs


def _fmt_time(seconds: float) -> str:
    m, s = divmod(int(round(seconds)), 60)
    h, m = divmod(m, 60)
    return f'{h}h{m:02d}m' if h else f'{m}m{s:02d}s'


def run_all(todo, fps, args, gpus: int, schema) -> Dict[str, str]:
    """Run ``todo`` with ``args.parallel`` slots; returns failures."""
    envs = slot_envs(args.parallel, gpus, args.threads)
    slots: queue.Queue = queue.Queue()
    for env in envs:
        slots.put(env)
    lock = threading.Lock()
    done_times: List[float] = []
    failures: Dict[str, str] = {}
    start = time.time()

    def job(run: Run):
        env = slots.get()
        t0 = time.time()
        try:
            with lock:
                print(f'[start] {run.label} -> {run.dir}', flush=True)
            result = execute(run, fps[run.dir], args, env)
            scores = run_scores(result['metrics'], schema)
            return run, time.time() - t0, scores, None
        except Exception as e:  # reported, the other runs go on
            return run, time.time() - t0, None, f'{type(e).__name__}: {e}'
        finally:
            slots.put(env)

    with cf.ThreadPoolExecutor(max_workers=args.parallel) as pool:
        futures = [pool.submit(job, r) for r in todo]
        for n, fut in enumerate(cf.as_completed(futures), 1):
            run, took, scores, err = fut.result()
            with lock:
                if err:
                    failures[run.label] = err
                    print(f'[fail {n}/{len(todo)}] {run.label}: {err}')
                    continue
                done_times.append(took)
                left = len(todo) - n
                per = (time.time() - start) / n
                eta = f', about {_fmt_time(per * left)} left' if left else ''
                print(
                    f'[done {n}/{len(todo)}] {run.label} in '
                    f'{_fmt_time(took)}: mean micro-F1 '
                    f'{scores.get(ALL, float("nan")):.3f}{eta}',
                    flush=True,
                )
    return failures


def study_schema(configs: Sequence[str], cfg_options: Sequence[str]):
    """The attribute schema all configs share (an error if they differ)."""
    from mmengine.config import Config, DictAction

    from mmfashion_attr.structures import AttributeSchema

    options = {}
    if cfg_options:
        ns = argparse.Namespace()
        DictAction(option_strings=[], dest='o')(None, ns, list(cfg_options))
        options = ns.o
    schemas, cfgs = [], []
    for path in configs:
        cfg = Config.fromfile(path)
        cfg.merge_from_dict(options)
        cfgs.append(cfg)
        schemas.append(AttributeSchema.build(cfg.model.head.schema))
    for path, s in zip(configs[1:], schemas[1:]):
        if s.to_dict() != schemas[0].to_dict():
            raise ValueError(
                f"{path}: its schema differs from {configs[0]}'s; a "
                f'comparison needs one schema'
            )
    return schemas[0], cfgs[0]


def collect(runs: Sequence[Run], schema) -> Dict[str, Dict[int, dict]]:
    """``{name: {seed: run_scores}}`` of the finished runs."""
    out: Dict[str, Dict[int, dict]] = {}
    for run in runs:
        result = _read_json(osp.join(run.dir, 'result.json'))
        if result is None:
            continue
        out.setdefault(run.name, {})[run.seed] = run_scores(
            result['metrics'], schema
        )
    return out


def plot(summary: dict, schema, path: str) -> None:
    """Bar chart: groups (top) and attributes (bottom), one bar per
    config with its 95 % interval; the constant predictor as a black
    tick."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import numpy as np

    groups = [k for k in summary['keys'] if k not in schema.names]
    attrs = [k for k in summary['keys'] if k in schema.names]
    names = list(summary['configs'])
    fig, axes = plt.subplots(
        2, 1, figsize=(max(8, 1.1 * max(len(groups), len(attrs))), 8)
    )
    width = 0.8 / len(names)
    for ax, keys, title in (
        (axes[0], groups, 'schema groups'),
        (axes[1], attrs, 'attributes'),
    ):
        x = np.arange(len(keys))
        for i, name in enumerate(names):
            stats = summary['configs'][name]['stats']
            mean = [stats[k]['mean'] if k in stats else np.nan for k in keys]
            err = [(stats[k]['ci95'] or 0) if k in stats else 0 for k in keys]
            ax.bar(x + (i - (len(names) - 1) / 2) * width, mean, width,
                   yerr=err, capsize=2, label=name)  # fmt: skip
        const = summary.get('constant', {})
        ax.scatter(
            x,
            [const.get(k, np.nan) for k in keys],
            marker='_',
            s=400,
            color='black',
            label='constant predictor',
            zorder=3,
        )
        ax.set_xticks(x)
        ax.set_xticklabels(keys, rotation=20, ha='right', fontsize=8)
        ax.set_ylabel('micro-F1 (mean over seeds, 95 % CI)')
        ax.set_ylim(0, 1)
        ax.set_title(title)
    axes[0].legend(fontsize=8, ncol=min(4, len(names) + 1))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    if not osp.isfile(path):
        raise RuntimeError(f'{path} was not written')


def write_summary(summary: dict, schema, work_dir: str) -> List[str]:
    """``summary.json``, ``summary.md`` and ``summary.png``."""
    groups = [k for k in summary['keys'] if k not in schema.names]
    attrs = [k for k in summary['keys'] if k in schema.names]
    paths = [osp.join(work_dir, f'summary.{e}') for e in ('json', 'md')]
    with open(paths[0], 'w', encoding='utf-8') as f:
        json.dump(summary, f, indent=1)
    with open(paths[1], 'w', encoding='utf-8') as f:
        f.write('# Variant study: micro-F1 on the test set\n\n')
        f.write('## Schema groups\n\n' + format_table(summary, groups))
        f.write('\n## Attributes\n\n' + format_table(summary, attrs))
        if summary.get('missing'):
            f.write('\nRuns without a result: ')
            f.write(', '.join(summary['missing']) + '\n')
    paths.append(osp.join(work_dir, 'summary.png'))
    plot(summary, schema, paths[2])
    return paths


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        names = config_names(args.configs, args.names)
        for c in args.configs:
            if not osp.isfile(c):
                raise ValueError(f'{c}: no such config file')
        if args.parallel < 1:
            raise ValueError('--parallel must be >= 1')
        seeds = args.seed_list or list(range(args.seeds))
        if len(set(seeds)) != len(seeds) or not seeds:
            raise ValueError(f'seeds must be distinct and given: {seeds}')
        schema, ref_cfg = study_schema(args.configs, args.cfg_options)
    except (ValueError, KeyError, FileNotFoundError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    work_dir = osp.abspath(args.work_dir)
    runs = plan(args.configs, names, seeds, work_dir)
    fps = {
        r.dir: fingerprint(r.config, r.seed, args.cfg_options) for r in runs
    }
    states = {r.dir: run_state(r, fps[r.dir]) for r in runs}
    stale = [r for r in runs if states[r.dir] == 'stale']
    if stale and not args.rerun_changed and not args.summary_only:
        print(
            'error: these runs were made from another config or options: '
            + ', '.join(r.label for r in stale)
            + ' (use another --work-dir, or --rerun-changed to redo them)',
            file=sys.stderr,
        )
        return 2
    todo = [r for r in runs if states[r.dir] != 'done']
    gpus = visible_gpus() if args.gpus is None else args.gpus
    counts = {s: list(states.values()).count(s) for s in set(states.values())}
    print(
        f'{len(runs)} runs ({len(names)} configs x {len(seeds)} seeds): '
        + ', '.join(f'{v} {k}' for k, v in sorted(counts.items()))
        + f'; {args.parallel} at once on '
        + (f'{gpus} GPU(s)' if gpus else 'CPU'),
        flush=True,
    )
    if args.dry_run:
        for r in todo:
            train, test = tool_commands(r, args.cfg_options, None)
            print(f'# {r.label} ({states[r.dir]})')
            print(' '.join(train))
            print(' '.join(test))
        return 0
    failures: Dict[str, str] = {}
    if todo and not args.summary_only:
        for r in todo:
            if states[r.dir] == 'stale':
                shutil.rmtree(r.dir)
        failures = run_all(todo, fps, args, gpus, schema)
    from mmfashion_attr.evaluation.frequency_baseline import (
        constant_predictor_metrics,
    )

    results = collect(
        [r for r in runs if run_state(r, fps[r.dir]) == 'done'], schema
    )
    if not results:
        print('error: no finished run to summarise', file=sys.stderr)
        return 1
    if names[0] not in results:
        print(
            f'error: the reference {names[0]} has no finished run',
            file=sys.stderr,
        )
        return 1
    constant = run_scores(constant_predictor_metrics(ref_cfg)[0], schema)
    summary = summarize(results, schema, names[0], constant)
    summary['missing'] = [
        r.label for r in runs if r.seed not in results.get(r.name, {})
    ]
    summary['failures'] = failures
    paths = write_summary(summary, schema, work_dir)
    groups = [k for k in summary['keys'] if k not in schema.names]
    print(format_table(summary, groups))
    print('wrote ' + ', '.join(paths))
    if summary['missing']:
        print(
            f'{len(summary["missing"])} run(s) without a result: '
            + ', '.join(summary['missing']),
            file=sys.stderr,
        )
        for label, err in failures.items():
            print(f'  {label}: {err}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
