"""Accuracy of exported models (e.g. float32 against int8) on a split.

    python tools/analysis_tools/onnx_accuracy.py CONFIG model.onnx \\
        model_int8.onnx [--checkpoint CKPT] [--split test] \\
        [--thresholds 0.3 | thresholds.json] [--threads 2]

Runs every model (the first is the reference) in ONNX Runtime on the
config's ``--split`` through its test pipeline and scores it with the
training metric (``AttributeMetric``: per-attribute micro F1 at the
thresholds, category mask, unlabelled entries left out). With
``--checkpoint``, eager PyTorch is scored too (as the reference). Prints
each attribute's micro F1 per model and the difference to the reference in
points, the mean, the largest score difference, and how many thresholded
decisions changed. Writes JSON with ``--out``.
"""

import argparse
import json
import os.path as osp
import sys

import numpy as np
import torch
from mmengine.config import Config

import mmfashion_attr  # noqa: F401
from mmfashion_attr.apis import init_attribute_model
from mmfashion_attr.apis.inference_backends import create_ort_session
from mmfashion_attr.apis.onnx_export import AttributeScores
from mmfashion_attr.apis.onnx_quantization import build_split_dataset
from mmfashion_attr.evaluation import AttributeMetric
from mmfashion_attr.evaluation.thresholds import threshold_vector


def load_split(cfg, split, limit=None):
    """``(images uint8 (N, 3, S, S), labels as metric inputs)``."""
    dataset = build_split_dataset(cfg, split)
    n = len(dataset) if not limit else min(limit, len(dataset))
    images, labels = [], []
    for i in range(n):
        item = dataset[i]
        s = item['data_samples']
        images.append(item['inputs'].numpy())
        label = dict(category_idx=int(s.metainfo.get('category_idx', -1)))
        if 'gt_attr' in s:
            label.update(
                gt_attr=s.gt_attr.numpy(), gt_attr_mask=s.gt_attr_mask.numpy()
            )
        labels.append(label)
    return np.stack(images), labels, dataset.schema


def batches(images, size):
    for i in range(0, len(images), size):
        yield images[i : i + size].astype(np.float32)


def onnx_scores(path, images, threads, batch):
    sess = create_ort_session(path, 'cpu', threads)
    return np.concatenate(
        [
            np.concatenate(sess.run(None, {'image': x}), axis=1)
            for x in batches(images, batch)
        ]
    )


@torch.no_grad()
def torch_scores(cfg, checkpoint, images, batch):
    net = AttributeScores(init_attribute_model(cfg, checkpoint), split=False)
    net.eval()
    return np.concatenate(
        [net(torch.from_numpy(x)).numpy() for x in batches(images, batch)]
    )


def score(schema, scores, labels, thresholds):
    """``AttributeMetric`` keys of these scores."""
    metric = AttributeMetric(schema=schema, thresholds=thresholds)
    metric.process(
        None, [dict(label, pred_score=s) for s, label in zip(scores, labels)]
    )
    return metric.evaluate(len(labels))


def compare(named_scores, labels, schema, thresholds):
    """Rows of the report: the metrics of each model and their
    differences to the first (in points)."""
    names = list(named_scores)
    ref = named_scores[names[0]]
    thr = threshold_vector(schema, thresholds)
    out = []
    for name in names:
        s = named_scores[name]
        metrics = score(schema, s, labels, thresholds)
        out.append(
            dict(
                model=name,
                metrics=metrics,
                mean_micro_f1=metrics['attr/mean_micro_f1'],
                delta_points=100
                * (
                    metrics['attr/mean_micro_f1']
                    - out[0]['metrics']['attr/mean_micro_f1']
                    if out
                    else 0.0
                ),
                max_abs_score_diff=float(np.abs(s - ref).max()),
                changed_decisions=int(
                    np.count_nonzero((s >= thr) != (ref >= thr))
                ),
                decisions=int(s.size),
            )
        )
    return out


def print_report(rows, schema, setup):
    print(setup)
    names = [r['model'] for r in rows]
    width = max(12, *(len(osp.basename(n)) for n in names))
    print(
        f'{"attribute":<20}'
        + ''.join(f' {osp.basename(n):>{width}}' for n in names)
        + ''.join(f' {"d " + str(k):>8}' for k in range(1, len(names)))
    )
    for a in schema.names + ['mean']:
        key = f'attr/{a}/micro_f1' if a != 'mean' else 'attr/mean_micro_f1'
        vals = [r['metrics'].get(key, float('nan')) for r in rows]
        print(
            f'{a:<20}'
            + ''.join(f' {v:>{width}.4f}' for v in vals)
            + ''.join(f' {100 * (v - vals[0]):>+8.2f}' for v in vals[1:])
        )
    for r in rows[1:]:
        print(
            f'{r["model"]}: mean micro-F1 {r["delta_points"]:+.2f} points, '
            f'max |score diff| {r["max_abs_score_diff"]:.3g}, '
            f'{r["changed_decisions"]} of {r["decisions"]} thresholded '
            'decisions changed'
        )


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config')
    p.add_argument('models', nargs='+', help='.onnx files (first: reference)')
    p.add_argument('--checkpoint', help='also score eager PyTorch, first')
    p.add_argument('--split', default='test', choices=['train', 'val', 'test'])
    p.add_argument('--thresholds', default=None, help='float or JSON file')
    p.add_argument('--threads', type=int, default=0)
    p.add_argument('--batch', type=int, default=16)
    p.add_argument('--limit', type=int, help='first N images only')
    p.add_argument('--out', help='write JSON here')
    args = p.parse_args(argv)
    cfg = Config.fromfile(args.config)
    thresholds = args.thresholds
    if thresholds is None:
        thresholds = cfg.get('test_evaluator', {}).get('thresholds', 0.3)
    else:
        try:
            thresholds = float(thresholds)
        except ValueError:
            pass
    images, labels, schema = load_split(cfg, args.split, args.limit)
    print(f'{len(images)} images of {args.split}', file=sys.stderr)
    named = {}
    if args.checkpoint:
        named['pytorch'] = torch_scores(
            cfg, args.checkpoint, images, args.batch
        )
    for path in args.models:
        named[path] = onnx_scores(path, images, args.threads, args.batch)
    rows = compare(named, labels, schema, thresholds)
    setup = (
        f'{args.config} split={args.split} images={len(images)} '
        f'thresholds={thresholds}'
    )
    print_report(rows, schema, setup)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(dict(setup=setup, rows=rows), f, indent=1)
    return rows


if __name__ == '__main__':
    main()
