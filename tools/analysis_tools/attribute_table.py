"""Print the per-attribute table of a test run next to the constant baseline.

    python tools/analysis_tools/attribute_table.py CONFIG --metrics RUN.json

``RUN.json`` is what mmpretrain's ``tools/test.py`` writes into its work dir
(``<work_dir>/<timestamp>/<timestamp>.json``); with ``--metrics`` omitted
only the baseline is printed. The baseline is the best constant predictor:
every value scored by its training-set frequency, thresholded like the
model (see ``mmfashion_attr.evaluation.frequency_baseline``), evaluated on
the config's test set by the same metric.
"""

import argparse
import glob
import json
import os.path as osp

from mmengine.config import Config

import mmfashion_attr  # noqa: F401
from mmfashion_attr.evaluation.frequency_baseline import (
    constant_predictor_metrics,
)


def find_metrics(path):
    if osp.isdir(path):
        files = sorted(glob.glob(osp.join(path, '*', '*.json')))
        if not files:
            raise SystemExit(f'{path}: no <timestamp>/<timestamp>.json')
        path = files[-1]
    with open(path) as f:
        return json.load(f), path


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--metrics', help='test.py result JSON or work dir')
    parser.add_argument('--out', help='write both tables as JSON here')
    args = parser.parse_args()
    cfg = Config.fromfile(args.config)
    base, schema = constant_predictor_metrics(cfg)
    model = {}
    if args.metrics:
        model, src = find_metrics(args.metrics)
        print(f'model metrics: {src}')
    cols = ['micro_f1', 'precision', 'recall']
    head = f'{"attribute":<16} {"roi":<6} {"gran":<7}'
    if model:
        head += ''.join(f' {c:>10}' for c in cols)
    head += f' {"const_f1":>10}'
    print(head)
    print('-' * len(head))
    for a in schema.attributes:
        key = f'attr/{a.name}/'
        if key + 'micro_f1' not in base and key + 'micro_f1' not in model:
            continue
        row = f'{a.name:<16} {a.roi or "-":<6} {a.granularity or "-":<7}'
        if model:
            row += ''.join(
                f' {model.get(key + c, float("nan")):>10.3f}' for c in cols
            )
        row += f' {base.get(key + "micro_f1", float("nan")):>10.3f}'
        print(row)
    print('-' * len(head))
    mean_b = base['attr/mean_micro_f1']
    if model:
        mean_m = model['attr/mean_micro_f1']
        print(
            f'mean micro-F1: model {mean_m:.3f}, constant predictor '
            f'{mean_b:.3f}, gain {mean_m - mean_b:+.3f}'
        )
    else:
        print(f'mean micro-F1 of the constant predictor: {mean_b:.3f}')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(dict(model=model, constant=base), f, indent=1)


if __name__ == '__main__':
    main()
